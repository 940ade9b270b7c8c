/**
 * The audit record of one workflow run: a write-once item keyed by trail and run. Pure: the record is built
 * from the RunContext; the DynamoDB adapter (services/aws/audit-store.ts) only stores and reads it.
 *
 * Keys: `trail` (partition) is the trail ARN, or the trail id as given when the ARN is unknown (the trail did
 * not exist, or the run failed before reading it); `run` (sort) is `<execution start time>#<execution id>`,
 * so a trail's records sort by time and a run's key is the same however often its write is retried.
 */
import * as z from 'zod';
import { describeTaskError } from './failure.js';
import { FindingCodeSchema } from './findings.js';
import { runSeverity, trailLabel } from './notification.js';
import { ActionSchema, OutcomeSchema, type RunContext } from './run-context.js';
import { SecurityHubUpdateSchema } from './security-hub.js';

const FindingSummarySchema = z.object({ code: FindingCodeSchema, message: z.string() });
/** An error in words; `step` is the workflow state that failed, when the failure path recorded it. */
const ErrorSummarySchema = z.object({
  step: z.string().optional(),
  name: z.string(),
  message: z.string(),
});

export const AuditRecordSchema = z.object({
  trail: z.string().min(1),
  run: z.string().min(1),
  executionId: z.string(),
  triggerKind: z.enum(['event', 'manual', 'sweep', 'finding']),
  /** The Security Hub finding that started the run (triggerKind `finding`). */
  findingId: z.string().optional(),
  eventId: z.string().optional(),
  eventName: z.string().optional(),
  eventTime: z.string().optional(),
  actor: z.object({
    arn: z.string().optional(),
    type: z.string().optional(),
    sourceIp: z.string().optional(),
    userAgent: z.string().optional(),
  }),
  trailArn: z.string().optional(),
  trailName: z.string(),
  region: z.string(),
  account: z.string().optional(),
  decision: z.string(),
  outcome: OutcomeSchema,
  severity: z.enum(['CRITICAL', 'HIGH', 'INFO']),
  reason: z.string(),
  findingsBefore: z.array(FindingSummarySchema),
  actions: z.array(ActionSchema),
  stateAfter: z
    .object({
      logGroupArn: z.string().optional(),
      roleArn: z.string().optional(),
      logging: z.boolean().optional(),
      remainingFindings: z.array(FindingSummarySchema),
      /** False when no write was made and the state after is the state read before. */
      verified: z.boolean(),
    })
    .optional(),
  error: ErrorSummarySchema.optional(),
  notification: z
    .object({
      messageId: z.string().optional(),
      subject: z.string().optional(),
      error: ErrorSummarySchema.optional(),
      deduplication: z.enum(['deduplicated', 'unavailable']).optional(),
      delivery: z.literal('unconfirmed').optional(),
    })
    .optional(),
  /** What the run did in Security Hub: the findings updated, the status set, the note; or the error. */
  securityHub: SecurityHubUpdateSchema.optional(),
  startedAt: z.string(),
  recordedAt: z.string(),
});
export type AuditRecord = z.infer<typeof AuditRecordSchema>;

export interface AuditKey {
  trail: string;
  run: string;
}

/** The key of a record whose run context named no trail at all (only a damaged context on the failure path). */
export const UNKNOWN_TRAIL = '(unknown trail)';

export function auditKey(ctx: RunContext): AuditKey {
  return {
    // `||`: a damaged context reaching the failure path may hold an empty ARN; the record still needs a key.
    trail: ctx.trailArn || ctx.trailRef.id || UNKNOWN_TRAIL,
    run: `${ctx.execution.startTime}#${ctx.execution.id}`,
  };
}

function stateAfterOf(ctx: RunContext): AuditRecord['stateAfter'] {
  const summary = (state: NonNullable<RunContext['after']>['state']) => ({
    ...(state.trail.cloudWatchLogsLogGroupArn ? { logGroupArn: state.trail.cloudWatchLogsLogGroupArn } : {}),
    ...(state.trail.cloudWatchLogsRoleArn ? { roleArn: state.trail.cloudWatchLogsRoleArn } : {}),
    ...(state.status ? { logging: state.status.isLogging } : {}),
  });
  if (ctx.after) {
    return {
      ...summary(ctx.after.state),
      remainingFindings: ctx.after.findings.map(({ code, message }) => ({ code, message })),
      verified: true,
    };
  }
  // Nothing was written: the state after the run is the state Check read.
  if (ctx.before && ctx.actions.length === 0) {
    return {
      ...summary(ctx.before.state),
      remainingFindings: ctx.before.assessment.findings.map(({ code, message }) => ({ code, message })),
      verified: false,
    };
  }
  return undefined;
}

/** Builds the record of a finished run (its outcome must be set). */
export function buildAuditRecord(ctx: RunContext, recordedAt: Date): AuditRecord {
  const key = auditKey(ctx);
  const { name, region, arn } = trailLabel(ctx);
  const t = ctx.trigger;
  const stateAfter = stateAfterOf(ctx);
  const notification =
    ctx.notification || ctx.notificationError
      ? {
          ...(ctx.notification
            ? {
                ...(ctx.notification.messageId ? { messageId: ctx.notification.messageId } : {}),
                subject: ctx.notification.subject,
                ...(ctx.notification.deduplication ? { deduplication: ctx.notification.deduplication } : {}),
                ...(ctx.notification.delivery ? { delivery: ctx.notification.delivery } : {}),
              }
            : {}),
          ...(ctx.notificationError ? { error: describeTaskError(ctx.notificationError) } : {}),
        }
      : undefined;
  const account = ctx.before?.state.accountId ?? ctx.account;
  return AuditRecordSchema.parse({
    ...key,
    executionId: ctx.execution.id,
    triggerKind: t.kind,
    ...(t.findingId ? { findingId: t.findingId } : {}),
    ...(t.eventId ? { eventId: t.eventId } : {}),
    ...(t.eventName ? { eventName: t.eventName } : {}),
    ...(t.eventTime ? { eventTime: t.eventTime } : {}),
    actor: {
      ...(t.actorArn ? { arn: t.actorArn } : {}),
      ...(t.actorType ? { type: t.actorType } : {}),
      ...(t.sourceIp ? { sourceIp: t.sourceIp } : {}),
      ...(t.userAgent ? { userAgent: t.userAgent } : {}),
    },
    ...(arn ? { trailArn: arn } : {}),
    trailName: name,
    region,
    ...(account ? { account } : {}),
    decision: ctx.decision,
    outcome: ctx.outcome ?? 'failed',
    severity: runSeverity(ctx),
    reason: ctx.reason,
    findingsBefore: (ctx.before?.assessment.findings ?? []).map(({ code, message }) => ({ code, message })),
    actions: ctx.actions,
    ...(stateAfter ? { stateAfter } : {}),
    ...(ctx.error ? { error: describeTaskError(ctx.error) } : {}),
    ...(notification ? { notification } : {}),
    ...(ctx.securityHub ? { securityHub: ctx.securityHub } : {}),
    startedAt: ctx.execution.startTime,
    recordedAt: recordedAt.toISOString(),
  });
}
