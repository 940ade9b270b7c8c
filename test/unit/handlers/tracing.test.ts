/**
 * Powertools Tracer in the Lambda entry (services/handlers/lambda.ts): with TRAILGUARD_SDK_TRACING=true, in Lambda
 * (AWS_EXECUTION_ENV set) every SDK client the step creates is captured through createClients' onCreate hook and
 * the handler's subsegment gets the trail ARN as an annotation; without it (the default) Tracer is never loaded,
 * so it stays off the cold path.
 * Own file: the Tracer is created once per process (module state), with the environment of its first use.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AwsClients } from '../../../services/aws/clients.js';
import { lambdaHandler, loadTracer, sdkTracingEnabled } from '../../../services/handlers/lambda.js';
import { handlerEnv, lambdaContext } from '../../support/lambda-context.js';
import { remediatedContext } from '../../support/run-contexts.js';

const ENV = {
  ...handlerEnv(),
  // Inside Lambda, with a sampled trace (what the Lambda runtime sets with active tracing).
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
  AWS_LAMBDA_FUNCTION_NAME: 'trailguard-verify',
  _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
  AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
  AWS_XRAY_DAEMON_ADDRESS: '127.0.0.1:2000',
  TRAILGUARD_SDK_TRACING: 'true',
};

const context = lambdaContext('trailguard-verify');

describe('Tracer in Lambda', () => {
  beforeEach(() => {
    for (const [k, v] of Object.entries(ENV)) vi.stubEnv(k, v);
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('captures every SDK client the step creates and annotates the trail ARN', async () => {
    const tracer = await loadTracer();
    if (!tracer) throw new Error('Tracer did not load, but it is installed (a dev dependency)');
    expect(tracer.isTracingEnabled()).toBe(true);
    const captured: unknown[] = [];
    const capture = vi.spyOn(tracer, 'captureAWSv3Client').mockImplementation((client) => {
      captured.push(client);
      return client;
    });
    const annotations: Record<string, unknown> = {};
    vi.spyOn(tracer, 'putAnnotation').mockImplementation((key, value) => {
      annotations[key] = value;
    });
    let clients: AwsClients | undefined;
    const handler = lambdaHandler(
      (deps) => {
        clients = deps.clients;
        return async () => {
          deps.clients.cloudTrail('us-east-1');
          deps.clients.iam();
          return remediatedContext();
        };
      },
      { step: 'Verify' },
    );
    await handler({}, context);
    expect(capture).toHaveBeenCalledTimes(2);
    expect(captured).toEqual([clients?.cloudTrail('us-east-1'), clients?.iam()]);
    expect(annotations).toMatchObject({
      step: 'Verify',
      trail: remediatedContext().trailArn,
      execution: remediatedContext().execution.id,
      outcome: 'remediated',
    });
  });
});

describe('SDK tracing switch', () => {
  it('is off unless TRAILGUARD_SDK_TRACING is true (Lambda and Step Functions traces need no Tracer)', () => {
    expect(sdkTracingEnabled({})).toBe(false);
    expect(sdkTracingEnabled({ TRAILGUARD_SDK_TRACING: 'false' })).toBe(false);
    expect(sdkTracingEnabled({ TRAILGUARD_SDK_TRACING: 'TRUE' })).toBe(false);
    expect(sdkTracingEnabled({ TRAILGUARD_SDK_TRACING: 'true' })).toBe(true);
  });
});
