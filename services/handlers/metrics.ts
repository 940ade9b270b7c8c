/**
 * The outcome metrics of the steps that emit them (Audit, the sweep): Powertools Metrics in the `Trailguard`
 * namespace, flushed by its logMetrics middleware after each invocation. A separate module, imported only by
 * those handlers, so the other steps' bundles do not carry Powertools Metrics (docs/architecture.md "Cold
 * starts").
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type middy from '@middy/core';
import {
  METRICS_NAMESPACE,
  SERVICE_NAME,
  type StepMetrics,
  SWEEP_COMPLETED_METRIC,
  TIME_TO_REMEDIATE_METRIC,
} from './lambda.js';

export function outcomeMetrics(): StepMetrics {
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
  return {
    observability: {
      countOutcome: (outcome) => metrics.addMetric(`Outcome_${outcome}`, MetricUnit.Count, 1),
      recordTimeToRemediate: (seconds) =>
        metrics.addMetric(TIME_TO_REMEDIATE_METRIC, MetricUnit.Seconds, seconds),
      countSweepCompleted: () => metrics.addMetric(SWEEP_COMPLETED_METRIC, MetricUnit.Count, 1),
    },
    middleware: logMetrics(metrics) as middy.MiddlewareObj,
  };
}
