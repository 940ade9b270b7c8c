/**
 * Makes sure a CloudTrail delivery log group exists. Idempotent and safe to run concurrently: it re-reads the
 * group, creates it only when missing (a concurrent creator's ResourceAlreadyExistsException counts as
 * "exists"), and never changes a group it did not create.
 *
 * Retention and KMS follow the configuration only for groups the guardrail creates: the KMS key is given to
 * CreateLogGroup, the `trailguard:managed=true` tag too, and PutRetentionPolicy follows the creation. A group
 * that already exists keeps its owner's retention and encryption, with one exception: a group carrying the
 * guardrail's managed tag but no retention (a run that created it stopped before setting retention) gets the
 * configured retention.
 *
 * Deletion protection (CloudWatch Logs API Reference, PutLogGroupDeletionProtection,
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogGroupDeletionProtection.html; IAM
 * action logs:PutLogGroupDeletionProtection): turned on for a group this call creates when `deletionProtection`
 * (config.logGroupDeletionProtection), and for an existing unprotected group when `protectExisting`
 * (config.protectExistingLogGroups). A protected group cannot be deleted by anyone until it is turned off.
 *
 * Control Tower's log groups (aws-controltower/*) are never written: ControlTowerManagedError before any call.
 */
import {
  CreateLogGroupCommand,
  ListTagsForResourceCommand,
  PutLogGroupDeletionProtectionCommand,
  PutRetentionPolicyCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { kmsRefusalMessage } from '../domain/blocked.js';
import { refuseControlTowerWrite } from '../domain/control-tower.js';
import { BlockedByPolicyError, KmsKeyRefusedError } from '../domain/errors.js';
import type { LogGroupState } from '../domain/trail-state.js';
import type { AwsClients } from './clients.js';
import { readLogGroup } from './log-group-reader.js';
import { unsupportedApiReason } from './log-group-snapshot.js';
import { isManaged, MANAGED_TAG_KEY, MANAGED_TAG_VALUE } from './managed-tags.js';
import { isAlreadyExists, isKmsKeyRefusal, type Write, write, writeError } from './write-errors.js';

export interface LogGroupSpec {
  region: string;
  account: string;
  partition: string;
  name: string;
  retentionDays: number;
  kmsKeyArn?: string | undefined;
  /** config.logGroupDeletionProtection: protect a group this call creates. */
  deletionProtection?: boolean;
  /** config.protectExistingLogGroups: protect an existing group that is not. */
  protectExisting?: boolean;
}

/** The ARN that tagging APIs take: no `:*` suffix. */
function taggingArn(spec: Pick<LogGroupSpec, 'region' | 'account' | 'partition' | 'name'>): string {
  return `arn:${spec.partition}:logs:${spec.region}:${spec.account}:log-group:${spec.name}`;
}

/** Creates the group if missing; returns whether this call created it. */
async function createIfMissing(clients: AwsClients, spec: LogGroupSpec): Promise<boolean> {
  try {
    await clients.logs(spec.region).send(
      new CreateLogGroupCommand({
        logGroupName: spec.name,
        ...(spec.kmsKeyArn ? { kmsKeyId: spec.kmsKeyArn } : {}),
        tags: { [MANAGED_TAG_KEY]: MANAGED_TAG_VALUE },
      }),
    );
    return true;
  } catch (error) {
    if (isAlreadyExists(error)) return false;
    // The configured key refused this group (its key policy does not admit CloudWatch Logs for this account and
    // region): a person must change the key policy; the run ends `notified` with the statement to add.
    if (spec.kmsKeyArn && isKmsKeyRefusal(error)) {
      throw new KmsKeyRefusedError(
        kmsRefusalMessage('CreateLogGroup', spec.name, spec.kmsKeyArn, spec, (error as Error).message),
        { cause: error },
      );
    }
    throw writeError(`CreateLogGroup ${spec.name}`, error);
  }
}

/**
 * Turns deletion protection on. Returns the write, or undefined when the endpoint does not implement the API
 * (AWS answers every region with it since November 2025; only an emulator without it, recognized by
 * services/local/emulator-tolerance.ts, leaves the group unprotected: `check` then reports LOG_GROUP_UNPROTECTED).
 */
async function protect(clients: AwsClients, spec: LogGroupSpec, why: string): Promise<Write | undefined> {
  const api = 'PutLogGroupDeletionProtection';
  try {
    await clients.logs(spec.region).send(
      new PutLogGroupDeletionProtectionCommand({
        logGroupIdentifier: spec.name,
        deletionProtectionEnabled: true,
      }),
    );
  } catch (error) {
    if (unsupportedApiReason(api, error)) return undefined;
    const failure = writeError(`${api} ${spec.name}`, error);
    // Protection is hardening on top of the repair, not part of it: a policy someone else owns (e.g. an SCP that
    // denies the call) must not leave the trail broken. The refusal is recorded as what happened (email and audit
    // record list it) and the repair goes on; the group stays unprotected, which `check` reports as advice.
    if (failure instanceof BlockedByPolicyError) {
      return {
        api,
        resource: spec.name,
        detail: `NOT turned deletion protection on (${why}): refused -- ${failure.message.split(' -- blocked by ').pop()}; the group stays unprotected`,
      };
    }
    throw failure;
  }
  return { api, resource: spec.name, detail: `turned deletion protection on (${why})` };
}

async function managedWithoutRetention(
  clients: AwsClients,
  spec: LogGroupSpec,
  group: LogGroupState,
): Promise<boolean> {
  if (group.retentionInDays !== undefined) return false;
  return isTrailguardLogGroup(clients, spec);
}

/** Whether the group carries trailguard's managed tag (it created the group). */
export async function isTrailguardLogGroup(
  clients: AwsClients,
  spec: Pick<LogGroupSpec, 'region' | 'account' | 'partition' | 'name'>,
): Promise<boolean> {
  const out = await write(`ListTagsForResource ${spec.name}`, () =>
    clients.logs(spec.region).send(new ListTagsForResourceCommand({ resourceArn: taggingArn(spec) })),
  );
  return isManaged(out.tags);
}

/** Ensures the log group exists; returns the writes made (none when it was already right). */
export async function ensureLogGroup(clients: AwsClients, spec: LogGroupSpec): Promise<Write[]> {
  refuseControlTowerWrite({ logGroup: spec.name }, 'CreateLogGroup');
  const writes: Write[] = [];
  let group = await readLogGroup(clients, spec.region, spec.name);
  let created = false;
  if (!group.exists) {
    created = await createIfMissing(clients, spec);
    if (created) {
      writes.push({
        api: 'CreateLogGroup',
        resource: spec.name,
        detail: `created log group ${spec.name}${spec.kmsKeyArn ? ` encrypted with ${spec.kmsKeyArn}` : ''}, tagged ${MANAGED_TAG_KEY}=${MANAGED_TAG_VALUE}`,
      });
    } else {
      group = await readLogGroup(clients, spec.region, spec.name);
    }
  }
  if (created || (group.exists && (await managedWithoutRetention(clients, spec, group)))) {
    await write(`PutRetentionPolicy ${spec.name}`, () =>
      clients
        .logs(spec.region)
        .send(
          new PutRetentionPolicyCommand({ logGroupName: spec.name, retentionInDays: spec.retentionDays }),
        ),
    );
    writes.push({
      api: 'PutRetentionPolicy',
      resource: spec.name,
      detail: `set retention to ${spec.retentionDays} days`,
    });
  }
  const protection =
    created && spec.deletionProtection
      ? await protect(clients, spec, 'logGroupDeletionProtection: a group trailguard created')
      : !created && group.exists && group.deletionProtectionEnabled !== true && spec.protectExisting
        ? await protect(clients, spec, 'protectExistingLogGroups: an existing group')
        : undefined;
  if (protection) writes.push(protection);
  return writes;
}
