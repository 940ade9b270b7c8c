/**
 * RestoreTrail: points the trail at its target log group and role and starts logging
 * (see services/aws/trail-writer.ts), in the run's account and the trail's home region.
 */
import './zod-jitless.js';
import { ensureTrailIntegration } from '../aws/trail-writer.js';
import { restoreNeeds } from '../domain/plan.js';
import { clientsIn, type HandlerDeps, type StepFunction } from './deps.js';
import { output, remediationContext } from './io.js';
import { lambdaHandler } from './lambda.js';

export function restoreTrailStep(deps: HandlerDeps): StepFunction {
  return async (payload) => {
    const ctx = remediationContext(payload, 'RestoreTrail');
    const { state, assessment } = ctx.before;
    const { target } = assessment;
    if (!restoreNeeds(state, assessment, deps.config).trail) return output(ctx);
    const writes = await ensureTrailIntegration(await clientsIn(deps, ctx.account, 'RestoreTrail'), {
      name: state.trail.name,
      trailArn: state.trail.trailArn,
      homeRegion: state.trail.homeRegion,
      account: state.accountId,
      logGroupArn: target.logGroupArn,
      roleArn: target.roleArn,
      roleName: target.roleName,
      current: {
        logGroupArn: state.trail.cloudWatchLogsLogGroupArn,
        roleArn: state.trail.cloudWatchLogsRoleArn,
        isLogging: state.status?.isLogging === true,
      },
    });
    return output({
      ...ctx,
      actions: [...ctx.actions, ...writes.map((w) => ({ step: 'RestoreTrail' as const, ...w }))],
    });
  };
}

export const handler = lambdaHandler(restoreTrailStep, { step: 'RestoreTrail' });
