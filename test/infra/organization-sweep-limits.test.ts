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
 *   jitter a wait is at most the computed interval;
 * - a state's input or output (and an execution's) holds at most 256 KiB of UTF-8 ("Step Functions service quotas",
 *   quotas related to state throttling and payload size).
 */
import { StateMachine } from 'aws-local-stepfunctions';
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

/** Step Functions' limit on a state's input or output: 256 KiB ("Step Functions service quotas"). */
const PAYLOAD_LIMIT_BYTES = 256 * 1024;

/** States of the synthesized definition, run (aws-local-stepfunctions) from `startAt` with `input`. */
async function runStates(states: Record<string, State>, startAt: string, input: unknown) {
  const machine = new StateMachine({ StartAt: startAt, States: states } as never);
  return machine.run(input as never).result as Promise<Record<string, unknown>>;
}

/** A state of the definition made the end of a run of its own. */
function ending(state: State | undefined): State {
  const { Next: _next, ...rest } = (state ?? {}) as State & { Next?: string };
  return { ...rest, End: true } as State;
}

describe('the organization sweep’s state stays within 256 KiB (synthesized definition, run locally)', () => {
  /** The longest region names and error name a target reports (AWS's longest region codes are 14 characters). */
  const regionsOf = (n: number) => Array.from({ length: n }, (_, i) => `ap-southeast-${i % 10}`);
  const LONG_ERROR = 'Lambda.ClientExecutionTimeoutException';
  const child = (accounts.ItemProcessor?.States ?? {}) as Record<string, State>;
  const regionStates = (regions.ItemProcessor?.States ?? {}) as Record<string, State>;

  /** Summarize's output when every account-region of `accountCount` accounts x `regionCount` regions failed. */
  async function worstSummary(accountCount: number, regionCount: number) {
    const regionNames = regionsOf(regionCount);
    // Each region's output: the longest one, a failure with its error (SweepTargetFailed as synthesized).
    const failed = await runStates(
      { SweepTargetFailed: ending(regionStates.SweepTargetFailed) },
      'SweepTargetFailed',
      {
        kind: 'target',
        account: '111122223333',
        region: regionNames[0],
        id: 'sweep-1',
        error: { Error: LONG_ERROR, Cause: 'x'.repeat(1000) },
      },
    );
    // One account's result: the child's states after its inline Map.
    const { SweepRegions: _map, ...tail } = child;
    const accountResult = await runStates(tail, 'SweepAccountDone', {
      account: '111122223333',
      regions: regionNames,
      id: 'sweep-1',
      swept: regionNames.map(() => failed),
    });
    const accountIds = Array.from({ length: accountCount }, (_, i) => String(100000000000 + i));
    const input = {
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      id: 'sweep-1',
      listed: {
        kind: 'targets',
        accounts: accountIds,
        regions: regionNames,
        id: 'sweep-1',
        trails: [],
        started: 0,
      },
      results: accountIds.map((account) => ({ ...accountResult, account })),
    };
    const output = await runStates({ Summarize: ending(d.States.Summarize) }, 'Summarize', input);
    return { accountResult, input, output };
  }

  const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value), 'utf8');

  it('1,000 accounts x 17 regions, every one failed (the worst case): each account-region’s status is kept, and the map’s output and Summarize’s fit', async () => {
    const { accountResult, input, output } = await worstSummary(1000, 17);
    expect(accountResult).toMatchObject({ failed: true, failedRegions: 17, statuses: Array(17).fill('x') });
    expect((output.results as unknown[]).length).toBe(1000);
    expect(bytes(input)).toBeLessThan(PAYLOAD_LIMIT_BYTES);
    expect(bytes(output)).toBeLessThan(PAYLOAD_LIMIT_BYTES);
    // The documented figure (docs/architecture.md): about 221 KB of the 262 KB.
    expect(Math.round(bytes(input) / 1000)).toBe(221);
  });

  it('a coverage gap costs less than a failure: an all-gap account is smaller than an all-failed one', async () => {
    const { SweepRegions: _map, ...tail } = child;
    const gapOnly = await runStates(tail, 'SweepAccountDone', {
      account: '111122223333',
      regions: regionsOf(17),
      id: 'sweep-1',
      swept: regionsOf(17).map(() => ({ failed: false, gap: true, s: 'n' })),
    });
    expect(gapOnly).toEqual({ account: '111122223333', failed: false, statuses: Array(17).fill('n') });
    const { accountResult } = await worstSummary(1, 17);
    expect(bytes(gapOnly)).toBeLessThan(bytes(accountResult));
  });
});
