/** Parsing task payloads and results with zod, the same way in every step. */

import { formatIssues } from '../../policies/config.js';
import type * as z from '../../policies/zod.js';
import { InvalidInputError } from '../domain/errors.js';
import { failureToRunContext, isFailureEnvelope } from '../domain/failure.js';
import { type RunContext, RunContextSchema } from '../domain/run-context.js';

/** Parses a task payload; every problem is listed in one InvalidInputError. */
export function parseInput<S extends z.ZodMiniType>(schema: S, payload: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(payload);
  if (!result.success) {
    throw new InvalidInputError(`invalid ${what}: ${formatIssues(result.error).join('; ')}`, {
      cause: result.error,
    });
  }
  return result.data;
}

export function parseRunContext(payload: unknown, step: string): RunContext {
  return parseInput(RunContextSchema, payload, `${step} input (a RunContext)`);
}

/** A RunContext that went through the restore steps' precondition: Check decided to remediate. */
export function remediationContext(
  payload: unknown,
  step: string,
): RunContext & { before: NonNullable<RunContext['before']>; account: string } {
  const ctx = parseRunContext(payload, step);
  if (ctx.decision !== 'remediate' || !ctx.before) {
    throw new InvalidInputError(
      `${step} runs only after Check decided to remediate (decision is ${ctx.decision}${ctx.before ? '' : ', no state read'})`,
    );
  }
  return { ...ctx, before: ctx.before, account: ctx.account ?? ctx.before.state.accountId };
}

/** Every step's result is a RunContext, checked on the way out too. */
export function output(ctx: RunContext): RunContext {
  return RunContextSchema.parse(ctx);
}

/** The run a Notify or Audit task is about: a RunContext, or the failure path's envelope turned into one. */
export function finishedRun(payload: unknown, step: string, defaultRegion: string): RunContext {
  return isFailureEnvelope(payload)
    ? failureToRunContext(payload, defaultRegion)
    : parseRunContext(payload, step);
}
