import { describe, expect, it } from 'vitest';
import * as z from '../../../policies/zod.js';
import {
  isReservedTagKey,
  type LogGroupSnapshot,
  LogGroupSnapshotSchema,
  sameMetricFilter,
  samePolicyDocument,
  sameSubscriptionFilter,
  snapshotItems,
} from '../../../services/domain/log-group-snapshot.js';

const ACCOUNT = '111122223333';
const REGION = 'eu-west-2';
const TRAIL_ARN = `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/main`;
const KMS = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const STREAM = `arn:aws:kinesis:${REGION}:${ACCOUNT}:stream/siem`;
const POLICY = JSON.stringify({
  Name: 'mask-emails',
  Version: '2021-06-01',
  Statement: [
    {
      Sid: 'audit',
      DataIdentifier: ['arn:aws:dataprotection::aws:data-identifier/EmailAddress'],
      Operation: { Audit: { FindingsDestination: {} } },
    },
    {
      Sid: 'redact',
      DataIdentifier: ['arn:aws:dataprotection::aws:data-identifier/EmailAddress'],
      Operation: { Deidentify: { MaskConfig: {} } },
    },
  ],
});

function snapshot(overrides: Partial<LogGroupSnapshot> = {}): LogGroupSnapshot {
  return {
    trailArn: TRAIL_ARN,
    logGroupName: 'CloudTrail/main',
    takenAt: '2025-06-01T12:00:00.000Z',
    retentionInDays: 400,
    kmsKeyId: KMS,
    tags: { team: 'sec', 'trailguard:managed': 'true' },
    metricFilters: [
      {
        filterName: 'UnauthorizedAPICalls',
        filterPattern: '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }',
        metricTransformations: [
          {
            metricName: 'UnauthorizedAPICalls',
            metricNamespace: 'CISBenchmark',
            metricValue: '1',
            defaultValue: 0,
          },
        ],
      },
      {
        filterName: 'RootUsage',
        filterPattern: '{ $.userIdentity.type = "Root" }',
        metricTransformations: [
          {
            metricName: 'RootUsage',
            metricNamespace: 'CISBenchmark',
            metricValue: '1',
            unit: 'Count',
            dimensions: { account: '$.recipientAccountId' },
          },
        ],
      },
    ],
    subscriptionFilters: [
      {
        filterName: 'to-siem',
        filterPattern: '',
        destinationArn: STREAM,
        roleArn: `arn:aws:iam::${ACCOUNT}:role/cwl-to-kinesis`,
        distribution: 'ByLogStream',
      },
    ],
    dataProtectionPolicy: POLICY,
    unreadable: [],
    ...overrides,
  };
}

describe('LogGroupSnapshotSchema', () => {
  it('round-trips a full snapshot through JSON unchanged', () => {
    const s = snapshot();
    expect(LogGroupSnapshotSchema.parse(JSON.parse(JSON.stringify(s)))).toEqual(s);
  });

  it('round-trips a bare group (never expires, no key, no tags, no filters, a gap it could not read)', () => {
    const s: LogGroupSnapshot = {
      trailArn: TRAIL_ARN,
      logGroupName: 'bare',
      takenAt: '2025-06-01T12:00:00.000Z',
      tags: {},
      metricFilters: [],
      subscriptionFilters: [],
      unreadable: [{ item: 'data protection policy', reason: 'the endpoint does not support it' }],
    };
    expect(LogGroupSnapshotSchema.parse(JSON.parse(JSON.stringify(s)))).toEqual(s);
  });

  it('rejects what is not a snapshot', () => {
    const bad: unknown[] = [
      { ...snapshot(), takenAt: 'yesterday' },
      { ...snapshot(), retentionInDays: 0 },
      { ...snapshot(), trailArn: '' },
      { ...snapshot(), tags: { team: 7 } },
      { ...snapshot(), metricFilters: [{ filterName: 'x', filterPattern: '', metricTransformations: [] }] },
      { ...snapshot(), subscriptionFilters: [{ filterName: 'x', filterPattern: '' }] },
      { ...snapshot(), unreadable: undefined },
    ];
    for (const value of bad) expect(LogGroupSnapshotSchema.safeParse(value).success).toBe(false);
  });

  it('holds no secret-looking field, and drops any it is given', () => {
    const secretLooking = /secret|password|passphrase|token|credential|private|session|access.?key/i;
    const fields: string[] = [];
    const walk = (schema: z.core.$ZodType, path: string): void => {
      if (schema instanceof z.core.$ZodOptional) walk(schema._zod.def.innerType, path);
      else if (schema instanceof z.core.$ZodArray) walk(schema._zod.def.element, `${path}[]`);
      else if (schema instanceof z.core.$ZodRecord) walk(schema._zod.def.valueType, `${path}{}`);
      else if (schema instanceof z.core.$ZodObject) {
        for (const [key, inner] of Object.entries(schema._zod.def.shape)) {
          fields.push(`${path}.${key}`);
          walk(inner, `${path}.${key}`);
        }
      }
    };
    walk(LogGroupSnapshotSchema, 'snapshot');
    expect(fields).toContain('snapshot.metricFilters[].metricTransformations[].metricName');
    expect(fields.filter((f) => secretLooking.test(f))).toEqual([]);

    const parsed = LogGroupSnapshotSchema.parse({
      ...snapshot(),
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE',
    });
    expect(JSON.stringify(parsed)).not.toMatch(/EXAMPLE/);
  });
});

describe('snapshotItems', () => {
  it('lists what the snapshot holds, in words for people', () => {
    expect(snapshotItems(snapshot())).toEqual([
      'retention 400 days',
      `KMS key ${KMS}`,
      'tag team=sec',
      'tag trailguard:managed=true',
      'metric filter UnauthorizedAPICalls',
      'metric filter RootUsage',
      `subscription filter to-siem -> ${STREAM}`,
      'data protection policy',
    ]);
  });

  it('says when events never expire and leaves out what the group did not have', () => {
    const s = snapshot({ tags: {}, metricFilters: [], subscriptionFilters: [] });
    delete s.retentionInDays;
    delete s.kmsKeyId;
    delete s.dataProtectionPolicy;
    expect(snapshotItems(s)).toEqual(['retention never expire']);
  });

  it('names a log group class only when it is not the standard one', () => {
    expect(snapshotItems(snapshot({ logGroupClass: 'STANDARD' }))).not.toContain('log group class STANDARD');
    expect(snapshotItems(snapshot({ logGroupClass: 'INFREQUENT_ACCESS' }))).toContain(
      'log group class INFREQUENT_ACCESS',
    );
  });

  it('does not list the items the snapshot could not read', () => {
    const s = snapshot({ unreadable: [{ item: 'data protection policy', reason: 'not supported' }] });
    delete s.dataProtectionPolicy;
    expect(snapshotItems(s)).not.toContain('data protection policy');
  });
});

describe('comparisons', () => {
  const [metric] = snapshot().metricFilters;
  const [subscription] = snapshot().subscriptionFilters;

  it('compares metric filters by content, not key order', () => {
    if (!metric) throw new Error('fixture');
    const reordered = JSON.parse(
      JSON.stringify({
        metricTransformations: metric.metricTransformations,
        filterPattern: metric.filterPattern,
        filterName: metric.filterName,
      }),
    );
    expect(sameMetricFilter(metric, reordered)).toBe(true);
    expect(sameMetricFilter(metric, { ...metric, filterPattern: '' })).toBe(false);
    expect(
      sameMetricFilter(metric, {
        ...metric,
        metricTransformations: [{ ...metric.metricTransformations[0], metricValue: '2' } as never],
      }),
    ).toBe(false);
  });

  it("treats a subscription filter without distribution as AWS's default, ByLogStream", () => {
    if (!subscription) throw new Error('fixture');
    const { distribution: _, ...withoutDistribution } = subscription;
    expect(sameSubscriptionFilter(subscription, withoutDistribution)).toBe(true);
    expect(sameSubscriptionFilter({ ...subscription, distribution: 'Random' }, withoutDistribution)).toBe(
      false,
    );
    expect(sameSubscriptionFilter(subscription, { ...subscription, destinationArn: `${STREAM}-2` })).toBe(
      false,
    );
  });

  it('compares policy documents as JSON', () => {
    expect(samePolicyDocument(POLICY, JSON.stringify(JSON.parse(POLICY), null, 2))).toBe(true);
    expect(samePolicyDocument(POLICY, undefined)).toBe(false);
    expect(samePolicyDocument(undefined, undefined)).toBe(true);
    expect(samePolicyDocument('not json', 'not json')).toBe(true);
  });

  it('knows the aws: tag prefix is reserved, in any case', () => {
    expect(isReservedTagKey('aws:cloudformation:stack-name')).toBe(true);
    expect(isReservedTagKey('AWS:Thing')).toBe(true);
    expect(isReservedTagKey('trailguard:managed')).toBe(false);
  });
});
