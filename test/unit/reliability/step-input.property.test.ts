/**
 * Bad input to every step core (`xxxStep(deps)`, what each Lambda runs): random values, RunContexts with
 * fields removed or of the wrong type, Check inputs with damaged events. Every step either returns or throws
 * a named TrailguardError (never a TypeError, a ZodError or anything unnamed), and when it rejects its input
 * (InvalidInputError) it has made no AWS call at all, so certainly no write. The clients here refuse and count
 * every call (fault injection on `*`), so a step that reached AWS is caught even when its input was valid.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../policies/config.js';
import { InvalidInputError, TrailguardError } from '../../../services/domain/errors.js';
import { isFailureEnvelope } from '../../../services/domain/failure.js';
import type { HandlerDeps } from '../../../services/handlers/deps.js';
import { STEPS, type StepName } from '../../../services/handlers/registry.js';
import { FaultInjector, failing } from '../../support/faults.js';
import { EXECUTION, remediateContext, remediatedContext } from '../../support/run-contexts.js';
import { ACCOUNT, mutationArb, validEventArb, wrongValueArb } from './arbitraries.js';

const RUNS = 100;
const TOPIC = `arn:aws:sns:us-east-1:${ACCOUNT}:trailguard-notifications`;

function blockedDeps(): { deps: HandlerDeps; injector: FaultInjector } {
  const injector = new FaultInjector([failing('*', 'accessDenied')]);
  return {
    injector,
    deps: {
      config: parseConfig({}),
      topicArn: TOPIC,
      auditTableName: 'trailguard-audit',
      accountId: ACCOUNT,
      clients: injector.clients(),
      now: () => new Date('2026-11-20T14:04:00Z'),
    },
  };
}

/**
 * Runs one step on a payload and checks the contract: a result, or a named error; InvalidInputError only
 * with no AWS call. Returns what happened, for further checks.
 */
async function runStep(step: StepName, payload: unknown) {
  const { deps, injector } = blockedDeps();
  let error: unknown;
  try {
    await STEPS[step](deps)(structuredClone(payload));
  } catch (e) {
    error = e;
  }
  if (error !== undefined) {
    expect(error, `${step} threw ${(error as Error)?.name}: ${(error as Error)?.message}`).toBeInstanceOf(
      TrailguardError,
    );
    expect(error).not.toBeInstanceOf(TypeError);
  }
  if (error instanceof InvalidInputError) {
    expect(injector.calls, `${step} rejected its input after calling AWS`).toEqual([]);
    expect((error as Error).message.length).toBeLessThan(10_000);
  }
  return { error, calls: injector.calls, writes: injector.writes() };
}

const ALL_STEPS = Object.keys(STEPS) as StepName[];
const RESTORE_STEPS: StepName[] = ['RestoreLogGroup', 'RestoreRole', 'RestoreTrail', 'Verify'];
const anyPayload = fc.anything({ maxDepth: 3, withNullPrototype: true });

describe('every step core, random payloads', () => {
  it.each(ALL_STEPS)('%s: a result or a named error; InvalidInputError before any AWS call', async (step) => {
    await fc.assert(
      fc.asyncProperty(anyPayload, async (payload) => {
        await runStep(step, payload);
      }),
      { numRuns: RUNS },
    );
  });

  it.each(ALL_STEPS)('%s: a random non-envelope payload is rejected with no AWS call', async (step) => {
    await fc.assert(
      fc.asyncProperty(
        anyPayload.filter((p) => !isFailureEnvelope(p)),
        async (payload) => {
          const { error, calls } = await runStep(step, payload);
          expect(error).toBeInstanceOf(InvalidInputError);
          expect(calls).toEqual([]);
        },
      ),
      { numRuns: 50 },
    );
  });
});

describe('damaged RunContexts', () => {
  it.each(RESTORE_STEPS)(
    '%s: a damaged remediation context is rejected or handled, never crashes',
    async (step) => {
      await fc.assert(
        fc.asyncProperty(mutationArb(remediateContext()), async ({ mutated }) => {
          await runStep(step, mutated);
        }),
        { numRuns: RUNS },
      );
    },
  );

  it.each(RESTORE_STEPS)('%s: a context naming no usable region: a named error, no write', async (step) => {
    // Found by the property above: RestoreTrail created its CloudTrail client for the home region before
    // any wrapped call, so an empty region escaped as a bare Error("Region is missing").
    for (const region of ['', ' ', 'not a region', 'us-east-1\n']) {
      const ctx = remediateContext();
      const before = ctx.before as NonNullable<typeof ctx.before>;
      before.state.trail.homeRegion = region;
      before.state.region = region;
      const { error, writes } = await runStep(step, { ...ctx, trailRef: { ...ctx.trailRef, region } });
      expect(error, JSON.stringify(region)).toBeInstanceOf(TrailguardError);
      expect(writes).toEqual([]);
    }
  });

  it.each(RESTORE_STEPS)(
    '%s: a context Check did not send to remediation is rejected before AWS',
    async (step) => {
      for (const decision of ['compliant', 'notify', 'skip']) {
        const { error, calls } = await runStep(step, { ...remediateContext(), decision });
        expect(error).toBeInstanceOf(InvalidInputError);
        expect(calls).toEqual([]);
      }
      const { before: _before, ...withoutState } = remediateContext();
      const { error } = await runStep(step, withoutState);
      expect(error).toBeInstanceOf(InvalidInputError);
    },
  );

  it.each(['Notify', 'Audit'] as StepName[])(
    '%s: a damaged finished run is rejected or handled',
    async (step) => {
      await fc.assert(
        fc.asyncProperty(mutationArb(remediatedContext()), async ({ mutated }) => {
          const { error, writes } = await runStep(step, mutated);
          // At most the one write of the step (Publish / PutItem), and only for input it accepted.
          if (!(error instanceof InvalidInputError)) expect(writes.length).toBeLessThanOrEqual(2);
        }),
        { numRuns: RUNS },
      );
    },
  );

  it.each(['Notify', 'Audit'] as StepName[])(
    '%s: a run whose outcome is missing or not notifiable writes nothing',
    async (step) => {
      const { outcome: _outcome, ...noOutcome } = remediatedContext();
      const cases: unknown[] = [noOutcome];
      if (step === 'Notify') cases.push({ ...remediatedContext(), outcome: 'compliant' });
      for (const payload of cases) {
        const { error, calls } = await runStep(step, payload);
        expect(error).toBeInstanceOf(InvalidInputError);
        expect(calls).toEqual([]);
      }
    },
  );
});

describe('Check with damaged events', () => {
  it('a damaged event inside a valid Check input: a named error, no write', async () => {
    const damaged = validEventArb.chain(({ event }) => mutationArb(event));
    await fc.assert(
      fc.asyncProperty(damaged, async ({ mutated }) => {
        const { writes } = await runStep('Check', { input: mutated, execution: EXECUTION });
        expect(writes).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });

  it('a valid event gets as far as the first AWS read (refused here): AwsReadError, no write', async () => {
    await fc.assert(
      fc.asyncProperty(validEventArb, async ({ event }) => {
        const { error, calls, writes } = await runStep('Check', { input: event, execution: EXECUTION });
        expect((error as Error).name).toBe('AwsReadError');
        expect(calls.map((c) => c.operation)).toEqual(['GetTrail']);
        expect(writes).toEqual([]);
      }),
      { numRuns: 50 },
    );
  });

  it('a Check input of the wrong shape: InvalidInputError, no AWS call', async () => {
    const wrongEnvelope = fc.oneof(
      wrongValueArb,
      fc.record({ input: validEventArb.map((g) => g.event) }),
      fc.record({ input: validEventArb.map((g) => g.event), execution: wrongValueArb }),
      fc.record({ execution: fc.constant(EXECUTION) }).map((r) => ({ ...r, input: undefined })),
    );
    await fc.assert(
      fc.asyncProperty(wrongEnvelope, async (payload) => {
        const { error, calls } = await runStep('Check', payload);
        expect(error).toBeInstanceOf(InvalidInputError);
        expect(calls).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });
});
