/**
 * Creating the guardrail's DynamoDB tables on an emulator (`trailguard local-setup`, tests, the benchmark): the
 * stack defines the deployed ones. Only the DynamoDB client here, so a function that imports this loads
 * nothing else.
 */
import { AuditWriteError } from '../domain/errors.js';
import type { AwsClients } from './clients.js';
import { sdk } from './sdk.js';
import { isAlreadyExists, write, writeError } from './write-errors.js';

/** A table's key: its attributes (all strings), partition key first. */
export type TableKey = readonly [partition: string, sort?: string];

/**
 * Creates an on-demand table with string keys unless it exists, and waits until it is active; returns whether
 * this call created it. An existing table with other keys is an error (`what` names the table's role), not
 * something to write into. For an emulator (`trailguard local-setup`, tests); the stack defines the deployed
 * tables.
 */
export async function ensureTable(
  clients: AwsClients,
  tableName: string,
  key: TableKey,
  what: string,
): Promise<{ tableName: string; created: boolean }> {
  const dynamo = clients.dynamo();
  const [partition, sort] = key;
  const schema = [
    { AttributeName: partition, KeyType: 'HASH' as const },
    ...(sort ? [{ AttributeName: sort, KeyType: 'RANGE' as const }] : []),
  ];
  let created = true;
  try {
    await dynamo.send(
      new (sdk.dynamodb().CreateTableCommand)({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: schema.map((k) => ({ AttributeName: k.AttributeName, AttributeType: 'S' })),
        KeySchema: schema,
      }),
    );
  } catch (error) {
    if (!isAlreadyExists(error)) throw writeError(`CreateTable ${tableName}`, error, AuditWriteError);
    created = false;
    const { Table: table } = await write(
      `DescribeTable ${tableName}`,
      () => dynamo.send(new (sdk.dynamodb().DescribeTableCommand)({ TableName: tableName })),
      AuditWriteError,
    );
    const keys = (table?.KeySchema ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`).sort();
    const expected = schema.map((k) => `${k.AttributeName}:${k.KeyType}`).sort();
    if (keys.join(',') !== expected.join(',')) {
      throw new AuditWriteError(
        `table ${tableName} exists with keys ${keys.join(', ') || 'unknown'}; ${what} needs ${schema.map((k) => `${k.AttributeName} (${k.KeyType})`).join(' and ')}`,
      );
    }
  }
  await write(
    `waiting for table ${tableName}`,
    () =>
      sdk
        .dynamodb()
        .waitUntilTableExists({ client: dynamo, maxWaitTime: 120, minDelay: 1 }, { TableName: tableName }),
    AuditWriteError,
  );
  return { tableName, created };
}
