/**
 * One DynamoDB document client per base client (the audit store and the state store share it): created on
 * first use, dropping undefined attributes the way every record here is written.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsClients } from './clients.js';
import { sdk } from './sdk.js';

const documentClients = new WeakMap<DynamoDBClient, DynamoDBDocumentClient>();

export function documentClient(clients: AwsClients): DynamoDBDocumentClient {
  const base = clients.dynamo();
  let doc = documentClients.get(base);
  if (!doc) {
    doc = sdk
      .libDynamodb()
      .DynamoDBDocumentClient.from(base, { marshallOptions: { removeUndefinedValues: true } });
    documentClients.set(base, doc);
  }
  return doc;
}
