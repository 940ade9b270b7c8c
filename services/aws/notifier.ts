/** Publishes a run's notification to the SNS topic, and creates the topic for a local setup. */
import { CreateTopicCommand, ListTopicsCommand, PublishCommand } from '@aws-sdk/client-sns';
import { NotificationError } from '../domain/errors.js';
import type { Notification } from '../domain/notification.js';
import type { AwsClients } from './clients.js';
import { write } from './write-errors.js';

/** The SNS Publish of a notification: subject, plain-text body, and its attributes (all String). */
export function publishCommand(topicArn: string, notification: Notification): PublishCommand {
  return new PublishCommand({
    TopicArn: topicArn,
    Subject: notification.subject,
    Message: notification.body,
    MessageAttributes: Object.fromEntries(
      Object.entries(notification.attributes).map(([key, value]) => [
        key,
        { DataType: 'String', StringValue: value },
      ]),
    ),
  });
}

/** Publishes the message with its attributes (all String); returns the SNS message id. */
export async function publishNotification(
  clients: AwsClients,
  topicArn: string,
  notification: Notification,
): Promise<string> {
  const out = await write(
    `Publish to ${topicArn}`,
    () => clients.sns().send(publishCommand(topicArn, notification)),
    NotificationError,
  );
  if (!out.MessageId) throw new NotificationError(`Publish to ${topicArn} returned no message id`);
  return out.MessageId;
}

/**
 * Publishes an alarm's email text as the alarm notification rule's SNS target does (EventBridge sets no subject
 * or attributes): the local stand-in for that rule (moto cannot deliver EventBridge events to SNS). Returns the
 * SNS message id.
 */
export async function publishAlarmEmail(
  clients: AwsClients,
  topicArn: string,
  message: string,
): Promise<string> {
  const out = await write(
    `Publish to ${topicArn}`,
    () => clients.sns().send(new PublishCommand({ TopicArn: topicArn, Message: message })),
    NotificationError,
  );
  if (!out.MessageId) throw new NotificationError(`Publish to ${topicArn} returned no message id`);
  return out.MessageId;
}

/**
 * Creates the notification topic unless a topic of that name exists; returns its ARN and whether this call
 * created it. CreateTopic is itself idempotent, so a concurrent creator does no harm.
 */
export async function ensureTopic(
  clients: AwsClients,
  name: string,
): Promise<{ topicArn: string; created: boolean }> {
  const sns = clients.sns();
  let nextToken: string | undefined;
  do {
    const page = await write(
      'ListTopics',
      () => sns.send(new ListTopicsCommand({ NextToken: nextToken })),
      NotificationError,
    );
    const found = page.Topics?.find((t) => t.TopicArn?.endsWith(`:${name}`))?.TopicArn;
    if (found) return { topicArn: found, created: false };
    nextToken = page.NextToken;
  } while (nextToken);
  const out = await write(
    `CreateTopic ${name}`,
    () => sns.send(new CreateTopicCommand({ Name: name })),
    NotificationError,
  );
  if (!out.TopicArn) throw new NotificationError(`CreateTopic ${name} returned no topic ARN`);
  return { topicArn: out.TopicArn, created: true };
}
