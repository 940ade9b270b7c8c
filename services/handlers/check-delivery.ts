/**
 * CheckDelivery: after a remediated run and the workflow's wait (config.deliveryCheckMinutes), re-reads the
 * trail's status (GetTrailStatus only) and judges whether CloudTrail delivers to CloudWatch Logs again
 * (services/domain/delivery.ts): a delivery later than the fix, and no new delivery error. The result goes to
 * the context as `deliveryCheck`; the workflow then records it (AuditDelivery) and, unless confirmed, emails it
 * (NotifyDelivery). The status is read in the run's account.
 *
 * CloudTrail "typically delivers logs within an average of about 5 minutes of an API call. This time is not
 * guaranteed." (CloudTrail User Guide, "How CloudTrail works" / CloudTrail FAQ): hence a wait of 15 minutes by
 * default, and "no delivery yet" reported as such, not as a failure.
 */
import './zod-jitless.js';
import { readTrailStatus } from '../aws/trail-status-reader.js';
import { deliveryTargetOf, judgeDelivery } from '../domain/delivery.js';
import { InvalidInputError } from '../domain/errors.js';
import { clientsIn, type HandlerDeps, type StepFunction } from './deps.js';
import { output, parseRunContext } from './io.js';
import { lambdaHandler } from './lambda.js';

export function checkDeliveryStep(deps: HandlerDeps): StepFunction {
  return async (payload) => {
    const ctx = parseRunContext(payload, 'CheckDelivery');
    if (ctx.outcome !== 'remediated' || !ctx.after || !ctx.before) {
      throw new InvalidInputError(
        `CheckDelivery runs only after a remediated run (outcome is ${ctx.outcome ?? 'none'}${ctx.after ? '' : ', nothing verified'})`,
      );
    }
    const trail = ctx.after.state.trail;
    const account = ctx.account ?? ctx.after.state.accountId;
    const status = await readTrailStatus(await clientsIn(deps, account, 'CheckDelivery'), trail);
    const errorBefore = ctx.before.state.status?.latestCloudWatchLogsDeliveryError;
    // Verify's time: every write of the run came before it. A run recorded before Verify kept a time falls
    // back to the execution's start, which is earlier still.
    const fixedAt = ctx.after.verifiedAt ?? ctx.execution.startTime;
    const now = deps.now();
    const deliveryCheck = judgeDelivery({
      status,
      fixedAt,
      checkedAt: now.toISOString(),
      // How long it really waited (the configured wait, or none in a local run that skips it).
      waitedMinutes: Math.max(0, Math.round((now.getTime() - Date.parse(fixedAt)) / 60_000)),
      ...(errorBefore ? { errorBefore } : {}),
      region: trail.homeRegion,
      target: deliveryTargetOf(ctx.after.state),
    });
    return output({ ...ctx, deliveryCheck });
  };
}

export const handler = lambdaHandler(checkDeliveryStep, { step: 'CheckDelivery' });
