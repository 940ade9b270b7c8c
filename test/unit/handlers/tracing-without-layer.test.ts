/**
 * TRAILGUARD_SDK_TRACING=true on a function without the Powertools layer (AWS publishes none in China): the step
 * still runs and returns its result, with one WARN line saying why there is no SDK tracing. The layer's absence is
 * injected at the import (loadTracer's loader), since the Tracer is installed here.
 * Own file: the Tracer is loaded once per process (module state).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isTracerMissing, lambdaHandler, loadTracer, logger } from '../../../services/handlers/lambda.js';
import { handlerEnv, lambdaContext } from '../../support/lambda-context.js';
import { remediatedContext } from '../../support/run-contexts.js';

const context = lambdaContext(
  'trailguard-verify',
  'arn:aws-cn:lambda:cn-north-1:123456789012:function:trailguard-verify',
);

/** What Node throws for an ESM import of a package that is not installed. */
const notFound = (what: string) =>
  Object.assign(new Error(`Cannot find package '${what}' imported from /var/task/index.mjs`), {
    code: 'ERR_MODULE_NOT_FOUND',
  });

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('SDK tracing on a function without the Powertools layer', () => {
  it('runs the step without SDK tracing and says why in one WARN line', async () => {
    const env = { ...handlerEnv('210987654321', 'cn-north-1', 'aws-cn'), TRAILGUARD_SDK_TRACING: 'true' };
    for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    // The first load decides for the process, as in Lambda: here, the layer is missing.
    await expect(
      loadTracer(() => Promise.reject(notFound('@aws-lambda-powertools/tracer'))),
    ).resolves.toBeUndefined();
    const handler = lambdaHandler(() => async () => remediatedContext(), { step: 'Verify' });
    await expect(handler({}, context)).resolves.toEqual(remediatedContext());
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/no Powertools layer.*running without SDK tracing/);
  });
});

describe('isTracerMissing', () => {
  it('is true only for the Tracer or the X-Ray SDK not being installed', () => {
    expect(isTracerMissing(notFound('@aws-lambda-powertools/tracer'))).toBe(true);
    expect(isTracerMissing(notFound('aws-xray-sdk-core'))).toBe(true);
    expect(
      isTracerMissing(
        Object.assign(new Error("Cannot find module 'aws-xray-sdk-core'"), { code: 'MODULE_NOT_FOUND' }),
      ),
    ).toBe(true);
    // Anything else fails the invocation: another missing package, or a broken Tracer.
    expect(isTracerMissing(notFound('@middy/core'))).toBe(false);
    expect(isTracerMissing(new SyntaxError("Unexpected token '@aws-lambda-powertools/tracer'"))).toBe(false);
    expect(isTracerMissing(undefined)).toBe(false);
  });
});
