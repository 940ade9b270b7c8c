/**
 * Turning the workflow's failure path input into a RunContext, so the failure is notified and audited like
 * any other outcome. Pure. The failure email must go out whatever the failed state held: only the envelope
 * itself (`failed` object + execution) is required; its content is used best-effort.
 */
import * as z from 'zod';
import { InvalidInputError } from './errors.js';
import { parseWorkflowInput, TrailRefSchema, TriggerSchema } from './events.js';
import {
  ExecutionSchema,
  FailureEnvelopeSchema,
  type RunContext,
  RunContextSchema,
  type TaskError,
  TaskErrorSchema,
} from './run-context.js';
import { describeTaskError } from './task-error.js';

export { describeTaskError };

const MAX_NAME = 200;

/** The failure path's input: the envelope, plus `notificationError` when NotifyFailure itself failed. */
export function isFailureEnvelope(input: unknown): boolean {
  return (
    !!input &&
    typeof input === 'object' &&
    'failed' in input &&
    ExecutionSchema.safeParse((input as { execution?: unknown }).execution).success
  );
}

function cap(value: string, max: number): string {
  return value.length > max ? `${value.slice(0, max - 3)}...` : value;
}

const MAX_CAUSE = 8000;

/** The Catch's error, capped; `step` (the state that failed) when the failure path knows it. */
function taskError(value: unknown, step?: string): TaskError {
  const at = step ? { step: cap(step, MAX_NAME) } : {};
  const parsed = TaskErrorSchema.safeParse(value);
  if (parsed.success) {
    const { Error: name, Cause: cause } = parsed.data;
    return {
      Error: cap(name, MAX_NAME),
      ...(cause !== undefined ? { Cause: cap(cause, MAX_CAUSE) } : {}),
      ...at,
    };
  }
  return {
    Error: 'UnknownError',
    Cause: 'the failed state reported no error in the expected {Error, Cause} shape',
    ...at,
  };
}

/** What can be recovered about the run from a failed state's input that is not a RunContext. */
function salvage(failed: Record<string, unknown>, defaultRegion: string) {
  const { error: _error, ...input } = failed;
  try {
    const parsed = parseWorkflowInput(input);
    return { trigger: parsed.trigger, trailRef: parsed.trail, account: parsed.account };
  } catch {
    // Not a workflow input either (e.g. a partly built RunContext): fall back field by field below.
  }
  const trailRef = TrailRefSchema.safeParse(failed.trailRef);
  const trigger = TriggerSchema.safeParse(failed.trigger);
  const account = z
    .string()
    .regex(/^\d{12}$/)
    .safeParse(failed.account);
  return {
    trigger: trigger.success ? trigger.data : { kind: 'event' as const },
    trailRef: trailRef.success ? trailRef.data : { id: 'unknown', region: defaultRegion },
    account: account.success ? account.data : undefined,
  };
}

/**
 * The RunContext of a failed run. When the failed state's input was a RunContext it is kept (with outcome
 * `failed` and the error, which names the failed `step` when the envelope does); otherwise it was the raw
 * execution input (Check failed) and trigger and trail are derived from it as far as possible.
 */
export function failureToRunContext(input: unknown, defaultRegion: string): RunContext {
  const raw = (input && typeof input === 'object' ? input : {}) as Record<string, unknown>;
  const execution = ExecutionSchema.safeParse(raw.execution);
  if (!execution.success) {
    throw new InvalidInputError('a failure envelope needs execution {id, startTime} to be recorded', {
      cause: execution.error,
    });
  }
  const failedRecord = FailureEnvelopeSchema.shape.failed.safeParse(raw.failed);
  const failed = failedRecord.success ? failedRecord.data : {};
  const notificationError =
    raw.notificationError === undefined ? undefined : taskError(raw.notificationError);
  const step = FailureEnvelopeSchema.shape.step.safeParse(raw.step);
  const error = taskError(failed.error, step.success ? step.data : undefined);

  const context = RunContextSchema.safeParse(failed);
  if (context.success) {
    return RunContextSchema.parse({
      ...context.data,
      execution: execution.data,
      outcome: 'failed',
      error,
      ...(notificationError ? { notificationError } : {}),
    });
  }
  const { trigger, trailRef, account } = salvage(failed, defaultRegion);
  const trailArn = z.string().startsWith('arn:').safeParse(failed.trailArn);
  return RunContextSchema.parse({
    execution: execution.data,
    trigger,
    trailRef,
    ...(account ? { account } : {}),
    ...(trailArn.success ? { trailArn: trailArn.data } : {}),
    decision: 'notify',
    reason: 'the run failed before the trail was assessed',
    actions: [],
    outcome: 'failed',
    error,
    ...(notificationError ? { notificationError } : {}),
  });
}
