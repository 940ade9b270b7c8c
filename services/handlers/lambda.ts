/**
 * The Lambda entry every step shares: settings and clients built once per cold start (lazily, so importing a
 * handler module never reads the environment), the Powertools logger with the Lambda context, one INFO line
 * per step with counts only (never the event), and the outcome metrics flushed where a step emits them.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { createClients } from '../aws/clients.js';
import { awsErrorName } from '../domain/errors.js';
import { type Outcome, RunContextSchema } from '../domain/run-context.js';
import type { HandlerDeps, StepFunction } from './deps.js';
import { parseEnv } from './env.js';

export const SERVICE_NAME = 'trailguard';
export const METRICS_NAMESPACE = 'Trailguard';

/** Optional hooks a step may use; the step core works without them (tests, the local runner). */
export interface StepObservability {
  /** Counts one finished run with this outcome (metric `Outcome_<outcome>`). */
  countOutcome?: (outcome: Outcome) => void;
}

export type StepFactory = (deps: HandlerDeps, observability?: StepObservability) => StepFunction;

export interface LambdaOptions {
  /** The workflow state name, for the log line. */
  step: string;
  /** Whether this step emits metrics (flushed by the logMetrics middleware). */
  metrics?: boolean;
}

export const logger = new Logger({ serviceName: SERVICE_NAME });

/** What the log line says about a step's result: identifiers and counts, never the payload. */
export function resultSummary(result: unknown): Record<string, unknown> {
  const ctx = RunContextSchema.safeParse(result);
  if (!ctx.success) return {};
  const c = ctx.data;
  return {
    trail: c.trailArn ?? c.trailRef.id,
    execution: c.execution.id,
    decision: c.decision,
    ...(c.outcome ? { outcome: c.outcome } : {}),
    findings: c.before?.assessment.findings.length ?? 0,
    actions: c.actions.length,
    ...(c.after ? { remainingFindings: c.after.findings.length } : {}),
    ...(c.notification ? { notified: true } : {}),
    ...(c.audit ? { audited: true } : {}),
  };
}

function buildDeps(): HandlerDeps {
  const settings = parseEnv(process.env);
  return {
    ...settings,
    clients: createClients({ defaultRegion: process.env.AWS_REGION }),
    now: () => new Date(),
  };
}

export function lambdaHandler(factory: StepFactory, options: LambdaOptions) {
  const metrics = options.metrics
    ? new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME })
    : undefined;
  const observability: StepObservability = metrics
    ? { countOutcome: (outcome) => metrics.addMetric(`Outcome_${outcome}`, MetricUnit.Count, 1) }
    : {};
  let core: StepFunction | undefined;

  const run = async (event: unknown): Promise<unknown> => {
    core ??= factory(buildDeps(), observability);
    try {
      const result = await core(event);
      logger.info(`${options.step} done`, { step: options.step, ...resultSummary(result) });
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
  const handler = middy(run).use(injectLambdaContext(logger));
  return metrics ? handler.use(logMetrics(metrics)) : handler;
}
