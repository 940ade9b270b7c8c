/**
 * The sweep: a schedule (every `sweepIntervalMinutes`, default hourly) invokes the sweep function, which lists
 * and assesses every trail of the region and starts the workflow for each one that is not compliant. The same
 * function fans dependency events out (see trigger.ts). Failed asynchronous invocations (after Lambda's own
 * retries) land in an encrypted queue; so do schedule events EventBridge cannot deliver.
 *
 * In a hub (config.accounts set), or a single account with config.regions, the schedule starts the organization
 * sweep instead (organization-sweep.ts): a state machine that asks the function for the guarded accounts and
 * regions and sweeps each account-region.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { type Config, guardsSeveralRegionsOrAccounts } from '../../policies/config.js';
import { sweepEnvFor, sweepEnvSchema } from '../../services/handlers/env.js';
import { SWEEP_ENTRY } from '../../services/handlers/registry.js';
import { policyContext, stringifyEnvironment, TrailguardFunction, validateEnvironment } from './functions.js';
import { TrailguardOrganizationSweep } from './organization-sweep.js';
import { deadLetterQueue, TARGET_RETRY, tagRule } from './trigger.js';

/** The sweep function lists and reads every trail of the region: more room than a step. */
export const SWEEP_TIMEOUT = Duration.minutes(2);
/** Lambda's own retries of a failed asynchronous invocation, and how stale an event may get. */
export const SWEEP_ASYNC = { retryAttempts: 2, maxEventAge: Duration.hours(1) } as const;

export interface TrailguardSweepProps {
  config: Config;
  topic: sns.ITopic;
  auditTable: dynamodb.ITable;
  /** The state table: the sweep records each healthy log group's snapshot there. */
  stateTable?: dynamodb.ITable;
  stateMachine: sfn.IStateMachine;
  /** Default: the registry's SWEEP_ENTRY. */
  entry?: string;
  logRetention?: logs.RetentionDays;
  /** A hub's organization id when it is not in the configuration (see policyContext). */
  organizationId?: string;
}

export class TrailguardSweep extends Construct {
  readonly handler: TrailguardFunction;
  readonly schedule: events.Rule;
  /** Schedule events EventBridge could not deliver to the function. */
  readonly scheduleDeadLetterQueue: sqs.Queue;
  /** Invocations (scheduled or dependency events) that failed after Lambda's retries. */
  readonly failureQueue: sqs.Queue;
  readonly environment: Record<string, string>;
  /** The organization sweep (config.accounts or config.regions set): what the schedule starts. */
  readonly organizationSweep?: TrailguardOrganizationSweep;

  constructor(scope: Construct, id: string, props: TrailguardSweepProps) {
    super(scope, id);
    const environment = stringifyEnvironment(
      sweepEnvFor(props.config, {
        topicArn: props.topic.topicArn,
        auditTableName: props.auditTable.tableName,
        ...(props.stateTable ? { stateTableName: props.stateTable.tableName } : {}),
        accountId: Stack.of(this).account,
        stateMachineArn: props.stateMachine.stateMachineArn,
      }),
    );
    validateEnvironment(sweepEnvSchema(), environment, 'SweepEnvSchema');
    this.environment = environment;

    this.failureQueue = deadLetterQueue(
      this,
      'FailureQueue',
      'the sweep function (its failed asynchronous invocations, after retries)',
    );
    this.handler = new TrailguardFunction(this, 'Sweep', {
      name: 'Sweep',
      entry: props.entry ?? SWEEP_ENTRY,
      description: 'trailguard sweep: assess every trail on a schedule; fan dependency events out to trails',
      environment,
      policy: policyContext(this, { ...props, stateMachineArn: props.stateMachine.stateMachineArn }),
      timeout: SWEEP_TIMEOUT,
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      asyncInvoke: { ...SWEEP_ASYNC, onFailure: new destinations.SqsDestination(this.failureQueue) },
    });

    this.scheduleDeadLetterQueue = deadLetterQueue(
      this,
      'ScheduleDeadLetterQueue',
      "the sweep schedule's Lambda target",
    );
    const every = `every ${props.config.sweepIntervalMinutes} minutes`;
    this.schedule = new events.Rule(this, 'Schedule', {
      description: guardsSeveralRegionsOrAccounts(props.config)
        ? `trailguard: sweep every trail of every guarded account and region ${every}`
        : `trailguard: sweep every trail of the region ${every}`,
      schedule: events.Schedule.rate(Duration.minutes(props.config.sweepIntervalMinutes)),
    });
    tagRule(this.schedule, 'Sweep');
    const delivery = { deadLetterQueue: this.scheduleDeadLetterQueue, ...TARGET_RETRY };
    if (!guardsSeveralRegionsOrAccounts(props.config)) {
      this.schedule.addTarget(new targets.LambdaFunction(this.handler.function, delivery));
    } else {
      this.organizationSweep = new TrailguardOrganizationSweep(this, 'OrganizationSweep', {
        sweepFunction: this.handler.function,
        ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      });
      this.schedule.addTarget(new targets.SfnStateMachine(this.organizationSweep.stateMachine, delivery));
    }
  }
}
