/**
 * UpdateFindings (and UpdateFindingsFailure, UpdateFindingsDelivery): after Notify, before Audit, brings the
 * trail's CloudTrail.5 findings in Security Hub in line with the run (services/domain/security-hub.ts
 * findingsUpdatePlan): RESOLVED only once the delivery check confirmed logs arrive (UpdateFindingsDelivery), or
 * right after Verify when there is no delivery check (config.deliveryCheckMinutes 0); NOTIFIED with a note that
 * says why when the delivery check did not confirm it; a note only while the check is still to come, and for
 * `notified` and `failed`; nothing for the other outcomes. A run that found the trail failing again also
 * re-opens (NEW) the findings trailguard had RESOLVED. Accepts a finished RunContext or the failure path's
 * envelope; returns the RunContext with `securityHub` set, which Audit records.
 *
 * Best effort by definition (issue 12): Security Hub not enabled, or no open finding, is a normal result; a
 * Security Hub error is recorded as `securityHub.status: 'error'` with its name and message and the run's
 * outcome stands. Only errors of the two Security Hub calls, and an account whose remediation role cannot be
 * assumed (AccountAccessError), are recorded so; anything else fails the step. The calls are made in the run's
 * account.
 */
import './zod-jitless.js';
import { AccountAccessError } from '../aws/accounts.js';
import {
  findTrailFindings,
  SecurityHubError,
  SecurityHubNotEnabledError,
  updateControlFindings,
} from '../aws/security-hub.js';
import { parseTrailArn } from '../domain/arns.js';
import { InvalidInputError } from '../domain/errors.js';
import {
  findingsUpdatePlan,
  reopenNote,
  reopensResolvedFindings,
  type SecurityHubUpdate,
} from '../domain/security-hub.js';
import { clientsIn, type HandlerDeps, type StepFunction } from './deps.js';
import { finishedRun, output } from './io.js';
import { lambdaHandler } from './lambda.js';

export function updateFindingsStep(deps: HandlerDeps): StepFunction {
  return async (payload) => {
    const ctx = finishedRun(payload, 'UpdateFindings', deps.clients.defaultRegion);
    if (!ctx.outcome) throw new InvalidInputError('UpdateFindings needs a run whose outcome is set');
    const securityHub = await updateFor(deps, ctx);
    return output({ ...ctx, securityHub });
  };
}

async function updateFor(deps: HandlerDeps, ctx: ReturnType<typeof finishedRun>): Promise<SecurityHubUpdate> {
  if (!deps.config.securityHub)
    return { status: 'skipped', reason: 'securityHub is off in the configuration' };
  const plan = findingsUpdatePlan(ctx, { deliveryCheckMinutes: deps.config.deliveryCheckMinutes });
  if (!plan) return { status: 'skipped', reason: `nothing to update for outcome ${ctx.outcome}` };
  const trail = ctx.trailArn ? parseTrailArn(ctx.trailArn) : undefined;
  if (!ctx.trailArn || !trail) return { status: 'skipped', reason: 'the trail ARN is not known' };
  // The findings are in the run's account (its Security Hub, in the trail's home region).
  const account = ctx.account ?? trail.account;
  let clients: Awaited<ReturnType<typeof clientsIn>>;
  try {
    clients = await clientsIn(deps, account, 'UpdateFindings');
  } catch (error) {
    // On the failure path of a run whose account could not be entered (Check failed the same way): recorded,
    // and the run's own failure stands.
    if (!(error instanceof AccountAccessError)) throw error;
    return { status: 'error', error: { name: error.name, message: error.message.slice(0, 1000) } };
  }
  try {
    // One query for both kinds. Findings trailguard resolved, for a trail that fails again: re-opened (NEW, or
    // straight to the run's own status when it sets one), with a note that says why. Then the open ones.
    const { open: findings, resolvedByTrailguard: resolved } = await findTrailFindings(
      clients,
      trail.region,
      ctx.trailArn,
      { resolved: reopensResolvedFindings(ctx) },
    );
    let reopened: NonNullable<SecurityHubUpdate['reopened']> = [];
    if (resolved.length > 0) {
      const done = await updateControlFindings(clients, trail.region, ctx.trailArn, resolved, {
        workflowStatus: plan.workflowStatus ?? 'NEW',
        note: reopenNote(plan),
      });
      reopened = done.findings ?? [];
    }
    if (findings.length === 0) {
      if (reopened.length > 0) {
        return {
          status: 'updated',
          workflowStatus: plan.workflowStatus ?? 'NEW',
          note: plan.note,
          findings: [],
          reopened,
        };
      }
      return { status: 'no-findings', reason: 'no active, failed CloudTrail.5 finding names this trail' };
    }
    const result = await updateControlFindings(clients, trail.region, ctx.trailArn, findings, plan);
    const withReopened = reopened.length > 0 ? { reopened } : {};
    if (result.unprocessed?.length) {
      // Security Hub refused some findings (its answer lists them): not a success, even if others were updated.
      const first = result.unprocessed[0];
      return {
        status: 'error',
        ...(plan.workflowStatus ? { workflowStatus: plan.workflowStatus } : {}),
        note: plan.note,
        ...result,
        ...withReopened,
        error: {
          name: 'UnprocessedFindings',
          message:
            `BatchUpdateFindings did not update ${result.unprocessed.length} of ${findings.length} finding(s): ${first?.errorCode ?? 'unknown'}: ${first?.errorMessage ?? ''}`.slice(
              0,
              1000,
            ),
        },
      };
    }
    return {
      status: 'updated',
      ...(plan.workflowStatus ? { workflowStatus: plan.workflowStatus } : {}),
      note: plan.note,
      ...result,
      ...withReopened,
    };
  } catch (error) {
    if (error instanceof SecurityHubNotEnabledError) {
      return { status: 'not-enabled', reason: error.message };
    }
    if (error instanceof SecurityHubError) {
      return {
        status: 'error',
        error: { name: awsName(error.cause) ?? error.name, message: error.message },
      };
    }
    throw error;
  }
}

function awsName(cause: unknown): string | undefined {
  return cause instanceof Error && cause.name && cause.name !== 'Error' ? cause.name : undefined;
}

export const handler = lambdaHandler(updateFindingsStep, { step: 'UpdateFindings' });
