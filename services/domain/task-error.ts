/**
 * A Step Functions error in words. Pure, and free of runtime imports of the run context (the run context's
 * schemas import modules that use it).
 */
import type { TaskError } from './run-context.js';

const MAX_NAME = 200;
const MAX_MESSAGE = 2000;

function cap(value: string, max: number): string {
  return value.length > max ? `${value.slice(0, max - 3)}...` : value;
}

/**
 * A Step Functions error in words: the error name, and the message from `Cause`, which for a Lambda error is
 * a JSON string `{"errorType","errorMessage","trace"}` (the trace is dropped).
 */
export function describeTaskError(error: TaskError): { step?: string; name: string; message: string } {
  let name = error.Error;
  let message = error.Cause ?? '';
  if (message.trimStart().startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(message);
      if (parsed && typeof parsed === 'object') {
        const p = parsed as { errorMessage?: unknown; errorType?: unknown };
        if (typeof p.errorMessage === 'string') message = p.errorMessage;
        if (typeof p.errorType === 'string' && (!name || name === 'Error')) name = p.errorType;
      }
    } catch {
      // Not JSON after all: the Cause is shown as it is.
    }
  }
  return {
    ...(error.step ? { step: cap(error.step, MAX_NAME) } : {}),
    name: cap(name || 'UnknownError', MAX_NAME),
    message: cap(message, MAX_MESSAGE),
  };
}
