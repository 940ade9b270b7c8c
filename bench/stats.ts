/** Small helpers of the benchmark: statistics, and a child process's exit code and output. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Counts } from './call-counter.js';

type Env = NodeJS.ProcessEnv;
/** Runs `file` to its end: its exit code and output (a non-zero exit is returned, not thrown). */
export async function spawnOutput(file: string, args: string[], options: { cwd: string; env: Env }) {
  try {
    return { code: 0, ...(await promisify(execFile)(file, args, { ...options, maxBuffer: 256 << 20 })) };
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw error;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

export function countsTotal(c: Readonly<Counts>): number {
  return sum(Object.values(c));
}
