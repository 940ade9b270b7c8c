/**
 * The stack's EventBridge rules against real pattern matching: each synthesized pattern (own roles resolved to
 * a test ARN) is put on a moto event bus with an SQS target, the sample events are sent, and what moto
 * delivers must be exactly what each rule is meant to match; the local matcher (used by replay) must agree.
 * Then DeleteTrail end to end through replay: the trail is gone, the run is skipped, emailed and audited.
 */
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureAuditTable, listAuditRecords } from '../../services/aws/audit-store.js';
import { ensureTopic } from '../../services/aws/notifier.js';
import { ensureStateTable, localStateTableName } from '../../services/aws/state-store.js';
import { type EventPattern, matchesEventPattern } from '../../services/domain/event-pattern.js';
import { replayEvent } from '../../services/local/replay.js';
import { type RulePattern, rulePatterns } from '../../services/local/workflow-runner.js';
import { ACCOUNT, emulatorNotifications, REGION, resetEmulator, testClients } from '../support/aws.js';
import { deliveredByMoto as deliveredOnBus } from '../support/event-bus.js';
import { adminEvent, type SampleName, sampleEvent } from '../support/events.js';

/** The guardrail's own role in the fixtures (own-update-trail.json's session issuer). */
const OWN = `arn:aws:iam::${ACCOUNT}:role/trailguard-remediator`;
const CALL = 'AWS API Call via CloudTrail';

const identity = {
  admin: {
    type: 'AssumedRole',
    arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/alice`,
    sessionContext: { sessionIssuer: { type: 'Role', arn: `arn:aws:iam::${ACCOUNT}:role/Admin` } },
  },
  root: { type: 'Root', arn: `arn:aws:iam::${ACCOUNT}:root` },
  iamUser: { type: 'IAMUser', arn: `arn:aws:iam::${ACCOUNT}:user/bob` },
  own: {
    type: 'AssumedRole',
    arn: `arn:aws:sts::${ACCOUNT}:assumed-role/trailguard-remediator/fn`,
    sessionContext: { sessionIssuer: { type: 'Role', arn: OWN } },
  },
};
type Who = keyof typeof identity;

type Rule = 'Trigger' | 'DependencyTrigger';

interface Sample {
  name: string;
  source: string;
  detailType: string;
  detail: Record<string, unknown>;
  /** The rule that must match it, or none. */
  expected: Rule | null;
}

const SOURCES: Record<string, string> = {
  'cloudtrail.amazonaws.com': 'aws.cloudtrail',
  'logs.amazonaws.com': 'aws.logs',
  'iam.amazonaws.com': 'aws.iam',
  's3.amazonaws.com': 'aws.s3',
  'monitoring.amazonaws.com': 'aws.monitoring',
};

function call(
  expected: Rule | null,
  eventSource: string,
  eventName: string,
  who: Who,
  extra: Record<string, unknown> = {},
): Sample {
  return {
    name: `${eventName} by ${who}${extra.errorCode ? ` failing ${String(extra.errorCode)}` : ''}${extra.readOnly ? ' (read)' : ''}`,
    source: SOURCES[eventSource] ?? 'aws.unknown',
    detailType: CALL,
    detail: {
      eventSource,
      eventName,
      awsRegion: REGION,
      userIdentity: identity[who],
      eventID: `id-${eventName}-${who}`,
      ...extra,
    },
    expected,
  };
}

function fixture(name: SampleName, expected: Rule | null): Sample {
  const event = sampleEvent(name) as {
    source: string;
    'detail-type': string;
    detail: Record<string, unknown>;
  };
  return {
    name: `fixture ${name}`,
    source: event.source,
    detailType: event['detail-type'],
    detail: event.detail,
    expected,
  };
}

const CT = 'cloudtrail.amazonaws.com';
const LOGS = 'logs.amazonaws.com';
const IAM = 'iam.amazonaws.com';
const trail = { requestParameters: { name: 'main' } };
const group = { requestParameters: { logGroupName: 'CloudTrail/main' } };
const role = { requestParameters: { roleName: 'trailguard-cloudtrail-delivery' } };

const samples: Sample[] = [
  // The sample events.
  fixture('create-trail', 'Trigger'),
  fixture('stop-logging', 'Trigger'),
  fixture('update-trail-remove-cloudwatch', 'Trigger'),
  fixture('own-update-trail', null),
  // Trail changes by every kind of caller (root and IAM users have no session issuer).
  call('Trigger', CT, 'DeleteTrail', 'admin', trail),
  call('Trigger', CT, 'StopLogging', 'root', trail),
  call('Trigger', CT, 'UpdateTrail', 'iamUser', trail),
  call('Trigger', CT, 'CreateTrail', 'iamUser', trail),
  // Changes from the other side.
  call('DependencyTrigger', LOGS, 'DeleteLogGroup', 'admin', group),
  call('DependencyTrigger', LOGS, 'DeleteLogGroup', 'root', group),
  call('DependencyTrigger', IAM, 'DeleteRole', 'iamUser', role),
  call('DependencyTrigger', IAM, 'DeleteRolePolicy', 'admin', role),
  call('DependencyTrigger', IAM, 'PutRolePolicy', 'root', role),
  call('DependencyTrigger', IAM, 'AttachRolePolicy', 'admin', role),
  call('DependencyTrigger', IAM, 'DetachRolePolicy', 'admin', role),
  call('DependencyTrigger', IAM, 'UpdateAssumeRolePolicy', 'iamUser', role),
  // The guardrail's own calls, for every API it calls that changes something, and a DeleteLogGroup.
  call(null, CT, 'UpdateTrail', 'own', trail),
  call(null, CT, 'StartLogging', 'own', trail),
  call(null, CT, 'CreateTrail', 'own', trail),
  call(null, CT, 'DeleteTrail', 'own', trail),
  call(null, CT, 'StopLogging', 'own', trail),
  call(null, LOGS, 'CreateLogGroup', 'own', group),
  call(null, LOGS, 'PutRetentionPolicy', 'own', group),
  call(null, LOGS, 'TagResource', 'own', group),
  call(null, LOGS, 'TagLogGroup', 'own', group),
  call(null, LOGS, 'DeleteLogGroup', 'own', group),
  call(null, IAM, 'CreateRole', 'own', role),
  call(null, IAM, 'TagRole', 'own', role),
  call(null, IAM, 'PutRolePolicy', 'own', role),
  call(null, IAM, 'UpdateAssumeRolePolicy', 'own', role),
  // Read-only calls, harmless changes, failed calls and other sources.
  call(null, CT, 'GetTrail', 'admin', { ...trail, readOnly: true }),
  call(null, CT, 'DescribeTrails', 'admin', { readOnly: true }),
  call(null, CT, 'GetTrailStatus', 'admin', { ...trail, readOnly: true }),
  call(null, CT, 'StartLogging', 'admin', trail),
  call(null, IAM, 'GetRole', 'admin', { ...role, readOnly: true }),
  call(null, IAM, 'ListRolePolicies', 'admin', { ...role, readOnly: true }),
  call(null, LOGS, 'CreateLogGroup', 'admin', group),
  call(null, LOGS, 'DeleteLogStream', 'admin', group),
  call(null, IAM, 'DeleteRole', 'admin', { ...role, errorCode: 'DeleteConflictException' }),
  call(null, LOGS, 'DeleteLogGroup', 'admin', { ...group, errorCode: 'AccessDenied' }),
  call(null, 's3.amazonaws.com', 'PutObject', 'admin', { requestParameters: { bucketName: 'b' } }),
  {
    name: 'scheduled event',
    source: 'aws.events',
    detailType: 'Scheduled Event',
    detail: {},
    expected: null,
  },
];

let rules: RulePattern[];
beforeAll(async () => {
  rules = await rulePatterns(OWN);
  expect(new Set(samples.map((s) => s.name)).size).toBe(samples.length);
});

/** What moto's EventBridge delivers of the samples for a pattern. */
function deliveredByMoto(pattern: EventPattern): Promise<string[]> {
  return deliveredOnBus(pattern, samples);
}

function matchedLocally(pattern: EventPattern): string[] {
  return samples
    .filter((s) =>
      matchesEventPattern(pattern, {
        source: s.source,
        'detail-type': s.detailType,
        account: ACCOUNT,
        region: REGION,
        detail: s.detail,
      }),
    )
    .map((s) => s.name)
    .sort();
}

describe('the synthesized rules on EventBridge (moto)', () => {
  beforeEach(resetEmulator);

  for (const name of ['Trigger', 'DependencyTrigger'] as const) {
    it(`${name}: delivers exactly the events it is meant to`, async () => {
      const pattern = rules.find((r) => r.rule === name)?.pattern;
      if (!pattern) throw new Error(`no rule ${name}`);
      const expected = samples
        .filter((s) => s.expected === name)
        .map((s) => s.name)
        .sort();
      expect(expected.length).toBeGreaterThan(3);
      expect(await deliveredByMoto(pattern)).toEqual(expected);
      expect(matchedLocally(pattern)).toEqual(expected);
    });
  }

  it("no event is matched by both rules, and the guardrail's own calls by neither", () => {
    const [trigger, dependency] = rules;
    for (const s of samples) {
      const event = { source: s.source, 'detail-type': s.detailType, detail: s.detail };
      const matched = [trigger, dependency].filter((r) => r && matchesEventPattern(r.pattern, event));
      expect(matched.length, s.name).toBeLessThanOrEqual(1);
      if (s.detail.userIdentity === identity.own) expect(matched, s.name).toEqual([]);
    }
  });
});

describe('cisMonitoring: the dependency rule also watches metric filters and alarms', () => {
  beforeEach(resetEmulator);
  const MONITORING = 'monitoring.amazonaws.com';
  const filter = {
    requestParameters: { logGroupName: 'CloudTrail/main', filterName: 'trailguard-cis-4.3-x' },
  };
  const alarm = { requestParameters: { alarmName: 'trailguard-cis-4.3-x' } };
  const alarms = { requestParameters: { alarmNames: ['trailguard-cis-4.3-x', 'other'] } };
  const changes: Sample[] = [
    call('DependencyTrigger', LOGS, 'DeleteMetricFilter', 'admin', filter),
    call('DependencyTrigger', LOGS, 'PutMetricFilter', 'root', filter),
    call('DependencyTrigger', MONITORING, 'DeleteAlarms', 'admin', alarms),
    call('DependencyTrigger', MONITORING, 'PutMetricAlarm', 'iamUser', alarm),
    // The guardrail's own repairs, failed calls and reads.
    call(null, LOGS, 'PutMetricFilter', 'own', filter),
    call(null, MONITORING, 'PutMetricAlarm', 'own', alarm),
    call(null, MONITORING, 'DeleteAlarms', 'admin', { ...alarms, errorCode: 'ResourceNotFound' }),
    call(null, MONITORING, 'DescribeAlarms', 'admin', { readOnly: true }),
    call(null, MONITORING, 'DisableAlarmActions', 'admin', alarms),
  ];

  it('with cisMonitoring: PutMetricFilter/DeleteMetricFilter and PutMetricAlarm/DeleteAlarms by anyone else; without: none', async () => {
    const on = (await rulePatterns(OWN, { config: { cisMonitoring: true } })).find(
      (r) => r.rule === 'DependencyTrigger',
    )?.pattern;
    const off = rules.find((r) => r.rule === 'DependencyTrigger')?.pattern;
    if (!on || !off) throw new Error('no dependency rule');
    const expected = changes
      .filter((c) => c.expected)
      .map((c) => c.name)
      .sort();
    expect(await deliveredOnBus(on, changes)).toEqual(expected);
    expect(await deliveredOnBus(off, changes)).toEqual([]);
    // The pattern still delivers what it did before.
    expect(await deliveredOnBus(on, samples)).toEqual(await deliveredOnBus(off, samples));
  });
});

describe('DeleteTrail end to end (replay)', () => {
  const clients = testClients();
  const TABLE = 'trailguard-audit';

  beforeEach(async () => {
    await resetEmulator();
    await ensureTopic(clients, 'trailguard-notifications');
    await ensureAuditTable(clients, TABLE);
    await ensureStateTable(clients, localStateTableName({ auditTableName: TABLE }));
  });

  it.each([
    ['by name', 'retired-trail'],
    ['by ARN', `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/retired-trail`],
  ])(
    '%s: the trail is gone, so the run is skipped, emailed with who did it, and audited',
    async (_, trailId) => {
      const event = adminEvent('DeleteTrail', trailId);
      const result = await replayEvent(event, { clients, ownRoleArn: OWN });
      expect(result.outcome).toBe('skipped');
      expect(result.reason).toBe('trail no longer exists');
      expect(result.actions).toEqual([]);
      expect(result.states).toEqual(['Check', 'Decide', 'Notify', 'UpdateFindings', 'Audit', 'Done']);

      const mails = await emulatorNotifications();
      expect(mails).toHaveLength(1);
      expect(mails[0]?.subject).toBe(`[trailguard] SKIPPED: trail retired-trail (${REGION})`);
      expect(mails[0]?.messageAttributes.outcome?.Value).toBe('skipped');
      expect(mails[0]?.message).toContain('trail no longer exists');
      expect(mails[0]?.message).toContain('DeleteTrail');
      expect(mails[0]?.message).toContain(
        (event.detail as { userIdentity: { arn: string } }).userIdentity.arn,
      );

      const records = await listAuditRecords(clients, TABLE, { trail: trailId });
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({ outcome: 'skipped', executionId: result.executionId });
    },
  );

  it("the guardrail's own DeleteTrail is ignored (it never deletes, and would not trigger itself)", async () => {
    const event = adminEvent('DeleteTrail', 'retired-trail', { userIdentity: identity.own });
    const result = await replayEvent(event, { clients, ownRoleArn: OWN });
    expect(result.outcome).toBe('ignored');
    expect(await emulatorNotifications()).toEqual([]);
  });
});
