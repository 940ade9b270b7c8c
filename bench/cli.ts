/**
 * The `trailguard` command as a user runs it: a whole process per command (`node bin/trailguard.mjs`), wall time,
 * peak resident memory and CPU (/usr/bin/time) of `check`, `replay` and `remediate` on one compliant trail in
 * moto. Warm: one untimed run of each fills the caches, then `runs` interleaved rounds, median per command. Cold:
 * one `replay` with an empty template cache ($TRAILGUARD_CACHE_DIR), as after a code or configuration change.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MotoServer } from '../services/local/moto.js';
import { REPO_ROOT } from '../services/local/synth-cache.js';
import { seedTrail } from '../test/support/seed.js';
import { SCRATCH } from './cold-start.js';
import { freshAccount, REGION, setupClients } from './emulator.js';
import { cloudTrailEvent } from './scenarios.js';
import { median, spawnOutput } from './stats.js';

export const CLI_WALL_BUDGET_MS = 1500;
export const CLI_RSS_BUDGET_MIB = 250;
export const CLI_COMMANDS = ['check', 'replay', 'remediate'] as const;
export type CliCommand = (typeof CLI_COMMANDS)[number];

const TRAIL = 'bench-cli';
const BIN = join(REPO_ROOT, 'bin', 'trailguard.mjs');
const TIME = '/usr/bin/time';

export interface ProcessSample {
  wallMs: number;
  /** Peak resident set size of the process, MiB. */
  rssMiB: number;
  /** User + system CPU time of the process, ms. */
  cpuMs: number;
  exitCode: number;
}

export interface CliCommandResult {
  command: CliCommand;
  args: string[];
  /** Medians over the runs. */
  wallMs: number;
  rssMiB: number;
  cpuMs: number;
  samples: ProcessSample[];
}

export interface CliResult {
  runs: number;
  /** How peak memory and CPU were read. */
  meter: string;
  commands: CliCommandResult[];
  /** One `replay` with an empty template cache. */
  coldReplay: ProcessSample;
  budget: { wallMs: number; rssMiB: number };
}

export class CliBenchError extends Error {
  override name = 'CliBenchError';
}

/** Runs `node bin/trailguard.mjs ...args` once and reads its wall time, peak RSS and CPU. */
async function measure(args: string[], env: NodeJS.ProcessEnv): Promise<ProcessSample & { stdout: string }> {
  const stats = join(SCRATCH, 'cli', `rusage-${process.pid}.txt`);
  rmSync(stats, { force: true });
  const started = performance.now();
  const { code, stdout, stderr } = await spawnOutput(
    TIME,
    ['-o', stats, '-f', '%M %U %S %x', process.execPath, BIN, ...args],
    { cwd: REPO_ROOT, env },
  );
  const wallMs = performance.now() - started;
  let fields: number[];
  try {
    fields = readFileSync(stats, 'utf8').trim().split(/\s+/).slice(-4).map(Number);
  } catch (error) {
    throw new CliBenchError(`trailguard ${args[0]}: no resource usage recorded (${stderr.trim()})`, {
      cause: error,
    });
  }
  const [maxRssKiB = Number.NaN, user = Number.NaN, system = Number.NaN] = fields;
  if (code !== 0) {
    throw new CliBenchError(
      `trailguard ${args.join(' ')} exited ${code}: ${stderr.trim().split('\n').at(-1)}`,
    );
  }
  return { wallMs, rssMiB: maxRssKiB / 1024, cpuMs: (user + system) * 1000, exitCode: code, stdout };
}

/** The command's JSON result (its last line): what it found about the trail. */
function assertCompliant(command: CliCommand, stdout: string): void {
  const last = stdout.trim().split('\n').at(-1) ?? '';
  let parsed: { outcome?: unknown; compliant?: unknown };
  try {
    parsed = JSON.parse(command === 'check' ? stdout : last) as typeof parsed;
  } catch (error) {
    throw new CliBenchError(`trailguard ${command} did not print JSON: ${last.slice(0, 200)}`, {
      cause: error,
    });
  }
  const ok = command === 'check' ? parsed.compliant === true : parsed.outcome === 'compliant';
  if (!ok)
    throw new CliBenchError(`trailguard ${command} did not find the trail compliant: ${last.slice(0, 300)}`);
}

export async function cliProcesses(moto: MotoServer, runs: number): Promise<CliResult> {
  const setup = setupClients();
  await freshAccount(moto.endpoint, setup);
  await seedTrail(setup, TRAIL);
  const dir = join(SCRATCH, 'cli');
  mkdirSync(dir, { recursive: true });
  const eventFile = join(dir, 'update-trail.json');
  writeFileSync(eventFile, `${JSON.stringify(cloudTrailEvent('UpdateTrail', TRAIL, 0), null, 2)}\n`);
  const args: Record<CliCommand, string[]> = {
    check: ['check', '--trail', TRAIL, '--region', REGION, '--json'],
    replay: ['replay', eventFile, '--json'],
    remediate: ['remediate', '--trail', TRAIL, '--region', REGION, '--json'],
  };
  const env = { ...process.env };
  delete env.TRAILGUARD_CACHE_DIR;
  delete env.TRAILGUARD_TSX;

  // Warm-up (untimed): builds the CLI and fills the template cache if the code changed since the last run.
  for (const command of CLI_COMMANDS) assertCompliant(command, (await measure(args[command], env)).stdout);

  const samples: Record<CliCommand, ProcessSample[]> = { check: [], replay: [], remediate: [] };
  for (let round = 0; round < runs; round++) {
    for (const command of CLI_COMMANDS) {
      const { stdout, ...sample } = await measure(args[command], env);
      assertCompliant(command, stdout);
      samples[command].push(sample);
    }
  }

  const empty = mkdtempSync(join(dir, 'cold-'));
  let coldReplay: ProcessSample;
  try {
    const { stdout, ...sample } = await measure(args.replay, { ...env, TRAILGUARD_CACHE_DIR: empty });
    assertCompliant('replay', stdout);
    coldReplay = sample;
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }

  return {
    runs,
    meter: `${TIME} (%M, %U + %S)`,
    commands: CLI_COMMANDS.map((command) => ({
      command,
      args: args[command].map((a) => (a === eventFile ? 'EVENT.json' : a)),
      wallMs: median(samples[command].map((s) => s.wallMs)),
      rssMiB: median(samples[command].map((s) => s.rssMiB)),
      cpuMs: median(samples[command].map((s) => s.cpuMs)),
      samples: samples[command],
    })),
    coldReplay,
    budget: { wallMs: CLI_WALL_BUDGET_MS, rssMiB: CLI_RSS_BUDGET_MIB },
  };
}

/** Whether a command's medians are within the budget. */
export function withinBudget(c: Pick<CliCommandResult, 'wallMs' | 'rssMiB'>): boolean {
  return c.wallMs <= CLI_WALL_BUDGET_MS && c.rssMiB <= CLI_RSS_BUDGET_MIB;
}
