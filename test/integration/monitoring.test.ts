/**
 * CIS monitoring against the emulator: ensureCisMonitoring creates, keeps and repairs the 15 metric filters and
 * alarms of a log group; the results are read back with the SDK directly (not through readMonitoring), and drift
 * made with the SDK is found by monitoringFindings(readMonitoring(...)).
 *
 * The patterns are compared with CIS_CONTROLS here; test/unit/domain/cis-monitoring.test.ts pins CIS_CONTROLS to
 * an independent copy of the Security Hub documentation.
 *
 * moto gaps, injected at the SDK layer (test/support/faults.ts) only where a test needs AWS's behaviour:
 * - PutMetricFilter appends a second filter of the same name instead of replacing it (AWS: "creates or updates").
 * - DescribeMetricFilters of a log group that does not exist answers an empty list (AWS: ResourceNotFoundException),
 *   and PutMetricFilter does not check that the log group exists.
 */

import {
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  type DescribeAlarmsCommandOutput,
  type MetricAlarm,
  PutMetricAlarmCommand,
} from '@aws-sdk/client-cloudwatch';
import {
  CreateLogGroupCommand,
  DeleteMetricFilterCommand,
  DescribeMetricFiltersCommand,
  type MetricFilter,
  PutMetricFilterCommand,
  type PutMetricFilterCommandInput,
  ResourceNotFoundException,
} from '@aws-sdk/client-cloudwatch-logs';
import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { beforeEach, describe, expect, it } from 'vitest';
import { ensureCisMonitoring, readMonitoring } from '../../services/aws/monitoring.js';
import {
  CIS_CONTROLS,
  CIS_NAME_PREFIX,
  type CisControl,
  cisAlarmName,
  cisFilterName,
  monitoringFindings,
} from '../../services/domain/cis-monitoring.js';
import { RemediationError, TransientAwsError } from '../../services/domain/errors.js';
import { ACCOUNT, currentCredentials, REGION, resetEmulator, testClients } from '../support/aws.js';
import { FaultInjector, type FaultRule, failing } from '../support/faults.js';

const GROUP = 'CloudTrail/management-events';

function control(cis: string): CisControl {
  const found = CIS_CONTROLS.find((c) => c.cis === cis);
  if (!found) throw new Error(`no control ${cis}`);
  return found;
}

async function createGroup(name: string): Promise<void> {
  await testClients()
    .logs(REGION)
    .send(new CreateLogGroupCommand({ logGroupName: name }));
}

/** The CIS alarm topic, with a subscriber (Security Hub's CloudWatch.1-14 want one). */
async function createTopic(name = 'cis-alarms'): Promise<string> {
  const sns = testClients().sns();
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: name }));
  if (!TopicArn) throw new Error('CreateTopic returned no ARN');
  await sns.send(
    new SubscribeCommand({ TopicArn, Protocol: 'email', Endpoint: 'security-team@example.com' }),
  );
  return TopicArn;
}

/** Every metric filter of a group, read with the SDK (moto answers in one page). */
async function filtersOf(group: string): Promise<MetricFilter[]> {
  const out = await testClients()
    .logs(REGION)
    .send(new DescribeMetricFiltersCommand({ logGroupName: group }));
  return out.metricFilters ?? [];
}

/** trailguard's alarms, read with the SDK. */
async function cisAlarms(): Promise<MetricAlarm[]> {
  const out: DescribeAlarmsCommandOutput = await testClients()
    .cloudWatch(REGION)
    .send(new DescribeAlarmsCommand({ AlarmNamePrefix: CIS_NAME_PREFIX }));
  return out.MetricAlarms ?? [];
}

async function findingsOf(group: string, topic: string) {
  const state = await readMonitoring(testClients(), REGION, group);
  return monitoringFindings(state, { logGroupName: group, alarmTopicArn: topic });
}

/**
 * moto does not model PutMetricFilter's create-or-update: it appends a second filter of the same name. This rule
 * makes the product's PutMetricFilter do what AWS does (replace the filter of that name) and answers it.
 */
function awsPutMetricFilter(): FaultRule {
  return {
    operation: 'PutMetricFilter',
    mode: 'drop',
    label: 'moto-put-metric-filter-replaces',
    before: async (call) => {
      const input = call.input as PutMetricFilterCommandInput;
      const logs = testClients().logs(REGION);
      await logs.send(
        new DeleteMetricFilterCommand({ logGroupName: input.logGroupName, filterName: input.filterName }),
      );
      await logs.send(new PutMetricFilterCommand(input));
    },
  };
}

describe('CIS monitoring', () => {
  let topic: string;

  beforeEach(async () => {
    await resetEmulator();
    await createGroup(GROUP);
    topic = await createTopic();
  });

  it('creates the 15 metric filters with the documented patterns and 15 alarms on a fresh log group', async () => {
    expect(topic).toContain(`:${ACCOUNT}:`);
    expect(topic).toContain(`:${REGION}:`);

    const writes = await ensureCisMonitoring(testClients(), {
      region: REGION,
      logGroupName: GROUP,
      alarmTopicArn: topic,
    });

    expect(writes.map((w) => w.api)).toEqual([
      ...Array<string>(15).fill('PutMetricFilter'),
      ...Array<string>(15).fill('PutMetricAlarm'),
    ]);
    expect(writes[2]?.detail).toContain('metric filter for CIS 4.3 (CloudWatch.1) root account usage');
    expect(writes[15]?.detail).toContain('alarm for CIS 4.1 (CloudWatch.2) unauthorized API calls');
    expect(writes[29]?.detail).toContain(topic);

    const filters = await filtersOf(GROUP);
    expect(filters).toHaveLength(15);
    for (const c of CIS_CONTROLS) {
      const matching = filters.filter((f) => f.filterName === cisFilterName(c));
      expect(matching, c.cis).toHaveLength(1);
      const [filter] = matching;
      expect(filter?.filterPattern, c.cis).toBe(c.filterPattern);
      expect(filter?.metricTransformations).toEqual([
        expect.objectContaining({
          metricName: c.metricName,
          metricNamespace: `CISBenchmark/${GROUP}`,
          metricValue: '1',
        }),
      ]);
    }

    const alarms = await cisAlarms();
    expect(alarms).toHaveLength(15);
    for (const c of CIS_CONTROLS) {
      const alarm = alarms.find((a) => a.AlarmName === cisAlarmName(c, GROUP));
      expect(alarm, c.cis).toMatchObject({
        AlarmName: `trailguard-cis-${c.cis}-${c.metricName}-${GROUP}`,
        MetricName: c.metricName,
        Namespace: `CISBenchmark/${GROUP}`,
        Statistic: 'Sum',
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [topic],
        ActionsEnabled: true,
      });
      expect(alarm?.Dimensions ?? []).toEqual([]);
      // The alarm watches exactly the metric its filter publishes.
      const filter = filters.find((f) => f.filterName === cisFilterName(c));
      expect(alarm?.MetricName).toBe(filter?.metricTransformations?.[0]?.metricName);
      expect(alarm?.Namespace).toBe(filter?.metricTransformations?.[0]?.metricNamespace);
    }

    expect(await findingsOf(GROUP, topic)).toEqual([]);
  });

  it('writes nothing the second time', async () => {
    const spec = { region: REGION, logGroupName: GROUP, alarmTopicArn: topic };
    expect(await ensureCisMonitoring(testClients(), spec)).toHaveLength(30);

    const recorder = new FaultInjector();
    expect(await ensureCisMonitoring(recorder.clients({ credentials: currentCredentials }), spec)).toEqual(
      [],
    );
    expect(recorder.writes()).toEqual([]);
    expect(recorder.operations().sort()).toEqual(['DescribeAlarms', 'DescribeMetricFilters']);
    expect(await filtersOf(GROUP)).toHaveLength(15);
  });

  it('finds a deleted filter, an edited pattern, a deleted alarm and a silenced alarm, and repairs exactly those (moto: PutMetricFilter appends instead of replacing, so AWS replace is emulated at the SDK layer)', async () => {
    const spec = { region: REGION, logGroupName: GROUP, alarmTopicArn: topic };
    await ensureCisMonitoring(testClients(), spec);
    const logs = testClients().logs(REGION);
    const cloudWatch = testClients().cloudWatch(REGION);

    // Someone deletes the 4.1 filter, "tidies" the 4.3 pattern, deletes the 4.5 alarm, silences the 4.6 alarm
    // (threshold 10, actions disabled).
    await logs.send(
      new DeleteMetricFilterCommand({ logGroupName: GROUP, filterName: cisFilterName(control('4.1')) }),
    );
    const root = control('4.3');
    await logs.send(new DeleteMetricFilterCommand({ logGroupName: GROUP, filterName: cisFilterName(root) }));
    await logs.send(
      new PutMetricFilterCommand({
        logGroupName: GROUP,
        filterName: cisFilterName(root),
        filterPattern: '{ $.userIdentity.type = "Root" }',
        metricTransformations: [
          { metricName: root.metricName, metricNamespace: `CISBenchmark/${GROUP}`, metricValue: '1' },
        ],
      }),
    );
    await cloudWatch.send(new DeleteAlarmsCommand({ AlarmNames: [cisAlarmName(control('4.5'), GROUP)] }));
    // (DisableAlarmActions is not usable against moto with this SDK: it answers HTML; PutMetricAlarm is.)
    const silenced = control('4.6');
    await cloudWatch.send(
      new PutMetricAlarmCommand({
        AlarmName: cisAlarmName(silenced, GROUP),
        MetricName: silenced.metricName,
        Namespace: `CISBenchmark/${GROUP}`,
        Statistic: 'Sum',
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: 10,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: [topic],
        ActionsEnabled: false,
      }),
    );

    const findings = await findingsOf(GROUP, topic);
    expect(findings.map((f) => f.code)).toEqual([
      'CIS_METRIC_FILTER_MISSING',
      'CIS_METRIC_FILTER_CHANGED',
      'CIS_ALARM_MISSING',
      'CIS_ALARM_CHANGED',
    ]);
    const [filterMissing, filterChanged, alarmMissing, alarmChanged] = findings.map((f) => f.message);
    expect(filterMissing).toContain('4.1 (CloudWatch.2)');
    expect(filterMissing).toContain('1 control(s)');
    expect(filterChanged).toContain('4.3 (CloudWatch.1): filter pattern');
    expect(alarmMissing).toContain('4.5 (CloudWatch.5)');
    // Put again by hand without TreatMissingData: CloudWatch's default (`missing`) is a difference too.
    expect(alarmChanged).toContain(
      '4.6 (CloudWatch.6): threshold (10), missing data treated as missing, actions disabled',
    );
    for (const message of [filterMissing, filterChanged, alarmMissing, alarmChanged]) {
      expect(message).toContain(GROUP);
    }

    const injector = new FaultInjector([awsPutMetricFilter()]);
    const writes = await ensureCisMonitoring(injector.clients({ credentials: currentCredentials }), spec);

    expect(writes.map((w) => [w.api, w.resource])).toEqual([
      ['PutMetricFilter', `${GROUP} metric filter ${cisFilterName(control('4.1'))}`],
      ['PutMetricFilter', `${GROUP} metric filter ${cisFilterName(root)}`],
      ['PutMetricAlarm', cisAlarmName(control('4.5'), GROUP)],
      ['PutMetricAlarm', cisAlarmName(control('4.6'), GROUP)],
    ]);
    expect(writes[1]?.detail).toContain(
      'repaired metric filter for CIS 4.3 (CloudWatch.1) root account usage',
    );
    expect(writes[0]?.detail).toContain('created metric filter for CIS 4.1 (CloudWatch.2)');
    expect(await findingsOf(GROUP, topic)).toEqual([]);

    const filters = await filtersOf(GROUP);
    expect(filters).toHaveLength(15);
    expect(filters.find((f) => f.filterName === cisFilterName(root))?.filterPattern).toBe(root.filterPattern);
    const alarms = await cisAlarms();
    expect(alarms).toHaveLength(15);
    expect(alarms.find((a) => a.AlarmName === cisAlarmName(control('4.6'), GROUP))?.ActionsEnabled).toBe(
      true,
    );
    expect(alarms.find((a) => a.AlarmName === cisAlarmName(control('4.5'), GROUP))).toMatchObject({
      Threshold: 1,
      Period: 300,
      AlarmActions: [topic],
      TreatMissingData: 'notBreaching',
    });
  });

  it("leaves the team's own metric filter on the group alone", async () => {
    const team = {
      logGroupName: GROUP,
      filterName: 'team-console-logins',
      filterPattern: '{ $.eventName = "ConsoleLogin" }',
      metricTransformations: [{ metricName: 'ConsoleLogins', metricNamespace: 'Team', metricValue: '1' }],
    };
    await testClients().logs(REGION).send(new PutMetricFilterCommand(team));

    const writes = await ensureCisMonitoring(testClients(), {
      region: REGION,
      logGroupName: GROUP,
      alarmTopicArn: topic,
    });

    expect(writes).toHaveLength(30);
    expect(writes.some((w) => w.resource.includes(team.filterName))).toBe(false);
    const filters = await filtersOf(GROUP);
    expect(filters).toHaveLength(16);
    expect(filters.filter((f) => f.filterName === team.filterName)).toEqual([
      expect.objectContaining({
        filterPattern: team.filterPattern,
        metricTransformations: [expect.objectContaining(team.metricTransformations[0])],
      }),
    ]);
    const state = await readMonitoring(testClients(), REGION, GROUP);
    expect(state.metricFilters.map((f) => f.filterName)).toContain(team.filterName);
    expect(monitoringFindings(state, { logGroupName: GROUP, alarmTopicArn: topic })).toEqual([]);
  });

  it('keeps the metrics and alarms of two log groups apart', async () => {
    const other = 'CloudTrail/second-trail';
    await createGroup(other);
    await ensureCisMonitoring(testClients(), { region: REGION, logGroupName: GROUP, alarmTopicArn: topic });
    await ensureCisMonitoring(testClients(), { region: REGION, logGroupName: other, alarmTopicArn: topic });

    const alarms = await cisAlarms();
    expect(alarms).toHaveLength(30);
    expect(new Set(alarms.map((a) => a.Namespace))).toEqual(
      new Set([`CISBenchmark/${GROUP}`, `CISBenchmark/${other}`]),
    );
    expect(await findingsOf(GROUP, topic)).toEqual([]);
    expect(await findingsOf(other, topic)).toEqual([]);
  });

  it('reports a throttled write as transient and completes on the next run', async () => {
    const spec = { region: REGION, logGroupName: GROUP, alarmTopicArn: topic };
    const injector = new FaultInjector([{ ...failing('PutMetricAlarm', 'throttling', 1), after: 3 }]);

    await expect(
      ensureCisMonitoring(injector.clients({ credentials: currentCredentials }), spec),
    ).rejects.toBeInstanceOf(TransientAwsError);
    expect(await cisAlarms()).toHaveLength(3);

    const writes = await ensureCisMonitoring(testClients(), spec);
    expect(writes.map((w) => w.api)).toEqual(Array<string>(12).fill('PutMetricAlarm'));
    expect(await findingsOf(GROUP, topic)).toEqual([]);
  });

  it('reads a log group that does not exist as having no filters, and writes nothing to it (moto: DescribeMetricFilters of a missing group answers an empty list, not ResourceNotFoundException, so that is injected)', async () => {
    const missing = 'CloudTrail/deleted';
    const notFound = (): FaultRule => ({
      operation: 'DescribeMetricFilters',
      mode: 'fail',
      label: 'moto-missing-log-group',
      error: () =>
        new ResourceNotFoundException({
          message: 'The specified log group does not exist.',
          $metadata: { httpStatusCode: 400 },
        }),
    });

    const reader = new FaultInjector([notFound()]);
    const state = await readMonitoring(reader.clients({ credentials: currentCredentials }), REGION, missing);
    expect(state).toEqual({ logGroupName: missing, metricFilters: [], alarms: [] });
    expect(
      monitoringFindings(state, { logGroupName: missing, alarmTopicArn: topic }).map((f) => f.code),
    ).toEqual(['CIS_METRIC_FILTER_MISSING', 'CIS_ALARM_MISSING']);

    const writer = new FaultInjector([notFound()]);
    await expect(
      ensureCisMonitoring(writer.clients({ credentials: currentCredentials }), {
        region: REGION,
        logGroupName: missing,
        alarmTopicArn: topic,
      }),
    ).rejects.toThrow(RemediationError);
    expect(writer.writes()).toEqual([]);
  });
});
