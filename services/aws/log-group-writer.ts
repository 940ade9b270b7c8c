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
 */
import {
  CreateLogGroupCommand,
  ListTagsForResourceCommand,
  PutRetentionPolicyCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import type { LogGroupState } from '../domain/trail-state.js';
import type { AwsClients } from './clients.js';
import { readLogGroup } from './log-group-reader.js';
import { isManaged, MANAGED_TAG_KEY, MANAGED_TAG_VALUE } from './managed-tags.js';
import { isAlreadyExists, type Write, write, writeError } from './write-errors.js';

export interface LogGroupSpec {
  region: string;
  account: string;
  partition: string;
  name: string;
  retentionDays: number;
  kmsKeyArn?: string | undefined;
}

/** The ARN that tagging APIs take: no `:*` suffix. */
function taggingArn(spec: LogGroupSpec): string {
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
    throw writeError(`CreateLogGroup ${spec.name}`, error);
  }
}

async function managedWithoutRetention(
  clients: AwsClients,
  spec: LogGroupSpec,
  group: LogGroupState,
): Promise<boolean> {
  if (group.retentionInDays !== undefined) return false;
  const out = await write(`ListTagsForResource ${spec.name}`, () =>
    clients.logs(spec.region).send(new ListTagsForResourceCommand({ resourceArn: taggingArn(spec) })),
  );
  return isManaged(out.tags);
}

/** Ensures the log group exists; returns the writes made (none when it was already right). */
export async function ensureLogGroup(clients: AwsClients, spec: LogGroupSpec): Promise<Write[]> {
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
  return writes;
}
