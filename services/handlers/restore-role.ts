/**
 * RestoreRole: makes sure the trail's delivery role exists, trusts CloudTrail and may write the target log
 * group's CloudTrail streams (see services/aws/role-writer.ts), in the run's account.
 */
import './zod-jitless.js';
import { isManagedLogGroupName, managedLogGroupPattern } from '../../policies/config.js';
import { ensureDeliveryRole } from '../aws/role-writer.js';
import { restoreNeeds } from '../domain/plan.js';
import { clientsIn, type HandlerDeps, type StepFunction } from './deps.js';
import { output, remediationContext } from './io.js';
import { lambdaHandler } from './lambda.js';

export function restoreRoleStep(deps: HandlerDeps): StepFunction {
  return async (payload) => {
    const ctx = remediationContext(payload, 'RestoreRole');
    const { state, assessment } = ctx.before;
    const { target } = assessment;
    if (!restoreNeeds(state, assessment, deps.config).role) return output(ctx);
    const writes = await ensureDeliveryRole(await clientsIn(deps, ctx.account, 'RestoreRole'), {
      name: target.roleName,
      path: target.rolePath,
      arn: target.roleArn,
      account: state.accountId,
      partition: state.partition,
      logGroupName: target.logGroupName,
      streamResources: target.streamResources,
      ...(isManagedLogGroupName(deps.config, target.logGroupName)
        ? { managedLogGroupPattern: managedLogGroupPattern(deps.config) }
        : {}),
      ...(state.organizationId ? { organizationId: state.organizationId } : {}),
    });
    return output({
      ...ctx,
      actions: [...ctx.actions, ...writes.map((w) => ({ step: 'RestoreRole' as const, ...w }))],
    });
  };
}

export const handler = lambdaHandler(restoreRoleStep, { step: 'RestoreRole' });
