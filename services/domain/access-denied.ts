/**
 * AWS's access-denied messages, read: which kind of policy refused a call, explicitly or implicitly. Pure.
 *
 * IAM User Guide, "Troubleshoot access denied error messages"
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html): most messages read
 * `User: <principal> is not authorized to perform: <action> on resource: <resource> because <context>`, where the
 * context is `with an explicit deny in a <type>` (a Deny statement) or `because no <type> allows the <action>
 * action` (no Allow). Types: service control policy, resource control policy, permissions boundary, session
 * policy, identity-based policy, resource-based policy, VPC endpoint policy. Some services omit the context
 * clause; when several policy types deny a request, AWS names only one of them. An SCP denial may also read
 * `due to an explicit deny in a Service Control Policy` (even when it is implicit).
 */

export const POLICY_TYPES = [
  'service control policy',
  'resource control policy',
  'permissions boundary',
  'session policy',
  'identity-based policy',
  'resource-based policy',
  'VPC endpoint policy',
] as const;
export type PolicyType = (typeof POLICY_TYPES)[number];

export interface AccessDenial {
  policyType: PolicyType;
  /** A Deny statement refused it (`with an explicit deny in a ...`); false: no policy of that type allows it. */
  explicit: boolean;
  /** The action refused, e.g. `cloudtrail:UpdateTrail`, when the message names it. */
  action?: string;
  /** The caller the message names (`User: <principal>`), when it does. */
  principal?: string;
  /** The resource the message names, when it does. */
  resource?: string;
}

const TYPES = POLICY_TYPES.map((t) => t.replace(/[-.]/g, '\\$&')).join('|');
const EXPLICIT = new RegExp(`(?:with|due to) an explicit deny in (?:a|an|the) (${TYPES})`, 'i');
const IMPLICIT = new RegExp(`because no (${TYPES}) allows`, 'i');
const PRINCIPAL = /User: (\S+) is not authorized to perform/;
const ACTION = /is not authorized to perform:? ([\w-]+:[\w*-]+)/;
const RESOURCE = /on resource:? (\S+?)(?=\s+(?:because|with|due)\b|$)/;

function policyTypeOf(text: string): PolicyType {
  const lower = text.toLowerCase();
  return POLICY_TYPES.find((t) => t.toLowerCase() === lower) ?? 'identity-based policy';
}

/**
 * The denial an access-denied message describes, or undefined when it has no context clause (no policy type:
 * some services omit it) or is not an access-denied message at all.
 */
export function parseAccessDenied(message: string): AccessDenial | undefined {
  const explicit = EXPLICIT.exec(message);
  const implicit = explicit ? undefined : IMPLICIT.exec(message);
  const type = explicit?.[1] ?? implicit?.[1];
  if (!type) return undefined;
  const action = ACTION.exec(message)?.[1];
  const principal = PRINCIPAL.exec(message)?.[1];
  const resource = RESOURCE.exec(message)?.[1];
  return {
    policyType: policyTypeOf(type),
    explicit: explicit !== null && explicit !== undefined,
    ...(action ? { action } : {}),
    ...(principal ? { principal } : {}),
    ...(resource ? { resource } : {}),
  };
}

/**
 * Whether a denial is trailguard's own missing permission: no identity-based policy of the caller (trailguard's
 * own role: it is the caller of every write) allows the action. That is a defect of the stack's IAM policy, to
 * fail visibly; every other denial is a policy someone else set (an SCP, an RCP, a boundary, a session policy, a
 * Deny statement added to the role) and goes to a person.
 */
export function isOwnMissingPermission(denial: AccessDenial): boolean {
  return !denial.explicit && denial.policyType === 'identity-based policy';
}

/** The denial in words, e.g. `an explicit deny in a service control policy`. */
export function describeDenial(denial: AccessDenial): string {
  const type = denial.policyType;
  return denial.explicit ? `an explicit deny in a ${type}` : `no ${type} allows it (implicit deny)`;
}

/** What a person does about a denial of this policy type. */
export function denialNextStep(denial: AccessDenial): string {
  const action = denial.action ?? 'the refused action';
  switch (denial.policyType) {
    case 'service control policy':
    case 'resource control policy':
      return `An AWS Organizations ${denial.policyType} on this account, its OU or the root refuses ${action} to trailguard's role. Ask the organization's administrators to exempt trailguard's roles from it (aws:PrincipalArn), or fix the trail by hand with a role the policy allows; then run \`trailguard remediate\` for the trail.`;
    case 'permissions boundary':
      return `The permissions boundary on trailguard's role does not allow ${action}. Remove the boundary or add the action to it; trailguard's own stack sets none.`;
    case 'session policy':
      return `A session policy passed when trailguard's role was assumed refuses ${action}. Check what assumes the role and the policy it passes.`;
    case 'identity-based policy':
      return `A Deny statement in a policy attached to trailguard's role refuses ${action}. trailguard's stack adds no Deny for it: find the policy that was attached and remove that statement.`;
    case 'resource-based policy':
      return `The resource's own policy refuses ${action} to trailguard's role. Let the role use it in that policy.`;
    case 'VPC endpoint policy':
      return `The VPC endpoint trailguard's function calls through refuses ${action}. Allow it in the endpoint's policy.`;
  }
}

/** The errors the workflow turns into a `notified` run instead of a failure (a person must act). */
export const NOTIFIED_ERRORS = ['BlockedByPolicyError', 'KmsKeyRefusedError'] as const;
