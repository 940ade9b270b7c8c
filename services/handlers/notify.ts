/**
 * Notify (NotifyFailure, NotifyDelivery): one SNS message for a run that needs a person. With the delivery
 * check's result in the context (NotifyDelivery), the message is the DELIVERY NOT CONFIRMED email, de-duplicated
 * under its own key so it never collides with the run's email. Accepts a RunContext whose
 * outcome is remediated, skipped, notified or failed, or the failure path's envelope.
 *
 * A remediated run of selftest's canary (services/domain/canary.ts) sends nothing.
 *
 * At most one message per execution and outcome, however often the task is retried (services/aws/notify-once.ts:
 * Powertools idempotency on the stack's idempotency table).
 */
import './zod-jitless.js';
import { NOTIFY_ATTEMPT_BUDGET_MS, notifyOnce } from '../aws/notify-once.js';
import { isCanaryTrail } from '../domain/canary.js';
import { InvalidInputError } from '../domain/errors.js';
import { buildDeliveryNotification, buildNotification } from '../domain/notification.js';
import type { HandlerDeps, StepFunction } from './deps.js';
import { finishedRun, output } from './io.js';
import { lambdaHandler, logger, remainingTimeMs } from './lambda.js';

const NOTIFIED_OUTCOMES = new Set(['remediated', 'skipped', 'notified', 'failed']);

export function notifyStep(deps: HandlerDeps): StepFunction {
  return async (payload) => {
    const ctx = finishedRun(payload, 'Notify', deps.clients.defaultRegion);
    if (!ctx.outcome || !NOTIFIED_OUTCOMES.has(ctx.outcome)) {
      throw new InvalidInputError(
        `Notify needs a run whose outcome is remediated, skipped, notified or failed (got ${ctx.outcome ?? 'none'})`,
      );
    }
    const delivery = ctx.deliveryCheck !== undefined;
    // selftest's canary fixed as it should be: nobody needs an email (its audit record says canary: true).
    // A canary run that failed, was skipped or whose delivery is not confirmed is emailed like any other.
    if (!delivery && ctx.outcome === 'remediated' && isCanaryTrail(ctx.trailArn ?? ctx.trailRef.id)) {
      return output(ctx);
    }
    const notification = delivery ? buildDeliveryNotification(ctx) : buildNotification(ctx);
    const sent = await notifyOnce(
      {
        clients: deps.clients,
        topicArn: deps.topicArn,
        remainingTimeMs: () => remainingTimeMs() ?? NOTIFY_ATTEMPT_BUDGET_MS,
        ...(deps.idempotencyTableName ? { tableName: deps.idempotencyTableName } : {}),
        onUnavailable: (error) =>
          logger.warn('Notify: idempotency store unavailable, publishing without de-duplication', {
            errorName: error.name,
            errorMessage: error.message.slice(0, 500),
          }),
      },
      // The message's own outcome: the run's, or `delivery-not-confirmed` for the delivery email.
      { executionId: ctx.execution.id, outcome: notification.attributes.outcome },
      notification,
    );
    if (sent.delivery === 'unconfirmed') {
      logger.warn(
        'Notify: the Publish request got no answer; it may have been delivered and is not repeated',
        {
          execution: ctx.execution.id,
          outcome: ctx.outcome,
        },
      );
    }
    return output({
      ...ctx,
      notification: {
        ...(sent.messageId ? { messageId: sent.messageId } : {}),
        subject: notification.subject,
        ...(deps.idempotencyTableName ? { deduplication: sent.deduplication } : {}),
        ...(sent.delivery === 'unconfirmed' ? { delivery: 'unconfirmed' as const } : {}),
      },
    });
  };
}

export const handler = lambdaHandler(notifyStep, { step: 'Notify' });
