/**
 * docs/benchmarks.md from one run: a summary table of the targets, then one short section per figure. Every
 * figure, sample and input is in docs/benchmarks.json; the prose says only what a reader needs.
 */
import type { StepName } from '../services/handlers/registry.js';
import type { CallComparison } from './analysis.js';
import { describeExtra } from './analysis.js';
import type { Counts } from './call-counter.js';
import { CLI_RSS_BUDGET_MIB, CLI_WALL_BUDGET_MS, type CliResult, withinBudget } from './cli.js';
import type { StepColdStart } from './cold-start.js';
import type { OrganizationCostResult } from './organization-cost.js';
import type { OrganizationSweepResult } from './organization-sweep.js';
import {
  API_LATENCY_MS,
  ASSUMPTIONS,
  type costOfRun,
  FULL_VCPU_MB,
  IAM_PROPAGATION_WAITS_S,
  type timeToFix,
} from './projection.js';

export interface Results {
  generated: string;
  machine: string;
  commit: string;
  durationS: number;
  benchLines: number;
  calls: (CallComparison & { id: string; findings: string[]; byStep: Partial<Record<StepName, Counts>> })[];
  outcomes: { outcome: string; transitions: number; invocations: number }[];
  cold: {
    now: StepColdStart[];
    before: StepColdStart[];
    memoryMb: number;
    baseline: { commit: string; memoryMb: number };
  };
  fix: { id: string; now: ReturnType<typeof timeToFix>; before: ReturnType<typeof timeToFix> }[];
  cli: CliResult;
  sweep: OrganizationSweepResult;
  costs: ReturnType<typeof costOfRun>[];
  organization: OrganizationCostResult;
  errors: string[];
}

export interface Target {
  target: string;
  figure: string;
  pass: boolean;
}

const f = (n: number, digits = 0) => n.toFixed(digits);
const x = (n: number) => `${n.toFixed(2)}x`;
const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
const usd = (n: number) => (n === 0 ? '$0' : n >= 0.01 ? `$${n.toFixed(2)}` : `$${n.toPrecision(2)}`);
const worst = <T>(rows: T[], by: (r: T) => number) => rows.reduce((a, b) => (by(b) > by(a) ? b : a));
/** A Markdown table: the header and each row as cells joined by ` | `. */
const table = (head: string, rows: string[]) =>
  [
    `| ${head} |`,
    `|${head
      .split(' | ')
      .map(() => ' --- ')
      .join('|')}|`,
    ...rows.map((row) => `| ${row} |`),
  ].join('\n');

export function targetsOf(r: Results): Target[] {
  const worstCalls = worst(r.calls, (c) => c.ratio);
  const transitions = r.outcomes.find((o) => o.outcome === 'remediated')?.transitions ?? 99;
  const biggest = worst(r.cold.now, (b) => b.bytes);
  const slowest = worst(r.cold.now, (b) => b.ratio);
  const fix = r.fix.find((t) => t.id === 'everything-broken');
  const cli = r.cli.commands.filter((c) => c.command !== 'check');
  const cliWorst = worst(cli, (c) => c.wallMs);
  const assumes = r.sweep.sweeps.flatMap((s) => Object.values(s.assumeRoles));
  const cliOk = cli.every((c) => withinBudget(c));
  const cliFigure = `${f(cliWorst.wallMs)} ms, ${f(cliWorst.rssMiB)} MiB (${cliWorst.command})`;
  const fixFigure = fix ? `${f(fix.now.totalS, 1)} s (was ${f(fix.before.totalS, 1)} s)` : 'not run';
  const rows: [string, string, boolean][] = [
    [
      'AWS calls <= 1.2x the minimum, every scenario',
      `worst ${x(worstCalls.ratio)} (${worstCalls.id})`,
      r.calls.every((c) => c.pass),
    ],
    ['<= 12 state transitions, fully broken trail', `${transitions}`, transitions <= 12],
    ['every bundle <= 250 KB', `largest ${kb(biggest.bytes)} (${biggest.step})`, biggest.bytes <= 250 * 1024],
    [
      'cold init + first invocation <= 1.25x its floor',
      `worst ${x(slowest.ratio)} (${slowest.step})`,
      slowest.ratio <= 1.25,
    ],
    ['<= 5 s to a verified fix on a cold stack, fully broken trail', fixFigure, (fix?.now.totalS ?? 99) <= 5],
    [
      `CLI replay and remediate <= ${CLI_WALL_BUDGET_MS} ms and <= ${CLI_RSS_BUDGET_MIB} MiB`,
      cliFigure,
      cliOk,
    ],
    [
      `<= 1 AssumeRole per account and member role per sweep (${r.sweep.accounts} accounts)`,
      `at most ${Math.max(0, ...assumes)}`,
      assumes.every((n) => n <= 1),
    ],
    ['bench/ <= 2,500 lines', `${r.benchLines}`, r.benchLines <= 2500],
    ['`npm run bench` <= 10 minutes on 2 cores', `${f(r.durationS / 60, 1)} min`, r.durationS <= 600],
  ];
  return rows.map(([target, figure, pass]) => ({ target, figure, pass }));
}

export function renderMarkdown(r: Results, targets: Target[]): string {
  const before = new Map(r.cold.before.map((b) => [b.step, b]));
  const org = r.organization;
  const latencies = Object.entries(API_LATENCY_MS).map(([k, v]) => `${k} ${v}`);
  const coldRow = (b: StepColdStart) => {
    const p = before.get(b.step);
    const sdk = b.floor.map((s) => s.replace('@aws-sdk/', '')).join(', ');
    return `${b.step} | ${kb(b.bytes)} | ${p ? kb(p.bytes) : '-'} | ${f(b.cold.initCpuMs)} + ${f(b.cold.firstCpuMs)} | ${f(b.floorCold.coldCpuMs)} | ${x(b.ratio)} | ${p ? x(p.ratio) : '-'} | ${sdk} | ${b.operations.length}`;
  };
  const cli = [
    ...r.cli.commands.map((c) => ({ ...c, name: c.command as string })),
    { ...r.cli.coldReplay, name: 'replay, empty cache' },
  ];
  const out = [
    '# Benchmarks',
    '',
    `Generated by \`npm run bench\` (bench/run.ts) on ${r.generated.slice(0, 10)}, code ${r.commit}, ${r.machine}; the run took ${f(r.durationS)} s. Do not edit by hand. Every figure, sample and input: [benchmarks.json](benchmarks.json).`,
    '',
    table(
      'target | today | met',
      targets.map((t) => `${t.target} | ${t.figure} | ${t.pass ? 'met' : '**missed**'}`),
    ),
    '',
    '## 1. AWS calls against the minimum',
    '',
    'One CloudTrail event per scenario replayed through the synthesized workflow on moto, every call counted, against the minimum written down call by call in bench/minimum.ts (reads once, writes strictly needed, one verifying re-read, the email, the findings and the audit record).',
    '',
    table(
      'scenario | calls | minimum | ratio | calls beyond the minimum',
      r.calls.map((c) => `${c.id} | ${c.total} | ${c.minimum} | ${x(c.ratio)} | ${describeExtra(c.extra)}`),
    ),
    '',
    '## 2. State transitions',
    '',
    table(
      'outcome | transitions | function invocations',
      r.outcomes.map((o) => `${o.outcome} | ${o.transitions} | ${o.invocations}`),
    ),
    '',
    '## 3. Bundles and cold init',
    '',
    `Each step bundled as CDK bundles it, then in a fresh Node process (interleaved, median of ${r.cold.now[0]?.cold.rounds ?? '?'} rounds): import, and one invocation with the input it got in the fully broken run, against moto. CPU ms, Node's own start included. The floor loads exactly the SDK packages the step called, as the step's bundle loads them (static import or require at first use), and sends each operation the step sent, once (reads with the step's input, writes empty so the floor changes nothing): each operation's first use in a process sets up its serializer and parser, a cost any implementation of the step pays. The operations are in benchmarks.json. "Before" is the same measurement of ${r.cold.baseline.commit} (main before this work), median of ${r.cold.before[0]?.cold.rounds ?? '?'} rounds.`,
    '',
    table(
      'function | bundle | before | CPU: init + first invocation | floor | ratio | before | SDK packages called | operations',
      r.cold.now.map(coldRow),
    ),
    '',
    '## 4. Time to a verified fix on a cold stack',
    '',
    `From the event reaching EventBridge to Verify's result, every function cold. Model: rule to execution ${ASSUMPTIONS.ruleToExecutionMs} ms; ${ASSUMPTIONS.perTransitionMs} ms per state transition; per function ${ASSUMPTIONS.invokeMs} ms invoke, its cold CPU from section 3 (it holds the handler's own work) scaled by ${FULL_VCPU_MB} MB / memory (Lambda allocates CPU in proportion to memory, one vCPU at ${FULL_VCPU_MB} MB: Lambda Developer Guide, "Configure Lambda function memory"), and its AWS calls one after another at ${latencies.join(', ')} ms. Memory now ${r.cold.memoryMb} MB, before ${r.cold.baseline.memoryMb} MB. **Assumed**, outside the target: CloudTrail to EventBridge is best effort with no AWS figure, taken as ${ASSUMPTIONS.eventDeliveryS} s; a role just created may be refused by UpdateTrail while IAM propagates (retried after ${IAM_PROPAGATION_WAITS_S.join(', ')} s).`,
    '',
    table(
      'scenario | functions | cold init | AWS calls | workflow | total | before | with event delivery',
      r.fix.map(
        (t) =>
          `${t.id} | ${t.now.steps.length} | ${f(t.now.initS, 2)} s | ${f(t.now.callsS, 2)} s | ${f(t.now.workflowS, 2)} s | **${f(t.now.totalS, 1)} s** | ${f(t.before.totalS, 1)} s | ${f(t.now.totalS + ASSUMPTIONS.eventDeliveryS)} s`,
      ),
    ),
    '',
    '## 5. The CLI as whole processes',
    '',
    `\`bin/trailguard.mjs\` against moto, a compliant trail, median of ${r.cli.runs} runs (${r.cli.meter}), the synthesized template cached; once with an empty cache.`,
    '',
    table(
      'command | wall | peak memory | CPU',
      cli.map((c) => `${c.name} | ${f(c.wallMs)} ms | ${f(c.rssMiB)} MiB | ${f(c.cpuMs)} ms`),
    ),
    '',
    '## 6. The organization sweep',
    '',
    `The hub's sweep on moto over ${r.sweep.accounts} accounts x ${r.sweep.regions.length} regions, one trail each, set up by \`trailguard local-setup\`: all compliant, then with ${r.sweep.broken.length} broken, then a re-read.`,
    '',
    table(
      'pass | wall | trails | compliant | runs started | AWS calls | calls per trail | most AssumeRole per account and role',
      r.sweep.sweeps.map(
        (s) =>
          `${s.id} | ${f(s.wallMs / 1000, 1)} s | ${s.trails} | ${s.compliant} | ${JSON.stringify(s.runs)} | ${s.total} | ${f(s.total / Math.max(1, s.trails), 1)} | ${Math.max(0, ...Object.values(s.assumeRoles))}`,
      ),
    ),
    '',
    '## 7. Cost per event and per organization',
    '',
    `us-east-1 list prices (bench/projection.ts, bench/organization-cost.ts: looked up for the model, check before quoting). Functions warm at ${r.cold.memoryMb} MB; "cold adds" is what INIT costs (billed since August 2025) when every function of the run starts cold.`,
    '',
    table(
      'outcome | invocations | Step Functions | Lambda | SNS | DynamoDB | logs, traces | total | cold adds',
      r.costs.map(
        (c) =>
          `${c.outcome} | ${c.invocations} | ${usd(c.stepFunctions)} | ${usd(c.lambda)} | ${usd(c.sns)} | ${usd(c.dynamodb)} | ${usd(c.observability)} | **${usd(c.total)}** | ${usd(c.coldExtra)}`,
      ),
    ),
    '',
    `Per month, ${org.scenario.regions} regions, ${org.scenario.eventsPerAccountRegion} matched events per account-region (${org.scenario.remediatedShare * 100}% remediated), a sweep every ${org.scenario.sweepIntervalMinutes} minutes (assumptions). Sweep work: ${org.sources.sweep}.`,
    '',
    table(
      'accounts | events | a full stack per account-region | hub and spokes | ratio',
      org.rows.map(
        (row) =>
          `${row.accounts} | ${row.eventsPerMonth} | ${usd(row.fullStacks.total)} | ${usd(row.hubAndSpoke.total)} | ${f(row.ratio)}x`,
      ),
    ),
    '',
  ];
  if (r.errors.length) out.push('## Errors', '', ...r.errors.map((e) => `- ${e}`), '');
  return `${out.join('\n')}\n`;
}
