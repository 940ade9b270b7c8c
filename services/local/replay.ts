/**
 * Replaying a CloudTrail event (or a Security Hub findings event) locally, the way the deployed stack would
 * handle it: the stack's own EventBridge rules (their patterns from the synthesized template) decide what
 * happens to the event:
 * - the trail rule matches: the synthesized state machine runs for the trail the event names;
 * - the dependency rule matches (a log group deleted, a delivery role changed): the sweep function's core
 *   finds the trails that use it and starts one run of the synthesized state machine per trail, in process;
 * - the Security Hub rule matches (a failed CloudTrail.5 finding): the same function's core starts one run per
 *   trail the finding names, in process;
 * - no rule matches: `ignored`.
 * Everything runs against whatever AWS_ENDPOINT_URL points to. Also runs the sweep itself (`sweepLocally`).
 * Used by `trailguard replay`, `npm run demo`, the end-to-end tests and the benchmark.
 */
import { randomUUID } from 'node:crypto';
import type { ConfigInput } from '../../policies/config.js';
import { type AwsClients, createClients } from '../aws/clients.js';
import type { StartExecution } from '../aws/execution-starter.js';
import { InvalidInputError } from '../domain/errors.js';
import { matchesEventPattern } from '../domain/event-pattern.js';
import { type CloudTrailEvent, parseCloudTrailEvent, parseWorkflowInput } from '../domain/events.js';
import { describeTaskError, failureToRunContext, isFailureEnvelope } from '../domain/failure.js';
import { type Action, type Outcome, type RunContext, RunContextSchema } from '../domain/run-context.js';
import { type FindingsEvent, isFindingsEvent, parseFindingsEvent } from '../domain/security-hub.js';
import { type SweepResult, sweepStep } from '../handlers/sweep.js';
import {
  localRunConfig,
  localWorkflow,
  type RulePattern,
  type RunWorkflowOptions,
  rulePatterns,
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
  /** The execution's own error as Step Functions reports it (a failed run: the Fail state's error and cause). */
  error?: { Error: string; Cause?: string };
  /** Outcome `failed`: which step failed, with its error's name and message (what `--json` shows as `error`). */
  failure?: FailureSummary;
  transitions?: number;
  states?: string[];
  /**
   * A dependency event or a sweep: one result per workflow run it started (the top-level outcome is the most
   * severe of theirs, findings and actions are theirs concatenated).
   */
  runs?: ReplayResult[];
}

/** From most to least severe: the outcome a fan-out or sweep reports for its runs. */
export const OUTCOME_SEVERITY: readonly Outcome[] = [
  'failed',
  'remediated',
  'notified',
  'skipped',
  'compliant',
];

/** The most severe outcome of several runs (`compliant` for none). */
export function mostSevere(outcomes: readonly Outcome[]): Outcome {
  return OUTCOME_SEVERITY.find((o) => outcomes.includes(o)) ?? 'compliant';
}

export interface ReplayOptions extends Omit<RunWorkflowOptions, 'executionName'> {
  /** The guardrail's own role, excluded by the rule (default: the runner's local remediator role ARN). */
  ownRoleArn?: string;
  clients?: AwsClients;
  config?: ConfigInput;
}

/** What `replay` accepts: a CloudTrail API call event, or a Security Hub "Findings - Imported" event. */
export type ReplayEvent = CloudTrailEvent | FindingsEvent;

/** Parses an event `replay` accepts; InvalidInputError otherwise. */
export function parseReplayEvent(input: unknown): ReplayEvent {
  return isFindingsEvent(input) ? parseFindingsEvent(input) : parseCloudTrailEvent(input);
}

/** The region an event happened in (a CloudTrail event: the call's region). */
export function eventRegion(event: ReplayEvent): string {
  return 'findings' in event.detail ? event.region : event.detail.awsRegion;
}

/** Why no rule matched, in words. */
export function unmatchedReason(event: ReplayEvent): string {
  return 'findings' in event.detail
    ? `the stack's rules do not match this Security Hub finding event (${event.detail.findings
        .map((f) => f.Id)
        .join(', ')
        .slice(0, 300)})`
    : `the stack's rules do not match this ${event.detail.eventName} event (${event.source})`;
}

/** Parses a file's text as an event `replay` accepts (EventBridge's shape); InvalidInputError otherwise. */
export function parseEventText(text: string, source = 'the file'): ReplayEvent {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(`${source} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  return parseReplayEvent(json);
}

/** What failed in a failed run: the workflow state (null when unknown), the error's name and message. */
export interface FailureSummary {
  step: string | null;
  name: string;
  message: string;
}

/** The region of an execution ARN (arn:PARTITION:states:REGION:ACCOUNT:execution:...). */
const regionOfExecution = (executionId: string) => executionId.split(':')[3] || 'unknown';

/**
 * The RunContext a run ended with. A failed run's last state input is normally the RunContext the failure
 * path built; when both NotifyFailure and AuditFailure failed it is still the failure envelope, which is
 * turned into that RunContext here the way the failure path would have.
 */
function finalContext(run: WorkflowRun): RunContext | undefined {
  const parsed = RunContextSchema.safeParse(run.output);
  if (parsed.success) return parsed.data;
  if (run.status !== 'SUCCEEDED' && isFailureEnvelope(run.output)) {
    return failureToRunContext(run.output, regionOfExecution(run.executionId));
  }
  return undefined;
}

/**
 * Where and why a run failed: the step and error the failure path recorded; when the execution failed
 * outside it (a timeout, an uncatchable error), the execution's error at the last state entered.
 */
function failureOf(run: WorkflowRun, context: RunContext | undefined): FailureSummary {
  if (context?.error) {
    const { step, name, message } = describeTaskError(context.error);
    return { step: step ?? null, name, message };
  }
  const { name, message } = describeTaskError(run.error ?? { Error: 'UnknownError' });
  return { step: run.states.at(-1) ?? null, name, message };
}

const DELIVERY_PENDING_NOTE =
  '; the delivery check runs when the execution has waited deliveryCheckMinutes (its result goes to the audit table, and an email unless delivery is confirmed)';

/**
 * A run of the workflow (in process, or on the deployed state machine) as the CLI reports it. Used for both,
 * so the printed result and the exit code do not depend on where the workflow ran.
 */
export function resultOf(run: WorkflowRun, fallbackTrail: string): ReplayResult {
  const context = finalContext(run);
  const outcome: Outcome = run.status === 'SUCCEEDED' ? (context?.outcome ?? 'compliant') : 'failed';
  const failure = outcome === 'failed' ? failureOf(run, context) : undefined;
  return {
    outcome,
    trail: context?.trailArn ?? context?.trailRef.id ?? fallbackTrail,
    findings: context?.before?.assessment.findings.map((f) => f.code) ?? [],
    actions: context?.actions ?? [],
    reason: failure
      ? `${failure.name}: ${failure.message}`
      : `${context?.reason ?? ''}${run.deliveryCheckPending ? DELIVERY_PENDING_NOTE : ''}`,
    executionId: run.executionId,
    ...(context ? { context } : {}),
    ...(run.error ? { error: run.error } : {}),
    ...(failure ? { failure } : {}),
    transitions: run.transitions,
    states: run.states,
  };
}

/**
 * Parses the event (InvalidInputError when it is not one `replay` accepts) and finds the stack's rule that
 * matches it; `ignored` is the result when none does. Shared by the local and the deployed engine.
 */
export async function matchRules(
  event: unknown,
  options: Pick<ReplayOptions, 'ownRoleArn' | 'config'>,
): Promise<
  | { parsed: ReplayEvent; matched: RulePattern; ignored?: undefined }
  | { parsed: ReplayEvent; matched?: undefined; ignored: ReplayResult }
> {
  const parsed = parseReplayEvent(event);
  // The rules run in the event's account and region: the own role they exclude is resolved there.
  const rules = await rulePatterns(options.ownRoleArn, {
    accountId: parsed.account,
    region: parsed.region,
    ...(options.config ? { config: options.config } : {}),
  });
  const matched = rules.find((r) => matchesEventPattern(r.pattern, parsed));
  if (matched) return { parsed, matched };
  return {
    parsed,
    ignored: { outcome: 'ignored', trail: null, findings: [], actions: [], reason: unmatchedReason(parsed) },
  };
}

/**
 * Applies the stack's rules, then runs the workflow (or the fan-out). Bad input throws InvalidInputError before
 * anything is touched; an event no rule would match is `ignored`; a failed execution is outcome `failed` (not
 * a throw).
 */
export async function replayEvent(event: unknown, options: ReplayOptions = {}): Promise<ReplayResult> {
  const { parsed, matched, ignored } = await matchRules(event, options);
  if (!matched) return ignored;
  if (matched.target === 'fanout') return fanOutLocally(parsed, options);
  // The trail rule matched: the event must name a trail the workflow can check, or it is bad input.
  const input = parseWorkflowInput(parsed);
  const run = await runWorkflow(parsed, options);
  return resultOf(run, input.trail.id);
}

/**
 * Runs the sweep function's core in process for `payload` (a dependency event or a scheduled event), each
 * execution it starts being a run of the synthesized workflow; one result for all of them.
 */
async function sweepInProcess(
  payload: unknown,
  region: string,
  options: ReplayOptions,
): Promise<{ sweep: SweepResult; runs: ReplayResult[] }> {
  const clients = options.clients ?? createClients({ defaultRegion: region });
  const local = await localWorkflow({
    region,
    clients,
    ...(options.accountId ? { accountId: options.accountId } : {}),
    config: localRunConfig(options),
  });
  const runs: ReplayResult[] = [];
  const start: StartExecution = async ({ name, input }) => {
    const run = await runWorkflow(input, { ...options, clients, region, executionName: name });
    runs.push(resultOf(run, input.trail));
    return { name, executionArn: run.executionId, started: true };
  };
  const sweep = await sweepStep({ ...local.sweep.settings, clients }, start)(payload);
  return { sweep, runs };
}

/** One result for several runs: the most severe outcome, the first trail, findings and actions concatenated. */
export function combined(reason: string, runs: ReplayResult[]): ReplayResult {
  return {
    outcome: mostSevere(runs.map((r) => r.outcome).filter((o): o is Outcome => o !== 'ignored')),
    trail: runs[0]?.trail ?? null,
    findings: runs.flatMap((r) => r.findings),
    actions: runs.flatMap((r) => r.actions),
    reason,
    runs,
  };
}

/**
 * A dependency event: the fan-out finds the affected trails and the workflow runs once for each. A Security
 * Hub finding event: it runs once for each trail the finding names.
 */
async function fanOutLocally(event: ReplayEvent, options: ReplayOptions): Promise<ReplayResult> {
  const { sweep, runs } = await sweepInProcess(event, event.region, options);
  return combined(sweep.reason, runs);
}

/**
 * Runs the sweep locally, as the schedule would: every trail of the region is assessed and the workflow runs
 * for each one that is not compliant.
 */
export async function sweepLocally(options: ReplayOptions & { region?: string } = {}): Promise<ReplayResult> {
  const clients = options.clients ?? createClients({ defaultRegion: options.region });
  const region = options.region ?? clients.defaultRegion;
  const local = await localWorkflow({
    region,
    clients,
    ...(options.accountId ? { accountId: options.accountId } : {}),
    config: localRunConfig(options),
  });
  const scheduled = {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: local.account,
    time: new Date().toISOString(),
    region,
    resources: [`arn:aws:events:${region}:${local.account}:rule/trailguard-sweep`],
    detail: {},
  };
  const { sweep, runs } = await sweepInProcess(scheduled, region, { ...options, clients });
  return combined(sweep.reason, runs);
}

/** The workflow input for a trail without an event (`trailguard remediate`), on either engine. */
export function manualRequest(trail: string, region: string, requestedBy?: string) {
  return { source: 'trailguard', kind: 'manual', trail, region, ...(requestedBy ? { requestedBy } : {}) };
}

/** Runs the workflow for a trail without an event (`trailguard remediate`, the sweep). */
export async function remediateTrail(
  trail: string,
  region: string,
  options: ReplayOptions & { requestedBy?: string } = {},
): Promise<ReplayResult> {
  const request = manualRequest(trail, region, options.requestedBy);
  const input = parseWorkflowInput(request);
  const run = await runWorkflow(request, options);
  return resultOf(run, input.trail.id);
}
