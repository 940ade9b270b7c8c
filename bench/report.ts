/** Renders a run's results: the console summary and docs/benchmarks.md. */

import {
  ORGANIZATION_SWEEP_CONCURRENCY,
  REGION_SWEEP_CONCURRENCY,
} from '../infra/constructs/organization-sweep.js';
import { parseConfig } from '../policies/config.js';
import { CALL_TARGET_RATIO, describeExtra, type Excess, sourceOf } from './analysis.js';
import type { Counts } from './call-counter.js';
import { CLI_RSS_BUDGET_MIB, CLI_WALL_BUDGET_MS, type CliResult, withinBudget } from './cli.js';
import type { DeliveryCase, DeliveryMonitoringResult, SweepCase } from './delivery-monitoring.js';
import { IAM_ROLE_INLINE_POLICY_QUOTA, LATENCY_SCENARIO } from './latency.js';
import { MINIMUM, WRITE_OPERATIONS } from './minimum.js';
import {
  fixedPerMonth,
  ORG_PRICE_SOURCES,
  ORG_PRICES,
  type OrganizationCostResult,
  type StackCounts,
} from './organization-cost.js';
import type { OrganizationSweepResult, OrganizationSweepRun } from './organization-sweep.js';
import {
  API_LATENCY_MS,
  CPU_SCALE,
  IAM_PROPAGATION_WAITS_S,
  LAMBDA_MEMORY_GB,
  LATENCY_ASSUMPTIONS,
  PRICES,
} from './projection.js';
import type { Results, TargetRow } from './results.js';
import { CALL_SCENARIOS, DELIVERY_ROLE, type ScenarioId } from './scenarios.js';
import { countsTotal, median, minusCounts } from './stats.js';

const KB = 1024;
export const BUNDLE_TARGET_BYTES = 250 * KB;
export const INIT_TARGET_RATIO = 2;
export const P95_TARGET_MS = 500;
export const TRANSITIONS_TARGET = 12;

const fixed = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
const kib = (bytes: number) => `${fixed(bytes / KB, 1)} KB`;
const dollars = (v: number) => (v === 0 ? '$0' : v >= 0.01 ? `$${v.toFixed(2)}` : `$${v.toPrecision(3)}`);
const verdict = (pass: boolean) => (pass ? 'PASS' : 'MISS');

/** A Markdown table with padded columns (readable as plain text too). */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(3, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 3)).join(' | ')} |`;
  return [
    line(headers),
    `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`,
    ...cells.slice(1).map(line),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// Targets

export function targetsOf(r: Results): TargetRow[] {
  const misses = r.calls.filter((c) => !c.pass);
  const worst = [...r.calls].sort((a, b) => b.ratio - a.ratio)[0];
  const broken = r.outcomes.find((o) => o.outcome === 'remediated');
  const brokenCalls = r.calls.find((c) => c.id === 'everything-broken');
  const transitions = brokenCalls?.transitions ?? broken?.transitions ?? Number.NaN;
  const steps = r.bundles.filter((b) => b.name !== 'baseline');
  const biggest = [...steps].sort((a, b) => b.bytes - a.bytes)[0];
  const slowest = [...steps].sort((a, b) => b.initRatio - a.initRatio)[0];
  const baseline = r.bundles.find((b) => b.name === 'baseline');
  const mismatch = r.calls.filter((c) => c.writeMismatch.length > 0);
  const zod = biggest?.largestInputs.find((i) => i.path === 'zod');
  return [
    {
      name: `AWS calls <= ${CALL_TARGET_RATIO}x the minimum, every scenario`,
      target: `<= ${CALL_TARGET_RATIO}x`,
      measured: `${r.calls.length - misses.length}/${r.calls.length} scenarios within; worst ${fixed(worst?.ratio ?? Number.NaN, 2)}x (${worst?.id})`,
      pass: misses.length === 0,
      ...(misses.length > 0
        ? {
            why: `${misses.map((c) => `${c.id} ${fixed(c.ratio, 2)}x`).join(', ')}. ${
              mismatch.length > 0
                ? `The writes differ from the minimum model in ${mismatch.map((c) => c.id).join(', ')} (update bench/minimum.ts if the remediation policy changed). `
                : ''
            }${extraKindsSentence(r)} See "Where the extra calls are made".`,
          }
        : {}),
    },
    {
      name: `<= ${TRANSITIONS_TARGET} state transitions, fully broken case`,
      target: `<= ${TRANSITIONS_TARGET}`,
      measured: `${transitions} (everything-broken)`,
      pass: transitions <= TRANSITIONS_TARGET,
    },
    {
      name: 'every bundle <= 250 KB (minified, as CDK bundles it)',
      target: '<= 250 KB',
      measured: `largest ${kib(biggest?.bytes ?? Number.NaN)} (${biggest?.name})`,
      pass: steps.every((b) => b.bytes <= BUNDLE_TARGET_BYTES),
      ...(steps.some((b) => b.bytes > BUNDLE_TARGET_BYTES)
        ? {
            why: `the largest parts of ${biggest?.name}: ${biggest?.largestInputs.map((i) => `${i.path} ${kib(i.bytes)}`).join(', ')}${
              (zod?.bytes ?? 0) > BUNDLE_TARGET_BYTES / 2
                ? `; zod alone is ${kib(zod?.bytes ?? 0)} (${kib(biggest?.zodLocaleBytes ?? 0)} of it locales): \`{ z } from 'zod'\` (zod 4 classic) keeps its whole namespace, which esbuild cannot tree-shake`
                : ''
            }.`,
          }
        : {}),
    },
    {
      name: `cold init <= ${INIT_TARGET_RATIO}x the empty-handler baseline`,
      target: `<= ${INIT_TARGET_RATIO}x (${fixed((baseline?.initMs ?? Number.NaN) * INIT_TARGET_RATIO)} ms)`,
      measured: `worst ${fixed(slowest?.initRatio ?? Number.NaN, 1)}x (${slowest?.name}: ${fixed(slowest?.initMs ?? Number.NaN)} ms vs ${fixed(baseline?.initMs ?? Number.NaN)} ms)`,
      pass: steps.every((b) => b.initRatio <= INIT_TARGET_RATIO),
      ...(steps.some((b) => b.initRatio > INIT_TARGET_RATIO)
        ? {
            why: initWhy(r),
          }
        : {}),
    },
    {
      name: `local p95 < ${P95_TARGET_MS} ms per event`,
      target: `< ${P95_TARGET_MS} ms`,
      measured: `p95 ${fixed(r.latency.p95)} ms (p50 ${fixed(r.latency.p50)} ms, ${r.latency.runs} runs)`,
      pass: r.latency.p95 < P95_TARGET_MS,
    },
    ...(r.cli ? [cliTarget(r.cli)] : []),
    ...(r.organizationSweep ? [assumeRoleTarget(r.organizationSweep)] : []),
  ];
}

/** Section 9: every sweep made at most one AssumeRole per member account. */
function assumeRoleTarget(o: OrganizationSweepResult): TargetRow {
  const most = Math.max(0, ...o.sweeps.flatMap((s) => Object.values(s.assumeRoles)));
  const over = o.sweeps.flatMap((s) =>
    Object.entries(s.assumeRoles)
      .filter(([, n]) => n > 1)
      .map(([account, n]) => `${s.id}: ${account} ${n}`),
  );
  return {
    name: `at most one AssumeRole per account per sweep (${o.accounts} accounts x ${o.regions.length} regions)`,
    target: '<= 1 per account',
    measured: `at most ${most} per account in each of ${o.sweeps.length} sweeps (${o.memberAccounts} member accounts)`,
    pass: over.length === 0,
    ...(over.length ? { why: `more than one: ${over.join(', ')}` } : {}),
  };
}

/** `replay` and `remediate` on a compliant trail, whole process, caches warm: within the CLI budget. */
function cliTarget(cli: CliResult): TargetRow {
  const measured = cli.commands.filter((c) => c.command !== 'check');
  return {
    name: `CLI replay and remediate <= ${CLI_WALL_BUDGET_MS / 1000} s wall and <= ${CLI_RSS_BUDGET_MIB} MiB peak (compliant trail, whole process, cache warm)`,
    target: `<= ${CLI_WALL_BUDGET_MS} ms, <= ${CLI_RSS_BUDGET_MIB} MiB`,
    measured: measured
      .map((c) => `${c.command} ${fixed(c.wallMs)} ms ${fixed(c.rssMiB)} MiB (median of ${cli.runs})`)
      .join('; '),
    pass: measured.every(withinBudget),
  };
}

function cliTable(cli: CliResult): string {
  const row = (name: string, s: { wallMs: number; rssMiB: number; cpuMs: number }, budget: boolean) => [
    name,
    `${fixed(s.wallMs)} ms`,
    `${fixed(s.rssMiB)} MiB`,
    `${fixed(s.cpuMs)} ms`,
    budget ? verdict(withinBudget(s)) : '-',
  ];
  return table(
    ['process', `wall (median of ${cli.runs})`, 'peak RSS', 'CPU (user + system)', 'budget'],
    [
      ...cli.commands.map((c) => row(`trailguard ${c.args.join(' ')}`, c, c.command !== 'check')),
      row('trailguard replay, template cache empty (1 run)', cli.coldReplay, false),
    ],
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Run-to-run comparison

export interface Comparison {
  previousDate: string;
  lines: string[];
}

const pct = (now: number, before: number) =>
  `${now >= before ? '+' : ''}${fixed(((now - before) / before) * 100, 1)}%`;

export function compareWithPrevious(now: Results, before: Results): Comparison {
  const lines: string[] = [];
  const code = (m: Results['machine']) =>
    `${m.commit ?? 'unknown'}${m.uncommitted?.length ? ` + uncommitted changes ${m.diffHash ?? '?'}` : ''}`;
  lines.push(
    `code: ${code(before.machine)} then ${code(now.machine)} (${
      code(before.machine) === code(now.machine)
        ? 'the same code'
        : 'different code: counts may differ because the product changed'
    }${codeChanged(now.machine) || codeChanged(before.machine) ? '; the code changed during one of the runs' : ''})`,
  );
  const callDiffs = now.calls
    .map((c) => ({ c, p: before.calls.find((x) => x.id === c.id) }))
    .filter(({ c, p }) => p && p.total !== c.total)
    .map(({ c, p }) => `${c.id} ${p?.total} -> ${c.total}`);
  lines.push(`AWS calls per scenario: ${callDiffs.length === 0 ? 'identical' : callDiffs.join(', ')}`);
  const tDiffs = now.outcomes
    .map((o) => ({ o, p: before.outcomes.find((x) => x.outcome === o.outcome) }))
    .filter(({ o, p }) => p && p.transitions !== o.transitions)
    .map(({ o, p }) => `${o.outcome} ${p?.transitions} -> ${o.transitions}`);
  lines.push(`state transitions per outcome: ${tDiffs.length === 0 ? 'identical' : tDiffs.join(', ')}`);
  const bDiffs = now.bundles
    .map((b) => ({ b, p: before.bundles.find((x) => x.name === b.name) }))
    .filter(({ b, p }) => p && p.bytes !== b.bytes)
    .map(({ b, p }) => `${b.name} ${p?.bytes} -> ${b.bytes} bytes`);
  lines.push(`bundle sizes: ${bDiffs.length === 0 ? 'identical' : bDiffs.join(', ')}`);
  const inits = now.bundles
    .map((b) => ({ b, p: before.bundles.find((x) => x.name === b.name) }))
    .filter(({ p }) => p)
    .map(({ b, p }) => `${b.name} ${pct(b.initMs, p?.initMs ?? b.initMs)}`);
  lines.push(`cold init medians (wall): ${inits.join(', ')}`);
  const cpus = now.bundles
    .map((b) => ({ b, p: before.bundles.find((x) => x.name === b.name) }))
    .filter(({ p }) => p?.initCpuMs !== undefined)
    .map(({ b, p }) => `${b.name} ${pct(b.initCpuMs, p?.initCpuMs ?? b.initCpuMs)}`);
  if (cpus.length > 0) lines.push(`cold init medians (CPU): ${cpus.join(', ')}`);
  const ratios = now.bundles
    .filter((b) => b.name !== 'baseline')
    .map((b) => ({ b, p: before.bundles.find((x) => x.name === b.name) }))
    .filter(({ p }) => p)
    .map(({ b, p }) => `${b.name} ${fixed(p?.initRatio ?? Number.NaN, 1)}x -> ${fixed(b.initRatio, 1)}x`);
  lines.push(`cold init x baseline (wall): ${ratios.join(', ')}`);
  lines.push(
    `local latency: p50 ${fixed(before.latency.p50)} -> ${fixed(now.latency.p50)} ms (${pct(now.latency.p50, before.latency.p50)}), p95 ${fixed(before.latency.p95)} -> ${fixed(now.latency.p95)} ms (${pct(now.latency.p95, before.latency.p95)})`,
  );
  if (before.latency.nodeCpuMs !== undefined) {
    lines.push(
      `CPU per sequential replay (runner + moto): ${fixed(before.latency.nodeCpuMs)} + ${fixed(before.latency.motoCpuMs)} -> ${fixed(now.latency.nodeCpuMs)} + ${fixed(now.latency.motoCpuMs)} ms (${pct(now.latency.nodeCpuMs + now.latency.motoCpuMs, before.latency.nodeCpuMs + before.latency.motoCpuMs)})`,
    );
  }
  lines.push(
    `throughput: ${fixed(before.throughput.eventsPerSecond, 1)} -> ${fixed(now.throughput.eventsPerSecond, 1)} events/s (${pct(now.throughput.eventsPerSecond, before.throughput.eventsPerSecond)}); emulator calls ${before.throughput.emulatorCalls} -> ${now.throughput.emulatorCalls}`,
  );
  if (now.cli && before.cli) {
    const prev = before.cli;
    lines.push(
      `CLI processes (median wall, peak RSS): ${now.cli.commands
        .map((c) => ({ c, p: prev.commands.find((x) => x.command === c.command) }))
        .filter(({ p }) => p)
        .map(
          ({ c, p }) =>
            `${c.command} ${fixed(p?.wallMs ?? Number.NaN)} -> ${fixed(c.wallMs)} ms, ${fixed(p?.rssMiB ?? Number.NaN)} -> ${fixed(c.rssMiB)} MiB`,
        )
        .join('; ')}`,
    );
  }
  if (now.deliveryMonitoring && before.deliveryMonitoring) {
    const totals = (d: DeliveryMonitoringResult) => [
      ...d.delivery.map((c) => `${c.id} ${c.with.total - c.without.total}`),
      ...d.monitoring.map((m) => `${m.id} ${m.run.total}`),
      ...d.sweep.map((w) => `sweep ${w.config} ${countsTotal(w.added)}/${w.trails}`),
    ];
    const a = totals(before.deliveryMonitoring);
    const b = totals(now.deliveryMonitoring);
    lines.push(
      `section 7 calls: ${a.join() === b.join() ? 'identical' : `${a.join(', ')} -> ${b.join(', ')}`}`,
    );
  }
  if (now.organization && before.organization) {
    const totals = (o: OrganizationCostResult) =>
      o.rows.map(
        (row) => `${row.accounts}: ${money(row.fullStacks.total)} / ${money(row.hubAndSpoke.total)}`,
      );
    const a = totals(before.organization);
    const b = totals(now.organization);
    lines.push(
      `section 8 monthly cost (full stacks / hub and spoke): ${a.join() === b.join() ? 'identical' : `${a.join(', ')} -> ${b.join(', ')}`}`,
    );
  }
  if (now.organizationSweep && before.organizationSweep) {
    const summary = (o: OrganizationSweepResult) =>
      o.sweeps.map((w) => `${w.id} ${w.total} calls ${fixed(w.wallMs / 1000, 1)} s`).join(', ');
    lines.push(
      `section 9 sweeps (${now.organizationSweep.accounts} x ${now.organizationSweep.regions.length}): ${summary(before.organizationSweep)} -> ${summary(now.organizationSweep)}`,
    );
  }
  lines.push(
    `targets: ${now.targets.map((t, i) => `${verdict(before.targets[i]?.pass ?? false)}->${verdict(t.pass)}`).join(', ')}`,
  );
  lines.push(
    `machine: load average (1 min) at start ${fixed(before.machine.loadStart, 2)} then ${fixed(now.machine.loadStart, 2)}; calibration workload (start/end) ${(before.machine.calibrationMs ?? []).map((x) => fixed(x, 1)).join('/') || 'n/a'} ms then ${(now.machine.calibrationMs ?? []).map((x) => fixed(x, 1)).join('/')} ms`,
  );
  return { previousDate: before.machine.date, lines };
}

// ---------------------------------------------------------------------------------------------------------------
// Tables shared by the console and the document

function callsTable(r: Results): string {
  return table(
    [
      'scenario',
      'findings',
      'writes made',
      'calls',
      'minimum',
      'ratio',
      'target',
      'calls beyond the minimum',
    ],
    r.calls.map((c) => [
      c.id,
      c.findings.join(', ') || '-',
      c.actions.join(', ') || '-',
      c.total,
      c.minimum,
      `${fixed(c.ratio, 2)}x`,
      c.writeMismatch.length ? 'MISS (model)' : verdict(c.pass),
      `${describeExtra(c.extra)}${c.fewer.length ? ` (fewer than the model: ${c.fewer.map((f) => `${f.op} x${f.n}`).join(', ')})` : ''}${c.writeMismatch.length ? ` (writes differ: ${c.writeMismatch.join('; ')})` : ''}`,
    ]),
  );
}

function transitionsTable(r: Results): string {
  return table(
    [
      'outcome',
      'case',
      'transitions',
      'states entered',
      'Lambda invocations',
      'AWS calls',
      'Step Functions $/execution',
      '$/1M executions',
    ],
    r.outcomes.map((o) => [
      o.outcome,
      o.title,
      o.transitions,
      o.states.join(' > '),
      o.invocations,
      o.calls,
      dollars(o.cost),
      dollars(o.cost * 1_000_000),
    ]),
  );
}

const shortSdk = (p: string) => p.replace('@aws-sdk/', '');

function bundlesTable(r: Results): string {
  return table(
    [
      'function',
      'bundle',
      'largest parts',
      `init (median of ${r.initRounds})`,
      'x baseline',
      'init CPU',
      'CPU x baseline',
      'SDK imported at load (its init CPU alone)',
      'SDK loaded on first use',
      'size',
      'init',
    ],
    r.bundles.map((b) => [
      b.name,
      kib(b.bytes),
      b.largestInputs.map((i) => `${i.path} ${kib(i.bytes)}`).join(', '),
      `${fixed(b.initMs)} ms`,
      `${fixed(b.initRatio, 1)}x`,
      `${fixed(b.initCpuMs)} ms`,
      `${fixed(b.initCpuRatio, 1)}x`,
      b.externalImports.length
        ? `${b.externalImports.map(shortSdk).join(', ')} (${fixed(b.sdkInitCpuMs)} ms)`
        : '-',
      b.lazySdk.length ? b.lazySdk.map(shortSdk).join(', ') : '-',
      b.name === 'baseline' ? '-' : verdict(b.bytes <= BUNDLE_TARGET_BYTES),
      b.name === 'baseline' ? '-' : verdict(b.initRatio <= INIT_TARGET_RATIO),
    ]),
  );
}

/** Whether someone changed the code while the benchmark ran. */
function codeChanged(m: Results['machine']): boolean {
  return (
    (m.diffHashEnd !== undefined && m.diffHashEnd !== m.diffHash) ||
    (m.commitEnd !== undefined && m.commitEnd !== m.commit)
  );
}

/** Where a function's cold init goes, medians over the functions (CPU: steadier than wall on a busy machine). */
function initBreakdown(r: Results) {
  const steps = r.bundles.filter((b) => b.name !== 'baseline');
  const base = r.bundles.find((b) => b.name === 'baseline');
  const cpu = median(steps.map((b) => b.initCpuMs));
  const wall = median(steps.map((b) => b.initMs));
  const baseCpu = base?.initCpuMs ?? Number.NaN;
  const sdkCpu = median(steps.map((b) => (Number.isFinite(b.sdkInitCpuMs) ? b.sdkInitCpuMs : baseCpu)));
  return {
    cpu,
    wall,
    baseCpu,
    baseWall: base?.initMs ?? Number.NaN,
    sdkExtra: sdkCpu - baseCpu,
    bundleExtra: cpu - sdkCpu,
    bytes: median(steps.map((b) => b.bytes)),
    lazy: steps.some((b) => b.lazySdk.length > 0),
  };
}

function initWhy(r: Results): string {
  const b = initBreakdown(r);
  const parts = r.bundles.find((x) => x.name !== 'baseline')?.largestInputs.map((i) => i.path) ?? [];
  return `median function: ${fixed(b.wall)} ms (CPU ${fixed(b.cpu)} ms) against ${fixed(b.baseWall)} ms (CPU ${fixed(b.baseCpu)} ms) for the empty handler, which is Node's own start. Of the CPU above the baseline, ~${fixed(b.sdkExtra)} ms is loading the AWS SDK packages the function imports at module load (measured with a module importing only them) and ~${fixed(b.bundleExtra)} ms is evaluating the ${kib(b.bytes)} bundle itself (${parts.join(', ')}: schemas built at import, Powertools, middy).${
    b.lazy
      ? ' SDK packages that services/aws/clients.ts loads on first use are not in these numbers: the first invocation pays for them.'
      : ''
  }`;
}

/** How each kind of extra call found could be avoided (only the kinds the data shows). */
function remedies(r: Results): string {
  const where = (pred: (e: Excess) => boolean) => {
    const hits = new Map<string, Set<string>>();
    for (const c of r.calls) {
      for (const e of c.extra.filter(pred)) hits.set(e.step, (hits.get(e.step) ?? new Set()).add(c.id));
    }
    return [...hits].map(([step, ids]) => `${step} in ${[...ids].join(', ')}`);
  };
  const out: string[] = [];
  const idle = where((e) => e.kind === 'read by a restore step that changed nothing');
  if (idle.length)
    out.push(
      `Restore steps that ended up changing nothing still read their resource (${idle.join('; ')}): for RestoreLogGroup that is \`restoreNeeds\` (services/domain/plan.ts) sending every existing group without retention through the step, to look at its tags in case trailguard created it and stopped before setting retention. Limiting that check to groups whose name matches the managed template, or having Check read the tags when retention is missing, would remove it.`,
    );
  const before = where((e) => e.kind === 're-read before writing');
  if (before.length)
    out.push(
      `The re-reads before a write (${before.join('; ')}) are what the design asks for: each restore step re-reads, then changes only what is wrong, so it is safe to run twice or concurrently. They could only go if the steps trusted Check's reading, which the design rules out; in single-finding scenarios they alone exceed 1.2x when the resource is an IAM role (four reads to re-establish its trust and policies).`,
    );
  if (where((e) => e.op === 'ListTagsForResource').length)
    out.push(
      'ListTagsForResource is the retention check above (services/aws/log-group-writer.ts `managedWithoutRetention`).',
    );
  if (where((e) => e.step === 'Verify' && e.op === 'ListTags').length)
    out.push('Verify could skip ListTags: the exemption tag does not change what is verified.');
  return out.join(' ');
}

/** One sentence on the kinds of extra calls, from the data. */
/** The findings beyond call counts, each only when the data shows it. */
function inefficiencyBullets(r: Results): string[] {
  const out: string[] = [];
  const steps = r.bundles.filter((b) => b.name !== 'baseline');
  const init = initBreakdown(r);
  if (steps.some((b) => b.initRatio > INIT_TARGET_RATIO)) {
    const sets = new Map<string, string[]>();
    for (const b of steps) {
      const key = b.externalImports.map(shortSdk).join(', ') || 'none';
      sets.set(key, [...(sets.get(key) ?? []), b.name]);
    }
    out.push(
      `- Cold init is ${fixed(init.cpu / init.baseCpu, 1)}x the empty handler in CPU: ~${fixed(init.sdkExtra)} ms loading SDK packages at module load (${[...sets].map(([pkgs, fns]) => `${fns.join('/')}: ${pkgs}`).join('; ')}), ~${fixed(init.bundleExtra)} ms evaluating the bundle. SDK packages imported statically for their command classes (e.g. \`GetTrailCommand\` in the AWS adapters) load at init even where the client itself is created lazily.`,
    );
  }
  const zod = steps[0]?.largestInputs.find((i) => i.path === 'zod');
  if (steps.some((b) => b.bytes > BUNDLE_TARGET_BYTES) && zod) {
    out.push(
      `- zod is ${kib(zod.bytes)} of each bundle (${kib(steps[0]?.zodLocaleBytes ?? 0)} locales): \`import { z } from 'zod'\` keeps all of zod 4 classic; \`zod/mini\` is the tree-shakable form.`,
    );
  } else if (zod) {
    out.push(
      `- zod is still the largest part of every bundle (${kib(zod.bytes)} of ~${kib(init.bytes)}), within the size target.`,
    );
  }
  const s = r.sharedRole;
  out.push(
    `- The shared delivery role holds ${s.inlinePolicies} inline ${s.inlinePolicies === 1 ? 'policy' : 'policies'} (${s.inlinePolicyChars} of IAM's ${IAM_ROLE_INLINE_POLICY_QUOTA} characters) after ${s.trails} trails were pointed at it; calls per fix: ${s.firstRunCalls} for the first trail, ${s.lastRunCalls} for trail ${s.trails}${s.lastRunCalls <= s.firstRunCalls ? ' (flat)' : ' (growing: a regression)'}.`,
  );
  return out;
}

function extraKindsSentence(r: Results): string {
  const byKind = new Map<string, { calls: number; steps: Set<string>; ops: Set<string> }>();
  let writes = 0;
  for (const c of r.calls) {
    for (const e of c.extra) {
      const k = byKind.get(e.kind) ?? { calls: 0, steps: new Set(), ops: new Set() };
      k.calls += e.n;
      k.steps.add(e.step);
      k.ops.add(e.op);
      byKind.set(e.kind, k);
      if (WRITE_OPERATIONS.has(e.op)) writes += e.n;
    }
  }
  const total = [...byKind.values()].reduce((t, k) => t + k.calls, 0);
  const kinds = [...byKind]
    .sort((a, b) => b[1].calls - a[1].calls)
    .map(([kind, k]) => `${k.calls} ${kind} (${[...k.steps].join(', ')}: ${[...k.ops].join(', ')})`);
  return `The ${total} extra calls over all scenarios are ${writes === 0 ? 'all reads' : `${writes} writes and ${total - writes} reads`}: ${kinds.join('; ')}.`;
}

function costTable(r: Results): string {
  return table(
    [
      'outcome',
      'transitions',
      'invocations',
      'Step Functions',
      'Lambda requests',
      'Lambda duration (model ms)',
      'SNS',
      'DynamoDB',
      'logs + X-Ray (est.)',
      'total / event',
      'per 1,000 events',
      'all cold: + / event',
    ],
    r.costs.map((c) => [
      c.outcome,
      c.transitions,
      c.invocations,
      dollars(c.stepFunctions),
      dollars(c.lambdaRequests),
      `${dollars(c.lambdaDuration)} (${fixed(c.lambdaMs)} ms)`,
      dollars(c.sns),
      dollars(c.dynamodb),
      dollars(c.observability),
      dollars(c.total),
      dollars(c.total * 1000),
      dollars(c.coldExtra),
    ]),
  );
}

function targetsTable(r: Results): string {
  return table(
    ['target', 'measured', 'result'],
    r.targets.map((t) => [t.name, t.measured, verdict(t.pass)]),
  );
}

function latencyLines(r: Results): string[] {
  const t = r.throughput;
  return [
    `Sequential: ${r.latency.runs} replays, p50 ${fixed(r.latency.p50)} ms, p95 ${fixed(r.latency.p95)} ms, min ${fixed(r.latency.min)} ms, max ${fixed(r.latency.max)} ms; AWS calls per replay: ${r.latency.callsPerRun.join(', ')}; CPU per replay (mean): ${fixed(r.latency.nodeCpuMs)} ms in the runner process + ${fixed(r.latency.motoCpuMs)} ms in moto.`,
    `Concurrent: ${t.count} events on ${t.count} trails, ${Number.isFinite(t.limit) ? `at most ${t.limit}` : 'all'} in flight, ${t.batches?.length ?? 1} batch(es) each in a fresh account (${(t.batches ?? []).map((b) => `${fixed(b.eventsPerSecond, 1)}`).join(', ')} events/s; ${(t.batches ?? []).map((b) => `${b.verifiedCompliant}/${t.count}`).join(', ')} verified compliant). Median: ${fixed(t.wallMs / 1000, 1)} s wall, ${fixed(t.eventsPerSecond, 1)} events/s. First batch: outcomes ${JSON.stringify(t.outcomes)}; independently verified compliant: ${t.verifiedCompliant}/${t.count}; emulator calls: ${t.emulatorCalls} (${fixed(t.callsPerEvent, 1)} per event; HTTP attempts ${t.emulatorAttempts}${t.emulatorAttempts > t.emulatorCalls ? ': the SDK retried moto errors' : ''}); CPU per event (median of batches): ${fixed(t.nodeCpuMsPerEvent)} ms runner + ${fixed(t.motoCpuMsPerEvent)} ms moto (moto serves requests under one Python GIL, which caps it at about ${fixed(1000 / t.motoCpuMsPerEvent, 1)} events/s on any number of cores); the SDK warned ${t.socketWarnings} time(s) that its socket pool was full. Seeding took ${fixed(t.seedMs / 1000, 1)} s and the independent checks ${fixed(t.verifyMs / 1000, 1)} s (untimed).`,
  ];
}

function sharedRoleLines(r: Results): string[] {
  const s = r.sharedRole;
  const flat = s.lastRunCalls <= s.firstRunCalls;
  return [
    `${s.trails} trails without integration remediated one after another, each pointed at the guardrail's delivery role. After ${s.trails}: ${s.inlinePolicies} inline ${s.inlinePolicies === 1 ? 'policy' : 'policies'}, ${s.inlinePolicyChars} characters in all (IAM allows ${IAM_ROLE_INLINE_POLICY_QUOTA} per role, whitespace not counted; moto does not enforce it, so the size is measured here): one shared grant over the template's log groups serves every trail.`,
    `AWS calls per replay: ${s.firstRunCalls} for the first trail (the role is created), ${s.lastRunCalls} for trail ${s.trails} (${s.lastRunGetRolePolicy} GetRolePolicy)${flat ? ': they do not grow with the number of trails sharing the role' : ': MORE than for the first trail, which the shared grant should prevent'}.`,
  ];
}

function cliSection(cli: CliResult): string[] {
  return [
    '## 6. The CLI: whole processes',
    '',
    `Each command started as \`npx trailguard\` starts it (\`node bin/trailguard.mjs ...\`; npm's own start is not included), against moto, on one compliant trail: wall time measured around the process, peak resident memory and CPU from ${cli.meter}. The three commands run interleaved, ${cli.runs} rounds, after one untimed run of each fills the caches kept between processes (the template synthesized from the CDK app and the validated state machine definition in node_modules/.cache/trailguard/, the CLI built ahead by bin/cli-build.mjs); the cold run has an empty template cache ($TRAILGUARD_CACHE_DIR pointed at a new folder), as the first \`replay\` after a change to the configuration or to the code that shapes the template. Budget for \`replay\` and \`remediate\`: ${CLI_WALL_BUDGET_MS / 1000} s wall and ${CLI_RSS_BUDGET_MIB} MiB; \`check\` is the reference.`,
    '',
    cliTable(cli),
    '',
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// Section 7: the delivery check and CIS monitoring

/** "GetTrail, PutMetricFilter x15" */
const opsList = (c: Counts) =>
  Object.entries(c)
    .map(([op, n]) => `${op}${n === 1 ? '' : ` x${Number.isInteger(n) ? n : fixed(n, 2)}`}`)
    .join(', ') || '-';
const countsOf = (ops: readonly string[]) =>
  ops.reduce<Counts>((t, op) => Object.assign(t, { [op]: (t[op] ?? 0) + 1 }), {});
const plus = (n: number) => `${n >= 0 ? '+' : ''}${n}`;

function deliveryTable(dm: DeliveryMonitoringResult): string {
  return table(
    [
      'case',
      'check result',
      'transitions (without > with)',
      'states added',
      'invocations added',
      'AWS calls (without > with)',
      'calls added, by state',
      'minimum added',
      'above the minimum',
    ],
    dm.delivery.map((d) => [
      d.id,
      d.with.deliveryStatus ?? 'not run',
      `${d.without.transitions} > ${d.with.transitions} (${plus(d.with.transitions - d.without.transitions)})`,
      d.addedStates.join(' > ') || '-',
      d.addedByState.length,
      `${d.without.total} > ${d.with.total} (${plus(d.with.total - d.without.total)})`,
      d.addedByState.map((s) => `${s.state} { ${opsList(s.calls)} }`).join('; ') || '-',
      d.minimum.length,
      d.aboveMinimum.join(', ') || 'none',
    ]),
  );
}

function monitoringTable(dm: DeliveryMonitoringResult): string {
  return table(
    [
      'case',
      'configuration',
      'event',
      'outcome',
      'findings',
      'writes made',
      'workflow calls',
      'minimum',
      'ratio',
      'fan-out calls',
      'calls beyond the minimum',
    ],
    dm.monitoring.map((m) => [
      m.id,
      m.config,
      m.trigger,
      m.run.outcome,
      m.run.findings.join(', ') || '-',
      opsList(countsOf(m.run.actions)),
      m.comparison.total,
      m.comparison.minimum,
      `${fixed(m.comparison.ratio, 2)}x`,
      countsTotal(m.run.outsideSteps) > 0
        ? `${opsList(m.run.outsideSteps)} (minimum ${m.outsideMinimum})`
        : '-',
      `${describeExtra(m.comparison.extra)}${m.comparison.writeMismatch.length ? ` (writes differ: ${m.comparison.writeMismatch.join('; ')})` : ''}`,
    ]),
  );
}

/** Rows: the task states (and the fan-out); columns: the monitoring cases. */
function monitoringByStateTable(dm: DeliveryMonitoringResult): string {
  const states: string[] = [];
  for (const m of dm.monitoring)
    for (const s of m.run.byState) if (!states.includes(s.state)) states.push(s.state);
  /** '-': the state was not entered; 'no call': entered, nothing to read or write. */
  const cell = (c: Counts | undefined) =>
    c === undefined ? '-' : countsTotal(c) > 0 ? `${opsList(c)} (${countsTotal(c)})` : 'no call';
  return table(
    ['state', ...dm.monitoring.map((m) => m.id)],
    [
      [
        'fan-out (sweep function)',
        ...dm.monitoring.map((m) => (countsTotal(m.run.outsideSteps) > 0 ? cell(m.run.outsideSteps) : '-')),
      ],
      ...states.map((state) => [
        state,
        ...dm.monitoring.map((m) => cell(m.run.byState.find((s) => s.state === state)?.calls)),
      ]),
    ],
  );
}

/** Snapshot writes per trail and sweep: WRUs (1 per KB) of the median item. */
function snapshotWru(s: SweepCase): number {
  return Math.max(1, Math.ceil(median(s.snapshotItemBytes) / KB));
}

function sweepTable(dm: DeliveryMonitoringResult): string {
  return table(
    [
      'configuration',
      'trails',
      'sweep calls without the state table > with it',
      'per trail',
      'added per trail',
      'minimum added per trail',
      'above the minimum, per trail',
      'snapshot item (median)',
    ],
    dm.sweep.map((s) => [
      s.config,
      s.trails,
      `${countsTotal(s.withoutState)} > ${countsTotal(s.withState)}`,
      `${fixed(countsTotal(s.withoutState) / s.trails, 1)} > ${fixed(countsTotal(s.withState) / s.trails, 1)}`,
      `${fixed(countsTotal(s.added) / s.trails, 1)}: ${opsList(perTrail(s))}`,
      `${countsTotal(s.minimumPerTrail)}: ${opsList(s.minimumPerTrail)}`,
      s.abovePerTrail.join(', ') || 'none',
      `${fixed(median(s.snapshotItemBytes) / KB, 1)} KB (${snapshotWru(s)} WRU)`,
    ]),
  );
}

function perTrail(s: SweepCase): Counts {
  return Object.fromEntries(Object.entries(s.added).map(([op, n]) => [op, n / s.trails]));
}

function section7(r: Results): string[] {
  const dm = r.deliveryMonitoring;
  if (!dm) return [];
  const noDelivery = dm.delivery.find((d) => d.id === 'no-delivery');
  const confirmed = dm.delivery.find((d) => d.id === 'confirmed');
  const notified = dm.delivery.find((d) => d.id === 'notified');
  const byId = (id: string) => dm.monitoring.find((m) => m.id === id);
  const plain = byId('compliant');
  const monitored = byId('compliant-monitored');
  const repair = byId('repair-one-filter');
  const setup = byId('first-setup');
  const sweepsPerMonth = (30 * 24 * 60) / parseConfig({}).sweepIntervalMinutes;
  const transitionsCost = (d: DeliveryCase | undefined) =>
    dollars((d ? d.with.transitions - d.without.transitions : 0) * PRICES.stateTransition * 1_000_000);
  return [
    '## 7. The delivery check and CIS monitoring',
    '',
    `Counts only, with the counted clients of section 1, in fresh emulator accounts. Calls are attributed to workflow states (NotifyDelivery runs the Notify function and AuditDelivery the Audit function): each step invocation's calls are the counter's growth while it ran, matched in order with the task states entered. The account is given to the local runner here, so its own GetCallerIdentity (counted in section 1's totals, outside the steps) does not appear; calls outside any step are the sweep function's fan-out.`,
    '',
    '### The delivery check',
    '',
    `The same breakage (logging stopped; the fix is StartLogging) replayed in two fresh accounts, once as the local runner does by default (no delivery check) and once with \`deliveryCheck: true\` (the definition synthesized with deliveryCheckMinutes ${parseConfig({}).deliveryCheckMinutes}, the Wait overridden to 0 ms locally). moto never delivers, so the check ends \`no-delivery\`; for \`confirmed\`, GetTrailStatus's answer is given a LatestCloudWatchLogsDeliveryTime one second after the call **at the SDK layer** (response middleware), only while CheckDelivery runs: nothing else of the run is changed. A notify-only run shows what the check costs an outcome it does not apply to. The runs are identical up to Audit (checked), so the difference is the check.`,
    '',
    `Minimum added, by section 1's rules: one GetTrailStatus, one audit PutItem, and unless confirmed one email sent once (the idempotency claim PutItem, Publish, UpdateItem: section 1's "email once"). Without the once-only guarantee the bare minimum would be GetTrailStatus + Publish + PutItem (3 calls; 2 when confirmed, no email): a check that emails makes the idempotency pair (PutItem + UpdateItem in the idempotency table) on top of that.`,
    '',
    deliveryTable(dm),
    '',
    `${noDelivery ? `A remediated run with the check enters ${noDelivery.with.transitions - noDelivery.without.transitions} more states when delivery is not confirmed and ${confirmed ? confirmed.with.transitions - confirmed.without.transitions : 'n/a'} when it is (Step Functions: ${transitionsCost(noDelivery)} and ${transitionsCost(confirmed)} per million remediated events), and invokes ${noDelivery.addedByState.length} / ${confirmed?.addedByState.length ?? 'n/a'} more Lambda functions. ` : ''}${notified && notified.with.transitions > notified.without.transitions ? `Every run that reaches Audit without being remediated (notified, measured here; skipped takes the same path in the definition) passes the check's Choice (${notified.addedStates.join(', ')}): ${plus(notified.with.transitions - notified.without.transitions)} transition, no AWS call. ` : ''}The Wait itself is one transition whatever its length; the deployed execution stays open for deliveryCheckMinutes (Standard workflows are billed by transition, not by duration).`,
    '',
    '### CIS monitoring',
    '',
    `One multi-region trail (integrated, logging; its log group without CIS filters and, as in section 1's seeds, without retention), in one account, one event after another: an UpdateTrail event with the default configuration; the same with cisMonitoring (the first-time setup: ${dm.cisControls} metric filters and ${dm.cisControls} alarms); the same again (compliant, monitored); then one CIS filter deleted with the SDK and its DeleteMetricFilter event replayed (the dependency rule, the sweep function's fan-out, the workflow). The minimum follows bench/minimum.ts's rules, with DescribeMetricFilters + DescribeAlarms added to Check (and to Verify when something was written) and one PutMetricFilter / PutMetricAlarm per item missing; the fan-out's minimum is one DescribeTrails (which trails use the group). bench/minimum.ts's WRITE_OPERATIONS does not list the CIS writes, so this section counts them as writes itself (the reads before them in RestoreLogGroup are re-reads before writing).`,
    '',
    monitoringTable(dm),
    '',
    "Calls by state ('-': state not entered; 'no call': entered, nothing to do):",
    '',
    monitoringByStateTable(dm),
    '',
    `${plain && monitored ? `cisMonitoring adds ${monitored.run.total - plain.run.total} calls to every Check of a monitored trail (${opsList(minusCounts(monitored.run.commands, plain.run.commands))}), which is its minimum, and as many to every Verify and to the sweep's reading of each monitored trail. ` : ''}${repair ? `Repairing one filter takes ${repair.comparison.total} workflow calls (${fixed(repair.comparison.ratio, 2)}x the minimum) plus ${countsTotal(repair.run.outsideSteps)} in the fan-out; beyond the minimum: ${describeExtra(repair.comparison.extra)}. ` : ''}${setup ? `The first-time setup writes ${opsList(countsOf(setup.run.actions))} one call at a time (services/aws/monitoring.ts: PutMetricFilter and PutMetricAlarm have low per-account request rates) in ${setup.comparison.total} workflow calls. ` : ''}The standing cost of what it creates (${dm.cisControls} custom metrics and ${dm.cisControls} alarms per monitored log group, $6.00 per month at list prices) is worked out in docs/cis-monitoring.md.`,
    '',
    "### The sweep's log group snapshot",
    '',
    `The sweep function's core (services/aws/sweep.ts \`sweepStep\`, the settings the synthesized template gives it) over ${dm.sweep[0]?.trails ?? 'n/a'} compliant trails, once without the state table (no snapshot is taken or stored without it) and once with it, as deployed. Default configuration: single-region trails; cisMonitoring: multi-region trails whose CIS filters and alarms are in place. Every trail is compliant, so no run is started and every call is the sweep's own. Snapshot item sizes are DynamoDB's (the state table scanned after the sweep); at the default sweepIntervalMinutes (${parseConfig({}).sweepIntervalMinutes}) a trail is snapshotted ${fixed(sweepsPerMonth)} times a month.`,
    '',
    sweepTable(dm),
    '',
    ...dm.sweep.map(
      (s) =>
        `- ${s.config}: each sweep rewrites each trail's snapshot (1 PutItem, ${snapshotWru(s)} WRU): ${fixed(snapshotWru(s) * sweepsPerMonth)} WRU per trail per month, ${dollars(snapshotWru(s) * sweepsPerMonth * PRICES.dynamoWriteRequestUnit)} per trail per month on demand.${s.abovePerTrail.length ? ` Above the minimum: ${s.abovePerTrail.join(', ')} per trail (${snapshotWhy(s)}).` : ''}`,
    ),
    '',
  ];
}

function snapshotWhy(s: SweepCase): string {
  const why: string[] = [];
  if (s.abovePerTrail.some((a) => a.startsWith('DescribeLogGroups')))
    why.push(
      "DescribeLogGroups: services/aws/log-group-snapshot.ts `takeLogGroupSnapshot` reads the group again, though the sweep's readTrailState has just read it (TrailState keeps its retention and KMS key, not its class or ARN)",
    );
  if (s.abovePerTrail.some((a) => a.startsWith('DescribeMetricFilters')))
    why.push(
      'DescribeMetricFilters: with cisMonitoring readTrailState has already read every metric filter of the group (services/aws/monitoring.ts `readMonitoring`), and the snapshot reads them again',
    );
  return why.join('; ') || 'see the table';
}

/** Section 7's findings for "Product inefficiencies found" (only what the data shows). */
function section7Bullets(r: Results): string[] {
  const dm = r.deliveryMonitoring;
  if (!dm) return [];
  const out: string[] = [];
  const repair = dm.monitoring.find((m) => m.id === 'repair-one-filter');
  if (repair && repair.comparison.extra.length > 0)
    out.push(
      `- Section 7, CIS repair of one filter: ${describeExtra(repair.comparison.extra)} beyond the minimum. RestoreLogGroup runs for a CIS finding, so it also does its log group work (DescribeLogGroups, and ListTagsForResource for a group without retention) although the group is fine; its DescribeMetricFilters + DescribeAlarms are \`ensureCisMonitoring\`'s re-read before writing.`,
    );
  for (const s of dm.sweep.filter((x) => x.abovePerTrail.length > 0))
    out.push(
      `- Section 7, the sweep's snapshot (${s.config}): ${s.abovePerTrail.join(', ')} per trail above the minimum (${snapshotWhy(s)}); and every sweep rewrites every snapshot (1 PutItem per trail, ${snapshotWru(s)} WRU), changed or not.`,
    );
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Section 8: an organization, cost

/** Money at the precision its inputs allow: whole dollars from $100, cents from $1. */
const money = (v: number) => (v >= 100 ? `$${Math.round(v).toLocaleString('en-US')}` : dollars(v));
const times = (v: number) => (v >= 10 ? `${fixed(v)}x` : `${fixed(v, 1)}x`);

function organizationTable(o: OrganizationCostResult): string {
  return table(
    [
      'accounts x regions',
      'stacks (full) / spokes',
      'events / month',
      'full stacks / month',
      'hub and spoke / month',
      'ratio',
      'full stacks: fixed + runs + sweep + metrics',
      'hub and spoke: fixed + runs + cross-account events + sweep + metrics',
      `hub and spoke, an alarm per spoke DLQ (${o.model.spoke.queues})`,
    ],
    o.rows.map((row) => {
      const f = row.fullStacks;
      const h = row.hubAndSpoke;
      return [
        `${row.accounts.toLocaleString('en-US')} x ${row.regions}`,
        row.accountRegions.toLocaleString('en-US'),
        row.eventsPerMonth.toLocaleString('en-US'),
        money(f.total),
        money(h.total),
        times(row.ratio),
        [f.fixed, f.events, f.sweep, f.metrics].map(money).join(' + '),
        [h.fixed, h.events, h.crossAccount, h.sweep, h.metrics].map(money).join(' + '),
        money(row.hubAndSpokeWithSpokeAlarms),
      ];
    }),
  );
}

function organizationFixedTable(o: OrganizationCostResult): string {
  const full = fixedPerMonth(o.model.fullStack);
  const hub = fixedPerMonth(o.model.hub);
  const spoke = fixedPerMonth(o.model.spoke);
  const cell = (n: number, v: number) => `${n} = ${dollars(v)}`;
  return table(
    [
      'resource',
      'list price',
      'full stack (each account-region)',
      'hub (one)',
      'spoke (each account-region)',
    ],
    [
      [
        'KMS customer managed keys',
        `${dollars(ORG_PRICES.kmsKeyMonth)} / key-month`,
        cell(o.model.fullStack.kmsKeys, full.kms),
        cell(o.model.hub.kmsKeys, hub.kms),
        `${cell(o.model.spoke.kmsKeys, spoke.kms)} (DLQs use SSE-SQS)`,
      ],
      [
        'CloudWatch alarms (standard)',
        `${dollars(ORG_PRICES.alarmMonth)} / alarm-month`,
        cell(o.model.fullStack.alarms, full.alarms),
        cell(o.model.hub.alarms, hub.alarms),
        `${cell(o.model.spoke.alarms, spoke.alarms)} (${o.model.spoke.queues} = ${dollars(o.model.spoke.queues * ORG_PRICES.alarmMonth)} with an alarm per DLQ)`,
      ],
      [
        'CloudWatch dashboards',
        `${dollars(ORG_PRICES.dashboardMonth)} / dashboard-month`,
        cell(o.model.fullStack.dashboards, full.dashboards),
        cell(o.model.hub.dashboards, hub.dashboards),
        cell(o.model.spoke.dashboards, spoke.dashboards),
      ],
      ['total per stack and month', '', dollars(full.total), dollars(hub.total), dollars(spoke.total)],
    ],
  );
}

function organizationAssumptions(o: OrganizationCostResult, r: Results): string {
  const s = o.scenario;
  const m = o.model;
  const compliant = r.costs.find((c) => c.outcome === 'compliant');
  const remediated = r.costs.find((c) => c.outcome === 'remediated');
  const sweeps = o.rows[0]?.sweepsPerMonth ?? Number.NaN;
  const n = (count: number, what: string) => `${count} ${what}${count === 1 ? '' : 's'}`;
  const counts = (c: StackCounts) =>
    `${n(c.kmsKeys, 'KMS key')}, ${n(c.alarms, 'alarm')}, ${n(c.dashboards, 'dashboard')}, ${n(c.queues, 'SQS queue')}`;
  return table(
    ['input', 'value', 'why / where from'],
    [
      [
        'regions per account',
        s.regions,
        "every commercial region enabled by default (the issue's figure); opt-in regions would add to it",
      ],
      [
        'events per account-region and month',
        s.eventsPerAccountRegion,
        'ASSUMPTION: trail, log group and role changes the two rules match. Each is taken as one workflow run; a dependency event that concerns no trail ends in the fan-out without a run, so this is an upper bound. IAM events arrive in us-east-1 only: the figure is an average over regions',
      ],
      [
        'runs that remediate',
        `${fixed(s.remediatedShare * 100)}%`,
        `ASSUMPTION. Those cost section 5's remediated run (${dollars(remediated?.total ?? Number.NaN)}, ${remediated?.invocations ?? 'n/a'} invocations), the others its compliant run (${dollars(compliant?.total ?? Number.NaN)}, ${compliant?.invocations ?? 'n/a'} invocation): the same workflow in both designs`,
      ],
      [
        'trails owned and homed per account',
        s.trailsPerAccount,
        'ASSUMPTION (one account trail; an organization trail is one trail of the management account). Shadow copies and member copies of organization trails are listed (DescribeTrails), not assessed',
      ],
      [
        'sweep',
        `every ${s.sweepIntervalMinutes} min = ${fixed(sweeps)} sweeps / month`,
        'sweepIntervalMinutes default (policies/config.ts); a 30-day month as in section 7',
      ],
      [
        'sweep work per account-region',
        `${fixed(m.sweep.listingMs)} ms listing + ${fixed(m.sweep.perTrailMs)} ms and ${m.sweep.perTrailWru} WRU per trail assessed`,
        `${o.sources.sweep}, at section 5's assumed API latencies (CloudWatch Logs reads at the logs latency); the same work in both designs, the hub adding one AssumeRole (${m.assumeRoleMs} ms) per item`,
      ],
      ['full stack', counts(m.fullStack), o.sources.fullStack],
      ['hub', counts(m.hub), o.sources.hub],
      [
        'spoke',
        counts(m.spoke),
        `${o.sources.spoke}. Its queues are SSE-SQS (no key of ours); the remediation role (once per account) and the StackSet have no charge. The last column of the first table adds an alarm per spoke queue`,
      ],
      [
        "the hub's sweep",
        `${m.hubTransitionsPerAccount} transition per account${m.hubChildMemoryGb > 0 ? `, an Express child (${fixed(m.hubChildMemoryGb * 1024)} MB) per account` : ''}, a sweep function invocation per account-region + ${m.hubTransitionsPerSweep} transitions per sweep`,
        `infra/constructs/organization-sweep.ts: a Distributed Map over the accounts (one transition per child execution started), ${m.hubChildMemoryGb > 0 ? `Express children (a request each, and their duration: the account's regions ${m.hubRegionConcurrency} at a time, each the Lambda task plus a ${m.hubChildOverheadMs} ms invoke overhead, rounded up to 100 ms, in 64 MB)` : 'Standard children'}; the parent's path that succeeds: ListTargets, AnyTargets, SweepAccounts, Summarize, AnyTargetFailed, SweepComplete. ListTargets lists the accounts (ListAccounts, 20 per page) and the regions at ${m.hubTargetsCallMs} ms per call (ASSUMPTION, as IAM's)`,
      ],
      [
        'AssumeRole',
        `${m.assumeRoleMs} ms per hub invocation`,
        "section 5's STS latency, charged to every invocation of a run and every sweep item: an upper bound (services/handlers/lambda.ts builds the account access once per cold start, so a warm function reuses an account's credentials while they last; Notify and Audit act in the hub)",
      ],
      [
        'Outcome_* metrics',
        'Outcome_remediated only',
        'compliant runs end before Audit, which counts outcomes; each run taken to fall in an hour of its own (an upper bound on the hours with data, which is what is metered)',
      ],
      ['cold starts', 'warm in the totals', 'as section 5\'s totals; the "all cold" bound is given above'],
    ],
  );
}

function organizationPrices(): string {
  return table(
    ['item', 'price', 'source'],
    [
      [
        'Step Functions, Lambda, DynamoDB writes',
        `$${fixed(PRICES.stateTransition * 1000, 3)} / 1,000 transitions; $${PRICES.lambdaGbSecondArm64} / GB-s arm64, $0.20 / million requests; $${fixed(PRICES.dynamoWriteRequestUnit * 1e6, 3)} / million WRU`,
        `section 5 (${PRICES.checked})`,
      ],
      ...ORG_PRICE_SOURCES.map((p) => [p.item, p.price, p.source]),
    ],
  );
}

function section8(r: Results): string[] {
  const o = r.organization;
  if (!o) return [];
  const big = o.rows.at(-1);
  const small = o.rows[0];
  const share = (part: number, whole: number) => `${fixed((part / whole) * 100, 1)}%`;
  return [
    '## 8. An organization: cost',
    '',
    `Monthly cost of guarding an organization, two ways: **one full stack per account and region** (today's single-account stack deployed ${o.scenario.regions} times in every account) against **one hub and a spoke per account and region** (docs/architecture.md, "Hub and spoke"). Pure computation, no emulator: counts from the synthesized template and from sections 5 and 7, list prices from the sources below: ${ORG_PRICES.checked}. Free tiers are not counted.`,
    '',
    organizationTable(o),
    '',
    'The fixed part, per stack and month (standing resources; rules, idle queues, topics, tables, functions, state machines, IAM roles and a service-managed StackSet cost nothing while idle):',
    '',
    organizationFixedTable(o),
    '',
    ...(big && small
      ? [
          `- **The fixed part decides it.** ${money(fixedPerMonth(o.model.fullStack).total)} per full stack and month, ${share(big.fullStacks.fixed, big.fullStacks.total)} of the full stacks' bill at ${big.accounts.toLocaleString('en-US')} accounts, of which the dashboard is ${share(fixedPerMonth(o.model.fullStack).dashboards, fixedPerMonth(o.model.fullStack).total)}. A hub-and-spoke organization pays it once.`,
          `- **Runs cost the same either way**: the same workflow runs the same steps; the hub adds one AssumeRole per invocation (${money(big.hubAndSpoke.events - big.fullStacks.events)} a month at ${big.accounts.toLocaleString('en-US')} accounts) and the spokes pay ${dollars(ORG_PRICES.crossAccountEvent * 1e6)} per million events sent to the hub bus (${money(big.hubAndSpoke.crossAccount)}).`,
          `- **The hub's sweep costs ${big.hubAndSpoke.sweep > big.fullStacks.sweep ? 'more' : 'no more'} than the full stacks' sweeps** (${money(big.hubAndSpoke.sweep)} against ${money(big.fullStacks.sweep)} for the full stacks' sweep functions at ${big.accounts.toLocaleString('en-US')} accounts; ${share(big.hubAndSpoke.sweep, big.hubAndSpoke.total)} of the hub-and-spoke bill): a sweep function invocation per account-region every sweep (${money(big.accountRegions * big.sweepsPerMonth * PRICES.lambdaRequest)} of it in requests alone), and per account a child execution and its transition; a longer sweepIntervalMinutes divides it. The organization sweep carries only the account ids and one small result per account in its state (infra/constructs/organization-sweep.ts), so ${big.accountRegions.toLocaleString('en-US')} account-regions fit within Step Functions' 256 KiB.`,
          `- **All cold**: INIT is billed since August 2025. If every invocation started cold, add ${money(big.fullStacks.allColdExtra)} to the full stacks and at most ${money(big.hubAndSpoke.allColdExtra)} to the hub at ${big.accounts.toLocaleString('en-US')} accounts (${money(small.fullStacks.allColdExtra)} and ${money(small.hubAndSpoke.allColdExtra)} at ${small.accounts}). With ${o.scenario.eventsPerAccountRegion} events a month and an hourly sweep, a full stack's functions start cold almost every time; the hub sees every account's events and sweeps hundreds of items in a burst, so most of its invocations are warm.`,
          `- **KMS keys rotate** (yearly): from the third year each key costs $3 a month, tripling the KMS line of both designs (${money(big.accountRegions * o.model.fullStack.kmsKeys * 2 * ORG_PRICES.kmsKeyMonth)} more a month for the full stacks at ${big.accounts.toLocaleString('en-US')} accounts, ${money(o.model.hub.kmsKeys * 2 * ORG_PRICES.kmsKeyMonth)} for the hub).`,
          `- Not modelled, small or equal in both designs: inter-region data transfer of spoke events to the hub region (standard rates; ${(big.eventsPerMonth / 1e6).toLocaleString('en-US')} million events of a few KB a month at ${big.accounts.toLocaleString('en-US')} accounts); KMS requests (DynamoDB and SNS cache data keys: a few thousand requests per stack and month, $0.03 per 10,000); DynamoDB storage and point-in-time recovery (the same audit records and snapshots, in one table or in ${big.accountRegions.toLocaleString('en-US')}); CloudWatch Logs storage; X-Ray beyond section 5's estimate.`,
        ]
      : []),
    '',
    'Inputs:',
    '',
    organizationAssumptions(o, r),
    '',
    'Prices:',
    '',
    organizationPrices(),
    '',
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// Section 9: an organization on the emulator, the hub's sweep

const SWEEP_TITLES: Record<OrganizationSweepRun['id'], string> = {
  compliant: 'every trail compliant',
  'with-breakage': 'trails broken in 3 account-regions',
  're-read': 'the same sweep again (read back)',
};

function organizationSweepTable(o: OrganizationSweepResult): string {
  return table(
    [
      'sweep',
      'account-regions',
      'trails (compliant)',
      'runs started',
      'wall time',
      'per account-region',
      'AWS calls',
      'per trail',
      'AssumeRole (max per account)',
    ],
    o.sweeps.map((s) => [
      SWEEP_TITLES[s.id],
      `${s.accountRegions}${s.targetErrors.length ? ` (${s.targetErrors.length} failed)` : ''}`,
      `${s.trails} (${s.compliant})`,
      Object.entries(s.runs)
        .map(([outcome, n]) => `${n} ${outcome}`)
        .join(', ') || '0',
      `${fixed(s.wallMs / 1000, 1)} s`,
      `${fixed(s.wallMs / Math.max(1, s.accountRegions))} ms`,
      s.total,
      fixed(s.total / Math.max(1, s.trails), 2),
      `${s.calls.AssumeRole ?? 0} (${Math.max(0, ...Object.values(s.assumeRoles))})`,
    ]),
  );
}

/** The compliant sweep's calls by operation, per trail. */
function organizationCallsTable(o: OrganizationSweepResult): string {
  const s = o.sweeps[0];
  if (!s) return '';
  return table(
    ['operation (compliant sweep)', 'calls', 'per trail'],
    Object.entries(s.calls)
      .sort(([, a], [, b]) => b - a)
      .map(([op, n]) => [op, n, fixed(n / Math.max(1, s.trails), 2)]),
  );
}

function section9(r: Results): string[] {
  const o = r.organizationSweep;
  if (!o) return [];
  const [compliant, broken, reRead] = o.sweeps;
  const snapshot = r.deliveryMonitoring?.sweep.find((x) => x.config === 'default');
  const snapshotPerTrail = snapshot
    ? countsTotal(minusCounts(snapshot.withState, snapshot.withoutState)) / snapshot.trails
    : Number.NaN;
  const perTrail = compliant ? compliant.total / Math.max(1, compliant.trails) : Number.NaN;
  const assume = compliant?.calls.AssumeRole ?? 0;
  return [
    `## 9. An organization on the emulator: the hub's sweep`,
    '',
    `A hub (the emulator's own account) guards ${o.accounts} accounts (itself and ${o.memberAccounts} members, listed in \`accounts\`) in ${o.regions.length} regions (${o.regions.join(', ')}), one standard trail in each account-region (${o.accounts * o.regions.length} trails), integrated and logging. Set up as a user does (bench/organization-sweep.ts): \`trailguard local-setup --config\` creates each member's remediation role through its bootstrap role (OrganizationAccountAccessRole); the trails are seeded with each member's own clients (setup ${fixed(o.setupMs / 1000, 1)} s, not counted). Each sweep is the hub's sweep as the local engine runs it (\`sweepLocally\` with the configuration): the organization sweep's state machine synthesized by CDK (ListTargets, then a Map over the accounts, each a Map over its regions of SweepTarget), each task handled by the sweep function's core, the workflow run for each non-compliant trail. Every AWS call the hub makes is counted, in its own account and through the members' roles alike; each sweep has its own account access (services/aws/accounts.ts), as one warm sweep function holds.`,
    '',
    organizationSweepTable(o),
    '',
    organizationCallsTable(o),
    '',
    ...(compliant && broken && reRead
      ? [
          `- **Calls per compliant trail: ${fixed(perTrail, 2)}.** The assessment's reads (DescribeTrails per account-region, then per trail GetTrail, GetTrailStatus, ListTags, DescribeLogGroups, GetRole, ListRolePolicies, ListAttachedRolePolicies, GetRolePolicy), the log group snapshot (${fixed(snapshotPerTrail)} per trail, section 7), and ${assume} AssumeRole for ${o.memberAccounts} member accounts (${fixed(assume / Math.max(1, compliant.trails), 2)} per trail; the hub's own account needs none). Nothing else grows with the organization: the accounts come from the configuration, so Organizations and EC2 are not called.`,
          `- **AssumeRole**: at most ${Math.max(0, ...o.sweeps.flatMap((s) => Object.values(s.assumeRoles)))} per member account in every sweep, including the runs the second sweep started, which reuse the sweep's credentials. Deployed, each account is one child execution that sweeps its regions ${REGION_SWEEP_CONCURRENCY} at a time, each region its own SweepTarget invocation of the sweep function; a warm container keeps an account's credentials until 5 minutes before they expire (services/handlers/lambda.ts builds the account access once per container), so an invocation makes at most one AssumeRole, and a sweep at most ${REGION_SWEEP_CONCURRENCY} per account (one per container).`,
          `- **Breakage found and fixed**: ${o.broken.map((b) => `${b.how} in ${b.account} ${b.region}`).join('; ')}. The second sweep started ${countsTotal(broken.runs)} run(s) (${Object.entries(
            broken.runs,
          )
            .map(([k, n]) => `${n} ${k}`)
            .join(
              ', ',
            )}), each in the trail's own account through its role, emails on the hub's topic and records in the hub's table; the third sweep read every trail back: ${reRead.compliant} of ${reRead.trails} compliant, no run started.`,
          `- **Wall time** is the emulator's: the local engine (aws-local-stepfunctions) runs ${ORGANIZATION_SWEEP_CONCURRENCY} accounts at a time and ${REGION_SWEEP_CONCURRENCY} regions of each at a time as deployed (MaxConcurrency, infra/constructs/organization-sweep.ts), but one moto process on this machine answers every account and region, so the sweep is bound by the emulator's CPU; deployed, each target reads its own account's regional endpoints.`,
        ]
      : []),
    '',
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// Console

export function renderConsole(r: Results, comparison?: Comparison): string {
  const m = r.machine;
  const out = [
    '',
    ...(codeChanged(m)
      ? ['WARNING: the code changed while the benchmark ran; numbers may mix two versions.']
      : []),
    `trailguard benchmark (${r.mode}) ${m.date} at ${m.commit}${m.uncommitted?.length ? ` (+${m.uncommitted.length} uncommitted files)` : ''}: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, moto ${m.moto}, load ${fixed(m.loadStart, 2)} -> ${fixed(m.loadEnd ?? Number.NaN, 2)}`,
    '',
    '1. AWS calls per scenario',
    callsTable(r),
    '',
    '2. State transitions per outcome',
    transitionsTable(r),
    '',
    '3. Bundles and cold init',
    bundlesTable(r),
    `init, medians over the functions (CPU): Node start ${fixed(initBreakdown(r).baseCpu)} ms + SDK imported at load ${fixed(initBreakdown(r).sdkExtra)} ms + bundle evaluation ${fixed(initBreakdown(r).bundleExtra)} ms`,
    '',
    '4. Local latency and throughput',
    ...latencyLines(r),
    ...sharedRoleLines(r),
    '',
    '5. AWS projection (per event)',
    costTable(r),
    '',
    ...(r.cli ? ['6. CLI processes (compliant trail)', cliTable(r.cli), ''] : []),
    ...(r.deliveryMonitoring
      ? [
          '7. Delivery check (calls and transitions it adds)',
          deliveryTable(r.deliveryMonitoring),
          '7. CIS monitoring (runs of one multi-region trail)',
          monitoringTable(r.deliveryMonitoring),
          monitoringByStateTable(r.deliveryMonitoring),
          "7. The sweep's log group snapshot",
          sweepTable(r.deliveryMonitoring),
          '',
        ]
      : []),
    ...(r.organization
      ? [
          `8. An organization: monthly cost (${r.organization.scenario.eventsPerAccountRegion} events per account-region, ${fixed(r.organization.scenario.remediatedShare * 100)}% remediated; full stack vs hub and spoke)`,
          organizationTable(r.organization),
          organizationFixedTable(r.organization),
          '',
        ]
      : []),
    ...(r.organizationSweep
      ? [
          `9. An organization on the emulator: the hub's sweep over ${r.organizationSweep.accounts} accounts x ${r.organizationSweep.regions.length} regions`,
          organizationSweepTable(r.organizationSweep),
          organizationCallsTable(r.organizationSweep),
          '',
        ]
      : []),
    'Targets',
    targetsTable(r),
    ...r.targets.filter((t) => !t.pass && t.why).map((t) => `  ${t.name}: ${t.why}`),
    '',
    ...(comparison
      ? [
          `Compared with the previous ${r.mode} run (${comparison.previousDate}):`,
          ...comparison.lines.map((l) => `  ${l}`),
        ]
      : [`No previous ${r.mode} run to compare with.`]),
    ...(r.errors.length ? ['', 'ERRORS', ...r.errors.map((e) => `  ${e}`)] : []),
    '',
    `total ${fixed(r.durationS)} s`,
    '',
  ];
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// docs/benchmarks.md

interface ExcessSummary {
  kind: string;
  step: string;
  ops: string[];
  calls: number;
  scenarios: Set<string>;
  source: string;
}

/** The extra calls grouped by step and kind, most calls first. */
function excessSummary(r: Results): ExcessSummary[] {
  const map = new Map<string, ExcessSummary>();
  for (const c of r.calls) {
    for (const e of c.extra as Excess[]) {
      const key = `${e.step}|${e.kind}|${e.op === 'ListTagsForResource'}`;
      const s = map.get(key) ?? {
        kind: e.kind,
        step: e.step,
        ops: [],
        calls: 0,
        scenarios: new Set<string>(),
        source: sourceOf(e) ?? '',
      };
      if (!s.ops.includes(e.op)) s.ops.push(e.op);
      s.calls += e.n;
      s.scenarios.add(c.id);
      map.set(key, s);
    }
  }
  return [...map.values()].sort((a, b) => b.calls - a.calls);
}

/** Extra calls per step, all kinds together. */
function excessByStep(r: Results): { step: string; calls: number; kinds: string[]; sources: string[] }[] {
  const map = new Map<string, { step: string; calls: number; kinds: string[]; sources: string[] }>();
  for (const e of excessSummary(r)) {
    const s = map.get(e.step) ?? { step: e.step, calls: 0, kinds: [], sources: [] };
    s.calls += e.calls;
    s.kinds.push(`${e.calls} ${e.kind} (${e.ops.join(', ')}; ${e.scenarios.size} scenarios)`);
    if (e.source && !s.sources.includes(e.source)) s.sources.push(e.source);
    map.set(e.step, s);
  }
  return [...map.values()].sort((a, b) => b.calls - a.calls);
}

/** Whether any step made the same call twice (other than reading several policy documents). */
function duplicatesInStep(r: Results): string {
  const perDocument = new Set(['GetRolePolicy', 'GetPolicy', 'GetPolicyVersion']);
  const found: string[] = [];
  for (const c of r.calls) {
    for (const [step, ops] of Object.entries(c.byStep)) {
      for (const [op, n] of Object.entries(ops)) {
        if (n > 1 && !perDocument.has(op)) found.push(`${c.id}: ${step} ${op} x${n}`);
      }
    }
  }
  return found.length === 0
    ? 'No step made the same call twice in any scenario (GetRolePolicy is made once per policy document).'
    : `Steps that made the same call more than once: ${found.join('; ')}.`;
}

function minimumDetails(r: Results): string {
  const parts: string[] = [];
  for (const c of r.calls) {
    const calls = MINIMUM[c.id as ScenarioId];
    parts.push(
      `**${c.id}** (${calls.length} calls)\n\n${table(
        ['phase', 'call', 'attributed to', 'why'],
        calls.map((m) => [m.phase, m.op, m.step, m.why]),
      )}`,
    );
  }
  return parts.join('\n\n');
}

function measuredDetails(r: Results): string {
  return r.calls
    .map(
      (c) =>
        `**${c.id}** (${c.total} calls): ${Object.entries(c.byStep)
          .map(
            ([step, ops]) =>
              `${step} { ${Object.entries(ops)
                .map(([op, n]) => `${op}${n > 1 ? ` x${n}` : ''}`)
                .join(', ')} }`,
          )
          .join('; ')}`,
    )
    .join('\n\n');
}

export function renderMarkdown(r: Results, comparison?: Comparison): string {
  const m = r.machine;
  const excess = excessSummary(r);
  const broken = r.costs.find((c) => c.outcome === 'remediated');
  const init = initBreakdown(r);
  const lines = [
    '# Benchmarks',
    '',
    `Generated by \`npm run bench\` (bench/run.ts) on ${m.date}; the run took ${fixed(r.durationS)} s. Do not edit by hand: rerun the benchmark.`,
    '`npm run bench:smoke` (`tsx bench/run.ts --smoke`) runs a much smaller version for CI (under a minute, prints only; `--strict` makes a missed target fail the command).',
    '',
    '## Machine',
    '',
    table(
      ['', ''],
      [
        ['CPU', m.cpuModel],
        ['cores', m.cores],
        ['memory', `${m.memoryGiB} GiB`],
        ['OS', m.os],
        ['Node.js', m.node],
        ['moto', m.moto],
        [
          'code measured',
          `${m.commit}${m.uncommitted?.length ? ` + uncommitted changes (diff ${m.diffHash}) to ${m.uncommitted.join(', ')}` : ''}${
            codeChanged(m) ? ' (WARNING: the code changed while the benchmark ran; rerun on stable code)' : ''
          }`,
        ],
        [
          'load average (1 min) at start / end',
          `${fixed(m.loadStart, 2)} / ${fixed(m.loadEnd ?? Number.NaN, 2)}`,
        ],
        [
          'calibration workload (SHA-256 of 16 MiB) at start / end',
          `${(m.calibrationMs ?? []).map((x) => `${fixed(x, 1)} ms`).join(' / ')}`,
        ],
      ],
    ),
    '',
    'The machine is shared (other test suites run on it), so timings are noisier than on a quiet machine. The benchmark is built for that: AWS calls, state transitions and bundle sizes are counts and do not vary; timings are medians or nearest-rank percentiles over many runs, cold-init probes are interleaved across bundles round by round so background load spreads evenly, and every timed replay starts from the same freshly seeded state. The load average and a fixed calibration workload, taken at the start and the end, say how busy the machine was.',
    '',
    '## Targets',
    '',
    table(
      ['target', 'measured', 'result', 'why (when missed)'],
      r.targets.map((t) => [t.name, t.measured, verdict(t.pass), t.why ?? '']),
    ),
    '',
    '## 1. AWS calls per scenario',
    '',
    `Each scenario starts from a fresh emulator account (moto reset, topic and audit table created), a trail seeded with exactly that breakage by test/support/seed.ts, and one CloudTrail event replayed through the real workflow: \`replayEvent\` (services/local/replay.ts) applies the stack's rule pattern and runs the synthesized state machine with the in-process Lambda handlers. Calls are counted by SDK middleware added to every client through \`createClients({ onCreate })\`: one count per command sent (initialize step), per operation name and per workflow step. HTTP attempts are counted too (deserialize step, inside the SDK retry loop): ${
      r.calls.every((c) => c.attempts === c.total)
        ? 'they equal the commands in every scenario, so no SDK retry inflated the counts.'
        : `they differ in ${r.calls
            .filter((c) => c.attempts !== c.total)
            .map((c) => c.id)
            .join(', ')} (SDK retries of emulator errors; the table counts commands).`
    }`,
    '',
    `${CALL_SCENARIOS.filter((c) => c.seed?.roleName === DELIVERY_ROLE)
      .map((c) => c.id)
      .join(
        ', ',
      )} are seeded on trailguard's own delivery role (${DELIVERY_ROLE}), which it repairs in place and may pass to CloudTrail, so each measures the fix of that one finding. With a role trailguard does not manage, a broken role or a changed log group makes it point the trail at its delivery role instead (creating and granting it): \`everything-broken\` and the ROLE_ARN_* scenarios measure that path.`,
    '',
    "**How the minimum is derived** (bench/minimum.ts, call by call with the reason for each): the reads that establish the state once (GetTrail, GetTrailStatus, ListTags for the exemption, DescribeLogGroups for the target group, and for a role GetRole, ListRolePolicies, ListAttachedRolePolicies and one GetRolePolicy per inline policy), plus the writes strictly needed (one per thing that is wrong; a created group also gets PutRetentionPolicy, a created role PutRolePolicy), plus one read-back of everything compliance depends on when something was written (Verify: the same reads without ListTags), plus one SNS Publish and one DynamoDB PutItem for an outcome that is emailed and audited. The benchmark checks that the product made exactly the model's writes, so the comparison is about reads only.",
    '',
    callsTable(r),
    '',
    '### Where the extra calls are made',
    '',
    table(
      ['step', 'kind', 'calls', 'extra calls (all scenarios)', 'scenarios', 'source in the product'],
      excess.map((e) => [e.step, e.kind, e.ops.join(', '), e.calls, e.scenarios.size, e.source]),
    ),
    '',
    `${duplicatesInStep(r)} The reader (services/aws/trail-reader.ts) makes no redundant call itself (each of its functions reads each thing once), so nothing was changed there. ${remedies(r)}`,
    '',
    '<details><summary>Calls made, by step</summary>',
    '',
    measuredDetails(r),
    '',
    '</details>',
    '',
    '<details><summary>The minimum, call by call</summary>',
    '',
    minimumDetails(r),
    '',
    '</details>',
    '',
    '## 2. State transitions per outcome',
    '',
    `A transition is a state entered, as counted by the local runner from the execution's event log (Choice, Pass, Succeed and Fail states included). Price: Step Functions Standard $0.025 per 1,000 state transitions: ${PRICES.checked}. AWS also bills each retry as a transition. No retry happened locally; on AWS a new delivery role usually makes RestoreTrail retry while IAM propagates (retry waits ${IAM_PROPAGATION_WAITS_S.join(', ')} s), one extra transition per retry.`,
    '',
    transitionsTable(r),
    '',
    '## 3. Bundle size and cold init',
    '',
    `Each STEP_ENTRIES handler${r.bundles.some((b) => b.name === 'Sweep') ? ' (and the sweep function)' : ''} is bundled by calling esbuild's build API with the options CDK's NodejsFunction uses for infra/constructs/functions.ts: bundle, platform node, target ${r.esbuild.target} (from the functions' runtime), format esm, minify, no source map, main fields module,main, the createRequire banner, external ${r.esbuild.external.join(', ')} (CDK's default for Node.js 18+ runtimes, the SDK the runtime provides; read from the app's feature flag). The baseline is an empty handler bundled the same way. Sizes are of index.mjs.`,
    '',
    `Cold init: a fresh \`node --input-type=module -e\` process imports the bundle and reports \`performance.now()\` when the module is evaluated (time since the process started, Node's own start included, as Lambda's Init Duration includes the runtime start). Median of ${r.initRounds} rounds after one warm-up round; all bundles are probed once per round, interleaved. "init CPU" is the probe process's CPU time (all threads, \`process.cpuUsage()\`) at the same moment: it moves much less than wall time with other load on the machine, so its ratio to the baseline is the steadier comparison; the target is judged on wall time, as asked. The external \`@aws-sdk/*\` packages load from node_modules, as they load from the runtime's on Lambda.`,
    '',
    bundlesTable(r),
    '',
    `Where the init goes (medians over the functions, CPU): Node's start ${fixed(init.baseCpu)} ms (the baseline), loading the AWS SDK packages imported at module load +${fixed(init.sdkExtra)} ms (a module importing only a function's SDK imports; per function in the table), evaluating the bundle itself +${fixed(init.bundleExtra)} ms.${init.lazy ? ' SDK packages that services/aws/clients.ts loads on first use (last SDK column) are not part of module evaluation; the first invocation pays for them.' : ''}`,
    '',
    '## 4. Local end-to-end latency and throughput (moto)',
    '',
    `Breakage: ${LATENCY_SCENARIO.title} (findings ${LATENCY_SCENARIO.findings.join(', ')}; writes CreateLogGroup, PutRetentionPolicy, StartLogging). Latency is the wall time of \`replayEvent\` (rule match, the synthesized workflow, every step in process, moto on loopback). Between sequential replays moto is **reset**, the topic and table recreated and the trail seeded under a new name (untimed), so every replay really remediates the same state; three untimed warm-up replays come first. Throughput: all trails seeded first (untimed) in a fresh account, then all events replayed at once with Promise.all (no concurrency limit; the SDK's HTTP agent allows 50 sockets per client and queues the rest), then every trail checked by test/support/independent-check.ts's \`independentProblems\` (raw SDK reads plus IAM policy simulation, sharing no code with the product). The full run repeats this in two batches (each in a fresh account) and reports the median of their times, since one batch is a single timing.`,
    '',
    ...latencyLines(r).map((l) => `- ${l}`),
    '',
    'Median duration of each step in process (sequential runs; input to the cost model):',
    '',
    table(
      ['step', 'median'],
      Object.entries(r.localStepMs).map(([step, ms]) => [step, `${fixed(ms, 1)} ms`]),
    ),
    '',
    '### Scaling check: the shared delivery role',
    '',
    ...sharedRoleLines(r).map((l) => `- ${l}`),
    '',
    ...(r.sharedRole.inlinePolicies > 1
      ? [
          "A trail without integration (the most common breakage: UpdateTrail removing it) is pointed at the one configured delivery role, and RestoreRole adds one inline policy per log group to it (services/aws/role-writer.ts `deliveryPolicyName`: one policy per log group, by design, so trails never overwrite each other's grants). That is fine for a few trails but not for an account with dozens: IAM's aggregate inline-policy quota for a role is 10,240 characters, and every remediation reads all the grants twice. The throughput run therefore uses a breakage that keeps each trail on its own role; the growth is measured here instead.",
        ]
      : []),
    '',
    '## 5. Projection for AWS',
    '',
    `Per event, by outcome (same runs as section 2). Prices, ${PRICES.checked}: Step Functions $0.025 per 1,000 transitions; Lambda arm64 $${PRICES.lambdaGbSecondArm64} per GB-second and $0.20 per million requests (the functions are ${LAMBDA_MEMORY_GB * 1024} MB arm64); SNS $0.50 per million publishes plus $2.00 per 100,000 email deliveries (one subscriber assumed); DynamoDB on-demand $0.625 per million write request units (1 WRU per KB of the audit item: ${r.outcomes.map((o) => `${o.outcome} ${o.auditItemBytes} B`).join(', ')}); CloudTrail, IAM and CloudWatch Logs control-plane calls are free; CloudTrail events on the default EventBridge bus are free. Estimated extras not in the brief: X-Ray $5 per million traces (one per execution), CloudWatch Logs ingestion $0.50/GB (~1 KB of execution and function log lines per transition).`,
    '',
    `Lambda duration model (an upper bound, stated rather than measured): each step's median local duration (compute plus moto on loopback) plus every AWS call it made at an assumed in-region latency (${Object.entries(
      API_LATENCY_MS,
    )
      .map(([k, v]) => `${k} ${v} ms`)
      .join(
        ', ',
      )}), as if all calls were sequential. Since 1 August 2025 Lambda bills the INIT phase of cold starts for managed runtimes: "all cold" adds every function's init, taken as the local cold-init CPU time (median) scaled by ${fixed(CPU_SCALE, 1)} (a 256 MB function gets 256/1,769 of a vCPU), an upper bound for CPU-bound init.`,
    '',
    costTable(r),
    '',
    `Step Functions transitions dominate: ${broken ? `${fixed((broken.stepFunctions / broken.total) * 100)}% of a remediated event` : ''}; a million remediated events cost about ${dollars((broken?.total ?? 0) * 1_000_000)}.`,
    '',
    '**Latency model on AWS** (assumptions, not measurements):',
    '',
    table(
      ['component', 'assumption', 'source'],
      [
        [
          'CloudTrail -> EventBridge',
          `${LATENCY_ASSUMPTIONS.cloudTrailToEventBridgeTypicalS} s typical, ${LATENCY_ASSUMPTIONS.cloudTrailToEventBridgePessimisticS} s pessimistic`,
          'ASSUMPTION. AWS documents CloudTrail events on EventBridge as best-effort and publishes no latency figure; CloudTrail documents S3 log delivery as "within an average of about 5 minutes", which is used as the pessimistic bound. The sweep schedule is the backstop for events never delivered.',
        ],
        [
          'rule -> StartExecution',
          `${LATENCY_ASSUMPTIONS.ruleToExecutionMs} ms`,
          'assumption (EventBridge target invocation); on target errors EventBridge retries for up to 6 h (trigger.ts), then the dead-letter queue',
        ],
        [
          'each state transition',
          `${LATENCY_ASSUMPTIONS.perTransitionMs} ms`,
          'assumption (Standard workflow scheduling overhead)',
        ],
        [
          'each Lambda invoke (warm)',
          `${LATENCY_ASSUMPTIONS.warmInvokeMs} ms + the modelled step duration`,
          'assumption + the duration model above',
        ],
        ['cold start', 'pessimistic case: every function cold, init as above', 'local measurement, scaled'],
        [
          'IAM propagation of a new role',
          `typical: one RestoreTrail retry (${IAM_PROPAGATION_WAITS_S[0]} s); pessimistic: all retries (${IAM_PROPAGATION_WAITS_S.reduce((a, b) => a + b, 0)} s)`,
          'RETRIES.iamPropagation in infra/constructs/workflow.ts; the design notes say a new role may be rejected for up to ~2 minutes',
        ],
      ],
    ),
    '',
    table(
      ['outcome', 'workflow Lambda time (model)', 'end to end, typical', 'end to end, pessimistic'],
      r.costs.map((c) => [
        c.outcome,
        `${fixed(c.lambdaMs)} ms`,
        `${fixed(c.latencyTypicalS, 1)} s`,
        `${fixed(c.latencyPessimisticS, 1)} s`,
      ]),
    ),
    '',
    'The delivery of the CloudTrail event dominates: the workflow itself takes a few seconds, plus IAM propagation when a role had to be created.',
    '',
    ...(r.cli ? cliSection(r.cli) : []),
    ...section7(r),
    ...section8(r),
    ...section9(r),
    '## Product inefficiencies found',
    '',
    `AWS calls beyond the minimum, by step, over the ${r.calls.length} scenarios of section 1 (${r.calls.reduce((t, c) => t + c.total - c.minimum, 0)} in all):`,
    '',
    ...excessByStep(r).map(
      (e) =>
        `- **${e.step}**: ${e.calls} extra calls: ${e.kinds.join('; ')}. Where: ${e.sources.join(' / ')}.`,
    ),
    '',
    'Beyond the call counts:',
    '',
    ...inefficiencyBullets(r),
    ...section7Bullets(r),
    '',
    '## Reproducibility',
    '',
    'Counts (AWS calls, transitions, bundle bytes, emulator calls) are exact and identical from run to run unless the code changes. Timings are medians and nearest-rank percentiles; how close two runs come on this shared machine is shown by the comparison with the previous run below (run `npm run bench` twice to refresh it). Wall-clock timings move with the other load on the machine (see the load average and the calibration workload). CPU time per event (the runner process from process.cpuUsage, moto from /proc) and the ratios to the baseline move less, but on this shared VM still by up to ~20% between runs of the same code; the PASS/MISS verdicts did not change between runs.',
    '',
    ...(comparison
      ? [
          `Compared with the previous full run on this machine (${comparison.previousDate}):`,
          '',
          ...comparison.lines.map((l) => `- ${l}`),
        ]
      : ['No previous full run on this machine to compare with.']),
    ...(r.errors.length ? ['', '## Errors', '', ...r.errors.map((e) => `- ${e}`)] : []),
    '',
  ];
  return lines.join('\n');
}
