/**
 * The organization sweep (a hub: config.accounts set): a Step Functions state machine that fans the sweep out
 * over every guarded account x region, so a sweep of hundreds of account-regions needs no loop of ours. The sweep
 * schedule starts it (infra/constructs/sweep.ts) instead of invoking the sweep function directly.
 *
 *   ListTargets (sweep function, {kind: 'targets'} -> {targets: [{kind: 'target', account, region, id}]})
 *     -> AnyTargets -(none)-> SweepComplete
 *     -> SweepTargets (Distributed Map, Express child executions, at most ORGANIZATION_SWEEP_CONCURRENCY at once)
 *          SweepTarget (sweep function, {kind: 'target', account, region}) -> SweepTargetDone ({account, region,
 *            failed: false}); any error after retries (Catch) -> SweepTargetFailed ({account, region, failed: true,
 *            error})
 *     -> Summarize ({targets, anyFailed, results}) -> AnyTargetFailed -(yes)-> SweepIncomplete (Fail)
 *                                                                      -(no)-> SweepComplete
 *
 * One account-region that fails (its spoke missing, its remediation role not trusting the hub) does not stop the
 * others: each child execution catches its own error, and the execution fails at the end, listing the failed
 * ones (the OrganizationSweepFailed alarm, infra/constructs/monitoring.ts). The sweep function's Errors alarm
 * fires too, also for a child that fails outside its Catch (tolerated: the map goes on). State names are a
 * contract for the local runner and the tests.
 *
 * Limit: the targets travel in the execution's state (256 KB), about 3,000 account-regions; beyond that the
 * targets would have to be read from S3 (ItemReader).
 */
import { type CfnResource, Duration, Fn, Names, Stack, Validations } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { RETRIES } from './workflow.js';

export const ORGANIZATION_SWEEP_STATES = [
  'ListTargets',
  'AnyTargets',
  'SweepTargets',
  'SweepTarget',
  'SweepTargetDone',
  'SweepTargetFailed',
  'Summarize',
  'AnyTargetFailed',
  'SweepIncomplete',
  'SweepComplete',
] as const;
export type OrganizationSweepState = (typeof ORGANIZATION_SWEEP_STATES)[number];

/** How many account-regions are swept at once (child executions of the Distributed Map). */
export const ORGANIZATION_SWEEP_CONCURRENCY = 10;

/** The Fail state's error when some account-regions could not be swept. */
export const SWEEP_INCOMPLETE_ERROR = 'TrailguardSweepIncomplete';

/** How long one organization sweep may take. */
export const ORGANIZATION_SWEEP_TIMEOUT = Duration.hours(6);

/** CDK metadata key on the organization sweep's CfnStateMachine (the workflow's has none). */
export const STATE_MACHINE_METADATA_KEY = 'trailguard:state-machine';
export const ORGANIZATION_SWEEP_METADATA = 'OrganizationSweep';

/** The sweep function's inputs the organization sweep sends (services/handlers/sweep.ts). */
export const TARGETS_INPUT = { kind: 'targets' } as const;

export interface TrailguardOrganizationSweepProps {
  /** The sweep function: lists the targets, then sweeps one account-region per invocation. */
  sweepFunction: lambda.IFunction;
  logRetention?: logs.RetentionDays;
}

export class TrailguardOrganizationSweep extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: TrailguardOrganizationSweepProps) {
    super(scope, id);
    const fn = props.sweepFunction;
    const invoke = (name: OrganizationSweepState, payload: sfn.TaskInput | undefined, resultPath: string) => {
      const t = new tasks.LambdaInvoke(this, name, {
        stateName: name,
        lambdaFunction: fn,
        ...(payload ? { payload } : {}),
        payloadResponseOnly: true,
        retryOnServiceExceptions: false,
        resultPath,
      });
      t.addRetry(RETRIES.lambdaService);
      t.addRetry(RETRIES.transient);
      return t;
    };

    // The function's answer ({..., targets: [{kind: 'target', account, region, id}]}) goes to $.listed; each
    // item is already the input of one account-region's sweep (its id names that sweep's executions, so a
    // retried item starts nothing twice).
    const listTargets = invoke('ListTargets', sfn.TaskInput.fromObject(TARGETS_INPUT), '$.listed');

    // One account-region: the item, {kind: 'target', account, region}, is the function's input. Each item's
    // output is small and says whether it failed (the function's result is discarded), so that the map's output
    // fits in the state and the failures can be told without a filter.
    const sweepTarget = invoke('SweepTarget', undefined, sfn.JsonPath.DISCARD);
    const item = { account: sfn.JsonPath.stringAt('$.account'), region: sfn.JsonPath.stringAt('$.region') };
    const targetDone = new sfn.Pass(this, 'SweepTargetDone', {
      stateName: 'SweepTargetDone',
      parameters: { ...item, failed: false },
    });
    const targetFailed = new sfn.Pass(this, 'SweepTargetFailed', {
      stateName: 'SweepTargetFailed',
      parameters: { ...item, failed: true, error: sfn.JsonPath.stringAt('$.error.Error') },
    });
    sweepTarget.addCatch(targetFailed, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    sweepTarget.next(targetDone);

    const sweepTargets = new sfn.DistributedMap(this, 'SweepTargets', {
      stateName: 'SweepTargets',
      itemsPath: sfn.JsonPath.stringAt('$.listed.targets'),
      maxConcurrency: ORGANIZATION_SWEEP_CONCURRENCY,
      mapExecutionType: sfn.StateMachineType.EXPRESS,
      // A child execution that fails outside its Catch (an Express child's 5-minute limit) must not stop the
      // map from sweeping the others; the sweep function's Errors alarm reports its failure.
      toleratedFailurePercentage: 100,
      resultPath: '$.results',
    });
    sweepTargets.itemProcessor(sweepTarget);

    const summarize = new sfn.Pass(this, 'Summarize', {
      stateName: 'Summarize',
      parameters: {
        targets: sfn.JsonPath.arrayLength(sfn.JsonPath.listAt('$.listed.targets')),
        // JsonPath.arrayContains renders no boolean: the intrinsic as written.
        'anyFailed.$': 'States.ArrayContains($.results[*].failed, true)',
        results: sfn.JsonPath.listAt('$.results'),
      },
    });
    const incomplete = new sfn.Fail(this, 'SweepIncomplete', {
      stateName: 'SweepIncomplete',
      error: SWEEP_INCOMPLETE_ERROR,
      cause:
        'The sweep failed in some guarded account-regions (the Summarize state output lists each one: account, region, failed, error); the others were swept. Is the spoke deployed there, and does its remediation role trust the hub?',
    });
    const complete = new sfn.Succeed(this, 'SweepComplete', { stateName: 'SweepComplete' });
    const anyFailed = new sfn.Choice(this, 'AnyTargetFailed', { stateName: 'AnyTargetFailed' })
      .when(sfn.Condition.booleanEquals('$.anyFailed', true), incomplete)
      .otherwise(complete);
    const anyTargets = new sfn.Choice(this, 'AnyTargets', { stateName: 'AnyTargets' })
      .when(sfn.Condition.isPresent('$.listed.targets[0]'), sweepTargets.next(summarize).next(anyFailed))
      .otherwise(complete);

    const definition = listTargets.next(anyTargets);

    this.logGroup = new logs.LogGroup(this, 'ExecutionLogs', {
      // As the workflow's: vended-logs prefix, a name unique to this stack.
      logGroupName: `/aws/vendedlogs/states/${Names.uniqueResourceName(this, { maxLength: 80 })}-${Fn.select(2, Fn.split('/', Stack.of(this).stackId))}`,
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: ORGANIZATION_SWEEP_TIMEOUT,
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      comment: 'trailguard: sweep every guarded account and region',
    });
    (this.stateMachine.node.defaultChild as sfn.CfnStateMachine).addMetadata(
      STATE_MACHINE_METADATA_KEY,
      ORGANIZATION_SWEEP_METADATA,
    );
    this.acknowledgeNagFindings(fn);
  }

  /** cdk-nag findings on the state machine's role that CDK's grants produce and that are accepted. */
  private acknowledgeNagFindings(fn: lambda.IFunction): void {
    const role = this.stateMachine.role;
    const path = role.node.path;
    const stack = Stack.of(this);
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: `State machine role ${path}: the CloudWatch Logs vended-log delivery actions (logs:CreateLogDelivery and related) and X-Ray tracing actions that CDK grants for logging and tracing support no resource-level permissions.`,
    });
    const fnId = stack.getLogicalId(fn.node.defaultChild as CfnResource);
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${fnId}.Arn>:*]`,
      reason: `State machine role ${path}: lambda:InvokeFunction on the versions and aliases (":*") of the trailguard sweep function ${fn.node.path} only, as CDK's LambdaInvoke grants it.`,
    });
    // The Distributed Map's own grant (CDK): its child executions are executions of this state machine, named
    // by Step Functions; DescribeExecution/StopExecution/RedriveExecution on those of this state machine only.
    const machineId = stack.getLogicalId(this.stateMachine.node.defaultChild as CfnResource);
    const executions = `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${machineId}"}]}]}`;
    const distributedMapPolicy = this.stateMachine.node.tryFindChild('DistributedMapPolicy') ?? role;
    for (const suffix of [':*', '/*:*']) {
      Validations.of(distributedMapPolicy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${executions}${suffix}]`,
        reason: `State machine ${this.stateMachine.node.path}: the Distributed Map's child executions (Step Functions names them) of this state machine only: states:DescribeExecution, states:StopExecution and states:RedriveExecution, as CDK's DistributedMap grants them.`,
      });
    }
  }
}
