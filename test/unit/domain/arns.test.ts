import { describe, expect, it } from 'vitest';
import {
  deliveryStreamResources,
  isTrailName,
  logGroupArn,
  ORGANIZATION_ID,
  parseLogGroupArn,
  parseRoleArn,
  parseTrailArn,
  partitionOf,
  roleArn,
  templateDeliveryResources,
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
  const group = `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:CloudTrail/main`;

  it('names the account CloudTrail streams of the group', () => {
    expect(deliveryStreamResources({ ...base, organizationTrail: false })).toEqual([
      `${group}:log-stream:${ACCOUNT}_CloudTrail_us-east-1*`,
    ]);
  });

  it("adds the member accounts' streams of an organization trail, with the organization's real id", () => {
    expect(
      deliveryStreamResources({ ...base, organizationTrail: true, organizationId: 'o-a1b2c3d4e5' }),
    ).toEqual([`${group}:log-stream:${ACCOUNT}_CloudTrail_us-east-1*`, `${group}:log-stream:o-a1b2c3d4e5_*`]);
  });

  it('never grants every organization (o-*)', () => {
    for (const organizationId of [undefined, 'o-a1b2c3d4e5']) {
      const resources = deliveryStreamResources({
        ...base,
        organizationTrail: true,
        ...(organizationId ? { organizationId } : {}),
      });
      expect(resources.filter((r) => r.endsWith(':log-stream:o-*'))).toEqual([]);
    }
  });

  it('an organization id is used only for an organization trail', () => {
    expect(
      deliveryStreamResources({ ...base, organizationTrail: false, organizationId: 'o-a1b2c3d4e5' }),
    ).toEqual([`${group}:log-stream:${ACCOUNT}_CloudTrail_us-east-1*`]);
  });

  it('without the id, only the account streams (the caller, assess, refuses an organization trail read without it)', () => {
    expect(deliveryStreamResources({ ...base, organizationTrail: true })).toEqual([
      `${group}:log-stream:${ACCOUNT}_CloudTrail_us-east-1*`,
    ]);
  });

  it.each(['o-*', 'o-', 'o-abc', 'o-A1B2C3D4E5', 'a1b2c3d4e5', 'o-a1b2c3d4e5_x', `o-${'a'.repeat(33)}`, ''])(
    'throws on a malformed organization id %j',
    (organizationId) => {
      expect(() => deliveryStreamResources({ ...base, organizationTrail: true, organizationId })).toThrow(
        /not an AWS Organizations id/,
      );
    },
  );

  it('builds in the partition and region given', () => {
    expect(
      deliveryStreamResources({
        partition: 'aws-cn',
        region: 'cn-north-1',
        account: ACCOUNT,
        logGroupName: 'x',
        organizationTrail: false,
      }),
    ).toEqual([
      `arn:aws-cn:logs:cn-north-1:${ACCOUNT}:log-group:x:log-stream:${ACCOUNT}_CloudTrail_cn-north-1*`,
    ]);
  });
});

describe('ORGANIZATION_ID', () => {
  it.each(['o-a1b2c3d4e5', `o-${'0'.repeat(10)}`, `o-${'z'.repeat(32)}`])('accepts %j', (id) => {
    expect(ORGANIZATION_ID.test(id)).toBe(true);
  });

  it.each(['o-*', `o-${'a'.repeat(9)}`, `o-${'a'.repeat(33)}`, 'o-ABCDEFGHIJ', 'r-a1b2', ' o-a1b2c3d4e5'])(
    'rejects %j',
    (id) => {
      expect(ORGANIZATION_ID.test(id)).toBe(false);
    },
  );
});

describe('templateDeliveryResources', () => {
  it("grants CloudTrail's streams of every template log group of the account, in any region", () => {
    expect(
      templateDeliveryResources({ partition: 'aws', account: ACCOUNT, logGroupPattern: 'CloudTrail/*' }),
    ).toEqual([`arn:aws:logs:*:${ACCOUNT}:log-group:CloudTrail/*:log-stream:${ACCOUNT}_CloudTrail_*`]);
  });

  it("adds the organization's member streams with its real id", () => {
    expect(
      templateDeliveryResources({
        partition: 'aws-us-gov',
        account: ACCOUNT,
        logGroupPattern: 'org/*/*/events',
        organizationId: 'o-a1b2c3d4e5',
      }),
    ).toEqual([
      `arn:aws-us-gov:logs:*:${ACCOUNT}:log-group:org/*/*/events:log-stream:${ACCOUNT}_CloudTrail_*`,
      `arn:aws-us-gov:logs:*:${ACCOUNT}:log-group:org/*/*/events:log-stream:o-a1b2c3d4e5_*`,
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
