/**
 * Observability: alarms that email the notification topic when the guardrail itself needs a person (a
 * workflow execution failed or timed out, an event or invocation landed in a dead-letter queue, the sweep
 * function errored), and a dashboard: fixes over time (the Audit step's `Outcome_remediated` metric), the
 * other outcomes, failures and execution duration.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { OUTCOMES } from '../../services/domain/run-context.js';
import {
  METRICS_NAMESPACE,
  SERVICE_NAME,
  SWEEP_COMPLETED_METRIC,
  TIME_TO_REMEDIATE_METRIC,
} from '../../services/handlers/lambda.js';

/** How often alarms look, and over which window. */
const PERIOD = Duration.minutes(5);

/** The Audit step's per-outcome count (Powertools Metrics, EMF): namespace Trailguard, dimension service. */
export function outcomeMetric(outcome: string, period: Duration = Duration.hours(1)): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: `Outcome_${outcome}`,
    dimensionsMap: { service: SERVICE_NAME },
    statistic: cloudwatch.Stats.SUM,
    period,
    label: outcome,
  });
}

/**
 * The Audit step's time to remediate (seconds from the event's time, or a sweep or manual run's start, to
 * Verify's confirmation), one value per remediated run; `statistic` e.g. p50, p95.
 */
export function timeToRemediateMetric(
  statistic: string,
  period: Duration = Duration.hours(1),
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: TIME_TO_REMEDIATE_METRIC,
    dimensionsMap: { service: SERVICE_NAME },
    statistic,
    period,
    label: statistic,
  });
}

export interface TrailguardMonitoringProps {
  topic: sns.ITopic;
  stateMachine: sfn.StateMachine;
  /** Each dead-letter or failure queue, by a name used in its alarm's description. */
  deadLetterQueues: Record<string, sqs.IQueue>;
  sweepFunction: lambda.IFunction;
  /** A hub's organization sweep: alarms when an execution fails (some account-regions not swept) or times out. */
  organizationSweep?: sfn.IStateMachine;
  /** config.sweepIntervalMinutes: the heartbeat alarms when no sweep completed in two of these intervals. */
  sweepIntervalMinutes: number;
}

/**
 * What counts as one completed sweep: a succeeded execution of the organization sweep (a hub, or a single
 * account guarding several regions), else the sweep function's `SweepCompleted` (one per scheduled sweep that
 * finished without error), per sweep interval.
 */
export function sweepCompletedMetric(
  intervalMinutes: number,
  organizationSweep?: sfn.IStateMachine,
): cloudwatch.IMetric {
  const period = Duration.minutes(intervalMinutes);
  if (organizationSweep) {
    return organizationSweep.metricSucceeded({
      period,
      statistic: cloudwatch.Stats.SUM,
    });
  }
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: SWEEP_COMPLETED_METRIC,
    dimensionsMap: { service: SERVICE_NAME },
    statistic: cloudwatch.Stats.SUM,
    period,
  });
}

export class TrailguardMonitoring extends Construct {
  readonly alarms: Record<string, cloudwatch.Alarm> = {};
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: TrailguardMonitoringProps) {
    super(scope, id);
    const notify = new actions.SnsAction(props.topic);
    const alarm = (alarmId: string, metric: cloudwatch.IMetric, description: string) => {
      const a = new cloudwatch.Alarm(this, alarmId, {
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: `trailguard: ${description}`,
      });
      a.addAlarmAction(notify);
      this.alarms[alarmId] = a;
      return a;
    };

    const sm = props.stateMachine;
    alarm(
      'WorkflowFailedAlarm',
      sm.metricFailed({ period: PERIOD, statistic: cloudwatch.Stats.SUM }),
      'a remediation workflow execution failed. The failure email and audit record name the trail and the error; see the execution history in Step Functions.',
    );
    alarm(
      'WorkflowTimedOutAlarm',
      sm.metricTimedOut({ period: PERIOD, statistic: cloudwatch.Stats.SUM }),
      'a remediation workflow execution timed out (no failure email was sent for it); see the execution history in Step Functions and check the trail with `trailguard check`.',
    );
    for (const [name, queue] of Object.entries(props.deadLetterQueues)) {
      alarm(
        `${name}Alarm`,
        queue.metricApproximateNumberOfMessagesVisible({
          period: PERIOD,
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        `messages in the ${name} queue: events or invocations trailguard could not handle after retries. Read them (SQS console), fix the cause, then redrive or delete them.`,
      );
    }
    alarm(
      'SweepErrorsAlarm',
      props.sweepFunction.metricErrors({ period: PERIOD, statistic: cloudwatch.Stats.SUM }),
      'the sweep function failed (a scheduled sweep or a dependency fan-out): some trails were not assessed or their run not started. See its log group.',
    );
    if (props.organizationSweep) {
      const orgSweep = props.organizationSweep;
      alarm(
        'OrganizationSweepFailedAlarm',
        orgSweep.metricFailed({ period: PERIOD, statistic: cloudwatch.Stats.SUM }),
        'an organization sweep could not sweep some guarded account-regions (the execution output names them and the error; a missing spoke or a remediation role that does not trust the hub is the usual cause). The other account-regions were swept.',
      );
      alarm(
        'OrganizationSweepTimedOutAlarm',
        orgSweep.metricTimedOut({ period: PERIOD, statistic: cloudwatch.Stats.SUM }),
        'an organization sweep timed out before every guarded account-region was swept; see its execution in Step Functions.',
      );
    }

    // The sweep's heartbeat: no completed sweep in two intervals (missing data breaching, since a disabled
    // schedule or a sweep that always fails sends no data at all). Two periods of the interval each: within
    // CloudWatch's limit on period x evaluation periods (1 day under an hour's period, else 7 days; PutMetricAlarm,
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html), since the
    // interval is 5 to 1440 minutes.
    const heartbeat = new cloudwatch.Alarm(this, 'SweepHeartbeatAlarm', {
      metric: sweepCompletedMetric(props.sweepIntervalMinutes, props.organizationSweep),
      threshold: 1,
      evaluationPeriods: 2,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      alarmDescription: `trailguard: no sweep completed in two sweep intervals (${2 * props.sweepIntervalMinutes} minutes). The sweep schedule may be disabled or deleted, or every sweep fails (see the other alarms and the sweep's logs); trails broken while an event was missed are not being found.`,
    });
    heartbeat.addAlarmAction(notify);
    this.alarms.SweepHeartbeatAlarm = heartbeat;

    const hour = Duration.hours(1);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.days(14),
      widgets: [
        [
          new cloudwatch.TextWidget({
            markdown:
              '# trailguard\nKeeps every CloudTrail trail of this region integrated with CloudWatch Logs. Outcomes are counted by the Audit step (one per audited run); alarms email the notification topic.',
            width: 24,
            height: 2,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Fixes over time (runs that remediated a trail, per hour)',
            left: [outcomeMetric('remediated', hour)],
            width: 12,
          }),
          new cloudwatch.GraphWidget({
            title: 'Outcomes per hour',
            left: OUTCOMES.filter((o) => o !== 'compliant').map((o) => outcomeMetric(o, hour)),
            stacked: true,
            width: 12,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Workflow executions',
            left: [
              sm.metricStarted({ period: hour, statistic: cloudwatch.Stats.SUM }),
              sm.metricSucceeded({ period: hour, statistic: cloudwatch.Stats.SUM }),
              sm.metricFailed({ period: hour, statistic: cloudwatch.Stats.SUM }),
              sm.metricTimedOut({ period: hour, statistic: cloudwatch.Stats.SUM }),
            ],
            width: 12,
          }),
          new cloudwatch.GraphWidget({
            title: 'Execution duration (ms)',
            left: [
              sm.metricTime({ period: hour, statistic: cloudwatch.Stats.AVERAGE, label: 'average' }),
              sm.metricTime({ period: hour, statistic: cloudwatch.Stats.p(90), label: 'p90' }),
              sm.metricTime({ period: hour, statistic: cloudwatch.Stats.MAXIMUM, label: 'max' }),
            ],
            width: 12,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Time to remediate (seconds from the event to the verified fix)',
            left: [
              timeToRemediateMetric(cloudwatch.Stats.p(50)),
              timeToRemediateMetric(cloudwatch.Stats.p(95)),
            ],
            width: 24,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Failures: dead-letter messages and sweep errors',
            left: Object.entries(props.deadLetterQueues).map(([name, queue]) =>
              queue.metricApproximateNumberOfMessagesVisible({
                period: PERIOD,
                statistic: cloudwatch.Stats.MAXIMUM,
                label: name,
              }),
            ),
            right: [
              props.sweepFunction.metricErrors({
                period: PERIOD,
                statistic: cloudwatch.Stats.SUM,
                label: 'sweep errors',
              }),
            ],
            width: 12,
          }),
          new cloudwatch.AlarmStatusWidget({
            title: 'Alarms',
            alarms: Object.values(this.alarms),
            width: 12,
          }),
        ],
      ],
    });
  }
}
