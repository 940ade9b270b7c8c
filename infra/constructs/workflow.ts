/**
 * The remediation workflow (Step Functions, Standard). State names are a contract: the local runner, the tests
 * and the CLI rely on them.
 *
 *   Check -> Decide -(compliant)-> Compliant
 *                   -(remediate)-> RestoreLogGroup -> RestoreRole -> RestoreTrail -> Verify -> Notify
 *                   -(notify|skip)-> Notify -> UpdateFindings -> Audit -> Done
 *   a task's error (Catch States.ALL, $.error) -> Capture<Task>Failure -> NotifyFailure -> UpdateFindingsFailure
 *     -> AuditFailure -> Failed
 *   a restore step's BlockedByPolicyError or KmsKeyRefusedError (a policy or KMS key someone else owns refused
 *     the repair; services/domain/access-denied.ts), caught before States.ALL, $.error) -> BlockedByPolicy
 *     (outcome `notified`) -> Notify -> UpdateFindings -> Audit -> Done: a person must act, the run did not fail
 *
 * With config.deliveryCheckMinutes > 0, a remediated run does not end at Audit:
 *   Audit -> DeliveryCheckDue -(remediated)-> WaitForDelivery -> CheckDelivery -> DeliveryConfirmed
 *     -(confirmed)-> UpdateFindingsDelivery (RESOLVED) -> AuditDelivery -> Done
 *     -(not confirmed)-> NotifyDelivery -> UpdateFindingsDelivery (NOTIFIED, and why) -> AuditDelivery -> Done
 *   -(any other outcome)-> Done
 * so a finding is RESOLVED only once logs are seen to arrive; before that, UpdateFindings only adds a note.
 * Without a delivery check (deliveryCheckMinutes 0) UpdateFindings resolves it right after Verify.
 * The run's email and its (write-once) audit record are already out when the wait starts; the delivery check
 * adds its own record (and, when delivery is not confirmed, its own email). These states have no Catch:
 * the run's outcome is recorded, so an error here fails the execution with the step's own error and cause
 * (the ExecutionsFailed alarm, infra/constructs/monitoring.ts, tells the team) rather than a second "failed"
 * email about a trail that was fixed.
 *
 * UpdateFindings (Security Hub) runs after Notify and before Audit on both paths, as its own function: the
 * email goes out first, Security Hub's state is then brought in line, and the audit record shows what was
 * done there. It records Security Hub errors instead of throwing (best effort), so its Catch only sees
 * failures of the function itself.
 *
 * Each guarded task has its own capture state (a Pass) that records which step failed, so the failure email,
 * the audit record and the CLI can name it: Step Functions' Catch adds only {Error, Cause}, and a shared state
 * after it could not tell where the error came from.
 */
import { type CfnResource, Duration, Fn, Names, Stack, Validations } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { NOTIFIED_ERRORS } from '../../services/domain/access-denied.js';
import type { StepName } from './functions.js';

/** The states of the delivery check: present only when config.deliveryCheckMinutes > 0. */
export const DELIVERY_CHECK_STATES = [
  'DeliveryCheckDue',
  'WaitForDelivery',
  'CheckDelivery',
  'DeliveryConfirmed',
  'NotifyDelivery',
  'UpdateFindingsDelivery',
  'AuditDelivery',
] as const;

export const STATE_NAMES = [
  'Check',
  'Decide',
  'Compliant',
  'RestoreLogGroup',
  'RestoreRole',
  'RestoreTrail',
  'Verify',
  'Notify',
  'UpdateFindings',
  'Audit',
  'Done',
  'BlockedByPolicy',
  'CaptureCheckFailure',
  'CaptureRestoreLogGroupFailure',
  'CaptureRestoreRoleFailure',
  'CaptureRestoreTrailFailure',
  'CaptureVerifyFailure',
  'CaptureNotifyFailure',
  'CaptureUpdateFindingsFailure',
  'CaptureAuditFailure',
  'NotifyFailure',
  'UpdateFindingsFailure',
  'AuditFailure',
  'Failed',
  ...DELIVERY_CHECK_STATES,
] as const;
export type StateName = (typeof STATE_NAMES)[number];

/** The tasks of the main path: any error of theirs goes to the failure path, through their capture state. */
export const GUARDED_TASKS = [
  'Check',
  'RestoreLogGroup',
  'RestoreRole',
  'RestoreTrail',
  'Verify',
  'Notify',
  'UpdateFindings',
  'Audit',
] as const satisfies readonly StateName[];
export type GuardedTask = (typeof GUARDED_TASKS)[number];

/** The Pass state a guarded task's Catch goes to: it records the task's name as the failed `step`. */
export function captureStateOf<T extends GuardedTask>(task: T): `Capture${T}Failure` & StateName {
  return `Capture${task}Failure` as `Capture${T}Failure` & StateName;
}

/** The Fail state's error: what a failed execution reports. */
export const FAILURE_ERROR = 'TrailguardRemediationFailed';

/** Lambda service errors worth retrying (not the function's own errors). */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];

/** The retry policy of every task. Only these errors are retried; anything else fails at once. */
export const RETRIES = {
  lambdaService: {
    errors: LAMBDA_SERVICE_ERRORS,
    interval: Duration.seconds(1),
    maxAttempts: 3,
    backoffRate: 2,
  },
  transient: {
    errors: ['TransientAwsError'],
    interval: Duration.seconds(2),
    maxAttempts: 3,
    backoffRate: 2,
    jitterStrategy: sfn.JitterType.FULL,
  },
  /** RestoreTrail only: a new delivery role takes a while to be accepted by CloudTrail (~2 minutes). */
  iamPropagation: {
    errors: ['IamPropagationPendingError'],
    interval: Duration.seconds(4),
    maxAttempts: 5,
    backoffRate: 2,
    maxDelay: Duration.seconds(60),
  },
  /**
   * Verify only: IAM is eventually consistent ("changes ... might not be immediately visible", IAM User Guide,
   * "Troubleshoot IAM"): a role just written may read back old for a few seconds. About 30 s in all, then the
   * failure path reports the trail not compliant.
   */
  iamReadConsistency: {
    errors: ['IamPropagationPendingError'],
    interval: Duration.seconds(2),
    maxAttempts: 4,
    backoffRate: 2,
  },
} satisfies Record<string, sfn.RetryProps>;

/** The execution's identity, passed to Check and to the failure path. */
const EXECUTION = {
  id: sfn.JsonPath.stringAt('$$.Execution.Id'),
  startTime: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
};

/** How long the rest of a run may take, besides the delivery check's wait. */
export const BASE_TIMEOUT = Duration.minutes(15);

export interface TrailguardWorkflowProps {
  functions: Record<StepName, lambda.IFunction>;
  /**
   * config.deliveryCheckMinutes: how long a remediated run waits before CheckDelivery re-reads the trail's
   * status. 0 (the default here) leaves the delivery check out of the definition.
   */
  deliveryCheckMinutes?: number;
  /** Execution timeout. Default 15 minutes plus the delivery check's wait. */
  timeout?: Duration;
  /** Retention of the execution log group. Default one year. */
  logRetention?: logs.RetentionDays;
}

export class TrailguardWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;
  /** The functions the tasks invoke (each once, in step order). */
  readonly taskFunctions: lambda.IFunction[];

  constructor(scope: Construct, id: string, props: TrailguardWorkflowProps) {
    super(scope, id);
    const fns = props.functions;

    const task = (name: StateName, step: StepName, payload?: sfn.TaskInput) => {
      const t = new tasks.LambdaInvoke(this, name, {
        stateName: name,
        lambdaFunction: fns[step],
        // The function's result replaces the state: no Payload/StatusCode wrapper, no extra states.
        payloadResponseOnly: true,
        retryOnServiceExceptions: false,
        ...(payload ? { payload } : {}),
      });
      t.addRetry(RETRIES.lambdaService);
      t.addRetry(RETRIES.transient);
      return t;
    };

    // Failure path.
    const failed = new sfn.Fail(this, 'Failed', {
      stateName: 'Failed',
      error: FAILURE_ERROR,
      cause:
        'A trailguard workflow step failed; the failure was sent to the notification topic and recorded in the audit table where possible (see the execution history).',
    });
    const auditFailure = task('AuditFailure', 'Audit');
    auditFailure.addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: '$.auditError' });
    auditFailure.next(failed);
    // A failure of the Security Hub step itself (not a Security Hub error, which it records) must not keep
    // the failure from being audited: its input goes on to AuditFailure unchanged.
    const updateFindingsFailure = task('UpdateFindingsFailure', 'UpdateFindings');
    updateFindingsFailure.addCatch(auditFailure, {
      errors: [sfn.Errors.ALL],
      resultPath: sfn.JsonPath.DISCARD,
    });
    updateFindingsFailure.next(auditFailure);
    const notifyFailure = task('NotifyFailure', 'Notify');
    notifyFailure.addCatch(updateFindingsFailure, {
      errors: [sfn.Errors.ALL],
      resultPath: '$.notificationError',
    });
    notifyFailure.next(updateFindingsFailure);
    /**
     * Catch on a main-path task: the error goes to `$.error`, then the task's own capture state wraps the
     * failed state's input as {failed, step, execution} (the failure envelope) and joins the failure path.
     */
    // A repair refused by a policy (or KMS key) someone else owns: the run ends `notified` on the main path,
    // with the error in $.error for the email, the Security Hub note and the audit record (services/domain/blocked.ts).
    const blockedByPolicy = new sfn.Pass(this, 'BlockedByPolicy', {
      stateName: 'BlockedByPolicy',
      result: sfn.Result.fromString('notified'),
      resultPath: '$.outcome',
    });
    const guarded = <T extends tasks.LambdaInvoke>(
      t: T,
      name: GuardedTask,
      options: { notifiedOnBlock?: boolean } = {},
    ): T => {
      // Catchers are tried in order: this one must come before States.ALL.
      if (options.notifiedOnBlock) {
        t.addCatch(blockedByPolicy, { errors: [...NOTIFIED_ERRORS], resultPath: '$.error' });
      }
      const capture = new sfn.Pass(this, captureStateOf(name), {
        stateName: captureStateOf(name),
        parameters: { failed: sfn.JsonPath.entirePayload, step: name, execution: EXECUTION },
      });
      capture.next(notifyFailure);
      t.addCatch(capture, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
      return t;
    };

    // Main path.
    const check = guarded(
      task(
        'Check',
        'Check',
        sfn.TaskInput.fromObject({ input: sfn.JsonPath.entirePayload, execution: EXECUTION }),
      ),
      'Check',
    );
    const blockable = { notifiedOnBlock: true };
    const restoreLogGroup = guarded(task('RestoreLogGroup', 'RestoreLogGroup'), 'RestoreLogGroup', blockable);
    const restoreRole = guarded(task('RestoreRole', 'RestoreRole'), 'RestoreRole', blockable);
    const restoreTrail = guarded(task('RestoreTrail', 'RestoreTrail'), 'RestoreTrail', blockable);
    restoreTrail.addRetry(RETRIES.iamPropagation);
    const verify = guarded(task('Verify', 'Verify'), 'Verify');
    verify.addRetry(RETRIES.iamReadConsistency);
    const notify = guarded(task('Notify', 'Notify'), 'Notify');
    const updateFindings = guarded(task('UpdateFindings', 'UpdateFindings'), 'UpdateFindings');
    const audit = guarded(task('Audit', 'Audit'), 'Audit');
    const done = new sfn.Succeed(this, 'Done', { stateName: 'Done' });
    const compliant = new sfn.Succeed(this, 'Compliant', { stateName: 'Compliant' });

    const decision = (value: string) => sfn.Condition.stringEquals('$.decision', value);
    const decide = new sfn.Choice(this, 'Decide', { stateName: 'Decide' })
      .when(decision('compliant'), compliant)
      .when(decision('remediate'), restoreLogGroup)
      .when(sfn.Condition.or(decision('notify'), decision('skip')), notify)
      // Check validates its output, so this is unreachable; if it ever happens, Notify rejects the context
      // and the failure path reports it instead of the execution ending silently.
      .otherwise(notify);

    restoreLogGroup.next(restoreRole).next(restoreTrail).next(verify).next(notify);
    blockedByPolicy.next(notify);
    notify.next(updateFindings).next(audit);
    const waitMinutes = props.deliveryCheckMinutes ?? 0;
    if (waitMinutes > 0) {
      const wait = new sfn.Wait(this, 'WaitForDelivery', {
        stateName: 'WaitForDelivery',
        time: sfn.WaitTime.duration(Duration.minutes(waitMinutes)),
      });
      const checkDelivery = task('CheckDelivery', 'CheckDelivery');
      const notifyDelivery = task('NotifyDelivery', 'Notify');
      // Security Hub after the check: RESOLVED when confirmed, else NOTIFIED with the reason.
      const updateFindingsDelivery = task('UpdateFindingsDelivery', 'UpdateFindings');
      const auditDelivery = task('AuditDelivery', 'Audit');
      const confirmed = new sfn.Choice(this, 'DeliveryConfirmed', { stateName: 'DeliveryConfirmed' })
        .when(sfn.Condition.stringEquals('$.deliveryCheck.status', 'confirmed'), updateFindingsDelivery)
        .otherwise(notifyDelivery);
      notifyDelivery.next(updateFindingsDelivery);
      updateFindingsDelivery.next(auditDelivery);
      auditDelivery.next(done);
      const due = new sfn.Choice(this, 'DeliveryCheckDue', { stateName: 'DeliveryCheckDue' })
        .when(sfn.Condition.stringEquals('$.outcome', 'remediated'), wait.next(checkDelivery).next(confirmed))
        .otherwise(done);
      audit.next(due);
    } else {
      audit.next(done);
    }
    const definition = check.next(decide);

    // The functions the tasks invoke, in step order: each guarded task invokes the function of the step of the
    // same name; the delivery check adds CheckDelivery's (NotifyDelivery and AuditDelivery reuse Notify and Audit).
    this.taskFunctions = [
      ...GUARDED_TASKS.map((step) => fns[step]),
      ...(waitMinutes > 0 ? [fns.CheckDelivery] : []),
    ];
    const { logGroup, stateMachine } = loggedStateMachine(this, {
      definition,
      timeout: props.timeout ?? BASE_TIMEOUT.plus(Duration.minutes(waitMinutes)),
      comment: 'trailguard: keep CloudTrail trails integrated with CloudWatch Logs',
      invokedFunctions: this.taskFunctions,
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
    });
    this.logGroup = logGroup;
    this.stateMachine = stateMachine;
  }
}

/**
 * A Standard state machine as trailguard runs them (the workflow, the organization sweep): its execution log
 * group, every event logged without execution data, X-Ray tracing; and the cdk-nag findings CDK's grants for
 * these and for invoking `invokedFunctions` produce, acknowledged on its role.
 */
export function loggedStateMachine(
  scope: Construct,
  props: {
    definition: sfn.IChainable;
    timeout: Duration;
    comment: string;
    /** The functions its tasks invoke (LambdaInvoke grants each one's versions and aliases). */
    invokedFunctions: readonly lambda.IFunction[];
    logRetention?: logs.RetentionDays;
  },
): { logGroup: logs.LogGroup; stateMachine: sfn.StateMachine } {
  const logGroup = new logs.LogGroup(scope, 'ExecutionLogs', {
    // The /aws/vendedlogs/ prefix keeps Step Functions' log delivery from growing the account's CloudWatch
    // Logs resource policy. The name is derived (construct path + the stack's unique id), so a retained log
    // group of a deleted stack never collides with a new one.
    logGroupName: `/aws/vendedlogs/states/${Names.uniqueResourceName(scope, { maxLength: 80 })}-${Fn.select(2, Fn.split('/', Stack.of(scope).stackId))}`,
    retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
  });
  const stateMachine = new sfn.StateMachine(scope, 'StateMachine', {
    definitionBody: sfn.DefinitionBody.fromChainable(props.definition),
    stateMachineType: sfn.StateMachineType.STANDARD,
    timeout: props.timeout,
    tracingEnabled: true,
    logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    comment: props.comment,
  });

  const role = stateMachine.role;
  const path = role.node.path;
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: `State machine role ${path}: the CloudWatch Logs vended-log delivery actions (logs:CreateLogDelivery and related) and X-Ray tracing actions that CDK grants for logging and tracing support no resource-level permissions.`,
  });
  const seen = new Set<string>();
  for (const fn of props.invokedFunctions) {
    const logicalId = Stack.of(scope).getLogicalId(fn.node.defaultChild as CfnResource);
    if (seen.has(logicalId)) continue;
    seen.add(logicalId);
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`,
      reason: `State machine role ${path}: lambda:InvokeFunction on the versions and aliases (":*") of the trailguard function ${fn.node.path} only, as CDK's LambdaInvoke grants it.`,
    });
  }
  return { logGroup, stateMachine };
}
