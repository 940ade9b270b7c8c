/**
 * `npm run bench`: measures, then writes docs/benchmarks.md (a summary a person reads) and docs/benchmarks.json
 * (every figure, for a developer). `--smoke` is a much smaller run that only prints (CI, under two minutes);
 * `--strict` exits 1 when a target is missed. Without it the exit code is 1 only when the run itself is invalid.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, STEP_MEMORY_MB, stringifyEnvironment } from '../infra/constructs/functions.js';
import { REGION_SWEEP_CONCURRENCY } from '../infra/constructs/organization-sweep.js';
import { localIdempotencyTableName, parseConfig } from '../policies/config.js';
import { localStateTableName } from '../services/aws/state-store.js';
import { envFor } from '../services/handlers/env.js';
import { STEP_ENTRIES, type StepName } from '../services/handlers/registry.js';
import { localWorkflow, synthesizeApp } from '../services/local/workflow-runner.js';
import { compareCalls } from './analysis.js';
import { auditItemSizes, runScenario, type ScenarioRun } from './aws-calls.js';
import { CallCounter } from './call-counter.js';
import { cliProcesses } from './cli.js';
import { coldStarts, SCRATCH } from './cold-start.js';
import { ACCOUNT, REGION, startEmulator } from './emulator.js';
import { MINIMUM } from './minimum.js';
import {
  countStandingResources,
  DEFAULT_SCENARIO,
  organizationCosts,
  SPOKE_COUNTS,
  sweepWorkFrom,
} from './organization-cost.js';
import { ORGANIZATION_SIZE, organizationSweep } from './organization-sweep.js';
import { API_LATENCY_MS, apiLatency, costOfRun, PRICES, type RunInput, timeToFix } from './projection.js';
import { type Results, renderMarkdown, targetsOf } from './report.js';
import { CALL_SCENARIOS, OUTCOME_SCENARIOS } from './scenarios.js';

const args = new Set(process.argv.slice(2));
const smoke = args.has('--smoke');
const SIZE = smoke
  ? {
      scenarios: ['compliant', 'LOGGING_STOPPED', 'everything-broken'],
      rounds: 2,
      baselineRounds: 2,
      cliRuns: 2,
      org: { accounts: 3, regions: ORGANIZATION_SIZE.regions.slice(0, 2) },
    }
  : // 41 cold rounds: one process's CPU varies about ±15% (docs/architecture.md "Cold starts"); "before" 13.
    { scenarios: undefined, rounds: 41, baselineRounds: 13, cliRuns: 5, org: ORGANIZATION_SIZE };
/** main before issue 19 (cold starts): measured again in every run, the same way, for "before". */
export const BASELINE = { commit: 'f84efa9', memoryMb: 256, externals: ['@aws-sdk/*'] };
/** The sweep function's memory (functions.ts default) for the organization model. */
const SWEEP_MEMORY_GB = 256 / 1024;
const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

async function main(): Promise<number> {
  const started = performance.now();
  const errors: string[] = [];
  const moto = await startEmulator();
  const counter = new CallCounter();
  const taskSteps = (await localWorkflow({})).tasks;
  const runInput = async (run: ScenarioRun, auditTable?: string): Promise<RunInput> => ({
    outcome: run.outcome,
    states: run.states,
    tasks: run.states.filter((s) => s in taskSteps).map((s) => taskSteps[s] as StepName),
    transitions: run.transitions,
    byStep: run.byStep,
    commands: run.commands,
    auditItemBytes: auditTable ? ((await auditItemSizes(auditTable))[0] ?? 0) : 0,
  });
  try {
    // 1. AWS calls per scenario.
    const calls = [];
    const kept: Partial<Record<string, RunInput>> = {};
    for (const [n, scenario] of CALL_SCENARIOS.entries()) {
      if (SIZE.scenarios && !SIZE.scenarios.includes(scenario.id)) continue;
      const run = await runScenario(moto, scenario, counter, n);
      const c = compareCalls(run.commands, run.byStep, MINIMUM[scenario.id]);
      calls.push({ id: scenario.id, findings: run.findings, byStep: run.byStep, ...c });
      if (c.writeMismatch.length)
        errors.push(`${scenario.id}: writes differ from the model: ${c.writeMismatch}`);
      if (scenario.id === 'everything-broken' || scenario.id === 'LOGGING_STOPPED')
        kept[scenario.id] = await runInput(run);
    }
    log(`1. calls: ${calls.length} scenarios`);

    // 2. Transitions per outcome (and the runs the cost model prices).
    const config = parseConfig({});
    const outcomes: RunInput[] = [];
    for (const [n, scenario] of OUTCOME_SCENARIOS.entries()) {
      const run = await runScenario(moto, scenario, counter, 100 + n);
      outcomes.push(await runInput(run, config.auditTableName));
    }
    log(`2. transitions: ${outcomes.length} outcomes`);

    // 3. Bundles and cold starts, now and at the baseline commit, against the emulator: each step replays the
    // input it got in a fresh fully broken run (the trail and what the run wrote still exist).
    const broken = CALL_SCENARIOS.find((sc) => sc.id === 'everything-broken');
    if (!broken) throw new Error('no everything-broken scenario');
    await runScenario(moto, broken, counter, 999);
    const captured = { payloads: [...counter.payloads], operations: { ...counter.operationsByStep } };
    const env = {
      ...process.env,
      ...stringifyEnvironment(
        envFor(config, {
          topicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:${config.notificationTopicName}`,
          auditTableName: config.auditTableName,
          idempotencyTableName: localIdempotencyTableName(config),
          stateTableName: localStateTableName(config),
          accountId: ACCOUNT,
        }),
      ),
    };
    const probe = {
      payloads: captured.payloads,
      operations: captured.operations,
      entries: STEP_ENTRIES,
      env,
      rounds: SIZE.rounds,
    };
    const now = await coldStarts(probe);
    const baselineRoot = join(SCRATCH, `baseline-${BASELINE.commit}`);
    rmSync(baselineRoot, { recursive: true, force: true });
    mkdirSync(baselineRoot, { recursive: true });
    execFileSync(
      'sh',
      ['-c', `git archive ${BASELINE.commit} services policies infra | tar -x -C '${baselineRoot}'`],
      { cwd: REPO_ROOT },
    );
    const before = await coldStarts({
      ...probe,
      root: baselineRoot,
      externals: BASELINE.externals,
      label: 'baseline',
      rounds: SIZE.baselineRounds,
    });
    log(`3. cold starts: ${now.length} steps x ${SIZE.rounds} rounds, now and at ${BASELINE.commit}`);

    // 4. Time to a verified fix on a cold stack.
    const cold = (rows: typeof now) => Object.fromEntries(rows.map((r) => [r.step, r.cold.coldCpuMs]));
    const fix = (['everything-broken', 'LOGGING_STOPPED'] as const).map((id) => {
      const run = kept[id];
      if (!run) throw new Error(`scenario ${id} did not run`);
      return {
        id,
        now: timeToFix(run, cold(now), STEP_MEMORY_MB),
        before: timeToFix(run, cold(before), BASELINE.memoryMb),
      };
    });

    // 5. The CLI as whole processes; 6. the hub's sweep over an organization.
    const cli = await cliProcesses(moto, SIZE.cliRuns);
    log(`5. CLI: ${SIZE.cliRuns} rounds`);
    const sweep = await organizationSweep(moto, counter, SIZE.org);
    errors.push(...sweep.problems);
    log(`6. organization sweep: ${sweep.accounts} accounts x ${sweep.regions.length} regions`);

    // 7. Cost per event (each outcome) and per organization per month.
    const costs = outcomes.map((o) => costOfRun(o, cold(now), STEP_MEMORY_MB));
    const organization = await organizationSection(costs, sweep);

    const results: Results = {
      generated: new Date().toISOString(),
      machine: `${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}`,
      commit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT }).toString().trim(),
      durationS: 0,
      benchLines: benchLines(),
      calls,
      outcomes: outcomes.map(({ outcome, transitions, tasks }) => ({
        outcome,
        transitions,
        invocations: tasks.length,
      })),
      cold: { now, before, memoryMb: STEP_MEMORY_MB, baseline: BASELINE },
      fix,
      cli,
      sweep,
      costs,
      organization,
      errors,
    };
    results.durationS = (performance.now() - started) / 1000;
    const targets = targetsOf(results);
    if (smoke)
      process.stdout.write(
        `${targets.map((t) => `${t.pass ? 'MET ' : 'MISS'} ${t.target}: ${t.figure}`).join('\n')}\n`,
      );
    else {
      writeFileSync(
        join(REPO_ROOT, 'docs', 'benchmarks.json'),
        `${JSON.stringify({ ...results, targets }, null, 1)}\n`,
      );
      writeFileSync(join(REPO_ROOT, 'docs', 'benchmarks.md'), renderMarkdown(results, targets));
      execFileSync('npx', ['biome', 'format', '--write', 'docs/benchmarks.json', 'docs/benchmarks.md'], {
        cwd: REPO_ROOT,
      });
      log('wrote docs/benchmarks.md and docs/benchmarks.json (formatted by Biome)');
    }
    for (const e of errors) log(`ERROR ${e}`);
    return errors.length > 0 || (args.has('--strict') && targets.some((t) => !t.pass)) ? 1 : 0;
  } finally {
    await moto.stop();
  }
}

/** Calls of the hub's own listing and account access, not of sweeping an account-region. */
const HUB_ONLY = new Set(
  'AssumeRole ListAccounts DescribeRegions DescribeOrganization ListRegions'.split(' '),
);

/** Lines of bench/*.ts (the target: at most 2,500). */
function benchLines(): number {
  return Number(execFileSync('sh', ['-c', 'cat bench/*.ts | wc -l'], { cwd: REPO_ROOT }).toString().trim());
}

/**
 * The organization model's inputs: the standing resources counted in the synthesized full, hub and spoke
 * templates, the priced compliant and remediated runs, and the sweep's work per account-region and per trail from
 * the organization sweep's compliant pass at the assumed latencies.
 */
async function organizationSection(
  costs: ReturnType<typeof costOfRun>[],
  sweep: Awaited<ReturnType<typeof organizationSweep>>,
) {
  const { template, config } = await synthesizeApp({});
  const { buildApp } = await import('../infra/app.js');
  const outdir = mkdtempSync(join(tmpdir(), 'trailguard-bench-'));
  let hub = countStandingResources(template.Resources);
  let spoke = SPOKE_COUNTS;
  try {
    const built = buildApp({
      config: { accounts: 'organization', organizationId: 'o-bench00000', hubRegion: REGION },
      bundling: false,
      nag: false,
      outdir,
    });
    const assembly = built.app.synth();
    const count = (name: string) => countStandingResources(assembly.getStackByName(name).template.Resources);
    hub = count(built.stack.stackName);
    if (built.spoke) spoke = count(built.spoke.stackName);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
  const run = (outcome: string) => {
    const c = costs.find((x) => x.outcome === outcome);
    if (!c) throw new Error(`the cost model needs a ${outcome} run`);
    return c;
  };
  const pass = sweep.sweeps.find((s) => s.id === 'compliant');
  if (!pass) throw new Error('the organization sweep has no compliant pass');
  const calls = Object.fromEntries(Object.entries(pass.calls).filter(([op]) => !HUB_ONLY.has(op)));
  const work = sweepWorkFrom(calls, pass.trails, 1, apiLatency, 0);
  return organizationCosts(
    { ...DEFAULT_SCENARIO, sweepIntervalMinutes: config.sweepIntervalMinutes },
    {
      prices: PRICES,
      lambdaMemoryGb: SWEEP_MEMORY_GB,
      fullStack: countStandingResources(template.Resources),
      hub,
      spoke,
      compliant: run('compliant'),
      remediated: run('remediated'),
      sweep: { ...work, listingMs: work.listingMs / pass.accountRegions },
      assumeRoleMs: API_LATENCY_MS.sts ?? 30,
      hubTransitionsPerAccount: 1,
      hubRegionConcurrency: REGION_SWEEP_CONCURRENCY,
      hubChildMemoryGb: 64 / 1024,
      hubChildOverheadMs: 20,
      hubTransitionsPerSweep: 6,
      hubTargetsCallMs: API_LATENCY_MS.iam ?? 100,
    },
    {
      sweep: `the organization sweep's compliant pass (${pass.trails} trails, ${pass.accountRegions} account-regions), one snapshot write unit per trail`,
      fullStack: 'counted in the synthesized single-account template',
      hub: 'counted in the synthesized hub template (accounts "organization")',
      spoke: 'counted in the synthesized spoke template',
    },
  );
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  },
);
