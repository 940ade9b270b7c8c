/**
 * The Lambda entry every step shares: settings and clients built once per cold start (lazily, so importing a
 * handler module never reads the environment), the Powertools logger with the Lambda context, one INFO line
 * per step with counts only (never the event), and the outcome metrics flushed where a step emits them.
 *
 * Tracing: the functions run with Lambda's active tracing and the state machine with X-Ray tracing, so every
 * run is one trace of its states and function invocations (Init, Invoke) without any code here. Powertools
 * Tracer, which adds each AWS SDK call as a subsegment (through createClients' `onCreate` hook, so adapters and
 * the local runner know nothing of X-Ray) and the trail ARN, step and execution as annotations, is off the cold
 * path: it is not bundled (it comes from AWS's managed Powertools layer, infra/constructs/functions.ts) and is
 * loaded only when the function's TRAILGUARD_SDK_TRACING is `true` (loading the X-Ray SDK costs more than the
 * rest of the function's init; docs/architecture.md "Cold starts").
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import middy from '@middy/core';
import { accountAccess } from '../aws/accounts.js';
import { readAccountId } from '../aws/caller-identity.js';
import { createClients, type SdkClient } from '../aws/clients.js';
import { awsErrorName } from '../domain/errors.js';
import type { Outcome } from '../domain/run-context.js';
import type { HandlerDeps, StepFunction } from './deps.js';
import { parseEnv } from './env.js';

export const SERVICE_NAME = 'trailguard';
export const METRICS_NAMESPACE = 'Trailguard';
/** The Audit step's time-to-remediate metric (seconds), one value per remediated run. */
export const TIME_TO_REMEDIATE_METRIC = 'TimeToRemediate';
/** The sweep function's heartbeat: one per scheduled sweep of a region that completed. */
export const SWEEP_COMPLETED_METRIC = 'SweepCompleted';

/** Optional hooks a step may use; the step core works without them (tests, the local runner). */
export interface StepObservability {
  /** Counts one finished run with this outcome (metric `Outcome_<outcome>`). */
  countOutcome?: (outcome: Outcome) => void;
  /** Records one remediated run's time to remediate (metric `TimeToRemediate`, seconds). */
  recordTimeToRemediate?: (seconds: number) => void;
  /** Counts one scheduled sweep that completed (metric `SweepCompleted`): the sweep's heartbeat. */
  countSweepCompleted?: () => void;
}

export type StepFactory = (deps: HandlerDeps, observability?: StepObservability) => StepFunction;

export interface LambdaOptions {
  /** The workflow state name, for the log line. */
  step: string;
  /**
   * The step's metrics, for a step that emits them (services/handlers/metrics.ts outcomeMetrics): passed in, not
   * imported here, so the bundles of the steps without metrics carry no Powertools Metrics (cold path).
   */
  metrics?: () => StepMetrics;
}

/** A step's metrics: the hooks its core calls, and the middleware that flushes them after each invocation. */
export interface StepMetrics {
  observability: StepObservability;
  middleware: middy.MiddlewareObj;
}

export const logger = new Logger({ serviceName: SERVICE_NAME });

const record = (v: unknown): Record<string, unknown> | undefined =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const count = (v: unknown): number => (Array.isArray(v) ? v.length : 0);

/**
 * What the log line says about a step's result: identifiers and counts, never the payload. Read field by field,
 * not parsed again with RunContextSchema: the result was built from the step's parsed input and the next step
 * parses it; a second full parse only for a log line is CPU on the cold path. Anything without a trail and an
 * execution id is not a run context: nothing.
 */
export function resultSummary(result: unknown): Record<string, unknown> {
  const c = record(result);
  const trail = text(c?.trailArn) ?? text(record(c?.trailRef)?.id);
  const execution = text(record(c?.execution)?.id);
  if (!c || !trail || !execution) return {};
  const outcome = text(c.outcome);
  const after = record(c.after);
  return {
    trail,
    execution,
    decision: c.decision,
    ...(outcome ? { outcome } : {}),
    findings: count(record(record(c.before)?.assessment)?.findings),
    actions: count(c.actions),
    ...(after ? { remainingFindings: count(after.findings) } : {}),
    ...(c.notification ? { notified: true } : {}),
    ...(c.audit ? { audited: true } : {}),
  };
}

/** The invocation being handled (one at a time per Lambda environment): its remaining time, for Notify. */
let invocation: { getRemainingTimeInMillis(): number } | undefined;
export function remainingTimeMs(): number | undefined {
  return invocation?.getRemainingTimeInMillis();
}
const invocationContext = (): middy.MiddlewareObj => ({
  before: (request) => {
    invocation = request.context;
  },
  after: () => {
    invocation = undefined;
  },
  onError: () => {
    invocation = undefined;
  },
});

/** Whether this function records its AWS calls with Powertools Tracer (TRAILGUARD_SDK_TRACING=true). */
export function sdkTracingEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.TRAILGUARD_SDK_TRACING === 'true';
}

/**
 * Whether `error` says the Tracer is not installed: the function has no Powertools layer. AWS publishes the layer
 * "in all commercial regions and AWS GovCloud (US) regions" (Powertools for AWS Lambda (TypeScript), "Lambda
 * layers", https://docs.aws.amazon.com/powertools/typescript/latest/getting-started/lambda-layers), not in China,
 * so a stack there has none (infra/constructs/functions.ts powertoolsLayers).
 */
export function isTracerMissing(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | undefined;
  return (
    (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') &&
    typeof e.message === 'string' &&
    /@aws-lambda-powertools\/tracer|aws-xray-sdk-core/.test(e.message)
  );
}

type TracerModule = typeof import('@aws-lambda-powertools/tracer');

/**
 * One Tracer per process, loaded on first use (aws-xray-sdk-core is heavy and only useful in Lambda). A function
 * without the layer (TRAILGUARD_SDK_TRACING set on a stack in China) keeps guarding without SDK tracing: tracing
 * is a diagnostic, so its absence is one WARN line per cold start, not a failed remediation. Any other error
 * loading it fails the invocation.
 */
let tracerLoading: Promise<Tracer | undefined> | undefined;
export function loadTracer(
  load: () => Promise<TracerModule> = () => import('@aws-lambda-powertools/tracer'),
): Promise<Tracer | undefined> {
  tracerLoading ??= load().then(
    ({ Tracer }) => new Tracer({ serviceName: SERVICE_NAME }),
    (error: unknown) => {
      if (!isTracerMissing(error)) throw error;
      logger.warn(
        'TRAILGUARD_SDK_TRACING is true but Powertools Tracer is not on this function (no Powertools layer: AWS publishes none in China); running without SDK tracing',
        { errorMessage: error instanceof Error ? error.message.slice(0, 300) : String(error) },
      );
      return undefined;
    },
  );
  return tracerLoading;
}

/**
 * captureLambdaHandler from Powertools Tracer, created on the first invocation when SDK tracing is on (see
 * loadTracer); its before/after/onError run exactly as the Powertools middleware's own. Off, or no layer:
 * nothing loaded.
 */
function tracing(): middy.MiddlewareObj {
  let inner: Promise<middy.MiddlewareObj | undefined> | undefined;
  const load = () => {
    inner ??= sdkTracingEnabled()
      ? loadTracer().then(async (tracer) => {
          if (!tracer) return undefined;
          const { captureLambdaHandler } = await import('@aws-lambda-powertools/tracer/middleware');
          return captureLambdaHandler(tracer) as middy.MiddlewareObj;
        })
      : Promise.resolve(undefined);
    return inner;
  };
  return {
    before: async (request) => (await load())?.before?.(request),
    after: async (request) => (await load())?.after?.(request),
    onError: async (request) => (await load())?.onError?.(request),
  };
}

/** Annotations on the handler's subsegment: searchable in X-Ray (trail ARN, step, execution). */
function annotate(tracer: Tracer | undefined, step: string, summary: Record<string, unknown>): void {
  if (!tracer?.isTracingEnabled()) return;
  tracer.putAnnotation('step', step);
  if (typeof summary.trail === 'string') tracer.putAnnotation('trail', summary.trail);
  if (typeof summary.execution === 'string') tracer.putAnnotation('execution', summary.execution);
  if (typeof summary.outcome === 'string') tracer.putAnnotation('outcome', summary.outcome);
}

/**
 * The step's dependencies, once per cold start. With the hub's account known (TRAILGUARD_ACCOUNT_ID, else one
 * STS GetCallerIdentity when the configuration guards other accounts), `accounts` acts in the run's account:
 * the hub's own clients for its account, the account's remediation role for any other, one AssumeRole per
 * account while the credentials last (services/aws/accounts.ts). Every client, the member accounts' too, is
 * traced the same way.
 */
async function buildDeps(step: string, tracer?: Tracer): Promise<HandlerDeps> {
  const settings = parseEnv(process.env);
  const onCreate = tracer?.isTracingEnabled()
    ? (client: SdkClient) => void tracer.captureAWSv3Client(client)
    : undefined;
  const clients = createClients({
    defaultRegion: process.env.AWS_REGION,
    ...(onCreate ? { onCreate } : {}),
  });
  // A single-account deployment without the account id in its environment needs no STS call here: every
  // run's account is its own (Check reads it when it must).
  const hubAccount =
    settings.accountId ?? (settings.config.accounts ? await readAccountId(clients) : undefined);
  return {
    ...settings,
    ...(hubAccount ? { accountId: hubAccount } : {}),
    clients,
    now: () => new Date(),
    ...(hubAccount
      ? {
          accounts: accountAccess(clients, {
            hubAccount,
            roleName: settings.config.remediationRoleName,
            sessionName: `trailguard-${step}`,
            ...(onCreate ? { onCreate } : {}),
          }),
        }
      : {}),
  };
}

/** The trail a step's input names, for the annotation of a step that fails before it returns. */
function inputSummary(event: unknown): Record<string, unknown> {
  if (!event || typeof event !== 'object') return {};
  const e = event as Record<string, unknown>;
  const failed = e.failed && typeof e.failed === 'object' ? (e.failed as Record<string, unknown>) : e;
  return resultSummary(failed);
}

export function lambdaHandler(factory: StepFactory, options: LambdaOptions) {
  const metrics = options.metrics?.();
  const observability: StepObservability = metrics?.observability ?? {};
  let core: Promise<StepFunction> | undefined;
  const coreFor = (tracer: Tracer | undefined): Promise<StepFunction> => {
    if (!core) {
      const loading = buildDeps(options.step, tracer).then((deps) => factory(deps, observability));
      core = loading;
      // A cold start that failed (a bad environment, STS unreachable) is tried again on the next invocation.
      loading.catch(() => {
        if (core === loading) core = undefined;
      });
    }
    return core;
  };

  const run = async (event: unknown): Promise<unknown> => {
    const tracer = sdkTracingEnabled() ? await loadTracer() : undefined;
    const step = await coreFor(tracer);
    annotate(tracer, options.step, inputSummary(event));
    try {
      const result = await step(event);
      const summary = resultSummary(result);
      annotate(tracer, options.step, summary);
      logger.info(`${options.step} done`, { step: options.step, ...summary });
      return result;
    } catch (error) {
      logger.error(`${options.step} failed`, {
        step: options.step,
        errorName: awsErrorName(error) ?? 'Error',
        errorMessage: error instanceof Error ? error.message.slice(0, 1000) : String(error).slice(0, 1000),
      });
      throw error;
    }
  };
  const handler = middy(run).use(injectLambdaContext(logger)).use(tracing()).use(invocationContext());
  return metrics ? handler.use(metrics.middleware) : handler;
}
