/**
 * Audit (AuditFailure, AuditDelivery): writes the run's write-once audit record. Accepts a finished RunContext
 * or the failure path's envelope. Counts each outcome once (a retried write of the same run is not counted
 * again). With the delivery check's result in the context (AuditDelivery) it writes the delivery check's own
 * record, linked to the run's, and leaves the run's record as it was.
 */
import './zod-jitless.js';
import { putAuditRecord } from '../aws/audit-store.js';
import {
  auditKey,
  buildAuditRecord,
  buildDeliveryAuditRecord,
  deliveryAuditKey,
} from '../domain/audit-record.js';
import { InvalidInputError } from '../domain/errors.js';
import type { HandlerDeps, StepFunction } from './deps.js';
import { finishedRun, output } from './io.js';
import type { StepObservability } from './lambda.js';
import { lambdaHandler } from './lambda.js';
import { outcomeMetrics } from './metrics.js';

export function auditStep(deps: HandlerDeps, observability: StepObservability = {}): StepFunction {
  return async (payload) => {
    const ctx = finishedRun(payload, 'Audit', deps.clients.defaultRegion);
    if (!ctx.outcome) throw new InvalidInputError('Audit needs a run whose outcome is set');
    if (ctx.deliveryCheck) {
      const record = buildDeliveryAuditRecord(ctx, deps.now());
      await putAuditRecord(deps.clients, deps.auditTableName, record);
      return output({ ...ctx, audit: { id: deliveryAuditKey(ctx).run, tableName: deps.auditTableName } });
    }
    const record = buildAuditRecord(ctx, deps.now());
    const { written } = await putAuditRecord(deps.clients, deps.auditTableName, record);
    if (written) {
      observability.countOutcome?.(record.outcome);
      // The canary's runs are selftest's (its own CanaryFixed and TimeToRemediate metrics): only real runs count here.
      if (record.timeToRemediate && !record.canary) {
        observability.recordTimeToRemediate?.(record.timeToRemediate.seconds);
      }
    }
    return output({ ...ctx, audit: { id: auditKey(ctx).run, tableName: deps.auditTableName } });
  };
}

export const handler = lambdaHandler(auditStep, { step: 'Audit', metrics: outcomeMetrics });
