/**
 * Cross-checks the local event-pattern matcher against moto's EventBridge (rule + SQS target, real pattern
 * matching): for each pattern and event, the local verdict must equal what moto delivers.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { type EventPattern, matchesEventPattern } from '../../services/domain/event-pattern.js';
import { REGION, resetEmulator } from '../support/aws.js';
import { deliveredByMoto as deliveredOnBus } from '../support/event-bus.js';

interface Sample {
  name: string;
  source: string;
  detailType: string;
  detail: Record<string, unknown>;
}

const admin = { sessionContext: { sessionIssuer: { arn: 'arn:aws:iam::123456789012:role/Admin' } } };
const own = {
  sessionContext: { sessionIssuer: { arn: 'arn:aws:iam::123456789012:role/trailguard-remediator' } },
};
const call = 'AWS API Call via CloudTrail';
const samples: Sample[] = [
  {
    name: 'update by admin',
    source: 'aws.cloudtrail',
    detailType: call,
    detail: { eventSource: 'cloudtrail.amazonaws.com', eventName: 'UpdateTrail', userIdentity: admin },
  },
  {
    name: 'update by own role',
    source: 'aws.cloudtrail',
    detailType: call,
    detail: { eventSource: 'cloudtrail.amazonaws.com', eventName: 'UpdateTrail', userIdentity: own },
  },
  {
    name: 'root user (no session)',
    source: 'aws.cloudtrail',
    detailType: call,
    detail: {
      eventSource: 'cloudtrail.amazonaws.com',
      eventName: 'StopLogging',
      userIdentity: { type: 'Root' },
    },
  },
  {
    name: 'read-only call',
    source: 'aws.cloudtrail',
    detailType: call,
    detail: {
      eventSource: 'cloudtrail.amazonaws.com',
      eventName: 'GetTrail',
      readOnly: true,
      userIdentity: admin,
    },
  },
  {
    name: 'other source',
    source: 'aws.s3',
    detailType: call,
    detail: { eventSource: 's3.amazonaws.com', eventName: 'PutObject', userIdentity: admin },
  },
  {
    name: 'logs delete',
    source: 'aws.logs',
    detailType: call,
    detail: {
      eventSource: 'logs.amazonaws.com',
      eventName: 'DeleteLogGroup',
      userIdentity: admin,
      requestParameters: { logGroupName: 'CloudTrail/x' },
    },
  },
  {
    name: 'numbers',
    source: 'aws.cloudtrail',
    detailType: call,
    detail: { eventSource: 'cloudtrail.amazonaws.com', eventName: 'CreateTrail', size: 7, tags: ['a', 'b'] },
  },
];

const patterns: Record<string, EventPattern> = {
  trigger: {
    source: ['aws.cloudtrail'],
    'detail-type': [call],
    detail: {
      eventSource: ['cloudtrail.amazonaws.com'],
      eventName: ['CreateTrail', 'UpdateTrail', 'StopLogging'],
      userIdentity: {
        sessionContext: {
          sessionIssuer: {
            arn: [{ 'anything-but': ['arn:aws:iam::123456789012:role/trailguard-remediator'] }],
          },
        },
      },
    },
  },
  'trigger, own role excluded without dropping callers that have no session issuer': {
    source: ['aws.cloudtrail'],
    detail: {
      eventName: ['CreateTrail', 'UpdateTrail', 'StopLogging'],
      $or: [
        { userIdentity: { sessionContext: { sessionIssuer: { arn: [{ exists: false }] } } } },
        {
          userIdentity: {
            sessionContext: {
              sessionIssuer: {
                arn: [{ 'anything-but': ['arn:aws:iam::123456789012:role/trailguard-remediator'] }],
              },
            },
          },
        },
      ],
    },
  },
  'prefix and exists': { source: [{ prefix: 'aws.c' }], detail: { readOnly: [{ exists: false }] } },
  'anything-but prefix': { detail: { eventName: [{ 'anything-but': { prefix: 'Get' } }] } },
  'numeric and array': { detail: { size: [{ numeric: ['>', 5, '<=', 7] }], tags: ['b'] } },
  or: { $or: [{ source: ['aws.logs'] }, { detail: { eventName: ['GetTrail'] } }] },
  suffix: { detail: { eventSource: [{ suffix: 'trail.amazonaws.com' }] } },
};

/** What moto's EventBridge delivers of the samples for a pattern. */
async function deliveredByMoto(pattern: EventPattern): Promise<Set<string>> {
  return new Set(await deliveredOnBus(pattern, samples));
}

function matchedLocally(pattern: EventPattern): Set<string> {
  return new Set(
    samples
      .filter((s) =>
        matchesEventPattern(pattern, {
          source: s.source,
          'detail-type': s.detailType,
          account: '123456789012',
          region: REGION,
          detail: s.detail,
        }),
      )
      .map((s) => s.name),
  );
}

describe('local event-pattern matcher agrees with EventBridge (moto)', () => {
  beforeEach(resetEmulator);
  for (const [name, pattern] of Object.entries(patterns)) {
    it(name, async () => {
      const local = matchedLocally(pattern);
      expect(local.size).toBeGreaterThan(0);
      expect(local.size).toBeLessThan(samples.length);
      expect([...(await deliveredByMoto(pattern))].sort()).toEqual([...local].sort());
    });
  }
  it('the trigger pattern matches the admin update and not the own-role update', () => {
    const local = matchedLocally(patterns.trigger ?? {});
    expect(local.has('update by admin')).toBe(true);
    expect(local.has('update by own role')).toBe(false);
    expect(local.has('read-only call')).toBe(false);
    // anything-but needs the field: a caller with no session issuer (root, IAM user) is NOT matched...
    expect(local.has('root user (no session)')).toBe(false);
  });
  it('...which the $or form of the exclusion fixes', () => {
    const local = matchedLocally(
      patterns['trigger, own role excluded without dropping callers that have no session issuer'] ?? {},
    );
    expect([...local].sort()).toEqual(['numbers', 'root user (no session)', 'update by admin']);
  });
});
