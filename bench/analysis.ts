/**
 * Compares what the product called with the minimum (bench/minimum.ts): which calls are extra, and in which step.
 */
import type { StepName } from '../services/handlers/registry.js';
import type { Counts } from './call-counter.js';
import { countByOperation, countByStep, type MinimumCall, WRITE_OPERATIONS } from './minimum.js';
import { countsTotal } from './stats.js';

export interface Excess {
  step: StepName;
  op: string;
  n: number;
}

export interface CallComparison {
  total: number;
  minimum: number;
  ratio: number;
  pass: boolean;
  /** Calls beyond the minimum that no other step's missing call accounts for. */
  extra: Excess[];
  /** Minimum calls the product did not make at all (the model expected more). */
  fewer: { op: string; n: number }[];
  /** Differences between the writes made and the writes the model says are strictly needed. */
  writeMismatch: string[];
}

export const CALL_TARGET_RATIO = 1.2;

function writesOf(counts: Counts): Counts {
  return Object.fromEntries(Object.entries(counts).filter(([op]) => WRITE_OPERATIONS.has(op)));
}

export function compareCalls(
  commands: Counts,
  byStep: Partial<Record<StepName, Counts>>,
  minimum: readonly MinimumCall[],
): CallComparison {
  const total = countsTotal(commands);
  const minTotal = minimum.length;
  const minByStep = countByStep(minimum);

  const surplus: Excess[] = [];
  const pool: Record<string, number> = {};
  const steps = new Set<StepName>([
    ...(Object.keys(byStep) as StepName[]),
    ...(Object.keys(minByStep) as StepName[]),
  ]);
  for (const step of steps) {
    const actual = byStep[step] ?? {};
    const min = minByStep[step] ?? {};
    for (const op of new Set([...Object.keys(actual), ...Object.keys(min)])) {
      const d = (actual[op] ?? 0) - (min[op] ?? 0);
      if (d > 0) surplus.push({ step, op, n: d });
      if (d < 0) pool[op] = (pool[op] ?? 0) - d;
    }
  }
  // A call the model places in one step and the product makes in another is the same call, moved.
  const extra: Excess[] = [];
  for (const s of surplus) {
    const moved = Math.min(s.n, pool[s.op] ?? 0);
    pool[s.op] = (pool[s.op] ?? 0) - moved;
    if (s.n - moved > 0) extra.push({ ...s, n: s.n - moved });
  }
  const fewer = Object.entries(pool)
    .filter(([, n]) => n > 0)
    .map(([op, n]) => ({ op, n }));

  const madeWrites = writesOf(commands);
  const neededWrites = writesOf(countByOperation(minimum));
  const writeMismatch: string[] = [];
  for (const op of new Set([...Object.keys(madeWrites), ...Object.keys(neededWrites)])) {
    const made = madeWrites[op] ?? 0;
    const needed = neededWrites[op] ?? 0;
    if (made !== needed) writeMismatch.push(`${op}: made ${made}, model ${needed}`);
  }
  const ratio = total / minTotal;
  return {
    total,
    minimum: minTotal,
    ratio,
    pass: ratio <= CALL_TARGET_RATIO && writeMismatch.length === 0,
    extra,
    fewer,
    writeMismatch,
  };
}

/** "RestoreRole: GetRole, ListRolePolicies (nothing to change); Verify: ListTags" */
export function describeExtra(extra: readonly Excess[]): string {
  const byStep = new Map<string, string[]>();
  for (const e of extra) {
    const label = `${e.op}${e.n > 1 ? ` x${e.n}` : ''}`;
    byStep.set(e.step, [...(byStep.get(e.step) ?? []), label]);
  }
  return [...byStep].map(([step, ops]) => `${step}: ${ops.join(', ')}`).join('; ') || 'none';
}
