/**
 * One email per run and outcome: the SNS Publish of a run's notification made idempotent with Powertools for
 * AWS Lambda (TypeScript) idempotency, DynamoDB persistence, keyed by the execution id and the outcome
 * (Powertools docs, "Idempotency": a record is saved IN_PROGRESS before the function runs, COMPLETED with its
 * result after it; a repeated call with the same key returns the stored result without running it again; a
 * function that throws has its record deleted so that a retry runs it again).
 *
 * What Powertools alone does not settle is the one case a retry cannot tell apart: the Publish request left
 * for SNS but no answer came back. SNS Publish has no de-duplication for standard topics (email needs one),
 * so this module sends at most once (issue 12): a middleware below the SDK's retry watches each attempt, and
 * - SNS answered with a message id: published, whatever happened above (the answer was lost on the way up);
 * - the request never left (or SNS answered with an error): not published, the error is thrown, the record
 *   is deleted and the workflow's retry publishes;
 * - the request left and no answer came (timeout, dropped connection): it may have been delivered, so it is
 *   never repeated, neither by the SDK's own retry nor by the workflow's: the run records the delivery as
 *   `unconfirmed` (in the audit record) instead of risking a second email.
 * The idempotency table is the stack's own small table (key `id`, TTL on `expiration`), not the audit
 * table, so the audit table holds exactly one item per run (see docs/architecture.md).
 *
 * When the idempotency table cannot be used (DynamoDB down, table missing), the message is published without
 * de-duplication (`deduplication: 'unavailable'`): a possible second email is better than none.
 *
 * Powertools idempotency is loaded on first use (it is only needed when a notification is sent).
 */
import type { PublishCommandInput, PublishCommandOutput } from '@aws-sdk/client-sns';
import type { FinalizeRequestMiddleware } from '@smithy/types';
import { isTransient, NotificationError, TrailguardError } from '../domain/errors.js';
import type { Notification } from '../domain/notification.js';
import type { AwsClients } from './clients.js';
import { publishCommand, publishNotification } from './notifier.js';
import { ensureTable } from './tables.js';
import { writeError } from './write-errors.js';

/** How long a completed publish is remembered: longer than any execution (15 minutes) and its retries. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;
/** The record key prefix (instead of the Lambda function name, which a redeployment may change). */
export const IDEMPOTENCY_KEY_PREFIX = 'trailguard-notify';
/** The idempotency table's key and TTL attributes (Powertools' defaults; the stack defines the table so). */
export const IDEMPOTENCY_TABLE_KEY = 'id';
export const IDEMPOTENCY_TTL_ATTRIBUTE = 'expiration';

/** Another attempt of the same run and outcome is publishing right now, or died while publishing. */
export class NotificationInProgressError extends TrailguardError {
  override name = 'NotificationInProgressError';
}

export interface PublishOnceResult {
  /** The SNS message id; absent when the delivery is unconfirmed. */
  messageId?: string;
  /** `unconfirmed`: the request reached the network and no answer came back; it is not repeated. */
  delivery: 'confirmed' | 'unconfirmed';
  deduplication: 'deduplicated' | 'unavailable';
}

/** What one Publish call's attempts did below the SDK's retry. */
interface AttemptTracker {
  /** A request was handed to the HTTP handler and nothing came back (neither a response nor an error answer). */
  unanswered: boolean;
  /** SNS answered with a message id. */
  messageId?: string;
}

/** Node.js network errors raised before a request could be written: nothing reached SNS. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Thrown instead of sending a second request after one that may have reached SNS (never retried by the SDK). */
class PublishNotRepeatedError extends Error {
  override name = 'PublishNotRepeatedError';
}

function trackingMiddleware(
  tracker: AttemptTracker,
): FinalizeRequestMiddleware<PublishCommandInput, PublishCommandOutput> {
  return (next) => async (args) => {
    if (tracker.unanswered) {
      throw new PublishNotRepeatedError('an earlier attempt of this Publish may have reached SNS');
    }
    tracker.unanswered = true;
    try {
      const out = await next(args);
      tracker.unanswered = false;
      const id = out.output?.MessageId;
      if (typeof id === 'string' && id) tracker.messageId = id;
      return out;
    } catch (error) {
      // An HTTP answer (an error status) means SNS did not accept the message; a connection that was never
      // made means it never left. Anything else (a timeout, a connection dropped midway) may have delivered it.
      const e = error as { $metadata?: { httpStatusCode?: number }; code?: string };
      if (typeof e.$metadata?.httpStatusCode === 'number' || NOT_SENT_CODES.has(e.code ?? '')) {
        tracker.unanswered = false;
      }
      throw error;
    }
  };
}

/** Publishes once, telling apart "not sent", "sent and accepted" and "sent, no answer". */
async function publishTracked(
  clients: AwsClients,
  topicArn: string,
  notification: Notification,
): Promise<Omit<PublishOnceResult, 'deduplication'>> {
  const tracker: AttemptTracker = { unanswered: false };
  const command = publishCommand(topicArn, notification);
  command.middlewareStack.add(trackingMiddleware(tracker), {
    step: 'finalizeRequest',
    priority: 'low',
    name: 'trailguardPublishAttemptTracker',
  });
  try {
    const out = await clients.sns().send(command);
    if (!out.MessageId) throw new NotificationError(`Publish to ${topicArn} returned no message id`);
    return { messageId: out.MessageId, delivery: 'confirmed' };
  } catch (error) {
    if (tracker.messageId) return { messageId: tracker.messageId, delivery: 'confirmed' };
    if (tracker.unanswered || error instanceof PublishNotRepeatedError) return { delivery: 'unconfirmed' };
    throw writeError(`Publish to ${topicArn}`, error, NotificationError);
  }
}

/**
 * How long an attempt may take when the caller cannot say (outside Lambda): Notify's function timeout. An
 * IN_PROGRESS record of an attempt that died expires after it, so that a later retry can publish.
 */
export const NOTIFY_ATTEMPT_BUDGET_MS = 30_000;

export interface NotifyOnceOptions {
  clients: AwsClients;
  topicArn: string;
  /** The time the attempt has left (the Lambda context's getRemainingTimeInMillis); default the budget. */
  remainingTimeMs?: () => number;
  /** The idempotency table; without one, publishes without de-duplication. */
  tableName?: string;
  /** Called when de-duplication could not be used (for the log). */
  onUnavailable?: (error: Error) => void;
}

/** The idempotency key's data: one email per run (execution) and outcome. */
export interface NotificationKey {
  executionId: string;
  outcome: string;
}

/** What one call's inner publish did, so that a failure of the record around it does not hide it. */
interface PublishHolder {
  result?: Omit<PublishOnceResult, 'deduplication'>;
  error?: unknown;
}

interface Publisher {
  publish(
    key: NotificationKey,
    notification: Notification,
    holder: PublishHolder,
  ): Promise<PublishOnceResult>;
  /** Marks the record COMPLETED with a result (when Powertools' own attempt to do so failed). */
  complete(key: NotificationKey, result: PublishOnceResult): Promise<void>;
}

const publishers = new WeakMap<AwsClients, Map<string, Publisher>>();

/** Attempts of an idempotency-record read or write that fails transiently, before giving up on it. */
export const STORE_ATTEMPTS = 4;
const STORE_BACKOFF_MS = 100;
const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Powertools' errors, by name (the module is loaded lazily). */
const ALREADY_IN_PROGRESS = 'IdempotencyAlreadyInProgressError';
const PERSISTENCE_LAYER = 'IdempotencyPersistenceLayerError';
const isNamed = (error: unknown, name: string): error is Error =>
  error instanceof Error && error.name === name;

/** The idempotent publish for a table, created once per clients and table (its persistence layer is reused). */
async function idempotentPublisher(options: NotifyOnceOptions & { tableName: string }): Promise<Publisher> {
  const [{ IdempotencyConfig, makeIdempotent }, { DynamoDBPersistenceLayer }] = await Promise.all([
    import('@aws-lambda-powertools/idempotency'),
    import('@aws-lambda-powertools/idempotency/dynamodb'),
  ]);
  let byTable = publishers.get(options.clients);
  if (!byTable) {
    byTable = new Map();
    publishers.set(options.clients, byTable);
  }
  const cacheKey = `${options.tableName}|${options.topicArn}`;
  let publisher = byTable.get(cacheKey);
  if (!publisher) {
    const store = new DynamoDBPersistenceLayer({
      tableName: options.tableName,
      keyAttr: IDEMPOTENCY_TABLE_KEY,
      expiryAttr: IDEMPOTENCY_TTL_ATTRIBUTE,
      awsSdkV3Client: options.clients.dynamo(),
    });
    const config = new IdempotencyConfig({ expiresAfterSeconds: IDEMPOTENCY_TTL_SECONDS });
    // The IN_PROGRESS record's own expiry (Powertools reads it from the Lambda context).
    config.registerLambdaContext({
      getRemainingTimeInMillis: () => options.remainingTimeMs?.() ?? NOTIFY_ATTEMPT_BUDGET_MS,
    } as Parameters<typeof config.registerLambdaContext>[0]);
    const inner = async (_key: NotificationKey, notification: Notification, holder: PublishHolder) => {
      try {
        holder.result = await publishTracked(options.clients, options.topicArn, notification);
      } catch (error) {
        holder.error = error;
        throw error;
      }
      return { ...holder.result, deduplication: 'deduplicated' as const };
    };
    const publish = makeIdempotent(inner, {
      persistenceStore: store,
      config,
      keyPrefix: IDEMPOTENCY_KEY_PREFIX,
      dataIndexArgument: 0,
    }) as Publisher['publish'];
    publisher = {
      publish,
      complete: (key, result) =>
        store.saveSuccess(
          key as unknown as Record<string, string>,
          result as unknown as Record<string, string>,
        ),
    };
    byTable.set(cacheKey, publisher);
  }
  return publisher;
}

/** Whether Powertools' persistence error was caused by a transient DynamoDB failure (worth trying again). */
function transientStoreError(error: Error): boolean {
  return isTransient(error.cause);
}

/**
 * Publishes the run's notification at most once per execution and outcome. Returns the message id (stored
 * from the first attempt when this is a retry), or `delivery: 'unconfirmed'`.
 */
export async function notifyOnce(
  options: NotifyOnceOptions,
  key: NotificationKey,
  notification: Notification,
): Promise<PublishOnceResult> {
  const { clients, topicArn, tableName } = options;
  if (!tableName) {
    const messageId = await publishNotification(clients, topicArn, notification);
    return { messageId, delivery: 'confirmed', deduplication: 'unavailable' };
  }
  const publisher = await idempotentPublisher({ ...options, tableName });
  /** An earlier attempt of this call may have saved the IN_PROGRESS record (its answer was lost). */
  let mayHoldRecord = false;
  for (let attempt = 1; ; attempt++) {
    const holder: PublishHolder = {};
    try {
      return await publisher.publish(key, notification, holder);
    } catch (error) {
      if (isNamed(error, ALREADY_IN_PROGRESS) && mayHoldRecord) {
        // The record is this call's own (saved, answer lost): nothing was published yet. Publish, then
        // complete the record.
        const result = {
          ...(await publishTracked(clients, topicArn, notification)),
          deduplication: 'deduplicated' as const,
        };
        if (await completeRecord(publisher, key, result)) return result;
        return { ...result, deduplication: 'unavailable' };
      }
      if (isNamed(error, ALREADY_IN_PROGRESS)) {
        throw new NotificationInProgressError(
          `the notification of ${key.executionId} (${key.outcome}) is being published by another attempt, or an attempt died while publishing it; not sending it again`,
          { cause: error },
        );
      }
      if (!isNamed(error, PERSISTENCE_LAYER)) throw error;
      if (holder.result) {
        // Published; only marking the record COMPLETED failed. Try that again, so that a retry of the step
        // finds it; the message went out either way and is never sent again from here.
        const result = { ...holder.result, deduplication: 'deduplicated' as const };
        if (await completeRecord(publisher, key, result)) return result;
        options.onUnavailable?.(error);
        return { ...holder.result, deduplication: 'unavailable' };
      }
      if (holder.error !== undefined) throw holder.error;
      // Nothing was published: the record could not be saved. A transient failure is tried again; after that
      // (or a permanent one: table missing, access denied), publish without de-duplication.
      if (transientStoreError(error) && attempt < STORE_ATTEMPTS) {
        mayHoldRecord = true;
        await pause(STORE_BACKOFF_MS * 2 ** (attempt - 1));
        continue;
      }
      options.onUnavailable?.(error);
      return { ...(await publishTracked(clients, topicArn, notification)), deduplication: 'unavailable' };
    }
  }
}

async function completeRecord(
  publisher: Publisher,
  key: NotificationKey,
  result: PublishOnceResult,
): Promise<boolean> {
  for (let attempt = 1; attempt < STORE_ATTEMPTS; attempt++) {
    try {
      await publisher.complete(key, result);
      return true;
    } catch (error) {
      if (!isTransient(error)) return false;
      await pause(STORE_BACKOFF_MS * 2 ** (attempt - 1));
    }
  }
  return false;
}

/**
 * Creates the idempotency table (on-demand, key `id`) unless it exists; for an emulator (`trailguard
 * local-setup`, tests). The stack defines the deployed one (with TTL on `expiration`).
 */
export function ensureIdempotencyTable(
  clients: AwsClients,
  tableName: string,
): Promise<{ tableName: string; created: boolean }> {
  return ensureTable(clients, tableName, [IDEMPOTENCY_TABLE_KEY], 'the idempotency table');
}
