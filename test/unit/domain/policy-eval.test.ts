import { describe, expect, it } from 'vitest';
import {
  allowsDelivery,
  cloudTrailTrust,
  cloudTrailTrustStatement,
  deliveryDenial,
  deliveryPolicy,
  repairTrustPolicy,
  statementsOf,
  TRUST_STATEMENT_SID,
  trustsCloudTrail,
  UNSUPPORTED_TRUST_KEYS,
  wildcardMatch,
} from '../../../services/domain/policy-eval.js';
import type { PolicyDocument } from '../../../services/domain/trail-state.js';

const ACCOUNT = '123456789012';
const OTHER = '210987654321';
const TRAIL_ARN = `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/main`;
const ORG_ID = 'o-a1b2c3d4e5';
const GROUP = `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:CloudTrail/main`;
const STREAMS = `${GROUP}:log-stream:${ACCOUNT}_CloudTrail_us-east-1*`;
const ORG_STREAMS = `${GROUP}:log-stream:${ORG_ID}_*`;
/** The title of AWS's page that says the delivery role's trust supports no aws:SourceArn / aws:SourceAccount. */
const AWS_PAGE = 'Role policy document for CloudTrail to use CloudWatch Logs for monitoring';

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

  it('needs every requested resource (organization trails: the o-ORGID_* streams too)', () => {
    expect(allowsDelivery([policy(allow(BOTH, STREAMS))], [STREAMS, ORG_STREAMS])).toBe(false);
    expect(allowsDelivery([policy(allow(BOTH, [STREAMS, ORG_STREAMS]))], [STREAMS, ORG_STREAMS])).toBe(true);
    // Another organization's streams are not this one's.
    expect(
      allowsDelivery(
        [policy(allow(BOTH, [STREAMS, `${GROUP}:log-stream:o-zzzzzzzzzz_*`]))],
        [STREAMS, ORG_STREAMS],
      ),
    ).toBe(false);
    // The old `o-*` grant covers the real id's streams (broader than documented, but it does allow delivery).
    expect(
      allowsDelivery([policy(allow(BOTH, [STREAMS, `${GROUP}:log-stream:o-*`]))], [STREAMS, ORG_STREAMS]),
    ).toBe(true);
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

  it('NotResource in a Deny: denies unless the streams are all excluded', () => {
    const denyButOurs = { Effect: 'Deny', Action: 'logs:*', NotResource: `${GROUP}:*` };
    expect(allowsDelivery([policy(allow(BOTH), denyButOurs)], [STREAMS])).toBe(true);
    const denyButOthers = {
      Effect: 'Deny',
      Action: 'logs:*',
      NotResource: 'arn:aws:logs:*:*:log-group:other:*',
    };
    expect(allowsDelivery([policy(allow(BOTH), denyButOthers)], [STREAMS])).toBe(false);
  });

  it('a statement with neither Action nor NotAction grants nothing', () => {
    expect(allowsDelivery([policy({ Effect: 'Allow', Resource: '*' })], [STREAMS])).toBe(false);
    expect(allowsDelivery([], [STREAMS])).toBe(false);
  });

  it('deliveryPolicy produces exactly what allowsDelivery accepts', () => {
    expect(allowsDelivery([deliveryPolicy([STREAMS, ORG_STREAMS])], [STREAMS, ORG_STREAMS])).toBe(true);
    expect(allowsDelivery([deliveryPolicy([STREAMS])], [STREAMS, ORG_STREAMS])).toBe(false);
    expect(deliveryPolicy([STREAMS])).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'TrailguardCloudTrailDelivery', Effect: 'Allow', Action: BOTH, Resource: [STREAMS] },
      ],
    });
  });
});

describe('a permissions boundary', () => {
  const grant = policy(allow(BOTH));

  it('that allows delivery (unconditioned, covering) lets the policies grant', () => {
    expect(allowsDelivery([grant], [STREAMS], policy(allow('logs:*', '*')))).toBe(true);
    expect(allowsDelivery([grant], [STREAMS], policy(allow(BOTH, `${GROUP}:*`)))).toBe(true);
    expect(
      allowsDelivery([grant], [STREAMS], policy({ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' })),
    ).toBe(true);
  });

  it('does not grant by itself: the policies must allow too', () => {
    expect(deliveryDenial([], [STREAMS], policy(allow('*', '*')))).toBe('missing');
    expect(deliveryDenial([policy(allow('logs:PutLogEvents'))], [STREAMS], policy(allow('*', '*')))).toBe(
      'missing',
    );
  });

  it('that does not allow delivery refuses it', () => {
    expect(deliveryDenial([grant], [STREAMS], policy(allow('s3:GetObject', '*')))).toBe('boundary');
    expect(deliveryDenial([grant], [STREAMS], policy(allow('logs:PutLogEvents', '*')))).toBe('boundary');
    expect(
      deliveryDenial(
        [grant],
        [STREAMS],
        policy(allow(BOTH, `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:CloudTrail/other:*`)),
      ),
    ).toBe('boundary');
    // A boundary with no statement allows nothing.
    expect(deliveryDenial([grant], [STREAMS], policy())).toBe('boundary');
    expect(deliveryDenial([grant], [STREAMS], {})).toBe('boundary');
  });

  it('must cover every requested resource (organization streams)', () => {
    const both = policy(allow(BOTH, [STREAMS, ORG_STREAMS]));
    expect(deliveryDenial([both], [STREAMS, ORG_STREAMS], policy(allow(BOTH, STREAMS)))).toBe('boundary');
    expect(deliveryDenial([both], [STREAMS, ORG_STREAMS], policy(allow(BOTH, `${GROUP}:*`)))).toBeUndefined();
  });

  it('whose Allow is conditioned does not count', () => {
    const conditioned = policy({
      ...allow('logs:*', '*'),
      Condition: { StringEquals: { 'aws:RequestedRegion': 'us-east-1' } },
    });
    expect(deliveryDenial([grant], [STREAMS], conditioned)).toBe('boundary');
  });

  it('that denies (even conditionally) refuses, whatever else it allows', () => {
    const denying = policy(allow('*', '*'), { Effect: 'Deny', Action: 'logs:PutLogEvents', Resource: '*' });
    expect(deliveryDenial([grant], [STREAMS], denying)).toBe('boundary');
    const conditional = policy(allow('*', '*'), {
      Effect: 'Deny',
      Action: 'logs:*',
      Resource: '*',
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
    expect(deliveryDenial([grant], [STREAMS], conditional)).toBe('boundary');
    const elsewhere = policy(allow('*', '*'), {
      Effect: 'Deny',
      Action: 'logs:*',
      Resource: 'arn:aws:s3:::x',
    });
    expect(deliveryDenial([grant], [STREAMS], elsewhere)).toBeUndefined();
  });

  it('a Deny in the policies wins over the boundary', () => {
    const denied = [grant, policy({ Effect: 'Deny', Action: 'logs:*', Resource: '*' })];
    expect(deliveryDenial(denied, [STREAMS], policy(allow('s3:GetObject', '*')))).toBe('deny');
    expect(deliveryDenial(denied, [STREAMS], policy(allow('*', '*')))).toBe('deny');
  });
});

describe('deliveryDenial', () => {
  it('says why, or nothing when delivery is allowed', () => {
    expect(deliveryDenial([policy(allow(BOTH))], [STREAMS])).toBeUndefined();
    expect(deliveryDenial([], [STREAMS])).toBe('missing');
    expect(deliveryDenial([policy(allow('logs:CreateLogStream'))], [STREAMS])).toBe('missing');
    expect(
      deliveryDenial(
        [policy(allow(BOTH), { Effect: 'Deny', Action: 'logs:CreateLogStream', Resource: '*' })],
        [STREAMS],
      ),
    ).toBe('deny');
    // No grant and a Deny: the Deny is the reason.
    expect(deliveryDenial([policy({ Effect: 'Deny', Action: '*', Resource: '*' })], [STREAMS])).toBe('deny');
  });

  it('allowsDelivery is deliveryDenial === undefined', () => {
    const cases: [PolicyDocument[], PolicyDocument | undefined][] = [
      [[policy(allow(BOTH))], undefined],
      [[policy(allow(BOTH))], policy(allow('s3:*', '*'))],
      [[], policy(allow('*', '*'))],
      [[policy(allow(BOTH), { Effect: 'Deny', Action: '*', Resource: '*' })], undefined],
    ];
    for (const [docs, boundary] of cases) {
      expect(allowsDelivery(docs, [STREAMS], boundary)).toBe(
        deliveryDenial(docs, [STREAMS], boundary) === undefined,
      );
    }
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
    expect(trustsCloudTrail(policy(trustStatement()))).toBe(true);
    expect(cloudTrailTrust(policy(trustStatement()))).toEqual({ trusted: true });
  });

  it('accepts the service among others, a wildcard action, any action case, a wildcard principal', () => {
    expect(
      trustsCloudTrail(
        policy(trustStatement({ Principal: { Service: ['ec2.amazonaws.com', 'cloudtrail.amazonaws.com'] } })),
      ),
    ).toBe(true);
    expect(trustsCloudTrail(policy(trustStatement({ Action: 'sts:*' })))).toBe(true);
    expect(trustsCloudTrail(policy(trustStatement({ Action: '*' })))).toBe(true);
    expect(trustsCloudTrail(policy(trustStatement({ Action: ['sts:TagSession', 'STS:assumerole'] })))).toBe(
      true,
    );
    expect(trustsCloudTrail(policy(trustStatement({ Principal: '*' })))).toBe(true);
    expect(trustsCloudTrail(policy(trustStatement({ Principal: { AWS: '*' } })))).toBe(true);
    // A single statement object rather than a list.
    expect(trustsCloudTrail({ Version: '2012-10-17', Statement: trustStatement() })).toBe(true);
  });

  it('refuses another service, an AWS or federated principal, another action, or nothing', () => {
    expect(trustsCloudTrail(policy(trustStatement({ Principal: { Service: 'ec2.amazonaws.com' } })))).toBe(
      false,
    );
    expect(
      trustsCloudTrail(policy(trustStatement({ Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` } }))),
    ).toBe(false);
    expect(
      trustsCloudTrail(
        policy(trustStatement({ Principal: { Federated: 'cognito-identity.amazonaws.com' } })),
      ),
    ).toBe(false);
    expect(trustsCloudTrail(policy(trustStatement({ Action: 'sts:TagSession' })))).toBe(false);
    expect(trustsCloudTrail(policy(trustStatement({ Action: 'sts:AssumeRoleWithWebIdentity' })))).toBe(false);
    expect(trustsCloudTrail(undefined)).toBe(false);
    expect(trustsCloudTrail(policy())).toBe(false);
    expect(cloudTrailTrust(undefined)).toEqual({
      trusted: false,
      reason: 'no statement allows cloudtrail.amazonaws.com to call sts:AssumeRole',
    });
  });

  it('the unsupported keys are aws:SourceArn and aws:SourceAccount', () => {
    expect([...UNSUPPORTED_TRUST_KEYS]).toEqual(['aws:SourceArn', 'aws:SourceAccount']);
  });

  it('aws:SourceAccount does not count, even with this account, and the reason names the key and the AWS page', () => {
    for (const account of [ACCOUNT, OTHER]) {
      const doc = policy(trustStatement({ Condition: { StringEquals: { 'aws:SourceAccount': account } } }));
      expect(trustsCloudTrail(doc)).toBe(false);
      const verdict = cloudTrailTrust(doc);
      expect(verdict.trusted).toBe(false);
      expect(verdict.reason).toContain('aws:SourceAccount');
      expect(verdict.reason).toContain(AWS_PAGE);
      expect(verdict.reason).not.toContain('aws:SourceArn');
    }
    // Condition keys are case-insensitive: still recognised (named as written).
    const upper = cloudTrailTrust(
      policy(trustStatement({ Condition: { StringEquals: { 'AWS:SOURCEACCOUNT': [OTHER, ACCOUNT] } } })),
    );
    expect(upper.trusted).toBe(false);
    expect(upper.reason).toContain('AWS:SOURCEACCOUNT');
    expect(upper.reason).toContain(AWS_PAGE);
  });

  it('aws:SourceArn does not count, whatever the operator or value', () => {
    for (const [op, arn] of [
      ['ArnEquals', TRAIL_ARN],
      ['StringEquals', TRAIL_ARN],
      ['ArnLike', `arn:aws:cloudtrail:*:${ACCOUNT}:trail/*`],
      ['ArnLike', '*'],
    ] as const) {
      const verdict = cloudTrailTrust(
        policy(trustStatement({ Condition: { [op]: { 'aws:SourceArn': arn } } })),
      );
      expect(verdict.trusted, `${op} ${arn}`).toBe(false);
      expect(verdict.reason).toContain('aws:SourceArn');
      expect(verdict.reason).toContain(AWS_PAGE);
    }
  });

  it('both keys: the reason names both', () => {
    const verdict = cloudTrailTrust(
      policy(
        trustStatement({
          Condition: {
            StringEquals: { 'aws:SourceAccount': ACCOUNT },
            ArnLike: { 'aws:SourceArn': `arn:aws:cloudtrail:*:${ACCOUNT}:trail/*` },
          },
        }),
      ),
    );
    expect(verdict.trusted).toBe(false);
    expect(verdict.reason).toContain('aws:SourceAccount');
    expect(verdict.reason).toContain('aws:SourceArn');
    expect(verdict.reason).toContain(AWS_PAGE);
  });

  it('any other condition does not count either; the reason names the keys', () => {
    for (const condition of [
      { StringEquals: { 'aws:PrincipalOrgID': 'o-abc123' } },
      { Bool: { 'aws:SecureTransport': 'true' } },
      { NumericEquals: { 'aws:MultiFactorAuthAge': 1 } },
    ]) {
      const verdict = cloudTrailTrust(policy(trustStatement({ Condition: condition })));
      expect(verdict.trusted).toBe(false);
      const [key] = Object.keys(Object.values(condition)[0] ?? {});
      expect(verdict.reason).toContain(key);
      expect(verdict.reason).toContain('not documented');
    }
  });

  it('a conditioned Allow next to an unconditioned one: the unconditioned one is enough', () => {
    const doc = policy(
      trustStatement({ Sid: 'Old', Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } } }),
      trustStatement({ Sid: 'Plain' }),
    );
    expect(cloudTrailTrust(doc)).toEqual({ trusted: true });
  });

  it('an empty Condition block is no condition', () => {
    expect(trustsCloudTrail(policy(trustStatement({ Condition: {} })))).toBe(true);
  });

  it('a Deny aimed at CloudTrail wins, whatever its principal form, action form or condition', () => {
    const denies = [
      { Effect: 'Deny', Principal: cloudTrail, Action: 'sts:AssumeRole' },
      { Effect: 'Deny', Principal: cloudTrail, Action: 'sts:*' },
      {
        Effect: 'Deny',
        Principal: { Service: ['ec2.amazonaws.com', 'cloudtrail.amazonaws.com'] },
        Action: '*',
      },
      { Effect: 'Deny', Principal: '*', Action: '*' },
      { Effect: 'Deny', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' },
      { Effect: 'Deny', Principal: cloudTrail, NotAction: 'sts:TagSession' },
      // A negated condition on a key CloudTrail does not send is true: this Deny applies.
      {
        Effect: 'Deny',
        Principal: cloudTrail,
        Action: 'sts:AssumeRole',
        Condition: { StringNotEquals: { 'aws:SourceAccount': ACCOUNT } },
      },
    ];
    for (const deny of denies) {
      const verdict = cloudTrailTrust(policy(trustStatement(), deny));
      expect(verdict, JSON.stringify(deny)).toEqual({
        trusted: false,
        reason: 'a Deny statement refuses sts:AssumeRole to cloudtrail.amazonaws.com',
      });
    }
  });

  it('a Deny for another principal or another action is irrelevant', () => {
    expect(
      trustsCloudTrail(
        policy(trustStatement(), {
          Effect: 'Deny',
          Principal: { Service: 'ec2.amazonaws.com' },
          Action: '*',
        }),
      ),
    ).toBe(true);
    expect(
      trustsCloudTrail(
        policy(trustStatement(), { Effect: 'Deny', Principal: cloudTrail, Action: 'sts:TagSession' }),
      ),
    ).toBe(true);
  });

  it('the guardrail statement is trusted, and has no condition', () => {
    expect(cloudTrailTrustStatement()).toEqual({
      Sid: TRUST_STATEMENT_SID,
      Effect: 'Allow',
      Principal: { Service: 'cloudtrail.amazonaws.com' },
      Action: 'sts:AssumeRole',
    });
    expect(TRUST_STATEMENT_SID).toBe('TrailguardAllowCloudTrail');
    expect(trustsCloudTrail(policy(cloudTrailTrustStatement()))).toBe(true);
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
  const denyLambda = {
    Sid: 'NoLambda',
    Effect: 'Deny',
    Principal: { Service: 'lambda.amazonaws.com' },
    Action: '*',
  };
  /** What an earlier version wrote: its own statement, conditioned on aws:SourceAccount. */
  const oldGuardrail = trustStatement({
    Sid: TRUST_STATEMENT_SID,
    Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
  });

  it('keeps unrelated statements, in order, and appends the guardrail statement', () => {
    const repaired = repairTrustPolicy(policy(ec2, admins, denyLambda));
    expect(repaired).toEqual({
      Version: '2012-10-17',
      Statement: [ec2, admins, denyLambda, cloudTrailTrustStatement()],
    });
    expect(trustsCloudTrail(repaired)).toBe(true);
  });

  it("replaces only the guardrail's own earlier statement (conditioned on aws:SourceAccount)", () => {
    const repaired = repairTrustPolicy(policy(ec2, oldGuardrail, admins));
    expect(statementsOf(repaired)).toEqual([ec2, admins, cloudTrailTrustStatement()]);
    expect(statementsOf(repaired).filter((s) => s.Sid === TRUST_STATEMENT_SID)).toHaveLength(1);
    expect(cloudTrailTrust(repaired)).toEqual({ trusted: true });
  });

  it("keeps other people's conditioned Allows, for CloudTrail or for everyone", () => {
    const orgWide = {
      Sid: 'OrgWide',
      Effect: 'Allow',
      Principal: { AWS: '*' },
      Action: 'sts:AssumeRole',
      Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-abc123' } },
    };
    const otherTrail = trustStatement({
      Sid: 'OtherTrail',
      Condition: { ArnEquals: { 'aws:SourceArn': `${TRAIL_ARN}-2` } },
    });
    const foreign = trustStatement({ Condition: { StringEquals: { 'aws:SourceAccount': OTHER } } });
    const repaired = repairTrustPolicy(policy(orgWide, otherTrail, foreign));
    expect(statementsOf(repaired)).toEqual([orgWide, otherTrail, foreign, cloudTrailTrustStatement()]);
    expect(trustsCloudTrail(repaired)).toBe(true);
  });

  it('keeps every Deny; a kept Deny aimed at CloudTrail means the result still does not trust it', () => {
    const denyCloudTrail = { Sid: 'Deny', Effect: 'Deny', Principal: cloudTrail, Action: 'sts:AssumeRole' };
    const denyAll = { Sid: 'DenyAll', Effect: 'Deny', Principal: '*', Action: 'sts:*' };
    for (const deny of [denyCloudTrail, denyAll]) {
      const repaired = repairTrustPolicy(policy(ec2, deny));
      expect(statementsOf(repaired)).toEqual([ec2, deny, cloudTrailTrustStatement()]);
      expect(cloudTrailTrust(repaired)).toEqual({
        trusted: false,
        reason: 'a Deny statement refuses sts:AssumeRole to cloudtrail.amazonaws.com',
      });
    }
  });

  it('is idempotent and never duplicates its own statement', () => {
    const once = repairTrustPolicy(policy(trustStatement({ Sid: 'Mine' }), oldGuardrail));
    const twice = repairTrustPolicy(once);
    expect(twice).toEqual(once);
    expect(statementsOf(twice)).toEqual([trustStatement({ Sid: 'Mine' }), cloudTrailTrustStatement()]);
  });

  it('repairs an empty, missing or single-statement policy', () => {
    const only = { Version: '2012-10-17', Statement: [cloudTrailTrustStatement()] };
    expect(repairTrustPolicy(undefined)).toEqual(only);
    expect(repairTrustPolicy({})).toEqual(only);
    expect(repairTrustPolicy({ Version: '2012-10-17', Statement: ec2 })).toEqual({
      Version: '2012-10-17',
      Statement: [ec2, cloudTrailTrustStatement()],
    });
  });
});
