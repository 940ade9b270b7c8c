/**
 * Audit (and AuditFailure): writes the run's write-once audit record. Accepts a finished RunContext or the
 * failure path's envelope. Counts each outcome once (a retried write of the same run is not counted again).
 */
import { putAuditRecord } from '../aws/audit-store.js';
import { auditKey, buildAuditRecord } from '../domain/audit-record.js';
import { InvalidInputError } from '../domain/errors.js';
import type { HandlerDeps, StepFunction } from './deps.js';
import { finishedRun, output } from './io.js';
import type { StepObservability } from './lambda.js';
import { lambdaHandler } from './lambda.js';

export function auditStep(deps: HandlerDeps, observability: StepObservability = {}): StepFunction {
  return async (payload) => {
    const ctx = finishedRun(payload, 'Audit', deps.clients.defaultRegion);
    if (!ctx.outcome) throw new InvalidInputError('Audit needs a run whose outcome is set');
    const record = buildAuditRecord(ctx, deps.now());
    const { written } = await putAuditRecord(deps.clients, deps.auditTableName, record);
    if (written) observability.countOutcome?.(record.outcome);
    return output({ ...ctx, audit: { id: auditKey(ctx).run, tableName: deps.auditTableName } });
  };
}

export const handler = lambdaHandler(auditStep, { step: 'Audit', metrics: true });
