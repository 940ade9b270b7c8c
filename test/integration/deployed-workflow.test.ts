/**
 * `remediate` and `replay` on a deployed stack (`--engine deployed`): the stack's state machine found from its
 * outputs (a CloudFormation stack in moto), executions started on it (moto), and each execution waited for and
 * read back into the same result the local runner gives. moto keeps every execution RUNNING (it cannot run
 * Lambda tasks), so how a finished execution is read (output, history, failed step) is tested with the SFN
 * client mocked (aws-sdk-client-mock); those tests say so in their names.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateStackCommand } from '@aws-sdk/client-cloudformation';
import { DeleteLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureAuditTable } from '../../services/aws/audit-store.js';
import type { AwsClients } from '../../services/aws/clients.js';
import {
  DeployedExecutionError,
  DeployedStackError,
  ExecutionWaitTimeoutError,
  findDeployedWorkflow,
  startDeployedExecution,
  waitForExecution,
} from '../../services/aws/deployed-workflow.js';
import { ensureTopic } from '../../services/aws/notifier.js';
import { main } from '../../services/cli/main.js';
import type { CliIo } from '../../services/cli/output.js';
import { failureToRunContext } from '../../services/domain/failure.js';
import { type RunContext, RunContextSchema } from '../../services/domain/run-context.js';
import { resultOf } from '../../services/local/replay.js';
import {
  deployedExecutionName,
  remediateTrailDeployed,
  replayEventDeployed,
} from '../../services/local/replay-deployed.js';
import { workflowDefinition } from '../../services/local/workflow-runner.js';
import { ACCOUNT, REGION, resetEmulator, testClients } from '../support/aws.js';
import { adminEvent } from '../support/events.js';
import { EXECUTION, remediateContext, remediatedContext, TRAIL_ARN } from '../support/run-contexts.js';
import { seedCompliantTrail, seedTrail } from '../support/seed.js';

/** Fresh clients per test, made after the reset (which changes the credentials in the second account). */
let clients: AwsClients;
const STACK = 'trailguard-deployed-test';
const MACHINE = 'trailguard-deployed-test-workflow';
const MACHINE_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${MACHINE}`;
const OWN = `arn:aws:iam::${ACCOUNT}:role/trailguard-remediator`;
const trailArn = (name: string) => `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/${name}`;

let definition: string;

beforeAll(async () => {
  // The state machine CDK synthesizes (resolved), so the stack in moto holds the real definition.
  definition = JSON.stringify(await workflowDefinition({ region: REGION, accountId: ACCOUNT }));
});

beforeEach(async () => {
  await resetEmulator();
  clients = testClients();
});

/** Creates a stack in moto with the workflow's state machine and, unless told otherwise, its output. */
async function createStack(name = STACK, options: { output?: boolean } = {}): Promise<void> {
  const template = {
    Resources: {
      Workflow: {
        Type: 'AWS::StepFunctions::StateMachine',
        Properties: {
          StateMachineName: MACHINE,
          RoleArn: `arn:aws:iam::${ACCOUNT}:role/trailguard-workflow`,
          DefinitionString: definition,
        },
      },
    },
    ...(options.output === false ? {} : { Outputs: { StateMachineArn: { Value: { Ref: 'Workflow' } } } }),
  };
  await clients
    .cloudFormation()
    .send(new CreateStackCommand({ StackName: name, TemplateBody: JSON.stringify(template) }));
}

async function executions() {
  const { executions: list = [] } = await clients
    .sfn()
    .send(new ListExecutionsCommand({ stateMachineArn: MACHINE_ARN }));
  return list;
}

async function inputOf(executionArn: string): Promise<unknown> {
  const out = await clients.sfn().send(new DescribeExecutionCommand({ executionArn }));
  return JSON.parse(out.input ?? 'null');
}

/** Waiting without waiting: a clock that moves by what is slept, and the sleeps recorded. */
function fakeClock() {
  let t = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    wait: {
      now: () => t,
      sleep: async (ms: number) => {
        sleeps.push(ms);
        t += ms;
      },
    },
  };
}

describe('finding the deployed state machine (CloudFormation in moto)', () => {
  it("resolves the stack's StateMachineArn output", async () => {
    await createStack();
    expect(await findDeployedWorkflow(clients, STACK)).toEqual({
      stackName: STACK,
      region: REGION,
      stateMachineArn: MACHINE_ARN,
    });
  });

  it('a stack that does not exist: DeployedStackError naming the stack and the region', async () => {
    const error = await findDeployedWorkflow(clients, 'no-such-stack').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeployedStackError);
    expect((error as Error).message).toContain(`stack "no-such-stack" does not exist in ${REGION}:`);
  });

  it('a stack without the output: DeployedStackError naming the stack, the region and the output', async () => {
    await createStack('not-trailguard', { output: false });
    await expect(findDeployedWorkflow(clients, 'not-trailguard')).rejects.toThrow(
      `stack "not-trailguard" in ${REGION} (CREATE_COMPLETE) has no StateMachineArn output`,
    );
  });
});

describe('starting executions on the deployed state machine (moto)', () => {
  beforeEach(async () => {
    await createStack();
  });

  it('remediate: one execution with the manual request as input; the wait gives up while it runs', async () => {
    const clock = fakeClock();
    const error = await remediateTrailDeployed('management-events', REGION, {
      clients,
      stackName: STACK,
      requestedBy: 'trailguard remediate (CLI)',
      now: () => new Date('2026-01-01T00:00:00Z'),
      wait: { ...clock.wait, timeoutMs: 5_000 },
    }).catch((e: unknown) => e);
    // moto never finishes an execution: the bounded wait ends with a named error naming the execution.
    expect(error).toBeInstanceOf(ExecutionWaitTimeoutError);
    const [execution, ...others] = await executions();
    expect(others).toEqual([]);
    expect((error as Error).message).toContain(execution?.executionArn);
    const hash = createHash('sha256').update('management-events').digest('hex').slice(0, 8);
    expect(execution?.name).toBe(
      deployedExecutionName(`remediate-management-events-${hash}`, new Date('2026-01-01T00:00:00Z')),
    );
    expect(await inputOf(execution?.executionArn ?? '')).toEqual({
      source: 'trailguard',
      kind: 'manual',
      trail: 'management-events',
      region: REGION,
      requestedBy: 'trailguard remediate (CLI)',
    });
    // Polled with backoff up to the timeout: 1 s, 1.5 s, 2.25 s, then the rest.
    expect(clock.sleeps).toEqual([1000, 1500, 2250, 250]);
  });

  it('replay, trail rule: one execution whose input is the event itself, as EventBridge passes it', async () => {
    const event = adminEvent('StopLogging', 'management-events');
    const clock = fakeClock();
    await expect(
      replayEventDeployed(event, {
        clients,
        stackName: STACK,
        ownRoleArn: OWN,
        wait: { ...clock.wait, timeoutMs: 0 },
      }),
    ).rejects.toBeInstanceOf(ExecutionWaitTimeoutError);
    const list = await executions();
    expect(list).toHaveLength(1);
    expect(list[0]?.name).toMatch(
      new RegExp(`^replay-${(event.detail as { eventID: string }).eventID}-[0-9a-z]+$`),
    );
    expect(await inputOf(list[0]?.executionArn ?? '')).toEqual(event);
  });

  it('replay, an event of our own role: ignored, nothing started', async () => {
    const event = adminEvent('StopLogging', 'management-events', {
      userIdentity: {
        type: 'AssumedRole',
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/trailguard-remediator/session`,
        sessionContext: { sessionIssuer: { type: 'Role', arn: OWN } },
      },
    });
    const result = await replayEventDeployed(event, { clients, stackName: STACK, ownRoleArn: OWN });
    expect(result.outcome).toBe('ignored');
    expect(await executions()).toEqual([]);
  });

  it('replay, dependency rule: the sweep core starts one execution per affected trail on the deployed state machine', async () => {
    await seedCompliantTrail(clients, 'shared-1', { logGroupName: 'CloudTrail/shared' });
    await seedTrail(clients, 'shared-2', {
      logGroupName: 'CloudTrail/shared',
      breaks: { logGroupMissing: true },
    });
    await seedCompliantTrail(clients, 'elsewhere');
    await clients.logs(REGION).send(new DeleteLogGroupCommand({ logGroupName: 'CloudTrail/shared' }));
    const event = {
      version: '0',
      id: 'eb-dep-1',
      'detail-type': 'AWS API Call via CloudTrail',
      source: 'aws.logs',
      account: ACCOUNT,
      time: '2026-11-27T12:01:00Z',
      region: REGION,
      resources: [],
      detail: {
        eventVersion: '1.09',
        userIdentity: { type: 'IAMUser', arn: `arn:aws:iam::${ACCOUNT}:user/bob` },
        eventTime: '2026-11-27T12:00:58Z',
        eventSource: 'logs.amazonaws.com',
        eventName: 'DeleteLogGroup',
        awsRegion: REGION,
        sourceIPAddress: '203.0.113.10',
        requestParameters: { logGroupName: 'CloudTrail/shared' },
        responseElements: null,
        eventID: 'dep-event-1',
      },
    };
    await expect(
      replayEventDeployed(event, {
        clients,
        stackName: STACK,
        ownRoleArn: OWN,
        wait: { ...fakeClock().wait, timeoutMs: 0 },
      }),
    ).rejects.toBeInstanceOf(ExecutionWaitTimeoutError);
    const list = await executions();
    const inputs = await Promise.all(list.map((e) => inputOf(e.executionArn ?? '')));
    expect(inputs.map((i) => (i as { trail: string }).trail).sort()).toEqual([
      trailArn('shared-1'),
      trailArn('shared-2'),
    ]);
    for (const input of inputs) {
      expect(input).toMatchObject({
        source: 'trailguard',
        kind: 'dependency',
        requestedBy: `arn:aws:iam::${ACCOUNT}:user/bob`,
        eventName: 'DeleteLogGroup',
        eventId: 'dep-event-1',
      });
    }
    for (const e of list) expect(e.name).toMatch(/^dep-dep-event-1-[0-9a-f]{16}-[0-9a-z]+$/);
  });

  it('a name used before: the existing execution is followed, nothing new started', async () => {
    const first = await startDeployedExecution(clients, MACHINE_ARN, 'same-name', { a: 1 });
    // Same name and input while it runs: Step Functions answers with that execution (idempotent).
    const same = await startDeployedExecution(clients, MACHINE_ARN, 'same-name', { a: 1 });
    // Same name, other input: ExecutionAlreadyExists, reported as not started, with the existing ARN.
    const other = await startDeployedExecution(clients, MACHINE_ARN, 'same-name', { a: 2 });
    expect(first.started).toBe(true);
    expect(same.executionArn).toBe(first.executionArn);
    expect(other).toEqual({ name: 'same-name', executionArn: first.executionArn, started: false });
    expect(await executions()).toHaveLength(1);
  });

  it('an execution stopped by someone (ABORTED) is read back as failed, with the execution history of moto', async () => {
    const { executionArn } = await startDeployedExecution(clients, MACHINE_ARN, 'to-stop', { a: 1 });
    await clients.sfn().send(new StopExecutionCommand({ executionArn }));
    const run = await waitForExecution(clients, executionArn, fakeClock().wait);
    expect(run).toMatchObject({
      executionId: executionArn,
      status: 'FAILED',
      error: { Error: 'ExecutionAborted', Cause: 'the execution was stopped' },
    });
  });
});

// ---------------------------------------------------------------------------------------------------------
// Finished executions (SDK mock: moto cannot execute Lambda tasks)

const EXECUTION_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:execution:${MACHINE}:run-1`;
const CAUSE = JSON.stringify({
  errorType: 'RemediationError',
  errorMessage: 'CreateRole was denied',
  trace: ['RemediationError: CreateRole was denied', '    at restoreRole'],
});

/** A history event as GetExecutionHistory returns it. */
let eventId = 0;
function event(type: string, details: Partial<HistoryEvent> = {}): HistoryEvent {
  eventId += 1;
  return { type: type as HistoryEvent['type'], id: eventId, timestamp: new Date(), ...details };
}
function entered(type: string, name: string, input: unknown): HistoryEvent {
  return event(type, {
    stateEnteredEventDetails: { name, input: JSON.stringify(input), inputDetails: { truncated: false } },
  });
}
function exited(type: string, name: string, output: unknown): HistoryEvent {
  return event(type, { stateExitedEventDetails: { name, output: JSON.stringify(output) } });
}
function task(name: string, input: unknown, output: unknown): HistoryEvent[] {
  return [
    entered('TaskStateEntered', name, input),
    event('TaskScheduled'),
    event('TaskStarted'),
    event('TaskSucceeded'),
    exited('TaskStateExited', name, output),
  ];
}

/** What the failure path builds for RestoreRole failing with CAUSE (with the real domain code). */
function failedContext(): { envelope: Record<string, unknown>; context: RunContext } {
  const failedInput = { ...remediateContext(), error: { Error: 'RemediationError', Cause: CAUSE } };
  const envelope = { failed: failedInput, step: 'RestoreRole', execution: EXECUTION };
  return { envelope, context: failureToRunContext(envelope, REGION) };
}

/** The history of a run that failed in RestoreRole and went down the failure path to the Fail state. */
function failedHistory(failStateInput: unknown): HistoryEvent[] {
  const ctx = remediateContext();
  const { envelope, context } = failedContext();
  return [
    event('ExecutionStarted'),
    ...task('Check', { input: {}, execution: EXECUTION }, ctx),
    entered('ChoiceStateEntered', 'Decide', ctx),
    exited('ChoiceStateExited', 'Decide', ctx),
    ...task('RestoreLogGroup', ctx, ctx),
    entered('TaskStateEntered', 'RestoreRole', ctx),
    event('TaskScheduled'),
    event('TaskStarted'),
    event('TaskFailed', {
      taskFailedEventDetails: {
        resourceType: 'lambda',
        resource: 'invoke',
        error: 'RemediationError',
        cause: CAUSE,
      },
    }),
    exited('TaskStateExited', 'RestoreRole', envelope.failed),
    entered('PassStateEntered', 'CaptureRestoreRoleFailure', envelope.failed),
    exited('PassStateExited', 'CaptureRestoreRoleFailure', envelope),
    ...task('NotifyFailure', envelope, context),
    ...task('AuditFailure', context, failStateInput),
    entered('FailStateEntered', 'Failed', failStateInput),
    event('ExecutionFailed', {
      executionFailedEventDetails: {
        error: 'TrailguardRemediationFailed',
        cause: 'A trailguard step failed',
      },
    }),
  ];
}

/** SFN answers: DescribeExecution RUNNING `running` times then `final`; the history in pages of `pageSize`. */
function mockSfn(
  target: AwsClientStub<SFNClient>,
  final: { status: string; output?: string; error?: string; cause?: string },
  history: HistoryEvent[],
  options: { running?: number; pageSize?: number } = {},
) {
  const describe = target.on(DescribeExecutionCommand);
  for (let i = 0; i < (options.running ?? 0); i++) describe.resolvesOnce({ status: 'RUNNING' });
  describe.resolves(final as never);
  const size = options.pageSize ?? 1000;
  target
    .on(GetExecutionHistoryCommand)
    .callsFake((input: { nextToken?: string; reverseOrder?: boolean; maxResults?: number }) => {
      // The newest events first when asked (the poll's look at where a running execution is).
      const events = input.reverseOrder ? [...history].reverse() : history;
      const from = Number(input.nextToken ?? 0);
      const next = from + Math.min(size, input.maxResults ?? size);
      return {
        events: events.slice(from, next),
        ...(next < events.length ? { nextToken: String(next) } : {}),
      };
    });
}

/** The GetExecutionHistory calls that read the whole history (not the poll's look at the newest event). */
const historyReads = (mock: AwsClientStub<SFNClient>) =>
  mock.commandCalls(GetExecutionHistoryCommand).filter((c) => !c.args[0].input.reverseOrder);

function mockedClients() {
  const sfn = new SFNClient({ region: REGION, maxAttempts: 1 });
  const mock = mockClient(sfn);
  const mocked: AwsClients = { ...testClients(), sfn: () => sfn };
  return { mock, clients: mocked };
}

describe('reading a finished execution (SDK mock: moto cannot execute Lambda tasks)', () => {
  it('a remediated run waiting for its delivery check is reported when the wait starts, with what entered it', async () => {
    const { mock, clients: mocked } = mockedClients();
    const ctx = remediatedContext();
    const history = [
      event('ExecutionStarted'),
      ...task('Check', {}, remediateContext()),
      ...task('Verify', remediateContext(), ctx),
      ...task('Notify', ctx, ctx),
      ...task('Audit', ctx, ctx),
      entered('ChoiceStateEntered', 'DeliveryCheckDue', ctx),
      exited('ChoiceStateExited', 'DeliveryCheckDue', ctx),
      entered('WaitStateEntered', 'WaitForDelivery', ctx),
    ];
    // Still RUNNING for as long as the test cares: the wait is 15 minutes.
    mockSfn(mock, { status: 'RUNNING' }, history);
    const clock = fakeClock();
    const run = await waitForExecution(mocked, EXECUTION_ARN, clock.wait);
    expect(clock.sleeps).toEqual([]);
    expect(run).toMatchObject({ status: 'SUCCEEDED', deliveryCheckPending: true });
    expect(run.output).toEqual(RunContextSchema.parse(ctx));
    expect(run.states.at(-1)).toBe('WaitForDelivery');
    const result = resultOf(run, 'trail');
    expect(result.outcome).toBe('remediated');
    expect(result.reason).toContain('the delivery check runs when the execution has waited');
  });

  it('SUCCEEDED: the output is the final RunContext; states from the paginated history; polled with backoff', async () => {
    const { mock, clients: mocked } = mockedClients();
    const ctx = remediatedContext();
    const history = [
      event('ExecutionStarted'),
      ...task('Check', {}, remediateContext()),
      entered('ChoiceStateEntered', 'Decide', remediateContext()),
      ...task('RestoreLogGroup', remediateContext(), remediateContext()),
      ...task('RestoreRole', remediateContext(), remediateContext()),
      ...task('RestoreTrail', remediateContext(), remediateContext()),
      ...task('Verify', remediateContext(), ctx),
      ...task('Notify', ctx, ctx),
      ...task('Audit', ctx, ctx),
      entered('SucceedStateEntered', 'Done', ctx),
      event('ExecutionSucceeded'),
    ];
    mockSfn(mock, { status: 'SUCCEEDED', output: JSON.stringify(ctx) }, history, {
      running: 2,
      pageSize: 7,
    });
    const clock = fakeClock();
    const run = await waitForExecution(mocked, EXECUTION_ARN, clock.wait);
    expect(clock.sleeps).toEqual([1000, 1500]);
    expect(historyReads(mock).length).toBe(Math.ceil(history.length / 7));
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toEqual(RunContextSchema.parse(ctx));
    expect(run.states).toEqual([
      'Check',
      'Decide',
      'RestoreLogGroup',
      'RestoreRole',
      'RestoreTrail',
      'Verify',
      'Notify',
      'Audit',
      'Done',
    ]);
    expect(run.transitions).toBe(9);
  });

  it('SUCCEEDED with an output that is not a RunContext: DeployedExecutionError, not a result', async () => {
    const { mock, clients: mocked } = mockedClients();
    mockSfn(mock, { status: 'SUCCEEDED', output: '{"hello":"world"}' }, [event('ExecutionSucceeded')]);
    await expect(waitForExecution(mocked, EXECUTION_ARN, fakeClock().wait)).rejects.toThrow(
      DeployedExecutionError,
    );
  });

  it('FAILED: the failed step, error and RunContext are recovered from the history (input of the Fail state)', async () => {
    const { mock, clients: mocked } = mockedClients();
    const { context } = failedContext();
    const audited = RunContextSchema.parse({
      ...context,
      notification: { messageId: 'm-1', subject: '[trailguard] FAILED: trail management-events (us-east-1)' },
      audit: { id: 'a-1', tableName: 'trailguard-audit' },
    });
    mockSfn(
      mock,
      { status: 'FAILED', error: 'TrailguardRemediationFailed', cause: 'A trailguard step failed' },
      failedHistory(audited),
      { pageSize: 10 },
    );
    const run = await waitForExecution(mocked, EXECUTION_ARN, fakeClock().wait);
    expect(run.status).toBe('FAILED');
    expect(run.error).toEqual({ Error: 'TrailguardRemediationFailed', Cause: 'A trailguard step failed' });
    expect(run.output).toEqual(JSON.parse(JSON.stringify(audited)));
    expect(run.states.slice(-5)).toEqual([
      'RestoreRole',
      'CaptureRestoreRoleFailure',
      'NotifyFailure',
      'AuditFailure',
      'Failed',
    ]);
    expect(run.history.find((h) => h.error === 'RemediationError')).toMatchObject({
      type: 'TaskFailed',
      state: 'RestoreRole',
      cause: CAUSE,
    });
    // Read back as the local runner's result would be: the failed step, its error and the audited context.
    const result = resultOf(run, 'management-events');
    expect(result).toMatchObject({
      outcome: 'failed',
      trail: TRAIL_ARN,
      reason: 'RemediationError: CreateRole was denied',
      failure: { step: 'RestoreRole', name: 'RemediationError', message: 'CreateRole was denied' },
      error: { Error: 'TrailguardRemediationFailed' },
      context: { outcome: 'failed', audit: { id: 'a-1', tableName: 'trailguard-audit' } },
    });
  });

  it('FAILED with NotifyFailure and AuditFailure failed too: the failure envelope still names the step', async () => {
    const { mock, clients: mocked } = mockedClients();
    const { envelope } = failedContext();
    const lastInput = {
      ...envelope,
      notificationError: { Error: 'NotificationError', Cause: 'SNS down' },
      auditError: { Error: 'AuditWriteError', Cause: 'DynamoDB down' },
    };
    mockSfn(mock, { status: 'FAILED', error: 'TrailguardRemediationFailed' }, failedHistory(lastInput));
    const result = resultOf(await waitForExecution(mocked, EXECUTION_ARN, fakeClock().wait), 'x');
    expect(result.outcome).toBe('failed');
    expect(result.failure).toEqual({
      step: 'RestoreRole',
      name: 'RemediationError',
      message: 'CreateRole was denied',
    });
    expect(result.trail).toBe(TRAIL_ARN);
  });

  it('TIMED_OUT: failed at the state it was in, with the timeout as the error', async () => {
    const { mock, clients: mocked } = mockedClients();
    const ctx = remediateContext();
    mockSfn(mock, { status: 'TIMED_OUT' }, [
      event('ExecutionStarted'),
      ...task('Check', {}, ctx),
      entered('TaskStateEntered', 'RestoreTrail', ctx),
      event('ExecutionTimedOut', { executionTimedOutEventDetails: {} }),
    ]);
    const result = resultOf(await waitForExecution(mocked, EXECUTION_ARN, fakeClock().wait), 'x');
    expect(result.outcome).toBe('failed');
    expect(result.failure).toEqual({
      step: 'RestoreTrail',
      name: 'States.Timeout',
      message: 'the execution timed out',
    });
  });

  it('a throttled DescribeExecution is polled again; any other error is a DeployedExecutionError', async () => {
    const { mock, clients: mocked } = mockedClients();
    mockSfn(mock, { status: 'SUCCEEDED', output: JSON.stringify(remediatedContext()) }, []);
    mock
      .on(DescribeExecutionCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))
      .resolves({ status: 'SUCCEEDED', output: JSON.stringify(remediatedContext()) } as never);
    expect((await waitForExecution(mocked, EXECUTION_ARN, fakeClock().wait)).status).toBe('SUCCEEDED');

    mock
      .on(DescribeExecutionCommand)
      .rejects(Object.assign(new Error('no such execution'), { name: 'ExecutionDoesNotExist' }));
    await expect(waitForExecution(mocked, EXECUTION_ARN, fakeClock().wait)).rejects.toThrow(
      /DescribeExecution .* failed: ExecutionDoesNotExist/,
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// The command line

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], env: Record<string, string | undefined>): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: { write: (s: string) => out.push(s) },
    stderr: { write: (s: string) => err.push(s) },
    env,
  };
  const code = await main(args, io);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

/** The environment of a shell pointed at real AWS (the SDK itself still reaches moto in these tests). */
const AWS_ENV = { AWS_REGION: REGION };
const EMULATOR_ENV = { AWS_REGION: REGION, AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL };

function expectOneLineFailure(result: Run, code: number, pattern: RegExp): void {
  expect(result.code).toBe(code);
  expect(result.stdout).toBe('');
  expect(result.stderr.endsWith('\n')).toBe(true);
  expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(result.stderr).toMatch(pattern);
}

describe('trailguard remediate / replay --engine', () => {
  let sfnMock: AwsClientStub<SFNClient> | undefined;
  afterEach(() => {
    sfnMock?.restore();
    sfnMock = undefined;
  });

  it('--engine deployed --stack X: a stack that does not exist exits 2 with one line naming it', async () => {
    const result = await cli(
      ['remediate', '--trail', 'management-events', '--engine', 'deployed', '--stack', 'missing-stack'],
      EMULATOR_ENV,
    );
    expectOneLineFailure(
      result,
      2,
      new RegExp(`^trailguard: stack "missing-stack" does not exist in ${REGION}:`),
    );
  });

  it('replay --engine deployed: a stack that does not exist exits 2, nothing started', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'tg-deployed-')), 'event.json');
    await writeFile(file, JSON.stringify(adminEvent('StopLogging', 'management-events')));
    const result = await cli(['replay', file, '--engine', 'deployed', '--stack', 'missing-stack'], AWS_ENV);
    expectOneLineFailure(result, 2, new RegExp(`stack "missing-stack" does not exist in ${REGION}:`));
  });

  it('without AWS_ENDPOINT_URL the engine is deployed, on the default stack Trailguard', async () => {
    const result = await cli(['remediate', '--trail', 'management-events'], AWS_ENV);
    expectOneLineFailure(result, 2, new RegExp(`stack "Trailguard" does not exist in ${REGION}:`));
  });

  it('AWS_ENDPOINT_URL set: the engine is local; --engine deployed overrides it', async () => {
    await ensureTopic(clients, 'trailguard-notifications');
    await ensureAuditTable(clients, 'trailguard-audit');
    await seedCompliantTrail(clients, 'good-trail');
    const local = await cli(['remediate', '--trail', 'good-trail', '--json'], EMULATOR_ENV);
    expect(local.stderr).toBe('');
    expect(local.code).toBe(0);
    expect(JSON.parse(local.stdout)).toMatchObject({
      outcome: 'compliant',
      trail: trailArn('good-trail'),
      executionId: expect.stringMatching(/:execution:trailguard:local-/),
    });

    const deployed = await cli(['remediate', '--trail', 'good-trail', '--engine', 'deployed'], EMULATOR_ENV);
    expectOneLineFailure(deployed, 2, /stack "Trailguard" does not exist/);

    const forcedLocal = await cli(['remediate', '--trail', 'good-trail', '--engine', 'local'], AWS_ENV);
    expect(forcedLocal.code).toBe(0);
    expect(forcedLocal.stdout).toMatch(/^outcome: +compliant$/m);
  });

  it('usage: an unknown engine, or --stack with the local engine, exits 2', async () => {
    const unknown = await cli(['remediate', '--trail', 't', '--engine', 'cloud'], AWS_ENV);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--engine.*cloud.*(local|deployed)/);
    const stackLocal = await cli(['remediate', '--trail', 't', '--stack', 'S'], EMULATOR_ENV);
    expectOneLineFailure(
      stackLocal,
      2,
      /--stack applies to --engine deployed; the engine is local because AWS_ENDPOINT_URL is set/,
    );
  });

  it('a failure prints the same lines and exit code locally and on the deployed stack (SDK mock: moto cannot execute Lambda tasks)', async () => {
    // Locally: a Deny in the delivery role that trailguard will not remove fails RestoreRole.
    await ensureTopic(clients, 'trailguard-notifications');
    await ensureAuditTable(clients, 'trailguard-audit');
    await seedTrail(clients, 'management-events', {
      breaks: { permissions: 'denied' },
      roleName: 'trailguard-cloudtrail-delivery',
    });
    const local = await cli(['remediate', '--trail', 'management-events'], EMULATOR_ENV);
    expect(local.code).toBe(1);
    expect(local.stdout).toMatch(/^outcome: +failed$/m);
    expect(local.stdout).toMatch(/^failed at: RestoreRole — RemediationError: .+$/m);
    const localJson = JSON.parse(
      (await cli(['remediate', '--trail', 'management-events', '--json'], EMULATOR_ENV)).stdout,
    ) as { error: unknown };
    expect(localJson.error).toEqual({
      step: 'RestoreRole',
      name: 'RemediationError',
      message: expect.any(String),
    });

    // Deployed: the stack in moto, Step Functions answering as for a run that failed the same way.
    await createStack();
    sfnMock = mockClient(SFNClient);
    sfnMock.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
      executionArn: `arn:aws:states:${REGION}:${ACCOUNT}:execution:${MACHINE}:${input.name}`,
      startDate: new Date(),
    }));
    const { context } = failedContext();
    mockSfn(
      sfnMock,
      { status: 'FAILED', error: 'TrailguardRemediationFailed', cause: 'A trailguard step failed' },
      failedHistory(context),
    );
    const deployed = await cli(
      ['remediate', '--trail', 'management-events', '--engine', 'deployed', '--stack', STACK],
      AWS_ENV,
    );
    expect(deployed.stderr).toBe('');
    expect(deployed.code).toBe(1);
    expect(deployed.stdout).toMatch(/^outcome: +failed$/m);
    expect(deployed.stdout).toMatch(/^failed at: RestoreRole — RemediationError: CreateRole was denied$/m);
    expect(deployed.stdout).toContain(
      `execution: arn:aws:states:${REGION}:${ACCOUNT}:execution:${MACHINE}:remediate-`,
    );
    const [start] = sfnMock.commandCalls(StartExecutionCommand);
    expect(start?.args[0].input.stateMachineArn).toBe(MACHINE_ARN);
    expect(JSON.parse(start?.args[0].input.input ?? '')).toEqual({
      source: 'trailguard',
      kind: 'manual',
      trail: 'management-events',
      region: REGION,
      requestedBy: 'trailguard remediate (CLI)',
    });

    const json = await cli(
      ['remediate', '--trail', 'management-events', '--engine', 'deployed', '--stack', STACK, '--json'],
      AWS_ENV,
    );
    expect(json.code).toBe(1);
    const parsed = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(parsed).toMatchObject({
      outcome: 'failed',
      trail: TRAIL_ARN,
      error: { step: 'RestoreRole', name: 'RemediationError', message: 'CreateRole was denied' },
    });
    expect(Object.keys(parsed.error as object).sort()).toEqual(Object.keys(localJson.error as object).sort());
    expect(parsed.states).toEqual(expect.arrayContaining(['CaptureRestoreRoleFailure', 'Failed']));
  });
});
