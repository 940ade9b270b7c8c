/**
 * The audit table: one write-once item per workflow run (see services/domain/audit-record.ts for the record
 * and its keys). Writes are conditional, so a retried write of the same run succeeds without a second item
 * and no run can overwrite another's record. Also lists records for the CLI and creates the table locally.
 */
import { GetCommand, PutCommand, paginateQuery, paginateScan } from '@aws-sdk/lib-dynamodb';
import { parseTrailArn } from '../domain/arns.js';
import { type AuditRecord, AuditRecordSchema } from '../domain/audit-record.js';
import { AuditWriteError, AwsReadError, awsErrorName } from '../domain/errors.js';
import type { AwsClients } from './clients.js';
import { documentClient } from './document-client.js';
import { ensureTable } from './tables.js';
import { write, writeError } from './write-errors.js';

export const AUDIT_PARTITION_KEY = 'trail';
export const AUDIT_SORT_KEY = 'run';

/**
 * Writes a run's record once. Returns `written: false` when the same execution's record is already there (a
 * retried write); throws AuditWriteError when another run's record holds the key.
 */
export async function putAuditRecord(
  clients: AwsClients,
  tableName: string,
  record: AuditRecord,
): Promise<{ written: boolean }> {
  const doc = documentClient(clients);
  const what = `PutItem ${tableName} (${record.trail}, ${record.run})`;
  try {
    await doc.send(
      new PutCommand({
        TableName: tableName,
        Item: record,
        ConditionExpression: 'attribute_not_exists(#trail)',
        ExpressionAttributeNames: { '#trail': AUDIT_PARTITION_KEY },
      }),
    );
    return { written: true };
  } catch (error) {
    if (awsErrorName(error) !== 'ConditionalCheckFailedException')
      throw writeError(what, error, AuditWriteError);
    const existing = await write(
      `GetItem ${tableName} (${record.trail}, ${record.run})`,
      () =>
        doc.send(
          new GetCommand({
            TableName: tableName,
            Key: { [AUDIT_PARTITION_KEY]: record.trail, [AUDIT_SORT_KEY]: record.run },
            ConsistentRead: true,
          }),
        ),
      AuditWriteError,
    );
    if (existing.Item?.executionId === record.executionId) return { written: false };
    throw new AuditWriteError(
      `${what}: another run's record (execution ${String(existing.Item?.executionId ?? 'unknown')}) already holds this key; audit records are write-once`,
      { cause: error },
    );
  }
}

function parseRecord(item: Record<string, unknown>): AuditRecord {
  const result = AuditRecordSchema.safeParse(item);
  if (!result.success) {
    throw new AwsReadError(
      `audit item (${String(item[AUDIT_PARTITION_KEY])}, ${String(item[AUDIT_SORT_KEY])}) is not an audit record`,
      { cause: result.error },
    );
  }
  return result.data;
}

async function read<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw writeError(what, error, AwsReadError);
  }
}

export interface ListAuditOptions {
  /** A trail name or ARN; all trails when absent. */
  trail?: string | undefined;
  /** At most this many records (newest first). */
  limit?: number | undefined;
  /** Only the records of this account (a hub's table holds every guarded account's). */
  account?: string | undefined;
}

/**
 * The account a record is about: its `account` field, else the owner in its trail ARN (records written before
 * the field existed, or a run that failed before it knew the account).
 */
export function recordAccount(
  record: Pick<AuditRecord, 'account' | 'trailArn' | 'trail'>,
): string | undefined {
  return record.account ?? parseTrailArn(record.trailArn ?? record.trail)?.account;
}

/**
 * Audit records, newest first: by trail ARN (Query), by trail name (Scan and filter) or all (Scan); with
 * `account`, only that account's.
 */
export async function listAuditRecords(
  clients: AwsClients,
  tableName: string,
  options: ListAuditOptions = {},
): Promise<AuditRecord[]> {
  const doc = documentClient(clients);
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const out: AuditRecord[] = [];
  const trail = options.trail;
  const inAccount = (record: AuditRecord) =>
    options.account === undefined || recordAccount(record) === options.account;

  if (trail?.startsWith('arn:')) {
    await read(`Query ${tableName} (${trail})`, async () => {
      const pages = paginateQuery(
        { client: doc },
        {
          TableName: tableName,
          KeyConditionExpression: '#trail = :trail',
          ExpressionAttributeNames: { '#trail': AUDIT_PARTITION_KEY },
          ExpressionAttributeValues: { ':trail': trail },
          ScanIndexForward: false,
        },
      );
      for await (const page of pages) {
        for (const item of page.Items ?? []) {
          const record = parseRecord(item);
          if (!inAccount(record)) continue;
          out.push(record);
          if (out.length >= limit) return;
        }
      }
    });
    return out;
  }

  await read(`Scan ${tableName}`, async () => {
    const pages = paginateScan({ client: doc }, { TableName: tableName, ConsistentRead: true });
    for await (const page of pages) for (const item of page.Items ?? []) out.push(parseRecord(item));
  });
  const matches = out.filter(
    (r) => inAccount(r) && (!trail || r.trail === trail || r.trailArn?.endsWith(`:trail/${trail}`) === true),
  );
  return matches
    .sort((a, b) =>
      a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : b.run.localeCompare(a.run),
    )
    .slice(0, limit);
}

/** Creates the audit table (on-demand, keys `trail` and `run`) unless it exists (see ensureTable). */
export function ensureAuditTable(
  clients: AwsClients,
  tableName: string,
): Promise<{ tableName: string; created: boolean }> {
  return ensureTable(clients, tableName, [AUDIT_PARTITION_KEY, AUDIT_SORT_KEY], 'the audit table');
}
