/** RestoreLogGroup: makes sure the trail's target log group exists (see services/aws/log-group-writer.ts). */
import { ensureLogGroup } from '../aws/log-group-writer.js';
import { restoreNeeds } from '../domain/plan.js';
import type { HandlerDeps, StepFunction } from './deps.js';
import { output, remediationContext } from './io.js';
import { lambdaHandler } from './lambda.js';

export function restoreLogGroupStep(deps: HandlerDeps): StepFunction {
  return async (payload) => {
    const ctx = remediationContext(payload, 'RestoreLogGroup');
    const { state, assessment } = ctx.before;
    if (!restoreNeeds(state, assessment, deps.config).logGroup) return output(ctx);
    const writes = await ensureLogGroup(deps.clients, {
      region: state.trail.homeRegion,
      account: state.accountId,
      partition: state.partition,
      name: assessment.target.logGroupName,
      retentionDays: deps.config.retentionDays,
      kmsKeyArn: deps.config.kmsKeyArn,
    });
    return output({
      ...ctx,
      actions: [...ctx.actions, ...writes.map((w) => ({ step: 'RestoreLogGroup' as const, ...w }))],
    });
  };
}

export const handler = lambdaHandler(restoreLogGroupStep, { step: 'RestoreLogGroup' });
