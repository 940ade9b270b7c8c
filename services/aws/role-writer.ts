/**
 * Makes sure a CloudTrail delivery role exists, trusts CloudTrail and may write a log group's CloudTrail
 * streams. Idempotent and safe to run concurrently, also for different trails sharing the role:
 * - the role is created only when missing (EntityAlreadyExistsException from a concurrent creator counts as
 *   "exists"), with the guardrail's unconditioned trust statement and the `trailguard:managed=true` tag;
 * - a trust policy that does not let CloudTrail assume the role is repaired keeping every other statement;
 * - permissions: for a log group under the configured template (the usual case) one inline policy,
 *   `trailguard-cloudtrail-delivery`, grants CloudTrail's streams of every template log group of the account
 *   (templateDeliveryResources), so its size does not grow with the number of trails sharing the role and
 *   every trail writes the same document. A log group outside the template gets its own grant, named after the
 *   group. Per-log-group grants of earlier versions that the shared grant covers are deleted once it is in
 *   place ("consolidated"), keeping the role within IAM's 10,240-character inline quota.
 */
import { createHash } from 'node:crypto';
import {
  CreateRoleCommand,
  DeleteRolePolicyCommand,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { templateDeliveryResources } from '../domain/arns.js';
import {
  awsErrorName,
  QuotaExceededError,
  RemediationError,
  RoleTrustError,
  TransientAwsError,
} from '../domain/errors.js';
import {
  cloudTrailTrust,
  cloudTrailTrustStatement,
  deliveryDenial,
  deliveryPolicy,
  repairTrustPolicy,
  statementsOf,
  wildcardMatch,
} from '../domain/policy-eval.js';
import type { PolicyDocument, RoleState } from '../domain/trail-state.js';
import type { AwsClients } from './clients.js';
import { MANAGED_TAG_KEY, MANAGED_TAG_VALUE } from './managed-tags.js';
import { readRole } from './role-reader.js';
import { isAlreadyExists, type Write, write, writeError } from './write-errors.js';

export interface RoleSpec {
  name: string;
  path: string;
  arn: string;
  account: string;
  partition: string;
  logGroupName: string;
  /** The log-stream resources CloudTrail writes to for this trail (deliveryStreamResources). */
  streamResources: readonly string[];
  /**
   * The template's log group names with each variable as `*` (managedLogGroupPattern), when the trail's log
   * group is one of them: the shared grant then covers it. Absent for a log group outside the template.
   */
  managedLogGroupPattern?: string;
  /** The organization id, for an organization trail (its member streams are `o-ORGID_*`). */
  organizationId?: string;
}

/** The shared grant's inline policy name. */
export const SHARED_DELIVERY_POLICY = 'trailguard-cloudtrail-delivery';
/** IAM: "Role policy size: the total of all inline policies of one role, 10,240 characters" (no whitespace). */
export const INLINE_POLICY_QUOTA = 10_240;

/** IAM counts a policy's size without whitespace (IAM User Guide, "IAM and AWS STS quotas"). */
export function policySize(document: PolicyDocument): number {
  return JSON.stringify(document).replace(/\s/g, '').length;
}

const POLICY_NAME_PREFIX = 'trailguard-delivery-';
const POLICY_NAME_MAX = 128;
const HASH_LENGTH = 12;

/**
 * The inline policy name for one log group's delivery grant: `trailguard-delivery-<log group>-<hash>`, the
 * log group name made a valid policy name ([\w+=,.@-]) and shortened so the whole is at most 128 characters;
 * the hash (SHA-256 of the stream resources) keeps names distinct when sanitizing or shortening would not.
 */
export function deliveryPolicyName(logGroupName: string, streamResources: readonly string[]): string {
  const hash = createHash('sha256')
    .update([...streamResources].sort().join('\n'))
    .digest('hex')
    .slice(0, HASH_LENGTH);
  const room = POLICY_NAME_MAX - POLICY_NAME_PREFIX.length - 1 - HASH_LENGTH;
  const sanitized = logGroupName
    .replace(/[^\w+=,.@-]/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, room)
    .replace(/-+$/, '');
  return `${POLICY_NAME_PREFIX}${sanitized ? `${sanitized}-` : ''}${hash}`;
}

export function initialTrustPolicy(): PolicyDocument {
  return { Version: '2012-10-17', Statement: [cloudTrailTrustStatement()] };
}

/** Creates the role; returns its state, or undefined when it already existed (a concurrent creator). */
async function createRole(clients: AwsClients, spec: RoleSpec): Promise<RoleState | undefined> {
  const trustPolicy = initialTrustPolicy();
  try {
    await clients.iam().send(
      new CreateRoleCommand({
        RoleName: spec.name,
        Path: spec.path,
        AssumeRolePolicyDocument: JSON.stringify(trustPolicy),
        Description: 'Lets CloudTrail deliver trail events to CloudWatch Logs. Created by trailguard.',
        Tags: [{ Key: MANAGED_TAG_KEY, Value: MANAGED_TAG_VALUE }],
      }),
    );
  } catch (error) {
    if (isAlreadyExists(error)) return undefined;
    throw writeError(`CreateRole ${spec.name}`, error);
  }
  return { name: spec.name, arn: spec.arn, exists: true, trustPolicy, permissionPolicies: [] };
}

const resourcesOf = (document: PolicyDocument): string[] =>
  statementsOf(document).flatMap((s) =>
    typeof s.Resource === 'string' ? [s.Resource] : Array.isArray(s.Resource) ? s.Resource : [],
  );

/** The grant this trail needs: its name and document (the shared one, or one for a log group of its own). */
export function grantFor(
  spec: RoleSpec,
  current: RoleState,
): { name: string; document: PolicyDocument; shared: boolean } {
  if (!spec.managedLogGroupPattern) {
    return {
      name: deliveryPolicyName(spec.logGroupName, spec.streamResources),
      document: deliveryPolicy(spec.streamResources),
      shared: false,
    };
  }
  const wanted = templateDeliveryResources({
    partition: spec.partition,
    account: spec.account,
    logGroupPattern: spec.managedLogGroupPattern,
    ...(spec.organizationId ? { organizationId: spec.organizationId } : {}),
  });
  // Keep the organization streams another trail's repair added to the shared grant.
  const [accountStreams = ''] = wanted;
  const groupPart = accountStreams.slice(0, accountStreams.indexOf(':log-stream:'));
  const existing = current.permissionPolicies.find(
    (p) => p.name === SHARED_DELIVERY_POLICY && p.kind !== 'managed',
  );
  // Only well-formed organization streams of the same log groups, and only the current organization's when
  // it is known (a hand-made `o-*` or an organization the account left is not carried forward).
  const orgStream = new RegExp(`^${escapeRegExp(groupPart)}:log-stream:(o-[a-z0-9]{10,32})_\\*$`);
  const kept = existing
    ? resourcesOf(existing.document).filter((r) => {
        const id = orgStream.exec(r)?.[1];
        return id !== undefined && (spec.organizationId === undefined || id === spec.organizationId);
      })
    : [];
  return {
    name: SHARED_DELIVERY_POLICY,
    document: deliveryPolicy([...new Set([...wanted, ...kept])].sort()),
    shared: true,
  };
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Earlier versions' per-log-group grants (`trailguard-delivery-...`) wholly covered by the shared grant. */
function coveredLegacyGrants(current: RoleState, shared: PolicyDocument): string[] {
  const grants = resourcesOf(shared);
  return current.permissionPolicies
    .filter((p) => p.kind !== 'managed' && p.name.startsWith(POLICY_NAME_PREFIX))
    .filter((p) => {
      const resources = resourcesOf(p.document);
      return resources.length > 0 && resources.every((r) => grants.some((g) => wildcardMatch(g, r)));
    })
    .map((p) => p.name);
}

/** The total inline size of the role after replacing/adding `grant` and removing `removed`. */
function inlineSizeAfter(
  current: RoleState,
  grant: { name: string; document: PolicyDocument },
  removed: string[],
) {
  const inline = current.permissionPolicies.filter(
    (p) => p.kind !== 'managed' && p.name !== grant.name && !removed.includes(p.name),
  );
  return inline.reduce((n, p) => n + policySize(p.document), policySize(grant.document));
}

/** Ensures the delivery role is usable by this trail; returns the writes made (none when already right). */
export async function ensureDeliveryRole(clients: AwsClients, spec: RoleSpec): Promise<Write[]> {
  const writes: Write[] = [];
  let role = await readRole(clients, spec.name, spec.arn);
  if (!role.exists) {
    const created = await createRole(clients, spec);
    if (created) {
      role = created;
      writes.push({
        api: 'CreateRole',
        resource: spec.arn,
        detail: `created role ${spec.name} trusted by cloudtrail.amazonaws.com, tagged ${MANAGED_TAG_KEY}=${MANAGED_TAG_VALUE}`,
      });
    } else {
      role = await readRole(clients, spec.name, spec.arn);
      if (!role.exists) {
        throw new TransientAwsError(
          `role ${spec.name} was created concurrently but cannot be read yet (IAM propagation)`,
        );
      }
    }
  }

  const trust = cloudTrailTrust(role.trustPolicy);
  if (!trust.trusted) {
    const repaired = repairTrustPolicy(role.trustPolicy);
    const after = cloudTrailTrust(repaired);
    if (!after.trusted) {
      throw new RoleTrustError(
        `role ${spec.name} cannot be made to trust CloudTrail: ${after.reason}; trailguard keeps other people's statements, so a person must remove or narrow it`,
      );
    }
    await write(`UpdateAssumeRolePolicy ${spec.name}`, () =>
      clients.iam().send(
        new UpdateAssumeRolePolicyCommand({
          RoleName: spec.name,
          PolicyDocument: JSON.stringify(repaired),
        }),
      ),
    );
    writes.push({
      api: 'UpdateAssumeRolePolicy',
      resource: spec.arn,
      detail: `repaired the trust policy so cloudtrail.amazonaws.com may assume the role with no condition (was: ${trust.reason}; other statements kept)`,
    });
  }

  writes.push(...(await ensureGrant(clients, spec, role)));
  return writes;
}

/** Grants delivery (and consolidates earlier per-log-group grants) when the role needs it. */
async function ensureGrant(clients: AwsClients, spec: RoleSpec, role: RoleState): Promise<Write[]> {
  const documents = role.permissionPolicies.map((p) => p.document);
  const boundary = role.permissionsBoundary;
  const denial = deliveryDenial(documents, spec.streamResources, boundary?.document);
  const grant = grantFor(spec, role);
  const legacy = grant.shared ? coveredLegacyGrants(role, grant.document) : [];
  if (denial === undefined && legacy.length === 0) return [];
  if (denial === 'boundary') {
    throw new RemediationError(
      `role ${spec.name}'s permissions boundary ${boundary?.arn ?? ''} does not allow logs:CreateLogStream and logs:PutLogEvents on ${spec.streamResources.join(', ')}; trailguard does not change permissions boundaries`,
    );
  }
  const others = role.permissionPolicies
    .filter((p) => p.name !== grant.name && !legacy.includes(p.name))
    .map((p) => p.document);
  if (deliveryDenial([...others, grant.document], spec.streamResources, boundary?.document)) {
    throw new RemediationError(
      `role ${spec.name} has a Deny that blocks logs:CreateLogStream or logs:PutLogEvents on the CloudTrail streams of ${spec.logGroupName}; trailguard does not remove other people's Deny statements`,
    );
  }
  const sizeAfter = inlineSizeAfter(role, grant, legacy);
  if (sizeAfter > INLINE_POLICY_QUOTA) {
    throw new QuotaExceededError(
      `role ${spec.name} would hold ${sizeAfter} characters of inline policies with the delivery grant; IAM allows ${INLINE_POLICY_QUOTA} per role (whitespace not counted). Remove unused inline policies from the role, or point the trail's log group at the template (${spec.managedLogGroupPattern ?? 'logGroupNameTemplate'}) so the shared grant covers it`,
    );
  }
  const writes: Write[] = [];
  const current = role.permissionPolicies.find((p) => p.name === grant.name && p.kind !== 'managed');
  // Put before delete, so delivery never loses its permission; unless the role has no room for both at once.
  const roomForBoth = inlineSizeAfter(role, grant, []) <= INLINE_POLICY_QUOTA;
  if (!roomForBoth) writes.push(...(await deleteGrants(clients, spec, legacy)));
  if (!current || JSON.stringify(current.document) !== JSON.stringify(grant.document)) {
    await write(`PutRolePolicy ${spec.name}/${grant.name}`, () =>
      clients.iam().send(
        new PutRolePolicyCommand({
          RoleName: spec.name,
          PolicyName: grant.name,
          PolicyDocument: JSON.stringify(grant.document),
        }),
      ),
    );
    writes.push({
      api: 'PutRolePolicy',
      resource: `${spec.arn} (inline policy ${grant.name})`,
      detail: `allowed logs:CreateLogStream and logs:PutLogEvents on ${resourcesOf(grant.document).join(', ')}${grant.shared ? " (one grant for every trail delivering to the template's log groups)" : ''}`,
    });
  }
  if (roomForBoth) writes.push(...(await deleteGrants(clients, spec, legacy)));
  return writes;
}

/** Deletes earlier per-log-group grants the shared grant covers; one already gone counts as deleted. */
async function deleteGrants(clients: AwsClients, spec: RoleSpec, names: string[]): Promise<Write[]> {
  const writes: Write[] = [];
  for (const name of names) {
    try {
      await clients.iam().send(new DeleteRolePolicyCommand({ RoleName: spec.name, PolicyName: name }));
    } catch (error) {
      if (awsErrorName(error) === 'NoSuchEntityException') continue;
      throw writeError(`DeleteRolePolicy ${spec.name}/${name}`, error);
    }
    writes.push({
      api: 'DeleteRolePolicy',
      resource: `${spec.arn} (inline policy ${name})`,
      detail: `removed the per-log-group grant ${name} of an earlier trailguard version: ${SHARED_DELIVERY_POLICY} covers it`,
    });
  }
  return writes;
}
