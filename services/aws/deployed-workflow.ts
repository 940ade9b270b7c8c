/**
 * The deployed workflow: the stack's state machine (its `StateMachineArn` output), starting an execution of
 * it and waiting for the execution to end, read back as the same WorkflowRun the local runner produces (so
 * the CLI prints the same result and exits with the same code wherever the workflow ran).
 *
 * A succeeded execution's output is the final RunContext. A failed one's is not kept by Step Functions (the
 * Fail state drops it): its history is read instead, and the input of the last state entered (the Fail
 * state's: what the failure path built, naming the failed step) stands for it, as in the local runner.
 */
import { DescribeStacksCommand, type DescribeStacksCommandOutput } from '@aws-sdk/client-cloudformation';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  type GetExecutionHistoryCommandOutput,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { formatIssues } from '../../policies/config.js';
import * as z from '../../policies/zod.js';
import { awsErrorName, isTransient, TrailguardError } from '../domain/errors.js';
import { RunContextSchema } from '../domain/run-context.js';
import type { ExecutionStatus, HistoryEntry, WorkflowRun } from '../local/workflow-runner.js';
import type { AwsClients } from './clients.js';
import { type ExecutionRequest, type StartedExecution, sfnExecutionStarter } from './execution-starter.js';

/** The stack output naming the workflow's state machine (infra/stacks/trailguard-stack.ts). */
export const STATE_MACHINE_OUTPUT = 'StateMachineArn';

/** The stack does not exist in the region, or it is not a trailguard stack (no state machine output). */
export class DeployedStackError extends TrailguardError {
  override name = 'DeployedStackError';
}

/** An execution could not be followed to its end, or ended with a result that is not the workflow's. */
export class DeployedExecutionError extends TrailguardError {
  override name = 'DeployedExecutionError';
}

/** The execution was still running when the wait ran out (it goes on running). */
export class ExecutionWaitTimeoutError extends DeployedExecutionError {
  override name = 'ExecutionWaitTimeoutError';
}

export interface DeployedWorkflow {
  stackName: string;
  region: string;
  stateMachineArn: string;
}

const StateMachineArnSchema = z
  .string()
  .check(
    z.regex(
      /^arn:aws[\w-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[\w-]{1,80}$/,
      'must be a state machine ARN',
    ),
  );

/**
 * Finds the stack's state machine from its outputs (CloudFormation DescribeStacks, in the clients' default
 * region). DeployedStackError, naming the stack and the region, when there is no such stack or output.
 */
export async function findDeployedWorkflow(
  clients: AwsClients,
  stackName: string,
): Promise<DeployedWorkflow> {
  const region = clients.defaultRegion;
  let stacks: DescribeStacksCommandOutput['Stacks'];
  try {
    ({ Stacks: stacks } = await clients
      .cloudFormation()
      .send(new DescribeStacksCommand({ StackName: stackName })));
  } catch (error) {
    // CloudFormation answers an unknown stack name with a ValidationError "Stack with id NAME does not exist".
    if (awsErrorName(error) === 'ValidationError' && /does not exist/i.test((error as Error).message)) {
      throw new DeployedStackError(
        `stack "${stackName}" does not exist in ${region}: deploy trailguard there, pass --stack NAME (and the region), or use --engine local`,
        { cause: error },
      );
    }
    throw new DeployedExecutionError(
      `DescribeStacks ${stackName} in ${region} failed: ${awsErrorName(error) ?? 'Error'}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const stack = stacks?.[0];
  if (!stack) throw new DeployedStackError(`stack "${stackName}" does not exist in ${region}`);
  const output = stack.Outputs?.find((o) => o.OutputKey === STATE_MACHINE_OUTPUT)?.OutputValue;
  if (output === undefined) {
    throw new DeployedStackError(
      `stack "${stackName}" in ${region} (${stack.StackStatus ?? 'unknown status'}) has no ${STATE_MACHINE_OUTPUT} output: is it a trailguard stack, and is its deployment complete?`,
    );
  }
  const arn = StateMachineArnSchema.safeParse(output);
  if (!arn.success) {
    throw new DeployedStackError(
      `stack "${stackName}" in ${region}: output ${STATE_MACHINE_OUTPUT} "${output.slice(0, 200)}" ${formatIssues(arn.error).join('; ')}`,
      { cause: arn.error },
    );
  }
  return { stackName, region, stateMachineArn: arn.data };
}

/**
 * Starts one execution with `input` as its input (JSON). A name already used answers ExecutionAlreadyExists:
 * reported as not started, with that execution's ARN, so the caller follows the existing run. The same starter
 * the sweep function uses (execution-starter.ts).
 */
export function startDeployedExecution(
  clients: AwsClients,
  stateMachineArn: string,
  name: string,
  input: unknown,
): Promise<StartedExecution> {
  return sfnExecutionStarter(clients, stateMachineArn)({ name, input: input as ExecutionRequest['input'] });
}

export interface WaitOptions {
  /**
   * How long to wait for the execution to end before giving up (it goes on running). Default 16 minutes: the
   * run's own part of the state machine's timeout is 15 (a run waiting for its delivery check is reported
   * as soon as it starts waiting).
   */
  timeoutMs?: number;
  /** The first pause between DescribeExecution calls; each next one is 1.5 times longer, up to maxIntervalMs. */
  initialIntervalMs?: number;
  maxIntervalMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Milliseconds, for the timeout (default Date.now). */
  now?: () => number;
}

export const DEFAULT_WAIT_TIMEOUT_MS = 16 * 60_000;
const DONE = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);
const MAX_HISTORY_PAGES = 30;

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The state a remediated run waits in before its delivery check (infra/constructs/workflow.ts). */
const DELIVERY_WAIT_STATE = 'WaitForDelivery';

/**
 * Whether the execution's newest event is entering the delivery check's wait: the run's outcome is then
 * recorded and emailed, and only the delivery check (minutes later) is left.
 */
async function waitingForDelivery(clients: AwsClients, executionArn: string): Promise<boolean> {
  const out = await clients
    .sfn()
    .send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 1 }));
  const [latest] = out.events ?? [];
  return latest?.type === 'WaitStateEntered' && latest.stateEnteredEventDetails?.name === DELIVERY_WAIT_STATE;
}

/**
 * Polls DescribeExecution with backoff until the execution is no longer running, or is waiting for its delivery
 * check (`deliveryPending`).
 */
export async function describeUntilDone(
  clients: AwsClients,
  executionArn: string,
  options: WaitOptions,
): Promise<{ described: DescribeExecutionCommandOutput; deliveryPending: boolean }> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? sleepFor;
  const deadline = now() + (options.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS);
  const maxInterval = options.maxIntervalMs ?? 10_000;
  let interval = options.initialIntervalMs ?? 1_000;
  for (;;) {
    try {
      const out = await clients.sfn().send(new DescribeExecutionCommand({ executionArn }));
      if (out.status && DONE.has(out.status)) return { described: out, deliveryPending: false };
      if (await waitingForDelivery(clients, executionArn)) return { described: out, deliveryPending: true };
    } catch (error) {
      // A throttle or 5xx left after the SDK's own retries: try again at the next poll.
      if (!isTransient(error)) {
        throw new DeployedExecutionError(
          `DescribeExecution ${executionArn} failed: ${awsErrorName(error) ?? 'Error'}: ${(error as Error).message}`,
          { cause: error },
        );
      }
    }
    const left = deadline - now();
    if (left <= 0) {
      throw new ExecutionWaitTimeoutError(
        `execution ${executionArn} was still running after ${Math.round((options.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS) / 1000)} s; it goes on running: see it in the Step Functions console`,
      );
    }
    await sleep(Math.min(interval, left));
    interval = Math.min(interval * 1.5, maxInterval);
  }
}

/** The whole execution history, oldest first (GetExecutionHistory, paginated). */
export async function readHistory(clients: AwsClients, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < MAX_HISTORY_PAGES; page++) {
    let out: GetExecutionHistoryCommandOutput;
    try {
      out = await clients.sfn().send(
        new GetExecutionHistoryCommand({
          executionArn,
          maxResults: 1000,
          includeExecutionData: true,
          ...(nextToken ? { nextToken } : {}),
        }),
      );
    } catch (error) {
      throw new DeployedExecutionError(
        `GetExecutionHistory ${executionArn} failed: ${awsErrorName(error) ?? 'Error'}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    events.push(...(out.events ?? []));
    nextToken = out.nextToken;
    if (!nextToken) return events;
  }
  throw new DeployedExecutionError(
    `the history of ${executionArn} has more than ${MAX_HISTORY_PAGES} pages; read it in the Step Functions console`,
  );
}

/** The `{error, cause}` of an event's details (TaskFailed, LambdaFunctionFailed, ExecutionFailed, ...). */
function errorOf(event: HistoryEvent): { error: string; cause?: string } | undefined {
  for (const [key, value] of Object.entries(event)) {
    if (!key.endsWith('EventDetails') || !value || typeof value !== 'object') continue;
    const { error, cause } = value as { error?: unknown; cause?: unknown };
    if (typeof error === 'string') return { error, ...(typeof cause === 'string' ? { cause } : {}) };
  }
  return undefined;
}

/** The state name, the state input (parsed, unless truncated) and the entries of the local runner's shape. */
function historyOf(events: HistoryEvent[]) {
  const history: HistoryEntry[] = [];
  const states: string[] = [];
  let lastInput: unknown;
  let current: string | undefined;
  for (const event of events) {
    const type = event.type ?? 'Unknown';
    const entered = event.stateEnteredEventDetails;
    const entry: HistoryEntry = { type };
    if (type.endsWith('StateEntered') && entered?.name) {
      current = entered.name;
      states.push(entered.name);
      lastInput = undefined;
      if (entered.input !== undefined && !entered.inputDetails?.truncated) {
        try {
          lastInput = JSON.parse(entered.input);
        } catch {
          // Not JSON: left undefined; the result then says what the execution's error says.
        }
      }
    }
    const state = event.stateExitedEventDetails?.name ?? entered?.name ?? current;
    if (state && !type.startsWith('Execution')) entry.state = state;
    const error = errorOf(event);
    if (error) {
      entry.error = error.error;
      if (error.cause !== undefined) entry.cause = error.cause;
    }
    history.push(entry);
  }
  return { history, states, lastInput };
}

/** The execution's output: for a workflow that succeeded, the final RunContext. */
function succeededOutput(executionArn: string, output: string | undefined): unknown {
  let json: unknown;
  try {
    json = JSON.parse(output ?? '');
  } catch (error) {
    throw new DeployedExecutionError(`execution ${executionArn} succeeded but its output is not JSON`, {
      cause: error,
    });
  }
  const context = RunContextSchema.safeParse(json);
  if (!context.success) {
    throw new DeployedExecutionError(
      `execution ${executionArn} succeeded but its output is not a trailguard run context (is the stack another version?): ${formatIssues(context.error).join('; ')}`,
      { cause: context.error },
    );
  }
  return context.data;
}

/**
 * Waits for an execution to end and reads it back as a WorkflowRun: SUCCEEDED with the final RunContext as
 * output; FAILED / TIMED_OUT (ABORTED counts as FAILED) with the input of the last state entered as output and
 * the execution's error. The states entered and the history come from GetExecutionHistory.
 */
export async function waitForExecution(
  clients: AwsClients,
  executionArn: string,
  options: WaitOptions = {},
): Promise<WorkflowRun> {
  const { described, deliveryPending } = await describeUntilDone(clients, executionArn, options);
  const { history, states, lastInput } = historyOf(await readHistory(clients, executionArn));
  const base = { executionId: executionArn, transitions: states.length, states, history };
  if (deliveryPending) {
    // The run is over but for its delivery check: its result is what entered the wait.
    const context = RunContextSchema.safeParse(lastInput);
    if (!context.success) {
      throw new DeployedExecutionError(
        `execution ${executionArn} waits for its delivery check, but what it waits with is not a trailguard run context`,
        { cause: context.error },
      );
    }
    return { ...base, status: 'SUCCEEDED', output: context.data, deliveryCheckPending: true };
  }
  if (described.status === 'SUCCEEDED') {
    return { ...base, status: 'SUCCEEDED', output: succeededOutput(executionArn, described.output) };
  }
  const status: ExecutionStatus = described.status === 'TIMED_OUT' ? 'TIMED_OUT' : 'FAILED';
  const known =
    described.status === 'TIMED_OUT'
      ? { Error: 'States.Timeout', Cause: 'the execution timed out' }
      : described.status === 'ABORTED'
        ? { Error: 'ExecutionAborted', Cause: 'the execution was stopped' }
        : { Error: 'States.Runtime', Cause: 'the execution failed' };
  const error = { Error: described.error ?? known.Error, Cause: described.cause ?? known.Cause };
  return { ...base, status, output: lastInput, error };
}

/** Starts an execution of the deployed workflow and waits for it (see waitForExecution). */
export async function runDeployedWorkflow(
  clients: AwsClients,
  workflow: DeployedWorkflow,
  name: string,
  input: unknown,
  options: WaitOptions = {},
): Promise<WorkflowRun> {
  const { executionArn } = await startDeployedExecution(clients, workflow.stateMachineArn, name, input);
  return waitForExecution(clients, executionArn, options);
}
