/**
 * The state that flows through the workflow. Check creates it from the execution input; each later task
 * receives it, adds its part and returns it. Every task parses it with these schemas.
 */
import * as z from '../../policies/zod.js';
import { AssessmentSchema } from './assess.js';
import { DeliveryCheckSchema } from './delivery.js';
import { TrailRefSchema, TriggerSchema } from './events.js';
import { FindingSchema } from './findings.js';
import { SecurityHubUpdateSchema } from './security-hub.js';
import { TrailStateSchema } from './trail-state.js';

export const OUTCOMES = ['remediated', 'compliant', 'skipped', 'notified', 'failed'] as const;
export const OutcomeSchema = z.enum(OUTCOMES);
export type Outcome = z.infer<typeof OutcomeSchema>;

/** What Check decided. `remediate` goes through the restore steps; the others go straight to Notify or end. */
export const DECISIONS = ['compliant', 'remediate', 'notify', 'skip'] as const;
export type Decision = (typeof DECISIONS)[number];

export const ExecutionSchema = z.object({
  id: z.string().check(z.minLength(1)),
  startTime: z.string().check(z.minLength(1)),
});
export type Execution = z.infer<typeof ExecutionSchema>;

export const ActionSchema = z.object({
  step: z.enum(['RestoreLogGroup', 'RestoreRole', 'RestoreTrail']),
  /** The API call made, e.g. `CreateLogGroup`. */
  api: z.string(),
  resource: z.string(),
  detail: z.string(),
});
export type Action = z.infer<typeof ActionSchema>;

/** What RestoreLogGroup put back from a log group snapshot (see services/domain/log-group-snapshot.ts). */
export const RestorationSchema = z.object({
  /** When the sweep took the snapshot (ISO 8601). */
  snapshotTakenAt: z.string(),
  /** The log group the snapshot was taken of (the trail may now deliver to another name). */
  snapshotLogGroupName: z.string(),
  /** Each item put back, for people: e.g. `retention 400 days`, `metric filter RootAccountUsage`. */
  restored: z._default(z.array(z.string()), []),
  /** Each item that could not be put back, and why. */
  notRestored: z._default(z.array(z.object({ item: z.string(), reason: z.string() })), []),
});
export type Restoration = z.infer<typeof RestorationSchema>;

/**
 * The Step Functions Catch result: `{Error, Cause}`; on the failure path also `step`, the workflow state that
 * failed (recorded by its capture state, see infra/constructs/workflow.ts).
 */
export const TaskErrorSchema = z.object({
  Error: z.string(),
  Cause: z.optional(z.string()),
  step: z.optional(z.string()),
});
export type TaskError = z.infer<typeof TaskErrorSchema>;

export const RunContextSchema = z.object({
  execution: ExecutionSchema,
  trigger: TriggerSchema,
  trailRef: TrailRefSchema,
  account: z.optional(z.string()),
  decision: z.enum(DECISIONS),
  reason: z.string(),
  /** Trail ARN once known (absent when the trail does not exist). */
  trailArn: z.optional(z.string()),
  before: z.optional(z.object({ state: TrailStateSchema, assessment: AssessmentSchema })),
  actions: z._default(z.array(ActionSchema), []),
  after: z.optional(
    z.object({
      state: TrailStateSchema,
      findings: z.array(FindingSchema),
      /** When Verify re-read the trail and found it fixed (ISO 8601): the delivery check counts from here. */
      verifiedAt: z.optional(z.string()),
    }),
  ),
  /**
   * RestoreLogGroup recreated the trail's log group from the sweep's snapshot of it: what was put back and
   * what could not be (each with the reason), and when the snapshot was taken.
   */
  restoration: z.optional(RestorationSchema),
  /** The delivery check after a remediated run (config.deliveryCheckMinutes): set by CheckDelivery. */
  deliveryCheck: z.optional(DeliveryCheckSchema),
  outcome: z.optional(OutcomeSchema),
  error: z.optional(TaskErrorSchema),
  notification: z.optional(
    z.object({
      /** Absent only when the delivery is unconfirmed. */
      messageId: z.optional(z.string()),
      subject: z.string(),
      /**
       * `deduplicated`: published once per run and outcome (Powertools idempotency); `unavailable`: the
       * idempotency store could not be used, published anyway (a retry could repeat it); absent: not asked.
       */
      deduplication: z.optional(z.enum(['deduplicated', 'unavailable'])),
      /** The Publish request got no answer: it may have been delivered, and was not repeated (at most once). */
      delivery: z.optional(z.literal('unconfirmed')),
    }),
  ),
  /** Set when the notification could not be sent (failure path), so the audit record says so. */
  notificationError: z.optional(TaskErrorSchema),
  /** What the run did to the trail's CloudTrail.5 findings in Security Hub (UpdateFindings). */
  securityHub: z.optional(SecurityHubUpdateSchema),
  audit: z.optional(z.object({ id: z.string(), tableName: z.string() })),
});
export type RunContext = z.infer<typeof RunContextSchema>;

/** What Check receives: the execution input and the execution's identity. */
export const CheckInputSchema = z.object({ input: z.unknown(), execution: ExecutionSchema });
export type CheckInput = z.infer<typeof CheckInputSchema>;

/**
 * What the failure path receives: whatever the failed state had as input (a RunContext, or for Check the raw
 * execution input) with the Catch's `error`, the name of the state that failed (`step`) and the execution's
 * identity.
 */
export const FailureEnvelopeSchema = z.object({
  failed: z.record(z.string(), z.unknown()),
  step: z.optional(z.string()),
  execution: ExecutionSchema,
});
export type FailureEnvelope = z.infer<typeof FailureEnvelopeSchema>;
