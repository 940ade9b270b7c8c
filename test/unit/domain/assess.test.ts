import { describe, expect, it } from 'vitest';
import { type Config, parseConfig } from '../../../policies/config.js';
import { assess, isExempt, notOursReason, targetOf } from '../../../services/domain/assess.js';
import { InvalidInputError } from '../../../services/domain/errors.js';
import { FINDING_CODES, type FindingCode, severityOf } from '../../../services/domain/findings.js';
import type { TrailState } from '../../../services/domain/trail-state.js';

const ACCOUNT = '123456789012';
const OTHER = '210987654321';
const REGION = 'us-east-1';
const TRAIL_ARN = `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/main`;
const GROUP = 'CloudTrail/main';
const GROUP_ARN = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${GROUP}:*`;
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/ct-delivery`;
const STREAMS = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${GROUP}:log-stream:${ACCOUNT}_CloudTrail_${REGION}*`;
const ORG_ID = 'o-a1b2c3d4e5';
const ORG_STREAMS = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${GROUP}:log-stream:${ORG_ID}_*`;
const BOUNDARY_ARN = `arn:aws:iam::${ACCOUNT}:policy/DeveloperBoundary`;
/** The title of AWS's page that says the delivery role's trust supports no aws:SourceArn / aws:SourceAccount. */
const AWS_PAGE = 'Role policy document for CloudTrail to use CloudWatch Logs for monitoring';

const config = parseConfig({});

/** The trust AWS documents for the delivery role: CloudTrail, sts:AssumeRole, no condition. */
const validTrust = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { Service: 'cloudtrail.amazonaws.com' },
      Action: 'sts:AssumeRole',
    },
  ],
};

const validPermissions = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: STREAMS }],
};

/** A compliant trail's state; `change` edits a deep copy. */
function state(change: (s: TrailState) => void = () => {}): TrailState {
  const s: TrailState = {
    region: REGION,
    accountId: ACCOUNT,
    partition: 'aws',
    trail: {
      name: 'main',
      trailArn: TRAIL_ARN,
      homeRegion: REGION,
      isMultiRegionTrail: true,
      isOrganizationTrail: false,
      s3BucketName: 'logs',
      cloudWatchLogsLogGroupArn: GROUP_ARN,
      cloudWatchLogsRoleArn: ROLE_ARN,
    },
    status: { isLogging: true },
    tags: {},
    logGroup: { name: GROUP, exists: true },
    role: {
      name: 'ct-delivery',
      arn: ROLE_ARN,
      exists: true,
      trustPolicy: structuredClone(validTrust),
      permissionPolicies: [{ name: 'delivery', document: structuredClone(validPermissions) }],
    },
  };
  change(s);
  return s;
}

function codes(s: TrailState, c: Config = config): FindingCode[] {
  return assess(s, c).findings.map((f) => f.code);
}

describe('assess: the compliant baseline', () => {
  it('has no findings and is compliant', () => {
    const a = assess(state(), config);
    expect(a.findings).toEqual([]);
    expect(a.verdict).toBe('compliant');
    expect(a.reason).toBe('integrated with CloudWatch Logs and logging');
  });

  it('the codes tested here are exactly those findings.ts defines', () => {
    // A code added to findings.ts fails this test until it gets its own cases below.
    expect([...FINDING_CODES].sort()).toEqual(
      [
        'LOG_GROUP_ARN_MISSING',
        'LOG_GROUP_ARN_MALFORMED',
        'LOG_GROUP_ARN_FOREIGN',
        'LOG_GROUP_MISSING',
        'ROLE_ARN_MISSING',
        'ROLE_ARN_MALFORMED',
        'ROLE_ARN_FOREIGN',
        'ROLE_MISSING',
        'ROLE_TRUST_INVALID',
        'ROLE_PERMISSIONS_INSUFFICIENT',
        'LOGGING_STOPPED',
        'DELIVERY_ERROR',
        'DELIVERY_ROLE_NOT_ASSUMABLE',
        'DELIVERY_ACCESS_DENIED',
        'DELIVERY_LOG_GROUP_MISSING',
        'DELIVERY_KMS_KEY_DISABLED',
        'DELIVERY_KMS_ACCESS_DENIED',
        'DELIVERY_THROTTLED',
        'CIS_METRIC_FILTER_MISSING',
        'CIS_METRIC_FILTER_CHANGED',
        'CIS_ALARM_MISSING',
        'CIS_ALARM_CHANGED',
      ].sort(),
    );
  });
});

describe('LOG_GROUP_ARN_MISSING', () => {
  it('compliant: a log group ARN is set', () => {
    expect(codes(state())).not.toContain('LOG_GROUP_ARN_MISSING');
  });

  it('non-compliant: no log group ARN', () => {
    const s = state((s) => {
      delete s.trail.cloudWatchLogsLogGroupArn;
      delete s.logGroup;
    });
    const a = assess(s, config);
    expect(a.verdict).toBe('non-compliant');
    expect(a.findings).toEqual([
      {
        code: 'LOG_GROUP_ARN_MISSING',
        message: 'The trail is not integrated with CloudWatch Logs: it names no log group.',
        remediable: true,
      },
    ]);
    expect(a.reason).toBe('1 finding(s)');
  });

  it('non-compliant: an empty string, as the console sends to remove the integration', () => {
    expect(
      codes(
        state((s) => {
          s.trail.cloudWatchLogsLogGroupArn = '';
        }),
      ),
    ).toEqual(['LOG_GROUP_ARN_MISSING']);
  });
});

describe('LOG_GROUP_ARN_MALFORMED', () => {
  it('compliant: the :* form', () => {
    expect(codes(state())).not.toContain('LOG_GROUP_ARN_MALFORMED');
  });

  it('non-compliant: garbage', () => {
    const a = assess(
      state((s) => {
        s.trail.cloudWatchLogsLogGroupArn = 'not an arn';
      }),
      config,
    );
    expect(a.findings.map((f) => f.code)).toEqual(['LOG_GROUP_ARN_MALFORMED']);
    expect(a.findings[0]?.message).toContain('"not an arn" is not a CloudWatch Logs log group ARN');
  });

  it('non-compliant: an ARN of another service', () => {
    expect(
      codes(
        state((s) => {
          s.trail.cloudWatchLogsLogGroupArn = 'arn:aws:s3:::my-bucket';
        }),
      ),
    ).toEqual(['LOG_GROUP_ARN_MALFORMED']);
  });

  it('non-compliant: a log group ARN without the :* suffix', () => {
    const a = assess(
      state((s) => {
        s.trail.cloudWatchLogsLogGroupArn = GROUP_ARN.slice(0, -2);
      }),
      config,
    );
    expect(a.findings.map((f) => f.code)).toEqual(['LOG_GROUP_ARN_MALFORMED']);
    expect(a.findings[0]?.message).toContain('lacks the ":*" suffix');
    // The name is still understood, so the target keeps it.
    expect(a.target.logGroupName).toBe(GROUP);
    expect(a.target.logGroupArn).toBe(GROUP_ARN);
  });
});

describe('LOG_GROUP_ARN_FOREIGN', () => {
  it('compliant: own account, home region', () => {
    expect(codes(state())).not.toContain('LOG_GROUP_ARN_FOREIGN');
  });

  it('non-compliant: a log group in another account', () => {
    const a = assess(
      state((s) => {
        s.trail.cloudWatchLogsLogGroupArn = `arn:aws:logs:${REGION}:${OTHER}:log-group:${GROUP}:*`;
        delete s.logGroup;
      }),
      config,
    );
    expect(a.findings.map((f) => f.code)).toEqual(['LOG_GROUP_ARN_FOREIGN']);
    expect(a.findings[0]?.message).toContain(`account ${OTHER}`);
  });

  it('non-compliant: a log group in another region than the trail home region', () => {
    expect(
      codes(
        state((s) => {
          s.trail.cloudWatchLogsLogGroupArn = `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:${GROUP}:*`;
          delete s.logGroup;
        }),
      ),
    ).toEqual(['LOG_GROUP_ARN_FOREIGN']);
  });
});

describe('LOG_GROUP_MISSING', () => {
  it('compliant: the log group exists', () => {
    expect(codes(state())).not.toContain('LOG_GROUP_MISSING');
  });

  it('non-compliant: the log group does not exist', () => {
    const a = assess(
      state((s) => {
        s.logGroup = { name: GROUP, exists: false };
      }),
      config,
    );
    expect(a.findings).toEqual([
      {
        code: 'LOG_GROUP_MISSING',
        message: `The log group "${GROUP}" the trail delivers to does not exist.`,
        remediable: true,
      },
    ]);
  });

  it('non-compliant: missing and lacking the suffix are both reported', () => {
    expect(
      codes(
        state((s) => {
          s.trail.cloudWatchLogsLogGroupArn = GROUP_ARN.slice(0, -2);
          s.logGroup = { name: GROUP, exists: false };
        }),
      ),
    ).toEqual(['LOG_GROUP_ARN_MALFORMED', 'LOG_GROUP_MISSING']);
  });
});

describe('ROLE_ARN_MISSING', () => {
  it('compliant: a role ARN is set', () => {
    expect(codes(state())).not.toContain('ROLE_ARN_MISSING');
  });

  it('non-compliant: no role ARN', () => {
    expect(
      codes(
        state((s) => {
          delete s.trail.cloudWatchLogsRoleArn;
          delete s.role;
        }),
      ),
    ).toEqual(['ROLE_ARN_MISSING']);
  });
});

describe('ROLE_ARN_MALFORMED', () => {
  it('compliant: an IAM role ARN', () => {
    expect(codes(state())).not.toContain('ROLE_ARN_MALFORMED');
  });

  it.each([
    ['garbage', 'garbage'],
    ['a user ARN', `arn:aws:iam::${ACCOUNT}:user/ct-delivery`],
    ['"role" without a slash', `arn:aws:iam::${ACCOUNT}:rolect-delivery`],
  ])('non-compliant: %s', (_, value) => {
    const a = assess(
      state((s) => {
        s.trail.cloudWatchLogsRoleArn = value;
        delete s.role;
      }),
      config,
    );
    expect(a.findings.map((f) => f.code)).toEqual(['ROLE_ARN_MALFORMED']);
    expect(a.findings[0]?.message).toContain(`"${value}" is not an IAM role ARN`);
    expect(a.target.roleName).toBe(config.deliveryRoleName);
  });
});

describe('ROLE_ARN_FOREIGN', () => {
  it('compliant: a role in this account', () => {
    expect(codes(state())).not.toContain('ROLE_ARN_FOREIGN');
  });

  it('non-compliant: a role in another account', () => {
    const a = assess(
      state((s) => {
        s.trail.cloudWatchLogsRoleArn = `arn:aws:iam::${OTHER}:role/ct-delivery`;
        delete s.role;
      }),
      config,
    );
    expect(a.findings.map((f) => f.code)).toEqual(['ROLE_ARN_FOREIGN']);
    expect(a.findings[0]?.message).toContain(`account ${OTHER}`);
  });
});

describe('ROLE_MISSING', () => {
  it('compliant: the role exists', () => {
    expect(codes(state())).not.toContain('ROLE_MISSING');
  });

  it('non-compliant: the role does not exist', () => {
    const a = assess(
      state((s) => {
        s.role = { name: 'ct-delivery', arn: ROLE_ARN, exists: false, permissionPolicies: [] };
      }),
      config,
    );
    expect(a.findings).toEqual([
      { code: 'ROLE_MISSING', message: 'The delivery role "ct-delivery" does not exist.', remediable: true },
    ]);
  });

  it('non-compliant: the role was not read at all', () => {
    expect(
      codes(
        state((s) => {
          delete s.role;
        }),
      ),
    ).toEqual(['ROLE_MISSING']);
  });
});

describe('ROLE_TRUST_INVALID', () => {
  const cloudTrailAllow = (extra: Record<string, unknown> = {}) => ({
    Effect: 'Allow',
    Principal: { Service: 'cloudtrail.amazonaws.com' },
    Action: 'sts:AssumeRole',
    ...extra,
  });
  const withTrust = (...Statement: Record<string, unknown>[]) =>
    state((s) => {
      if (s.role) s.role.trustPolicy = { Version: '2012-10-17', Statement };
    });

  it('compliant: cloudtrail.amazonaws.com may assume it, with no condition', () => {
    expect(codes(state())).not.toContain('ROLE_TRUST_INVALID');
  });

  it('compliant: an unconditioned Allow next to a conditioned one', () => {
    expect(
      codes(
        withTrust(
          cloudTrailAllow({ Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } } }),
          cloudTrailAllow(),
        ),
      ),
    ).toEqual([]);
  });

  it.each([
    [
      'aws:SourceAccount of this account',
      { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
      ['aws:SourceAccount'],
    ],
    [
      'aws:SourceAccount of another account',
      { StringEquals: { 'aws:SourceAccount': OTHER } },
      ['aws:SourceAccount'],
    ],
    ['aws:SourceArn of this trail', { ArnEquals: { 'aws:SourceArn': TRAIL_ARN } }, ['aws:SourceArn']],
    [
      'aws:SourceArn of another trail',
      { ArnEquals: { 'aws:SourceArn': `${TRAIL_ARN}-other` } },
      ['aws:SourceArn'],
    ],
    [
      'both keys',
      {
        StringEquals: { 'aws:SourceAccount': ACCOUNT },
        ArnLike: { 'aws:SourceArn': `arn:aws:cloudtrail:*:${ACCOUNT}:trail/*` },
      },
      ['aws:SourceAccount', 'aws:SourceArn'],
    ],
  ])(
    'non-compliant: trust conditioned on %s (AWS does not support these keys for this role)',
    (_, Condition, keys) => {
      const a = assess(withTrust(cloudTrailAllow({ Condition })), config);
      expect(a.verdict).toBe('non-compliant');
      expect(a.findings.map((f) => f.code)).toEqual(['ROLE_TRUST_INVALID']);
      const [f] = a.findings;
      expect(f?.remediable).toBe(true);
      expect(f?.message).toMatch(
        /^The delivery role "ct-delivery" does not let cloudtrail\.amazonaws\.com assume it: .+\.$/,
      );
      for (const key of keys) expect(f?.message).toContain(key);
      expect(f?.message).toContain(AWS_PAGE);
    },
  );

  it('non-compliant: trust conditioned on another key; the message names it', () => {
    const a = assess(
      withTrust(cloudTrailAllow({ Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-abc1234567' } } })),
      config,
    );
    expect(a.findings.map((f) => f.code)).toEqual(['ROLE_TRUST_INVALID']);
    expect(a.findings[0]?.message).toContain('aws:PrincipalOrgID');
  });

  it.each([
    [
      'another service',
      { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ],
    ['another action', cloudTrailAllow({ Action: 'sts:TagSession' })],
    ['an AWS principal', cloudTrailAllow({ Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` } })],
  ])('non-compliant: %s', (_, statement) => {
    const a = assess(withTrust(statement), config);
    expect(a.findings.map((f) => f.code)).toEqual(['ROLE_TRUST_INVALID']);
    expect(a.findings[0]?.message).toBe(
      'The delivery role "ct-delivery" does not let cloudtrail.amazonaws.com assume it: no statement allows cloudtrail.amazonaws.com to call sts:AssumeRole.',
    );
  });

  it('non-compliant: a Deny for CloudTrail next to the documented Allow', () => {
    const a = assess(
      withTrust(cloudTrailAllow(), { Effect: 'Deny', Principal: '*', Action: 'sts:AssumeRole' }),
      config,
    );
    expect(a.findings).toEqual([
      {
        code: 'ROLE_TRUST_INVALID',
        message:
          'The delivery role "ct-delivery" does not let cloudtrail.amazonaws.com assume it: a Deny statement refuses sts:AssumeRole to cloudtrail.amazonaws.com.',
        remediable: true,
      },
    ]);
  });

  it('non-compliant: no trust policy read', () => {
    expect(
      codes(
        state((s) => {
          if (s.role) delete s.role.trustPolicy;
        }),
      ),
    ).toEqual(['ROLE_TRUST_INVALID']);
  });

  it('a role whose trust is conditioned is not kept as a working custom role', () => {
    // Baseline: the working custom role is kept. With a conditioned trust, it does not work: replaced.
    expect(targetOf(state(), config).roleName).toBe('ct-delivery');
    const t = targetOf(
      state((s) => {
        if (s.role)
          s.role.trustPolicy = {
            Version: '2012-10-17',
            Statement: [cloudTrailAllow({ Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } } })],
          };
      }),
      config,
    );
    expect(t.roleName).toBe(config.deliveryRoleName);
  });
});

describe('ROLE_PERMISSIONS_INSUFFICIENT', () => {
  it('compliant: the documented per-stream grant', () => {
    expect(codes(state())).not.toContain('ROLE_PERMISSIONS_INSUFFICIENT');
  });

  it('compliant: a broader grant on the log group, split over two policies', () => {
    const s = state((s) => {
      if (!s.role) return;
      s.role.permissionPolicies = [
        {
          name: 'a',
          document: {
            Statement: { Effect: 'Allow', Action: 'logs:CreateLogStream', Resource: `${GROUP_ARN}` },
          },
        },
        { name: 'b', document: { Statement: [{ Effect: 'Allow', Action: 'logs:Put*', Resource: '*' }] } },
      ];
    });
    expect(codes(s)).toEqual([]);
  });

  it.each([
    ['no policy at all', [], 'no policy allows it'],
    [
      'only PutLogEvents',
      [
        {
          name: 'p',
          document: { Statement: [{ Effect: 'Allow', Action: 'logs:PutLogEvents', Resource: STREAMS }] },
        },
      ],
      'no policy allows it',
    ],
    [
      'the right actions on another log group',
      [
        {
          name: 'p',
          document: {
            Statement: [
              {
                Effect: 'Allow',
                Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
                Resource: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:other:*`,
              },
            ],
          },
        },
      ],
      'no policy allows it',
    ],
    [
      'a grant cancelled by a Deny',
      [
        { name: 'p', document: structuredClone(validPermissions) },
        { name: 'd', document: { Statement: [{ Effect: 'Deny', Action: 'logs:*', Resource: '*' }] } },
      ],
      'a Deny statement in its policies refuses it',
    ],
    [
      'a grant whose Allow is conditioned',
      [
        {
          name: 'p',
          document: {
            Statement: [
              {
                ...validPermissions.Statement[0],
                Condition: { StringEquals: { 'aws:RequestedRegion': REGION } },
              },
            ],
          },
        },
      ],
      'no policy allows it',
    ],
  ])('non-compliant: %s', (_, policies, why) => {
    const a = assess(
      state((s) => {
        if (s.role) s.role.permissionPolicies = policies;
      }),
      config,
    );
    expect(a.findings).toEqual([
      {
        code: 'ROLE_PERMISSIONS_INSUFFICIENT',
        message: `The delivery role "ct-delivery" may not call logs:CreateLogStream and logs:PutLogEvents on the CloudTrail streams of "${GROUP}": ${why}.`,
        remediable: true,
      },
    ]);
  });

  it('compliant: attached managed and inline policies count alike', () => {
    const s = state((s) => {
      if (!s.role) return;
      s.role.permissionPolicies = [
        {
          name: 'AWSManagedLike',
          kind: 'managed',
          document: { Statement: [{ Effect: 'Allow', Action: 'logs:CreateLogStream', Resource: '*' }] },
        },
        {
          name: 'inline',
          kind: 'inline',
          document: { Statement: [{ Effect: 'Allow', Action: 'logs:PutLogEvents', Resource: STREAMS }] },
        },
      ];
    });
    expect(codes(s)).toEqual([]);
  });
});

describe('ROLE_PERMISSIONS_INSUFFICIENT: the permissions boundary', () => {
  const withBoundary = (...Statement: Record<string, unknown>[]) =>
    state((s) => {
      if (s.role)
        s.role.permissionsBoundary = { arn: BOUNDARY_ARN, document: { Version: '2012-10-17', Statement } };
    });

  it('compliant: a boundary that allows delivery', () => {
    expect(assess(withBoundary({ Effect: 'Allow', Action: 'logs:*', Resource: '*' }), config).verdict).toBe(
      'compliant',
    );
    expect(
      codes(
        withBoundary({
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: GROUP_ARN,
        }),
      ),
    ).toEqual([]);
  });

  it.each([
    ['allows other actions only', [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }]],
    [
      'denies delivery',
      [
        { Effect: 'Allow', Action: '*', Resource: '*' },
        { Effect: 'Deny', Action: 'logs:PutLogEvents', Resource: '*' },
      ],
    ],
    [
      'allows delivery only on a condition',
      [
        {
          Effect: 'Allow',
          Action: 'logs:*',
          Resource: '*',
          Condition: { StringEquals: { 'aws:RequestedRegion': REGION } },
        },
      ],
    ],
    ['has no statement', []],
  ])('non-compliant: a boundary that %s; the message names the boundary', (_, statements) => {
    const a = assess(withBoundary(...statements), config);
    expect(a.verdict).toBe('non-compliant');
    expect(a.findings).toEqual([
      {
        code: 'ROLE_PERMISSIONS_INSUFFICIENT',
        message: `The delivery role "ct-delivery" may not call logs:CreateLogStream and logs:PutLogEvents on the CloudTrail streams of "${GROUP}": its permissions boundary ${BOUNDARY_ARN} does not allow it.`,
        remediable: true,
      },
    ]);
  });

  it('a Deny in the policies is named before the boundary', () => {
    const s = withBoundary({ Effect: 'Allow', Action: 's3:*', Resource: '*' });
    s.role?.permissionPolicies.push({
      name: 'd',
      document: { Statement: [{ Effect: 'Deny', Action: 'logs:*', Resource: '*' }] },
    });
    expect(assess(s, config).findings[0]?.message).toMatch(
      /: a Deny statement in its policies refuses it\.$/,
    );
  });

  it('a role whose boundary refuses delivery is not kept as a working custom role', () => {
    expect(targetOf(withBoundary({ Effect: 'Allow', Action: 's3:*', Resource: '*' }), config).roleName).toBe(
      config.deliveryRoleName,
    );
  });

  it('non-compliant: permissions for the old log group when the trail names a foreign one', () => {
    // The target log group is then the default one, and the role must be able to deliver there.
    const s = state((s) => {
      s.trail.cloudWatchLogsLogGroupArn = `arn:aws:logs:${REGION}:${OTHER}:log-group:legacy:*`;
      delete s.logGroup;
      if (s.role)
        s.role.permissionPolicies = [
          {
            name: 'legacy',
            document: {
              Statement: [
                {
                  Effect: 'Allow',
                  Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
                  Resource: `arn:aws:logs:${REGION}:*:log-group:legacy:*`,
                },
              ],
            },
          },
        ];
    });
    expect(codes(s)).toEqual(['LOG_GROUP_ARN_FOREIGN', 'ROLE_PERMISSIONS_INSUFFICIENT']);
  });
});

describe('LOGGING_STOPPED', () => {
  it('compliant: logging', () => {
    expect(codes(state())).not.toContain('LOGGING_STOPPED');
  });

  it('non-compliant: not logging, and it is the critical finding', () => {
    const a = assess(
      state((s) => {
        s.status = { isLogging: false };
      }),
      config,
    );
    expect(a.findings).toEqual([
      {
        code: 'LOGGING_STOPPED',
        message: 'The trail is not logging: no events are being recorded.',
        remediable: true,
      },
    ]);
    expect(severityOf(a.findings)).toBe('CRITICAL');
  });
});

describe('DELIVERY_ERROR', () => {
  it('compliant: no delivery error', () => {
    expect(
      codes(
        state((s) => {
          s.status = { isLogging: true, latestCloudWatchLogsDeliveryTime: 'x' };
        }),
      ),
    ).toEqual([]);
  });

  it('non-compliant: an unclassified delivery error; a person must look', () => {
    const a = assess(
      state((s) => {
        s.status = { isLogging: true, latestCloudWatchLogsDeliveryError: 'InternalFailure' };
      }),
      config,
    );
    expect(a.verdict).toBe('non-compliant');
    expect(a.findings.map((f) => [f.code, f.remediable])).toEqual([['DELIVERY_ERROR', false]]);
    expect(a.findings[0]?.message).toContain('InternalFailure');
    expect(severityOf(a.findings)).toBe('HIGH');
  });

  it('classified: access denied on the log group is DELIVERY_ACCESS_DENIED, fixed by re-granting', () => {
    const a = assess(
      state((s) => {
        s.status = {
          isLogging: true,
          latestCloudWatchLogsDeliveryError:
            'AccessDeniedException: not authorized to perform logs:PutLogEvents',
        };
      }),
      config,
    );
    expect(a.findings.map((f) => [f.code, f.remediable])).toEqual([['DELIVERY_ACCESS_DENIED', true]]);
  });

  it('stale: an error first seen before the latest delivery is not a finding', () => {
    const error = (firstSeen: string, delivered: string) =>
      codes(
        state((s) => {
          s.status = {
            isLogging: true,
            latestCloudWatchLogsDeliveryError: 'ResourceNotFoundException',
            latestCloudWatchLogsDeliveryTime: delivered,
            deliveryErrorFirstSeenAt: firstSeen,
          };
        }),
      );
    expect(error('2026-11-29T10:00:00.000Z', '2026-11-29T10:05:00.000Z')).toEqual([]);
    expect(error('2026-11-29T10:05:00.000Z', '2026-11-29T10:00:00.000Z')).toEqual([
      'DELIVERY_LOG_GROUP_MISSING',
    ]);
  });
});

describe('CIS monitoring (cisMonitoring)', () => {
  const cis = parseConfig({ cisMonitoring: true });
  const TOPIC = `arn:aws:sns:${REGION}:${ACCOUNT}:alarms`;

  it('a monitored trail with no CIS filters and alarms: both missing, fixable', () => {
    const a = assess(state(), cis, { cisAlarmTopicArn: TOPIC });
    expect(a.findings.map((f) => [f.code, f.remediable])).toEqual([
      ['CIS_METRIC_FILTER_MISSING', true],
      ['CIS_ALARM_MISSING', true],
    ]);
    expect(a.findings[0]?.message).toContain(GROUP);
  });

  it('off by default, and only for multi-region trails whose log group exists', () => {
    expect(codes(state())).toEqual([]);
    const single = state((s) => {
      s.trail.isMultiRegionTrail = false;
    });
    expect(assess(single, cis, { cisAlarmTopicArn: TOPIC }).findings).toEqual([]);
    const gone = state((s) => {
      s.logGroup = { name: GROUP, exists: false };
    });
    expect(assess(gone, cis, { cisAlarmTopicArn: TOPIC }).findings.map((f) => f.code)).toEqual([
      'LOG_GROUP_MISSING',
    ]);
  });

  it('without an alarm topic the assessment refuses to guess', () => {
    expect(() => assess(state(), cis)).toThrow(InvalidInputError);
    expect(assess(state(), parseConfig({ cisMonitoring: true, cisAlarmTopicArn: TOPIC })).verdict).toBe(
      'non-compliant',
    );
  });
});

describe('several findings at once', () => {
  it('reports every problem, in a stable order', () => {
    const s = state((s) => {
      delete s.trail.cloudWatchLogsLogGroupArn;
      delete s.logGroup;
      s.trail.cloudWatchLogsRoleArn = 'bad';
      delete s.role;
      s.status = { isLogging: false, latestCloudWatchLogsDeliveryError: 'boom' };
    });
    const a = assess(s, config);
    expect(a.findings.map((f) => f.code)).toEqual([
      'LOG_GROUP_ARN_MISSING',
      'ROLE_ARN_MALFORMED',
      'LOGGING_STOPPED',
      'DELIVERY_ERROR',
    ]);
    expect(a.reason).toBe('4 finding(s)');
  });
});

describe('verdict: exempt', () => {
  const exemptBroken = (value: string) =>
    state((s) => {
      s.tags = { 'trailguard:exempt': value };
      s.status = { isLogging: false };
    });

  it('a trail tagged exempt is exempt, and its findings are still reported', () => {
    const a = assess(exemptBroken('true'), config);
    expect(a.verdict).toBe('exempt');
    expect(a.reason).toBe('tagged trailguard:exempt=true');
    expect(a.findings.map((f) => f.code)).toEqual(['LOGGING_STOPPED']);
  });

  it('the tag value is compared without case and surrounding blanks', () => {
    expect(assess(exemptBroken(' TRUE '), config).verdict).toBe('exempt');
  });

  it('another tag value is not an exemption', () => {
    expect(assess(exemptBroken('false'), config).verdict).toBe('non-compliant');
    expect(assess(exemptBroken('yes'), config).verdict).toBe('non-compliant');
  });

  it('a compliant trail tagged exempt is reported as exempt', () => {
    expect(
      assess(
        state((s) => {
          s.tags = { 'trailguard:exempt': 'true' };
        }),
        config,
      ).verdict,
    ).toBe('exempt');
  });

  it('the tag key and value come from the configuration', () => {
    const custom = parseConfig({ exemptTagKey: 'Compliance', exemptTagValue: 'waived' });
    expect(isExempt({ Compliance: 'Waived' }, custom)).toBe(true);
    expect(isExempt({ 'trailguard:exempt': 'true' }, custom)).toBe(false);
    expect(isExempt({}, custom)).toBe(false);
  });
});

describe('verdict: not ours', () => {
  it('a shadow copy of a multi-region trail homed elsewhere', () => {
    const s: TrailState = {
      region: 'us-west-2',
      accountId: ACCOUNT,
      partition: 'aws',
      trail: { ...state().trail, cloudWatchLogsLogGroupArn: undefined, cloudWatchLogsRoleArn: undefined },
      tags: {},
    };
    const a = assess(s, config);
    expect(a.verdict).toBe('not-ours');
    expect(a.findings).toEqual([]);
    expect(a.reason).toBe(
      'shadow copy of a multi-region trail whose home region is us-east-1; it is changed there',
    );
  });

  it('an organization trail owned by another account', () => {
    const s: TrailState = {
      region: REGION,
      accountId: ACCOUNT,
      partition: 'aws',
      trail: {
        name: 'org',
        trailArn: `arn:aws:cloudtrail:${REGION}:${OTHER}:trail/org`,
        homeRegion: REGION,
        isMultiRegionTrail: true,
        isOrganizationTrail: true,
      },
      tags: {},
    };
    const a = assess(s, config);
    expect(a.verdict).toBe('not-ours');
    expect(a.findings).toEqual([]);
    expect(a.reason).toBe(
      `organization trail owned by account ${OTHER}; it can only be changed from that account`,
    );
  });

  it('a trail of another account that is not an organization trail', () => {
    expect(
      notOursReason({
        region: REGION,
        accountId: ACCOUNT,
        trail: { ...state().trail, trailArn: `arn:aws:cloudtrail:${REGION}:${OTHER}:trail/main` },
      }),
    ).toBe(`trail owned by account ${OTHER}`);
  });

  it('is decided before the exemption tag', () => {
    const s = state((s) => {
      s.region = 'eu-west-1';
      s.tags = { 'trailguard:exempt': 'true' };
    });
    expect(assess(s, config).verdict).toBe('not-ours');
  });

  it('our own trail in its home region is ours', () => {
    expect(notOursReason(state())).toBeUndefined();
  });
});

describe('the target integration', () => {
  it('keeps a valid log group name and role, with its path', () => {
    const t = targetOf(
      state((s) => {
        s.trail.cloudWatchLogsRoleArn = `arn:aws:iam::${ACCOUNT}:role/service-role/mine`;
      }),
      config,
    );
    expect(t).toEqual({
      logGroupName: GROUP,
      logGroupArn: GROUP_ARN,
      roleName: 'mine',
      rolePath: '/service-role/',
      roleArn: `arn:aws:iam::${ACCOUNT}:role/service-role/mine`,
      streamResources: [STREAMS],
    });
  });

  it('falls back to the configured defaults when nothing is set', () => {
    const t = targetOf(
      state((s) => {
        delete s.trail.cloudWatchLogsLogGroupArn;
        delete s.trail.cloudWatchLogsRoleArn;
      }),
      config,
    );
    expect(t).toEqual({
      logGroupName: 'CloudTrail/main',
      logGroupArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:CloudTrail/main:*`,
      roleName: 'trailguard-cloudtrail-delivery',
      rolePath: '/',
      roleArn: `arn:aws:iam::${ACCOUNT}:role/trailguard-cloudtrail-delivery`,
      streamResources: [
        `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:CloudTrail/main:log-stream:${ACCOUNT}_CloudTrail_${REGION}*`,
      ],
    });
  });

  it('uses the configured template and role name', () => {
    const custom = parseConfig({
      logGroupNameTemplate: 'org/{account}/{region}/{trail}',
      deliveryRoleName: 'custom-delivery',
    });
    const t = targetOf(
      state((s) => {
        delete s.trail.cloudWatchLogsLogGroupArn;
        delete s.trail.cloudWatchLogsRoleArn;
      }),
      custom,
    );
    expect(t.logGroupName).toBe(`org/${ACCOUNT}/${REGION}/main`);
    expect(t.roleArn).toBe(`arn:aws:iam::${ACCOUNT}:role/custom-delivery`);
  });

  it('replaces foreign and malformed names with the defaults', () => {
    const t = targetOf(
      state((s) => {
        s.trail.cloudWatchLogsLogGroupArn = `arn:aws:logs:${REGION}:${OTHER}:log-group:theirs:*`;
        s.trail.cloudWatchLogsRoleArn = `arn:aws:iam::${OTHER}:role/theirs`;
      }),
      config,
    );
    expect(t.logGroupName).toBe('CloudTrail/main');
    expect(t.roleName).toBe('trailguard-cloudtrail-delivery');
    const g = targetOf(
      state((s) => {
        s.trail.cloudWatchLogsLogGroupArn = 'garbage';
      }),
      config,
    );
    expect(g.logGroupName).toBe('CloudTrail/main');
  });

  it('replaces a log group in another region than the trail home region', () => {
    const t = targetOf(
      state((s) => {
        s.trail.cloudWatchLogsLogGroupArn = `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:x:*`;
      }),
      config,
    );
    expect(t.logGroupArn).toBe(`arn:aws:logs:${REGION}:${ACCOUNT}:log-group:CloudTrail/main:*`);
  });

  it("adds the member accounts' streams for an organization trail, with the real organization id", () => {
    const t = targetOf(
      state((s) => {
        s.trail.isOrganizationTrail = true;
        s.organizationId = ORG_ID;
      }),
      config,
    );
    expect(t.streamResources).toEqual([STREAMS, ORG_STREAMS]);
  });

  it('builds ARNs in the partition and home region of the trail', () => {
    const t = targetOf(
      state((s) => {
        s.region = 'cn-north-1';
        s.partition = 'aws-cn';
        s.trail.homeRegion = 'cn-north-1';
        s.trail.trailArn = `arn:aws-cn:cloudtrail:cn-north-1:${ACCOUNT}:trail/main`;
        delete s.trail.cloudWatchLogsLogGroupArn;
        delete s.trail.cloudWatchLogsRoleArn;
      }),
      config,
    );
    expect(t.logGroupArn).toBe(`arn:aws-cn:logs:cn-north-1:${ACCOUNT}:log-group:CloudTrail/main:*`);
    expect(t.roleArn).toBe(`arn:aws-cn:iam::${ACCOUNT}:role/trailguard-cloudtrail-delivery`);
  });
});

describe('target: only what trailguard may manage is repaired in place', () => {
  const broken = (s: TrailState) => {
    s.role = { name: 'ct-delivery', arn: ROLE_ARN, exists: false, permissionPolicies: [] };
  };

  it('a working custom role is kept', () => {
    expect(targetOf(state(), config).roleName).toBe('ct-delivery');
  });

  it('a broken custom role that is not managed is replaced by the delivery role', () => {
    const t = targetOf(state(broken), config);
    expect(t.roleName).toBe(config.deliveryRoleName);
    expect(t.roleArn).toBe(`arn:aws:iam::${ACCOUNT}:role/${config.deliveryRoleName}`);
  });

  it('a broken role listed in managedRoleNames is repaired under its own name', () => {
    const managed = parseConfig({ managedRoleNames: ['ct-delivery'] });
    expect(targetOf(state(broken), managed).roleName).toBe('ct-delivery');
  });

  it('a broken role named like the delivery role keeps its path', () => {
    const t = targetOf(
      state((s) => {
        s.trail.cloudWatchLogsRoleArn = `arn:aws:iam::${ACCOUNT}:role/team/${config.deliveryRoleName}`;
        s.role = undefined;
      }),
      config,
    );
    expect(t.roleArn).toBe(`arn:aws:iam::${ACCOUNT}:role/team/${config.deliveryRoleName}`);
  });

  it('a missing log group inside the managed pattern is recreated under its own name', () => {
    const t = targetOf(
      state((s) => {
        s.logGroup = { name: GROUP, exists: false };
      }),
      config,
    );
    expect(t.logGroupName).toBe(GROUP);
  });

  it('a missing log group outside the managed pattern is replaced by the default name', () => {
    const t = targetOf(
      state((s) => {
        s.trail.cloudWatchLogsLogGroupArn = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:team-audit:*`;
        s.logGroup = { name: 'team-audit', exists: false };
      }),
      config,
    );
    expect(t.logGroupName).toBe('CloudTrail/main');
  });

  it('an existing log group outside the pattern is kept', () => {
    const t = targetOf(
      state((s) => {
        s.trail.cloudWatchLogsLogGroupArn = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:team-audit:*`;
        s.logGroup = { name: 'team-audit', exists: true };
      }),
      config,
    );
    expect(t.logGroupName).toBe('team-audit');
  });
});

describe('target: a working unmanaged role is kept only while the trail keeps its log group', () => {
  it('kept when only logging is stopped', () => {
    const t = targetOf(
      state((s) => {
        if (s.status) s.status.isLogging = false;
      }),
      config,
    );
    expect(t.roleName).toBe('ct-delivery');
  });

  it('replaced by the delivery role when the log group ARN must be rewritten (UpdateTrail would pass it)', () => {
    const t = targetOf(
      state((s) => {
        s.trail.cloudWatchLogsLogGroupArn = GROUP_ARN.replace(/:\*$/, '');
      }),
      config,
    );
    expect(t.logGroupName).toBe(GROUP);
    expect(t.roleName).toBe(config.deliveryRoleName);
  });

  it('kept in place when managed, even if the log group ARN is rewritten', () => {
    const t = targetOf(
      state((s) => {
        s.trail.cloudWatchLogsLogGroupArn = GROUP_ARN.replace(/:\*$/, '');
      }),
      parseConfig({ managedRoleNames: ['ct-delivery'] }),
    );
    expect(t.roleName).toBe('ct-delivery');
  });
});

describe('organization trails owned here', () => {
  const orgTrail = (change: (s: TrailState) => void = () => {}) =>
    state((s) => {
      s.trail.isOrganizationTrail = true;
      s.organizationId = ORG_ID;
      change(s);
    });
  const grant = (Resource: string[]) => [
    {
      name: 'delivery',
      document: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource }],
      },
    },
  ];

  it("target streams: the account's and o-ORGID_* of the real organization, never o-*", () => {
    const { streamResources } = assess(orgTrail(), config).target;
    expect(streamResources).toEqual([STREAMS, ORG_STREAMS]);
    expect(streamResources.some((r) => r.endsWith(':log-stream:o-*'))).toBe(false);
  });

  it('compliant: a role granting exactly the documented patterns (account and organization streams)', () => {
    const a = assess(
      orgTrail((s) => {
        if (s.role) s.role.permissionPolicies = grant([STREAMS, ORG_STREAMS]);
      }),
      config,
    );
    expect(a.findings).toEqual([]);
    expect(a.verdict).toBe('compliant');
  });

  it("non-compliant: a role granting only the account's streams", () => {
    const a = assess(orgTrail(), config);
    expect(a.findings.map((f) => f.code)).toEqual(['ROLE_PERMISSIONS_INSUFFICIENT']);
    expect(a.findings[0]?.message).toMatch(/: no policy allows it\.$/);
  });

  it("non-compliant: a role granting another organization's streams", () => {
    const other = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${GROUP}:log-stream:o-zzzzzzzzzz_*`;
    expect(
      codes(
        orgTrail((s) => {
          if (s.role) s.role.permissionPolicies = grant([STREAMS, other]);
        }),
      ),
    ).toEqual(['ROLE_PERMISSIONS_INSUFFICIENT']);
  });

  it('read without its organization id: InvalidInputError, not a guess', () => {
    const s = orgTrail((s) => {
      delete s.organizationId;
    });
    expect(() => assess(s, config)).toThrow(InvalidInputError);
    expect(() => assess(s, config)).toThrow(/organization id/);
    expect(() => targetOf(s, config)).toThrow(InvalidInputError);
  });

  it('a malformed organization id is refused', () => {
    expect(() =>
      assess(
        orgTrail((s) => {
          s.organizationId = 'o-*';
        }),
        config,
      ),
    ).toThrow(/not an AWS Organizations id/);
  });

  it('an organization trail owned by another account needs no id: it is not ours', () => {
    const s = orgTrail((s) => {
      delete s.organizationId;
      s.trail.trailArn = `arn:aws:cloudtrail:${REGION}:${OTHER}:trail/org`;
    });
    expect(assess(s, config).verdict).toBe('not-ours');
  });
});
