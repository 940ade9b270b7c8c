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
 * Used by `trailguard replay`, `trailguard sweep`, `npm run demo`, the end-to-end tests and the benchmark.
 *
 * With a hub configuration (services/local/organization.ts: `accounts`, `regions` or `hubRegion` set) the run
 * is the hub's: the workflow, topic and tables are the caller's account's in the hub region, whatever the
 * event's region; an event from an account the hub does not guard is `skipped` before anything runs (what the
 * hub bus policy does); the steps act in the event's account through its remediation role (one AccountAccess
 * per replay or sweep: at most one AssumeRole per account); an IAM change fans out to the account's trails in
 * every guarded region; the sweep covers every guarded account x region.
 */

import { randomUUID } from 'node:crypto';
import { type Config, type ConfigInput, parseConfig } from '../../policies/config.js';
import { type AccountAccess, AccountAccessError, memberRoleArn } from '../aws/accounts.js';
import { type AwsClients, createClients } from '../aws/clients.js';
import { executionArnOf, type StartExecution, type StartedExecution } from '../aws/execution-starter.js';
import { publishAlarmEmail } from '../aws/notifier.js';
import { type SweepDeps, sweepStep } from '../aws/sweep.js';
import {
  ALARM_EVENT_SOURCE,
  type AlarmEvent,
  isAlarmEvent,
  parseAlarmEvent,
  transformInput,
} from '../domain/alarm-events.js';
import { parseTrailArn, partitionOf } from '../domain/arns.js';
import { InvalidInputError } from '../domain/errors.js';
import { matchesEventPattern } from '../domain/event-pattern.js';
import { type CloudTrailEvent, parseCloudTrailEvent, parseWorkflowInput } from '../domain/events.js';
import { describeTaskError, failureToRunContext, isFailureEnvelope } from '../domain/failure.js';
import { type Action, type Outcome, type RunContext, RunContextSchema } from '../domain/run-context.js';
import { type FindingsEvent, isFindingsEvent, parseFindingsEvent } from '../domain/security-hub.js';
import {
  type SweepResult,
  type SweepTrailResult,
  sweepTargetsOf,
  type TargetStatus,
} from '../domain/sweep.js';
import {
  guardsOtherAccounts,
  type Hub,
  isHubConfig,
  localAccountAccess,
  resolveHub,
  unguardedAccount,
} from './organization.js';
import {
  localRunConfig,
  localStateMachineArn,
  localWorkflow,
  type RulePattern,
  type RunWorkflowOptions,
  rulePatterns,
  runOrganizationSweep,
  runWorkflow,
  type WorkflowRun,
  WorkflowRunnerError,
  workflowRegion,
} from './workflow-runner.js';

export type ReplayOutcome = Outcome | 'ignored';

export interface ReplayResult {
  outcome: ReplayOutcome;
  /** The account the event (or the run's trail) belongs to. */
  account?: string;
  /** The event's region (a run of a fan-out or sweep: its trail's region). */
  region?: string;
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
  /** A sweep: what it found in each account and region it covered. */
  targets?: SweptTarget[];
}

/** What the sweep found in one account and region. */
export interface SweptTarget {
  account: string;
  region: string;
  /** Every trail listed, with its verdict (and the execution started for it, if any). */
  trails: SweepTrailResult[];
  /** Workflow runs started here. */
  started: number;
  /**
   * `swept`; `not-enrolled` (no spoke this hub may use there) and `not-enabled` (the region is not enabled in
   * that account) are coverage gaps, listed but not failures; `error`: it could not be swept (`error` says why).
   */
  status: TargetStatus;
  /** Why it was not swept (a coverage gap), or what was swept. */
  reason?: string;
  /** The account or region could not be swept (status `error`). */
  error?: { name: string; message: string };
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
  /**
   * The region the stack runs in (the CLI's AWS_REGION): without `regions` in the configuration a single account
   * guards only that region, and an event from another one is `skipped`. Undefined: not checked.
   */
  stackRegion?: string;
}

/**
 * Why the event's region is not guarded (undefined when it is): outside `regions`, or, a single account without
 * `regions`, another region than the stack's. IAM events (global, delivered in us-east-1), Security Hub findings
 * (an aggregation region's) and alarm events (the hub's rule decides) are not about one region and are not
 * checked here.
 */
export function unguardedRegionReason(
  config: Pick<Config, 'regions' | 'accounts'>,
  event: ReplayEvent,
  stackRegion: string | undefined,
): string | undefined {
  if (isAlarm(event) || 'findings' in event.detail) return undefined;
  if (event.detail.eventSource === 'iam.amazonaws.com') return undefined;
  const region = eventRegion(event);
  if (config.regions) {
    return config.regions.includes(region)
      ? undefined
      : `region ${region} is not guarded: the configuration's \`regions\` lists ${config.regions.join(', ')} (add ${region} there to guard it); nothing was run or changed`;
  }
  if (config.accounts === undefined && stackRegion && region !== stackRegion) {
    return `region ${region} is not guarded: without \`regions\` in the configuration the stack guards only its own region ${stackRegion} (add ${region} to \`regions\` to guard it); nothing was run or changed`;
  }
  return undefined;
}

/** What `replay` accepts: a CloudTrail API call event, or a Security Hub "Findings - Imported" event. */
export type ReplayEvent = CloudTrailEvent | FindingsEvent | AlarmEvent;

/** Parses an event `replay` accepts; InvalidInputError otherwise. */
export function parseReplayEvent(input: unknown): ReplayEvent {
  if (isAlarmEvent(input)) return parseAlarmEvent(input);
  return isFindingsEvent(input) ? parseFindingsEvent(input) : parseCloudTrailEvent(input);
}

const isAlarm = (event: ReplayEvent): event is AlarmEvent => event.source === ALARM_EVENT_SOURCE;

/** The region an event happened in (a CloudTrail event: the call's region). */
export function eventRegion(event: ReplayEvent): string {
  if (isAlarm(event)) return event.region;
  return 'findings' in event.detail ? event.region : event.detail.awsRegion;
}

/** Why no rule matched, in words. */
export function unmatchedReason(event: ReplayEvent): string {
  if (isAlarm(event)) {
    return `the stack's rules do not match this alarm state change (alarm ${event.detail.alarmName}, ${event.detail.state.value}): only trailguard's own CIS alarms going to ALARM are emailed`;
  }
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
  options: Pick<ReplayOptions, 'ownRoleArn' | 'config'> & {
    /**
     * Where the rules are evaluated when not in the event's account and region: a hub's rules for an alarm event
     * (the alarm notification rule is on the hub's bus, its pattern names the hub's own account and region).
     */
    at?: { accountId: string; region: string };
  },
): Promise<
  | { parsed: ReplayEvent; matched: RulePattern; ignored?: undefined }
  | { parsed: ReplayEvent; matched?: undefined; ignored: ReplayResult }
> {
  const parsed = parseReplayEvent(event);
  // The rules run in the event's account and region: the own role they exclude is resolved there.
  const rules = await rulePatterns(options.ownRoleArn, {
    accountId: options.at?.accountId ?? parsed.account,
    region: options.at?.region ?? parsed.region,
    ...(options.config ? { config: options.config } : {}),
  });
  const matched = rules.find((r) => matchesEventPattern(r.pattern, parsed));
  if (matched) return { parsed, matched };
  return {
    parsed,
    ignored: { outcome: 'ignored', trail: null, findings: [], actions: [], reason: unmatchedReason(parsed) },
  };
}

/** The hub a replay or sweep runs from, with a hub configuration. */
interface HubScope {
  config: Config;
  hub: Hub;
  accounts?: AccountAccess;
  /** What every workflow run of this replay or sweep gets: the hub's clients, account and region, the access. */
  run: ReplayOptions;
}

/** The hub scope of a replay or sweep (undefined without a hub configuration: one account, as before). */
async function hubScope(options: ReplayOptions): Promise<HubScope | undefined> {
  const config = parseConfig(options.config ?? {});
  if (!isHubConfig(config)) return undefined;
  const clients = options.clients ?? createClients({ defaultRegion: workflowRegion(config, options) });
  const hub = await resolveHub(config, clients, options.accountId);
  const accounts =
    options.accounts ?? (guardsOtherAccounts(config) ? localAccountAccess(hub, config) : undefined);
  return {
    config,
    hub,
    ...(accounts ? { accounts } : {}),
    run: {
      ...options,
      clients,
      region: hub.region,
      accountId: hub.account,
      ...(accounts ? { accounts } : {}),
    },
  };
}

/** The trail an event names, if it names one (for a result that never ran the workflow). */
function trailNamed(event: ReplayEvent): string | null {
  try {
    return parseWorkflowInput(event).trail.id;
  } catch {
    return null;
  }
}

/** A fan-out or sweep that could not act in an account: outcome `failed`, with the reason. */
function accessFailed(error: Error, where: { account: string; region: string }): ReplayResult {
  const failure: FailureSummary = { step: 'Sweep', name: error.name, message: error.message };
  return {
    outcome: 'failed',
    trail: null,
    findings: [],
    actions: [],
    reason: `${error.name}: ${error.message}`,
    failure,
    ...where,
  };
}

/**
 * Applies the stack's rules, then runs the workflow (or the fan-out). Bad input throws InvalidInputError before
 * anything is touched; an event no rule would match is `ignored`; a failed execution is outcome `failed` (not
 * a throw). With a hub configuration, an event from an account the hub does not guard is `skipped` before
 * anything runs, and the run acts in the event's account through its remediation role (an account whose role
 * cannot be assumed: outcome `failed`, with that reason).
 */
export async function replayEvent(event: unknown, options: ReplayOptions = {}): Promise<ReplayResult> {
  const parsed = parseReplayEvent(event);
  const where = { account: parsed.account, region: eventRegion(parsed) };
  const outsideRegions = unguardedRegionReason(
    parseConfig(options.config ?? {}),
    parsed,
    options.stackRegion,
  );
  if (outsideRegions) {
    return {
      outcome: 'skipped',
      trail: trailNamed(parsed),
      findings: [],
      actions: [],
      reason: outsideRegions,
      ...where,
    };
  }
  const scope = await hubScope(options);
  if (scope) {
    const unguarded = await unguardedAccount(scope.config, scope.hub, parsed.account);
    if (unguarded) {
      const reason = `${unguarded}: the hub does not handle its events (nothing was run or changed)`;
      return { outcome: 'skipped', trail: trailNamed(parsed), findings: [], actions: [], reason, ...where };
    }
  }
  // In a member account the guardrail acts through that account's member roles, which the spoke's rules exclude.
  // The local patterns resolve every excluded role to one ARN: the trail repair role's (whose UpdateTrail and
  // StartLogging the trail rule would otherwise match).
  const ownRoleArn =
    options.ownRoleArn ??
    (scope && parsed.account !== scope.hub.account
      ? memberRoleArn(parsed.account, scope.config.remediationRoleName, 'restore-trail', where.region)
      : undefined);
  const { matched, ignored } = await matchRules(event, {
    ...(ownRoleArn ? { ownRoleArn } : {}),
    ...(options.config ? { config: options.config } : {}),
    ...(scope && isAlarm(parsed) ? { at: { accountId: scope.hub.account, region: scope.hub.region } } : {}),
  });
  if (!matched) return { ...ignored, ...where };
  const runOptions = scope?.run ?? options;
  if (matched.target === 'topic' && isAlarm(parsed)) {
    return { ...(await emailLocally(parsed, matched, runOptions)), ...where };
  }
  if (matched.target === 'fanout') return { ...(await fanOutLocally(parsed, runOptions, scope)), ...where };
  // The trail rule matched: the event must name a trail the workflow can check, or it is bad input.
  const input = parseWorkflowInput(parsed);
  const run = await runWorkflow(parsed, runOptions);
  return { ...resultOf(run, input.trail.id), ...where };
}

/**
 * The alarm notification rule matched (trailguard's CIS alarm going to ALARM in a guarded account and region): the
 * rule's target, the hub's topic, gets the rule's input transformer's text, as EventBridge publishes it deployed
 * (moto cannot deliver EventBridge events to SNS). Outcome `notified`.
 */
async function emailLocally(
  event: AlarmEvent,
  rule: RulePattern,
  options: ReplayOptions,
): Promise<ReplayResult> {
  const clients = options.clients ?? createClients({ defaultRegion: options.region });
  const local = await localWorkflow({
    ...(options.region ? { region: options.region } : {}),
    clients,
    ...(options.accountId ? { accountId: options.accountId } : {}),
    config: localRunConfig(options),
  });
  const topicArn = local.settings.Notify.topicArn;
  const message = rule.input ? transformInput(rule.input, event) : JSON.stringify(event);
  await publishAlarmEmail(clients, topicArn, message);
  return {
    outcome: 'notified',
    trail: null,
    findings: [],
    actions: [],
    reason: `CIS alarm ${event.detail.alarmName} is ${event.detail.state.value} in account ${event.account}, ${event.region}: emailed to ${topicArn} (rule ${rule.rule})`,
  };
}

/**
 * Runs the sweep function's core in process for `payload` (a scheduled event, a dependency or findings event,
 * or a hub's `{kind: 'targets'}` / `{kind: 'target'}`), each execution it starts being a run of the synthesized
 * workflow (pushed to `runs` as it ends). `region` is where the workflow lives. `started` remembers the
 * executions started by name across several calls (one sweep's targets): a name started before is a duplicate,
 * as Step Functions would answer.
 */
async function sweepInProcess(
  payload: unknown,
  region: string,
  options: ReplayOptions,
  runs: ReplayResult[],
  started = new Map<string, StartedExecution>(),
): Promise<SweepResult> {
  return (await sweepCore(region, options, runs, started))(payload);
}

/**
 * The sweep function's core, in process: the executions it starts are runs of the synthesized workflow (pushed
 * to `runs` as they end). `region` is where the workflow lives.
 */
async function sweepCore(
  region: string,
  options: ReplayOptions,
  runs: ReplayResult[],
  started: Map<string, StartedExecution>,
): Promise<(payload: unknown) => Promise<SweepResult>> {
  const clients = options.clients ?? createClients({ defaultRegion: region });
  const local = await localWorkflow({
    region,
    clients,
    ...(options.accountId ? { accountId: options.accountId } : {}),
    config: localRunConfig(options),
  });
  const start: StartExecution = async ({ name, input }) => {
    const before = started.get(name);
    if (before) return { ...before, started: false };
    const executionArn = executionArnOf(localStateMachineArn(local.region, local.account), name);
    started.set(name, { name, executionArn, started: true });
    const run = await runWorkflow(input, { ...options, clients, region, executionName: name });
    runs.push({
      ...resultOf(run, input.trail),
      account: input.account ?? local.account,
      region: input.region,
    });
    return { name, executionArn: run.executionId, started: true };
  };
  const deps: SweepDeps = {
    ...local.sweep.settings,
    clients,
    ...(options.accounts ? { accounts: options.accounts } : {}),
  };
  return sweepStep(deps, start);
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
 * Hub finding event: it runs once for each trail the finding names. From a hub, the sweep core acts in the
 * event's account, and fans an IAM change (IAM is global; its events reach EventBridge in us-east-1 only) out to
 * that account's trails in every guarded region; an account whose role cannot be assumed: outcome `failed`.
 */
async function fanOutLocally(
  event: ReplayEvent,
  options: ReplayOptions,
  scope?: HubScope,
): Promise<ReplayResult> {
  const runs: ReplayResult[] = [];
  const region = scope?.hub.region ?? event.region;
  try {
    const sweep = await sweepInProcess(event, region, options, runs);
    return combined(sweep.reason, runs);
  } catch (error) {
    if (scope && error instanceof AccountAccessError) {
      return accessFailed(error, { account: event.account, region: eventRegion(event) });
    }
    throw error;
  }
}

/** The scheduled event the sweep schedule would deliver, for `account` and `region`. */
function scheduledEvent(account: string, region: string) {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account,
    time: new Date().toISOString(),
    region,
    resources: [`arn:${partitionOf(region)}:events:${region}:${account}:rule/trailguard-sweep`],
    detail: {},
  };
}

/** Counts of runs per outcome, every outcome present (0 when none). */
export function outcomeCounts(runs: readonly ReplayResult[]): Record<Outcome, number> {
  const counts = Object.fromEntries(OUTCOME_SEVERITY.map((o) => [o, 0])) as Record<Outcome, number>;
  for (const run of runs) if (run.outcome !== 'ignored') counts[run.outcome] += 1;
  return counts;
}

/**
 * Runs the sweep locally, as the schedule would: every trail of the region is assessed and the workflow runs
 * for each one that is not compliant. With a hub configuration: every trail of every guarded account and
 * region (services/local/organization.ts), each account through its remediation role; the result lists what
 * was found per account and region (`targets`; one that could not be swept has an `error`) and every run.
 */
export async function sweepLocally(options: ReplayOptions & { region?: string } = {}): Promise<ReplayResult> {
  const scope = await hubScope(options);
  if (scope) return sweepHub(scope);
  const clients = options.clients ?? createClients({ defaultRegion: options.region });
  const region = options.region ?? clients.defaultRegion;
  const local = await localWorkflow({
    region,
    clients,
    ...(options.accountId ? { accountId: options.accountId } : {}),
    config: localRunConfig(options),
  });
  const runs: ReplayResult[] = [];
  const sweep = await sweepInProcess(
    scheduledEvent(local.account, region),
    region,
    { ...options, clients },
    runs,
  );
  return {
    ...combined(sweep.reason, runs),
    targets: [
      {
        account: local.account,
        region,
        trails: sweep.trails,
        started: sweep.started,
        status: 'swept',
        reason: sweep.reason,
      },
    ],
  };
}

/** What a sweep could not do in one account and region, as `targets` reports it. */
function targetError(error: unknown): { name: string; message: string } {
  const e = error instanceof Error ? error : new Error(String(error));
  return { name: e.name, message: e.message };
}

/** `{kind: 'target', account, region}`: one account-region of a hub's sweep. */
function targetOf(payload: unknown): { account: string; region: string } | undefined {
  const p = payload as { kind?: unknown; account?: unknown; region?: unknown } | null;
  return p && p.kind === 'target' && typeof p.account === 'string' && typeof p.region === 'string'
    ? { account: p.account, region: p.region }
    : undefined;
}

/**
 * The hub's sweep as the deployed hub runs it. With `accounts` configured: the organization sweep's state
 * machine CDK synthesizes (ListTargets: the sweep function's `{kind: 'targets'}`; then a Map of SweepTarget:
 * `{kind: 'target', account, region}` for each), its tasks handled by the sweep function's core in process.
 * Without (a single account with `regions` or `hubRegion`): the same two inputs, one target after the other.
 * In each account-region the workflow runs for each non-compliant trail. A target that cannot be swept (its
 * role cannot be assumed, some trail could not be read) is reported with its error; the others are swept.
 */
async function sweepHub(scope: HubScope): Promise<ReplayResult> {
  const runs: ReplayResult[] = [];
  const core = await sweepCore(scope.hub.region, scope.run, runs, new Map());
  let planned: { account: string; region: string }[] = [];
  let plan: SweepResult | undefined;
  const found = new Map<string, SweptTarget>();
  const key = (t: { account: string; region: string }) => `${t.account}/${t.region}`;
  const handle = async (payload: unknown): Promise<SweepResult> => {
    const target = targetOf(payload);
    if (!target) {
      const result = await core(payload);
      if (result.kind === 'targets') {
        plan = result;
        planned = sweepTargetsOf(result).map(({ account, region }) => ({ account, region }));
      }
      return result;
    }
    const before = runs.length;
    try {
      const result = await core(payload);
      found.set(key(target), {
        ...target,
        trails: result.trails,
        started: result.started,
        status: result.status ?? 'swept',
        reason: result.reason,
      });
      return result;
    } catch (error) {
      // AccountAccessError: nothing was read there. SweepError: some trail was not handled, the others were.
      found.set(key(target), {
        ...target,
        trails: [],
        started: runs.length - before,
        status: 'error',
        error: targetError(error),
      });
      throw error;
    }
  };

  const id = randomUUID();
  const requestedBy = `arn:${partitionOf(scope.hub.region)}:events:${scope.hub.region}:${scope.hub.account}:rule/trailguard-sweep`;
  const execution = await runOrganizationSweep(handle, {
    ...(scope.run.config ? { config: scope.run.config } : {}),
    clients: scope.hub.clients,
    region: scope.hub.region,
    accountId: scope.hub.account,
    executionName: `sweep-${id}`,
  });
  if (!execution) {
    await handle({ kind: 'targets', id, requestedBy });
    for (const target of plan ? sweepTargetsOf(plan) : []) await handle(target).catch(() => undefined);
  } else {
    const unswept = planned.filter((t) => !found.has(key(t)));
    if (unswept.length > 0) {
      // The Map never reached these: its state machine and the sweep function disagree on the list's shape.
      throw new WorkflowRunnerError(
        `the organization sweep ${execution.executionId} ended ${execution.status} at ${execution.states.at(-1) ?? 'its start'} without sweeping ${unswept.length} of the ${planned.length} account-region(s) the sweep function listed: does its Map read the list ListTargets returned?`,
      );
    }
    // Every target was swept or failed on its own: a failed execution must be that (its SweepIncomplete state);
    // anything else is the organization sweep itself failing: say where, as Step Functions would.
    if (execution.status !== 'SUCCEEDED' && ![...found.values()].some((t) => t.error)) {
      throw new WorkflowRunnerError(
        `the organization sweep ${execution.executionId} ended ${execution.status} at ${execution.states.at(-1) ?? 'its start'}: ${execution.error?.Error ?? 'unknown error'}${execution.error?.Cause ? `: ${execution.error.Cause}` : ''}`,
      );
    }
  }

  const order = new Map(planned.map((t, i) => [key(t), i]));
  const targets = planned.flatMap((t) => found.get(key(t)) ?? []);
  runs.sort(
    (a, b) =>
      (order.get(`${a.account}/${a.region}`) ?? 0) - (order.get(`${b.account}/${b.region}`) ?? 0) ||
      String(a.trail).localeCompare(String(b.trail)),
  );
  const accounts = plan?.accounts ?? [...new Set(targets.map((t) => t.account))];
  const regions = plan?.regions ?? [...new Set(targets.map((t) => t.region))];
  const listed = targets.reduce((n, t) => n + t.trails.length, 0);
  const failedTargets = targets.filter((t) => t.status === 'error').length;
  const gaps = (status: TargetStatus) => targets.filter((t) => t.status === status).length;
  const notEnrolled = gaps('not-enrolled');
  const notEnabled = gaps('not-enabled');
  const counts = Object.entries(outcomeCounts(runs))
    .filter(([, n]) => n > 0)
    .map(([o, n]) => `${n} ${o}`);
  const reason =
    `swept ${accounts.length} account(s) x ${regions.length} region(s) (${regions.join(', ')}): ` +
    `${listed} trail(s), ${runs.length} run(s) started${counts.length ? ` (${counts.join(', ')})` : ''}` +
    `${notEnrolled ? `; ${notEnrolled} account-region(s) not enrolled` : ''}` +
    `${notEnabled ? `; ${notEnabled} account-region(s) not enabled` : ''}` +
    `${failedTargets ? `; ${failedTargets} account-region(s) could not be swept` : ''}` +
    `${execution ? `; organization sweep ${execution.executionId}: ${execution.status}` : ''}`;
  return { ...combined(reason, runs), targets };
}

/** The workflow input for a trail without an event (`trailguard remediate`), on either engine. */
export function manualRequest(trail: string, region: string, requestedBy?: string) {
  // A trail given by ARN names its account: a hub acts there (a name is a trail of the caller's account).
  const account = parseTrailArn(trail)?.account;
  return {
    source: 'trailguard',
    kind: 'manual',
    trail,
    region,
    ...(account ? { account } : {}),
    ...(requestedBy ? { requestedBy } : {}),
  };
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
