/**
 * The local runner executes the synthesized definition: tokens resolved, each task mapped to its step, the
 * definition's Retry/Catch applied. Steps are stubbed here, so this tests the orchestration only.
 */
import { describe, expect, it } from 'vitest';
import { createClients } from '../../../services/aws/clients.js';
import {
  IamPropagationPendingError,
  RemediationError,
  TransientAwsError,
} from '../../../services/domain/errors.js';
import { matchesEventPattern } from '../../../services/domain/event-pattern.js';
import type { StepFunction } from '../../../services/handlers/deps.js';
import type { StepName } from '../../../services/handlers/registry.js';
import {
  localWorkflow,
  ruleEventPattern,
  rulePatterns,
  runWorkflow,
  type StepFactory,
  workflowDefinition,
} from '../../../services/local/workflow-runner.js';

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const INPUT = { source: 'trailguard', kind: 'manual', trail: 'main', region: REGION };
const clients = createClients({ defaultRegion: REGION, maxAttempts: 1 });

type Ctx = Record<string, unknown> & { visited?: string[] };

/** Stub steps that record their calls and pass the context along, marking the steps visited. */
function stubs(decision: string, overrides: Partial<Record<StepName, StepFunction>> = {}) {
  const calls: Record<string, unknown[]> = {};
  const record =
    (step: StepName, impl: StepFunction): StepFactory =>
    () =>
    async (payload) => {
      calls[step] = [...(calls[step] ?? []), payload];
      return impl(payload);
    };
  const pass =
    (step: StepName): StepFunction =>
    async (payload) => {
      const ctx = payload as Ctx;
      return { ...ctx, visited: [...(ctx.visited ?? []), step] };
    };
  const defaults: Record<StepName, StepFunction> = {
    Check: async (payload) => {
      const { execution } = payload as { execution: unknown };
      return { execution, decision, visited: ['Check'] };
    },
    RestoreLogGroup: pass('RestoreLogGroup'),
    RestoreRole: pass('RestoreRole'),
    RestoreTrail: pass('RestoreTrail'),
    Verify: pass('Verify'),
    Notify: pass('Notify'),
    UpdateFindings: pass('UpdateFindings'),
    Audit: pass('Audit'),
    CheckDelivery: pass('CheckDelivery'),
  };
  const steps = Object.fromEntries(
    (Object.keys(defaults) as StepName[]).map((step) => [
      step,
      record(step, overrides[step] ?? defaults[step]),
    ]),
  ) as Record<StepName, StepFactory>;
  return { steps, calls, count: (step: StepName) => calls[step]?.length ?? 0 };
}

/** A step that throws `error` the first `times` calls, then behaves like `then`. */
function failing(times: number, error: () => Error, then: StepFunction): StepFunction {
  let n = 0;
  return async (payload) => {
    n++;
    if (n <= times) throw error();
    return then(payload);
  };
}

const passThrough: StepFunction = async (payload) => payload;

describe('resolving the synthesized workflow', () => {
  it('resolves every token: tasks invoke local function ARNs by step', async () => {
    // As deployed by default: with the delivery check (a local run leaves it out unless asked).
    const definition = await workflowDefinition({ region: REGION });
    const text = JSON.stringify(definition);
    expect(text).not.toMatch(/Token\[|"Ref"|Fn::/);
    const resources = Object.entries(definition.States)
      .filter(([, s]) => s.Type === 'Task')
      .map(([name, s]) => [name, (s as { Resource: string }).Resource]);
    expect(Object.fromEntries(resources)).toEqual({
      Check: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Check`,
      RestoreLogGroup: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:RestoreLogGroup`,
      RestoreRole: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:RestoreRole`,
      RestoreTrail: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:RestoreTrail`,
      Verify: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Verify`,
      Notify: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Notify`,
      UpdateFindings: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:UpdateFindings`,
      Audit: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Audit`,
      NotifyFailure: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Notify`,
      CheckDelivery: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:CheckDelivery`,
      NotifyDelivery: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Notify`,
      UpdateFindingsDelivery: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:UpdateFindings`,
      AuditDelivery: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Audit`,
      UpdateFindingsFailure: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:UpdateFindings`,
      AuditFailure: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Audit`,
    });
  });

  it("gives each step the settings parsed from its function's environment, resolved locally", async () => {
    const local = await localWorkflow({ region: REGION });
    for (const step of Object.keys(local.settings) as StepName[]) {
      expect(local.environments[step]).toMatchObject({
        TRAILGUARD_TOPIC_ARN: `arn:aws:sns:${REGION}:${ACCOUNT}:trailguard-notifications`,
        TRAILGUARD_AUDIT_TABLE: 'trailguard-audit',
        TRAILGUARD_ACCOUNT_ID: ACCOUNT,
      });
      expect(local.settings[step]).toMatchObject({
        topicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:trailguard-notifications`,
        auditTableName: 'trailguard-audit',
        accountId: ACCOUNT,
        config: { mode: 'remediate', retentionDays: 365 },
      });
    }
  });

  it('configuration overrides reach the steps through the synthesized environment', async () => {
    const local = await localWorkflow({
      region: REGION,
      accountId: '210987654321',
      config: {
        mode: 'notify-only',
        retentionDays: 30,
        notificationTopicName: 'alerts',
        auditTableName: 'records',
      },
    });
    expect(local.settings.Check).toMatchObject({
      topicArn: `arn:aws:sns:${REGION}:210987654321:alerts`,
      auditTableName: 'records',
      accountId: '210987654321',
      config: { mode: 'notify-only', retentionDays: 30 },
    });
  });

  it("reads the trigger's pattern from the template, the excluded roles resolved to the given ARN", async () => {
    const own = `arn:aws:iam::${ACCOUNT}:role/trailguard-remediator`;
    const pattern = await ruleEventPattern(own);
    expect(JSON.stringify(pattern)).not.toMatch(/Fn::|"Ref"/);
    const event = (userIdentity: unknown, eventName = 'StopLogging') => ({
      source: 'aws.cloudtrail',
      'detail-type': 'AWS API Call via CloudTrail',
      account: ACCOUNT,
      region: REGION,
      detail: { eventSource: 'cloudtrail.amazonaws.com', eventName, userIdentity },
    });
    const assumed = (arn: string) => ({ type: 'AssumedRole', sessionContext: { sessionIssuer: { arn } } });
    expect(matchesEventPattern(pattern, event(assumed(`arn:aws:iam::${ACCOUNT}:role/Admin`)))).toBe(true);
    expect(matchesEventPattern(pattern, event(assumed(own)))).toBe(false);
    expect(matchesEventPattern(pattern, event({ type: 'Root' }))).toBe(true);
    expect(matchesEventPattern(pattern, event({ type: 'IAMUser', userName: 'alice' }))).toBe(true);
    expect(matchesEventPattern(pattern, event(assumed('x'), 'GetTrail'))).toBe(false);
  });
});

describe('the rules and the sweep function, read from the template', () => {
  const own = `arn:aws:iam::${ACCOUNT}:role/trailguard-remediator`;
  const call = (
    source: string,
    eventSource: string,
    eventName: string,
    userIdentity: unknown,
    extra = {},
  ) => ({
    source,
    'detail-type': 'AWS API Call via CloudTrail',
    account: ACCOUNT,
    region: REGION,
    detail: { eventSource, eventName, userIdentity, ...extra },
  });
  const assumed = (arn: string) => ({ type: 'AssumedRole', sessionContext: { sessionIssuer: { arn } } });
  const admin = assumed(`arn:aws:iam::${ACCOUNT}:role/Admin`);

  it('returns the trail rule (workflow) first, then the dependency and Security Hub rules (fan-out), not the schedule', async () => {
    const rules = await rulePatterns(own);
    expect(rules.map(({ rule, target }) => ({ rule, target }))).toEqual([
      { rule: 'Trigger', target: 'workflow' },
      { rule: 'DependencyTrigger', target: 'fanout' },
      { rule: 'FindingsTrigger', target: 'fanout' },
    ]);
    expect(JSON.stringify(rules)).not.toMatch(/Fn::|"Ref"/);
    expect(await ruleEventPattern(own)).toEqual(rules[0]?.pattern);
  });

  it('the dependency pattern matches log group deletions and role changes, not own or failed calls', async () => {
    const [, dependency] = await rulePatterns(own);
    const pattern = dependency?.pattern ?? {};
    const matches = (event: unknown) => matchesEventPattern(pattern, event);
    expect(matches(call('aws.logs', 'logs.amazonaws.com', 'DeleteLogGroup', admin))).toBe(true);
    expect(matches(call('aws.iam', 'iam.amazonaws.com', 'DeleteRole', { type: 'Root' }))).toBe(true);
    expect(matches(call('aws.iam', 'iam.amazonaws.com', 'PutRolePolicy', { type: 'IAMUser' }))).toBe(true);
    expect(matches(call('aws.iam', 'iam.amazonaws.com', 'PutRolePolicy', assumed(own)))).toBe(false);
    expect(matches(call('aws.logs', 'logs.amazonaws.com', 'DeleteLogGroup', assumed(own)))).toBe(false);
    expect(
      matches(call('aws.iam', 'iam.amazonaws.com', 'DeleteRole', admin, { errorCode: 'DeleteConflict' })),
    ).toBe(false);
    expect(matches(call('aws.iam', 'iam.amazonaws.com', 'GetRole', admin))).toBe(false);
    expect(matches(call('aws.cloudtrail', 'cloudtrail.amazonaws.com', 'StopLogging', admin))).toBe(false);
  });

  it("gives the sweep its settings from its function's environment, the state machine resolved locally", async () => {
    const local = await localWorkflow({ region: REGION, config: { managedRoleNames: ['ct-delivery'] } });
    expect(local.sweep.environment).toMatchObject({
      TRAILGUARD_STATE_MACHINE_ARN: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:trailguard`,
      TRAILGUARD_MANAGED_ROLE_NAMES: '["ct-delivery"]',
      TRAILGUARD_ACCOUNT_ID: ACCOUNT,
    });
    expect(local.sweep.settings).toMatchObject({
      stateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:trailguard`,
      accountId: ACCOUNT,
      config: { managedRoleNames: ['ct-delivery'], deliveryRoleName: 'trailguard-cloudtrail-delivery' },
    });
    // The steps get the managed role names too (they decide which roles may be repaired in place).
    expect(local.settings.Check.config.managedRoleNames).toEqual(['ct-delivery']);
    expect(local.settings.RestoreRole.config.managedRoleNames).toEqual(['ct-delivery']);
  });
});

describe('running the synthesized workflow', () => {
  it('compliant: Check, Decide, Compliant (3 transitions)', async () => {
    const { steps, count } = stubs('compliant');
    const run = await runWorkflow(INPUT, { steps, clients });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.states).toEqual(['Check', 'Decide', 'Compliant']);
    expect(run.transitions).toBe(3);
    expect(count('Notify')).toBe(0);
    expect(run.output).toMatchObject({ decision: 'compliant', execution: { id: run.executionId } });
  });

  it('Check receives the execution input and identity', async () => {
    const { steps, calls } = stubs('compliant');
    const run = await runWorkflow(INPUT, { steps, clients, executionName: 'e-1' });
    expect(run.executionId).toBe(`arn:aws:states:${REGION}:${ACCOUNT}:execution:trailguard:e-1`);
    expect(calls.Check?.[0]).toEqual({
      input: INPUT,
      execution: { id: run.executionId, startTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
    });
  });

  it('remediate: the restore steps, Verify, Notify, UpdateFindings, Audit, Done', async () => {
    const { steps } = stubs('remediate');
    const run = await runWorkflow(INPUT, { steps, clients });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.states).toEqual([
      'Check',
      'Decide',
      'RestoreLogGroup',
      'RestoreRole',
      'RestoreTrail',
      'Verify',
      'Notify',
      'UpdateFindings',
      'Audit',
      'Done',
    ]);
    expect((run.output as Ctx).visited).toEqual([
      'Check',
      'RestoreLogGroup',
      'RestoreRole',
      'RestoreTrail',
      'Verify',
      'Notify',
      'UpdateFindings',
      'Audit',
    ]);
  });

  it.each(['notify', 'skip'])('%s: straight to Notify, UpdateFindings and Audit', async (decision) => {
    const { steps } = stubs(decision);
    const run = await runWorkflow(INPUT, { steps, clients });
    expect(run.states).toEqual(['Check', 'Decide', 'Notify', 'UpdateFindings', 'Audit', 'Done']);
  });

  it('a named error goes through the capture state of its step, NotifyFailure, UpdateFindingsFailure, AuditFailure to Failed', async () => {
    const { steps, calls } = stubs('remediate', {
      RestoreRole: async () => {
        throw new RemediationError('CreateRole was denied');
      },
    });
    const run = await runWorkflow(INPUT, { steps, clients });
    expect(run.status).toBe('FAILED');
    expect(run.error?.Error).toBe('TrailguardRemediationFailed');
    expect(run.states).toEqual([
      'Check',
      'Decide',
      'RestoreLogGroup',
      'RestoreRole',
      'CaptureRestoreRoleFailure',
      'NotifyFailure',
      'UpdateFindingsFailure',
      'AuditFailure',
      'Failed',
    ]);
    // NotifyFailure gets the envelope: the failed state's input plus the error as Step Functions reports it,
    // and the name of the step that failed.
    const envelope = calls.Notify?.[0] as {
      failed: Ctx & { error: { Error: string; Cause: string } };
      step: string;
      execution: { id: string };
    };
    expect(envelope.step).toBe('RestoreRole');
    expect(envelope.execution.id).toBe(run.executionId);
    expect(envelope.failed.visited).toEqual(['Check', 'RestoreLogGroup']);
    expect(envelope.failed.error.Error).toBe('RemediationError');
    expect(JSON.parse(envelope.failed.error.Cause)).toMatchObject({
      errorType: 'RemediationError',
      errorMessage: 'CreateRole was denied',
    });
    // UpdateFindingsFailure gets what NotifyFailure returned, AuditFailure what UpdateFindingsFailure returned.
    expect(calls.UpdateFindings?.[0]).toEqual({ ...envelope, visited: ['Notify'] });
    expect(calls.Audit?.[0]).toEqual({ ...envelope, visited: ['Notify', 'UpdateFindings'] });
    expect(run.output).toEqual({ ...envelope, visited: ['Notify', 'UpdateFindings', 'Audit'] });
  });

  it('a RemediationError is not retried', async () => {
    const { steps, count } = stubs('remediate', {
      RestoreLogGroup: async () => {
        throw new RemediationError('permanent');
      },
    });
    const run = await runWorkflow(INPUT, { steps, clients });
    expect(run.status).toBe('FAILED');
    expect(count('RestoreLogGroup')).toBe(1);
    expect(run.history.filter((h) => h.type === 'StateRetried')).toEqual([]);
  });

  it('a TransientAwsError is retried, then the run succeeds', async () => {
    const { steps, count } = stubs('compliant', {
      Check: failing(
        2,
        () => new TransientAwsError('throttled'),
        async (payload) => ({
          execution: (payload as { execution: unknown }).execution,
          decision: 'compliant',
        }),
      ),
    });
    const started = Date.now();
    const run = await runWorkflow(INPUT, { steps, clients });
    expect(run.status).toBe('SUCCEEDED');
    expect(count('Check')).toBe(3);
    expect(run.states).toEqual(['Check', 'Decide', 'Compliant']);
    expect(run.history.filter((h) => h.type === 'StateRetried').map((h) => h.retry)).toEqual([
      { errors: ['TransientAwsError'], attempt: 1 },
      { errors: ['TransientAwsError'], attempt: 2 },
    ]);
    expect(Date.now() - started).toBeLessThan(2000); // retry waits are skipped by default
  });

  it('a TransientAwsError that persists fails after 3 retries, through the failure path', async () => {
    const { steps, count, calls } = stubs('remediate', {
      Verify: failing(99, () => new TransientAwsError('still throttled'), passThrough),
    });
    const run = await runWorkflow(INPUT, { steps, clients });
    expect(run.status).toBe('FAILED');
    expect(count('Verify')).toBe(4);
    expect(run.states.slice(-5)).toEqual([
      'CaptureVerifyFailure',
      'NotifyFailure',
      'UpdateFindingsFailure',
      'AuditFailure',
      'Failed',
    ]);
    expect(calls.Notify?.[0]).toMatchObject({
      step: 'Verify',
      failed: { error: { Error: 'TransientAwsError' } },
    });
  });

  it('IamPropagationPendingError is retried on RestoreTrail (up to 5 times)', async () => {
    const { steps, count } = stubs('remediate', {
      RestoreTrail: failing(
        4,
        () => new IamPropagationPendingError('role not usable yet'),
        async (p) => ({
          ...(p as Ctx),
          visited: [...((p as Ctx).visited ?? []), 'RestoreTrail'],
        }),
      ),
    });
    const run = await runWorkflow(INPUT, { steps, clients });
    expect(run.status).toBe('SUCCEEDED');
    expect(count('RestoreTrail')).toBe(5);
    expect(run.states).toContain('Done');
  });

  it('IamPropagationPendingError is not retried on other steps', async () => {
    const { steps, count } = stubs('remediate', {
      RestoreRole: failing(1, () => new IamPropagationPendingError('nope'), passThrough),
    });
    const run = await runWorkflow(INPUT, { steps, clients });
    expect(run.status).toBe('FAILED');
    expect(count('RestoreRole')).toBe(1);
  });

  it('when NotifyFailure fails, UpdateFindingsFailure and AuditFailure still run with the envelope and notificationError', async () => {
    const { steps, calls } = stubs('compliant', {
      Check: async () => {
        throw new RemediationError('boom');
      },
      Notify: async () => {
        throw new Error('SNS down');
      },
    });
    const run = await runWorkflow(INPUT, { steps, clients });
    expect(run.status).toBe('FAILED');
    expect(run.states).toEqual([
      'Check',
      'CaptureCheckFailure',
      'NotifyFailure',
      'UpdateFindingsFailure',
      'AuditFailure',
      'Failed',
    ]);
    expect(calls.Audit?.[0]).toMatchObject({
      failed: { ...INPUT, error: { Error: 'RemediationError' } },
      step: 'Check',
      execution: { id: run.executionId },
      notificationError: { Error: 'Error' },
    });
  });

  it('when UpdateFindingsFailure fails, AuditFailure still runs with its input unchanged', async () => {
    const { steps, calls } = stubs('compliant', {
      Check: async () => {
        throw new RemediationError('boom');
      },
      UpdateFindings: async () => {
        throw new Error('Security Hub step crashed');
      },
    });
    const run = await runWorkflow(INPUT, { steps, clients });
    expect(run.status).toBe('FAILED');
    expect(run.states.slice(-3)).toEqual(['UpdateFindingsFailure', 'AuditFailure', 'Failed']);
    expect(calls.Audit?.[0]).toEqual({ ...(calls.UpdateFindings?.[0] as Ctx) });
  });

  it('when AuditFailure fails too, the execution still ends in Failed', async () => {
    const { steps } = stubs('compliant', {
      Check: async () => {
        throw new RemediationError('boom');
      },
      Audit: async () => {
        throw new Error('DynamoDB down');
      },
    });
    const run = await runWorkflow(INPUT, { steps, clients });
    expect(run.status).toBe('FAILED');
    expect(run.error?.Error).toBe('TrailguardRemediationFailed');
    expect(run.states.at(-1)).toBe('Failed');
  });
});
