/**
 * UpdateFindings (and UpdateFindingsFailure): after Notify, before Audit, brings the trail's CloudTrail.5
 * findings in Security Hub in line with the run: RESOLVED with a note after a verified fix (`remediated`), a
 * note only for `notified` and `failed`, nothing for the other outcomes. Accepts a finished RunContext or the
 * failure path's envelope; returns the RunContext with `securityHub` set, which Audit records.
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
  findControlFindings,
  SecurityHubError,
  SecurityHubNotEnabledError,
  updateControlFindings,
} from '../aws/security-hub.js';
import { parseTrailArn } from '../domain/arns.js';
import { InvalidInputError } from '../domain/errors.js';
import { findingsUpdatePlan, type SecurityHubUpdate } from '../domain/security-hub.js';
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
  const plan = findingsUpdatePlan(ctx);
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
    const findings = await findControlFindings(clients, trail.region, ctx.trailArn);
    if (findings.length === 0) {
      return { status: 'no-findings', reason: 'no active, failed CloudTrail.5 finding names this trail' };
    }
    const result = await updateControlFindings(clients, trail.region, ctx.trailArn, findings, plan);
    if (result.unprocessed?.length) {
      // Security Hub refused some findings (its answer lists them): not a success, even if others were updated.
      const first = result.unprocessed[0];
      return {
        status: 'error',
        ...(plan.workflowStatus ? { workflowStatus: plan.workflowStatus } : {}),
        note: plan.note,
        ...result,
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
