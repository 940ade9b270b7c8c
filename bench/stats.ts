/** Small, dependency-free statistics for the benchmark. */
import type { Counts } from './call-counter.js';

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

/** The sum of the counts. */
export function countsTotal(c: Readonly<Counts>): number {
  return sum(Object.values(c));
}
