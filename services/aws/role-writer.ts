/**
 * Makes sure a CloudTrail delivery role exists, trusts CloudTrail and may write one log group's CloudTrail
 * streams. Idempotent and safe to run concurrently, also for different trails sharing the role:
 * - the role is created only when missing (EntityAlreadyExistsException from a concurrent creator counts as
 *   "exists"), with the guardrail's trust statement and the `trailguard:managed=true` tag;
 * - a trust policy that does not let CloudTrail assume the role is repaired keeping unrelated statements;
 * - missing permissions are granted by an inline policy whose name is derived from the log group (and the
 *   stream resources), so every trail delivering to the same group writes the same document under the same
 *   name, and trails delivering to different groups never overwrite each other's grants.
 */
import { createHash } from 'node:crypto';
import { CreateRoleCommand, PutRolePolicyCommand, UpdateAssumeRolePolicyCommand } from '@aws-sdk/client-iam';
import { RemediationError, TransientAwsError } from '../domain/errors.js';
import {
  allowsDelivery,
  cloudTrailTrustStatement,
  deliveryPolicy,
  repairTrustPolicy,
  trustsCloudTrail,
} from '../domain/policy-eval.js';
import type { PolicyDocument, RoleState } from '../domain/trail-state.js';
import type { AwsClients } from './clients.js';
import { MANAGED_TAG_KEY, MANAGED_TAG_VALUE } from './managed-tags.js';
import { readRole } from './trail-reader.js';
import { isAlreadyExists, type Write, write, writeError } from './write-errors.js';

export interface RoleSpec {
  name: string;
  path: string;
  arn: string;
  /** The account CloudTrail assumes the role from (aws:SourceAccount). */
  account: string;
  trailArn: string;
  logGroupName: string;
  /** The log-stream resources CloudTrail writes to (deliveryStreamResources). */
  streamResources: readonly string[];
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

export function initialTrustPolicy(account: string): PolicyDocument {
  return { Version: '2012-10-17', Statement: [cloudTrailTrustStatement(account)] };
}

/** Creates the role; returns its state, or undefined when it already existed (a concurrent creator). */
async function createRole(clients: AwsClients, spec: RoleSpec): Promise<RoleState | undefined> {
  const trustPolicy = initialTrustPolicy(spec.account);
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
        detail: `created role ${spec.name} trusted by cloudtrail.amazonaws.com (aws:SourceAccount ${spec.account}), tagged ${MANAGED_TAG_KEY}=${MANAGED_TAG_VALUE}`,
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

  const context = { account: spec.account, trailArn: spec.trailArn };
  if (!trustsCloudTrail(role.trustPolicy, context)) {
    const repaired = repairTrustPolicy(role.trustPolicy, context);
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
      detail:
        'repaired the trust policy so cloudtrail.amazonaws.com may assume the role (other statements kept)',
    });
  }

  const documents = role.permissionPolicies.map((p) => p.document);
  if (!allowsDelivery(documents, spec.streamResources)) {
    const policyName = deliveryPolicyName(spec.logGroupName, spec.streamResources);
    const document = deliveryPolicy(spec.streamResources);
    const others = role.permissionPolicies.filter((p) => p.name !== policyName).map((p) => p.document);
    if (!allowsDelivery([...others, document], spec.streamResources)) {
      throw new RemediationError(
        `role ${spec.name} has a Deny that blocks logs:CreateLogStream or logs:PutLogEvents on the CloudTrail streams of ${spec.logGroupName}; trailguard does not remove other people's Deny statements`,
      );
    }
    await write(`PutRolePolicy ${spec.name}/${policyName}`, () =>
      clients.iam().send(
        new PutRolePolicyCommand({
          RoleName: spec.name,
          PolicyName: policyName,
          PolicyDocument: JSON.stringify(document),
        }),
      ),
    );
    writes.push({
      api: 'PutRolePolicy',
      resource: `${spec.arn} (inline policy ${policyName})`,
      detail: `allowed logs:CreateLogStream and logs:PutLogEvents on ${spec.streamResources.join(', ')}`,
    });
  }
  return writes;
}
