/**
 * Replaying a CloudTrail event locally, the way the deployed stack would handle it: the stack's own
 * EventBridge rule pattern (from the synthesized template) decides whether the event starts the workflow at
 * all, then the synthesized state machine runs against whatever AWS_ENDPOINT_URL points to.
 * Used by `trailguard replay`, `npm run demo`, the end-to-end tests and the benchmark.
 */
import type { ConfigInput } from '../../policies/config.js';
import type { AwsClients } from '../aws/clients.js';
import { InvalidInputError } from '../domain/errors.js';
import { matchesEventPattern } from '../domain/event-pattern.js';
import { type CloudTrailEvent, parseCloudTrailEvent, parseWorkflowInput } from '../domain/events.js';
import { type Action, type Outcome, type RunContext, RunContextSchema } from '../domain/run-context.js';
import {
  type RunWorkflowOptions,
  ruleEventPattern,
  runWorkflow,
  type WorkflowRun,
} from './workflow-runner.js';

export type ReplayOutcome = Outcome | 'ignored';

export interface ReplayResult {
  outcome: ReplayOutcome;
  /** The trail ARN, or the trail as the event names it; null when ignored before the trail was known. */
  trail: string | null;
  /** Finding codes before any change. */
  findings: string[];
  actions: Action[];
  reason: string;
  executionId?: string;
  /** The final RunContext (for a failed run: what reached the Fail state). */
  context?: RunContext;
  error?: { Error: string; Cause?: string };
  transitions?: number;
  states?: string[];
}

export interface ReplayOptions extends Omit<RunWorkflowOptions, 'executionName'> {
  /** The guardrail's own role, excluded by the rule (default: the runner's local remediator role ARN). */
  ownRoleArn?: string;
  clients?: AwsClients;
  config?: ConfigInput;
}

/** Parses a file's text as a CloudTrail event in EventBridge's shape; InvalidInputError otherwise. */
export function parseEventText(text: string, source = 'the file'): CloudTrailEvent {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(`${source} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  return parseCloudTrailEvent(json);
}

function resultOf(run: WorkflowRun, fallbackTrail: string): ReplayResult {
  const parsed = RunContextSchema.safeParse(run.output);
  const context = parsed.success ? parsed.data : undefined;
  const outcome: Outcome = run.status === 'SUCCEEDED' ? (context?.outcome ?? 'compliant') : 'failed';
  return {
    outcome,
    trail: context?.trailArn ?? context?.trailRef.id ?? fallbackTrail,
    findings: context?.before?.assessment.findings.map((f) => f.code) ?? [],
    actions: context?.actions ?? [],
    reason:
      outcome === 'failed'
        ? `${context?.error?.Error ?? run.error?.Error ?? 'error'}: ${errorMessage(context?.error?.Cause ?? run.error?.Cause)}`
        : (context?.reason ?? ''),
    executionId: run.executionId,
    ...(context ? { context } : {}),
    ...(run.error ? { error: run.error } : {}),
    transitions: run.transitions,
    states: run.states,
  };
}

/** Step Functions' Cause for a Lambda error is JSON with errorMessage; show the message. */
export function errorMessage(cause: string | undefined): string {
  if (!cause) return '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // not JSON: the cause is the message
  }
  return cause;
}

/**
 * Applies the rule, then runs the workflow. Bad input throws InvalidInputError before anything is touched;
 * an event the rule would not match is `ignored`; a failed execution is outcome `failed` (not a throw).
 */
export async function replayEvent(event: unknown, options: ReplayOptions = {}): Promise<ReplayResult> {
  const parsed = parseCloudTrailEvent(event);
  const pattern = await ruleEventPattern(
    options.ownRoleArn,
    options.config ? { config: options.config } : {},
  );
  if (!matchesEventPattern(pattern, parsed)) {
    return {
      outcome: 'ignored',
      trail: null,
      findings: [],
      actions: [],
      reason: `the stack's rule does not match this ${parsed.detail.eventName} event (${parsed.source})`,
    };
  }
  // The rule matched: the event must name a trail the workflow can check, or it is bad input.
  const input = parseWorkflowInput(parsed);
  const run = await runWorkflow(parsed, options);
  return resultOf(run, input.trail.id);
}

/** Runs the workflow for a trail without an event (`trailguard remediate`, the sweep). */
export async function remediateTrail(
  trail: string,
  region: string,
  options: ReplayOptions & { requestedBy?: string } = {},
): Promise<ReplayResult> {
  const request = {
    source: 'trailguard',
    kind: 'manual',
    trail,
    region,
    ...(options.requestedBy ? { requestedBy: options.requestedBy } : {}),
  };
  const input = parseWorkflowInput(request);
  const run = await runWorkflow(request, options);
  return resultOf(run, input.trail.id);
}
