/**
 * The organization sweep (a hub: config.accounts set; or a single account with config.regions, whose one account
 * is the list): a Step Functions state machine that fans the sweep out
 * over every guarded account x region, so a sweep of hundreds or thousands of account-regions needs no loop of
 * ours. The sweep schedule starts it (infra/constructs/sweep.ts) instead of invoking the sweep function directly.
 *
 *   ListTargets (sweep function, {kind: 'targets'} -> {accounts, regions, id})
 *     -> AnyTargets -(none)-> SweepComplete
 *     -> SweepAccounts (Distributed Map over the accounts, one Express child execution per account, at most
 *        ORGANIZATION_SWEEP_CONCURRENCY at once; item {account, regions, id})
 *          SweepRegions (inline Map over the account's regions, at most REGION_SWEEP_CONCURRENCY at once)
 *            SweepTarget (sweep function, {kind: 'target', account, region, id}; keeps its `status`)
 *              -> SweepTargetStatus -> SweepTargetDone / SweepTargetNotEnrolled / SweepTargetNotEnabled
 *                 ({failed: false, gap, s: <letter>}); any error after retries (Catch) -> SweepTargetFailed
 *                 ({failed: true, gap: false, s: 'x', error: '<region>: <name>'})
 *          -> SweepAccountDone -> AnyRegionFailed -(failed)-> SweepAccountErrors -> SweepAccountFailed ({account,
 *                                                  failed: true, failedRegions, error, statuses})
 *                                                 -(a gap)-> SweepAccountGaps ({account, failed: false, statuses})
 *                                                 -(no)-> SweepAccountSwept ({account, failed: false})
 *     -> Summarize ({accounts, regions, reported, anyFailed, results}) -> AnyTargetFailed
 *          -(a region failed, or fewer accounts reported than listed)-> SweepIncomplete (Fail)
 *          -(otherwise)-> SweepComplete
 *
 * One account-region that fails (its spoke missing, its remediation role not trusting the hub) does not stop the
 * others: each region's sweep catches its own error, and the execution fails at the end, listing the accounts
 * that failed (the OrganizationSweepFailed alarm, infra/constructs/monitoring.ts). The sweep function's Errors
 * alarm fires too.
 * State names are a contract for the local runner and the tests.
 *
 * Why per account, not per account-region: what travels in the execution's state stays small. Step Functions
 * limits a state's input and output to 256 KiB ("Step Functions service quotas", quotas related to state
 * throttling and payload size); the state carries the account ids once (about 15 bytes each) and, per account,
 * its id and `"failed":false`, or, with a coverage gap or an error, also one letter per region (`statuses`, in the
 * order of the listed regions: STATUS_CODES) and, on an error, how many failed and the first error (about 220
 * bytes at 17 regions). So `trailguard sweep --engine deployed` can tell each account-region's status, and the
 * worst case, 1,000 accounts x 17 regions all failed, is about 221 KB (test/infra/organization-sweep-limits
 * measures it on the synthesized states); beyond the limit the execution fails (States.DataLimitExceeded), visibly. A list of
 * account-region items (about 170 bytes each, with the results) would reach it at about 1,000 account-regions.
 * One child per account also costs one state transition per account, not per account-region, and its regions
 * are swept by few function containers, which keep the account's credentials.
 *
 * A child that fails as a whole (outside its Catch: an Express child's 5-minute limit) is tolerated, so that the
 * map goes on, and counted: Summarize's `reported` is then lower than `accounts`, and the sweep fails. Its time
 * limits are sized so that no child reaches that limit (the constants below; test/infra/organization-sweep-limits).
 *
 * Coverage gaps are not failures: a target in an account without a spoke (not-enrolled) or in a region not
 * enabled there (not-enabled) returns normally with that status (services/aws/sweep.ts), so SweepIncomplete (and
 * its alarm) fires only on an error.
 */
import { type CfnResource, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { MAX_SWEPT_REGIONS, STATUS_CODES } from '../../services/domain/sweep.js';
import { loggedStateMachine, RETRIES } from './workflow.js';

export { MAX_SWEPT_REGIONS };

export const ORGANIZATION_SWEEP_STATES = [
  'ListTargets',
  'AnyTargets',
  'SweepAccounts',
  'SweepRegions',
  'SweepTarget',
  'SweepTargetStatus',
  'SweepTargetDone',
  'SweepTargetNotEnrolled',
  'SweepTargetNotEnabled',
  'SweepTargetFailed',
  'SweepAccountDone',
  'AnyRegionFailed',
  'SweepAccountSwept',
  'SweepAccountGaps',
  'SweepAccountErrors',
  'SweepAccountFailed',
  'Summarize',
  'AnyTargetFailed',
  'SweepIncomplete',
  'SweepComplete',
] as const;
export type OrganizationSweepState = (typeof ORGANIZATION_SWEEP_STATES)[number];

/** How many accounts are swept at once (child executions of the Distributed Map). */
export const ORGANIZATION_SWEEP_CONCURRENCY = 10;

/**
 * Time limits (docs/architecture.md, "The organization sweep's time limits"). Each account is one Express child
 * execution, and an Express execution lasts at most 5 minutes, Distributed Map children included ("Step
 * Functions service quotas", https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html; "Choosing
 * workflow type", https://docs.aws.amazon.com/step-functions/latest/dg/choosing-workflow-type.html). A child past
 * it fails as a whole and its account drops out ("unreported"). So a child's worst case must stay under it:
 *
 *   one target   = (1 + retries) x SWEEP_TARGET_TIMEOUT + the retry waits      = 3 x 30 s + 1 s + 2 s = 93 s
 *   one child    = ceil(regions / REGION_SWEEP_CONCURRENCY) x one target       = 3 x 93 s = 279 s for 42 regions
 *
 * SweepTarget's own task timeout (TimeoutSeconds) bounds an attempt whatever the function does (the sweep
 * function's Lambda timeout is longer: it also lists the targets and fans dependency events out); a timed-out
 * attempt (States.Timeout) is not retried: the region is reported failed.
 */
export const EXPRESS_EXECUTION_LIMIT = Duration.minutes(5);
export const SWEEP_TARGET_TIMEOUT = Duration.seconds(30);
/** SweepTarget retries once on a Lambda service error and once on a transient AWS error (RETRIES' errors). */
export const SWEEP_TARGET_RETRIES = {
  lambdaService: { ...RETRIES.lambdaService, maxAttempts: 1 },
  transient: { ...RETRIES.transient, maxAttempts: 1 },
} satisfies Record<string, sfn.RetryProps>;

/**
 * How many regions of one account are swept at once (the child's inline Map; an inline Map runs at most 40
 * iterations at once: "Using Map state in Inline mode"). With 17 regions, 2 rounds (186 s at worst); up to
 * MAX_SWEPT_REGIONS, 3 rounds (279 s), within an Express child's 5 minutes.
 */
export const REGION_SWEEP_CONCURRENCY = 14;

/** The Fail state's error when some account-regions could not be swept. */
export const SWEEP_INCOMPLETE_ERROR = 'TrailguardSweepIncomplete';

/**
 * How long one organization sweep may take: above its worst case for 1,000 accounts of MAX_SWEPT_REGIONS regions,
 * ceil(1,000 / ORGANIZATION_SWEEP_CONCURRENCY) = 100 waves of children at 279 s, plus ListTargets' worst case
 * (7 attempts of the sweep function's 120 s, plus waits: 861 s): 28,761 s, about 8 h. (17 regions: 100 x 186 s
 * + 861 s, about 5.4 h.) A Standard execution may run for a year; typical sweeps take minutes.
 */
export const ORGANIZATION_SWEEP_TIMEOUT = Duration.hours(12);

/** CDK metadata key on the organization sweep's CfnStateMachine (the workflow's has none). */
export const STATE_MACHINE_METADATA_KEY = 'trailguard:state-machine';
export const ORGANIZATION_SWEEP_METADATA = 'OrganizationSweep';

/** The sweep function's inputs the organization sweep sends (services/domain/sweep.ts). */
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
    const invoke = (
      name: OrganizationSweepState,
      payload: sfn.TaskInput | undefined,
      resultPath: string,
      limits: {
        retries: { lambdaService: sfn.RetryProps; transient: sfn.RetryProps };
        timeout?: Duration;
        resultSelector?: Record<string, unknown>;
      } = {
        retries: RETRIES,
      },
    ) => {
      const t = new tasks.LambdaInvoke(this, name, {
        stateName: name,
        lambdaFunction: fn,
        ...(payload ? { payload } : {}),
        payloadResponseOnly: true,
        retryOnServiceExceptions: false,
        resultPath,
        ...(limits.timeout ? { taskTimeout: sfn.Timeout.duration(limits.timeout) } : {}),
        ...(limits.resultSelector ? { resultSelector: limits.resultSelector } : {}),
      });
      t.addRetry(limits.retries.lambdaService);
      t.addRetry(limits.retries.transient);
      return t;
    };

    // The function's answer ({accounts, regions, id, ...}) goes to $.listed.
    const listTargets = invoke('ListTargets', sfn.TaskInput.fromObject(TARGETS_INPUT), '$.listed');

    // One account-region: {kind: 'target', account, region, id} is the function's input (the id names that
    // sweep's executions, so a retried item starts nothing twice). Of the function's answer only its `status`
    // is kept. Each region's output is small: {failed, gap, s: <one-letter status, STATUS_CODES>}, and
    // {failed: true, error: '<region>: <error name>', s: 'x'} after an error.
    // Bounded so that a child's worst case stays within an Express execution's 5 minutes (see the constants).
    const sweepTarget = invoke('SweepTarget', undefined, '$.result', {
      retries: SWEEP_TARGET_RETRIES,
      timeout: SWEEP_TARGET_TIMEOUT,
      resultSelector: { status: sfn.JsonPath.stringAt('$.status') },
    });
    const targetPass = (name: OrganizationSweepState, status: 'swept' | 'not-enrolled' | 'not-enabled') =>
      new sfn.Pass(this, name, {
        stateName: name,
        parameters: { failed: false, gap: status !== 'swept', s: STATUS_CODES[status] },
      });
    const targetDone = targetPass('SweepTargetDone', 'swept');
    const targetFailed = new sfn.Pass(this, 'SweepTargetFailed', {
      stateName: 'SweepTargetFailed',
      parameters: {
        failed: true,
        gap: false,
        s: STATUS_CODES.error,
        error: sfn.JsonPath.format(
          '{}: {}',
          sfn.JsonPath.stringAt('$.region'),
          sfn.JsonPath.stringAt('$.error.Error'),
        ),
      },
    });
    sweepTarget.addCatch(targetFailed, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    const statusIs = (status: string) =>
      sfn.Condition.and(
        sfn.Condition.isPresent('$.result.status'),
        sfn.Condition.stringEquals('$.result.status', status),
      );
    sweepTarget.next(
      new sfn.Choice(this, 'SweepTargetStatus', { stateName: 'SweepTargetStatus' })
        .when(statusIs('not-enrolled'), targetPass('SweepTargetNotEnrolled', 'not-enrolled'))
        .when(statusIs('not-enabled'), targetPass('SweepTargetNotEnabled', 'not-enabled'))
        .otherwise(targetDone),
    );

    // One account (a child execution): its regions, then one result of bounded size: {failed: false}, or
    // {account, failed: true, failedRegions: <how many>, error: <the first>} (the others are in the sweep
    // function's log). No filter expression: a path that matches nothing is an error in some engines, so the
    // errors are gathered only on the branch where one exists.
    const sweepRegions = new sfn.Map(this, 'SweepRegions', {
      stateName: 'SweepRegions',
      itemsPath: sfn.JsonPath.stringAt('$.regions'),
      itemSelector: {
        kind: 'target',
        account: sfn.JsonPath.stringAt('$.account'),
        region: sfn.JsonPath.stringAt('$$.Map.Item.Value'),
        id: sfn.JsonPath.stringAt('$.id'),
      },
      maxConcurrency: REGION_SWEEP_CONCURRENCY,
      resultPath: '$.swept',
    });
    sweepRegions.itemProcessor(sweepTarget);
    // `statuses`: one letter per region, in the order of `regions` (a Map's output keeps its items' order).
    const accountDone = new sfn.Pass(this, 'SweepAccountDone', {
      stateName: 'SweepAccountDone',
      parameters: {
        account: sfn.JsonPath.stringAt('$.account'),
        'anyFailed.$': 'States.ArrayContains($.swept[*].failed, true)',
        'anyGap.$': 'States.ArrayContains($.swept[*].gap, true)',
        statuses: sfn.JsonPath.listAt('$.swept[*].s'),
        swept: sfn.JsonPath.listAt('$.swept'),
      },
    });
    // Its id even when all was swept: the CLI tells an account whose child failed as a whole (no result) from it.
    const accountSwept = new sfn.Pass(this, 'SweepAccountSwept', {
      stateName: 'SweepAccountSwept',
      parameters: { account: sfn.JsonPath.stringAt('$.account'), failed: false },
    });
    const accountGaps = new sfn.Pass(this, 'SweepAccountGaps', {
      stateName: 'SweepAccountGaps',
      parameters: {
        account: sfn.JsonPath.stringAt('$.account'),
        failed: false,
        statuses: sfn.JsonPath.listAt('$.statuses'),
      },
    });
    const accountErrors = new sfn.Pass(this, 'SweepAccountErrors', {
      stateName: 'SweepAccountErrors',
      parameters: {
        account: sfn.JsonPath.stringAt('$.account'),
        statuses: sfn.JsonPath.listAt('$.statuses'),
        errors: sfn.JsonPath.listAt('$.swept[*].error'),
      },
    });
    const accountFailed = new sfn.Pass(this, 'SweepAccountFailed', {
      stateName: 'SweepAccountFailed',
      parameters: {
        account: sfn.JsonPath.stringAt('$.account'),
        failed: true,
        failedRegions: sfn.JsonPath.arrayLength(sfn.JsonPath.listAt('$.errors')),
        error: sfn.JsonPath.arrayGetItem(sfn.JsonPath.listAt('$.errors'), 0),
        statuses: sfn.JsonPath.listAt('$.statuses'),
      },
    });
    const anyRegionFailed = new sfn.Choice(this, 'AnyRegionFailed', { stateName: 'AnyRegionFailed' })
      .when(sfn.Condition.booleanEquals('$.anyFailed', true), accountErrors.next(accountFailed))
      .when(sfn.Condition.booleanEquals('$.anyGap', true), accountGaps)
      .otherwise(accountSwept);

    const sweepAccounts = new sfn.DistributedMap(this, 'SweepAccounts', {
      stateName: 'SweepAccounts',
      itemsPath: sfn.JsonPath.stringAt('$.listed.accounts'),
      itemSelector: {
        account: sfn.JsonPath.stringAt('$$.Map.Item.Value'),
        regions: sfn.JsonPath.listAt('$.listed.regions'),
        id: sfn.JsonPath.stringAt('$.listed.id'),
      },
      maxConcurrency: ORGANIZATION_SWEEP_CONCURRENCY,
      mapExecutionType: sfn.StateMachineType.EXPRESS,
      // A child execution that fails outside its Catch (an Express child's 5-minute limit) must not stop the
      // map from sweeping the others; the sweep function's Errors alarm reports its failure.
      toleratedFailurePercentage: 100,
      resultPath: '$.results',
    });
    sweepAccounts.itemProcessor(sweepRegions.next(accountDone).next(anyRegionFailed));

    // `reported`: the accounts whose child execution ended with a result. A child that failed as a whole (an
    // Express child's 5-minute limit, tolerated so the map goes on) has none: fewer reported than listed is a
    // failed sweep too.
    const summarize = new sfn.Pass(this, 'Summarize', {
      stateName: 'Summarize',
      parameters: {
        accounts: sfn.JsonPath.arrayLength(sfn.JsonPath.listAt('$.listed.accounts')),
        regions: sfn.JsonPath.arrayLength(sfn.JsonPath.listAt('$.listed.regions')),
        reported: sfn.JsonPath.arrayLength(sfn.JsonPath.listAt('$.results[*].failed')),
        // JsonPath.arrayContains renders no boolean: the intrinsic as written.
        'anyFailed.$': 'States.ArrayContains($.results[*].failed, true)',
        results: sfn.JsonPath.listAt('$.results'),
      },
    });
    const incomplete = new sfn.Fail(this, 'SweepIncomplete', {
      stateName: 'SweepIncomplete',
      error: SWEEP_INCOMPLETE_ERROR,
      cause:
        'The sweep failed in some guarded account-regions; the others were swept. The Summarize state output lists each account with a failed region (how many failed, the first error as "<region>: <error name>"; the others are in the sweep function log), and counts as "reported" fewer accounts than listed when a child execution failed as a whole (see the map run). Is the spoke deployed there, and does its remediation role trust the hub?',
    });
    const complete = new sfn.Succeed(this, 'SweepComplete', { stateName: 'SweepComplete' });
    const anyFailed = new sfn.Choice(this, 'AnyTargetFailed', { stateName: 'AnyTargetFailed' })
      .when(
        sfn.Condition.or(
          sfn.Condition.booleanEquals('$.anyFailed', true),
          sfn.Condition.not(sfn.Condition.numberEqualsJsonPath('$.reported', '$.accounts')),
        ),
        incomplete,
      )
      .otherwise(complete);
    const anyTargets = new sfn.Choice(this, 'AnyTargets', { stateName: 'AnyTargets' })
      .when(
        sfn.Condition.and(
          sfn.Condition.isPresent('$.listed.accounts[0]'),
          sfn.Condition.isPresent('$.listed.regions[0]'),
        ),
        sweepAccounts.next(summarize).next(anyFailed),
      )
      .otherwise(complete);

    const definition = listTargets.next(anyTargets);

    const { logGroup, stateMachine } = loggedStateMachine(this, {
      definition,
      timeout: ORGANIZATION_SWEEP_TIMEOUT,
      comment: 'trailguard: sweep every guarded account and region',
      invokedFunctions: [fn],
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
    });
    this.logGroup = logGroup;
    this.stateMachine = stateMachine;
    (this.stateMachine.node.defaultChild as sfn.CfnStateMachine).addMetadata(
      STATE_MACHINE_METADATA_KEY,
      ORGANIZATION_SWEEP_METADATA,
    );
    this.acknowledgeNagFindings();
  }

  /** The cdk-nag findings CDK's Distributed Map grant produces, acknowledged (loggedStateMachine did the rest). */
  private acknowledgeNagFindings(): void {
    const role = this.stateMachine.role;
    const stack = Stack.of(this);
    // The Distributed Map's own grant (CDK): its child executions are executions of this state machine, named
    // by Step Functions; DescribeExecution/StopExecution/RedriveExecution on those of this state machine only.
    const machineId = stack.getLogicalId(this.stateMachine.node.defaultChild as CfnResource);
    // cdk-nag renders the region as the stack's: a token, or the region a stack pinned to one names.
    const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
    const executions = `arn:<AWS::Partition>:states:${region}:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${machineId}"}]}]}`;
    const distributedMapPolicy = this.stateMachine.node.tryFindChild('DistributedMapPolicy') ?? role;
    for (const suffix of [':*', '/*:*']) {
      Validations.of(distributedMapPolicy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${executions}${suffix}]`,
        reason: `State machine ${this.stateMachine.node.path}: the Distributed Map's child executions (Step Functions names them) of this state machine only: states:DescribeExecution, states:StopExecution and states:RedriveExecution, as CDK's DistributedMap grants them.`,
      });
    }
  }
}
