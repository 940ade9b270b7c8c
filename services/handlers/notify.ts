/**
 * Notify (and NotifyFailure): one SNS message for a run that needs a person. Accepts a RunContext whose
 * outcome is remediated, skipped, notified or failed, or the failure path's envelope.
 */
import { publishNotification } from '../aws/notifier.js';
import { InvalidInputError } from '../domain/errors.js';
import { buildNotification } from '../domain/notification.js';
import type { HandlerDeps, StepFunction } from './deps.js';
import { finishedRun, output } from './io.js';
import { lambdaHandler } from './lambda.js';

const NOTIFIED_OUTCOMES = new Set(['remediated', 'skipped', 'notified', 'failed']);

export function notifyStep(deps: HandlerDeps): StepFunction {
  return async (payload) => {
    const ctx = finishedRun(payload, 'Notify', deps.clients.defaultRegion);
    if (!ctx.outcome || !NOTIFIED_OUTCOMES.has(ctx.outcome)) {
      throw new InvalidInputError(
        `Notify needs a run whose outcome is remediated, skipped, notified or failed (got ${ctx.outcome ?? 'none'})`,
      );
    }
    const notification = buildNotification(ctx);
    const messageId = await publishNotification(deps.clients, deps.topicArn, notification);
    return output({ ...ctx, notification: { messageId, subject: notification.subject } });
  };
}

export const handler = lambdaHandler(notifyStep, { step: 'Notify' });
