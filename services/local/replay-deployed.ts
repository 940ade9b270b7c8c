/**
 * Replaying an event or remediating a trail on the deployed stack (`--engine deployed`): what replay.ts does
 * in process, with the executions started on the stack's own state machine instead.
 * - the stack's EventBridge rules (from the synthesized template, as locally) decide what happens to an event;
 * - the trail rule matches: one execution with the event itself as input, exactly what EventBridge passes;
 * - the dependency rule matches: the sweep function's core runs here, starting one execution per affected
 *   trail on the deployed state machine, as the deployed sweep function would;
 * - `remediate`: one execution with the manual request remediateTrail builds.
 * Each execution is waited for and read back into the same ReplayResult the local runner gives.
 */
import { createHash } from 'node:crypto';
import { type ConfigInput, parseConfig } from '../../policies/config.js';
import type { AwsClients } from '../aws/clients.js';
import {
  type DeployedWorkflow,
  findDeployedWorkflow,
  runDeployedWorkflow,
  startDeployedExecution,
  type WaitOptions,
  waitForExecution,
} from '../aws/deployed-workflow.js';
import type { StartExecution } from '../aws/execution-starter.js';
import { sweepStep } from '../aws/sweep.js';
import { parseWorkflowInput } from '../domain/events.js';
import { combined, manualRequest, matchRules, type ReplayResult, resultOf } from './replay.js';

export { DeployedStackError } from '../aws/deployed-workflow.js';

export interface DeployedOptions {
  /** Clients in the stack's region (the trail's or the event's). */
  clients: AwsClients;
  /** The stack whose `StateMachineArn` output names the state machine. */
  stackName: string;
  /** The guardrail's own role, excluded by the rules (default as for a local replay). */
  ownRoleArn?: string;
  /** The configuration the rules are synthesized with (the deployed functions use their own). */
  config?: ConfigInput;
  wait?: WaitOptions;
  now?: () => Date;
}

/**
 * An execution name: a readable prefix from what started it, then the time, so that each replay or remediate
 * starts its own run (Step Functions keeps a Standard execution's name for 90 days) and the name says what it
 * was. At most 80 of [A-Za-z0-9_-].
 */
export function deployedExecutionName(base: string, now: Date): string {
  const stamp = now.getTime().toString(36);
  const clean = base.replace(/[^\w-]/g, '-');
  return `${clean.slice(0, 80 - stamp.length - 1)}-${stamp}`;
}

const shortHash = (value: string) => createHash('sha256').update(value).digest('hex').slice(0, 8);

/**
 * The dependency rule matched: the sweep core finds the affected trails and starts one deployed execution
 * for each (names as the sweep gives them, plus the time), then every run is waited for.
 */
async function fanOut(event: unknown, workflow: DeployedWorkflow, options: DeployedOptions) {
  const now = options.now ?? (() => new Date());
  const started: { trail: string; executionArn: string }[] = [];
  const start: StartExecution = async ({ name, input }) => {
    const execution = await startDeployedExecution(
      options.clients,
      workflow.stateMachineArn,
      deployedExecutionName(name, now()),
      input,
    );
    started.push({ trail: input.trail, executionArn: execution.executionArn });
    return execution;
  };
  const sweep = await sweepStep(
    { config: parseConfig(options.config ?? {}), clients: options.clients },
    start,
  )(event);
  const runs = await Promise.all(
    started.map(async ({ trail, executionArn }) =>
      resultOf(await waitForExecution(options.clients, executionArn, options.wait), trail),
    ),
  );
  return combined(sweep.reason, runs);
}

/**
 * Applies the stack's rules to the event, then runs the deployed workflow (or the fan-out) for it. Bad input
 * throws InvalidInputError and a missing stack DeployedStackError, both before anything is started; an event
 * no rule would match is `ignored`; a failed execution is outcome `failed` (not a throw).
 */
export async function replayEventDeployed(event: unknown, options: DeployedOptions): Promise<ReplayResult> {
  const { parsed, matched, ignored } = await matchRules(event, options);
  const workflow = await findDeployedWorkflow(options.clients, options.stackName);
  if (!matched) return ignored;
  if (matched.target === 'fanout') return fanOut(event, workflow, options);
  const input = parseWorkflowInput(parsed);
  const name = deployedExecutionName(
    `replay-${('eventID' in parsed.detail ? parsed.detail.eventID : undefined) ?? parsed.id}`,
    (options.now ?? (() => new Date()))(),
  );
  const run = await runDeployedWorkflow(options.clients, workflow, name, event, options.wait);
  return resultOf(run, input.trail.id);
}

/** Runs the deployed workflow for a trail without an event: the same request `remediateTrail` builds. */
export async function remediateTrailDeployed(
  trail: string,
  region: string,
  options: DeployedOptions & { requestedBy?: string },
): Promise<ReplayResult> {
  const request = manualRequest(trail, region, options.requestedBy);
  const input = parseWorkflowInput(request);
  const workflow = await findDeployedWorkflow(options.clients, options.stackName);
  const label = trail.split('/').at(-1) ?? trail;
  const name = deployedExecutionName(
    `remediate-${label.slice(0, 40)}-${shortHash(trail)}`,
    (options.now ?? (() => new Date()))(),
  );
  const run = await runDeployedWorkflow(options.clients, workflow, name, request, options.wait);
  return resultOf(run, input.trail.id);
}
