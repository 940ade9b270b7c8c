/**
 * Section 4: end-to-end latency and throughput against moto, plus the shared-role scaling check.
 *
 * Latency: `runs` sequential replays of the same breakage. Before each, untimed: moto is reset, the topic and the
 * audit table are created and the trail is seeded under a fresh name, so every replay really remediates the same
 * state (no earlier run's leftovers). Three untimed warm-up replays first (synthesis, JIT, connections).
 *
 * Throughput: `count` trails seeded (untimed) in one account, then all their events replayed at once with
 * Promise.all (concurrency limit: none in the benchmark; the SDK's HTTP agent allows 50 sockets per client and
 * the clients are shared). Afterwards every trail is checked by test/support/independent-check.ts.
 *
 * The breakage (log group deleted and logging stopped; the trail's own role is fine) keeps the trails
 * independent: each run writes CreateLogGroup, PutRetentionPolicy and StartLogging on its own resources. A
 * breakage that sends every trail to the shared default delivery role is measured separately (sharedRoleGrowth)
 * because the role's inline policies grow with every trail.
 */
import { readFileSync } from 'node:fs';
import { GetRolePolicyCommand, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import type { MotoServer } from '../services/local/moto.js';
import { replayEvent } from '../services/local/replay.js';
import { independentProblems } from '../test/support/independent-check.js';
import { seedTrail } from '../test/support/seed.js';
import { CallCounter, type Counts, type StepTiming } from './call-counter.js';
import { freshAccount, REGION, setupClients } from './emulator.js';
import { cloudTrailEvent, DELIVERY_ROLE, type Scenario, trailName } from './scenarios.js';
import { mapLimit, percentile, sum } from './stats.js';

export const LATENCY_SCENARIO: Scenario = {
  id: 'LOG_GROUP_MISSING',
  title: 'log group deleted and logging stopped (the trail keeps its own working role)',
  breaks: { logGroupMissing: true, loggingStopped: true },
  findings: ['LOGGING_STOPPED', 'LOG_GROUP_MISSING'],
  outcome: 'remediated',
  eventName: 'StopLogging',
};

/**
 * CPU time (ms) used so far by this process and by the moto server. Unlike wall time it hardly moves with other
 * load on a shared machine, so it is the reproducible measure of how much work an event takes locally. moto's comes
 * from /proc/<pid>/stat (utime + stime, 10 ms ticks; summed over many events).
 */
export function cpuNow(motoPid: number): { node: number; moto: number } {
  const u = process.cpuUsage();
  let moto = Number.NaN;
  try {
    const fields = readFileSync(`/proc/${motoPid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    moto = (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    // not Linux: moto's CPU time is unknown
  }
  return { node: (u.user + u.system) / 1000, moto };
}

export interface LatencyResult {
  runs: number;
  samplesMs: number[];
  p50: number;
  p95: number;
  max: number;
  /** Per replay: AWS calls counted (identical every run). */
  callsPerRun: number[];
  stepTimings: StepTiming[];
  /** CPU per replay, ms (mean over the runs): this process (runner + handlers + SDK) and moto. */
  nodeCpuMs: number;
  motoCpuMs: number;
}

function assertRemediated(outcome: string, trail: string, reason: string): void {
  if (outcome !== 'remediated') throw new Error(`replay of ${trail} ended ${outcome}: ${reason}`);
}

export async function sequentialLatency(moto: MotoServer, runs: number): Promise<LatencyResult> {
  const setup = setupClients();
  const counter = new CallCounter();
  const clients = counter.clients(REGION);
  const steps = counter.steps();
  const once = async (n: number) => {
    await freshAccount(moto.endpoint, setup);
    const trail = trailName('bench-latency', n);
    await seedTrail(setup, trail, { breaks: LATENCY_SCENARIO.breaks });
    counter.reset();
    const cpu = cpuNow(moto.pid);
    const started = performance.now();
    const result = await replayEvent(cloudTrailEvent(LATENCY_SCENARIO.eventName, trail, n), {
      clients,
      steps,
    });
    const elapsed = performance.now() - started;
    const cpuAfter = cpuNow(moto.pid);
    assertRemediated(result.outcome, trail, result.reason);
    return {
      elapsed,
      calls: counter.total,
      timings: [...counter.timings],
      nodeCpu: cpuAfter.node - cpu.node,
      motoCpu: cpuAfter.moto - cpu.moto,
    };
  };
  for (let w = 0; w < 3; w++) await once(900 + w);
  const samples: number[] = [];
  const calls: number[] = [];
  const timings: StepTiming[] = [];
  let nodeCpu = 0;
  let motoCpu = 0;
  for (let n = 0; n < runs; n++) {
    const r = await once(n);
    samples.push(r.elapsed);
    calls.push(r.calls);
    timings.push(...r.timings);
    nodeCpu += r.nodeCpu;
    motoCpu += r.motoCpu;
  }
  return {
    runs,
    samplesMs: samples,
    p50: percentile(samples, 50),
    p95: percentile(samples, 95),
    max: Math.max(...samples),
    callsPerRun: calls,
    stepTimings: timings,
    nodeCpuMs: nodeCpu / runs,
    motoCpuMs: motoCpu / runs,
  };
}

export interface ThroughputResult {
  count: number;
  /** At most this many executions in flight. */
  limit: number;
  wallMs: number;
  eventsPerSecond: number;
  outcomes: Record<string, number>;
  /** Trails independentProblems found not compliant afterwards (name -> problems). */
  notCompliant: Record<string, string[]>;
  verifiedCompliant: number;
  /** The product's calls to the emulator during the batch. */
  emulatorCalls: number;
  emulatorAttempts: number;
  commands: Counts;
  seedMs: number;
  verifyMs: number;
  /** Times the SDK warned that its socket pool was full and requests were queued. */
  socketWarnings: number;
  /** CPU per event during the batch, ms: this process and moto. */
  nodeCpuMsPerEvent: number;
  motoCpuMsPerEvent: number;
}

export async function concurrentThroughput(
  moto: MotoServer,
  count: number,
  limit = Number.POSITIVE_INFINITY,
): Promise<ThroughputResult> {
  const setup = setupClients();
  await freshAccount(moto.endpoint, setup);
  const names = Array.from({ length: count }, (_, n) => trailName('bench-throughput', n));
  const seedStarted = performance.now();
  await mapLimit(names, 8, (name) => seedTrail(setup, name, { breaks: LATENCY_SCENARIO.breaks }));
  const seedMs = performance.now() - seedStarted;

  const counter = new CallCounter();
  const clients = counter.clients(REGION);
  const steps = counter.steps();
  // Synthesis and first-run costs are not part of the batch: one replay of an unrelated, compliant trail first.
  await seedTrail(setup, 'bench-throughput-warmup');
  await replayEvent(cloudTrailEvent('UpdateTrail', 'bench-throughput-warmup', 999), { clients, steps });
  counter.reset();

  // With every execution in flight the SDK's 50-socket pool queues requests and says so on console.warn: count
  // those warnings instead of printing them.
  const warn = console.warn;
  let socketWarnings = 0;
  console.warn = (...args: unknown[]) => {
    if (String(args[0]).includes('socket usage at capacity')) socketWarnings++;
    else warn(...args);
  };
  const cpu = cpuNow(moto.pid);
  const started = performance.now();
  let results: Awaited<ReturnType<typeof replayEvent>>[];
  try {
    results = await mapLimit(names, limit, (name, n) =>
      replayEvent(cloudTrailEvent(LATENCY_SCENARIO.eventName, name, n), { clients, steps }),
    );
  } finally {
    console.warn = warn;
  }
  const wallMs = performance.now() - started;
  const cpuAfter = cpuNow(moto.pid);
  const outcomes: Record<string, number> = {};
  for (const r of results) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
  const emulatorCalls = counter.total;
  const emulatorAttempts = counter.totalAttempts;
  const commands = { ...counter.commands };

  const verifyStarted = performance.now();
  const problems = await mapLimit(names, 8, (name) => independentProblems(name, REGION));
  const verifyMs = performance.now() - verifyStarted;
  const notCompliant: Record<string, string[]> = {};
  names.forEach((name, i) => {
    const p = problems[i] ?? [];
    if (p.length > 0) notCompliant[name] = p;
  });
  return {
    count,
    limit,
    wallMs,
    eventsPerSecond: count / (wallMs / 1000),
    outcomes,
    notCompliant,
    verifiedCompliant: count - Object.keys(notCompliant).length,
    emulatorCalls,
    emulatorAttempts,
    commands,
    seedMs,
    verifyMs,
    socketWarnings,
    nodeCpuMsPerEvent: (cpuAfter.node - cpu.node) / count,
    motoCpuMsPerEvent: (cpuAfter.moto - cpu.moto) / count,
  };
}

export interface SharedRoleGrowth {
  trails: number;
  /** AWS calls of the first and of the last replay. */
  firstRunCalls: number;
  lastRunCalls: number;
  /** GetRolePolicy calls of the last replay. */
  lastRunGetRolePolicy: number;
  inlinePolicies: number;
  /** Non-whitespace characters of all the role's inline policies (what IAM's quota counts). */
  inlinePolicyChars: number;
  /** Mean characters per inline policy of the role. */
  charsPerGrant: number;
}

/** IAM: the aggregate size of a role's inline policies, non-whitespace characters. */
export const IAM_ROLE_INLINE_POLICY_QUOTA = 10_240;

/**
 * `trails` trails without integration remediated one after another in one account (no reset): each is pointed at
 * the default delivery role, whose one shared grant covers every template log group.
 */
export async function sharedRoleGrowth(moto: MotoServer, trails: number): Promise<SharedRoleGrowth> {
  const setup = setupClients();
  await freshAccount(moto.endpoint, setup);
  const counter = new CallCounter();
  const clients = counter.clients(REGION);
  const steps = counter.steps();
  const calls: number[] = [];
  let lastGetRolePolicy = 0;
  for (let n = 0; n < trails; n++) {
    const trail = trailName('bench-shared-role', n);
    await seedTrail(setup, trail, { breaks: { logGroupArn: 'absent', roleArn: 'absent' } });
    counter.reset();
    const result = await replayEvent(cloudTrailEvent('UpdateTrail', trail, n), { clients, steps });
    assertRemediated(result.outcome, trail, result.reason);
    calls.push(counter.total);
    lastGetRolePolicy = counter.commands.GetRolePolicy ?? 0;
  }
  const iam = setup.iam();
  const names = (await iam.send(new ListRolePoliciesCommand({ RoleName: DELIVERY_ROLE }))).PolicyNames ?? [];
  const sizes: number[] = [];
  for (const name of names) {
    const out = await iam.send(new GetRolePolicyCommand({ RoleName: DELIVERY_ROLE, PolicyName: name }));
    const text = decodeURIComponent(out.PolicyDocument ?? '');
    sizes.push(text.replace(/\s/g, '').length);
  }
  return {
    trails,
    firstRunCalls: calls[0] ?? 0,
    lastRunCalls: calls.at(-1) ?? 0,
    lastRunGetRolePolicy: lastGetRolePolicy,
    inlinePolicies: names.length,
    inlinePolicyChars: sum(sizes),
    charsPerGrant: sizes.length ? Math.round(sum(sizes) / sizes.length) : 0,
  };
}
