/**
 * The guardrail's state table: what it remembers about a trail between runs, one item per trail and kind.
 *
 * - `log-group-snapshot`: what the trail's log group held when it was last seen healthy (see
 *   services/domain/log-group-snapshot.ts), so a recreated group can be restored whole. The newest snapshot wins.
 * - `delivery-error`: when the CloudWatch Logs delivery error GetTrailStatus reports was first seen, so an error
 *   that has been there for a long time can be told apart from a new one. The earliest sighting of the same error
 *   string is kept; a different error starts a new sighting.
 *
 * Keys: `trail` (partition) is the trail ARN, `kind` (sort) the kind above. Unlike the audit table, items are
 * overwritten; nothing here is secret. The stack defines the deployed table; `ensureStateTable` creates one on an
 * emulator.
 */
import * as z from '../../policies/zod.js';
import { AwsReadError, awsErrorName, TrailguardError } from '../domain/errors.js';
import { type LogGroupSnapshot, LogGroupSnapshotSchema } from '../domain/log-group-snapshot.js';
import type { AwsClients } from './clients.js';
import { documentClient } from './document-client.js';
import { sdk } from './sdk.js';
import { ensureTable } from './tables.js';
import { write, writeError } from './write-errors.js';

export const STATE_PARTITION_KEY = 'trail';
export const STATE_SORT_KEY = 'kind';

/** The kinds of item the table holds (the sort key's values). */
export const STATE_KIND = {
  logGroupSnapshot: 'log-group-snapshot',
  deliveryError: 'delivery-error',
} as const;

/** A write to the state table failed permanently. */
export class StateStoreError extends TrailguardError {
  override name = 'StateStoreError';
}

/** The longest table name DynamoDB accepts. */
const MAX_TABLE_NAME = 255;
const STATE_SUFFIX = '-state';

/**
 * The state table's name where the guardrail does not get it from CloudFormation (the local runner,
 * `trailguard local-setup`, tests): the audit table's name with `-state`, cut so the whole stays within 255.
 */
export function localStateTableName(config: { auditTableName: string }): string {
  return `${config.auditTableName.slice(0, MAX_TABLE_NAME - STATE_SUFFIX.length)}${STATE_SUFFIX}`;
}

/** Creates the state table (on-demand, keys `trail` and `kind`) unless it exists (see ensureTable). */
export function ensureStateTable(
  clients: AwsClients,
  tableName: string,
): Promise<{ tableName: string; created: boolean }> {
  return ensureTable(clients, tableName, [STATE_PARTITION_KEY, STATE_SORT_KEY], 'the state table');
}

function keyOf(trailArn: string, kind: string): Record<string, string> {
  return { [STATE_PARTITION_KEY]: trailArn, [STATE_SORT_KEY]: kind };
}

function describeKey(tableName: string, trailArn: string, kind: string): string {
  return `${tableName} (${STATE_PARTITION_KEY}=${trailArn}, ${STATE_SORT_KEY}=${kind})`;
}

async function read<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw writeError(what, error, AwsReadError);
  }
}

async function getItem(
  clients: AwsClients,
  tableName: string,
  trailArn: string,
  kind: string,
): Promise<Record<string, unknown> | undefined> {
  const out = await read(`GetItem ${describeKey(tableName, trailArn, kind)}`, () =>
    documentClient(clients).send(
      new (sdk.libDynamodb().GetCommand)({
        TableName: tableName,
        Key: keyOf(trailArn, kind),
        ConsistentRead: true,
      }),
    ),
  );
  return out.Item;
}

function damaged(tableName: string, trailArn: string, kind: string, detail: string, cause?: unknown): Error {
  return new AwsReadError(
    `state item ${describeKey(tableName, trailArn, kind)} is damaged: ${detail}`,
    cause === undefined ? undefined : { cause },
  );
}

/** An ISO timestamp in one form (`toISOString`), so that stored timestamps compare as strings. */
function normalizedTime(value: string): string {
  return new Date(value).toISOString();
}

/**
 * Stores the trail's log group snapshot, replacing its previous one. A snapshot older than the stored one (a
 * slower concurrent run) does not replace it: the newest record of the group wins.
 */
export async function putLogGroupSnapshot(
  clients: AwsClients,
  tableName: string,
  snapshot: LogGroupSnapshot,
): Promise<void> {
  const parsed = LogGroupSnapshotSchema.parse(snapshot);
  const valid = { ...parsed, takenAt: normalizedTime(parsed.takenAt) };
  const kind = STATE_KIND.logGroupSnapshot;
  try {
    await documentClient(clients).send(
      new (sdk.libDynamodb().PutCommand)({
        TableName: tableName,
        Item: { ...keyOf(valid.trailArn, kind), snapshot: valid },
        // Replace unless the stored snapshot is newer (a stored item without a readable time is replaced).
        ConditionExpression:
          'attribute_not_exists(#trail) OR NOT attribute_type(#snapshot.#takenAt, :string) OR #snapshot.#takenAt <= :takenAt',
        ExpressionAttributeNames: {
          '#trail': STATE_PARTITION_KEY,
          '#snapshot': 'snapshot',
          '#takenAt': 'takenAt',
        },
        ExpressionAttributeValues: { ':takenAt': valid.takenAt, ':string': 'S' },
      }),
    );
  } catch (error) {
    if (awsErrorName(error) === 'ConditionalCheckFailedException') return;
    throw writeError(`PutItem ${describeKey(tableName, valid.trailArn, kind)}`, error, StateStoreError);
  }
}

/** The trail's last log group snapshot; undefined when none was stored. A damaged item is an AwsReadError. */
export async function getLogGroupSnapshot(
  clients: AwsClients,
  tableName: string,
  trailArn: string,
): Promise<LogGroupSnapshot | undefined> {
  const kind = STATE_KIND.logGroupSnapshot;
  const item = await getItem(clients, tableName, trailArn, kind);
  if (!item) return undefined;
  const parsed = LogGroupSnapshotSchema.safeParse(item.snapshot);
  if (!parsed.success) {
    throw damaged(
      tableName,
      trailArn,
      kind,
      `not a log group snapshot (${parsed.error.message})`,
      parsed.error,
    );
  }
  if (parsed.data.trailArn !== trailArn) {
    throw damaged(
      tableName,
      trailArn,
      kind,
      `it holds the snapshot of another trail (${parsed.data.trailArn})`,
    );
  }
  return parsed.data;
}

export const DeliveryErrorSightingSchema = z.object({
  trailArn: z.string().check(z.minLength(1)),
  /** The error string as GetTrailStatus's LatestCloudWatchLogsDeliveryError reports it. */
  error: z.string().check(z.minLength(1)),
  /** When this error was first seen (ISO 8601, UTC). */
  firstSeenAt: z.iso.datetime(),
});

export interface DeliveryErrorSighting {
  trailArn: string;
  error: string;
  firstSeenAt: string;
}

function parseSighting(
  tableName: string,
  trailArn: string,
  item: Record<string, unknown>,
): DeliveryErrorSighting {
  const kind = STATE_KIND.deliveryError;
  const parsed = DeliveryErrorSightingSchema.safeParse({
    trailArn: item[STATE_PARTITION_KEY],
    error: item.error,
    firstSeenAt: item.firstSeenAt,
  });
  if (!parsed.success) {
    throw damaged(
      tableName,
      trailArn,
      kind,
      `not a delivery error sighting (${parsed.error.message})`,
      parsed.error,
    );
  }
  return parsed.data;
}

/** When the trail's current delivery error was first seen; undefined when none is recorded. */
export async function getDeliveryErrorSighting(
  clients: AwsClients,
  tableName: string,
  trailArn: string,
): Promise<DeliveryErrorSighting | undefined> {
  const item = await getItem(clients, tableName, trailArn, STATE_KIND.deliveryError);
  return item ? parseSighting(tableName, trailArn, item) : undefined;
}

/**
 * Records that `sighting.error` was seen at `sighting.firstSeenAt` and returns the stored sighting. For the same
 * error string the earliest time is kept (a later sighting changes nothing; an earlier one, e.g. from a run that
 * was slower to write, moves it back); a different error replaces the record. One conditional write, so
 * concurrent runs agree.
 */
export async function recordDeliveryErrorSighting(
  clients: AwsClients,
  tableName: string,
  sighting: DeliveryErrorSighting,
): Promise<DeliveryErrorSighting> {
  const parsed = DeliveryErrorSightingSchema.parse(sighting);
  const valid = { ...parsed, firstSeenAt: normalizedTime(parsed.firstSeenAt) };
  const kind = STATE_KIND.deliveryError;
  const doc = documentClient(clients);
  try {
    await doc.send(
      new (sdk.libDynamodb().PutCommand)({
        TableName: tableName,
        Item: { ...keyOf(valid.trailArn, kind), error: valid.error, firstSeenAt: valid.firstSeenAt },
        // Write unless the same error is stored with the same or an earlier time (a stored item that is not a
        // readable sighting is replaced).
        ConditionExpression:
          'NOT attribute_type(#error, :string) OR NOT attribute_type(#first, :string) OR #error <> :error OR #first > :first',
        ExpressionAttributeNames: { '#error': 'error', '#first': 'firstSeenAt' },
        ExpressionAttributeValues: { ':error': valid.error, ':first': valid.firstSeenAt, ':string': 'S' },
      }),
    );
    return valid;
  } catch (error) {
    if (awsErrorName(error) !== 'ConditionalCheckFailedException')
      throw writeError(`PutItem ${describeKey(tableName, valid.trailArn, kind)}`, error, StateStoreError);
  }
  // The same error was seen earlier: that sighting stands.
  const stored = await getDeliveryErrorSighting(clients, tableName, valid.trailArn);
  if (!stored) {
    throw new StateStoreError(
      `PutItem ${describeKey(tableName, valid.trailArn, kind)} was refused for an earlier sighting, which is no longer there`,
    );
  }
  return stored;
}

/** Forgets the trail's delivery error sighting (e.g. once delivery works again). */
export async function clearDeliveryErrorSighting(
  clients: AwsClients,
  tableName: string,
  trailArn: string,
): Promise<void> {
  const kind = STATE_KIND.deliveryError;
  await write(
    `DeleteItem ${describeKey(tableName, trailArn, kind)}`,
    () =>
      documentClient(clients).send(
        new (sdk.libDynamodb().DeleteCommand)({ TableName: tableName, Key: keyOf(trailArn, kind) }),
      ),
    StateStoreError,
  );
}
