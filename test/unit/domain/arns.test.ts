import { describe, expect, it } from 'vitest';
import {
  deliveryStreamResources,
  isTrailName,
  logGroupArn,
  parseLogGroupArn,
  parseRoleArn,
  parseTrailArn,
  partitionOf,
  roleArn,
  trailArn,
} from '../../../services/domain/arns.js';

const ACCOUNT = '123456789012';

describe('parseTrailArn', () => {
  it('parses a trail ARN', () => {
    const arn = `arn:aws:cloudtrail:eu-west-1:${ACCOUNT}:trail/management-events`;
    expect(parseTrailArn(arn)).toEqual({
      partition: 'aws',
      region: 'eu-west-1',
      account: ACCOUNT,
      name: 'management-events',
      arn,
    });
  });

  it('parses other partitions', () => {
    expect(parseTrailArn(`arn:aws-us-gov:cloudtrail:us-gov-west-1:${ACCOUNT}:trail/t_1.x`)).toMatchObject({
      partition: 'aws-us-gov',
      region: 'us-gov-west-1',
      name: 't_1.x',
    });
  });

  it.each([
    'management-events',
    '',
    `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/`,
    `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/ab`,
    `arn:aws:cloudtrail:us-east-1:12345:trail/main`,
    `arn:aws:cloudtrail::${ACCOUNT}:trail/main`,
    `arn:aws:logs:us-east-1:${ACCOUNT}:trail/main`,
    `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:eventdatastore/abc`,
    `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/main/extra`,
    `xarn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/main`,
  ])('rejects %j', (value) => {
    expect(parseTrailArn(value)).toBeUndefined();
  });
});

describe('isTrailName', () => {
  it.each(['abc', 'management-events', 'My_Trail.2', 'a'.repeat(128)])('accepts %j', (name) => {
    expect(isTrailName(name)).toBe(true);
  });

  it.each([
    'ab',
    'a'.repeat(129),
    '-abc',
    'abc-',
    '_abc',
    'abc.',
    'ab--c',
    'ab._c',
    'has space',
    'slash/name',
    `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/main`,
  ])('rejects %j', (name) => {
    expect(isTrailName(name)).toBe(false);
  });
});

describe('parseLogGroupArn', () => {
  it('parses the :* form CloudTrail requires', () => {
    expect(parseLogGroupArn(`arn:aws:logs:us-east-1:${ACCOUNT}:log-group:CloudTrail/main:*`)).toEqual({
      partition: 'aws',
      region: 'us-east-1',
      account: ACCOUNT,
      name: 'CloudTrail/main',
      wildcardSuffix: true,
    });
  });

  it('parses the form without the suffix and says so', () => {
    expect(parseLogGroupArn(`arn:aws:logs:us-east-1:${ACCOUNT}:log-group:a.b-c_d/e#f`)).toEqual({
      partition: 'aws',
      region: 'us-east-1',
      account: ACCOUNT,
      name: 'a.b-c_d/e#f',
      wildcardSuffix: false,
    });
  });

  it.each([
    'garbage',
    '',
    `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:`,
    `arn:aws:logs:us-east-1:${ACCOUNT}:log-group::*`,
    `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:name:log-stream:x`,
    `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:has space:*`,
    `arn:aws:logs:us-east-1:${ACCOUNT}:destination:x`,
    `arn:aws:s3:us-east-1:${ACCOUNT}:log-group:x:*`,
    `arn:aws:logs:us-east-1:1234:log-group:x:*`,
    `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:x:**`,
  ])('rejects %j', (value) => {
    expect(parseLogGroupArn(value)).toBeUndefined();
  });
});

describe('parseRoleArn', () => {
  it('parses a role without a path', () => {
    expect(parseRoleArn(`arn:aws:iam::${ACCOUNT}:role/trailguard-delivery`)).toEqual({
      partition: 'aws',
      account: ACCOUNT,
      name: 'trailguard-delivery',
      path: '/',
    });
  });

  it('parses a role with a path', () => {
    expect(parseRoleArn(`arn:aws:iam::${ACCOUNT}:role/service-role/team/Cloud+Trail=,.@-_`)).toEqual({
      partition: 'aws',
      account: ACCOUNT,
      name: 'Cloud+Trail=,.@-_',
      path: '/service-role/team/',
    });
  });

  it.each([
    'garbage',
    '',
    `arn:aws:iam::${ACCOUNT}:role/`,
    `arn:aws:iam::${ACCOUNT}:rolename`,
    `arn:aws:iam::${ACCOUNT}:role`,
    `arn:aws:iam::${ACCOUNT}:user/name`,
    `arn:aws:iam:us-east-1:${ACCOUNT}:role/name`,
    `arn:aws:sts::${ACCOUNT}:assumed-role/name/session`,
    `arn:aws:iam::${ACCOUNT}:role/${'a'.repeat(65)}`,
    `arn:aws:iam::${ACCOUNT}:role/bad name`,
  ])('rejects %j', (value) => {
    expect(parseRoleArn(value)).toBeUndefined();
  });
});

describe('builders', () => {
  it('logGroupArn builds the :* form and round-trips', () => {
    const arn = logGroupArn({
      partition: 'aws',
      region: 'us-east-1',
      account: ACCOUNT,
      name: 'CloudTrail/x',
    });
    expect(arn).toBe(`arn:aws:logs:us-east-1:${ACCOUNT}:log-group:CloudTrail/x:*`);
    expect(parseLogGroupArn(arn)).toMatchObject({ name: 'CloudTrail/x', wildcardSuffix: true });
  });

  it('roleArn builds with and without a path and round-trips', () => {
    expect(roleArn({ partition: 'aws', account: ACCOUNT, name: 'r' })).toBe(`arn:aws:iam::${ACCOUNT}:role/r`);
    const withPath = roleArn({ partition: 'aws-cn', account: ACCOUNT, name: 'r', path: '/a/b/' });
    expect(withPath).toBe(`arn:aws-cn:iam::${ACCOUNT}:role/a/b/r`);
    expect(parseRoleArn(withPath)).toEqual({
      partition: 'aws-cn',
      account: ACCOUNT,
      name: 'r',
      path: '/a/b/',
    });
  });

  it('trailArn builds and round-trips', () => {
    const arn = trailArn({ partition: 'aws', region: 'us-west-2', account: ACCOUNT, name: 'main' });
    expect(arn).toBe(`arn:aws:cloudtrail:us-west-2:${ACCOUNT}:trail/main`);
    expect(parseTrailArn(arn)?.name).toBe('main');
  });
});

describe('deliveryStreamResources', () => {
  const base = { partition: 'aws', region: 'us-east-1', account: ACCOUNT, logGroupName: 'CloudTrail/main' };

  it('names the account CloudTrail streams of the group', () => {
    expect(deliveryStreamResources({ ...base, organizationTrail: false })).toEqual([
      `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:CloudTrail/main:log-stream:${ACCOUNT}_CloudTrail_us-east-1*`,
    ]);
  });

  it('adds the member accounts streams for an organization trail', () => {
    expect(deliveryStreamResources({ ...base, organizationTrail: true })).toEqual([
      `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:CloudTrail/main:log-stream:${ACCOUNT}_CloudTrail_us-east-1*`,
      `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:CloudTrail/main:log-stream:o-*`,
    ]);
  });
});

describe('partitionOf', () => {
  it.each([
    ['us-east-1', 'aws'],
    ['eu-central-2', 'aws'],
    ['cn-north-1', 'aws-cn'],
    ['us-gov-west-1', 'aws-us-gov'],
    ['us-iso-east-1', 'aws-iso'],
    ['us-isob-east-1', 'aws-iso-b'],
  ])('%s is in %s', (region, partition) => {
    expect(partitionOf(region)).toBe(partition);
  });
});
