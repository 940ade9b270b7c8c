/**
 * The deployed canary (config.canary): on its schedule, a Standard Step Functions workflow runs selftest's core
 * in each of config.canary.accounts (default: the stack's own; another account through its spoke's
 * trailguard-canary-access, infra/stacks/spoke-stack.ts) x each of config.canary.regions (default: the stack's
 * region); the Map named Regions iterates these account-region targets:
 *
 *   Regions (Map over the regions, one at a time)
 *     Setup -> Runnable? -(no room for a trail)-> Finish
 *                        -(yes)-> Breaks (Map over the four breaks, one at a time:
 *                                   Break -> WaitForFix (Wait 30 s) -> Check -> Fixed? -(not done)-> WaitForFix
 *                                     -(done)-> Verified? -(not fixed)-> CaseDone
 *                                       -(fixed)-> Probe (one object) -> WaitForDelivery (Wait 30 s)
 *                                          -> ConfirmDelivery -> Delivered? -(not yet)-> WaitForDelivery
 *                                                                           -(done)-> CaseDelivered)
 *                                 -> Finish
 *     any error of a region (Catch) -> FinishAfterError (cleanup, report, email)
 *   -> Passed? -(every case fixed)-> CanaryPassed  -(otherwise)-> CanaryFailed (Fail)
 *
 * A case is fixed only when the canary re-read is clean, the run's audit record is there and the data event of an
 * object written after the fix reached the trail's log group, all within timeoutMinutes of the break.
 * Four breaks of up to timeoutMinutes each outlast any function: the waiting is Step Functions' (Wait states).
 * The canary function (services/handlers/canary.ts) acts through the canary role, scoped by resource name to
 * trailguard-canary-* trails, log groups and roles and to the canary bucket, and trusted only by the function's
 * own role. Metrics: CanaryFixed (1/0) and TimeToRemediate (seconds) with dimensions account and region; an
 * alarm per region on CanaryFixed (missing data breaching: a canary that did not run alarms too).
 */

import { join } from 'node:path';
import { type CfnResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { type Config, canaryIntervalMinutes, renderTemplate } from '../../policies/config.js';
import { CANARY_FIXED_METRIC, type CanaryEnv, CanaryEnvSchema } from '../../services/aws/canary-steps.js';
import {
  BREAKS,
  CANARY_KEY_PREFIX,
  CANARY_MEMBER_ROLE_NAME,
  CANARY_PREFIX,
} from '../../services/domain/canary.js';
import { CIS_NAME_PREFIX } from '../../services/domain/cis-monitoring.js';
import { METRICS_NAMESPACE, SERVICE_NAME, TIME_TO_REMEDIATE_METRIC } from '../../services/handlers/lambda.js';
import { FUNCTION_BUNDLING, nagFlatten, powertoolsLayers, REPO_ROOT } from './functions.js';
import { STATE_MACHINE_METADATA_KEY } from './organization-sweep.js';
import { loggedStateMachine } from './workflow.js';

/** The canary state machine's metadata value under STATE_MACHINE_METADATA_KEY. */
export const CANARY_STATE_MACHINE_METADATA = 'canary';

export const CANARY_STATES = [
  'Regions',
  'Setup',
  'FinishSetupFailed',
  'Runnable',
  'NotRunnable',
  'FinishNotRunnable',
  'Breaks',
  'IsFirst',
  'FirstBreak',
  'NextBreak',
  'Break',
  'WaitForFix',
  'Check',
  'Fixed',
  'Verified',
  'CaseDone',
  'Probe',
  'WaitForDelivery',
  'ConfirmDelivery',
  'Delivered',
  'CaseDelivered',
  'Finish',
  'FinishAfterError',
  'Summarize',
  'Passed',
  'CanaryPassed',
  'CanaryFailed',
] as const;

/** Seconds between two re-reads of a broken canary. */
export const CANARY_POLL_SECONDS = 30;

export interface TrailguardCanaryProps {
  config: Config & { canary: NonNullable<Config['canary']> };
  topic: sns.ITopic;
  auditTable: dynamodb.ITable;
}

export class TrailguardCanary extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly functionRole: iam.Role;
  readonly canaryRole: iam.Role;
  readonly bucket: s3.Bucket;
  readonly stateMachine: sfn.StateMachine;
  readonly schedule: events.Rule;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: TrailguardCanaryProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { canary } = props.config;
    const regions = canary.regions ?? [stack.region];
    const account = stack.account;
    const partition = stack.partition;
    // Every account (default: the stack's own) x every region: one canary each, one after the other.
    const targets = (canary.accounts ?? [account]).flatMap((a) =>
      regions.map((region) => ({ account: a, region })),
    );

    // The canary bucket: CloudTrail delivers the canaries' logs under trailguard-canary/<run>/<region>/logs,
    // admitted only for this account's trailguard-canary-* trails ("Amazon S3 bucket policy for CloudTrail").
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ expiration: Duration.days(7), prefix: `${CANARY_KEY_PREFIX}/` }],
    });
    const canaryTrails = `arn:${partition}:cloudtrail:*:${account}:trail/${CANARY_PREFIX}*`;
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AWSCloudTrailAclCheck',
        principals: [new iam.ServicePrincipal('cloudtrail.amazonaws.com')],
        actions: ['s3:GetBucketAcl'],
        resources: [this.bucket.bucketArn],
        conditions: { ArnLike: { 'aws:SourceArn': canaryTrails } },
      }),
    );
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AWSCloudTrailWrite',
        principals: [new iam.ServicePrincipal('cloudtrail.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects(`${CANARY_KEY_PREFIX}/*/logs/AWSLogs/${account}/*`)],
        conditions: {
          StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' },
          ArnLike: { 'aws:SourceArn': canaryTrails },
        },
      }),
    );
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'The canary bucket holds only the canary trails’ own log files for the minutes a canary exists (removed after each run, expired after 7 days); its writes are themselves logged by the canary trail as data events.',
    });

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.functionRole = new iam.Role(this, 'FunctionRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'trailguard canary function',
    });
    logGroup.grantWrite(this.functionRole);
    // Only what the canary's check calls: Query of its trail's records (services/aws/canary-steps.ts), and the
    // table key's Decrypt. Not grantReadData, whose stream actions apply to a stream this table does not have.
    props.auditTable.grant(this.functionRole, 'dynamodb:Query');
    props.auditTable.encryptionKey?.grantDecrypt(this.functionRole);
    props.topic.grantPublish(this.functionRole);

    // The canary role: trusted only by the canary function's role, scoped by resource name.
    this.canaryRole = new iam.Role(this, 'CanaryRole', {
      assumedBy: new iam.ArnPrincipal(this.functionRole.roleArn),
      description: 'trailguard canary: creates, breaks and removes trailguard-canary-* resources only',
    });
    this.canaryRole.grantAssumeRole(this.functionRole);
    // In the other accounts of canary.accounts: the spoke's canary role, by exact name (infra/stacks/spoke-stack.ts).
    if (canary.accounts) {
      this.functionRole.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'AssumeMemberCanaryRoles',
          actions: ['sts:AssumeRole'],
          resources: canary.accounts.map((a) => `arn:${partition}:iam::${a}:role/${CANARY_MEMBER_ROLE_NAME}`),
        }),
      );
    }
    const canaryStatements = canaryRoleStatements({
      partition,
      account,
      bucketArn: this.bucket.bucketArn,
      config: props.config,
    });
    for (const statement of canaryStatements) this.canaryRole.addToPrincipalPolicy(statement);
    const canaryReasons = CANARY_STATEMENT_REASONS;
    for (const statement of canaryStatements) {
      const json = stack.resolve(statement.toStatementJson()) as {
        Sid?: string;
        Action?: unknown;
        Resource?: unknown;
      };
      const list = (v: unknown) => (Array.isArray(v) ? v : v === undefined ? [] : [v]);
      // AwsSolutions-IAM5 is about what a policy grants: a Deny's wildcards grant nothing.
      if ((json as { Effect?: string }).Effect === 'Deny') continue;
      const findings = [
        ...list(json.Action)
          .filter((a) => String(a).includes('*'))
          .map((a) => `Action::${a}`),
        ...list(json.Resource)
          .map(nagFlatten)
          .filter((r) => r.includes('*'))
          .map((r) => `Resource::${r}`),
      ];
      for (const finding of findings) {
        Validations.of(this.canaryRole).acknowledge({
          id: `AwsSolutions-IAM5[${finding}]`,
          reason: `trailguard canary role, ${json.Sid}: ${canaryReasons[json.Sid ?? ''] ?? 'scoped to the canary'}.`,
        });
      }
    }
    Validations.of(this.functionRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Canary function role: xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing, added by CDK) support no resource-level permissions.',
    });
    Validations.of(this.functionRole).acknowledge({
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason:
        'Canary function role: publishing to the encrypted notification topic needs kms:GenerateDataKey* on its key only, as CDK’s grantPublish grants it.',
    });

    const env: CanaryEnv = {
      TRAILGUARD_CANARY_ROLE_ARN: this.canaryRole.roleArn,
      TRAILGUARD_CANARY_BUCKET: this.bucket.bucketName,
      TRAILGUARD_AUDIT_TABLE: props.auditTable.tableName,
      TRAILGUARD_TOPIC_ARN: props.topic.topicArn,
      TRAILGUARD_CANARY_TIMEOUT_MINUTES: canary.timeoutMinutes,
      TRAILGUARD_DELIVERY_ROLE_NAME: props.config.deliveryRoleName,
      TRAILGUARD_CANARY_CIS_ALARMS: props.config.cisMonitoring,
    };
    // Tokens are checked at deploy time; the literal values (timeout) now.
    CanaryEnvSchema.shape.TRAILGUARD_CANARY_TIMEOUT_MINUTES.parse(env.TRAILGUARD_CANARY_TIMEOUT_MINUTES);
    CanaryEnvSchema.shape.TRAILGUARD_DELIVERY_ROLE_NAME.parse(env.TRAILGUARD_DELIVERY_ROLE_NAME);
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      description: 'trailguard canary: the steps of the deployed selftest',
      entry: join(REPO_ROOT, 'services/handlers/canary.ts'),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 512,
      timeout: Duration.minutes(5),
      role: this.functionRole,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      tracing: lambda.Tracing.ACTIVE,
      environment: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])),
      layers: powertoolsLayers(this),
      bundling: FUNCTION_BUNDLING,
    });

    const step = (name: string, payload: Record<string, unknown>, resultPath: string) =>
      new tasks.LambdaInvoke(this, name, {
        stateName: name,
        lambdaFunction: this.function,
        payload: sfn.TaskInput.fromObject(payload),
        payloadResponseOnly: true,
        resultPath,
        retryOnServiceExceptions: true,
      });

    const finish = step(
      'Finish',
      {
        action: 'finish',
        'region.$': '$.region',
        'account.$': '$.account',
        'canary.$': '$.setup.canary',
        'cases.$': '$.cases',
      },
      '$.report',
    );
    const finishNotRunnable = new sfn.Pass(this, 'NotRunnable', {
      stateName: 'NotRunnable',
      parameters: {
        'region.$': '$.region',
        'account.$': '$.account',
        'notRunnable.$': '$.setup.notRunnable',
      },
    }).next(
      step(
        'FinishNotRunnable',
        {
          action: 'finish',
          'region.$': '$.region',
          'account.$': '$.account',
          'notRunnable.$': '$.notRunnable',
        },
        '$.report',
      ),
    );
    const finishAfterError = step(
      'FinishAfterError',
      {
        action: 'finish',
        'region.$': '$.region',
        'account.$': '$.account',
        'canary.$': '$.setup.canary',
        'error.$': '$.error',
      },
      '$.report',
    );

    const breakTask = step(
      'Break',
      { action: 'break', 'canary.$': '$.canary', 'break.$': '$.break', 'first.$': '$.first' },
      '$.broken',
    );
    const wait = new sfn.Wait(this, 'WaitForFix', {
      stateName: 'WaitForFix',
      time: sfn.WaitTime.duration(Duration.seconds(CANARY_POLL_SECONDS)),
    });
    const check = step(
      'Check',
      { action: 'check', 'canary.$': '$.canary', 'break.$': '$.break', 'brokenAt.$': '$.broken.brokenAt' },
      '$.check',
    );
    const caseDone = new sfn.Pass(this, 'CaseDone', {
      stateName: 'CaseDone',
      parameters: { 'case.$': '$.check.case', 'seen.$': '$.check.seen' },
    });
    // Found fixed: one object written, then its data event looked for in CloudWatch Logs until it arrives or
    // the case's time is up (proof of delivery end to end).
    const probe = step('Probe', { action: 'probe', 'canary.$': '$.canary', 'break.$': '$.break' }, '$.probe');
    const waitForDelivery = new sfn.Wait(this, 'WaitForDelivery', {
      stateName: 'WaitForDelivery',
      time: sfn.WaitTime.duration(Duration.seconds(CANARY_POLL_SECONDS)),
    });
    const confirmDelivery = step(
      'ConfirmDelivery',
      {
        action: 'delivery',
        'canary.$': '$.canary',
        'break.$': '$.break',
        'brokenAt.$': '$.broken.brokenAt',
        'key.$': '$.probe.key',
        'writtenAt.$': '$.probe.writtenAt',
        'case.$': '$.check.case',
      },
      '$.delivery',
    );
    const delivered = new sfn.Choice(this, 'Delivered', { stateName: 'Delivered' })
      .when(
        sfn.Condition.booleanEquals('$.delivery.done', true),
        new sfn.Pass(this, 'CaseDelivered', {
          stateName: 'CaseDelivered',
          parameters: { 'case.$': '$.delivery.case', 'seen.$': '$.delivery.seen' },
        }),
      )
      .otherwise(waitForDelivery);
    probe.next(waitForDelivery);
    waitForDelivery.next(confirmDelivery);
    confirmDelivery.next(delivered);
    // Two choices, not one And: a Choice comparing a path that is absent (no case before `done`) fails the run.
    const verified = new sfn.Choice(this, 'Verified', { stateName: 'Verified' })
      .when(sfn.Condition.booleanEquals('$.check.case.fixed', true), probe)
      .otherwise(caseDone);
    const fixed = new sfn.Choice(this, 'Fixed', { stateName: 'Fixed' })
      .when(sfn.Condition.booleanEquals('$.check.done', true), verified)
      .otherwise(wait);
    const breaks = new sfn.Map(this, 'Breaks', {
      stateName: 'Breaks',
      itemsPath: '$.breaks',
      maxConcurrency: 1,
      itemSelector: {
        'canary.$': '$.setup.canary',
        'break.$': '$$.Map.Item.Value',
        // The first break finds the canary as Setup made it; the others put it back first.
        'index.$': '$$.Map.Item.Index',
      },
      resultPath: '$.cases',
    });
    const isFirst = new sfn.Choice(this, 'IsFirst', { stateName: 'IsFirst' })
      .when(
        sfn.Condition.numberEquals('$.index', 0),
        new sfn.Pass(this, 'FirstBreak', {
          stateName: 'FirstBreak',
          parameters: { 'canary.$': '$.canary', 'break.$': '$.break', first: true },
        }).next(breakTask),
      )
      .otherwise(
        new sfn.Pass(this, 'NextBreak', {
          stateName: 'NextBreak',
          parameters: { 'canary.$': '$.canary', 'break.$': '$.break', first: false },
        }).next(breakTask),
      );
    breakTask.next(wait);
    wait.next(check);
    check.next(fixed);
    breaks.itemProcessor(isFirst);

    const setup = step(
      'Setup',
      { action: 'setup', 'region.$': '$.region', 'account.$': '$.account' },
      '$.setup',
    );
    // Setup removes what it made before failing: nothing of a canary to clean up, only the report and email.
    setup.addCatch(
      step(
        'FinishSetupFailed',
        { action: 'finish', 'region.$': '$.region', 'account.$': '$.account', 'error.$': '$.error' },
        '$.report',
      ),
      { resultPath: '$.error' },
    );
    const runnable = new sfn.Choice(this, 'Runnable', { stateName: 'Runnable' })
      .when(sfn.Condition.isPresent('$.setup.notRunnable'), finishNotRunnable)
      .otherwise(breaks.next(finish));
    breaks.addCatch(finishAfterError, { resultPath: '$.error' });
    setup.next(runnable);

    const perRegion = new sfn.Map(this, 'Regions', {
      stateName: 'Regions',
      // One item per account and region (the state keeps its name: one account's regions by default).
      itemsPath: '$.targets',
      maxConcurrency: 1,
      itemSelector: {
        'region.$': '$$.Map.Item.Value.region',
        'account.$': '$$.Map.Item.Value.account',
        breaks: [...BREAKS],
      },
      resultSelector: { 'passed.$': '$[*].report.passed' },
      resultPath: '$.result',
    });
    perRegion.itemProcessor(setup);
    const anyFailed = new sfn.Pass(this, 'Summarize', {
      stateName: 'Summarize',
      parameters: { 'anyFailed.$': 'States.ArrayContains($.result.passed, false)' },
    });
    const passed = new sfn.Choice(this, 'Passed', { stateName: 'Passed' })
      .when(
        sfn.Condition.booleanEquals('$.anyFailed', false),
        new sfn.Succeed(this, 'CanaryPassed', { stateName: 'CanaryPassed' }),
      )
      .otherwise(
        new sfn.Fail(this, 'CanaryFailed', {
          stateName: 'CanaryFailed',
          error: 'TrailguardCanaryNotFixed',
          cause: 'trailguard did not fix its canary: see the email and the execution output',
        }),
      );
    const timeoutMinutes = canary.timeoutMinutes;
    const { stateMachine } = loggedStateMachine(this, {
      definition: perRegion.next(anyFailed).next(passed),
      // Per region: setup, four breaks of up to timeoutMinutes (+ one poll), cleanup.
      timeout: Duration.minutes(targets.length * (4 * (timeoutMinutes + 1) + 10)),
      comment: 'trailguard canary: breaks a canary trail four ways per region and checks that each is fixed',
      invokedFunctions: [this.function],
    });
    this.stateMachine = stateMachine;
    // Not the remediation workflow (services/local/workflow-runner.ts tells the state machines apart by this).
    (stateMachine.node.defaultChild as sfn.CfnStateMachine).addMetadata(
      STATE_MACHINE_METADATA_KEY,
      CANARY_STATE_MACHINE_METADATA,
    );

    this.schedule = new events.Rule(this, 'Schedule', {
      description: 'trailguard canary: runs the deployed selftest',
      schedule: events.Schedule.expression(canary.schedule),
    });
    this.schedule.addTarget(
      new eventTargets.SfnStateMachine(stateMachine, {
        input: events.RuleTargetInput.fromObject({ targets }),
      }),
    );

    const intervalMinutes = canaryIntervalMinutes(canary.schedule);
    const notify = new actions.SnsAction(props.topic);
    for (const { account: where, region } of targets) {
      const id = `Canary${canary.accounts ? where : ''}${region.replace(/[^a-z0-9]/g, '')}Alarm`;
      const alarm = new cloudwatch.Alarm(this, id, {
        // Two schedule intervals (at most 7 days, CloudWatch's longest evaluation range): a run that did not
        // fix every case (Minimum 0), or no run at all (missing data, breaching), alarms; one late run does not.
        metric: canaryFixedMetric(where, region, Duration.minutes(Math.min(2 * intervalMinutes, 10_080))),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        alarmDescription: `trailguard did not fix its canary in ${where}/${region} within ${timeoutMinutes} minutes (or the canary did not run): the canary's email names where it went missing (docs/operations.md, "After deploying").`,
      });
      alarm.addAlarmAction(notify);
      this.alarms.push(alarm);
    }
    (this.function.node.defaultChild as CfnResource).addMetadata('trailguard:function', 'Canary');
  }
}

/** CanaryFixed of one account and region: its minimum over the period is 0 when any case was not fixed. */
export function canaryFixedMetric(account: string, region: string, period: Duration): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: CANARY_FIXED_METRIC,
    dimensionsMap: { service: SERVICE_NAME, account, region },
    statistic: cloudwatch.Stats.MINIMUM,
    period,
  });
}

export { TIME_TO_REMEDIATE_METRIC };

/**
 * The canary role's statements: writes scoped by name to trailguard-canary-* (trails, log groups, roles), the
 * log group the guardrail's fix gives a canary trail (the configured template rendered for a canary trail),
 * the grant the fix puts on the delivery role for a canary log group (removed at cleanup), the canary bucket's
 * prefix; reads of trails (what other trails use) and of the delivery role.
 */
export function canaryRoleStatements(p: {
  partition: string;
  account: string;
  /** The stack's canary bucket (the hub's account); absent: each run creates its own bucket in the account. */
  bucketArn?: string;
  config: Pick<Config, 'logGroupNameTemplate' | 'deliveryRoleName' | 'cisMonitoring'>;
}): iam.PolicyStatement[] {
  const { partition, account } = p;
  const trails = `arn:${partition}:cloudtrail:*:${account}:trail/${CANARY_PREFIX}*`;
  const fixGroup = renderTemplate(p.config.logGroupNameTemplate, {
    trail: `${CANARY_PREFIX}*`,
    account,
    region: '*',
  });
  const groups = [...new Set([`${CANARY_PREFIX}*`, fixGroup])].map(
    (name) => `arn:${partition}:logs:*:${account}:log-group:${name}`,
  );
  const canaryRoles = `arn:${partition}:iam::${account}:role/${CANARY_PREFIX}*`;
  const deliveryRole = `arn:${partition}:iam::${account}:role/${p.config.deliveryRoleName}`;
  return [
    new iam.PolicyStatement({
      sid: 'CanaryTrails',
      actions: [
        'cloudtrail:CreateTrail',
        'cloudtrail:UpdateTrail',
        'cloudtrail:DeleteTrail',
        'cloudtrail:StartLogging',
        'cloudtrail:StopLogging',
        'cloudtrail:PutEventSelectors',
        'cloudtrail:GetEventSelectors',
        'cloudtrail:GetTrailStatus',
      ],
      resources: [trails],
    }),
    new iam.PolicyStatement({
      sid: 'ReadTrails',
      actions: ['cloudtrail:GetTrail'],
      resources: [`arn:${partition}:cloudtrail:*:${account}:trail/*`],
    }),
    new iam.PolicyStatement({
      sid: 'ListTrails',
      actions: ['cloudtrail:DescribeTrails', 'cloudtrail:ListTrails', 'sts:GetCallerIdentity'],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'CanaryLogGroups',
      // FilterLogEvents: the proof of delivery looks for the canary object's data event there.
      actions: ['logs:CreateLogGroup', 'logs:DeleteLogGroup', 'logs:FilterLogEvents'],
      resources: groups,
    }),
    new iam.PolicyStatement({
      sid: 'DescribeLogGroups',
      actions: ['logs:DescribeLogGroups'],
      // The Service Authorization Reference ("Actions, resources, and condition keys for Amazon CloudWatch Logs")
      // lists no resource type for DescribeLogGroups: only "*" authorizes it. It lists; it changes nothing.
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'CanaryRoles',
      actions: [
        'iam:CreateRole',
        'iam:DeleteRole',
        'iam:GetRole',
        'iam:PutRolePolicy',
        'iam:GetRolePolicy',
        'iam:DeleteRolePolicy',
        'iam:ListRolePolicies',
        'iam:ListAttachedRolePolicies',
        'iam:DetachRolePolicy',
      ],
      resources: [canaryRoles],
    }),
    new iam.PolicyStatement({
      sid: 'PassCanaryRoleToCloudTrail',
      actions: ['iam:PassRole'],
      resources: [canaryRoles],
      conditions: { StringEquals: { 'iam:PassedToService': 'cloudtrail.amazonaws.com' } },
    }),
    new iam.PolicyStatement({
      sid: 'DeliveryRoleCanaryGrant',
      actions: [
        'iam:GetRole',
        'iam:ListRolePolicies',
        'iam:GetRolePolicy',
        'iam:ListAttachedRolePolicies',
        'iam:DeleteRolePolicy',
      ],
      resources: [deliveryRole],
    }),
    ...(p.bucketArn
      ? [
          new iam.PolicyStatement({
            sid: 'CanaryObjects',
            actions: ['s3:PutObject', 's3:DeleteObject'],
            resources: [`${p.bucketArn}/${CANARY_KEY_PREFIX}/*`],
          }),
          new iam.PolicyStatement({
            sid: 'ListCanaryObjects',
            actions: ['s3:ListBucket'],
            resources: [p.bucketArn],
            conditions: { StringLike: { 's3:prefix': [`${CANARY_KEY_PREFIX}/*`] } },
          }),
        ]
      : ownBucketStatements(partition, account)),
    // The spoke's canary role (trailguard-canary-access) matches role/trailguard-canary-*: no IAM action on it,
    // neither by itself nor by the hub's canary role in an account that has a spoke too.
    new iam.PolicyStatement({
      sid: 'NotItself',
      effect: iam.Effect.DENY,
      actions: ['iam:*'],
      resources: [`arn:${partition}:iam::${account}:role/${CANARY_MEMBER_ROLE_NAME}`],
    }),
    // With cisMonitoring the guardrail's fixes give the canary's log groups CIS alarms, named
    // trailguard-cis-<control>-<log group> (services/domain/cis-monitoring.ts cisAlarmName): cleanup removes
    // those of the canary's groups only. DescribeAlarms and DeleteAlarms take the alarm resource (Service
    // Authorization Reference, "Actions, resources, and condition keys for Amazon CloudWatch").
    ...(p.config.cisMonitoring
      ? [
          new iam.PolicyStatement({
            sid: 'CanaryCisAlarms',
            actions: ['cloudwatch:DescribeAlarms', 'cloudwatch:DeleteAlarms'],
            resources: [
              `arn:${partition}:cloudwatch:*:${account}:alarm:${CIS_NAME_PREFIX}*${CANARY_PREFIX}*`,
            ],
          }),
        ]
      : []),
  ];
}

/**
 * A run's own bucket in an account other than the hub's (services/domain/canary.ts canaryBucketName:
 * `trailguard-canary-<account>-<region>-<run>`): created with the canary, given CloudTrail's bucket policy, and
 * removed with everything in it at cleanup.
 */
function ownBucketStatements(partition: string, account: string): iam.PolicyStatement[] {
  const buckets = `arn:${partition}:s3:::${CANARY_PREFIX}${account}-*`;
  return [
    new iam.PolicyStatement({
      sid: 'CanaryBuckets',
      actions: ['s3:CreateBucket', 's3:DeleteBucket', 's3:PutBucketPolicy', 's3:ListBucket'],
      resources: [buckets],
    }),
    new iam.PolicyStatement({
      sid: 'CanaryObjects',
      actions: ['s3:PutObject', 's3:DeleteObject'],
      resources: [`${buckets}/*`],
    }),
  ];
}

/**
 * The spoke's canary role (`trailguard-canary-access`) in another account: the canary statements for that account,
 * with the run's own bucket, and a Deny of every IAM action on itself (its role statements cover
 * `role/trailguard-canary-*`, which its own name matches).
 */
export function memberCanaryRoleStatements(p: {
  partition: string;
  account: string;
  config: Pick<Config, 'logGroupNameTemplate' | 'deliveryRoleName' | 'cisMonitoring'>;
}): iam.PolicyStatement[] {
  // canaryRoleStatements ends with the Deny of IAM on trailguard-canary-access: here, the role itself.
  return canaryRoleStatements(p);
}

/** Why each canary statement needs a wildcard (cdk-nag acknowledgements). */
export const CANARY_STATEMENT_REASONS: Record<string, string> = {
  CanaryTrails: 'only trails named trailguard-canary-* (in any region the canary covers)',
  ReadTrails:
    'reads only: cleanup reads every other trail to know which log group or role another trail still uses',
  ListTrails:
    'cloudtrail:DescribeTrails/ListTrails and sts:GetCallerIdentity support no resource-level permissions',
  CanaryLogGroups:
    'only log groups named trailguard-canary-* and the one the guardrail’s fix gives a canary trail (the configured template for trail trailguard-canary-*)',
  DescribeLogGroups:
    'logs:DescribeLogGroups supports no resource-level permissions (Service Authorization Reference)',
  CanaryRoles: 'only roles named trailguard-canary-*',
  PassCanaryRoleToCloudTrail: 'only trailguard-canary-* roles, only to CloudTrail',
  CanaryObjects:
    'only objects under the canary bucket’s trailguard-canary/ prefix, or in a run’s own canary bucket',
  CanaryBuckets: 'only the run’s own buckets, named trailguard-canary-<account>-*',
  CanaryCisAlarms:
    'only the CIS alarms of trailguard-canary-* log groups (trailguard-cis-<control>-<log group>), which cleanup removes',
  NotItself: 'a Deny of IAM on trailguard-canary-access',
};
