/**
 * End to end (issue "Prove delivery and bring the monitoring back"), against moto through the stack's rules
 * and the synthesized state machine:
 * - with cisMonitoring on, a trail's log group that is deleted comes back whole: the sweep's snapshot (retention,
 *   tags, the team's metric filter, a subscription filter) and the CIS metric filters with their exact patterns
 *   and alarms, every item listed in the email and the audit record;
 * - a CIS filter or alarm deleted by someone is caught by the dependency rule and repaired; another filter is not
 *   trailguard's business;
 * - the delivery check after a remediated run: confirmed (recorded, no email) or not (a DELIVERY NOT CONFIRMED
 *   email and a record), and a stale delivery error is not reported again by the sweep.
 * moto never delivers CloudTrail events and reports no delivery time or error: GetTrailStatus's delivery fields
 * are injected at the SDK layer where a test needs them (named so).
 */
import { GetTrailStatusCommand } from '@aws-sdk/client-cloudtrail';
import { DeleteAlarmsCommand, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  DeleteLogGroupCommand,
  DeleteMetricFilterCommand,
  DescribeLogGroupsCommand,
  DescribeMetricFiltersCommand,
  DescribeSubscriptionFiltersCommand,
  ListTagsForResourceCommand,
  PutMetricFilterCommand,
  PutRetentionPolicyCommand,
  PutSubscriptionFilterCommand,
  TagResourceCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { CreateRoleCommand } from '@aws-sdk/client-iam';
import { beforeEach, describe, expect, it } from 'vitest';
import { ensureAuditTable, listAuditRecords } from '../../services/aws/audit-store.js';
import { type AwsClients, createClients } from '../../services/aws/clients.js';
import { ensureTopic } from '../../services/aws/notifier.js';
import {
  ensureStateTable,
  getLogGroupSnapshot,
  localStateTableName,
} from '../../services/aws/state-store.js';
import { CIS_CONTROLS, cisAlarmNames, cisFilterName } from '../../services/domain/cis-monitoring.js';
import { type ReplayResult, replayEvent, sweepLocally } from '../../services/local/replay.js';
import {
  ACCOUNT,
  currentCredentials,
  emulatorNotifications,
  REGION,
  resetEmulator,
  testClients,
} from '../support/aws.js';
import { adminEvent } from '../support/events.js';
import { FaultInjector, failing } from '../support/faults.js';
import { createStream } from '../support/kinesis.js';
import { onResponse } from '../support/sdk-middleware.js';
import { seedBrokenTrail, seedCompliantTrail, seedTrail } from '../support/seed.js';

const TABLE = 'trailguard-audit';
const STATE_TABLE = localStateTableName({ auditTableName: TABLE });
const TOPIC = 'trailguard-notifications';
const CIS = { cisMonitoring: true } as const;
const TRAIL = 'org-trail';
const GROUP = `CloudTrail/${TRAIL}`;
const trailArn = (name = TRAIL) => `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/${name}`;

let clients = testClients();
let topicArn = '';

beforeEach(async () => {
  await resetEmulator();
  clients = testClients();
  topicArn = (await ensureTopic(clients, TOPIC)).topicArn;
  await ensureAuditTable(clients, TABLE);
  await ensureStateTable(clients, STATE_TABLE);
});

/** A CloudTrail event of another service (the dependency rule's), by an admin, in the account under test. */
function serviceEvent(
  source: 'aws.logs' | 'aws.monitoring',
  eventName: string,
  requestParameters: Record<string, unknown>,
): Record<string, unknown> {
  const event = adminEvent(eventName, TRAIL, {
    eventSource: source === 'aws.logs' ? 'logs.amazonaws.com' : 'monitoring.amazonaws.com',
    requestParameters,
  });
  return { ...event, source };
}

/** The team's log group extras: retention, a tag, their own metric filter and a subscription to a stream. */
async function teamExtras(): Promise<{ streamArn: string; roleArn: string }> {
  const logs = clients.logs(REGION);
  await logs.send(new PutRetentionPolicyCommand({ logGroupName: GROUP, retentionInDays: 400 }));
  await logs.send(
    new TagResourceCommand({
      resourceArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${GROUP}`,
      tags: { team: 'security' },
    }),
  );
  await logs.send(
    new PutMetricFilterCommand({
      logGroupName: GROUP,
      filterName: 'ConsoleLogins',
      filterPattern: '{ $.eventName = "ConsoleLogin" }',
      metricTransformations: [{ metricName: 'ConsoleLogins', metricNamespace: 'Team', metricValue: '1' }],
    }),
  );
  const streamArn = await createStream('siem');
  const role = await clients.iam().send(
    new CreateRoleCommand({
      RoleName: 'logs-to-siem',
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'logs.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ],
      }),
    }),
  );
  const roleArn = role.Role?.Arn ?? '';
  await logs.send(
    new PutSubscriptionFilterCommand({
      logGroupName: GROUP,
      filterName: 'to-siem',
      filterPattern: '',
      destinationArn: streamArn,
      roleArn,
    }),
  );
  return { streamArn, roleArn };
}

/** What the group holds now, read with the SDK (not through trailguard). */
async function groupContents() {
  const logs = clients.logs(REGION);
  const groups = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: GROUP }));
  const group = groups.logGroups?.find((g) => g.logGroupName === GROUP);
  const filters = await logs.send(new DescribeMetricFiltersCommand({ logGroupName: GROUP }));
  const subscriptions = await logs.send(new DescribeSubscriptionFiltersCommand({ logGroupName: GROUP }));
  const tags = await logs.send(
    new ListTagsForResourceCommand({ resourceArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${GROUP}` }),
  );
  return {
    exists: group !== undefined,
    retention: group?.retentionInDays,
    tags: tags.tags ?? {},
    filters: (filters.metricFilters ?? [])
      .map((f) => ({
        name: f.filterName,
        pattern: f.filterPattern,
        metric: f.metricTransformations?.[0]?.metricName,
        namespace: f.metricTransformations?.[0]?.metricNamespace,
      }))
      .sort((a, b) => String(a.name).localeCompare(String(b.name))),
    subscriptions: (subscriptions.subscriptionFilters ?? []).map((s) => ({
      name: s.filterName,
      destination: s.destinationArn,
      role: s.roleArn,
    })),
  };
}

async function cisAlarms() {
  const out = await clients
    .cloudWatch(REGION)
    .send(new DescribeAlarmsCommand({ AlarmNames: cisAlarmNames(GROUP) }));
  return (out.MetricAlarms ?? []).map((a) => ({
    name: a.AlarmName,
    threshold: a.Threshold,
    period: a.Period,
    actions: a.AlarmActions,
  }));
}

/**
 * moto deletes a log group but keeps its metric filters and tags for a group of the same name (AWS deletes
 * them with the group): remove the leftovers so the recreated group starts bare, as on AWS.
 */
async function deleteGroupAsAws(): Promise<void> {
  const logs = clients.logs(REGION);
  const filters = await logs.send(new DescribeMetricFiltersCommand({ logGroupName: GROUP }));
  for (const f of filters.metricFilters ?? []) {
    await logs.send(new DeleteMetricFilterCommand({ logGroupName: GROUP, filterName: f.filterName }));
  }
  await logs.send(new DeleteLogGroupCommand({ logGroupName: GROUP }));
  const left = await logs.send(new DescribeMetricFiltersCommand({ logGroupName: GROUP }));
  expect(left.metricFilters ?? [], 'moto left metric filters behind').toEqual([]);
}

/** A monitored trail whose group has the team's extras and the CIS monitoring, snapshotted by the sweep. */
async function guardedTrail() {
  await seedCompliantTrail(clients, TRAIL, { multiRegion: true });
  const extras = await teamExtras();
  // First sweep: the CIS filters and alarms are missing (a finding), so the workflow puts them there.
  const first = await sweepLocally({ clients, config: CIS });
  expect(first.outcome, first.reason).toBe('remediated');
  expect(first.findings).toEqual(['CIS_METRIC_FILTER_MISSING', 'CIS_ALARM_MISSING']);
  // Second sweep: compliant now; it records the whole group.
  const second = await sweepLocally({ clients, config: CIS });
  expect(second.outcome, second.reason).toBe('compliant');
  return extras;
}

describe('a log group restored whole (cisMonitoring on)', () => {
  it('a deleted log group comes back with the same metric filters (exact patterns), alarms, subscription filter, retention and tags', async () => {
    const { streamArn, roleArn } = await guardedTrail();
    const before = await groupContents();
    expect(before.filters).toHaveLength(CIS_CONTROLS.length + 1);
    for (const control of CIS_CONTROLS) {
      expect(before.filters.find((f) => f.name === cisFilterName(control))?.pattern, control.cis).toBe(
        control.filterPattern,
      );
    }
    expect(await cisAlarms()).toHaveLength(CIS_CONTROLS.length);
    const snapshot = await getLogGroupSnapshot(clients, STATE_TABLE, trailArn());
    expect(snapshot?.metricFilters).toHaveLength(CIS_CONTROLS.length + 1);

    await deleteGroupAsAws();
    const result = await replayEvent(serviceEvent('aws.logs', 'DeleteLogGroup', { logGroupName: GROUP }), {
      clients,
      config: CIS,
    });
    expect(result.outcome, result.reason).toBe('remediated');
    expect(result.findings).toContain('LOG_GROUP_MISSING');

    const after = await groupContents();
    expect(after.exists).toBe(true);
    expect(after.filters).toEqual(before.filters);
    expect(after.subscriptions).toEqual([{ name: 'to-siem', destination: streamArn, role: roleArn }]);
    expect(after.retention).toBe(400);
    expect(after.tags).toMatchObject({ team: 'security', 'trailguard:managed': 'true' });
    const alarms = await cisAlarms();
    expect(alarms).toHaveLength(CIS_CONTROLS.length);
    for (const alarm of alarms)
      expect(alarm).toMatchObject({ threshold: 1, period: 300, actions: [topicArn] });

    // Each restored item in the email and in the audit record.
    const mails = await emulatorNotifications();
    const mail = mails.find((m) => m.subject?.includes('REMEDIATED') && m.message.includes('Restored from'));
    expect(mail?.message).toContain(`Restored from the snapshot taken ${snapshot?.takenAt} of ${GROUP}`);
    for (const item of [
      'retention 400 days',
      'tag team=security',
      'metric filter ConsoleLogins',
      'subscription filter to-siem',
    ]) {
      expect(mail?.message).toContain(item);
    }
    const records = await listAuditRecords(clients, TABLE, { trail: trailArn() });
    const record = records.find((r) => r.executionId === result.runs?.[0]?.executionId);
    expect(record?.restoration?.snapshotTakenAt).toBe(snapshot?.takenAt);
    expect(record?.restoration?.restored).toEqual(
      expect.arrayContaining(['retention 400 days', 'metric filter ConsoleLogins']),
    );
  });

  it('the snapshot still goes back when RestoreLogGroup is retried after it created the group (its snapshot read throttled once: fault injected at the SDK layer)', async () => {
    await guardedTrail();
    const before = await groupContents();
    await deleteGroupAsAws();
    const injector = new FaultInjector([failing('GetItem', 'throttling', 1)]);
    const result = await replayEvent(serviceEvent('aws.logs', 'DeleteLogGroup', { logGroupName: GROUP }), {
      clients: injector.clients(),
      config: CIS,
    });
    expect(result.outcome, result.reason).toBe('remediated');
    // The first attempt created the group and failed reading the snapshot; the retry found the group whole.
    expect(injector.callsOf('CreateLogGroup').filter((c) => !c.fault)).toHaveLength(1);
    expect(injector.callsOf('GetItem').filter((c) => c.fault).length).toBe(1);
    const after = await groupContents();
    expect(after.filters).toEqual(before.filters);
    expect(after.retention).toBe(400);
    expect(after.tags).toMatchObject({ team: 'security', 'trailguard:managed': 'true' });
  });

  it("a CIS filter or alarm deleted by someone is caught by the dependency rule and repaired; the team's own filter is not trailguard's", async () => {
    await guardedTrail();
    const control = CIS_CONTROLS[2];
    if (!control) throw new Error('no CIS control');
    await clients
      .logs(REGION)
      .send(new DeleteMetricFilterCommand({ logGroupName: GROUP, filterName: cisFilterName(control) }));
    const filterEvent = serviceEvent('aws.logs', 'DeleteMetricFilter', {
      logGroupName: GROUP,
      filterName: cisFilterName(control),
    });
    const repaired = await replayEvent(filterEvent, { clients, config: CIS });
    expect(repaired.outcome, repaired.reason).toBe('remediated');
    expect(repaired.findings).toEqual(['CIS_METRIC_FILTER_MISSING']);
    expect(repaired.actions.map((a) => a.api)).toEqual(['PutMetricFilter']);
    const filters = (await groupContents()).filters;
    expect(filters.find((f) => f.name === cisFilterName(control))?.pattern).toBe(control.filterPattern);

    const [alarmName] = cisAlarmNames(GROUP);
    await clients.cloudWatch(REGION).send(new DeleteAlarmsCommand({ AlarmNames: [alarmName ?? ''] }));
    const alarmEvent = serviceEvent('aws.monitoring', 'DeleteAlarms', { alarmNames: [alarmName] });
    const alarm = await replayEvent(alarmEvent, { clients, config: CIS });
    expect(alarm.outcome, alarm.reason).toBe('remediated');
    expect(alarm.actions.map((a) => a.api)).toEqual(['PutMetricAlarm']);
    expect(await cisAlarms()).toHaveLength(CIS_CONTROLS.length);

    const other = await replayEvent(
      serviceEvent('aws.logs', 'DeleteMetricFilter', { logGroupName: GROUP, filterName: 'ConsoleLogins' }),
      { clients, config: CIS },
    );
    expect(other.runs ?? []).toEqual([]);
    // Without cisMonitoring the rule does not even match filter and alarm changes.
    expect((await replayEvent(filterEvent, { clients })).outcome).toBe('ignored');
  });
});

/** Clients whose GetTrailStatus answers carry `delivery(n)` (the n-th call, 1-based): moto reports none. */
function withDelivery(delivery: (n: number) => { time?: Date; error?: string }): AwsClients {
  let n = 0;
  return createClients({
    defaultRegion: REGION,
    maxAttempts: 1,
    credentials: currentCredentials,
    onCreate: (client) =>
      onResponse(client, 'injectDelivery', (command, output) => {
        if (command !== GetTrailStatusCommand.name) return;
        n += 1;
        const { time, error } = delivery(n);
        if (time) output.LatestCloudWatchLogsDeliveryTime = time;
        if (error) output.LatestCloudWatchLogsDeliveryError = error;
      }),
  });
}

async function remediateWithDeliveryCheck(deliveryClients: AwsClients): Promise<ReplayResult> {
  await seedBrokenTrail(clients, 'audit-trail');
  const result = await replayEvent(adminEvent('UpdateTrail', 'audit-trail'), {
    clients: deliveryClients,
    deliveryCheck: true,
  });
  expect(result.outcome, result.reason).toBe('remediated');
  return result;
}

const recordsOf = () => listAuditRecords(clients, TABLE, { trail: trailArn('audit-trail') });

describe('the delivery check after a remediated run', () => {
  it('confirmed (a delivery after the fix, injected at the SDK layer): recorded, linked to the run, no second email', async () => {
    // Check and Verify read no delivery; CheckDelivery (the 3rd status read) sees one after the fix.
    const result = await remediateWithDeliveryCheck(
      withDelivery((n) => (n >= 3 ? { time: new Date(Date.now() + 1000) } : {})),
    );
    expect(result.states?.slice(-6)).toEqual([
      'WaitForDelivery',
      'CheckDelivery',
      'DeliveryConfirmed',
      'UpdateFindingsDelivery',
      'AuditDelivery',
      'Done',
    ]);
    const mails = await emulatorNotifications();
    expect(mails.map((m) => m.subject)).toEqual([`[trailguard] REMEDIATED: trail audit-trail (${REGION})`]);
    const records = await recordsOf();
    expect(records).toHaveLength(2);
    const run = records.find((r) => r.kind !== 'delivery-check');
    const check = records.find((r) => r.kind === 'delivery-check');
    expect(run?.outcome).toBe('remediated');
    expect(check?.linkedRun).toBe(run?.run);
    expect(check?.deliveryCheck?.status).toBe('confirmed');
  });

  it('a new delivery error after the fix (injected at the SDK layer): DELIVERY NOT CONFIRMED, with the cause and the next step', async () => {
    const error = 'KMSInvalidStateException: arn:aws:kms:key/abc is disabled';
    await remediateWithDeliveryCheck(withDelivery((n) => (n >= 3 ? { error } : {})));
    const mails = await emulatorNotifications();
    expect(mails).toHaveLength(2);
    const mail = mails.find((m) => m.subject?.includes('DELIVERY NOT CONFIRMED'));
    expect(mail?.subject).toBe(`[trailguard] DELIVERY NOT CONFIRMED: audit-trail (${REGION})`);
    expect(mail?.messageAttributes.outcome?.Value).toBe('delivery-not-confirmed');
    expect(mail?.message).toContain(error);
    expect(mail?.message).toContain('DELIVERY_KMS_KEY_DISABLED');
    const check = (await recordsOf()).find((r) => r.kind === 'delivery-check');
    expect(check?.deliveryCheck).toMatchObject({
      status: 'error',
      finding: { code: 'DELIVERY_KMS_KEY_DISABLED' },
    });
  });

  it('nothing delivered and no error (moto, as it is): described as no delivery yet, not as a failure', async () => {
    await remediateWithDeliveryCheck(clients);
    const mail = (await emulatorNotifications()).find((m) => m.subject?.includes('DELIVERY NOT CONFIRMED'));
    expect(mail?.message).toContain('reports no delivery error');
    expect(mail?.message).toContain('it does not mean that delivery failed');
    expect(mail?.messageAttributes.severity?.Value).toBe('INFO');
    const check = (await recordsOf()).find((r) => r.kind === 'delivery-check');
    expect(check?.deliveryCheck?.status).toBe('no-delivery');
  });
});

describe('delivery errors diagnosed', () => {
  it('a delivery error whose cause trailguard can fix (injected at the SDK layer): the cause is repaired, the run remediated', async () => {
    await seedTrail(clients, 'audit-trail', {
      breaks: { trust: 'wrong-service' },
      roleName: 'trailguard-cloudtrail-delivery',
    });
    const error = `AccessDenied: CloudTrail was unable to assume the role arn:aws:iam::${ACCOUNT}:role/trailguard-cloudtrail-delivery`;
    const result = await replayEvent(adminEvent('UpdateTrail', 'audit-trail'), {
      clients: withDelivery(() => ({ error })),
    });
    expect(result.outcome, result.reason).toBe('remediated');
    expect(result.findings).toEqual(['ROLE_TRUST_INVALID', 'DELIVERY_ROLE_NOT_ASSUMABLE']);
    expect(result.actions.map((a) => a.api)).toEqual(['UpdateAssumeRolePolicy']);
    const [mail] = await emulatorNotifications();
    expect(mail?.message).toContain('DELIVERY_ROLE_NOT_ASSUMABLE');
  });
});

describe('stale delivery errors', () => {
  it('the sweep reports an error until a delivery later than its first sighting (injected at the SDK layer), then not', async () => {
    await seedCompliantTrail(clients, 'audit-trail');
    const error = 'ResourceNotFoundException: The specified log group does not exist.';
    let deliveredAt: Date | undefined;
    const sdk = withDelivery(() => ({ error, ...(deliveredAt ? { time: deliveredAt } : {}) }));
    const first = await sweepLocally({ clients: sdk });
    // The group exists and the role reads right: nothing to change, a person is told.
    expect(first.outcome, first.reason).toBe('notified');
    expect(first.findings).toEqual(['DELIVERY_LOG_GROUP_MISSING']);
    deliveredAt = new Date(Date.now() + 1000);
    const second = await sweepLocally({ clients: sdk });
    expect(second.outcome, second.reason).toBe('compliant');
    expect(second.runs ?? []).toEqual([]);
  });
});
