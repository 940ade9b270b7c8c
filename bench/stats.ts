/** Small, dependency-free statistics for the benchmark (nearest-rank percentiles, so results are exact values). */
import type { Counts } from './call-counter.js';

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
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

/** Runs `task` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

export const ms = (value: number, digits = 0) => `${value.toFixed(digits)} ms`;
export const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
export const usd = (value: number) =>
  value === 0 ? '$0' : value < 0.01 ? `$${value.toExponential(2)}` : `$${value.toFixed(4)}`;

/** The sum of the counts. */
export function countsTotal(c: Readonly<Counts>): number {
  return sum(Object.values(c));
}

/** a - b, by key; keys whose difference is 0 are left out. */
export function minusCounts(a: Readonly<Counts>, b: Readonly<Counts>): Counts {
  const out: Counts = {};
  for (const op of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const d = (a[op] ?? 0) - (b[op] ?? 0);
    if (d !== 0) out[op] = d;
  }
  return out;
}
