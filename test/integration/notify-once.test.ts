/**
 * notifyOnce (services/aws/notify-once.ts) against moto's SNS and DynamoDB: at most one email per execution
 * and outcome, whatever happens to the Publish request and its answer, and the mechanism's own record in the
 * idempotency table. Network faults are injected below the SDK's retry (a `deserialize` middleware that lets
 * the request reach moto, then loses the answer), with the SDK's own retry on (3 attempts), as in Lambda.
 */
import type { DeserializeMiddleware, MetadataBearer } from '@smithy/types';
import { beforeEach, describe, expect, it } from 'vitest';
import { ensureAuditTable } from '../../services/aws/audit-store.js';
import { type AwsClients, createClients, type SdkClient } from '../../services/aws/clients.js';
import { ensureTopic } from '../../services/aws/notifier.js';
import { ensureIdempotencyTable, notifyOnce } from '../../services/aws/notify-once.js';
import type { Notification } from '../../services/domain/notification.js';
import { currentCredentials, emulatorNotifications, REGION, resetEmulator } from '../support/aws.js';

const TABLE = 'trailguard-audit-idempotency';
const notification: Notification = {
  subject: '[trailguard] REMEDIATED: trail main (test)',
  body: 'trailguard: remediated\n',
  attributes: { outcome: 'remediated', severity: 'HIGH', trail: 'main' },
};

/** Clients whose SNS Publish reaches moto and then loses its answer the first `times` times. */
function losingAnswers(times: number, how: 'after-send' | 'before-send'): AwsClients {
  let lost = 0;
  const middleware: DeserializeMiddleware<object, MetadataBearer> = (next, context) => async (args) => {
    if (context.commandName !== 'PublishCommand' || lost >= times) return next(args);
    lost += 1;
    if (how === 'before-send') {
      // What Node.js throws when the connection cannot be made: the request never left.
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { code: 'ECONNREFUSED' });
    }
    await next(args);
    // What the SDK's HTTP handler throws on a socket timeout: no HTTP answer.
    throw Object.assign(new Error('Connection timed out after 30000 ms'), { name: 'TimeoutError' });
  };
  return createClients({
    defaultRegion: REGION,
    maxAttempts: 3,
    credentials: currentCredentials,
    onCreate: (client: SdkClient) =>
      (client.middlewareStack as { add: (m: unknown, o: unknown) => void }).add(middleware, {
        step: 'deserialize',
        name: 'loseTheAnswer',
      }),
  });
}

let topicArn: string;
beforeEach(async () => {
  await resetEmulator();
  const clients = createClients({ defaultRegion: REGION, credentials: currentCredentials });
  topicArn = (await ensureTopic(clients, 'trailguard-notifications')).topicArn;
  await ensureAuditTable(clients, 'trailguard-audit');
  await ensureIdempotencyTable(clients, TABLE);
});

const key = (n: number) => ({
  executionId: `arn:aws:states:${REGION}:123:execution:sm:run-${n}`,
  outcome: 'remediated',
});

describe('notifyOnce', () => {
  it('publishes once per execution and outcome: a second call returns the stored message id', async () => {
    const clients = createClients({ defaultRegion: REGION, credentials: currentCredentials });
    const first = await notifyOnce({ clients, topicArn, tableName: TABLE }, key(1), notification);
    const again = await notifyOnce({ clients, topicArn, tableName: TABLE }, key(1), notification);
    const failedOutcome = await notifyOnce(
      { clients, topicArn, tableName: TABLE },
      { ...key(1), outcome: 'failed' },
      notification,
    );
    expect(first).toMatchObject({ delivery: 'confirmed', deduplication: 'deduplicated' });
    expect(again).toEqual(first);
    expect(failedOutcome.messageId).not.toBe(first.messageId);
    expect(await emulatorNotifications()).toHaveLength(2);
  });

  it('an answer lost after the request reached SNS: not repeated by the SDK retry nor a later call (unconfirmed)', async () => {
    const clients = losingAnswers(1, 'after-send');
    const first = await notifyOnce({ clients, topicArn, tableName: TABLE }, key(2), notification);
    expect(first).toEqual({ delivery: 'unconfirmed', deduplication: 'deduplicated' });
    const retried = await notifyOnce({ clients, topicArn, tableName: TABLE }, key(2), notification);
    expect(retried).toEqual(first);
    expect(await emulatorNotifications()).toHaveLength(1);
  });

  it('a request that never left (connection refused) is published by the SDK retry, once', async () => {
    const clients = losingAnswers(1, 'before-send');
    const sent = await notifyOnce({ clients, topicArn, tableName: TABLE }, key(3), notification);
    expect(sent).toMatchObject({ delivery: 'confirmed', deduplication: 'deduplicated' });
    expect(sent.messageId).toMatch(/\S/);
    expect(await emulatorNotifications()).toHaveLength(1);
  });

  it('no idempotency table: the email still goes out (deduplication unavailable)', async () => {
    const clients = createClients({ defaultRegion: REGION, credentials: currentCredentials });
    const unavailable: Error[] = [];
    const sent = await notifyOnce(
      { clients, topicArn, tableName: 'no-such-table', onUnavailable: (e) => unavailable.push(e) },
      key(4),
      notification,
    );
    expect(sent).toMatchObject({ delivery: 'confirmed', deduplication: 'unavailable' });
    expect(unavailable.map((e) => e.name)).toEqual(['IdempotencyPersistenceLayerError']);
    expect(await emulatorNotifications()).toHaveLength(1);
  });
});
