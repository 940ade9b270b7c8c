import { describe, expect, it } from 'vitest';
import {
  allowsDelivery,
  cloudTrailTrustStatement,
  deliveryPolicy,
  repairTrustPolicy,
  statementsOf,
  trustsCloudTrail,
  wildcardMatch,
} from '../../../services/domain/policy-eval.js';
import type { PolicyDocument } from '../../../services/domain/trail-state.js';

const ACCOUNT = '123456789012';
const OTHER = '210987654321';
const TRAIL_ARN = `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/main`;
const GROUP = `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:CloudTrail/main`;
const STREAMS = `${GROUP}:log-stream:${ACCOUNT}_CloudTrail_us-east-1*`;
const ORG_STREAMS = `${GROUP}:log-stream:o-*`;
const context = { account: ACCOUNT, trailArn: TRAIL_ARN };

const policy = (...Statement: Record<string, unknown>[]): PolicyDocument => ({
  Version: '2012-10-17',
  Statement,
});
const allow = (Action: unknown, Resource: unknown = STREAMS) => ({ Effect: 'Allow', Action, Resource });
const BOTH = ['logs:CreateLogStream', 'logs:PutLogEvents'];

describe('wildcardMatch', () => {
  it('* matches any run, ? one character', () => {
    expect(wildcardMatch('logs:*', 'logs:PutLogEvents')).toBe(true);
    expect(wildcardMatch('logs:Put?ogEvents', 'logs:PutLogEvents')).toBe(true);
    expect(wildcardMatch('logs:Put?Events', 'logs:PutLogEvents')).toBe(false);
    expect(wildcardMatch('*', '')).toBe(true);
  });

  it('treats regex characters literally', () => {
    expect(wildcardMatch('a.b', 'axb')).toBe(false);
    expect(wildcardMatch('log-group:a+b', 'log-group:a+b')).toBe(true);
    expect(wildcardMatch('(x)', 'x')).toBe(false);
  });

  it('is case-sensitive unless asked', () => {
    expect(wildcardMatch('logs:putlogevents', 'logs:PutLogEvents')).toBe(false);
    expect(wildcardMatch('logs:putlogevents', 'logs:PutLogEvents', true)).toBe(true);
  });
});

describe('statementsOf', () => {
  it('accepts a single statement object and skips junk', () => {
    expect(statementsOf({ Statement: { Effect: 'Allow' } })).toEqual([{ Effect: 'Allow' }]);
    expect(statementsOf({ Statement: [null, 'x', { Effect: 'Deny' }] })).toEqual([{ Effect: 'Deny' }]);
    expect(statementsOf(undefined)).toEqual([]);
    expect(statementsOf({})).toEqual([]);
  });
});

describe('allowsDelivery', () => {
  it('grants with the documented statement', () => {
    expect(allowsDelivery([policy(allow(BOTH))], [STREAMS])).toBe(true);
  });

  it('grants with action wildcards and any action case', () => {
    expect(allowsDelivery([policy(allow('logs:*'))], [STREAMS])).toBe(true);
    expect(allowsDelivery([policy(allow(['logs:Create*', 'LOGS:putlogevents']))], [STREAMS])).toBe(true);
    expect(allowsDelivery([policy(allow('*', '*'))], [STREAMS])).toBe(true);
  });

  it('grants with resource wildcards that cover every CloudTrail stream of the group', () => {
    expect(allowsDelivery([policy(allow(BOTH, `${GROUP}:*`))], [STREAMS])).toBe(true);
    expect(allowsDelivery([policy(allow(BOTH, `${GROUP}:log-stream:*`))], [STREAMS])).toBe(true);
    expect(allowsDelivery([policy(allow(BOTH, 'arn:aws:logs:*:*:*'))], [STREAMS])).toBe(true);
  });

  it('does not grant on a resource that covers only some of the streams', () => {
    expect(
      allowsDelivery([policy(allow(BOTH, `${GROUP}:log-stream:${ACCOUNT}_CloudTrail_us-east-1`))], [STREAMS]),
    ).toBe(false);
    expect(
      allowsDelivery(
        [policy(allow(BOTH, `${GROUP}:log-stream:${ACCOUNT}_CloudTrail_us-east-1_*`))],
        [STREAMS],
      ),
    ).toBe(false);
  });

  it('does not grant on another log group', () => {
    expect(
      allowsDelivery(
        [policy(allow(BOTH, `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:CloudTrail/other:*`))],
        [STREAMS],
      ),
    ).toBe(false);
  });

  it('needs both actions, possibly from different policies', () => {
    expect(allowsDelivery([policy(allow('logs:PutLogEvents'))], [STREAMS])).toBe(false);
    expect(
      allowsDelivery([policy(allow('logs:PutLogEvents')), policy(allow('logs:CreateLogStream'))], [STREAMS]),
    ).toBe(true);
  });

  it('needs every requested resource (organization trails)', () => {
    expect(allowsDelivery([policy(allow(BOTH, STREAMS))], [STREAMS, ORG_STREAMS])).toBe(false);
    expect(allowsDelivery([policy(allow(BOTH, [STREAMS, ORG_STREAMS]))], [STREAMS, ORG_STREAMS])).toBe(true);
  });

  it('Deny wins over Allow', () => {
    const deny = { Effect: 'Deny', Action: 'logs:PutLogEvents', Resource: '*' };
    expect(allowsDelivery([policy(allow('*', '*'), deny)], [STREAMS])).toBe(false);
    expect(allowsDelivery([policy(allow('*', '*')), policy(deny)], [STREAMS])).toBe(false);
  });

  it('a Deny on part of the streams still refuses', () => {
    const deny = {
      Effect: 'Deny',
      Action: 'logs:*',
      Resource: `${GROUP}:log-stream:${ACCOUNT}_CloudTrail_us-east-1_secret`,
    };
    expect(allowsDelivery([policy(allow(BOTH), deny)], [STREAMS])).toBe(false);
  });

  it('a conditional Deny refuses (it may apply), a Deny of other actions or resources does not', () => {
    const conditional = {
      Effect: 'Deny',
      Action: 'logs:*',
      Resource: '*',
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    };
    expect(allowsDelivery([policy(allow(BOTH), conditional)], [STREAMS])).toBe(false);
    const otherAction = { Effect: 'Deny', Action: 'logs:DeleteLogGroup', Resource: '*' };
    const otherGroup = { Effect: 'Deny', Action: 'logs:*', Resource: 'arn:aws:logs:*:*:log-group:other:*' };
    expect(allowsDelivery([policy(allow(BOTH), otherAction, otherGroup)], [STREAMS])).toBe(true);
  });

  it('a conditional Allow does not grant', () => {
    const conditional = {
      ...allow(BOTH),
      Condition: { StringEquals: { 'aws:RequestedRegion': 'us-east-1' } },
    };
    expect(allowsDelivery([policy(conditional)], [STREAMS])).toBe(false);
    // An empty Condition block is no condition.
    expect(allowsDelivery([policy({ ...allow(BOTH), Condition: {} })], [STREAMS])).toBe(true);
  });

  it('NotAction: grants everything but the listed actions', () => {
    expect(allowsDelivery([policy({ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' })], [STREAMS])).toBe(
      true,
    );
    expect(
      allowsDelivery([policy({ Effect: 'Allow', NotAction: 'logs:PutLogEvents', Resource: '*' })], [STREAMS]),
    ).toBe(false);
  });

  it('NotAction in a Deny: denies the actions not listed', () => {
    const denyAllButLogs = { Effect: 'Deny', NotAction: 'logs:*', Resource: '*' };
    expect(allowsDelivery([policy(allow(BOTH), denyAllButLogs)], [STREAMS])).toBe(true);
    const denyAllButPut = { Effect: 'Deny', NotAction: 'logs:PutLogEvents', Resource: '*' };
    expect(allowsDelivery([policy(allow(BOTH), denyAllButPut)], [STREAMS])).toBe(false);
  });

  it('NotResource: grants only when the streams are outside the excluded resources', () => {
    const notOthers = { Effect: 'Allow', Action: BOTH, NotResource: 'arn:aws:logs:*:*:log-group:other:*' };
    expect(allowsDelivery([policy(notOthers)], [STREAMS])).toBe(true);
    const notOurs = { Effect: 'Allow', Action: BOTH, NotResource: `${GROUP}:*` };
    expect(allowsDelivery([policy(notOurs)], [STREAMS])).toBe(false);
  });

  it('a statement with neither Action nor NotAction grants nothing', () => {
    expect(allowsDelivery([policy({ Effect: 'Allow', Resource: '*' })], [STREAMS])).toBe(false);
    expect(allowsDelivery([], [STREAMS])).toBe(false);
  });

  it('deliveryPolicy produces exactly what allowsDelivery accepts', () => {
    expect(allowsDelivery([deliveryPolicy([STREAMS, ORG_STREAMS])], [STREAMS, ORG_STREAMS])).toBe(true);
    expect(allowsDelivery([deliveryPolicy([STREAMS])], [STREAMS, ORG_STREAMS])).toBe(false);
  });
});

const cloudTrail = { Service: 'cloudtrail.amazonaws.com' };
const trustStatement = (extra: Record<string, unknown> = {}) => ({
  Effect: 'Allow',
  Principal: cloudTrail,
  Action: 'sts:AssumeRole',
  ...extra,
});

describe('trustsCloudTrail', () => {
  it('trusts the plain CloudTrail statement', () => {
    expect(trustsCloudTrail(policy(trustStatement()), context)).toBe(true);
  });

  it('accepts the service among others, a wildcard action, a wildcard principal', () => {
    expect(
      trustsCloudTrail(
        policy(trustStatement({ Principal: { Service: ['ec2.amazonaws.com', 'cloudtrail.amazonaws.com'] } })),
        context,
      ),
    ).toBe(true);
    expect(trustsCloudTrail(policy(trustStatement({ Action: 'sts:*' })), context)).toBe(true);
    expect(trustsCloudTrail(policy(trustStatement({ Principal: '*' })), context)).toBe(true);
  });

  it('refuses another service, an AWS principal, another action, or nothing', () => {
    expect(
      trustsCloudTrail(policy(trustStatement({ Principal: { Service: 'ec2.amazonaws.com' } })), context),
    ).toBe(false);
    expect(
      trustsCloudTrail(
        policy(trustStatement({ Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` } })),
        context,
      ),
    ).toBe(false);
    expect(trustsCloudTrail(policy(trustStatement({ Action: 'sts:TagSession' })), context)).toBe(false);
    expect(trustsCloudTrail(undefined, context)).toBe(false);
  });

  it('aws:SourceAccount: this account passes, another does not', () => {
    const cond = (account: string) =>
      trustStatement({ Condition: { StringEquals: { 'aws:SourceAccount': account } } });
    expect(trustsCloudTrail(policy(cond(ACCOUNT)), context)).toBe(true);
    expect(trustsCloudTrail(policy(cond(OTHER)), context)).toBe(false);
    // One of several values is enough; condition keys are case-insensitive.
    expect(
      trustsCloudTrail(
        policy(trustStatement({ Condition: { StringEquals: { 'AWS:SOURCEACCOUNT': [OTHER, ACCOUNT] } } })),
        context,
      ),
    ).toBe(true);
  });

  it('aws:SourceArn: this trail, or a pattern covering it, passes', () => {
    const cond = (op: string, arn: string) =>
      trustStatement({ Condition: { [op]: { 'aws:SourceArn': arn } } });
    expect(trustsCloudTrail(policy(cond('ArnEquals', TRAIL_ARN)), context)).toBe(true);
    expect(trustsCloudTrail(policy(cond('StringEquals', TRAIL_ARN)), context)).toBe(true);
    expect(
      trustsCloudTrail(policy(cond('ArnLike', `arn:aws:cloudtrail:*:${ACCOUNT}:trail/*`)), context),
    ).toBe(true);
    expect(trustsCloudTrail(policy(cond('ArnEquals', `${TRAIL_ARN}2`)), context)).toBe(false);
    expect(trustsCloudTrail(policy(cond('ArnLike', `arn:aws:cloudtrail:*:${OTHER}:trail/*`)), context)).toBe(
      false,
    );
  });

  it('both conditions must hold', () => {
    const both = (account: string) =>
      trustStatement({
        Condition: {
          StringEquals: { 'aws:SourceAccount': account },
          ArnLike: { 'aws:SourceArn': 'arn:aws:cloudtrail:*' },
        },
      });
    expect(trustsCloudTrail(policy(both(ACCOUNT)), context)).toBe(true);
    expect(trustsCloudTrail(policy(both(OTHER)), context)).toBe(false);
  });

  it('a condition it cannot evaluate does not grant', () => {
    expect(
      trustsCloudTrail(
        policy(trustStatement({ Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-1' } } })),
        context,
      ),
    ).toBe(false);
    expect(
      trustsCloudTrail(
        policy(trustStatement({ Condition: { NumericEquals: { 'aws:SourceAccount': 1 } } })),
        context,
      ),
    ).toBe(false);
  });

  it('a Deny for CloudTrail wins', () => {
    expect(
      trustsCloudTrail(
        policy(trustStatement(), { Effect: 'Deny', Principal: cloudTrail, Action: 'sts:*' }),
        context,
      ),
    ).toBe(false);
    expect(
      trustsCloudTrail(policy(trustStatement(), { Effect: 'Deny', Principal: '*', Action: '*' }), context),
    ).toBe(false);
    // A Deny for another principal is irrelevant.
    expect(
      trustsCloudTrail(
        policy(trustStatement(), {
          Effect: 'Deny',
          Principal: { Service: 'ec2.amazonaws.com' },
          Action: '*',
        }),
        context,
      ),
    ).toBe(true);
  });

  it('the guardrail statement is trusted', () => {
    expect(trustsCloudTrail(policy(cloudTrailTrustStatement(ACCOUNT)), context)).toBe(true);
    expect(trustsCloudTrail(policy(cloudTrailTrustStatement(OTHER)), context)).toBe(false);
  });
});

describe('repairTrustPolicy', () => {
  const ec2 = {
    Sid: 'Ec2',
    Effect: 'Allow',
    Principal: { Service: 'ec2.amazonaws.com' },
    Action: 'sts:AssumeRole',
  };
  const admins = {
    Sid: 'Admins',
    Effect: 'Allow',
    Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/Admin` },
    Action: ['sts:AssumeRole', 'sts:TagSession'],
  };
  const denyEc2 = {
    Sid: 'NoLambda',
    Effect: 'Deny',
    Principal: { Service: 'lambda.amazonaws.com' },
    Action: '*',
  };

  it('keeps unrelated statements, in order, and adds the guardrail statement', () => {
    const repaired = repairTrustPolicy(policy(ec2, admins, denyEc2), context);
    expect(repaired).toEqual({
      Version: '2012-10-17',
      Statement: [ec2, admins, denyEc2, cloudTrailTrustStatement(ACCOUNT)],
    });
    expect(trustsCloudTrail(repaired, context)).toBe(true);
  });

  it('keeps an Allow for every principal whose condition is about something else', () => {
    // It does not stop CloudTrail; dropping it would lock out whoever it is for.
    const orgWide = {
      Sid: 'OrgWide',
      Effect: 'Allow',
      Principal: { AWS: '*' },
      Action: 'sts:AssumeRole',
      Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-abc123' } },
    };
    const repaired = repairTrustPolicy(policy(orgWide), context);
    expect(statementsOf(repaired)).toEqual([orgWide, cloudTrailTrustStatement(ACCOUNT)]);
    expect(trustsCloudTrail(repaired, context)).toBe(true);
  });

  it('drops Deny statements for CloudTrail, whatever their principal form', () => {
    const denyCloudTrail = { Sid: 'Deny', Effect: 'Deny', Principal: cloudTrail, Action: 'sts:AssumeRole' };
    const denyAll = { Sid: 'DenyAll', Effect: 'Deny', Principal: '*', Action: 'sts:*' };
    const repaired = repairTrustPolicy(policy(ec2, denyCloudTrail, denyAll), context);
    expect(statementsOf(repaired)).toEqual([ec2, cloudTrailTrustStatement(ACCOUNT)]);
    expect(trustsCloudTrail(repaired, context)).toBe(true);
  });

  it('keeps CloudTrail statements for other trails or accounts that may share the role', () => {
    const otherTrail = trustStatement({
      Sid: 'OtherTrail',
      Condition: { ArnEquals: { 'aws:SourceArn': `${TRAIL_ARN}-2` } },
    });
    const foreign = trustStatement({
      Sid: 'Foreign',
      Condition: { StringEquals: { 'aws:SourceAccount': OTHER } },
    });
    const repaired = repairTrustPolicy(policy(otherTrail, foreign), context);
    expect(statementsOf(repaired)).toEqual([otherTrail, foreign, cloudTrailTrustStatement(ACCOUNT)]);
    expect(trustsCloudTrail(repaired, context)).toBe(true);
  });

  it('keeps a working CloudTrail statement and does not duplicate its own', () => {
    const working = trustStatement({ Sid: 'Mine', Condition: { ArnEquals: { 'aws:SourceArn': TRAIL_ARN } } });
    const once = repairTrustPolicy(policy(working), context);
    const twice = repairTrustPolicy(once, context);
    expect(statementsOf(twice)).toEqual([working, cloudTrailTrustStatement(ACCOUNT)]);
    expect(twice).toEqual(once);
  });

  it('repairs an empty or missing policy', () => {
    expect(repairTrustPolicy(undefined, context)).toEqual({
      Version: '2012-10-17',
      Statement: [cloudTrailTrustStatement(ACCOUNT)],
    });
  });
});
