/**
 * Reads and keeps the CIS monitoring of a trail's log group (config.cisMonitoring): the metric filters of
 * services/domain/cis-monitoring.ts on the group (CloudWatch Logs) and one alarm per filter's metric (CloudWatch),
 * in the trail's home region. Idempotent: it re-reads, writes only the filters and alarms that are missing or
 * differ, and PutMetricFilter / PutMetricAlarm are create-or-replace calls, so two concurrent runs converge.
 * Other metric filters on the group are the team's and never touched.
 *
 * API behaviour relied on (CloudWatch Logs and CloudWatch API References): PutMetricFilter "creates or updates a
 * metric filter" (at most 100 per log group); DescribeMetricFilters fails with ResourceNotFoundException for a log
 * group that does not exist; DescribeAlarms takes at most 100 AlarmNames; PutMetricAlarm on an existing alarm
 * "completely overwrites the previous configuration of the alarm" and leaves its state alone.
 */
import type { MetricAlarm } from '@aws-sdk/client-cloudwatch';
import type { MetricFilter } from '@aws-sdk/client-cloudwatch-logs';
import {
  type CisAlarmSpec,
  type CisControlDrift,
  type CisFilterSpec,
  type CisItemStatus,
  cisAlarmNames,
  cisControlLabel,
  cisDrift,
} from '../domain/cis-monitoring.js';
import { refuseControlTowerWrite } from '../domain/control-tower.js';
import {
  AwsReadError,
  awsErrorName,
  isTransient,
  RemediationError,
  TransientAwsError,
} from '../domain/errors.js';
import type { AlarmState, MetricFilterState, MonitoringState } from '../domain/trail-state.js';
import type { AwsClients } from './clients.js';
import { sdk } from './sdk.js';
import { type Write, write } from './write-errors.js';

/** DescribeAlarms: "AlarmNames ... Maximum number of 100 items". */
const ALARM_NAMES_PER_CALL = 100;

/** The read helper of trail-reader.ts: a failed read is a TransientAwsError or an AwsReadError naming the call. */
async function read<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof AwsReadError || error instanceof TransientAwsError) throw error;
    const message = `${what} failed: ${(error as Error).message ?? awsErrorName(error)}`;
    if (isTransient(error)) throw new TransientAwsError(message, { cause: error });
    throw new AwsReadError(message, { cause: error });
  }
}

function toFilterState(filter: MetricFilter): MetricFilterState {
  // A metric filter has exactly one transformation (PutMetricFilter: "Fixed number of 1 item").
  const transformation = filter.metricTransformations?.[0];
  return {
    filterName: filter.filterName ?? '',
    filterPattern: filter.filterPattern ?? '',
    ...(transformation?.metricName !== undefined ? { metricName: transformation.metricName } : {}),
    ...(transformation?.metricNamespace !== undefined
      ? { metricNamespace: transformation.metricNamespace }
      : {}),
    ...(transformation?.metricValue !== undefined ? { metricValue: transformation.metricValue } : {}),
  };
}

function toAlarmState(alarm: MetricAlarm): AlarmState {
  return {
    alarmName: alarm.AlarmName ?? '',
    ...(alarm.MetricName !== undefined ? { metricName: alarm.MetricName } : {}),
    ...(alarm.Namespace !== undefined ? { namespace: alarm.Namespace } : {}),
    ...(alarm.Statistic !== undefined ? { statistic: alarm.Statistic } : {}),
    ...(alarm.Period !== undefined ? { period: alarm.Period } : {}),
    ...(alarm.EvaluationPeriods !== undefined ? { evaluationPeriods: alarm.EvaluationPeriods } : {}),
    ...(alarm.Threshold !== undefined ? { threshold: alarm.Threshold } : {}),
    ...(alarm.ComparisonOperator !== undefined ? { comparisonOperator: alarm.ComparisonOperator } : {}),
    ...(alarm.TreatMissingData !== undefined ? { treatMissingData: alarm.TreatMissingData } : {}),
    alarmActions: alarm.AlarmActions ?? [],
    ...(alarm.ActionsEnabled !== undefined ? { actionsEnabled: alarm.ActionsEnabled } : {}),
  };
}

/** Every metric filter of the group (all pages), or `exists: false` when the group does not exist. */
async function readFilters(
  clients: AwsClients,
  region: string,
  logGroupName: string,
): Promise<{ exists: boolean; filters: MetricFilterState[] }> {
  return read(`DescribeMetricFilters ${logGroupName}`, async () => {
    const filters: MetricFilterState[] = [];
    try {
      for await (const page of sdk
        .logs()
        .paginateDescribeMetricFilters({ client: clients.logs(region) }, { logGroupName })) {
        for (const filter of page.metricFilters ?? []) filters.push(toFilterState(filter));
      }
    } catch (error) {
      if (awsErrorName(error) === 'ResourceNotFoundException') return { exists: false, filters: [] };
      throw error;
    }
    return { exists: true, filters };
  });
}

/** The metric alarms of these names that exist (DescribeAlarms, 100 names per call, all pages). */
async function readAlarms(clients: AwsClients, region: string, names: string[]): Promise<AlarmState[]> {
  const alarms: AlarmState[] = [];
  for (let i = 0; i < names.length; i += ALARM_NAMES_PER_CALL) {
    const chunk = names.slice(i, i + ALARM_NAMES_PER_CALL);
    await read(`DescribeAlarms ${chunk[0]}...`, async () => {
      for await (const page of sdk
        .cloudWatch()
        .paginateDescribeAlarms(
          { client: clients.cloudWatch(region) },
          { AlarmNames: chunk, AlarmTypes: ['MetricAlarm'] },
        )) {
        for (const alarm of page.MetricAlarms ?? []) alarms.push(toAlarmState(alarm));
      }
    });
  }
  return alarms;
}

async function readState(
  clients: AwsClients,
  region: string,
  logGroupName: string,
): Promise<{ groupExists: boolean; state: MonitoringState }> {
  const [filters, alarms] = await Promise.all([
    readFilters(clients, region, logGroupName),
    readAlarms(clients, region, cisAlarmNames(logGroupName)),
  ]);
  return {
    groupExists: filters.exists,
    state: { logGroupName, metricFilters: filters.filters, alarms },
  };
}

/**
 * The CIS monitoring of a log group: every metric filter on it (the team's too) and the alarms named after the CIS
 * controls for it. A log group that does not exist has no filters.
 */
export async function readMonitoring(
  clients: AwsClients,
  region: string,
  logGroupName: string,
): Promise<MonitoringState> {
  return (await readState(clients, region, logGroupName)).state;
}

export interface MonitoringSpec {
  /** The trail's home region: where its log group, the metrics and the alarms are. */
  region: string;
  logGroupName: string;
  /**
   * The SNS topic every CIS alarm notifies (Security Hub wants it to have at least one subscriber): only one in the
   * alarm's own account and region (domain/cis-monitoring.ts cisAlarmTopic); undefined: the alarms have no action,
   * their ALARM state changes reach the hub's topic through EventBridge.
   */
  alarmTopicArn: string | undefined;
}

function what(drift: CisControlDrift, kind: 'metric filter' | 'alarm', status: CisItemStatus): string {
  const subject = `${kind} for CIS ${cisControlLabel(drift.control)} ${drift.control.title}`;
  return status.status === 'changed'
    ? `repaired ${subject} (it differed: ${status.differences.join(', ')})`
    : `created ${subject}`;
}

async function putFilter(clients: AwsClients, region: string, spec: CisFilterSpec): Promise<void> {
  await write(`PutMetricFilter ${spec.filterName} on ${spec.logGroupName}`, () =>
    clients.logs(region).send(
      new (sdk.logs().PutMetricFilterCommand)({
        logGroupName: spec.logGroupName,
        filterName: spec.filterName,
        filterPattern: spec.filterPattern,
        metricTransformations: [
          {
            metricName: spec.metricName,
            metricNamespace: spec.metricNamespace,
            metricValue: spec.metricValue,
          },
        ],
      }),
    ),
  );
}

async function putAlarm(clients: AwsClients, region: string, spec: CisAlarmSpec): Promise<void> {
  await write(`PutMetricAlarm ${spec.alarmName}`, () =>
    clients.cloudWatch(region).send(
      new (sdk.cloudWatch().PutMetricAlarmCommand)({
        AlarmName: spec.alarmName,
        AlarmDescription: spec.alarmDescription,
        ActionsEnabled: spec.actionsEnabled,
        AlarmActions: spec.alarmActions,
        MetricName: spec.metricName,
        Namespace: spec.namespace,
        Statistic: spec.statistic,
        Period: spec.periodSeconds,
        EvaluationPeriods: spec.evaluationPeriods,
        Threshold: spec.threshold,
        ComparisonOperator: spec.comparisonOperator,
        TreatMissingData: spec.treatMissingData,
      }),
    ),
  );
}

/**
 * Makes the log group's CIS monitoring whole: re-reads it, then PutMetricFilter for each filter that is missing or
 * differs and PutMetricAlarm for each such alarm (filters first, so an alarm never waits on a metric that has no
 * filter). Returns one Write per call made; a second call writes nothing. The log group must exist (the restore
 * steps create it first): if it does not, nothing is written and a RemediationError says so.
 */
export async function ensureCisMonitoring(clients: AwsClients, spec: MonitoringSpec): Promise<Write[]> {
  refuseControlTowerWrite({ logGroup: spec.logGroupName }, 'PutMetricFilter');
  const { groupExists, state } = await readState(clients, spec.region, spec.logGroupName);
  if (!groupExists) {
    throw new RemediationError(
      `log group ${spec.logGroupName} does not exist in ${spec.region}: the CIS metric filters cannot be put on it`,
    );
  }
  const drifts = cisDrift(state, { logGroupName: spec.logGroupName, alarmTopicArn: spec.alarmTopicArn });
  const writes: Write[] = [];
  // One call at a time: PutMetricFilter and PutMetricAlarm have low per-account request rates.
  for (const drift of drifts) {
    if (drift.filter.status === 'ok') continue;
    await putFilter(clients, spec.region, drift.filterSpec);
    writes.push({
      api: 'PutMetricFilter',
      resource: `${spec.logGroupName} metric filter ${drift.filterSpec.filterName}`,
      detail: `${what(drift, 'metric filter', drift.filter)} on log group ${spec.logGroupName} (metric ${drift.filterSpec.metricNamespace} ${drift.filterSpec.metricName})`,
    });
  }
  for (const drift of drifts) {
    if (drift.alarm.status === 'ok') continue;
    await putAlarm(clients, spec.region, drift.alarmSpec);
    writes.push({
      api: 'PutMetricAlarm',
      resource: drift.alarmSpec.alarmName,
      detail: `${what(drift, 'alarm', drift.alarm)}: ${drift.alarmSpec.statistic} >= ${drift.alarmSpec.threshold} in ${drift.alarmSpec.periodSeconds / 60} minutes ${spec.alarmTopicArn ? `notifies ${spec.alarmTopicArn}` : 'with no alarm action (its ALARM state changes reach the hub topic through EventBridge)'}`,
    });
  }
  return writes;
}
