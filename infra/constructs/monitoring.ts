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
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../services/handlers/lambda.js';

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

export interface TrailguardMonitoringProps {
  topic: sns.ITopic;
  stateMachine: sfn.StateMachine;
  /** Each dead-letter or failure queue, by a name used in its alarm's description. */
  deadLetterQueues: Record<string, sqs.IQueue>;
  sweepFunction: lambda.IFunction;
  /** A hub's organization sweep: alarms when an execution fails (some account-regions not swept) or times out. */
  organizationSweep?: sfn.IStateMachine;
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
