/**
 * Section 7: what the delivery check (config.deliveryCheckMinutes) and the CIS monitoring (config.cisMonitoring)
 * add, measured on the emulator with the same counted clients as section 1.
 *
 * - Delivery check: one breakage replayed twice in fresh accounts, without and with `deliveryCheck: true` (the
 *   local runner leaves the check out unless asked; the wait is 0 locally). moto never delivers, so the check ends
 *   `no-delivery`; `confirmed` needs a delivery time after the fix, injected into GetTrailStatus's answer at the
 *   SDK layer while CheckDelivery runs (nothing else is changed). A notify-only run shows what the check's Choice
 *   costs an outcome it does not apply to.
 * - CIS monitoring: one multi-region trail, in one account: its run without and with cisMonitoring while it has no
 *   CIS filters or alarms yet (the second run is the first-time setup), then a compliant run with them, then one CIS
 *   filter deleted and its DeleteMetricFilter event replayed (the dependency rule's fan-out, then the workflow).
 * - The sweep's snapshot: the sweep function's core over N compliant trails with the settings the synthesized
 *   template gives it, once as they are and once without the state table (no snapshot is taken or stored without
 *   it), default configuration and cisMonitoring.
 *
 * Calls are attributed to workflow states, not only to functions (NotifyDelivery runs the Notify function,
 * AuditDelivery the Audit function): each step invocation's calls are the counter's growth during it, and the
 * invocations are matched in order with the task states entered (a workflow runs one state at a time).
 */
import { DeleteMetricFilterCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { ConfigInput } from '../policies/config.js';
import type { AwsClients } from '../services/aws/clients.js';
import { ensureCisMonitoring } from '../services/aws/monitoring.js';
import { type SweepDeps, sweepStep } from '../services/aws/sweep.js';
import { CIS_CONTROLS, cisFilterName } from '../services/domain/cis-monitoring.js';
import type { StepName } from '../services/handlers/registry.js';
import type { MotoServer } from '../services/local/moto.js';
import { type ReplayResult, replayEvent } from '../services/local/replay.js';
import { localWorkflow, type StepFactory } from '../services/local/workflow-runner.js';
import { type Breaks, seedTrail } from '../test/support/seed.js';
import { CALL_TARGET_RATIO, type CallComparison, compareCalls } from './analysis.js';
import { auditItemSizes, ScenarioMismatchError } from './aws-calls.js';
import type { CallCounter, Counts } from './call-counter.js';
import { ACCOUNT, freshAccount, REGION, setupClients } from './emulator.js';
import { countByOperation, MINIMUM, type MinimumCall } from './minimum.js';
import { cloudTrailEvent, trailName } from './scenarios.js';
import { countsTotal, minusCounts } from './stats.js';

/** The calls one task state made (one invocation of its function). */
export interface StateCalls {
  state: string;
  step: StepName;
  calls: Counts;
}

/** One counted run: everything the section reports about it. */
export interface CountedRun {
  outcome: string;
  findings: string[];
  /** The writes the run reports (its actions), in order. */
  actions: string[];
  transitions: number;
  states: string[];
  /** All calls, by operation (fan-out included). */
  commands: Counts;
  total: number;
  /** Calls outside any workflow step: the sweep function's fan-out (dependency events) or the sweep itself. */
  outsideSteps: Counts;
  byState: StateCalls[];
  /** The delivery check's result (`deliveryCheck.status` of the final context). */
  deliveryStatus?: string;
}

export interface DeliveryCase {
  id: 'no-delivery' | 'confirmed' | 'notified';
  title: string;
  /** GetTrailStatus's LatestCloudWatchLogsDeliveryTime injected at the SDK layer during CheckDelivery. */
  injected: boolean;
  without: CountedRun;
  with: CountedRun;
  /** States entered with the check and not without it, in order. */
  addedStates: string[];
  /** with - without, by operation. */
  addedCalls: Counts;
  /** The added task states' calls (sums to addedCalls when attribution is consistent). */
  addedByState: StateCalls[];
  minimum: MinimumCall[];
  /** Operations made more often than the minimum: "op +n". */
  aboveMinimum: string[];
}

export type MonitoringCaseId = 'compliant' | 'compliant-monitored' | 'first-setup' | 'repair-one-filter';

export interface MonitoringCase {
  id: MonitoringCaseId;
  title: string;
  config: 'default' | 'cisMonitoring';
  /** The event replayed. */
  trigger: string;
  run: CountedRun;
  /** The workflow's calls (the fan-out's left out) against the minimum (bench/minimum.ts's rules). */
  comparison: CallComparison;
  /** Fan-out minimum (dependency event): DescribeTrails once, to find the trails using the group. */
  outsideMinimum: number;
}

export interface SweepCase {
  config: 'default' | 'cisMonitoring';
  trails: number;
  /** The sweep with the state table (as deployed) and without it. */
  withState: Counts;
  withoutState: Counts;
  /** withState - withoutState, by operation. */
  added: Counts;
  /** Size of each stored snapshot item (DynamoDB's size rules), bytes. */
  snapshotItemBytes: number[];
  /** What a snapshot needs per trail beyond what the sweep already read (snapshotMinimum). */
  minimumPerTrail: Counts;
  /** Per trail, operations made more often than that minimum: "op +n". */
  abovePerTrail: string[];
}

/**
 * The calls a snapshot needs per trail, given what the sweep has already read (readTrailState: DescribeLogGroups,
 * whose answer carries the group's retention, KMS key, class and ARN; with cisMonitoring also DescribeMetricFilters):
 * the group's tags, its subscription filters, its data protection policy, its metric filters unless already read,
 * and one PutItem to store the snapshot.
 */
export function snapshotMinimum(monitored: boolean): Counts {
  return {
    ListTagsForResource: 1,
    ...(monitored ? {} : { DescribeMetricFilters: 1 }),
    DescribeSubscriptionFilters: 1,
    GetDataProtectionPolicy: 1,
    PutItem: 1,
  };
}

export interface DeliveryMonitoringResult {
  delivery: DeliveryCase[];
  monitoring: MonitoringCase[];
  sweep: SweepCase[];
  /** The number of CIS controls: one metric filter and one alarm each, per monitored log group. */
  cisControls: number;
}

const CIS: ConfigInput = { cisMonitoring: true };

function add(into: Counts, more: Counts): Counts {
  for (const [op, n] of Object.entries(more)) into[op] = (into[op] ?? 0) + n;
  return into;
}

// ---------------------------------------------------------------------------------------------------------------
// Counting by workflow state

interface Invocation {
  step: StepName;
  calls: Counts;
}

/** Middleware access, as bench/call-counter.ts uses it. */
interface MiddlewareClient {
  middlewareStack: {
    add(
      middleware: (
        next: (args: unknown) => Promise<{ output: Record<string, unknown> }>,
        context: { commandName?: string },
      ) => (args: unknown) => Promise<{ output: Record<string, unknown> }>,
      options: { step: 'initialize'; name: string },
    ): void;
  };
}

/**
 * Counted clients and step factories for one measurement: every invocation's calls recorded in order, and
 * (when `injectDelivery`) GetTrailStatus answers given a LatestCloudWatchLogsDeliveryTime one second after the
 * call while CheckDelivery runs, i.e. a delivery after the fix (moto reports none).
 */
class StateCounter {
  readonly invocations: Invocation[] = [];
  private current: StepName | undefined;
  readonly clients: AwsClients;
  readonly steps: Record<StepName, StepFactory>;
  private readonly injected = new WeakSet<object>();

  constructor(
    private readonly counter: CallCounter,
    injectDelivery: boolean,
  ) {
    const counted = counter.clients(REGION);
    this.clients = injectDelivery
      ? {
          ...counted,
          cloudTrail: (region: string) => {
            const client = counted.cloudTrail(region);
            if (!this.injected.has(client)) {
              this.injected.add(client);
              this.injectDelivery(client as unknown as MiddlewareClient);
            }
            return client;
          },
        }
      : counted;
    const base = counter.steps();
    this.steps = Object.fromEntries(
      (Object.keys(base) as StepName[]).map((step) => [step, this.wrap(step, base[step])]),
    ) as Record<StepName, StepFactory>;
  }

  reset(): void {
    this.counter.reset();
    this.invocations.length = 0;
  }

  private wrap(step: StepName, factory: StepFactory): StepFactory {
    return (deps) => {
      const core = factory(deps);
      return async (payload) => {
        const before = { ...(this.counter.byStep[step] ?? {}) };
        this.current = step;
        try {
          return await core(payload);
        } finally {
          this.current = undefined;
          this.invocations.push({ step, calls: minusCounts(this.counter.byStep[step] ?? {}, before) });
        }
      };
    };
  }

  private injectDelivery(client: MiddlewareClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        if (context.commandName === 'GetTrailStatusCommand' && this.current === 'CheckDelivery') {
          out.output.LatestCloudWatchLogsDeliveryTime = new Date(Date.now() + 1000);
        }
        return out;
      },
      { step: 'initialize', name: 'trailguardBenchInjectDelivery' },
    );
  }

  /** The run as counted; the invocations matched in order with the task states entered. */
  async result(run: ReplayResult, config: ConfigInput, deliveryCheck: boolean): Promise<CountedRun> {
    const runs = run.runs ?? [run];
    const states = runs.flatMap((r) => r.states ?? []);
    const local = await localWorkflow({
      region: REGION,
      accountId: ACCOUNT,
      config: deliveryCheck ? config : { ...config, deliveryCheckMinutes: 0 },
    });
    const taskStates = states.filter((s) => s in local.tasks);
    if (taskStates.length !== this.invocations.length) {
      throw new ScenarioMismatchError(
        `${taskStates.length} task states entered but ${this.invocations.length} step invocations counted (a retry?): per-state attribution is not possible`,
      );
    }
    const byState = taskStates.map((state, i) => {
      const inv = this.invocations[i] as Invocation;
      if (local.tasks[state] !== inv.step) {
        throw new ScenarioMismatchError(
          `state ${state} runs ${local.tasks[state]}, but ${inv.step} was invoked`,
        );
      }
      return { state, step: inv.step, calls: inv.calls };
    });
    const inSteps = byState.reduce((t, s) => add(t, s.calls), {} as Counts);
    const commands = { ...this.counter.commands };
    const deliveryStatus = runs.map((r) => r.context?.deliveryCheck?.status).find((s) => s !== undefined);
    return {
      outcome: run.outcome,
      findings: [...run.findings],
      actions: run.actions.map((a) => a.api),
      transitions: runs.reduce((t, r) => t + (r.transitions ?? 0), 0),
      states,
      commands,
      total: countsTotal(commands),
      outsideSteps: minusCounts(commands, inSteps),
      byState,
      ...(deliveryStatus ? { deliveryStatus } : {}),
    };
  }
}

function expectOutcome(what: string, run: ReplayResult, outcome: string, findings?: string[]): void {
  const got = [...run.findings].sort().join();
  if (run.outcome !== outcome || (findings && got !== [...findings].sort().join())) {
    throw new ScenarioMismatchError(
      `${what}: expected ${outcome}${findings ? ` with [${findings.join(', ')}]` : ''}, got ${run.outcome} with [${got}] (${run.reason})`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 1. The delivery check

/** The breakage: logging stopped, everything else right (one write, StartLogging). */
const DELIVERY_BREAKS: Breaks = { loggingStopped: true };

/**
 * The delivery check's minimum: one GetTrailStatus (the delivery time and error), one audit PutItem, and unless
 * confirmed one email sent once, which section 1's model counts as the idempotency claim (PutItem), the Publish
 * and the claim marked sent (UpdateItem).
 */
function deliveryMinimum(confirmed: boolean): MinimumCall[] {
  const c = (op: string, step: StepName, why: string): MinimumCall => ({ op, phase: 'report', step, why });
  return [
    c('GetTrailStatus', 'CheckDelivery', 'delivery time and error after the fix'),
    ...(confirmed
      ? []
      : [
          c('PutItem', 'Notify', 'claim the delivery email in the idempotency table'),
          c('Publish', 'Notify', 'DELIVERY NOT CONFIRMED'),
          c('UpdateItem', 'Notify', 'mark the delivery email sent'),
        ]),
    c('PutItem', 'Audit', 'the delivery-check record'),
  ];
}

async function deliveryCase(
  moto: MotoServer,
  counter: CallCounter,
  id: DeliveryCase['id'],
  n: number,
): Promise<DeliveryCase> {
  const setup = setupClients();
  const notified = id === 'notified';
  const config: ConfigInput = notified ? { mode: 'notify-only' } : {};
  const once = async (deliveryCheck: boolean, k: number): Promise<CountedRun> => {
    await freshAccount(moto.endpoint, setup);
    const trail = trailName(`bench-delivery-${id}`, n + k);
    await seedTrail(setup, trail, { breaks: DELIVERY_BREAKS });
    const state = new StateCounter(counter, id === 'confirmed' && deliveryCheck);
    state.reset();
    const result = await replayEvent(cloudTrailEvent('StopLogging', trail, n + k), {
      clients: state.clients,
      steps: state.steps,
      accountId: ACCOUNT,
      config,
      deliveryCheck,
    });
    expectOutcome(
      `delivery ${id} (check ${deliveryCheck ? 'on' : 'off'})`,
      result,
      notified ? 'notified' : 'remediated',
      ['LOGGING_STOPPED'],
    );
    return state.result(result, config, deliveryCheck);
  };
  const without = await once(false, 0);
  const withCheck = await once(true, 1);
  if (!notified && withCheck.deliveryStatus !== id) {
    throw new ScenarioMismatchError(
      `delivery check ${id}: the check ended ${withCheck.deliveryStatus ?? 'without a result'}`,
    );
  }
  const addedStates = withCheck.states.slice(without.states.length - 1, -1);
  // The runs are the same up to Audit; the check's states come after it (Done is last in both).
  const prefix = without.states.slice(0, -1);
  if (withCheck.states.slice(0, prefix.length).join() !== prefix.join()) {
    throw new ScenarioMismatchError(
      `delivery ${id}: the run with the check differs before Audit (${withCheck.states.join(' > ')} vs ${without.states.join(' > ')})`,
    );
  }
  const addedByState = withCheck.byState.slice(without.byState.length);
  const addedCalls = minusCounts(withCheck.commands, without.commands);
  const attributed = addedByState.reduce((t, s) => add(t, s.calls), {} as Counts);
  if (JSON.stringify(minusCounts(addedCalls, attributed)) !== '{}') {
    throw new ScenarioMismatchError(
      `delivery ${id}: calls added (${JSON.stringify(addedCalls)}) differ from the added states' calls (${JSON.stringify(attributed)})`,
    );
  }
  const minimum = notified ? [] : deliveryMinimum(id === 'confirmed');
  const minCounts: Counts = {};
  for (const m of minimum) minCounts[m.op] = (minCounts[m.op] ?? 0) + 1;
  const aboveMinimum = Object.entries(minusCounts(addedCalls, minCounts))
    .filter(([, d]) => d > 0)
    .map(([op, d]) => `${op} +${d}`);
  return {
    id,
    title: {
      'no-delivery': 'logging stopped, remediated; moto as it is: nothing delivered, no error',
      confirmed:
        'logging stopped, remediated; a delivery after the fix injected into GetTrailStatus (SDK layer) during CheckDelivery',
      notified: 'logging stopped, notify-only mode (outcome notified: the check does not apply)',
    }[id],
    injected: id === 'confirmed',
    without,
    with: withCheck,
    addedStates,
    addedCalls,
    addedByState,
    minimum,
    aboveMinimum,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// 2. CIS monitoring

/** DescribeMetricFilters + DescribeAlarms: what cisMonitoring adds to reading a monitored trail's state. */
function monitoringReads(step: StepName, phase: MinimumCall['phase']): MinimumCall[] {
  return [
    { op: 'DescribeMetricFilters', phase, step, why: "the CIS metric filters on the trail's log group" },
    { op: 'DescribeAlarms', phase, step, why: 'the CIS alarms (15 names, one call)' },
  ];
}

const ESTABLISH = MINIMUM.compliant;
const VERIFY = MINIMUM.LOGGING_STOPPED.filter((c) => c.phase === 'verify');
const REPORT = MINIMUM.LOGGING_STOPPED.filter((c) => c.phase === 'report');

/** bench/minimum.ts's rules, with the monitoring reads and `filters` + `alarms` writes. */
function monitoringMinimum(monitored: boolean, filters: number, alarms: number): MinimumCall[] {
  const writes = [
    ...Array.from(
      { length: filters },
      (): MinimumCall => ({
        op: 'PutMetricFilter',
        phase: 'write',
        step: 'RestoreLogGroup',
        why: 'a missing CIS filter',
      }),
    ),
    ...Array.from(
      { length: alarms },
      (): MinimumCall => ({
        op: 'PutMetricAlarm',
        phase: 'write',
        step: 'RestoreLogGroup',
        why: 'a missing CIS alarm',
      }),
    ),
  ];
  const establish = [...ESTABLISH, ...(monitored ? monitoringReads('Check', 'establish') : [])];
  if (writes.length === 0) return establish;
  return [...establish, ...writes, ...VERIFY, ...monitoringReads('Verify', 'verify'), ...REPORT];
}

/** The CIS writes, which bench/minimum.ts's WRITE_OPERATIONS (section 1's writes) does not list. */
export const CIS_WRITES: ReadonlySet<string> = new Set(['PutMetricFilter', 'PutMetricAlarm']);

/**
 * compareCalls with the CIS writes counted as writes: a restore step's reads before a CIS write are re-reads
 * before writing, and the CIS writes made must be exactly the model's.
 */
function compareMonitoring(
  commands: Counts,
  byStep: Partial<Record<StepName, Counts>>,
  minimum: MinimumCall[],
): CallComparison {
  const c = compareCalls(commands, byStep, minimum);
  for (const e of c.extra) {
    const cisWrites = Object.keys(byStep[e.step] ?? {}).some((op) => CIS_WRITES.has(op));
    if (e.kind === 'read by a restore step that changed nothing' && cisWrites)
      e.kind = 're-read before writing';
  }
  const needed = countByOperation(minimum);
  for (const op of CIS_WRITES) {
    const made = commands[op] ?? 0;
    if (made !== (needed[op] ?? 0)) c.writeMismatch.push(`${op}: made ${made}, model ${needed[op] ?? 0}`);
  }
  c.pass = c.ratio <= CALL_TARGET_RATIO && c.writeMismatch.length === 0;
  return c;
}

async function monitoringCases(moto: MotoServer, counter: CallCounter, n: number): Promise<MonitoringCase[]> {
  const setup = setupClients();
  await freshAccount(moto.endpoint, setup);
  const trail = trailName('bench-cis', n);
  const seeded = await seedTrail(setup, trail, { multiRegion: true });
  const out: MonitoringCase[] = [];
  const controls = CIS_CONTROLS.length;
  const measure = async (
    id: MonitoringCaseId,
    title: string,
    event: unknown,
    trigger: string,
    config: ConfigInput,
    expected: { outcome: string; findings: string[]; writes: [number, number] },
  ) => {
    const state = new StateCounter(counter, false);
    state.reset();
    const result = await replayEvent(event, {
      clients: state.clients,
      steps: state.steps,
      accountId: ACCOUNT,
      config,
    });
    expectOutcome(`CIS ${id}`, result, expected.outcome, expected.findings);
    const run = await state.result(result, config, false);
    const inSteps = minusCounts(run.commands, run.outsideSteps);
    const byStep: Partial<Record<StepName, Counts>> = {};
    for (const s of run.byState) byStep[s.step] = add(byStep[s.step] ?? {}, s.calls);
    const monitored = config.cisMonitoring === true;
    out.push({
      id,
      title,
      config: monitored ? 'cisMonitoring' : 'default',
      trigger,
      run,
      comparison: compareMonitoring(inSteps, byStep, monitoringMinimum(monitored, ...expected.writes)),
      outsideMinimum: countsTotal(run.outsideSteps) > 0 ? 1 : 0,
    });
  };
  const update = (k: number) => cloudTrailEvent('UpdateTrail', trail, n + k);
  await measure(
    'compliant',
    'multi-region trail, integrated and logging; default configuration',
    update(0),
    'UpdateTrail',
    {},
    { outcome: 'compliant', findings: [], writes: [0, 0] },
  );
  await measure(
    'first-setup',
    `the same trail with cisMonitoring, nothing there yet: ${controls} filters + ${controls} alarms`,
    update(1),
    'UpdateTrail',
    CIS,
    {
      outcome: 'remediated',
      findings: ['CIS_METRIC_FILTER_MISSING', 'CIS_ALARM_MISSING'],
      writes: [controls, controls],
    },
  );
  await measure(
    'compliant-monitored',
    `the same trail, its ${controls} CIS filters and alarms in place`,
    update(2),
    'UpdateTrail',
    CIS,
    { outcome: 'compliant', findings: [], writes: [0, 0] },
  );
  const control = CIS_CONTROLS[2];
  if (!control) throw new Error('no CIS control');
  const filterName = cisFilterName(control);
  await setup
    .logs(REGION)
    .send(new DeleteMetricFilterCommand({ logGroupName: seeded.logGroupName, filterName }));
  const base = cloudTrailEvent('UpdateTrail', trail, n + 3);
  const deleteFilter = {
    ...base,
    source: 'aws.logs',
    detail: {
      ...base.detail,
      eventSource: 'logs.amazonaws.com',
      eventName: 'DeleteMetricFilter',
      requestParameters: { logGroupName: seeded.logGroupName, filterName },
    },
  };
  await measure(
    'repair-one-filter',
    `one CIS filter (${filterName}) deleted; its DeleteMetricFilter event replayed (dependency rule, fan-out, workflow)`,
    deleteFilter,
    'DeleteMetricFilter',
    CIS,
    { outcome: 'remediated', findings: ['CIS_METRIC_FILTER_MISSING'], writes: [1, 0] },
  );
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// 3. The sweep's snapshot

async function sweepCase(
  moto: MotoServer,
  counter: CallCounter,
  trails: number,
  monitored: boolean,
): Promise<SweepCase> {
  const setup = setupClients();
  await freshAccount(moto.endpoint, setup);
  const config = monitored ? CIS : {};
  const local = await localWorkflow({ region: REGION, accountId: ACCOUNT, config });
  for (let i = 0; i < trails; i++) {
    const seeded = await seedTrail(setup, trailName(`bench-sweep-${monitored ? 'cis' : 'plain'}`, i), {
      multiRegion: monitored,
    });
    if (monitored) {
      await ensureCisMonitoring(setup, {
        region: REGION,
        logGroupName: seeded.logGroupName,
        alarmTopicArn: local.sweep.settings.config.cisAlarmTopicArn ?? local.sweep.settings.topicArn,
      });
    }
  }
  const clients = counter.clients(REGION);
  const { stateTableName: _, ...withoutTable } = local.sweep.settings;
  const sweep = async (deps: SweepDeps, k: number): Promise<Counts> => {
    counter.reset();
    const result = await sweepStep(deps, async ({ input }) => {
      throw new ScenarioMismatchError(
        `the sweep started a run for ${input.trail}: a seeded trail is not compliant`,
      );
    })({
      version: '0',
      id: `00000000-0000-4000-8000-${String(700 + k).padStart(12, '0')}`,
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: ACCOUNT,
      time: '2026-01-15T10:00:00Z',
      region: REGION,
      resources: [`arn:aws:events:${REGION}:${ACCOUNT}:rule/trailguard-sweep`],
      detail: {},
    });
    const compliant = result.trails.filter((t) => t.verdict === 'compliant').length;
    if (compliant !== trails) {
      throw new ScenarioMismatchError(
        `sweep: ${compliant}/${trails} trails compliant (${result.trails.map((t) => `${t.trail}: ${t.reason}`).join('; ')})`,
      );
    }
    return { ...counter.commands };
  };
  // Without the table first, so the measured sweep with it is not the first to read anything.
  const withoutState = await sweep({ ...withoutTable, clients }, 0);
  const withState = await sweep({ ...local.sweep.settings, clients }, 1);
  const table = local.sweep.settings.stateTableName;
  if (!table) throw new ScenarioMismatchError('the sweep has no state table');
  const added = minusCounts(withState, withoutState);
  const minimumPerTrail = snapshotMinimum(monitored);
  const abovePerTrail = Object.entries(added)
    .map(([op, n]) => [op, n / trails - (minimumPerTrail[op] ?? 0)] as const)
    .filter(([, d]) => d > 0)
    .map(([op, d]) => `${op} +${Number.isInteger(d) ? d : d.toFixed(2)}`);
  return {
    config: monitored ? 'cisMonitoring' : 'default',
    trails,
    withState,
    withoutState,
    added,
    snapshotItemBytes: await auditItemSizes(table),
    minimumPerTrail,
    abovePerTrail,
  };
}

// ---------------------------------------------------------------------------------------------------------------

export async function deliveryAndMonitoring(
  moto: MotoServer,
  counter: CallCounter,
  sweepTrails: number,
): Promise<DeliveryMonitoringResult> {
  const delivery: DeliveryCase[] = [];
  for (const [i, id] of (['no-delivery', 'confirmed', 'notified'] as const).entries()) {
    delivery.push(await deliveryCase(moto, counter, id, 500 + 10 * i));
  }
  const monitoring = await monitoringCases(moto, counter, 600);
  const sweep = [
    await sweepCase(moto, counter, sweepTrails, false),
    await sweepCase(moto, counter, sweepTrails, true),
  ];
  return { delivery, monitoring, sweep, cisControls: CIS_CONTROLS.length };
}
