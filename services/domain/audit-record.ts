/**
 * The audit record of one workflow run: a write-once item keyed by trail and run. Pure: the record is built
 * from the RunContext; the DynamoDB adapter (services/aws/audit-store.ts) only stores and reads it.
 *
 * Keys: `trail` (partition) is the trail ARN, or the trail id as given when the ARN is unknown (the trail did
 * not exist, or the run failed before reading it); `run` (sort) is `<execution start time>#<execution id>`,
 * so a trail's records sort by time and a run's key is the same however often its write is retried.
 *
 * The run's record is write-once. The delivery check after a remediated run (services/domain/delivery.ts) adds
 * its own record (`kind: 'delivery-check'`) under the same partition key and the sort key
 * `<run's sort key>#delivery-check`, so it sorts right after the run it belongs to; `linkedRun` names the run.
 * A record without `kind` is a run's record (records written before the delivery check existed have none).
 */
import * as z from 'zod';
import { BlockedSchema, blockedOf } from './blocked.js';
import { isCanaryTrail } from './canary.js';
import { DeliveryCheckSchema } from './delivery.js';
import { InvalidInputError } from './errors.js';
import { describeTaskError } from './failure.js';
import { FindingCodeSchema } from './findings.js';
import { buildDeliverySubject, deliverySeverity, runSeverity, trailLabel } from './notification.js';
import { ActionSchema, OutcomeSchema, RestorationSchema, type RunContext } from './run-context.js';
import { SecurityHubUpdateSchema } from './security-hub.js';
import { TimeToRemediateSchema, timeToRemediate } from './time-to-remediate.js';

const FindingSummarySchema = z.object({ code: FindingCodeSchema, message: z.string() });
/** An error in words; `step` is the workflow state that failed, when the failure path recorded it. */
const ErrorSummarySchema = z.object({
  step: z.string().optional(),
  name: z.string(),
  message: z.string(),
});

export const AUDIT_RECORD_KINDS = ['run', 'delivery-check'] as const;

export const AuditRecordSchema = z.object({
  trail: z.string().min(1),
  run: z.string().min(1),
  /** Absent on a run's record (and on every record written before delivery checks existed): a run. */
  kind: z.enum(AUDIT_RECORD_KINDS).optional(),
  /**
   * kind `delivery-check`: the sort key (`run`) of the run's record it follows. Its `findingsBefore` and
   * `actions` are empty: they are the linked run's.
   */
  linkedRun: z.string().min(1).optional(),
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
  /** The trail is selftest's canary (trailguard-canary-*): a run selftest provoked, not a person's change. */
  canary: z.literal(true).optional(),
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
  /** A repair a policy (its type, as AWS's message names it) or the KMS key stopped: outcome `notified`. */
  blocked: BlockedSchema.optional(),
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
  /** RestoreLogGroup recreated the log group from the sweep's snapshot: what was put back, what was not. */
  restoration: RestorationSchema.optional(),
  /** kind `delivery-check`: the delivery check's result. */
  deliveryCheck: DeliveryCheckSchema.optional(),
  /**
   * A remediated run: seconds from the triggering event's time (or, for a sweep or manual run, the run's
   * start) to Verify's confirmation (services/domain/time-to-remediate.ts).
   */
  timeToRemediate: TimeToRemediateSchema.optional(),
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

/** What every record of a run says about the run: its trigger, the trail, its account and Check's decision. */
function runFields(ctx: RunContext) {
  const { name, region, arn } = trailLabel(ctx);
  const account = ctx.before?.state.accountId ?? ctx.account;
  return {
    ...triggerFields(ctx),
    ...(arn ? { trailArn: arn } : {}),
    trailName: name,
    ...(isCanaryTrail(name) ? { canary: true as const } : {}),
    region,
    ...(account ? { account } : {}),
    decision: ctx.decision,
  };
}

/** Builds the record of a finished run (its outcome must be set). */
export function buildAuditRecord(ctx: RunContext, recordedAt: Date): AuditRecord {
  const key = auditKey(ctx);
  const stateAfter = stateAfterOf(ctx);
  const ttr = timeToRemediate(ctx);
  const blocked = blockedOf(ctx);
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
  return AuditRecordSchema.parse({
    ...key,
    ...runFields(ctx),
    outcome: ctx.outcome ?? 'failed',
    severity: runSeverity(ctx),
    reason: ctx.reason,
    findingsBefore: (ctx.before?.assessment.findings ?? []).map(({ code, message }) => ({ code, message })),
    actions: ctx.actions,
    ...(stateAfter ? { stateAfter } : {}),
    ...(ctx.error ? { error: describeTaskError(ctx.error) } : {}),
    ...(blocked ? { blocked } : {}),
    ...(notification ? { notification } : {}),
    ...(ctx.securityHub ? { securityHub: ctx.securityHub } : {}),
    ...(ctx.restoration ? { restoration: ctx.restoration } : {}),
    ...(ttr ? { timeToRemediate: ttr } : {}),
    startedAt: ctx.execution.startTime,
    recordedAt: recordedAt.toISOString(),
  });
}

/** The key of a run's delivery-check record: the run's partition, sorted right after the run's own record. */
export function deliveryAuditKey(ctx: RunContext): AuditKey {
  const key = auditKey(ctx);
  return { trail: key.trail, run: `${key.run}#delivery-check` };
}

/** The actor and trigger fields of a run's record (the delivery check's record keeps them too). */
function triggerFields(ctx: RunContext) {
  const t = ctx.trigger;
  return {
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
  };
}

/**
 * The delivery check's own record, linked to the run's (which stays as it was written). The run must be
 * remediated and carry its delivery check. `outcome` is the run's (`remediated`), `reason` the check's summary,
 * `severity` the delivery email's (HIGH for a delivery error, else INFO). `notification` is the DELIVERY NOT
 * CONFIRMED email when the context's notification is that email (a confirmed delivery sends none). `securityHub`
 * is what UpdateFindingsDelivery did to the trail's findings after the check.
 */
export function buildDeliveryAuditRecord(ctx: RunContext, recordedAt: Date): AuditRecord {
  const check = ctx.deliveryCheck;
  if (!check) throw new InvalidInputError('a delivery-check record needs a run whose delivery check is set');
  if (ctx.outcome !== 'remediated') {
    throw new InvalidInputError(
      `a delivery check follows a remediated run (this run's outcome is ${ctx.outcome ?? 'not set'})`,
    );
  }
  const { name, region } = trailLabel(ctx);
  const sent = ctx.notification;
  const emailed =
    check.status !== 'confirmed' && sent !== undefined && sent.subject === buildDeliverySubject(name, region);
  return AuditRecordSchema.parse({
    ...deliveryAuditKey(ctx),
    kind: 'delivery-check',
    linkedRun: auditKey(ctx).run,
    ...runFields(ctx),
    outcome: ctx.outcome,
    severity: deliverySeverity(check),
    reason: check.summary,
    findingsBefore: [],
    actions: [],
    ...(emailed
      ? {
          notification: {
            ...(sent.messageId ? { messageId: sent.messageId } : {}),
            subject: sent.subject,
            ...(sent.deduplication ? { deduplication: sent.deduplication } : {}),
            ...(sent.delivery ? { delivery: sent.delivery } : {}),
          },
        }
      : {}),
    deliveryCheck: check,
    // UpdateFindingsDelivery's result: RESOLVED (confirmed) or NOTIFIED (not), in the record of the check.
    ...(ctx.securityHub ? { securityHub: ctx.securityHub } : {}),
    startedAt: ctx.execution.startTime,
    recordedAt: recordedAt.toISOString(),
  });
}
