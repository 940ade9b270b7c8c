/**
 * The sweep's pure part (services/aws/sweep.ts does the reads and starts; services/handlers/sweep.ts wraps it):
 * what the sweep function accepts (a scheduled event, `{"kind": "targets"}`, `{"kind": "target", ...}`, a
 * dependency event or a Security Hub findings event), what it answers, the deterministic execution names (input
 * id + trail, so a duplicate event or a retried sweep starts nothing twice), the workflow input for each trail,
 * which trails a dependency change affects, and one invocation's tally of what happened to each trail.
 */
import { createHash, randomUUID } from 'node:crypto';
import { formatIssues } from '../../policies/config.js';
import * as z from '../../policies/zod.js';
import { parseLogGroupArn, parseRoleArn, parseTrailArn } from './arns.js';
import type { Verdict } from './assess.js';
import { CIS_NAME_PREFIX, cisAlarmNames } from './cis-monitoring.js';
import { InvalidInputError, TrailguardError } from './errors.js';
import {
  type DependencyChange,
  type DirectRequest,
  directRequestSchema,
  parseDependencyEvent,
} from './events.js';
import {
  FINDINGS_IMPORTED,
  type FindingsEvent,
  type FindingTarget,
  findingTargets,
  isFindingsEvent,
  parseFindingsEvent,
} from './security-hub.js';
import type { Trail } from './trail-state.js';

/** One workflow execution to start: its (deterministic) name and its input. */
export interface ExecutionRequest {
  /** 1-80 characters of [A-Za-z0-9_-]. */
  name: string;
  input: DirectRequest;
}

export interface StartedExecution {
  name: string;
  executionArn: string;
  /** False when an execution of that name already existed: a duplicate, nothing new was started. */
  started: boolean;
}

/** Starts one execution; the sweep core takes it injected (Step Functions in Lambda, runWorkflow locally). */
export type StartExecution = (request: ExecutionRequest) => Promise<StartedExecution>;

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/** EventBridge's scheduled event, as the sweep schedule delivers it. */
export const ScheduledEventSchema = z.object({
  'detail-type': z.literal('Scheduled Event'),
  source: z.literal('aws.events'),
  id: z.string().check(z.minLength(1), z.maxLength(256)),
  account: z.string().check(z.regex(/^\d{12}$/, 'must be a 12-digit account id')),
  region: z.string().check(z.regex(REGION, 'must be an AWS region')),
  time: z.string().check(z.maxLength(64)),
  /** The schedule rule's ARN. */
  resources: z._default(z.array(z.string().check(z.maxLength(2048))).check(z.maxLength(10)), []),
});
export type ScheduledEvent = z.infer<typeof ScheduledEventSchema>;

const ACCOUNT_ID = z.string().check(z.regex(/^\d{12}$/, 'must be a 12-digit account id'));
/** What makes the execution names of one sweep deterministic: the schedule's event id, or the Map's run. */
const SWEEP_ID = z.string().check(z.minLength(1), z.maxLength(256));
const REQUESTED_BY = z.string().check(z.minLength(1), z.maxLength(2048));

/**
 * `{"kind": "targets"}`: the account x region pairs a hub's sweep covers. `id` names the sweep (default: a new
 * one) and goes into every target, with `requestedBy` (the schedule rule's ARN, say).
 */
export const TargetsRequestSchema = z.strictObject({
  kind: z.literal('targets'),
  id: z.optional(SWEEP_ID),
  requestedBy: z.optional(REQUESTED_BY),
});

/** `{"kind": "target", "account", "region"}`: the sweep of one account and region. */
export const TargetRequestSchema = z.strictObject({
  kind: z.literal('target'),
  account: ACCOUNT_ID,
  region: z.string().check(z.regex(REGION, 'must be an AWS region')),
  /** The sweep this target belongs to (execution names); default: a new one. */
  id: z.optional(SWEEP_ID),
  requestedBy: z.optional(REQUESTED_BY),
});

const SweepRequestSchema = z.discriminatedUnion('kind', [TargetsRequestSchema, TargetRequestSchema]);

/** One account and region to sweep: exactly the input the sweep function takes for it. */
export interface SweepTarget {
  kind: 'target';
  account: string;
  region: string;
  id: string;
  requestedBy?: string;
}

/**
 * The `{"kind": "target"}` inputs a `targets` answer stands for, accounts in order (the hub's first), each
 * account's regions in order: what the organization sweep's state machine sends, one per account-region.
 */
export function sweepTargetsOf(
  listed: Pick<SweepResult, 'accounts' | 'regions' | 'id' | 'requestedBy'>,
): SweepTarget[] {
  const { id } = listed;
  if (id === undefined) return [];
  return (listed.accounts ?? []).flatMap((account) =>
    (listed.regions ?? []).map(
      (region): SweepTarget => ({
        kind: 'target',
        account,
        region,
        id,
        ...(listed.requestedBy ? { requestedBy: listed.requestedBy } : {}),
      }),
    ),
  );
}

export type SweepInput =
  | { kind: 'sweep'; event: ScheduledEvent }
  | { kind: 'targets'; id: string; requestedBy?: string }
  | { kind: 'target'; target: SweepTarget }
  | { kind: 'dependency'; change: DependencyChange }
  | { kind: 'finding'; event: FindingsEvent; targets: FindingTarget[] };

const isRecord = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * Parses the sweep function's input: a scheduled event, `{"kind": "targets"}`, `{"kind": "target", ...}`, a
 * dependency event or a Security Hub findings event; InvalidInputError otherwise.
 */
export function parseSweepInput(input: unknown): SweepInput {
  if (isRecord(input) && 'kind' in input && !('detail-type' in input)) {
    const result = SweepRequestSchema.safeParse(input);
    if (!result.success) {
      throw new InvalidInputError(`invalid sweep request: ${formatIssues(result.error).join('; ')}`, {
        cause: result.error,
      });
    }
    const r = result.data;
    const id = r.id ?? randomUUID();
    const requestedBy = r.requestedBy ? { requestedBy: r.requestedBy } : {};
    return r.kind === 'targets'
      ? { kind: 'targets', id, ...requestedBy }
      : {
          kind: 'target',
          target: { kind: 'target', account: r.account, region: r.region, id, ...requestedBy },
        };
  }
  if (isFindingsEvent(input)) {
    const event = parseFindingsEvent(input);
    return { kind: 'finding', event, targets: findingTargets(event) };
  }
  if (
    input &&
    typeof input === 'object' &&
    (input as Record<string, unknown>)['detail-type'] === 'Scheduled Event'
  ) {
    const result = ScheduledEventSchema.safeParse(input);
    if (!result.success) {
      throw new InvalidInputError(`invalid scheduled event: ${formatIssues(result.error).join('; ')}`, {
        cause: result.error,
      });
    }
    return { kind: 'sweep', event: result.data };
  }
  return { kind: 'dependency', change: parseDependencyEvent(input) };
}

/** What happened to one trail. */
export interface SweepTrailResult {
  /** The trail's ARN. */
  trail: string;
  /** The assessment's verdict; `gone` when it disappeared between listing and reading; `affected` for the fan-out. */
  verdict: Verdict | 'gone' | 'affected';
  reason: string;
  /** The execution started (or found already started) for it. */
  execution?: StartedExecution;
}

/**
 * What became of one target (account x region) of a hub's sweep:
 * - `swept`: its trails were assessed (and runs started);
 * - `not-enrolled`: the account has no spoke this hub may use (its role cannot be assumed: AccessDenied, or
 *   locally, the role does not exist); a coverage gap, not a failure;
 * - `not-enabled`: the region is not enabled in that account; a coverage gap, not a failure;
 * - `error`: anything else (the sweep function throws; the organization sweep's SweepIncomplete fires).
 */
export const TARGET_STATUSES = ['swept', 'not-enrolled', 'not-enabled', 'error'] as const;
export type TargetStatus = (typeof TARGET_STATUSES)[number];

/**
 * The most regions a hub's sweep covers per account: the organization sweep's child (one Express execution per
 * account, at most 5 minutes) sweeps them in at most 3 rounds of its inline Map (infra/constructs/
 * organization-sweep.ts REGION_SWEEP_CONCURRENCY, and docs/architecture.md for the worst case). More would let a
 * child outlast its time limit, so the sweep refuses them.
 */
export const MAX_SWEPT_REGIONS = 42;

/**
 * Refuses a list of regions the organization sweep cannot cover per account within its time limits (SweepError
 * naming the `regions` key). config.regions holds at most 40; without it the hub's enabled regions are the list.
 */
export function assertSweepableRegions(regions: readonly string[]): void {
  if (regions.length > MAX_SWEPT_REGIONS) {
    throw new SweepError(
      `the sweep covers at most ${MAX_SWEPT_REGIONS} regions per account (an account's child execution must end within Step Functions' 5-minute Express limit), but ${regions.length} are guarded: set \`regions\` in the configuration to the regions to guard`,
    );
  }
}

/**
 * Each target's status as one letter, as the organization sweep's state keeps it per account (`statuses`, one
 * letter per region in the order of the listed regions): what travels in its state must stay within Step
 * Functions' 256 KiB (infra/constructs/organization-sweep.ts), and the CLI reads it back (statusOfCode).
 */
export const STATUS_CODES = {
  swept: 's',
  'not-enrolled': 'n',
  'not-enabled': 'd',
  error: 'x',
} as const satisfies Record<TargetStatus, string>;

/** The status a letter of STATUS_CODES stands for; undefined for any other value. */
export function statusOfCode(code: unknown): TargetStatus | undefined {
  return TARGET_STATUSES.find((status) => STATUS_CODES[status] === code);
}

/** Statuses that are coverage gaps, listed but not failures. */
export const COVERAGE_GAPS: readonly TargetStatus[] = ['not-enrolled', 'not-enabled'];

export interface SweepResult {
  kind: SweepInput['kind'];
  /** `target` only: what became of it (`error` is thrown, never returned). */
  status?: Exclude<TargetStatus, 'error'>;
  /** Where it looked: the region swept, or the event's region (`regions` lists a role fan-out's). */
  region: string;
  /** The account whose trails it looked at (`targets`: the hub's). */
  account: string;
  /** A role change: every region its account's trails were looked for in. `targets`: the guarded regions. */
  regions?: string[];
  /** `targets` only: the guarded accounts. */
  accounts?: string[];
  /** `targets` only: the sweep's id and who asked for it, as every target carries them (`sweepTargetsOf`). */
  id?: string;
  requestedBy?: string;
  /** The dependency event's change (fan-out only). */
  change?: { resource: DependencyChange['resource']; name: string; eventName: string; eventId: string };
  /** The Security Hub findings that named the trails (findings only). */
  findings?: string[];
  /** Sweep: every trail listed. Fan-out: the affected trails. */
  trails: SweepTrailResult[];
  /** Executions started now; `duplicates` had been started before under the same name. */
  started: number;
  duplicates: number;
  reason: string;
}

/** Some trails could not be assessed or their run could not be started; the others were handled. */
export class SweepError extends TrailguardError {
  override name = 'SweepError';
}

/**
 * A deterministic execution name (at most 80 of [A-Za-z0-9_-]): the run kind, the id of what started it (the
 * scheduled event or the CloudTrail event) and a hash of the trail ARN.
 */
export function executionName(
  kind: 'sweep' | 'dependency' | 'finding',
  inputId: string,
  trailArn: string,
): string {
  const id = inputId.replace(/[^\w-]/g, '-').slice(0, 48);
  const trail = createHash('sha256').update(trailArn).digest('hex').slice(0, 16);
  return `${EXECUTION_PREFIX[kind]}-${id}-${trail}`;
}

const EXECUTION_PREFIX = { sweep: 'sweep', dependency: 'dep', finding: 'finding' } as const;

/** The account of a trail ARN. */
export const ownerOf = (arn: string) => parseTrailArn(arn)?.account ?? arn.split(':')[4];

/**
 * The execution name for a trail a Security Hub finding names: the finding id and its `UpdatedAt` (one
 * evaluation by Security Hub; trailguard's own BatchUpdateFindings does not change it, and a repeated
 * delivery carries the same) hashed, and the trail's hash. A duplicate event or finding update for a run
 * already started maps to the same name and starts nothing; a new evaluation that fails again is a new run.
 */
export function findingExecutionName(target: FindingTarget): string {
  const finding = createHash('sha256')
    .update(`${target.findingId}#${target.updatedAt ?? ''}`)
    .digest('hex')
    .slice(0, 24);
  return executionName('finding', finding, target.trailArn);
}

/** The workflow input for one trail a finding names: the finding id, and when Security Hub saw it fail. */
export function findingRequest(event: FindingsEvent, target: FindingTarget, account: string): DirectRequest {
  return directRequestSchema().parse({
    source: 'trailguard',
    kind: 'finding',
    trail: target.trailArn,
    region: parseTrailArn(target.trailArn)?.region ?? event.region,
    account,
    findingId: target.findingId,
    eventName: FINDINGS_IMPORTED,
    eventSource: 'securityhub.amazonaws.com',
    eventId: event.id,
    eventTime: target.updatedAt ?? event.time,
    requestedBy: target.productArn,
  });
}

/**
 * Whether the trail delivers to the changed log group or through the changed role; with cisMonitoring, whether
 * the changed metric filter or alarms are the trail's CIS monitoring (trailguard's names, the trail's log group).
 */
export function usesResource(trail: Trail, change: DependencyChange): boolean {
  const { account, region } = change.event;
  const group = trail.cloudWatchLogsLogGroupArn
    ? parseLogGroupArn(trail.cloudWatchLogsLogGroupArn)
    : undefined;
  const ownGroup = !!group && group.account === account && group.region === region;
  if (change.resource === 'log-group') return ownGroup && group?.name === change.name;
  if (change.resource === 'metric-filter') {
    return (
      ownGroup &&
      trail.isMultiRegionTrail &&
      group?.name === change.logGroupName &&
      change.name.startsWith(CIS_NAME_PREFIX)
    );
  }
  if (change.resource === 'alarm') {
    if (!ownGroup || !group || !trail.isMultiRegionTrail) return false;
    const mine = new Set(cisAlarmNames(group.name));
    return (change.names ?? [change.name]).some((name) => mine.has(name));
  }
  const role = trail.cloudWatchLogsRoleArn ? parseRoleArn(trail.cloudWatchLogsRoleArn) : undefined;
  return !!role && role.name === change.name && role.account === account;
}

/** The workflow input for one trail a dependency event affects: the event's actor and identity kept. */
export function dependencyRequest(
  change: DependencyChange,
  trailArn: string,
  account: string,
): DirectRequest {
  const { event } = change;
  const d = event.detail;
  const identity = d.userIdentity ?? {};
  return directRequestSchema().parse({
    source: 'trailguard',
    kind: 'dependency',
    trail: trailArn,
    // The trail's home region: a role change (us-east-1) reaches trails of every region.
    region: parseTrailArn(trailArn)?.region ?? event.region,
    account,
    ...(identity.arn ? { requestedBy: identity.arn } : {}),
    ...(identity.type ? { actorType: identity.type } : {}),
    eventName: d.eventName,
    eventSource: d.eventSource,
    eventId: d.eventID ?? event.id,
    eventTime: d.eventTime ?? event.time,
    ...(d.sourceIPAddress ? { sourceIp: d.sourceIPAddress } : {}),
    ...(d.userAgent ? { userAgent: d.userAgent } : {}),
  });
}

export function problemOf(trail: string, error: unknown): string {
  const e = error instanceof Error ? error : new Error(String(error));
  return `${trail}: ${e.name}: ${e.message}`.slice(0, 1000);
}
/** One invocation's bookkeeping: what happened to each trail, what could not be handled, starting runs. */
export interface Tally {
  trails: SweepTrailResult[];
  problems: string[];
  start(request: ExecutionRequest, result: SweepTrailResult): Promise<void>;
}

export function tally(startExecution: StartExecution): Tally {
  const t: Tally = {
    trails: [],
    problems: [],
    async start(request, result) {
      try {
        result.execution = await startExecution(request);
      } catch (error) {
        t.problems.push(problemOf(request.input.trail, error));
      }
      t.trails.push(result);
    },
  };
  return t;
}

/** A result that started nothing, for the reason given (an unguarded account, say). */
export function nothingStarted(
  base: Pick<SweepResult, 'kind' | 'region' | 'account'> & Partial<SweepResult>,
  reason: string,
): SweepResult {
  return { ...base, trails: [], started: 0, duplicates: 0, reason };
}

/**
 * The result, or SweepError when some trail was not handled (after every other one was). `reason` gets the
 * runs started, in words (`2 run(s) started, 1 already started`).
 */
export function finish(
  t: Tally,
  what: string,
  base: Omit<SweepResult, 'trails' | 'started' | 'duplicates' | 'reason'>,
  reason: (runs: string) => string,
): SweepResult {
  const executions = t.trails.flatMap((r) => (r.execution ? [r.execution] : []));
  const started = executions.filter((e) => e.started).length;
  const duplicates = executions.length - started;
  if (t.problems.length > 0) {
    throw new SweepError(
      `${what}: ${t.problems.length} trail(s) not handled (${started} execution(s) started): ${t.problems.join('; ')}`.slice(
        0,
        4000,
      ),
    );
  }
  const runs = `${started} run(s) started${duplicates ? `, ${duplicates} already started` : ''}`;
  return { ...base, trails: t.trails, started, duplicates, reason: reason(runs) };
}

export const RESOURCE_WORDS: Record<DependencyChange['resource'], string> = {
  'log-group': 'log group',
  role: 'delivery role',
  'metric-filter': 'CIS metric filter',
  alarm: 'CIS alarm',
};
