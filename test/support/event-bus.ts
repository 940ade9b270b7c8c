/**
 * Real EventBridge pattern matching on the emulator: a pattern is put on a fresh moto event bus with an SQS
 * target, the events are sent, and the names of the events moto delivered are read back.
 */
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { expect } from 'vitest';
import type { EventPattern } from '../../services/domain/event-pattern.js';
import { currentCredentials, REGION } from './aws.js';

/** An event to send: its `name` travels in the detail (as `sample`) so a delivery says which one it was. */
export interface BusEvent {
  name: string;
  source: string;
  detailType: string;
  detail: Record<string, unknown>;
}

/** The names of the events moto's EventBridge delivers for `pattern`, sorted. */
export async function deliveredByMoto(pattern: EventPattern, sent: readonly BusEvent[]): Promise<string[]> {
  const events = new EventBridgeClient({ region: REGION, credentials: currentCredentials });
  const sqs = new SQSClient({ region: REGION, credentials: currentCredentials });
  const bus = `bus-${Math.random().toString(36).slice(2, 8)}`;
  await events.send(new CreateEventBusCommand({ Name: bus }));
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${bus}-q` }));
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  await events.send(
    new PutRuleCommand({ Name: 'r', EventBusName: bus, EventPattern: JSON.stringify(pattern) }),
  );
  await events.send(
    new PutTargetsCommand({
      Rule: 'r',
      EventBusName: bus,
      Targets: [{ Id: 'q', Arn: Attributes?.QueueArn }],
    }),
  );
  // PutEvents takes at most 10 entries per call.
  for (let i = 0; i < sent.length; i += 10) {
    const out = await events.send(
      new PutEventsCommand({
        Entries: sent.slice(i, i + 10).map((e) => ({
          EventBusName: bus,
          Source: e.source,
          DetailType: e.detailType,
          Detail: JSON.stringify({ ...e.detail, sample: e.name }),
        })),
      }),
    );
    expect(out.FailedEntryCount ?? 0).toBe(0);
  }
  const seen: string[] = [];
  for (;;) {
    const out = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    for (const m of out.Messages ?? []) {
      seen.push((JSON.parse(m.Body ?? '{}') as { detail: { sample: string } }).detail.sample);
    }
    if (!out.Messages?.length) break;
  }
  events.destroy();
  sqs.destroy();
  return seen.sort();
}
