/**
 * The sweep function's core (services/handlers/sweep.ts wraps it; its pure part is services/domain/sweep.ts): one
 * function, five inputs.
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
import type { Config } from '../../policies/config.js';
import { guardsSeveralRegionsOrAccounts } from '../../policies/config.js';
import { assess, notOursReason, protectsExistingGroup, type Verdict } from '../domain/assess.js';
import { TrailNotFoundError } from '../domain/errors.js';
import type { DependencyChange, DirectRequest } from '../domain/events.js';
import {
  assertSweepableRegions,
  dependencyRequest,
  executionName,
  findingExecutionName,
  findingRequest,
  finish,
  nothingStarted,
  ownerOf,
  parseSweepInput,
  problemOf,
  RESOURCE_WORDS,
  type StartExecution,
  type SweepInput,
  type SweepResult,
  type Tally,
  tally,
  usesResource,
} from '../domain/sweep.js';
import { type AccountAccess, AccountNotEnrolledError, unguardedReason } from './accounts.js';
import type { AwsClients } from './clients.js';
import { withDeliveryErrorSighting } from './delivery-sightings.js';
import { takeLogGroupSnapshot } from './log-group-snapshot.js';
import { putLogGroupSnapshot } from './state-store.js';
import { enabledRegionsOf, guardedAccounts, guardedRegions } from './sweep-targets.js';
import { listTrails } from './trail-lister.js';
import { readAccountId, readTrailState } from './trail-reader.js';

/**
 * What the sweep needs: the configuration, the hub's clients and (optionally) its account; how it acts in the
 * other guarded accounts (`accounts`; without it, in the hub's own only); the notification topic (the CIS
 * alarms' default action, with cisMonitoring), the state table (snapshots and delivery-error sightings;
 * without it neither is kept) and a clock.
 */
export interface SweepDeps {
  config: Config;
  /** The hub's own clients: its account, its state table. */
  clients: AwsClients;
  accountId?: string;
  topicArn?: string;
  stateTableName?: string;
  now?: () => Date;
  accounts?: AccountAccess;
}

/** The clients that act in `account`: through `deps.accounts` when the hub guards other accounts. */
function clientsIn(deps: Pick<SweepDeps, 'clients' | 'accounts'>, account: string): Promise<AwsClients> {
  return deps.accounts ? deps.accounts.clientsFor(account) : Promise.resolve(deps.clients);
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
        assertSweepableRegions(guarded);
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
        const where = `account ${target.account} in ${target.region}`;
        const unguarded = unguardedReason(deps.config, target.account, hub);
        if (unguarded) {
          return nothingStarted({ ...base, status: 'not-enrolled' }, `nothing swept: ${unguarded}`);
        }
        // Coverage gaps are told apart from failures: an account without a spoke this hub may use, a region
        // not enabled there. Either is listed (status) and is not a failure; anything else throws (`error`).
        let clients: AwsClients;
        try {
          clients = await clientsIn(deps, target.account);
        } catch (error) {
          if (!(error instanceof AccountNotEnrolledError)) throw error;
          return nothingStarted(
            { ...base, status: 'not-enrolled' },
            `not swept: ${error.message} (told by ${error.toldBy})`,
          );
        }
        // The account's own enabled regions (EC2 DescribeRegions there, through its role): opt-in regions
        // differ per account, and a call into a region not enabled fails.
        const enabled = await enabledRegionsOf(clients);
        if (!enabled.includes(target.region)) {
          return nothingStarted(
            { ...base, status: 'not-enabled' },
            `not swept: region ${target.region} is not enabled in account ${target.account} (EC2 DescribeRegions there lists ${enabled.length} enabled region(s))`,
          );
        }
        const scope: Scope = {
          account: target.account,
          region: target.region,
          clients,
          id: target.id,
          ...(target.requestedBy ? { requestedBy: target.requestedBy } : {}),
        };
        const listed = await sweepScope(deps, t, scope, { alarmTopic, now });
        return finish(
          t,
          `sweep of ${where}`,
          { ...base, status: 'swept' },
          (n) => `swept ${listed} trail(s) of ${where}: ${n}`,
        );
      }
      case 'finding':
        return findings(deps, t, input, hub);
      case 'dependency':
        return fanOut(deps, t, input.change, hub, regions);
    }
  };
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
    let protect = false;
    try {
      let state = await readTrailState(clients, { id, region }, account, {
        monitoring: deps.config.cisMonitoring,
      });
      // Sightings and snapshots are the hub's (its state table).
      state = await withDeliveryErrorSighting(deps.clients, deps.stateTableName, state, options.now());
      const assessment = assess(state, deps.config, {
        ...(options.alarmTopic ? { cisAlarmTopicArn: options.alarmTopic } : {}),
      });
      ({ verdict, reason } = assessment);
      // protectExistingLogGroups: a compliant trail whose log group is unprotected is started too (Check decides
      // to protect it).
      protect = protectsExistingGroup(assessment, deps.config);
      if (protect) reason = 'protectExistingLogGroups: the log group has no deletion protection';
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
    if (verdict !== 'non-compliant' && !protect) {
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
