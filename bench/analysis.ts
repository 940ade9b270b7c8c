/**
 * Compares what the product called with the minimum (bench/minimum.ts): which calls are extra, in which step,
 * and why they are made (the source of each kind, as read in the product when this benchmark was written).
 */
import type { StepName } from '../services/handlers/registry.js';
import type { Counts } from './call-counter.js';
import { countByOperation, countByStep, type MinimumCall, WRITE_OPERATIONS } from './minimum.js';
import { countsTotal } from './stats.js';

export type ExcessKind =
  | 'read by a restore step that changed nothing'
  | 're-read before writing'
  | 'retention check of an existing group'
  | 'not needed to verify'
  | 'extra';

export interface Excess {
  step: StepName;
  op: string;
  n: number;
  kind: ExcessKind;
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

/** Where each kind of extra call comes from in the product (file, function, calls). */
export const EXCESS_SOURCES: Record<string, string> = {
  'RestoreRole:read':
    'services/aws/role-writer.ts `ensureDeliveryRole` starts with `readRole` (services/aws/trail-reader.ts): GetRole, ListRolePolicies, ListAttachedRolePolicies and GetRolePolicy per inline policy, re-reading what Check read',
  'RestoreLogGroup:read':
    'services/aws/log-group-writer.ts `ensureLogGroup` starts with `readLogGroup` (DescribeLogGroups); the step runs when `restoreNeeds` (services/domain/plan.ts) says the group needs work, which includes every existing group without retention',
  'RestoreLogGroup:ListTagsForResource':
    'services/aws/log-group-writer.ts `managedWithoutRetention`: ListTagsForResource on an existing group without retention (the CloudWatch Logs default, "never expire") to see whether it is one trailguard created and left unfinished',
  'RestoreTrail:read':
    'services/aws/trail-writer.ts `ensureTrailIntegration`: `readTrail` (GetTrail) and GetTrailStatus, re-reading what Check read',
  'Verify:ListTags':
    'services/handlers/verify.ts calls `readTrailState` (services/aws/trail-reader.ts) with tags: the exemption tag does not affect verification',
};

export function sourceOf(e: Excess): string | undefined {
  return (
    EXCESS_SOURCES[`${e.step}:${e.op}`] ??
    (e.step.startsWith('Restore') ? EXCESS_SOURCES[`${e.step}:read`] : undefined)
  );
}

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
      if (d > 0) surplus.push({ step, op, n: d, kind: 'extra' });
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
  for (const e of extra) {
    const stepWrites = Object.keys(writesOf(byStep[e.step] ?? {})).length;
    if (e.op === 'ListTagsForResource') e.kind = 'retention check of an existing group';
    else if (e.step === 'Verify' && e.op === 'ListTags') e.kind = 'not needed to verify';
    else if (e.step.startsWith('Restore') && !WRITE_OPERATIONS.has(e.op))
      e.kind = stepWrites === 0 ? 'read by a restore step that changed nothing' : 're-read before writing';
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
