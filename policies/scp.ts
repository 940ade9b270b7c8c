/**
 * The optional preventive service control policy of an organization hub (config.preventive.scp): the one place
 * its document is built, used by the hub stack (infra/constructs/preventive-scp.ts, an AWS::Organizations::Policy)
 * and by `trailguard local-setup` (created and attached through Organizations on the emulator).
 *
 * It denies, to every principal of the accounts under its targets except trailguard's own roles, the canary's
 * role and the break-glass roles (ArnNotLike on `aws:PrincipalArn`):
 * - on every trail: cloudtrail:StopLogging, DeleteTrail, UpdateTrail, PutEventSelectors;
 * - on trailguard's managed log groups (the names config.logGroupNameTemplate can produce, each variable a `*`):
 *   deletion, retention, KMS, metric filter, subscription filter and deletion protection changes;
 * - on the delivery roles trailguard manages (config.deliveryRoleName, config.managedRoleNames) at any path:
 *   deletion, inline and attached policy changes, trust changes and permissions boundary changes.
 *
 * One statement: an action only ever matches a resource ARN of its own service and type (a trail ARN never
 * matches a log group pattern), so one Deny over the union of the actions and of the resources denies exactly
 * what three statements would, and states the exemption list once (the document must fit the SCP size quota).
 *
 * AWS's rules it relies on (AWS Organizations User Guide, "Service control policies (SCPs)" and "SCP syntax",
 * https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html): SCPs never bind the
 * management account nor service-linked roles; `aws:PrincipalArn` is the role's ARN (with its path) for a role
 * session. The size quota ("Quotas and service limits for AWS Organizations",
 * https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html): 10,240 characters per
 * SCP since 15 May 2026 (5,120 before), whitespace included when written through the API or CloudFormation: the
 * document is written minified (`scpContent`).
 */

import { CANARY_MEMBER_ROLE_NAME } from '../services/domain/canary.js';
import { type Config, managedLogGroupPattern, managedRoleNames, type PreventiveConfig } from './config.js';
import { type MemberRole, memberRoleName } from './iam.js';

/** The SCP size quota (characters, whitespace included). */
export const SCP_SIZE_QUOTA = 10_240;

/** The name of the policy in Organizations (the hub stack's and local-setup's; `check` looks it up by it). */
export const PREVENTIVE_SCP_NAME = 'trailguard-preventive';
/** Its description in Organizations. */
export const PREVENTIVE_SCP_DESCRIPTION =
  "trailguard: denies stopping, deleting or changing trails, trailguard's log groups and delivery roles to all but trailguard and break-glass roles";

/** The breaking trail calls (CloudTrail API reference; Service Authorization Reference, resource type trail). */
export const DENIED_TRAIL_ACTIONS = [
  'cloudtrail:StopLogging',
  'cloudtrail:DeleteTrail',
  'cloudtrail:UpdateTrail',
  'cloudtrail:PutEventSelectors',
] as const;

/**
 * The breaking calls on a managed log group (CloudWatch Logs API reference; each takes the log-group resource
 * type): deletion, retention, KMS, metric filters, subscription filters, deletion protection
 * (PutLogGroupDeletionProtection, "PutLogGroupDeletionProtection", CloudWatch Logs API reference).
 */
export const DENIED_LOG_GROUP_ACTIONS = [
  'logs:DeleteLogGroup',
  'logs:PutRetentionPolicy',
  'logs:DeleteRetentionPolicy',
  'logs:AssociateKmsKey',
  'logs:DisassociateKmsKey',
  'logs:PutMetricFilter',
  'logs:DeleteMetricFilter',
  'logs:PutSubscriptionFilter',
  'logs:DeleteSubscriptionFilter',
  'logs:PutLogGroupDeletionProtection',
] as const;

/** The breaking calls on a delivery role (IAM API reference; each takes the role resource type). */
export const DENIED_ROLE_ACTIONS = [
  'iam:DeleteRole',
  'iam:DeleteRolePolicy',
  'iam:PutRolePolicy',
  'iam:UpdateAssumeRolePolicy',
  'iam:AttachRolePolicy',
  'iam:DetachRolePolicy',
  'iam:PutRolePermissionsBoundary',
  'iam:DeleteRolePermissionsBoundary',
] as const;

/**
 * The member roles (policies/iam.ts MEMBER_ROLES) that make the changes the SCP denies to others: the restore
 * steps'. The read-only and findings roles never make them, so they are not exempt.
 */
export const EXEMPT_MEMBER_ROLES = [
  'restore-log-group',
  'restore-role',
  'restore-trail',
] as const satisfies readonly MemberRole[];

export interface ScpContext {
  /** The partition (`aws`, `aws-us-gov`, ...; a CloudFormation token in the stack). */
  partition: string;
  config: Pick<
    Config,
    'logGroupNameTemplate' | 'deliveryRoleName' | 'managedRoleNames' | 'remediationRoleName'
  > & {
    preventive: Pick<PreventiveConfig, 'breakGlassRoleArns'>;
    canary?: { accounts?: readonly string[] | undefined } | undefined;
  };
  /**
   * The exact ARNs of trailguard's other principals that change guarded resources: the hub's own mutating
   * function roles (they act in the hub's account without a member role) and the canary's role (config.canary).
   * May be CloudFormation tokens.
   */
  ownRoleArns?: readonly string[];
}

export interface ScpStatement {
  Sid: string;
  Effect: 'Deny';
  Action: string[];
  Resource: string[];
  Condition: { ArnNotLike: { 'aws:PrincipalArn': string[] } };
}

export interface ScpDocument {
  Version: '2012-10-17';
  Statement: ScpStatement[];
}

/**
 * The principals the SCP never binds: the restore member roles by their exact names in any account (never a
 * prefix: an account administrator could create `<remediationRoleName>-anything` and be exempt), with
 * config.canary.accounts the spoke's canary role (`trailguard-canary-access`, exact name: it breaks the canary's
 * trail in each member on purpose, and would otherwise be denied), the given own roles, and the break-glass roles.
 */
export function exemptPrincipalArns(c: ScpContext): string[] {
  return [
    ...EXEMPT_MEMBER_ROLES.map(
      (role) => `arn:${c.partition}:iam::*:role/${memberRoleName(c.config.remediationRoleName, role)}`,
    ),
    ...(c.config.canary?.accounts ? [`arn:${c.partition}:iam::*:role/${CANARY_MEMBER_ROLE_NAME}`] : []),
    ...(c.ownRoleArns ?? []),
    ...c.config.preventive.breakGlassRoleArns,
  ];
}

/** Every trail, in every account and region the SCP reaches. */
export function guardedTrailArns(c: Pick<ScpContext, 'partition'>): string[] {
  return [`arn:${c.partition}:cloudtrail:*:*:trail/*`];
}

/** The managed log groups (by the template's name pattern), in any account and region, with and without `:*`. */
export function guardedLogGroupArns(c: Pick<ScpContext, 'partition' | 'config'>): string[] {
  const base = `arn:${c.partition}:logs:*:*:log-group:${managedLogGroupPattern(c.config)}`;
  return base.endsWith('*') ? [base] : [base, `${base}:*`];
}

/** The managed delivery roles, in any account, at the root path or any other (role names cannot contain `/`). */
export function guardedRoleArns(c: Pick<ScpContext, 'partition' | 'config'>): string[] {
  return managedRoleNames(c.config).flatMap((name) => [
    `arn:${c.partition}:iam::*:role/${name}`,
    `arn:${c.partition}:iam::*:role/*/${name}`,
  ]);
}

/** The preventive SCP's document. */
export function preventiveScpDocument(c: ScpContext): ScpDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'TrailguardPreventive',
        Effect: 'Deny',
        Action: [...DENIED_TRAIL_ACTIONS, ...DENIED_LOG_GROUP_ACTIONS, ...DENIED_ROLE_ACTIONS],
        Resource: [...guardedTrailArns(c), ...guardedLogGroupArns(c), ...guardedRoleArns(c)],
        Condition: { ArnNotLike: { 'aws:PrincipalArn': exemptPrincipalArns(c) } },
      },
    ],
  };
}

/** The policy text as Organizations stores and counts it: minified JSON (whitespace counts toward the quota). */
export function scpContent(document: ScpDocument): string {
  return JSON.stringify(document);
}

export class ScpTooLargeError extends Error {
  override readonly name = 'ScpTooLargeError';
  constructor(readonly size: number) {
    super(
      `the preventive SCP has ${size} characters, more than the ${SCP_SIZE_QUOTA} AWS Organizations allows; use fewer managedRoleNames or breakGlassRoleArns, or a shorter logGroupNameTemplate`,
    );
  }
}

/**
 * The longest values the SCP's tokens can take when deployed: the longest partition name (`aws-us-gov`) and, for
 * each own role ARN, a role of a 12-digit account with a 64-character name (CloudFormation's generated names are
 * at most 64).
 */
export function worstCaseScpContext(c: ScpContext): ScpContext {
  return {
    ...c,
    partition: 'aws-us-gov',
    ownRoleArns: (c.ownRoleArns ?? []).map(() => `arn:aws-us-gov:iam::123456789012:role/${'r'.repeat(64)}`),
  };
}

/** The SCP's size at its deployed worst case (`worstCaseScpContext`); ScpTooLargeError over the quota. */
export function assertScpFits(c: ScpContext): number {
  const size = scpContent(preventiveScpDocument(worstCaseScpContext(c))).length;
  if (size > SCP_SIZE_QUOTA) throw new ScpTooLargeError(size);
  return size;
}
