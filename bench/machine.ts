/** The machine the numbers come from. */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { MOTO_VENV_DIR, venvPython } from '../services/local/moto-python.js';

export interface MachineFacts {
  date: string;
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  moto: string;
  os: string;
  /** 1-minute load average when the run started and when it ended (other work on the machine). */
  loadStart: number;
  loadEnd?: number;
  /** The calibration workload's time at the start and at the end of the run (ms). */
  calibrationMs?: [number, number];
  /** The code measured: HEAD and the files changed in the working tree (outside bench/ and the report). */
  commit: string;
  uncommitted: string[];
  /** SHA-256 (short) of those uncommitted changes: equal when two runs measured the same code. */
  diffHash: string;
  /** The same at the end of the run: different when someone changed the code while it ran. */
  diffHashEnd?: string;
  commitEnd?: string;
}

export function codeVersion(): { commit: string; uncommitted: string[]; diffHash: string } {
  const git = (...args: string[]) => spawnSync('git', args, { encoding: 'utf8' });
  const head = git('rev-parse', '--short', 'HEAD');
  const status = git('status', '--porcelain', '--untracked-files=no');
  const uncommitted = (status.stdout ?? '')
    .split('\n')
    .map((l) => l.slice(3).trim())
    .filter((f) => f && !f.startsWith('bench/') && f !== 'docs/benchmarks.md');
  const diff = git('diff', 'HEAD', '--', '.', ':(exclude)bench', ':(exclude)docs/benchmarks.md');
  const diffHash = createHash('sha256')
    .update(diff.stdout ?? '')
    .digest('hex')
    .slice(0, 12);
  return { commit: head.status === 0 ? head.stdout.trim() : 'unknown', uncommitted, diffHash };
}

/** moto's version, from the interpreter the emulator runs with (services/local/moto-python.ts's order). */
export function motoVersion(): string {
  const candidates = [
    process.env.TRAILGUARD_PYTHON ?? 'python3',
    venvPython(fileURLToPath(new URL(`../${MOTO_VENV_DIR}`, import.meta.url))),
  ];
  for (const python of candidates) {
    const out = spawnSync(python, ['-c', 'import moto; print(moto.__version__)'], { encoding: 'utf8' });
    if (out.status === 0) return out.stdout.trim();
  }
  return 'unknown';
}

export function machineFacts(): MachineFacts {
  const cpu = cpus();
  return {
    date: new Date().toISOString(),
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    moto: motoVersion(),
    os: `${process.platform} ${release()} ${process.arch}`,
    loadStart: loadavg()[0] ?? 0,
    ...codeVersion(),
  };
}

export function currentLoad(): number {
  return loadavg()[0] ?? 0;
}

/**
 * A fixed CPU workload (SHA-256 over 16 MiB, median of 5): how fast this machine is for this process right now. It
 * moves with the other load on a shared machine, so run-to-run differences in timings can be read against it.
 */
export function calibrate(): number {
  const data = Buffer.alloc(16 * 1024 * 1024, 7);
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    createHash('sha256').update(data).digest();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[2] ?? Number.NaN;
}
