/**
 * The organization sweep's time limits, read from the synthesized hub template (not from the constants): no
 * account's child execution can be cut off by Step Functions' Express limit, and the parent's timeout is above
 * its worst case for 1,000 accounts. AWS's rules the emulator does not enforce, checked as rules:
 * - an Express execution (Distributed Map children included) lasts at most 5 minutes ("Step Functions service
 *   quotas", https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html);
 * - an inline Map runs at most 40 iterations at once ("Using Map state in Inline mode",
 *   https://docs.aws.amazon.com/step-functions/latest/dg/state-map-inline.html);
 * - a retrier's defaults are IntervalSeconds 1, MaxAttempts 3, BackoffRate 2 ("Handling errors in Step Functions
 *   workflows", https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html); with FULL
 *   jitter a wait is at most the computed interval.
 */
import { describe, expect, it } from 'vitest';
import { STATE_MACHINE_METADATA_KEY } from '../../infra/constructs/organization-sweep.js';
import { assertSweepableRegions, MAX_SWEPT_REGIONS, SweepError } from '../../services/domain/sweep.js';
import { type CfnResource, functionIds, synth } from './template.js';

const EXPRESS_LIMIT_SECONDS = 5 * 60;
const INLINE_MAP_MAX_CONCURRENCY = 40;

interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
}
interface State {
  Type: string;
  TimeoutSeconds?: number;
  Retry?: Retrier[];
  MaxConcurrency?: number;
  ItemProcessor?: {
    ProcessorConfig?: { Mode?: string; ExecutionType?: string };
    States: Record<string, State>;
  };
}
interface Definition {
  TimeoutSeconds?: number;
  States: Record<string, State>;
}

const hub = synth({
  config: {
    accounts: ['111122223333', '444455556666'],
    regions: ['us-east-1', 'eu-west-1'],
    hubRegion: 'us-east-1',
  },
});

/** The organization sweep's definition, the sweep function's ARN (a GetAtt) written as a placeholder. */
function definition(resources: Record<string, CfnResource>): Definition {
  const machine = Object.values(resources).find(
    (r) =>
      r.Type === 'AWS::StepFunctions::StateMachine' &&
      r.Metadata?.[STATE_MACHINE_METADATA_KEY] === 'OrganizationSweep',
  );
  const body = machine?.Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] } | undefined;
  if (!body) throw new Error('no organization sweep');
  return JSON.parse(
    body['Fn::Join'][1].map((p) => (typeof p === 'string' ? p : 'arn:aws:lambda:::function:sweep')).join(''),
  ) as Definition;
}

/** The sweep function's Lambda timeout, in seconds. */
function sweepFunctionTimeout(resources: Record<string, CfnResource>): number {
  const id = functionIds(resources).Sweep;
  const timeout = id ? resources[id]?.Properties.Timeout : undefined;
  if (typeof timeout !== 'number') throw new Error('the sweep function has no timeout');
  return timeout;
}

/**
 * A task's worst case: every attempt runs to its limit (TimeoutSeconds, else the function's own timeout) and every
 * retrier retries as often as it may, each wait at its longest.
 */
function taskWorstSeconds(task: State, functionTimeout: number): number {
  const attempt = task.TimeoutSeconds ?? functionTimeout;
  let total = attempt;
  for (const r of task.Retry ?? []) {
    const max = r.MaxAttempts ?? 3;
    for (let k = 0; k < max; k++) {
      const wait = (r.IntervalSeconds ?? 1) * (r.BackoffRate ?? 2) ** k;
      total += Math.min(wait, r.MaxDelaySeconds ?? Number.POSITIVE_INFINITY) + attempt;
    }
  }
  return total;
}

const d = definition(hub.resources);
const functionTimeout = sweepFunctionTimeout(hub.resources);
const accounts = d.States.SweepAccounts as State;
const regions = accounts.ItemProcessor?.States.SweepRegions as State;
const target = regions.ItemProcessor?.States.SweepTarget as State;

/** One account's child execution: its regions in rounds of the inline Map's concurrency. */
function childWorstSeconds(regionCount: number): number {
  const concurrency = Math.min(
    regions.MaxConcurrency || INLINE_MAP_MAX_CONCURRENCY,
    INLINE_MAP_MAX_CONCURRENCY,
  );
  return Math.ceil(regionCount / concurrency) * taskWorstSeconds(target, functionTimeout);
}

describe('the organization sweep’s time limits (synthesized definition)', () => {
  it('each account is an Express child: its worst case stays within 5 minutes for 17 regions and for the most the sweep covers', () => {
    expect(accounts.ItemProcessor?.ProcessorConfig).toEqual({
      Mode: 'DISTRIBUTED',
      ExecutionType: 'EXPRESS',
    });
    expect(regions.MaxConcurrency).toBeGreaterThan(0);
    expect(regions.MaxConcurrency).toBeLessThanOrEqual(INLINE_MAP_MAX_CONCURRENCY);
    // SweepTarget's own task timeout bounds an attempt below the function's (which also lists the targets).
    expect(target.TimeoutSeconds).toBeLessThan(functionTimeout);
    expect(taskWorstSeconds(target, functionTimeout)).toBe(93);
    expect(childWorstSeconds(17)).toBe(186);
    expect(childWorstSeconds(MAX_SWEPT_REGIONS)).toBe(279);
    expect(childWorstSeconds(MAX_SWEPT_REGIONS)).toBeLessThan(EXPRESS_LIMIT_SECONDS);
    // One more round would not fit: the bound is what the sweep refuses beyond.
    expect(childWorstSeconds(MAX_SWEPT_REGIONS + 1)).toBeGreaterThan(EXPRESS_LIMIT_SECONDS);
  });

  it('the parent (Standard) outlasts its worst case for 1,000 accounts: ListTargets, then the children in waves of the Distributed Map’s concurrency', () => {
    const listTargets = taskWorstSeconds(d.States.ListTargets as State, functionTimeout);
    expect(listTargets).toBe(861);
    const waves = Math.ceil(1000 / (accounts.MaxConcurrency ?? 1));
    const worst17 = listTargets + waves * childWorstSeconds(17);
    const worstMax = listTargets + waves * childWorstSeconds(MAX_SWEPT_REGIONS);
    expect(worst17).toBe(19_461);
    expect(worstMax).toBe(28_761);
    expect(d.TimeoutSeconds).toBeGreaterThanOrEqual(worstMax);
  });

  it(`the sweep refuses more than ${MAX_SWEPT_REGIONS} regions per account, naming the \`regions\` key`, () => {
    const regionsOf = (n: number) => Array.from({ length: n }, (_, i) => `us-test-${i + 1}`);
    expect(() => assertSweepableRegions(regionsOf(MAX_SWEPT_REGIONS))).not.toThrow();
    expect(() => assertSweepableRegions(regionsOf(MAX_SWEPT_REGIONS + 1))).toThrow(SweepError);
    expect(() => assertSweepableRegions(regionsOf(MAX_SWEPT_REGIONS + 1))).toThrow(
      /at most 42 regions per account.*set `regions`/,
    );
  });
});
