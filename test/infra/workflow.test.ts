/**
 * The synthesized template: the workflow's states and their retry/catch policy, the functions, the trigger,
 * the stateful resources, least-privilege grants, synth-time validation and cdk-nag.
 */
import { Aws, Lazy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app.js';
import {
  STEP_METADATA_KEY,
  validateEnvironment,
  validateHandlerEnvironment,
} from '../../infra/constructs/functions.js';
import {
  captureStateOf,
  DELIVERY_CHECK_STATES,
  GUARDED_TASKS,
  STATE_NAMES,
} from '../../infra/constructs/workflow.js';
import { ConfigError } from '../../policies/config.js';
import { HandlerEnvSchema, sweepEnvSchema } from '../../services/handlers/env.js';
import { STEP_ENTRIES } from '../../services/handlers/registry.js';
import { functionIds, onlyIdOfType, powertoolsParameterId, synth } from './template.js';

interface State {
  Type: string;
  Next?: string;
  End?: boolean;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  ResultPath?: string;
  OutputPath?: string;
  ResultSelector?: unknown;
  Retry?: {
    ErrorEquals: string[];
    IntervalSeconds?: number;
    MaxAttempts?: number;
    BackoffRate?: number;
    MaxDelaySeconds?: number;
    JitterStrategy?: string;
  }[];
  Catch?: { ErrorEquals: string[]; ResultPath?: string; Next: string }[];
  Choices?: {
    Variable?: string;
    StringEquals?: string;
    Or?: { Variable: string; StringEquals: string }[];
    Next: string;
  }[];
  Default?: string;
  Error?: string;
  Cause?: string;
  Seconds?: number;
}
interface Definition {
  StartAt: string;
  States: Record<string, State>;
  TimeoutSeconds?: number;
}

type Resources = Record<
  string,
  {
    Type: string;
    Properties: Record<string, unknown>;
    Metadata?: Record<string, unknown>;
    DeletionPolicy?: string;
  }
>;

let template: Template;
let resources: Resources;
let definition: Definition;
/** Logical id of each step's function. */
const stepFunctionIds: Record<string, string> = {};

/** The definition with each token replaced by a marker naming what it referenced. */
function parseDefinition(definitionString: unknown): Definition {
  const join = (definitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  const text = join[1]
    .map((part) => {
      if (typeof part === 'string') return part;
      const getAtt = (part as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
      if (getAtt) return `<${getAtt[0]}.${getAtt[1]}>`;
      throw new Error(`unexpected token in definition: ${JSON.stringify(part)}`);
    })
    .join('');
  return JSON.parse(text) as Definition;
}

const tasks = () => Object.entries(definition.States).filter(([, s]) => s.Type === 'Task');
const state = (name: string): State => {
  const s = definition.States[name];
  if (!s) throw new Error(`no state ${name}`);
  return s;
};
const stepOfResource = (resource: string | undefined) =>
  Object.entries(stepFunctionIds).find(([, id]) => resource === `<${id}.Arn>`)?.[0];

beforeAll(() => {
  const { stack } = buildApp({ bundling: false, nag: false });
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources as Resources;
  for (const [id, r] of Object.entries(resources)) {
    const step = r.Metadata?.[STEP_METADATA_KEY];
    if (r.Type === 'AWS::Lambda::Function' && step !== undefined) stepFunctionIds[String(step)] = id;
  }
  const machines = Object.values(resources).filter((r) => r.Type === 'AWS::StepFunctions::StateMachine');
  expect(machines).toHaveLength(1);
  definition = parseDefinition(machines[0]?.Properties.DefinitionString);
});

describe('workflow definition', () => {
  it('has exactly the contract states, starting at Check', () => {
    expect(definition.StartAt).toBe('Check');
    expect(Object.keys(definition.States).sort()).toEqual(
      [
        'Audit',
        'AuditFailure',
        'BlockedByPolicy',
        'CaptureAuditFailure',
        'CaptureCheckFailure',
        'CaptureNotifyFailure',
        'CaptureUpdateFindingsFailure',
        'CaptureRestoreLogGroupFailure',
        'CaptureRestoreRoleFailure',
        'CaptureRestoreTrailFailure',
        'CaptureVerifyFailure',
        'Check',
        'Compliant',
        'Decide',
        'Done',
        'Failed',
        'Notify',
        'NotifyFailure',
        // The delivery check (config.deliveryCheckMinutes, default 15).
        'DeliveryCheckDue',
        'WaitForDelivery',
        'CheckDelivery',
        'DeliveryConfirmed',
        'NotifyDelivery',
        'UpdateFindingsDelivery',
        'AuditDelivery',
        'RestoreLogGroup',
        'RestoreRole',
        'RestoreTrail',
        'UpdateFindings',
        'UpdateFindingsFailure',
        'Verify',
      ].sort(),
    );
  });

  it('invokes the right function from each task, with the result replacing the state', () => {
    const expected: Record<string, string> = {
      Check: 'Check',
      RestoreLogGroup: 'RestoreLogGroup',
      RestoreRole: 'RestoreRole',
      RestoreTrail: 'RestoreTrail',
      Verify: 'Verify',
      Notify: 'Notify',
      UpdateFindings: 'UpdateFindings',
      Audit: 'Audit',
      NotifyFailure: 'Notify',
      UpdateFindingsFailure: 'UpdateFindings',
      AuditFailure: 'Audit',
      CheckDelivery: 'CheckDelivery',
      NotifyDelivery: 'Notify',
      UpdateFindingsDelivery: 'UpdateFindings',
      AuditDelivery: 'Audit',
    };
    expect(Object.fromEntries(tasks().map(([name, s]) => [name, stepOfResource(s.Resource)]))).toEqual(
      expected,
    );
    for (const [, s] of tasks()) {
      // payloadResponseOnly: no ResultPath/OutputPath/ResultSelector, so the function's result is the state.
      expect(s.ResultPath).toBeUndefined();
      expect(s.OutputPath).toBeUndefined();
      expect(s.ResultSelector).toBeUndefined();
    }
  });

  it('passes Check the execution input and the execution identity; other tasks get the state', () => {
    expect(state('Check').Parameters).toEqual({
      'input.$': '$',
      execution: { 'id.$': '$$.Execution.Id', 'startTime.$': '$$.Execution.StartTime' },
    });
    for (const [name, s] of tasks()) if (name !== 'Check') expect(s.Parameters, name).toBeUndefined();
  });

  it('every task retries Lambda service errors and TransientAwsError, and nothing else but IAM propagation on RestoreTrail and Verify', () => {
    for (const [name, s] of tasks()) {
      const retry = s.Retry ?? [];
      expect(retry[0], name).toEqual({
        ErrorEquals: [
          'Lambda.ServiceException',
          'Lambda.AWSLambdaException',
          'Lambda.SdkClientException',
          'Lambda.TooManyRequestsException',
        ],
        IntervalSeconds: 1,
        MaxAttempts: 3,
        BackoffRate: 2,
      });
      expect(retry[1], name).toEqual({
        ErrorEquals: ['TransientAwsError'],
        IntervalSeconds: 2,
        MaxAttempts: 3,
        BackoffRate: 2,
        JitterStrategy: 'FULL',
      });
      const retried = retry.flatMap((r) => r.ErrorEquals);
      expect(retried, name).not.toContain('States.ALL');
      expect(retried, name).not.toContain('States.TaskFailed');
      expect(retried.includes('IamPropagationPendingError'), name).toBe(
        name === 'RestoreTrail' || name === 'Verify',
      );
      // Verify: IAM reads are eventually consistent (RETRIES.iamReadConsistency), about 30 s in all.
      if (name === 'Verify') {
        expect(retry.slice(2), name).toEqual([
          { ErrorEquals: ['IamPropagationPendingError'], IntervalSeconds: 2, MaxAttempts: 4, BackoffRate: 2 },
        ]);
      }
    }
  });

  it('RestoreTrail retries IamPropagationPendingError for about two minutes', () => {
    const retrier = state('RestoreTrail').Retry?.find((r) =>
      r.ErrorEquals.includes('IamPropagationPendingError'),
    );
    expect(retrier).toEqual({
      ErrorEquals: ['IamPropagationPendingError'],
      IntervalSeconds: 4,
      MaxAttempts: 5,
      BackoffRate: 2,
      MaxDelaySeconds: 60,
    });
    const {
      IntervalSeconds = 1,
      MaxAttempts = 3,
      BackoffRate = 2,
      MaxDelaySeconds = Infinity,
    } = retrier ?? {};
    let total = 0;
    for (let i = 0; i < MaxAttempts; i++)
      total += Math.min(IntervalSeconds * BackoffRate ** i, MaxDelaySeconds);
    expect(total).toBeGreaterThanOrEqual(90);
    expect(total).toBeLessThanOrEqual(180);
  });

  it('every task catches all errors: main path into its own capture state at $.error, failure path onwards', () => {
    const catchOf = (name: string) => state(name).Catch;
    for (const name of ['Check', 'Verify', 'Notify', 'UpdateFindings', 'Audit']) {
      expect(catchOf(name), name).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: `Capture${name}Failure` },
      ]);
    }
    // The restore steps first catch a refusal by a policy (or KMS key) someone else owns: see the next test.
    for (const name of ['RestoreLogGroup', 'RestoreRole', 'RestoreTrail']) {
      expect(catchOf(name), name).toEqual([
        {
          ErrorEquals: ['BlockedByPolicyError', 'KmsKeyRefusedError'],
          ResultPath: '$.error',
          Next: 'BlockedByPolicy',
        },
        { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: `Capture${name}Failure` },
      ]);
    }
    expect(catchOf('NotifyFailure')).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.notificationError', Next: 'UpdateFindingsFailure' },
    ]);
    // A failure of the Security Hub step itself passes its input on unchanged (ResultPath null).
    expect(catchOf('UpdateFindingsFailure')).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: null, Next: 'AuditFailure' },
    ]);
    expect(catchOf('AuditFailure')).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: expect.any(String), Next: 'Failed' },
    ]);
  });

  it('a restore step refused by a policy ends notified on the main path: BlockedByPolicy sets the outcome, then Notify, UpdateFindings, Audit, Done (not Fail)', () => {
    const blocked = state('BlockedByPolicy');
    expect(blocked).toMatchObject({
      Type: 'Pass',
      Result: 'notified',
      ResultPath: '$.outcome',
      Next: 'Notify',
    });
    expect(state('Notify').Next).toBe('UpdateFindings');
    expect(state('UpdateFindings').Next).toBe('Audit');
    // Only the restore steps (the writes) catch it; Check, Verify and the rest fail as before.
    const catchers = Object.entries(definition.States)
      .filter(([, s]) => (s.Catch ?? []).some((c) => c.Next === 'BlockedByPolicy'))
      .map(([name]) => name)
      .sort();
    expect(catchers).toEqual(['RestoreLogGroup', 'RestoreRole', 'RestoreTrail']);
  });

  it('Decide routes each decision', () => {
    const decide = state('Decide');
    expect(decide.Type).toBe('Choice');
    const route = (value: string) =>
      decide.Choices?.find(
        (c) =>
          (c.Variable === '$.decision' && c.StringEquals === value) ||
          c.Or?.some((o) => o.Variable === '$.decision' && o.StringEquals === value),
      )?.Next;
    expect(route('compliant')).toBe('Compliant');
    expect(route('remediate')).toBe('RestoreLogGroup');
    expect(route('notify')).toBe('Notify');
    expect(route('skip')).toBe('Notify');
    // Unreachable (Check validates its decision), but never a silent end: Notify rejects it loudly.
    expect(decide.Default).toBe('Notify');
    expect(state('Compliant').Type).toBe('Succeed');
  });

  it('chains the main path and ends in Done', () => {
    const next = (name: string) => state(name).Next;
    expect(next('Check')).toBe('Decide');
    expect(next('RestoreLogGroup')).toBe('RestoreRole');
    expect(next('RestoreRole')).toBe('RestoreTrail');
    expect(next('RestoreTrail')).toBe('Verify');
    expect(next('Verify')).toBe('Notify');
    expect(next('Notify')).toBe('UpdateFindings');
    expect(next('UpdateFindings')).toBe('Audit');
    expect(next('Audit')).toBe('DeliveryCheckDue');
    expect(state('Done').Type).toBe('Succeed');
  });

  it('the delivery check (default 15 minutes): only a remediated run waits, re-reads, updates Security Hub (RESOLVED only now) and is recorded (emailed unless confirmed)', () => {
    expect(state('DeliveryCheckDue')).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.outcome', StringEquals: 'remediated', Next: 'WaitForDelivery' }],
      Default: 'Done',
    });
    expect(state('WaitForDelivery')).toMatchObject({ Type: 'Wait', Seconds: 900, Next: 'CheckDelivery' });
    expect(state('CheckDelivery').Next).toBe('DeliveryConfirmed');
    expect(state('DeliveryConfirmed')).toMatchObject({
      Type: 'Choice',
      Choices: [
        { Variable: '$.deliveryCheck.status', StringEquals: 'confirmed', Next: 'UpdateFindingsDelivery' },
      ],
      Default: 'NotifyDelivery',
    });
    expect(state('NotifyDelivery').Next).toBe('UpdateFindingsDelivery');
    expect(state('UpdateFindingsDelivery').Next).toBe('AuditDelivery');
    expect(state('AuditDelivery').Next).toBe('Done');
    // The run's outcome is recorded before the wait: an error here fails the execution with its own error,
    // with no "remediation failed" email about a trail that was fixed.
    for (const name of ['CheckDelivery', 'NotifyDelivery', 'UpdateFindingsDelivery', 'AuditDelivery']) {
      expect(state(name).Catch, name).toBeUndefined();
    }
  });

  it('deliveryCheckMinutes: 0 leaves the delivery check out: no states, no function, the usual timeout', () => {
    const off = synth({ config: { deliveryCheckMinutes: 0 } });
    const machine = Object.values(off.resources).find((r) => r.Type === 'AWS::StepFunctions::StateMachine');
    const def = parseDefinition(machine?.Properties.DefinitionString);
    expect(def.States.Audit?.Next).toBe('Done');
    for (const name of DELIVERY_CHECK_STATES) expect(def.States[name], name).toBeUndefined();
    expect(def.TimeoutSeconds).toBe(900);
    expect(Object.keys(functionIds(off.resources))).not.toContain('CheckDelivery');
  });

  it('each capture state records the failed step with the execution identity; the path ends in a Fail state', () => {
    const captures = Object.keys(definition.States).filter((name) => /^Capture.+Failure$/.test(name));
    expect(captures).toHaveLength(GUARDED_TASKS.length);
    for (const step of GUARDED_TASKS) {
      const capture = state(captureStateOf(step));
      expect(capture.Type, step).toBe('Pass');
      expect(capture.Parameters, step).toEqual({
        'failed.$': '$',
        step,
        execution: { 'id.$': '$$.Execution.Id', 'startTime.$': '$$.Execution.StartTime' },
      });
      expect(capture.Next, step).toBe('NotifyFailure');
    }
    expect(state('NotifyFailure').Next).toBe('UpdateFindingsFailure');
    expect(state('UpdateFindingsFailure').Next).toBe('AuditFailure');
    expect(state('AuditFailure').Next).toBe('Failed');
    expect(state('Failed')).toMatchObject({
      Type: 'Fail',
      Error: 'TrailguardRemediationFailed',
      Cause: expect.any(String),
    });
  });

  it('STATE_NAMES lists exactly the states of the definition', () => {
    expect([...STATE_NAMES].sort()).toEqual(Object.keys(definition.States).sort());
  });

  it('is a Standard state machine with a timeout (15 minutes and the delivery wait), full logging without execution data, and tracing', () => {
    expect(definition.TimeoutSeconds).toBe(900 + 900);
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: false,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: Match.anyValue() } }],
      },
    });
  });
});

describe('functions', () => {
  it('one per step and the sweep: Node.js 24 on arm64, ESM handler, JSON logs, active tracing, own retained log group, the Powertools layer', () => {
    const all = functionIds(resources);
    const powertoolsParameter = powertoolsParameterId(template);
    expect(Object.keys(all).sort()).toEqual([...Object.keys(STEP_ENTRIES), 'Sweep'].sort());
    for (const [name, id] of Object.entries(all)) {
      const props = resources[id]?.Properties ?? {};
      expect(props, name).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        // Steps: one full vCPU, so a cold start is not CPU-starved (functions.ts STEP_MEMORY_MB).
        MemorySize: name === 'Sweep' ? 256 : 1769,
        Timeout: name === 'Sweep' ? 120 : name === 'RestoreTrail' ? 60 : 30,
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: {
          LogFormat: 'JSON',
          ApplicationLogLevel: 'INFO',
          SystemLogLevel: 'WARN',
          LogGroup: { Ref: expect.any(String) },
        },
      });
      // Tracer comes from AWS's managed Powertools layer (not bundled), its ARN resolved at deploy from the
      // public SSM parameter of the installed release, in the stack's own region and partition.
      expect(props.Layers, name).toEqual([{ Ref: powertoolsParameter }]);
      const logGroup = (props.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      expect(resources[logGroup]?.Properties.RetentionInDays, name).toBe(365);
      expect(resources[logGroup]?.DeletionPolicy, name).toBe('Retain');
    }
  });

  it('the Powertools layer in every partition: no publishing account in the template; GovCloud resolves its own, China (not published) has none', () => {
    // AWS publishes the layer in all commercial and GovCloud (US) regions, not in China (Powertools docs,
    // "Lambda layers"); its ARN comes from the region's own public SSM parameter, never from a written account.
    for (const region of ['us-gov-west-1', 'eu-west-2']) {
      const { template: t, resources: r } = synth({ config: { hubRegion: region } });
      expect(JSON.stringify(t.toJSON()), region).not.toMatch(/094274105915|AWSLambdaPowertools/);
      const parameter = powertoolsParameterId(t);
      for (const [name, id] of Object.entries(functionIds(r)))
        expect(r[id]?.Properties.Layers, `${region} ${name}`).toEqual([{ Ref: parameter }]);
    }
    const { template: china, resources: cn } = synth({ config: { hubRegion: 'cn-north-1' } });
    expect(JSON.stringify(china.toJSON())).not.toMatch(
      /\/aws\/service\/powertools|094274105915|AWSLambdaPowertools/,
    );
    for (const [name, id] of Object.entries(functionIds(cn)))
      expect(cn[id]?.Properties.Layers, name).toBeUndefined();
  });

  it('each step function gets exactly the HandlerEnvSchema variables; the sweep also its state machine', () => {
    const { resources: r } = synth({
      config: {
        kmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/abcd-1234',
        mode: 'notify-only',
        managedRoleNames: ['ct-delivery', 'legacy,role'],
        cisMonitoring: true,
        cisAlarmTopicArn: 'arn:aws:sns:us-east-1:123456789012:cis-alarms',
        deliveryCheckMinutes: 30,
        protectExistingLogGroups: true,
      },
    });
    const ids = functionIds(r);
    expect(Object.keys(ids)).toHaveLength(10);
    for (const [name, id] of Object.entries(ids)) {
      const vars = ((r[id]?.Properties.Environment ?? {}) as { Variables: Record<string, unknown> })
        .Variables;
      const schema = name === 'Sweep' ? sweepEnvSchema() : HandlerEnvSchema;
      // The sweep sends no email: it has no idempotency table. The hub's accounts, regions and region are set
      // only when configured (not here: a single account). SDK tracing is an operator's switch, off unless set.
      const hubOnly = [
        'TRAILGUARD_ACCOUNTS',
        'TRAILGUARD_REGIONS',
        'TRAILGUARD_HUB_REGION',
        'TRAILGUARD_SDK_TRACING',
        // Only with config.kmsKeys (not set here: kmsKeyArn is).
        'TRAILGUARD_KMS_KEYS',
      ];
      const expectedVars = Object.keys(schema.shape).filter(
        (v) => (name !== 'Sweep' || v !== 'TRAILGUARD_IDEMPOTENCY_TABLE') && !hubOnly.includes(v),
      );
      expect(Object.keys(vars).sort(), name).toEqual(expectedVars.sort());
      expect(vars, name).toMatchObject({
        TRAILGUARD_MODE: 'notify-only',
        TRAILGUARD_KMS_KEY_ARN: 'arn:aws:kms:us-east-1:123456789012:key/abcd-1234',
        TRAILGUARD_RETENTION_DAYS: '365',
        TRAILGUARD_MANAGED_ROLE_NAMES: '["ct-delivery","legacy,role"]',
        TRAILGUARD_TOPIC_ARN: { Ref: expect.stringMatching(/^NotificationTopic/) },
        TRAILGUARD_AUDIT_TABLE: { Ref: expect.stringMatching(/^AuditTable/) },
        TRAILGUARD_ACCOUNT_ID: { Ref: 'AWS::AccountId' },
        TRAILGUARD_DELIVERY_CHECK_MINUTES: '30',
        TRAILGUARD_CIS_MONITORING: 'true',
        TRAILGUARD_CIS_ALARM_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:cis-alarms',
        TRAILGUARD_STATE_TABLE: { Ref: expect.stringMatching(/^StateTable/) },
        TRAILGUARD_REMEDIATION_ROLE_NAME: 'trailguard-remediation',
        TRAILGUARD_LOG_GROUP_DELETION_PROTECTION: 'true',
        TRAILGUARD_PROTECT_EXISTING_LOG_GROUPS: 'true',
      });
    }
    const sweepVars = (
      (r[ids.Sweep ?? '']?.Properties.Environment ?? {}) as { Variables: Record<string, unknown> }
    ).Variables;
    expect(sweepVars.TRAILGUARD_STATE_MACHINE_ARN).toEqual({
      Ref: onlyIdOfType(r, 'AWS::StepFunctions::StateMachine'),
    });
  });

  it('the sweep retries failed asynchronous invocations twice, then sends them to its failure queue', () => {
    const ids = functionIds(resources);
    const configs = Object.values(resources).filter((x) => x.Type === 'AWS::Lambda::EventInvokeConfig');
    expect(configs).toHaveLength(1);
    expect(configs[0]?.Properties).toEqual({
      FunctionName: { Ref: ids.Sweep },
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 3600,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [expect.stringMatching(/^SweepFailureQueue/), 'Arn'] } },
      },
    });
  });
});

describe('synth-time validation', () => {
  it('an invalid configuration fails synth listing every problem', () => {
    let error: unknown;
    try {
      buildApp({
        bundling: false,
        nag: false,
        config: { retentionDays: 8, mode: 'fix-it' as never, logGroupNameTemplate: 'CloudTrail/{nope}' },
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect((error as ConfigError).problems).toHaveLength(3);
    expect(problems).toMatch(/retentionDays/);
    expect(problems).toMatch(/mode/);
    expect(problems).toMatch(/\{nope\}/);
  });

  it('a bad sweep interval fails synth', () => {
    expect(() => buildApp({ bundling: false, nag: false, config: { sweepIntervalMinutes: 2 } })).toThrow(
      /sweepIntervalMinutes: must be at least 5 minutes/,
    );
  });

  it("the sweep function's environment check needs the state machine ARN", () => {
    const { TRAILGUARD_ACCOUNT_ID: _account, ...env } = good;
    expect(() => validateEnvironment(sweepEnvSchema(), env, 'SweepEnvSchema')).toThrow(
      /TRAILGUARD_STATE_MACHINE_ARN: missing/,
    );
    expect(() =>
      validateEnvironment(
        sweepEnvSchema(),
        { ...env, TRAILGUARD_STATE_MACHINE_ARN: 'arn:aws:sns:us-east-1:123456789012:t' },
        'SweepEnvSchema',
      ),
    ).toThrow(/TRAILGUARD_STATE_MACHINE_ARN: .*must be a Step Functions state machine ARN/);
    expect(() =>
      validateEnvironment(
        sweepEnvSchema(),
        { ...env, TRAILGUARD_STATE_MACHINE_ARN: Lazy.string({ produce: () => 'deploy time' }) },
        'SweepEnvSchema',
      ),
    ).not.toThrow();
    expect(() => validateHandlerEnvironment({ ...env, TRAILGUARD_STATE_MACHINE_ARN: 'x' })).toThrow(
      /TRAILGUARD_STATE_MACHINE_ARN: not a variable of HandlerEnvSchema/,
    );
  });

  it('the managed role names variable must be a JSON array of names', () => {
    expect(() => validateHandlerEnvironment({ ...good, TRAILGUARD_MANAGED_ROLE_NAMES: 'a,b' })).toThrow(
      /TRAILGUARD_MANAGED_ROLE_NAMES: .*must be a JSON array of role names/,
    );
    expect(() =>
      validateHandlerEnvironment({ ...good, TRAILGUARD_MANAGED_ROLE_NAMES: '["a","b,c"]' }),
    ).not.toThrow();
  });

  it('a bad notification email fails synth', () => {
    expect(() => buildApp({ bundling: false, nag: false, notificationEmail: 'not-an-address' })).toThrow(
      ConfigError,
    );
  });

  const good = {
    TRAILGUARD_MODE: 'remediate',
    TRAILGUARD_LOG_GROUP_NAME_TEMPLATE: 'CloudTrail/{trail}',
    TRAILGUARD_RETENTION_DAYS: '365',
    TRAILGUARD_DELIVERY_ROLE_NAME: 'trailguard-cloudtrail-delivery',
    TRAILGUARD_EXEMPT_TAG_KEY: 'trailguard:exempt',
    TRAILGUARD_EXEMPT_TAG_VALUE: 'true',
    TRAILGUARD_TOPIC_ARN: Lazy.string({ produce: () => 'resolved at deploy time' }),
    TRAILGUARD_AUDIT_TABLE: Lazy.string({ produce: () => 'resolved at deploy time' }),
    TRAILGUARD_ACCOUNT_ID: Aws.ACCOUNT_ID,
  };

  it('the function environment check accepts deploy-time tokens for the resource values', () => {
    expect(() => validateHandlerEnvironment(good)).not.toThrow();
    expect(() =>
      validateHandlerEnvironment({ ...good, TRAILGUARD_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:t' }),
    ).not.toThrow();
  });

  it('the function environment check fails on a missing, bad or unknown variable, listing all', () => {
    const { TRAILGUARD_TOPIC_ARN: _topic, ...missing } = good;
    let error: unknown;
    try {
      validateHandlerEnvironment({ ...missing, TRAILGUARD_AUDIT_TABLE: 'x', TRAILGUARD_EXTRA: '1' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/TRAILGUARD_TOPIC_ARN: missing/);
    expect(problems.join('\n')).toMatch(/TRAILGUARD_AUDIT_TABLE/);
    expect(problems.join('\n')).toMatch(/TRAILGUARD_EXTRA/);
  });
});
