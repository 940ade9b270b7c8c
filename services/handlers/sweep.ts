/**
 * Sweep: one function, five inputs.
 * - The schedule (EventBridge "Scheduled Event"), a single account (no `accounts` configured): lists every
 *   trail of the region, assesses each one owned and homed here, and starts the workflow for each that is not
 *   compliant (not for compliant, exempt or not-ours trails). The backstop for CloudTrail events EventBridge
 *   did not deliver.
 * - `{"kind": "targets"}` (and the schedule of a hub, `accounts` configured): what the hub's sweep covers, the
 *   guarded accounts (the configured list, the organization's ACTIVE accounts for "organization", always the
 *   hub's own) and the guarded regions (the configured list, else every region enabled in the hub's account),
 *   and the sweep's id. The organization sweep's state machine iterates the accounts, then each account's
 *   regions (infra/constructs/organization-sweep.ts), so a sweep of thousands of account-regions needs no loop
 *   of ours; `sweepTargetsOf` gives the `{"kind": "target", ...}` inputs it sends.
 * - `{"kind": "target", "account", "region"}`: the schedule's sweep for one account and region, in that
 *   account (its remediation role), executions started on the hub's state machine.
 * - A dependency event (CloudWatch Logs DeleteLogGroup, IAM changes to a role): finds the event account's
 *   trails whose log group or delivery role is the one the event names (DescribeTrails, ARNs compared parsed)
 *   and starts one workflow execution per affected trail, carrying the event's actor and identity. A log group
 *   is regional (the event's region); IAM is global and its events reach EventBridge in us-east-1 only, so a
 *   role change is fanned out to the account's trails in every guarded region.
 * - A Security Hub "Findings - Imported" event (config.securityHub): each active, failed CloudTrail.5 finding
 *   (workflow NEW or NOTIFIED) names a trail of a guarded account; one execution per trail, with the finding id.
 * An account the hub does not guard starts nothing (the result's reason says why). Every trail is read in its
 * account; the state table (snapshots, sightings) and the state machine are the hub's.
 * Execution names are deterministic (input id + trail), so a duplicate event or a retried sweep starts nothing
 * twice. Starting is injected: Step Functions in Lambda, the in-process workflow locally.
 *
 * With the state table, the schedule also records, for each of its trails whose log group exists, what
 * deleting that group would lose (a snapshot: services/aws/log-group-snapshot.ts), which RestoreLogGroup puts
 * back if the group is ever recreated; and when each delivery error was first seen, so an error older than
 * the latest delivery is not reported (services/domain/delivery.ts).
 */
import { createHash, randomUUID } from 'node:crypto';
import * as z from 'zod';
import { formatIssues, guardsSeveralRegionsOrAccounts } from '../../policies/config.js';
import { unguardedReason } from '../aws/accounts.js';
import type { AwsClients } from '../aws/clients.js';
import { withDeliveryErrorSighting } from '../aws/delivery-sightings.js';
import {
  type ExecutionRequest,
  type StartExecution,
  type StartedExecution,
  sfnExecutionStarter,
} from '../aws/execution-starter.js';
import { takeLogGroupSnapshot } from '../aws/log-group-snapshot.js';
import { putLogGroupSnapshot } from '../aws/state-store.js';
import { guardedAccounts, guardedRegions } from '../aws/sweep-targets.js';
import { listTrails } from '../aws/trail-lister.js';
import { readAccountId, readTrailState } from '../aws/trail-reader.js';
import { parseLogGroupArn, parseRoleArn, parseTrailArn } from '../domain/arns.js';
import { assess, notOursReason, type Verdict } from '../domain/assess.js';
import { CIS_NAME_PREFIX, cisAlarmNames } from '../domain/cis-monitoring.js';
import { InvalidInputError, TrailguardError, TrailNotFoundError } from '../domain/errors.js';
import {
  type DependencyChange,
  type DirectRequest,
  DirectRequestSchema,
  parseDependencyEvent,
} from '../domain/events.js';
import {
  FINDINGS_IMPORTED,
  type FindingsEvent,
  type FindingTarget,
  findingTargets,
  isFindingsEvent,
  parseFindingsEvent,
} from '../domain/security-hub.js';
import type { Trail } from '../domain/trail-state.js';
import { clientsIn, type HandlerDeps } from './deps.js';
import { parseSweepEnv } from './env.js';
import { lambdaHandler, logger } from './lambda.js';

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/** EventBridge's scheduled event, as the sweep schedule delivers it. */
export const ScheduledEventSchema = z.object({
  'detail-type': z.literal('Scheduled Event'),
  source: z.literal('aws.events'),
  id: z.string().min(1).max(256),
  account: z.string().regex(/^\d{12}$/, 'must be a 12-digit account id'),
  region: z.string().regex(REGION, 'must be an AWS region'),
  time: z.string().max(64),
  /** The schedule rule's ARN. */
  resources: z.array(z.string().max(2048)).max(10).default([]),
});
export type ScheduledEvent = z.infer<typeof ScheduledEventSchema>;

const ACCOUNT_ID = z.string().regex(/^\d{12}$/, 'must be a 12-digit account id');
/** What makes the execution names of one sweep deterministic: the schedule's event id, or the Map's run. */
const SWEEP_ID = z.string().min(1).max(256);
const REQUESTED_BY = z.string().min(1).max(2048);

/**
 * `{"kind": "targets"}`: the account x region pairs a hub's sweep covers. `id` names the sweep (default: a new
 * one) and goes into every target, with `requestedBy` (the schedule rule's ARN, say).
 */
export const TargetsRequestSchema = z.strictObject({
  kind: z.literal('targets'),
  id: SWEEP_ID.optional(),
  requestedBy: REQUESTED_BY.optional(),
});

/** `{"kind": "target", "account", "region"}`: the sweep of one account and region. */
export const TargetRequestSchema = z.strictObject({
  kind: z.literal('target'),
  account: ACCOUNT_ID,
  region: z.string().regex(REGION, 'must be an AWS region'),
  /** The sweep this target belongs to (execution names); default: a new one. */
  id: SWEEP_ID.optional(),
  requestedBy: REQUESTED_BY.optional(),
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

export interface SweepResult {
  kind: SweepInput['kind'];
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
 * What the sweep needs: the configuration, the hub's clients and (optionally) its account; how it acts in the
 * other guarded accounts (`accounts`; without it, in the hub's own only); the notification topic (the CIS
 * alarms' default action, with cisMonitoring), the state table (snapshots and delivery-error sightings;
 * without it neither is kept) and a clock.
 */
export type SweepDeps = Pick<HandlerDeps, 'config' | 'clients' | 'accountId'> &
  Partial<Pick<HandlerDeps, 'topicArn' | 'stateTableName' | 'now' | 'accounts'>>;

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

const ownerOf = (arn: string) => parseTrailArn(arn)?.account ?? arn.split(':')[4];

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
  return DirectRequestSchema.parse({
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
  return DirectRequestSchema.parse({
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

function problemOf(trail: string, error: unknown): string {
  const e = error instanceof Error ? error : new Error(String(error));
  return `${trail}: ${e.name}: ${e.message}`.slice(0, 1000);
}
/** One invocation's bookkeeping: what happened to each trail, what could not be handled, starting runs. */
interface Tally {
  trails: SweepTrailResult[];
  problems: string[];
  start(request: ExecutionRequest, result: SweepTrailResult): Promise<void>;
}

function tally(startExecution: StartExecution): Tally {
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

/** One account and region to sweep, and the clients that act there. */
interface Scope {
  account: string;
  region: string;
  clients: AwsClients;
  /** The sweep's id (execution names) and who asked for it (the schedule rule). */
  id: string;
  requestedBy?: string;
}

/**
 * The sweep core: the function's input in, what it found and started out. Throws SweepError (after handling
 * every other trail) when some trail could not be assessed or started, so the failure is visible (Lambda
 * errors alarm, async retry with the same execution names, then the failure queue). An account whose
 * remediation role cannot be assumed throws AccountAccessError before anything is read there.
 */
export function sweepStep(deps: SweepDeps, startExecution: StartExecution) {
  const now = deps.now ?? (() => new Date());
  const alarmTopic = deps.config.cisAlarmTopicArn ?? deps.topicArn;
  // The guarded regions, read once per core (a Lambda environment): the configured ones, or those enabled.
  let regionList: Promise<string[]> | undefined;
  const regions = (): Promise<string[]> => {
    if (!regionList) {
      // A single account without `regions` guards the region its stack runs in (and has no permission to list
      // the enabled ones); otherwise the configured regions, or (a hub) every enabled region.
      const loading = guardsSeveralRegionsOrAccounts(deps.config)
        ? guardedRegions(deps.clients, deps.config)
        : Promise.resolve([deps.clients.defaultRegion]);
      regionList = loading;
      loading.catch(() => {
        if (regionList === loading) regionList = undefined;
      });
    }
    return regionList;
  };

  return async (payload: unknown): Promise<SweepResult> => {
    const parsed = parseSweepInput(payload);
    const hub = deps.accounts?.hubAccount ?? deps.accountId ?? (await readAccountId(deps.clients));
    // A hub's schedule (or a single account's with `regions`): the targets (a Step Functions Map sweeps each
    // one); a single account's in one region: its region.
    const input: SweepInput =
      parsed.kind === 'sweep' && guardsSeveralRegionsOrAccounts(deps.config)
        ? {
            kind: 'targets',
            id: parsed.event.id,
            ...(parsed.event.resources[0] ? { requestedBy: parsed.event.resources[0] } : {}),
          }
        : parsed;
    const t = tally(startExecution);

    switch (input.kind) {
      case 'targets': {
        const [accounts, guarded] = await Promise.all([
          guardedAccounts(deps.clients, deps.config, hub),
          regions(),
        ]);
        // Accounts and regions, not their product: the answer stays small whatever the organization's size
        // (a Step Functions state holds at most 256 KiB; 12-digit ids are about 15 bytes each in JSON).
        return {
          kind: 'targets',
          region: deps.clients.defaultRegion,
          account: hub,
          id: input.id,
          ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}),
          accounts,
          regions: guarded,
          trails: [],
          started: 0,
          duplicates: 0,
          reason: `${accounts.length * guarded.length} account-region(s) to sweep: ${accounts.length} account(s) x ${guarded.length} region(s)`,
        };
      }
      case 'sweep': {
        const { event } = input;
        const scope: Scope = {
          account: hub,
          region: event.region,
          clients: deps.clients,
          id: event.id,
          ...(event.resources[0] ? { requestedBy: event.resources[0] } : {}),
        };
        const listed = await sweepScope(deps, t, scope, { alarmTopic, now });
        return finish(
          t,
          `sweep in ${scope.region}`,
          { kind: 'sweep', region: scope.region, account: hub },
          (n) => `swept ${listed} trail(s) in ${scope.region}: ${n}`,
        );
      }
      case 'target': {
        const { target } = input;
        const base = { kind: 'target' as const, region: target.region, account: target.account };
        const unguarded = unguardedReason(deps.config, target.account, hub);
        if (unguarded) return nothingStarted(base, `nothing swept: ${unguarded}`);
        const scope: Scope = {
          account: target.account,
          region: target.region,
          clients: await clientsIn(deps, target.account),
          id: target.id,
          ...(target.requestedBy ? { requestedBy: target.requestedBy } : {}),
        };
        const listed = await sweepScope(deps, t, scope, { alarmTopic, now });
        return finish(
          t,
          `sweep of account ${target.account} in ${target.region}`,
          base,
          (n) => `swept ${listed} trail(s) of account ${target.account} in ${target.region}: ${n}`,
        );
      }
      case 'finding':
        return findings(deps, t, input, hub);
      case 'dependency':
        return fanOut(deps, t, input.change, hub, regions);
    }
  };
}

/** A result that started nothing, for the reason given (an unguarded account, say). */
function nothingStarted(
  base: Pick<SweepResult, 'kind' | 'region' | 'account'> & Partial<SweepResult>,
  reason: string,
): SweepResult {
  return { ...base, trails: [], started: 0, duplicates: 0, reason };
}

/**
 * The result, or SweepError when some trail was not handled (after every other one was). `reason` gets the
 * runs started, in words (`2 run(s) started, 1 already started`).
 */
function finish(
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

/**
 * Sweeps one account and region: every trail listed there is assessed in that account, and the workflow is
 * started for each one that is not compliant. Returns how many trails were listed.
 */
async function sweepScope(
  deps: SweepDeps,
  t: Tally,
  scope: Scope,
  options: { alarmTopic: string | undefined; now: () => Date },
): Promise<number> {
  const { account, region, clients } = scope;
  const listed = await listTrails(clients, region);
  for (const { id, trail } of listed) {
    const notOurs = notOursReason({ trail, region, accountId: account });
    if (notOurs) {
      t.trails.push({ trail: id, verdict: 'not-ours', reason: notOurs });
      continue;
    }
    let verdict: Verdict;
    let reason: string;
    try {
      let state = await readTrailState(clients, { id, region }, account, {
        monitoring: deps.config.cisMonitoring,
      });
      // Sightings and snapshots are the hub's (its state table).
      state = await withDeliveryErrorSighting(deps.clients, deps.stateTableName, state, options.now());
      ({ verdict, reason } = assess(state, deps.config, {
        ...(options.alarmTopic ? { cisAlarmTopicArn: options.alarmTopic } : {}),
      }));
      if (deps.stateTableName && state.logGroup?.exists) {
        await recordSnapshot(deps, clients, deps.stateTableName, state, options.now(), (error) =>
          t.problems.push(problemOf(`${id} (log group snapshot)`, error)),
        );
      }
    } catch (error) {
      if (error instanceof TrailNotFoundError) {
        t.trails.push({ trail: id, verdict: 'gone', reason: 'trail no longer exists' });
      } else {
        t.problems.push(problemOf(id, error));
      }
      continue;
    }
    if (verdict !== 'non-compliant') {
      t.trails.push({ trail: id, verdict, reason });
      continue;
    }
    const request: DirectRequest = {
      source: 'trailguard',
      kind: 'sweep',
      trail: id,
      region,
      account,
      ...(scope.requestedBy ? { requestedBy: scope.requestedBy } : {}),
    };
    await t.start(
      { name: executionName('sweep', scope.id, id), input: request },
      { trail: id, verdict, reason },
    );
  }
  return listed.length;
}

/**
 * A Security Hub findings event: one run per trail a finding names, in the trail's account when the hub guards
 * it (a Security Hub administrator account sees its members' findings); any other account's trail is not ours.
 */
async function findings(
  deps: SweepDeps,
  t: Tally,
  input: Extract<SweepInput, { kind: 'finding' }>,
  hub: string,
): Promise<SweepResult> {
  const { event } = input;
  // With securityHub off the stack has no findings rule; a findings event that reaches the function anyway
  // (a manual invocation, a redriven message) starts nothing.
  const targets = deps.config.securityHub ? input.targets : [];
  for (const target of targets) {
    const owner = ownerOf(target.trailArn) ?? 'unknown';
    const unguarded = unguardedReason(deps.config, owner, hub);
    if (unguarded) {
      t.trails.push({
        trail: target.trailArn,
        verdict: 'not-ours',
        reason:
          deps.config.accounts === undefined
            ? `the finding names a trail of account ${owner}, not ${hub}`
            : `the finding names a trail of account ${owner}: ${unguarded}`,
      });
      continue;
    }
    await t.start(
      { name: findingExecutionName(target), input: findingRequest(event, target, owner) },
      { trail: target.trailArn, verdict: 'affected', reason: `Security Hub finding ${target.findingId}` },
    );
  }
  const trailCount = t.trails.length;
  return finish(
    t,
    `fan-out in ${event.region}`,
    {
      kind: 'finding',
      region: event.region,
      account: event.account,
      findings: [...new Set(input.targets.map((f) => f.findingId))],
    },
    (runs) =>
      input.targets.length > 0 && trailCount === 0
        ? 'securityHub is off in the configuration: Security Hub findings start nothing'
        : trailCount === 0
          ? 'no open, failed CloudTrail.5 finding in the event names a trail'
          : `${trailCount} trail(s) named by Security Hub findings: ${runs}`,
  );
}

/**
 * A dependency event: the trails of the event's account that use the changed log group (the event's region) or
 * role (every guarded region: IAM is global), one run each. An account the hub does not guard starts nothing.
 */
async function fanOut(
  deps: SweepDeps,
  t: Tally,
  change: DependencyChange,
  hub: string,
  guardedRegionList: () => Promise<string[]>,
): Promise<SweepResult> {
  const { event } = change;
  const account = event.account;
  const eventId = event.detail.eventID ?? event.id;
  const what = `${change.resource === 'role' ? 'role' : RESOURCE_WORDS[change.resource]} ${change.name}`;
  const base = {
    kind: 'dependency' as const,
    region: event.region,
    account,
    change: { resource: change.resource, name: change.name, eventName: event.detail.eventName, eventId },
  };
  const unguarded = unguardedReason(deps.config, account, hub);
  if (unguarded) return nothingStarted(base, `nothing started: ${unguarded}`);
  // Filter and alarm events reach the fan-out only with cisMonitoring (the rule's pattern); one that arrives
  // anyway (configuration changed since, a redriven message) starts nothing.
  const monitoringChange = change.resource === 'metric-filter' || change.resource === 'alarm';
  if (monitoringChange && !deps.config.cisMonitoring) {
    return nothingStarted(base, `no trail in ${event.region} uses ${what}`);
  }
  const clients = await clientsIn(deps, account);
  const regions = change.resource === 'role' ? await guardedRegionList() : [event.region];
  // Every region is listed (in parallel) before any run starts; a region that cannot be listed is a problem
  // reported after the others were handled.
  const listings = await Promise.all(
    regions.map((region) =>
      listTrails(clients, region).then(
        (listed) => ({ region, listed }),
        (error: unknown) => {
          t.problems.push(problemOf(`trails of account ${account} in ${region}`, error));
          return { region, listed: [] };
        },
      ),
    ),
  );
  for (const { region, listed } of listings) {
    const affected = listed.filter(
      (l) => l.homeRegion === region && ownerOf(l.id) === account && usesResource(l.trail, change),
    );
    for (const { id } of affected) {
      await t.start(
        { name: executionName('dependency', eventId, id), input: dependencyRequest(change, id, account) },
        {
          trail: id,
          verdict: 'affected',
          reason: `${event.detail.eventName} on the ${RESOURCE_WORDS[change.resource]} ${change.name} it uses`,
        },
      );
    }
  }
  const where = regions.length === 1 ? `in ${regions[0]}` : `in any of ${regions.length} region(s)`;
  const some = regions.length === 1 ? `in ${regions[0]}` : `of account ${account}`;
  const count = t.trails.length;
  return finish(
    t,
    `fan-out in ${event.region}`,
    { ...base, ...(change.resource === 'role' ? { regions } : {}) },
    (runs) =>
      count === 0 ? `no trail ${where} uses ${what}` : `${count} trail(s) ${some} use ${what}: ${runs}`,
  );
}

const RESOURCE_WORDS: Record<DependencyChange['resource'], string> = {
  'log-group': 'log group',
  role: 'delivery role',
  'metric-filter': 'CIS metric filter',
  alarm: 'CIS alarm',
};

/**
 * Records what deleting the trail's log group would lose: read in the trail's account (`clients`), stored in
 * the hub's state table. A snapshot that cannot be taken or stored does not stop the sweep: it is reported
 * (`onError`, the sweep's problems) after every trail was handled.
 */
async function recordSnapshot(
  deps: SweepDeps,
  clients: AwsClients,
  tableName: string,
  state: Awaited<ReturnType<typeof readTrailState>>,
  now: Date,
  onError: (error: unknown) => void,
): Promise<void> {
  if (!state.logGroup) return;
  try {
    const snapshot = await takeLogGroupSnapshot(
      clients,
      {
        region: state.trail.homeRegion,
        account: state.accountId,
        partition: state.partition,
        trailArn: state.trail.trailArn,
        logGroupName: state.logGroup.name,
      },
      now,
    );
    if (snapshot) await putLogGroupSnapshot(deps.clients, tableName, snapshot);
  } catch (error) {
    onError(error);
  }
}

/** The Lambda entry: Step Functions starts the executions of the state machine named in the environment. */
export const handler = lambdaHandler(
  (deps, observability = {}) => {
    const { stateMachineArn } = parseSweepEnv(process.env);
    const core = sweepStep(deps, sfnExecutionStarter(deps.clients, stateMachineArn));
    return async (payload) => {
      const result = await core(payload);
      // The heartbeat (alarm SweepHeartbeatAlarm): a scheduled sweep of this region finished without error.
      if (result.kind === 'sweep') observability.countSweepCompleted?.();
      logger.info('Sweep summary', {
        kind: result.kind,
        region: result.region,
        account: result.account,
        trails: result.trails.length,
        started: result.started,
        duplicates: result.duplicates,
        ...(result.kind === 'targets'
          ? { targets: (result.accounts?.length ?? 0) * (result.regions?.length ?? 0) }
          : {}),
        ...(result.regions ? { regions: result.regions.length } : {}),
        ...(result.change ? { change: result.change } : {}),
      });
      return result;
    };
  },
  { step: 'Sweep', metrics: true },
);
