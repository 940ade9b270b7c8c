/**
 * `npm run bench` (full, writes docs/benchmarks.md) and `npm run bench:smoke` / `tsx bench/run.ts --smoke` (a
 * much smaller run for CI, < 60 s, prints only). `--strict` also exits 1 when a target is missed; without it the
 * exit code is 1 only when the run itself is invalid (a scenario ended wrong, a trail was left non-compliant).
 *
 * Sections: 1 AWS calls per scenario vs the minimum; 2 state transitions per outcome; 3 bundle size and cold
 * init; 4 local latency, throughput and the shared-role scaling check; 5 the AWS cost and latency projection;
 * 6 the CLI as whole processes (wall time and peak memory of check, replay and remediate); 7 the delivery check and
 * CIS monitoring (the calls and transitions a delivery check adds, a CIS monitoring repair and first-time setup, the
 * read cost of cisMonitoring, the sweep's log group snapshot per trail); 8 the monthly cost of an organization (pure
 * computation from the template's counts and sections 5 and 7: one full stack per account-region against one hub and
 * its spokes); 9 an organization on the emulator (the hub's sweep over 20 accounts x 3 regions: wall time, calls per
 * compliant trail, AssumeRole per account, bench/organization-sweep.ts).
 * Each run is compared with the previous run of the same mode on this machine (.bench-tmp/last-<mode>.json).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../infra/constructs/functions.js';
import { REGION_SWEEP_CONCURRENCY } from '../infra/constructs/organization-sweep.js';
import { type ConfigInput, parseConfig } from '../policies/config.js';
import type { StepName } from '../services/handlers/registry.js';
import { cachedSynthesis } from '../services/local/synth-cache.js';
import { localWorkflow, synthesizeApp } from '../services/local/workflow-runner.js';
import { compareCalls } from './analysis.js';
import { auditItemSizes, runScenario, type ScenarioRun } from './aws-calls.js';
import { bundleAll, cdkEsbuildOptions, externalsProbe, measureInit, SCRATCH } from './bundles.js';
import { CallCounter } from './call-counter.js';
import { type CliResult, cliProcesses } from './cli.js';
import { type DeliveryMonitoringResult, deliveryAndMonitoring } from './delivery-monitoring.js';
import { startEmulator } from './emulator.js';
import { concurrentThroughput, sequentialLatency, sharedRoleGrowth } from './latency.js';
import { calibrate, codeVersion, currentLoad, machineFacts } from './machine.js';
import { MINIMUM } from './minimum.js';
import {
  countStandingResources,
  DEFAULT_SCENARIO,
  LOGS_OPERATIONS,
  type OrganizationCostResult,
  organizationCosts,
  SPOKE_COUNTS,
  type StackCounts,
  sweepWorkFrom,
} from './organization-cost.js';
import { ORGANIZATION_SIZE, type OrganizationSweepResult, organizationSweep } from './organization-sweep.js';
import {
  API_LATENCY_MS,
  apiLatency,
  CPU_SCALE,
  LAMBDA_MEMORY_GB,
  LATENCY_ASSUMPTIONS,
  type OutcomeInput,
  PRICES,
  projectCost,
} from './projection.js';
import { compareWithPrevious, renderConsole, renderMarkdown, targetsOf } from './report.js';
import type { BundleRow, CallRow, OutcomeRow, Results } from './results.js';
import { CALL_SCENARIOS, OUTCOME_SCENARIOS, type ScenarioId } from './scenarios.js';
import { median } from './stats.js';

const args = new Set(process.argv.slice(2));
const smoke = args.has('--smoke');
const strict = args.has('--strict');
const mode = smoke ? 'smoke' : 'full';

/** The sizes of each part: the full run must stay under 10 minutes on 2 cores, the smoke run under 60 s. */
const SIZE = smoke
  ? {
      callScenarios: ['compliant', 'LOGGING_STOPPED', 'everything-broken'] as ScenarioId[],
      initRounds: 3,
      bundleSteps: ['Check'] as StepName[],
      latencyRuns: 10,
      throughputCount: 20,
      throughputBatches: 1,
      sharedRoleTrails: 5,
      cliRuns: 3,
      sweepTrails: 2,
      organization: { accounts: 3, regions: ORGANIZATION_SIZE.regions.slice(0, 2) },
    }
  : {
      callScenarios: undefined,
      initRounds: 11,
      bundleSteps: undefined,
      latencyRuns: 100,
      throughputCount: 200,
      throughputBatches: 2,
      sharedRoleTrails: 30,
      cliRuns: 5,
      sweepTrails: 10,
      organization: ORGANIZATION_SIZE,
    };

const log = (message: string) => process.stderr.write(`[bench ${mode}] ${message}\n`);
const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

function callRow(run: ScenarioRun): CallRow {
  const comparison = compareCalls(run.commands, run.byStep, MINIMUM[run.scenario.id]);
  return {
    id: run.scenario.id,
    title: run.scenario.title,
    findings: run.findings,
    outcome: run.outcome,
    attempts: run.attempts,
    actions: run.actions,
    commands: run.commands,
    byStep: run.byStep as Record<string, Record<string, number>>,
    transitions: run.transitions,
    ms: run.ms,
    ...comparison,
  };
}

async function main(): Promise<number> {
  const started = performance.now();
  const machine = machineFacts();
  const calibrationStart = calibrate();
  log(
    `${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, moto ${machine.moto}`,
  );
  const errors: string[] = [];
  const moto = await startEmulator();
  log(`moto ${moto.endpoint} (pid ${moto.pid})`);
  const counter = new CallCounter();
  let calls: CallRow[] = [];
  const outcomes: OutcomeRow[] = [];
  const outcomeInputs: OutcomeInput[] = [];
  let latency: Awaited<ReturnType<typeof sequentialLatency>>;
  const batches: Awaited<ReturnType<typeof concurrentThroughput>>[] = [];
  let sharedRole: Awaited<ReturnType<typeof sharedRoleGrowth>>;
  let cli: CliResult;
  let deliveryMonitoring: DeliveryMonitoringResult;
  let organizationSweepResult: OrganizationSweepResult;
  const taskSteps = (await localWorkflow({})).tasks;
  try {
    // 1. AWS calls per scenario.
    let t = performance.now();
    const scenarios = CALL_SCENARIOS.filter((s) => !SIZE.callScenarios || SIZE.callScenarios.includes(s.id));
    for (const [n, scenario] of scenarios.entries()) {
      calls.push(callRow(await runScenario(moto, scenario, counter, n)));
    }
    log(`1. AWS calls: ${scenarios.length} scenarios in ${seconds(t)}`);

    // 2. Transitions per outcome (and the inputs of the cost model).
    t = performance.now();
    const config = parseConfig({});
    for (const [n, scenario] of OUTCOME_SCENARIOS.entries()) {
      const run = await runScenario(moto, scenario, counter, 100 + n);
      const sizes = await auditItemSizes(config.auditTableName);
      const tasks = run.states.filter((s) => s in taskSteps).map((s) => taskSteps[s] as StepName);
      outcomes.push({
        outcome: run.outcome,
        title: scenario.title,
        transitions: run.transitions,
        states: run.states,
        invocations: tasks.length,
        calls: run.total,
        auditItemBytes: sizes[0] ?? 0,
        cost: run.transitions * PRICES.stateTransition,
      });
      outcomeInputs.push({
        outcome: run.outcome,
        transitions: run.transitions,
        invocations: tasks.length,
        byStep: run.byStep,
        commands: run.commands,
        auditItemBytes: sizes[0] ?? 0,
        tasks,
        createsRole: (run.commands.CreateRole ?? 0) > 0,
      });
    }
    log(`2. transitions: ${OUTCOME_SCENARIOS.length} outcomes in ${seconds(t)}`);

    // 4. Local latency, throughput, shared-role growth.
    t = performance.now();
    latency = await sequentialLatency(moto, SIZE.latencyRuns);
    log(`4. latency: ${SIZE.latencyRuns} sequential replays in ${seconds(t)}`);
    t = performance.now();
    for (let b = 0; b < SIZE.throughputBatches; b++) {
      batches.push(await concurrentThroughput(moto, SIZE.throughputCount));
    }
    log(
      `4. throughput: ${SIZE.throughputBatches} x ${SIZE.throughputCount} concurrent replays + independent checks in ${seconds(t)}`,
    );
    t = performance.now();
    sharedRole = await sharedRoleGrowth(moto, SIZE.sharedRoleTrails);
    log(`4. shared role: ${SIZE.sharedRoleTrails} trails in ${seconds(t)}`);

    // 6. The CLI as whole processes.
    t = performance.now();
    cli = await cliProcesses(moto, SIZE.cliRuns);
    log(`6. CLI: ${SIZE.cliRuns} rounds of check, replay, remediate + a cold replay in ${seconds(t)}`);

    // 7. The delivery check and CIS monitoring (counts only).
    t = performance.now();
    deliveryMonitoring = await deliveryAndMonitoring(moto, counter, SIZE.sweepTrails);
    log(
      `7. delivery check and CIS monitoring: ${deliveryMonitoring.delivery.length} delivery cases, ${deliveryMonitoring.monitoring.length} monitoring runs, sweeps over ${SIZE.sweepTrails} trails in ${seconds(t)}`,
    );

    // 9. The hub's sweep over an organization (accounts x regions) on the emulator.
    t = performance.now();
    organizationSweepResult = await organizationSweep(moto, counter, SIZE.organization);
    errors.push(...organizationSweepResult.problems);
    log(
      `9. organization sweep: ${organizationSweepResult.accounts} accounts x ${organizationSweepResult.regions.length} regions, ${organizationSweepResult.sweeps.length} sweeps in ${seconds(t)}`,
    );
  } finally {
    await moto.stop();
  }

  // 3. Bundles and cold init (after moto is stopped: less background load).
  const t = performance.now();
  const esbuild = cdkEsbuildOptions();
  const bundles = await bundleAll(esbuild, SIZE.bundleSteps);
  // One SDK-only probe per distinct set of static SDK imports.
  const distinctExternals = new Map<string, (typeof bundles)[number]>();
  for (const b of bundles) {
    if (b.name !== 'baseline' && b.externalImports.length > 0)
      distinctExternals.set(b.externalImports.join(), b);
  }
  const probeKeys = [...distinctExternals.keys()];
  const sdkProbes = [...distinctExternals.values()].map(externalsProbe);
  const inits = await measureInit([...bundles, ...sdkProbes], SIZE.initRounds);
  const sdkInit = (b: (typeof bundles)[number]) => {
    const i = probeKeys.indexOf(b.externalImports.join());
    return i < 0 ? undefined : inits[bundles.length + i];
  };
  const baselineInit = inits[0]?.medianSinceStartMs ?? Number.NaN;
  const baselineCpu = inits[0]?.medianCpuMs ?? Number.NaN;
  const bundleRows: BundleRow[] = bundles.map((b, i) => {
    const init = inits[i];
    return {
      name: b.name,
      bytes: b.bytes,
      largestInputs: b.largestInputs,
      zodLocaleBytes: b.zodLocaleBytes,
      externalImports: b.externalImports,
      lazySdk: b.lazySdk,
      sdkInitMs: sdkInit(b)?.medianSinceStartMs ?? Number.NaN,
      sdkInitCpuMs: sdkInit(b)?.medianCpuMs ?? Number.NaN,
      initMs: init?.medianSinceStartMs ?? Number.NaN,
      importMs: init?.medianImportMs ?? Number.NaN,
      samples: init?.samples ?? [],
      initRatio: (init?.medianSinceStartMs ?? Number.NaN) / baselineInit,
      initCpuMs: init?.medianCpuMs ?? Number.NaN,
      initCpuRatio: (init?.medianCpuMs ?? Number.NaN) / baselineCpu,
    };
  });
  const stepRows = bundleRows.filter((b) => b.name !== 'baseline');
  const sdkOnlyInitMs = median(stepRows.map((b) => b.sdkInitMs).filter(Number.isFinite));
  const sdkOnlyInitCpuMs = median(stepRows.map((b) => b.sdkInitCpuMs).filter(Number.isFinite));
  log(`3. bundles: ${bundles.length} bundled, init x${SIZE.initRounds} rounds in ${seconds(t)}`);

  // 5. Projection.
  const localStepMs: Record<string, number> = {};
  for (const step of new Set(latency.stepTimings.map((s) => s.step))) {
    localStepMs[step] = median(latency.stepTimings.filter((s) => s.step === step).map((s) => s.ms));
  }
  const initByStep: Partial<Record<StepName, number>> = {};
  for (const b of bundleRows)
    if (b.name !== 'baseline' && b.name !== 'Sweep') initByStep[b.name] = b.initCpuMs;
  const fallbackInit = median(Object.values(initByStep));
  for (const step of Object.values(taskSteps)) initByStep[step] ??= fallbackInit;
  const costs = outcomeInputs.map((o) => projectCost(o, localStepMs, initByStep));

  // 8. An organization: cost (pure computation from the template and sections 5 and 7).
  const organization = await organizationSection(
    costs,
    deliveryMonitoring,
    bundleRows.find((b) => b.name === 'Sweep')?.initCpuMs ?? fallbackInit,
  );
  log(
    `8. organization cost: ${organization.rows.map((row) => `${row.accounts} accounts ${row.ratio.toFixed(0)}x`).join(', ')}`,
  );

  for (const c of calls)
    if (c.writeMismatch.length > 0) log(`model mismatch in ${c.id}: ${c.writeMismatch.join('; ')}`);
  for (const [i, batch] of batches.entries()) {
    for (const [name, problems] of Object.entries(batch.notCompliant)) {
      errors.push(
        `batch ${i + 1}: trail ${name} not compliant after the throughput run: ${problems.join('; ')}`,
      );
    }
    if ((batch.outcomes.remediated ?? 0) !== batch.count) {
      errors.push(`batch ${i + 1} outcomes: ${JSON.stringify(batch.outcomes)} (expected all remediated)`);
    }
  }
  // Counts are the same in every batch; times are the median over the batches (all are listed).
  const throughput = batches[0] as (typeof batches)[number];
  calls = calls.sort(
    (a, b) => CALL_SCENARIOS.findIndex((s) => s.id === a.id) - CALL_SCENARIOS.findIndex((s) => s.id === b.id),
  );

  const results: Results = {
    mode,
    machine: {
      ...machine,
      loadEnd: currentLoad(),
      calibrationMs: [calibrationStart, calibrate()],
      diffHashEnd: codeVersion().diffHash,
      commitEnd: codeVersion().commit,
    },
    durationS: (performance.now() - started) / 1000,
    calls,
    outcomes,
    esbuild,
    initRounds: SIZE.initRounds,
    bundles: bundleRows,
    sdkOnlyInitMs,
    sdkOnlyInitCpuMs,
    latency: {
      runs: latency.runs,
      p50: latency.p50,
      p95: latency.p95,
      max: latency.max,
      min: Math.min(...latency.samplesMs),
      callsPerRun: [...new Set(latency.callsPerRun)],
      nodeCpuMs: latency.nodeCpuMs,
      motoCpuMs: latency.motoCpuMs,
    },
    localStepMs,
    throughput: {
      count: throughput.count,
      limit: throughput.limit,
      wallMs: median(batches.map((b) => b.wallMs)),
      eventsPerSecond: median(batches.map((b) => b.eventsPerSecond)),
      outcomes: throughput.outcomes,
      verifiedCompliant: throughput.verifiedCompliant,
      notCompliant: throughput.notCompliant,
      emulatorCalls: throughput.emulatorCalls,
      emulatorAttempts: throughput.emulatorAttempts,
      callsPerEvent: throughput.emulatorCalls / throughput.count,
      socketWarnings: throughput.socketWarnings,
      seedMs: throughput.seedMs,
      verifyMs: throughput.verifyMs,
      nodeCpuMsPerEvent: median(batches.map((b) => b.nodeCpuMsPerEvent)),
      motoCpuMsPerEvent: median(batches.map((b) => b.motoCpuMsPerEvent)),
      batches: batches.map((b) => ({
        wallMs: b.wallMs,
        eventsPerSecond: b.eventsPerSecond,
        emulatorCalls: b.emulatorCalls,
        verifiedCompliant: b.verifiedCompliant,
        nodeCpuMsPerEvent: b.nodeCpuMsPerEvent,
        motoCpuMsPerEvent: b.motoCpuMsPerEvent,
      })),
    },
    sharedRole,
    cli,
    deliveryMonitoring,
    costs,
    organization,
    organizationSweep: organizationSweepResult,
    targets: [],
    errors,
  };
  results.targets = targetsOf(results);

  mkdirSync(SCRATCH, { recursive: true });
  const lastFile = join(SCRATCH, `last-${mode}.json`);
  const previous = existsSync(lastFile) ? (JSON.parse(readFileSync(lastFile, 'utf8')) as Results) : undefined;
  const comparison = previous ? compareWithPrevious(results, previous) : undefined;
  writeFileSync(lastFile, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(renderConsole(results, comparison));
  if (!smoke) {
    const doc = join(REPO_ROOT, 'docs', 'benchmarks.md');
    writeFileSync(doc, renderMarkdown(results, comparison));
    log(`wrote ${doc}`);
  }
  log(`done in ${results.durationS.toFixed(0)} s`);
  if (errors.length > 0) {
    for (const e of errors) log(`ERROR ${e}`);
    return 1;
  }
  return strict && results.targets.some((t) => !t.pass) ? 1 : 0;
}

/** The configuration section 8 synthesizes the hub and the spoke with (an organization; the id is a placeholder). */
const ORGANIZATION_CONFIG: ConfigInput = { accounts: 'organization', organizationId: 'o-bench00000' };

/**
 * The standing resources of the hub and of the spoke, counted in their synthesized templates (cached on disk like
 * the local runner's template, services/local/synth-cache.ts). An error is returned, not thrown: the model then
 * says which counts it assumed and why.
 */
async function hubAndSpokeCounts(): Promise<{ hub: StackCounts; spoke: StackCounts } | { error: string }> {
  const isCounts = (v: unknown): v is StackCounts =>
    typeof v === 'object' &&
    v !== null &&
    ['kmsKeys', 'alarms', 'dashboards', 'queues'].every(
      (k) => typeof (v as Record<string, unknown>)[k] === 'number',
    );
  try {
    const { value } = await cachedSynthesis({
      key: {
        purpose: 'bench section 8: standing resources of the hub and the spoke',
        config: parseConfig(ORGANIZATION_CONFIG),
      },
      produce: async () => {
        const { buildApp } = await import('../infra/app.js');
        const outdir = mkdtempSync(join(tmpdir(), 'trailguard-bench-organization-'));
        try {
          const { app, stack, spoke } = buildApp({
            config: ORGANIZATION_CONFIG,
            bundling: false,
            nag: false,
            outdir,
          });
          if (!spoke) throw new Error('the app has no spoke stack with config.accounts set');
          const assembly = app.synth();
          const resources = (name: string) =>
            assembly.getStackByName(name).template.Resources as Record<string, { Type: string }>;
          return {
            hub: countStandingResources(resources(stack.stackName)),
            spoke: countStandingResources(resources(spoke.stackName)),
          };
        } finally {
          rmSync(outdir, { recursive: true, force: true });
        }
      },
      validate: (v) => {
        const o = v as { hub?: unknown; spoke?: unknown } | null;
        if (!isCounts(o?.hub) || !isCounts(o?.spoke)) throw new Error('not the hub and spoke counts');
        return { hub: o.hub, spoke: o.spoke };
      },
    });
    return value;
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Section 8's inputs: the full stack's standing resources counted in the synthesized template (the same one the
 * runs above used), the hub's and the spoke's in theirs, section 5's compliant and remediated runs, section 7's
 * default sweep with the state table, and the organization sweep's shape (infra/constructs/organization-sweep.ts).
 */
async function organizationSection(
  costs: ReturnType<typeof projectCost>[],
  dm: DeliveryMonitoringResult,
  sweepInitCpuMs: number,
): Promise<OrganizationCostResult> {
  const { template, config } = await synthesizeApp({});
  const fullStack = countStandingResources(template.Resources);
  const counted = await hubAndSpokeCounts();
  const run = (outcome: string) => {
    const c = costs.find((x) => x.outcome === outcome);
    if (!c) throw new Error(`section 8 needs section 5's ${outcome} run`);
    return { total: c.total, invocations: c.invocations, coldExtra: c.coldExtra };
  };
  const sweepCase = dm.sweep.find((s) => s.config === 'default');
  if (!sweepCase) throw new Error("section 8 needs section 7's default sweep");
  const wru = Math.max(1, Math.ceil(median(sweepCase.snapshotItemBytes) / 1024));
  const latency = (op: string) => (LOGS_OPERATIONS.has(op) ? (API_LATENCY_MS.logs ?? 40) : apiLatency(op));
  const assumed =
    'error' in counted
      ? `ASSUMPTION (the hub and spoke templates could not be synthesized: ${counted.error})`
      : '';
  return organizationCosts(
    { ...DEFAULT_SCENARIO, sweepIntervalMinutes: config.sweepIntervalMinutes },
    {
      prices: PRICES,
      lambdaMemoryGb: LAMBDA_MEMORY_GB,
      fullStack,
      hub: 'error' in counted ? fullStack : counted.hub,
      spoke: 'error' in counted ? SPOKE_COUNTS : counted.spoke,
      compliant: run('compliant'),
      remediated: run('remediated'),
      sweep: sweepWorkFrom(sweepCase.withState, sweepCase.trails, wru, latency, sweepInitCpuMs * CPU_SCALE),
      assumeRoleMs: API_LATENCY_MS.sts ?? 30,
      // infra/constructs/organization-sweep.ts: a Distributed Map of Express children over the accounts (one
      // transition per child started; 64 MB billed), each sweeping its regions REGION_SWEEP_CONCURRENCY at a time,
      // and ListTargets > AnyTargets > SweepAccounts > Summarize > AnyTargetFailed > SweepComplete.
      hubTransitionsPerAccount: 1,
      hubRegionConcurrency: REGION_SWEEP_CONCURRENCY,
      hubChildMemoryGb: 64 / 1024,
      hubChildOverheadMs: LATENCY_ASSUMPTIONS.warmInvokeMs,
      hubTransitionsPerSweep: 6,
      hubTargetsCallMs: API_LATENCY_MS.iam ?? 100,
    },
    {
      sweep: `section 7's default sweep (${sweepCase.trails} compliant trails, with the state table)`,
      fullStack: 'counted in the synthesized single-account template (default configuration)',
      hub:
        assumed ||
        `counted in the synthesized hub template (accounts "organization"; default configuration otherwise)`,
      spoke: assumed
        ? `${assumed}: rules to the hub bus and their dead-letter queues only`
        : 'counted in the synthesized spoke template (TrailguardSpoke: what the StackSet deploys)',
    },
  );
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `[bench ${mode}] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
