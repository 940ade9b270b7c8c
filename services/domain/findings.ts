/** Stable finding codes, each with a sentence a person understands. Pure. */
import * as z from 'zod';

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
  'DELIVERY_ERROR',
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
const NOT_REMEDIABLE: ReadonlySet<FindingCode> = new Set(['DELIVERY_ERROR']);

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
