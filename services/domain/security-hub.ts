/**
 * Security Hub, both ways. Pure: no AWS imports.
 * - In: EventBridge's "Security Hub Findings - Imported" events for control CloudTrail.5 (a failed, active
 *   finding whose workflow status is NEW or NOTIFIED) name the trail to fix in `Resources[].Id`
 *   (`Type: AwsCloudTrailTrail`). The rule's pattern lives in infra/constructs/trigger.ts; this module parses
 *   the event and re-checks every condition per finding (the rule is not the only way in).
 * - Out: after a run, what to do to the trail's active CloudTrail.5 findings: RESOLVED with a note after a
 *   verified fix, a note only when a person must act or the run failed, nothing otherwise; and the record of
 *   what was done (`SecurityHubUpdate`), which the audit record keeps.
 *
 * ASFF fields as the Security Hub user guide documents them ("AWS Security Finding Format (ASFF)",
 * "Compliance", "Workflow", "Resources"; consolidated control findings carry `Compliance.SecurityControlId`,
 * e.g. `CloudTrail.5`, whichever standards the control is enabled in). Each "Security Hub Findings -
 * Imported" event carries one finding ("EventBridge event formats for Security Hub CSPM").
 */

import { formatIssues } from '../../policies/config.js';
import * as z from '../../policies/zod.js';
import { parseTrailArn } from './arns.js';
import { blockedOf } from './blocked.js';
import { InvalidInputError, TrailguardError } from './errors.js';
import type { Outcome, RunContext } from './run-context.js';

/** The control trailguard keeps: "CloudTrail trails should be integrated with Amazon CloudWatch Logs". */
export const SECURITY_CONTROL_ID = 'CloudTrail.5';
export const TRAIL_RESOURCE_TYPE = 'AwsCloudTrailTrail';
export const FINDINGS_IMPORTED = 'Security Hub Findings - Imported';
export const SECURITY_HUB_SOURCE = 'aws.securityhub';
/** Workflow statuses of a finding nobody has dealt with yet: the only ones that start a run. */
export const OPEN_WORKFLOW_STATUSES = ['NEW', 'NOTIFIED'] as const;
/** BatchUpdateFindings limits: Note.Text and Note.UpdatedBy at most 512 characters, 100 findings a call. */
export const NOTE_MAX = 512;
export const UPDATE_BATCH_MAX = 100;
/** The `Note.UpdatedBy` of every note trailguard writes. */
export const NOTE_AUTHOR = 'trailguard';

const str = z.string().check(z.maxLength(2048));

/** The part of an ASFF finding trailguard reads. Everything else is kept but not relied on. */
export const asffFindingSchema = z.lazily(() =>
  z.looseObject({
    Id: str.check(z.minLength(1)),
    ProductArn: str.check(z.minLength(1)),
    AwsAccountId: str.check(z.regex(/^\d{12}$/, 'must be a 12-digit account id')),
    Region: z.optional(str),
    GeneratorId: z.optional(str),
    UpdatedAt: z.optional(str),
    RecordState: z.optional(str),
    Compliance: z.optional(z.looseObject({ Status: z.optional(str), SecurityControlId: z.optional(str) })),
    Workflow: z.optional(z.looseObject({ Status: z.optional(str) })),
    /** The last note; `UpdatedBy` tells a finding trailguard resolved (NOTE_AUTHOR). */
    Note: z.optional(z.looseObject({ Text: z.optional(str), UpdatedBy: z.optional(str) })),
    ProductFields: z.optional(z.record(z.string(), z.string())),
    Resources: z.array(z.looseObject({ Type: str, Id: str, Region: z.optional(str) })).check(z.maxLength(32)),
  }),
);
export type AsffFinding = z.infer<ReturnType<typeof asffFindingSchema>>;

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

export const findingsEventSchema = z.lazily(() =>
  z.object({
    version: z.optional(str),
    id: str.check(z.minLength(1)),
    'detail-type': z.literal(FINDINGS_IMPORTED),
    source: z.literal(SECURITY_HUB_SOURCE),
    account: str.check(z.regex(/^\d{12}$/, 'must be a 12-digit account id')),
    time: str,
    region: str.check(z.regex(REGION, 'must be an AWS region')),
    resources: z._default(z.array(str).check(z.maxLength(100)), []),
    detail: z.object({ findings: z.array(asffFindingSchema()).check(z.minLength(1), z.maxLength(100)) }),
  }),
);
export type FindingsEvent = z.infer<ReturnType<typeof findingsEventSchema>>;

/** Whether an input looks like a Security Hub findings event (then it must parse as one). */
export function isFindingsEvent(input: unknown): boolean {
  return (
    !!input &&
    typeof input === 'object' &&
    (input as Record<string, unknown>)['detail-type'] === FINDINGS_IMPORTED
  );
}

/** The control a finding is about: `Compliance.SecurityControlId`, else the FSBP `ProductFields.ControlId`. */
export function controlIdOf(finding: AsffFinding): string | undefined {
  return finding.Compliance?.SecurityControlId ?? finding.ProductFields?.ControlId;
}

/** A finding trailguard acts on: CloudTrail.5, FAILED, ACTIVE, workflow NEW or NOTIFIED. */
export function isOpenFailedControlFinding(finding: AsffFinding): boolean {
  return (
    controlIdOf(finding) === SECURITY_CONTROL_ID &&
    finding.Compliance?.Status === 'FAILED' &&
    finding.RecordState === 'ACTIVE' &&
    (OPEN_WORKFLOW_STATUSES as readonly string[]).includes(finding.Workflow?.Status ?? '')
  );
}

/** The trail ARNs a finding names (resources of type AwsCloudTrailTrail whose Id is a trail ARN). */
export function trailArnsOf(finding: AsffFinding): string[] {
  return finding.Resources.filter((r) => r.Type === TRAIL_RESOURCE_TYPE && parseTrailArn(r.Id)).map(
    (r) => r.Id,
  );
}

/** One run to start for a finding: the trail it names and the finding's identity. */
export interface FindingTarget {
  findingId: string;
  productArn: string;
  /** When Security Hub last evaluated it: a new evaluation of the same finding is a new run. */
  updatedAt?: string;
  trailArn: string;
}

/** Parses a findings event; InvalidInputError when it is not one. */
export function parseFindingsEvent(input: unknown): FindingsEvent {
  const result = findingsEventSchema().safeParse(input);
  if (!result.success) {
    throw new InvalidInputError(
      `not a Security Hub "${FINDINGS_IMPORTED}" event: ${formatIssues(result.error).join('; ')}`,
      { cause: result.error },
    );
  }
  return result.data;
}

/**
 * The trails a findings event asks to fix: each open, failed CloudTrail.5 finding's trail resources. Findings
 * of other controls, passed, resolved or archived ones name nothing (the rule does not deliver them; this is
 * the same check again). An event whose matching findings name no trail is bad input.
 */
export function findingTargets(event: FindingsEvent): FindingTarget[] {
  const open = event.detail.findings.filter(isOpenFailedControlFinding);
  const targets = open.flatMap((f) =>
    trailArnsOf(f).map((trailArn) => ({
      findingId: f.Id,
      productArn: f.ProductArn,
      ...(f.UpdatedAt ? { updatedAt: f.UpdatedAt } : {}),
      trailArn,
    })),
  );
  if (open.length > 0 && targets.length === 0) {
    throw new InvalidInputError(
      `the ${SECURITY_CONTROL_ID} finding ${open[0]?.Id.slice(0, 300)} names no trail (Resources[] of type ${TRAIL_RESOURCE_TYPE} with a trail ARN as Id)`,
    );
  }
  return targets;
}

// ---------------------------------------------------------------------------------------------------------
// Findings out

/**
 * A finding trailguard was about to update is not a CloudTrail.5 finding of the run's trail. IAM cannot stop
 * that (BatchUpdateFindings' only resource is the hub; no condition key names a control, product or resource:
 * Service Authorization Reference, "Actions, resources, and condition keys for AWS Security Hub"), so the code
 * does, before any call.
 */
export class FindingOutOfScopeError extends TrailguardError {
  override name = 'FindingOutOfScopeError';
}

/**
 * Why `finding` is not one trailguard may update for `trailArn` (undefined when it is): its control is
 * CloudTrail.5, it is in the trail's account, and one of its resources is that trail.
 */
export function outOfScopeReason(finding: AsffFinding, trailArn: string): string | undefined {
  const control = controlIdOf(finding);
  if (control !== SECURITY_CONTROL_ID)
    return `its control is ${control ?? 'unknown'}, not ${SECURITY_CONTROL_ID}`;
  const trail = parseTrailArn(trailArn);
  if (!trail) return `${trailArn} is not a trail ARN`;
  if (finding.AwsAccountId !== trail.account) {
    return `it is a finding of account ${finding.AwsAccountId}, not of the trail's account ${trail.account}`;
  }
  if (!finding.Resources.some((r) => r.Type === TRAIL_RESOURCE_TYPE && r.Id === trailArn)) {
    return `it does not name the trail ${trailArn}`;
  }
  return undefined;
}

/** Throws FindingOutOfScopeError unless every finding is a CloudTrail.5 finding of `trailArn`. */
export function assertFindingsInScope(findings: readonly AsffFinding[], trailArn: string): void {
  for (const finding of findings) {
    const why = outOfScopeReason(finding, trailArn);
    if (why) {
      throw new FindingOutOfScopeError(`refusing to update finding ${finding.Id.slice(0, 300)}: ${why}`);
    }
  }
}

/** The workflow statuses trailguard sets (and the only ones its IAM grant admits: policies/iam.ts). */
export const SET_WORKFLOW_STATUSES = ['NEW', 'NOTIFIED', 'RESOLVED'] as const;
export type SetWorkflowStatus = (typeof SET_WORKFLOW_STATUSES)[number];

/** What a run does to the trail's findings: its outcome and its delivery check decide. */
export interface FindingsUpdatePlan {
  /**
   * RESOLVED once delivery is confirmed (or right after Verify when there is no delivery check); NOTIFIED when
   * the delivery check did not confirm it; absent: the status is left as it is (a note only).
   */
  workflowStatus?: SetWorkflowStatus;
  note: string;
}

/** Whether a delivery check follows this update (config.deliveryCheckMinutes > 0 and none has run yet). */
export interface PlanOptions {
  deliveryCheckMinutes: number;
}

/** Outcomes whose findings get a note; `remediated` also resolves them. Compliant and skipped runs: nothing. */
const NOTED_OUTCOMES: ReadonlySet<Outcome> = new Set(['remediated', 'notified', 'failed']);

/** The execution's name: the last part of its ARN. */
export function executionNameOf(executionId: string): string {
  return executionId.split(':').at(-1) || executionId;
}

/**
 * The note, at most 512 characters: `trailguard <outcome>: <what> (execution <name>; actions: <api resource>,
 * ...)`. The execution ARN's name part identifies the run in the Step Functions console and the audit table.
 */
export function findingNote(ctx: RunContext, options: PlanOptions = { deliveryCheckMinutes: 0 }): string {
  const outcome = ctx.outcome ?? 'failed';
  const check = ctx.deliveryCheck;
  const what =
    outcome === 'remediated'
      ? check
        ? check.status === 'confirmed'
          ? `CloudWatch Logs integration restored, verified, and delivery confirmed: ${check.summary}`
          : `CloudWatch Logs integration restored and verified, but delivery is not confirmed (${check.status}): ${check.summary}`
        : options.deliveryCheckMinutes > 0
          ? `CloudWatch Logs integration restored and verified; resolved only once the delivery check confirms logs arrive (in ${options.deliveryCheckMinutes} minutes)`
          : 'CloudWatch Logs integration restored and verified (no delivery check configured)'
      : outcome === 'notified'
        ? `not fixed automatically, a person must act: ${blockedOf(ctx)?.summary ?? ctx.reason}`
        : `the run failed${ctx.error ? ` (${ctx.error.step ? `${ctx.error.step}: ` : ''}${ctx.error.Error})` : ''}; the trail may still be non-compliant`;
  const actions = ctx.actions.map((a) => `${a.api} ${a.resource.split(/[:/]/).at(-1) ?? a.resource}`);
  const text = `trailguard ${outcome}: ${what} (execution ${executionNameOf(ctx.execution.id)}; actions: ${actions.length ? actions.join(', ') : 'none'})`;
  return text.length > NOTE_MAX ? `${text.slice(0, NOTE_MAX - 4)} ...` : text;
}

/**
 * The update for a run, or undefined when its findings are left alone (Security Hub user guide, "Setting the
 * workflow status of findings": RESOLVED means the finding was reviewed and remediated):
 * - remediated, after the delivery check: RESOLVED when it confirmed delivery, else NOTIFIED with a note that
 *   says why (the check's summary);
 * - remediated, a delivery check still to come (deliveryCheckMinutes > 0): a note only, no status yet;
 * - remediated, no delivery check configured (deliveryCheckMinutes 0): RESOLVED after Verify;
 * - notified, failed: a note only; compliant, skipped: nothing.
 */
export function findingsUpdatePlan(
  ctx: RunContext,
  options: PlanOptions = { deliveryCheckMinutes: 0 },
): FindingsUpdatePlan | undefined {
  if (!ctx.outcome || !NOTED_OUTCOMES.has(ctx.outcome)) return undefined;
  const note = findingNote(ctx, options);
  // A repair a policy or KMS key stopped: NOTIFIED (a person has been told and must act), with the note.
  if (ctx.outcome === 'notified' && blockedOf(ctx)) return { workflowStatus: 'NOTIFIED', note };
  if (ctx.outcome !== 'remediated') return { note };
  if (ctx.deliveryCheck) {
    return { workflowStatus: ctx.deliveryCheck.status === 'confirmed' ? 'RESOLVED' : 'NOTIFIED', note };
  }
  return options.deliveryCheckMinutes > 0 ? { note } : { workflowStatus: 'RESOLVED', note };
}

/**
 * Whether this run found the trail failing again, so findings trailguard had RESOLVED are re-opened (NEW):
 * Security Hub itself re-opens a RESOLVED finding only when its compliance goes from PASSED to FAILED (API
 * Reference, "WorkflowUpdate"), which a finding trailguard resolved before Security Hub re-evaluated it never
 * does. Only the main (or failure) path's update, whose Check assessed the trail and found something wrong.
 */
export function reopensResolvedFindings(ctx: RunContext): boolean {
  if (ctx.deliveryCheck) return false;
  return (ctx.before?.assessment.findings.length ?? 0) > 0;
}

/** Whether trailguard resolved this finding: RESOLVED, and its last note is trailguard's. */
export function resolvedByTrailguard(finding: AsffFinding): boolean {
  return finding.Workflow?.Status === 'RESOLVED' && finding.Note?.UpdatedBy === NOTE_AUTHOR;
}

/** The note on a re-opened finding: why, then the run's own note, within 512 characters. */
export function reopenNote(plan: FindingsUpdatePlan): string {
  const text = `trailguard re-opened: the trail failed again after trailguard resolved this finding. ${plan.note}`;
  return text.length > NOTE_MAX ? `${text.slice(0, NOTE_MAX - 4)} ...` : text;
}

/**
 * What happened in Security Hub for a run, kept in the RunContext and the audit record:
 * - `updated`: the findings listed were updated (status and note, or note only);
 * - `no-findings`: Security Hub is on but holds no active CloudTrail.5 finding for the trail;
 * - `not-enabled`: Security Hub is not enabled in the trail's account and region (nothing to do);
 * - `skipped`: nothing to do for this outcome, the trail is unknown, or `securityHub` is off;
 * - `error`: a Security Hub call failed; the run's outcome stands (best effort by definition).
 */
export const SecurityHubUpdateSchema = z.object({
  status: z.enum(['updated', 'no-findings', 'not-enabled', 'skipped', 'error']),
  reason: z.optional(z.string()),
  workflowStatus: z.optional(z.enum(SET_WORKFLOW_STATUSES)),
  note: z.optional(z.string()),
  findings: z.optional(z.array(z.object({ id: z.string(), productArn: z.string() }))),
  /** Findings trailguard had RESOLVED, re-opened (NEW, or the run's own status) because the trail failed again. */
  reopened: z.optional(z.array(z.object({ id: z.string(), productArn: z.string() }))),
  /** Findings BatchUpdateFindings reported as not processed, with its error. */
  unprocessed: z.optional(
    z.array(
      z.object({ id: z.string(), errorCode: z.optional(z.string()), errorMessage: z.optional(z.string()) }),
    ),
  ),
  error: z.optional(z.object({ name: z.string(), message: z.string() })),
});
export type SecurityHubUpdate = z.infer<typeof SecurityHubUpdateSchema>;
