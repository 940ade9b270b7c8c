/**
 * Sweep: one function, three inputs.
 * - The schedule (EventBridge "Scheduled Event"): lists every trail of the region, assesses each one owned and
 *   homed here, and starts the workflow for each that is not compliant (not for compliant, exempt or not-ours
 *   trails). The backstop for CloudTrail events EventBridge did not deliver.
 * - A dependency event (CloudWatch Logs DeleteLogGroup, IAM changes to a role): finds the trails of the region
 *   whose log group or delivery role is the one the event names (DescribeTrails, ARNs compared parsed) and
 *   starts one workflow execution per affected trail, carrying the event's actor and identity.
 * - A Security Hub "Findings - Imported" event (config.securityHub): each active, failed CloudTrail.5 finding
 *   (workflow NEW or NOTIFIED) names a trail of this account; one execution per trail, with the finding id.
 * Execution names are deterministic (input id + trail), so a duplicate event or a retried sweep starts nothing
 * twice. Starting is injected: Step Functions in Lambda, the in-process workflow locally.
 *
 * With the state table, the schedule also records, for each of its trails whose log group exists, what
 * deleting that group would lose (a snapshot: services/aws/log-group-snapshot.ts), which RestoreLogGroup puts
 * back if the group is ever recreated; and when each delivery error was first seen, so an error older than
 * the latest delivery is not reported (services/domain/delivery.ts).
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { formatIssues } from '../../policies/config.js';
import { withDeliveryErrorSighting } from '../aws/delivery-sightings.js';
import {
  type ExecutionRequest,
  type StartExecution,
  type StartedExecution,
  sfnExecutionStarter,
} from '../aws/execution-starter.js';
import { takeLogGroupSnapshot } from '../aws/log-group-snapshot.js';
import { putLogGroupSnapshot } from '../aws/state-store.js';
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
import type { HandlerDeps } from './deps.js';
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

export type SweepInput =
  | { kind: 'sweep'; event: ScheduledEvent }
  | { kind: 'dependency'; change: DependencyChange }
  | { kind: 'finding'; event: FindingsEvent; targets: FindingTarget[] };

/**
 * Parses the sweep function's input: a scheduled event, a dependency event or a Security Hub findings event;
 * InvalidInputError otherwise.
 */
export function parseSweepInput(input: unknown): SweepInput {
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
  region: string;
  account: string;
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
 * What the sweep needs: the configuration, clients and (optionally) the account; the notification topic (the
 * CIS alarms' default action, with cisMonitoring), the state table (snapshots and delivery-error sightings;
 * without it neither is kept) and a clock.
 */
export type SweepDeps = Pick<HandlerDeps, 'config' | 'clients' | 'accountId'> &
  Partial<Pick<HandlerDeps, 'topicArn' | 'stateTableName' | 'now'>>;

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
    region: event.region,
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

/**
 * The sweep core: the function's input in, what it found and started out. Throws SweepError (after handling
 * every other trail) when some trail could not be assessed or started, so the failure is visible (Lambda
 * errors alarm, async retry with the same execution names, then the failure queue).
 */
export function sweepStep(deps: SweepDeps, startExecution: StartExecution) {
  return async (payload: unknown): Promise<SweepResult> => {
    const input = parseSweepInput(payload);
    const region = input.kind === 'dependency' ? input.change.event.region : input.event.region;
    const account = deps.accountId ?? (await readAccountId(deps.clients));
    const problems: string[] = [];
    const trails: SweepTrailResult[] = [];
    const now = deps.now ?? (() => new Date());
    const alarmTopic = deps.config.cisAlarmTopicArn ?? deps.topicArn;

    const start = async (request: ExecutionRequest, result: SweepTrailResult) => {
      try {
        result.execution = await startExecution(request);
      } catch (error) {
        problems.push(problemOf(request.input.trail, error));
      }
      trails.push(result);
    };

    if (input.kind === 'finding') {
      const { event } = input;
      // With securityHub off the stack has no findings rule; a findings event that reaches the function anyway
      // (a manual invocation, a redriven message) starts nothing.
      const targets = deps.config.securityHub ? input.targets : [];
      for (const target of targets) {
        if (ownerOf(target.trailArn) !== account) {
          trails.push({
            trail: target.trailArn,
            verdict: 'not-ours',
            reason: `the finding names a trail of account ${ownerOf(target.trailArn)}, not ${account}`,
          });
          continue;
        }
        await start(
          { name: findingExecutionName(target), input: findingRequest(event, target, account) },
          { trail: target.trailArn, verdict: 'affected', reason: `Security Hub finding ${target.findingId}` },
        );
      }
      return summarize(input, region, account, 0, trails, problems);
    }
    const listed = await listTrails(deps.clients, region);
    if (input.kind === 'sweep') {
      const { event } = input;
      const requestedBy = event.resources[0];
      for (const { id, trail } of listed) {
        const notOurs = notOursReason({ trail, region, accountId: account });
        if (notOurs) {
          trails.push({ trail: id, verdict: 'not-ours', reason: notOurs });
          continue;
        }
        let verdict: Verdict;
        let reason: string;
        try {
          let state = await readTrailState(deps.clients, { id, region }, account, {
            monitoring: deps.config.cisMonitoring,
          });
          state = await withDeliveryErrorSighting(deps.clients, deps.stateTableName, state, now());
          ({ verdict, reason } = assess(state, deps.config, {
            ...(alarmTopic ? { cisAlarmTopicArn: alarmTopic } : {}),
          }));
          if (deps.stateTableName && state.logGroup?.exists) {
            await recordSnapshot(deps, deps.stateTableName, state, now(), (error) =>
              problems.push(problemOf(`${id} (log group snapshot)`, error)),
            );
          }
        } catch (error) {
          if (error instanceof TrailNotFoundError) {
            trails.push({ trail: id, verdict: 'gone', reason: 'trail no longer exists' });
          } else {
            problems.push(problemOf(id, error));
          }
          continue;
        }
        if (verdict !== 'non-compliant') {
          trails.push({ trail: id, verdict, reason });
          continue;
        }
        const request: DirectRequest = {
          source: 'trailguard',
          kind: 'sweep',
          trail: id,
          region,
          account,
          ...(requestedBy ? { requestedBy } : {}),
        };
        await start(
          { name: executionName('sweep', event.id, id), input: request },
          { trail: id, verdict, reason },
        );
      }
    } else {
      const { change } = input;
      const eventId = change.event.detail.eventID ?? change.event.id;
      // Filter and alarm events reach the fan-out only with cisMonitoring (the rule's pattern); one that
      // arrives anyway (configuration changed since, a redriven message) starts nothing.
      const monitoringChange = change.resource === 'metric-filter' || change.resource === 'alarm';
      const affected = listed.filter(
        (t) =>
          (!monitoringChange || deps.config.cisMonitoring) &&
          t.homeRegion === region &&
          ownerOf(t.id) === account &&
          usesResource(t.trail, change),
      );
      for (const { id } of affected) {
        await start(
          { name: executionName('dependency', eventId, id), input: dependencyRequest(change, id, account) },
          {
            trail: id,
            verdict: 'affected',
            reason: `${change.event.detail.eventName} on the ${RESOURCE_WORDS[change.resource]} ${change.name} it uses`,
          },
        );
      }
    }

    return summarize(input, region, account, listed.length, trails, problems);
  };
}

const RESOURCE_WORDS: Record<DependencyChange['resource'], string> = {
  'log-group': 'log group',
  role: 'delivery role',
  'metric-filter': 'CIS metric filter',
  alarm: 'CIS alarm',
};

/**
 * Records what deleting the trail's log group would lose. A snapshot that cannot be taken or stored does not
 * stop the sweep: it is reported (`onError`, the sweep's problems) after every trail was handled.
 */
async function recordSnapshot(
  deps: SweepDeps,
  tableName: string,
  state: Awaited<ReturnType<typeof readTrailState>>,
  now: Date,
  onError: (error: unknown) => void,
): Promise<void> {
  if (!state.logGroup) return;
  try {
    const snapshot = await takeLogGroupSnapshot(
      deps.clients,
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

/** The sweep's result, or SweepError when some trail was not handled (after handling every other one). */
function summarize(
  input: SweepInput,
  region: string,
  account: string,
  listedCount: number,
  trails: SweepTrailResult[],
  problems: string[],
): SweepResult {
  const executions = trails.flatMap((t) => (t.execution ? [t.execution] : []));
  const started = executions.filter((e) => e.started).length;
  const duplicates = executions.length - started;
  if (problems.length > 0) {
    throw new SweepError(
      `${input.kind === 'sweep' ? 'sweep' : 'fan-out'} in ${region}: ${problems.length} trail(s) not handled (${started} execution(s) started): ${problems.join('; ')}`.slice(
        0,
        4000,
      ),
    );
  }
  const already = duplicates ? `, ${duplicates} already started` : '';
  let reason: string;
  if (input.kind === 'sweep') {
    reason = `swept ${listedCount} trail(s) in ${region}: ${started} run(s) started${already}`;
  } else if (input.kind === 'finding') {
    reason =
      input.targets.length > 0 && trails.length === 0
        ? 'securityHub is off in the configuration: Security Hub findings start nothing'
        : trails.length === 0
          ? `no open, failed CloudTrail.5 finding in the event names a trail`
          : `${trails.length} trail(s) named by Security Hub findings: ${started} run(s) started${already}`;
  } else {
    const resource = input.change.resource;
    const what = `${resource === 'role' ? 'role' : RESOURCE_WORDS[resource]} ${input.change.name}`;
    reason =
      trails.length === 0
        ? `no trail in ${region} uses ${what}`
        : `${trails.length} trail(s) in ${region} use ${what}: ${started} run(s) started${already}`;
  }
  return {
    kind: input.kind,
    region,
    account,
    ...(input.kind === 'dependency'
      ? {
          change: {
            resource: input.change.resource,
            name: input.change.name,
            eventName: input.change.event.detail.eventName,
            eventId: input.change.event.detail.eventID ?? input.change.event.id,
          },
        }
      : {}),
    ...(input.kind === 'finding' ? { findings: [...new Set(input.targets.map((t) => t.findingId))] } : {}),
    trails,
    started,
    duplicates,
    reason,
  };
}

/** The Lambda entry: Step Functions starts the executions of the state machine named in the environment. */
export const handler = lambdaHandler(
  (deps) => {
    const { stateMachineArn } = parseSweepEnv(process.env);
    const core = sweepStep(deps, sfnExecutionStarter(deps.clients, stateMachineArn));
    return async (payload) => {
      const result = await core(payload);
      logger.info('Sweep summary', {
        kind: result.kind,
        region: result.region,
        trails: result.trails.length,
        started: result.started,
        duplicates: result.duplicates,
        ...(result.change ? { change: result.change } : {}),
      });
      return result;
    };
  },
  { step: 'Sweep' },
);
