/**
 * The minimum number of AWS calls each scenario needs, written down call by call.
 *
 * How the minimum is derived (the same rule for every scenario):
 *   minimum = reads that establish the state once        (phase `establish`, made once, by Check)
 *           + writes strictly needed to fix it             (phase `write`, one per thing that is wrong)
 *           + reads that verify the result once            (phase `verify`, only when something was written)
 *           + the email once (idempotency PutItem, SNS Publish, UpdateItem), Security Hub's findings for the trail
 *             (GetFindings) and one audit PutItem     (phase `report`, for outcomes that notify and audit)
 *
 * with these ground rules, all taken from the product's design (docs/architecture.md, /work/shared/design.md):
 *   - The read APIs are the ones the design names (GetTrail, GetTrailStatus, ListTags, DescribeLogGroups, GetRole,
 *     ListRolePolicies / GetRolePolicy, ListAttachedRolePolicies): the assessment evaluates the policy documents
 *     itself. (iam:SimulatePrincipalPolicy could replace the role's policy reads with one call, but then the
 *     repair could not tell whose Deny blocks delivery; it is not counted as the minimum.)
 *   - To prove a role works, both its inline and its attached policies must be read (an attached policy may hold a
 *     Deny); ListRolePolicies and ListAttachedRolePolicies are needed even when one of them turns out empty.
 *   - The exemption tag (ListTags) must be known before deciding anything, also for a compliant trail (an exempt
 *     trail is `skipped`, not `compliant`). Verify does not need it.
 *   - Verify re-reads everything that makes the trail compliant, not just what was written, because another actor
 *     may change any of it between the check and the fix; it proves the whole integration once.
 *   - The writes are what the product's remediation policy requires (trailguard repairs in place only the log
 *     groups and roles it manages, and otherwise points the trail at its own defaults); the benchmark checks that
 *     the product made exactly these writes, so a change of policy shows up as a model mismatch, not as noise.
 *   - No write is counted for something that is already right; a created log group gets the configured retention
 *     (PutRetentionPolicy: CreateLogGroup cannot set it) and a created role gets its inline grant (PutRolePolicy:
 *     CreateRole cannot embed one).
 *   - Each call is attributed to the step where a minimal implementation would make it, so the report can say in
 *     which step the product makes more calls than this.
 */
import type { StepName } from '../services/handlers/registry.js';
import type { ScenarioId } from './scenarios.js';

export type Phase = 'establish' | 'write' | 'verify' | 'report';

export interface MinimumCall {
  op: string;
  phase: Phase;
  step: StepName;
  why: string;
}

const call = (op: string, phase: Phase, step: StepName, why: string): MinimumCall => ({
  op,
  phase,
  step,
  why,
});

// --- Establish: the trail itself -------------------------------------------------------------------------------
/** GetTrail: the log group and role ARNs, home region and owner; everything else depends on them. */
const getTrail = call('GetTrail', 'establish', 'Check', 'ARNs, home region, owner of the trail');
/** GetTrailStatus: IsLogging (LOGGING_STOPPED) and the last delivery error; GetTrail does not return them. */
const getTrailStatus = call('GetTrailStatus', 'establish', 'Check', 'IsLogging and delivery error');
/** ListTags: the exemption tag decides between acting and `skipped`, before anything else is decided. */
const listTags = call('ListTags', 'establish', 'Check', 'exemption tag');
const TRAIL = [getTrail, getTrailStatus, listTags];

// --- Establish: the log group the trail will deliver to --------------------------------------------------------
/** One DescribeLogGroups (exact-name match on the prefix): whether the target group exists. */
const describeGroup = call('DescribeLogGroups', 'establish', 'Check', 'does the target log group exist');

// --- Establish: a delivery role ----------------------------------------------------------------------------------
/** GetRole: existence and trust policy (NoSuchEntity ends the role reads). */
const getRole = (whose: string) => call('GetRole', 'establish', 'Check', `${whose}: exists? trust policy`);
/** ListRolePolicies + ListAttachedRolePolicies: every permission policy must be seen to prove delivery works. */
const listPolicies = (whose: string) => [
  call('ListRolePolicies', 'establish', 'Check', `${whose}: inline policy names`),
  call('ListAttachedRolePolicies', 'establish', 'Check', `${whose}: attached policies (may hold a Deny)`),
];
/** GetRolePolicy: one per inline policy, the document the assessment evaluates. */
const getRolePolicy = (whose: string) =>
  call('GetRolePolicy', 'establish', 'Check', `${whose}: inline policy document`);
/** An existing role with `inline` inline policies and no attached ones (how the seed creates roles). */
const ROLE = (whose: string, inline: number) => [
  getRole(whose),
  ...listPolicies(whose),
  ...Array.from({ length: inline }, () => getRolePolicy(whose)),
];
/** A role that does not exist: GetRole answers NoSuchEntity, nothing else to read. */
const ABSENT_ROLE = (whose: string) => [getRole(whose)];

// --- Writes -----------------------------------------------------------------------------------------------------
const createLogGroup = call('CreateLogGroup', 'write', 'RestoreLogGroup', 'the target group is missing');
/**
 * A group the guardrail creates gets back what the sweep's last snapshot of the trail's group recorded: one
 * GetItem on the state table finds it (or finds none).
 */
const getSnapshot = call('GetItem', 'establish', 'RestoreLogGroup', "the trail's log group snapshot, if any");
/** CreateLogGroup cannot set retention; the guardrail sets the configured retention on groups it creates. */
const putRetention = call('PutRetentionPolicy', 'write', 'RestoreLogGroup', 'retention of the created group');
const createRole = call(
  'CreateRole',
  'write',
  'RestoreRole',
  'the target role is missing (trust policy included)',
);
/** CreateRole cannot embed an inline policy: the delivery grant is a second call. */
const putRolePolicy = call('PutRolePolicy', 'write', 'RestoreRole', 'grant CreateLogStream + PutLogEvents');
const updateTrust = call('UpdateAssumeRolePolicy', 'write', 'RestoreRole', 'let CloudTrail assume the role');
/** UpdateTrail sets both ARNs in one call. */
const updateTrail = call(
  'UpdateTrail',
  'write',
  'RestoreTrail',
  'point the trail at the target group and role',
);
const startLogging = call('StartLogging', 'write', 'RestoreTrail', 'logging is stopped');

// --- Verify: the whole integration, once, after the writes ------------------------------------------------------
/** Everything compliance depends on, read back once: trail ARNs, logging, the group, the role and its policies. */
const VERIFY = (inlineAfter: number): MinimumCall[] => [
  call('GetTrail', 'verify', 'Verify', 'ARNs as written'),
  call('GetTrailStatus', 'verify', 'Verify', 'logging'),
  call('DescribeLogGroups', 'verify', 'Verify', 'the group exists'),
  call('GetRole', 'verify', 'Verify', 'the role exists and trusts CloudTrail'),
  call('ListRolePolicies', 'verify', 'Verify', 'inline policies'),
  call('ListAttachedRolePolicies', 'verify', 'Verify', 'attached policies (no Deny)'),
  ...Array.from({ length: inlineAfter }, () => call('GetRolePolicy', 'verify', 'Verify', 'inline document')),
];

// --- Report: one email and one audit record per run that took or proposed an action -----------------------------
const REPORT = [
  call(
    'PutItem',
    'report',
    'Notify',
    'claim the run and outcome in the idempotency table (one email per outcome)',
  ),
  call('Publish', 'report', 'Notify', 'one SNS message per outcome that needs a person'),
  call('UpdateItem', 'report', 'Notify', 'mark the email sent in the idempotency record'),
  call('GetFindings', 'report', 'UpdateFindings', "the trail's open CloudTrail.5 findings (none here)"),
  call('PutItem', 'report', 'Audit', 'one write-once audit record (conditional put)'),
];

/** A run that writes: the trail, the target group, `role`'s reads, the writes, one verify and the report. */
const fix = (role: MinimumCall[], writes: MinimumCall[], inlineAfter = 1) => [
  ...TRAIL,
  describeGroup,
  ...role,
  ...writes,
  ...VERIFY(inlineAfter),
  ...REPORT,
];
const newGroup = [createLogGroup, getSnapshot, putRetention];
const newRole = [createRole, putRolePolicy];
const own = ROLE("trail's role", 1);
const noDefault = ABSENT_ROLE('default role');

/**
 * The minimum per scenario. Seeds (test/support/seed.ts, see bench/scenarios.ts): the log group is
 * `CloudTrail/<trail>` (the configured template, so a managed name), the role has one inline policy, no attached.
 * An unparseable or foreign ARN cannot be used: the default group or role becomes the target (an existing default
 * group is kept; a missing default role is created and granted). trailguard's own role is repaired in place
 * (trust, grant: the other policy is someone else's and stays, so Verify reads two). In everything-broken the
 * trail's own unmanaged role trusts ec2 and has no policy (read to know it does not work), so the default role is
 * looked up (missing) and used.
 */
export const MINIMUM: Record<ScenarioId, readonly MinimumCall[]> = {
  compliant: [...TRAIL, describeGroup, ...own],
  'LOG_GROUP_ARN_MISSING+ROLE_ARN_MISSING': fix(noDefault, [...newGroup, ...newRole, updateTrail]),
  LOG_GROUP_ARN_MALFORMED: fix(own, [updateTrail]),
  LOG_GROUP_ARN_FOREIGN: fix(own, [updateTrail]),
  LOG_GROUP_MISSING: fix(own, newGroup),
  ROLE_ARN_MALFORMED: fix(noDefault, [...newRole, updateTrail]),
  ROLE_ARN_FOREIGN: fix(noDefault, [...newRole, updateTrail]),
  ROLE_MISSING: fix(ABSENT_ROLE("trail's role"), newRole),
  ROLE_TRUST_INVALID: fix(own, [updateTrust]),
  ROLE_PERMISSIONS_INSUFFICIENT: fix(own, [putRolePolicy], 2),
  LOGGING_STOPPED: fix(own, [startLogging]),
  'no-integration+LOGGING_STOPPED': fix(noDefault, [...newGroup, ...newRole, updateTrail, startLogging]),
  'everything-broken': fix(
    [...ROLE("trail's role", 0), ...noDefault],
    [...newGroup, ...newRole, updateTrail, startLogging],
  ),
};

export const WRITE_OPERATIONS: ReadonlySet<string> = new Set(
  `CreateLogGroup PutRetentionPolicy CreateRole PutRolePolicy UpdateAssumeRolePolicy UpdateTrail StartLogging
  Publish PutItem UpdateItem BatchUpdateFindings TagResource TagRole AssociateKmsKey PutMetricFilter PutMetricAlarm
  PutSubscriptionFilter PutDataProtectionPolicy`.split(/\s+/),
);

/** operation -> count */
export function countByOperation(calls: readonly MinimumCall[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of calls) out[c.op] = (out[c.op] ?? 0) + 1;
  return out;
}

/** step -> operation -> count */
export function countByStep(
  calls: readonly MinimumCall[],
): Partial<Record<StepName, Record<string, number>>> {
  const out: Partial<Record<StepName, Record<string, number>>> = {};
  for (const c of calls) {
    const counts = out[c.step] ?? {};
    counts[c.op] = (counts[c.op] ?? 0) + 1;
    out[c.step] = counts;
  }
  return out;
}
