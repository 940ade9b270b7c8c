/** Stable finding codes, each with a sentence a person understands. Pure. */
import * as z from '../../policies/zod.js';

export const FINDING_CODES = [
  'LOG_GROUP_ARN_MISSING',
  'LOG_GROUP_ARN_MALFORMED',
  'LOG_GROUP_ARN_FOREIGN',
  'LOG_GROUP_MISSING',
  'ROLE_ARN_MISSING',
  'ROLE_ARN_MALFORMED',
  'ROLE_ARN_FOREIGN',
  'ROLE_MISSING',
  'ROLE_TRUST_INVALID',
  'ROLE_PERMISSIONS_INSUFFICIENT',
  'LOGGING_STOPPED',
  /** A CloudWatch Logs delivery error trailguard could not classify (see services/domain/delivery.ts). */
  'DELIVERY_ERROR',
  /** CloudTrail cannot assume the delivery role. Fixed by repairing the role's trust. */
  'DELIVERY_ROLE_NOT_ASSUMABLE',
  /** The delivery role may not write to the log group. Fixed by re-granting the delivery permissions. */
  'DELIVERY_ACCESS_DENIED',
  /** The log group delivered to does not exist. Fixed by recreating it. */
  'DELIVERY_LOG_GROUP_MISSING',
  /** The log group's KMS key is disabled or pending deletion: a person must enable it. */
  'DELIVERY_KMS_KEY_DISABLED',
  /** The log group's KMS key policy does not let CloudWatch Logs (logs.<region>.amazonaws.com) use it. */
  'DELIVERY_KMS_ACCESS_DENIED',
  /** CloudWatch Logs throttled the delivery. */
  'DELIVERY_THROTTLED',
  /** cisMonitoring: a CIS metric filter is missing from the trail's log group. */
  'CIS_METRIC_FILTER_MISSING',
  /** cisMonitoring: a CIS metric filter exists under trailguard's name but its pattern or metric differ. */
  'CIS_METRIC_FILTER_CHANGED',
  /** cisMonitoring: the alarm on a CIS metric is missing. */
  'CIS_ALARM_MISSING',
  /** cisMonitoring: the alarm on a CIS metric exists but its metric, threshold, period or action differ. */
  'CIS_ALARM_CHANGED',
] as const;

export const FindingCodeSchema = z.enum(FINDING_CODES);
export type FindingCode = z.infer<typeof FindingCodeSchema>;

export const FindingSchema = z.object({
  code: FindingCodeSchema,
  message: z.string(),
  /** False for findings the guardrail reports but cannot prove fixed by itself (e.g. a past delivery error). */
  remediable: z.boolean(),
});
export type Finding = z.infer<typeof FindingSchema>;

/** Findings the guardrail does not fix itself: they go to a person. */
const NOT_REMEDIABLE: ReadonlySet<FindingCode> = new Set([
  'DELIVERY_ERROR',
  'DELIVERY_KMS_KEY_DISABLED',
  'DELIVERY_KMS_ACCESS_DENIED',
  'DELIVERY_THROTTLED',
]);

export function finding(code: FindingCode, message: string): Finding {
  return { code, message, remediable: !NOT_REMEDIABLE.has(code) };
}

export const SEVERITY = {
  LOGGING_STOPPED: 'CRITICAL',
} as const satisfies Partial<Record<FindingCode, string>>;

/** The overall severity of a set of findings: CRITICAL when logging is off, HIGH for any other finding. */
export function severityOf(findings: readonly Finding[]): 'CRITICAL' | 'HIGH' | 'INFO' {
  if (findings.some((f) => f.code === 'LOGGING_STOPPED')) return 'CRITICAL';
  return findings.length > 0 ? 'HIGH' : 'INFO';
}
