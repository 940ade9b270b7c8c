/**
 * Check: reads the trail named by the execution input, assesses it and decides what the workflow does next:
 * `compliant` (end quietly), `remediate` (restore steps), `notify` (a person must act) or `skip`. The trail is
 * read in the input's account (the event's): through that account's remediation role when it is not the hub's
 * own; an account the hub does not guard is `skip` before anything is read there.
 */
import './zod-jitless.js';
import type { Config } from '../../policies/config.js';
import { unguardedReason } from '../aws/accounts.js';
import { withDeliveryErrorSighting } from '../aws/delivery-sightings.js';
import { readAccountId, readTrailState } from '../aws/trail-reader.js';
import type { Assessment } from '../domain/assess.js';
import { assess, isDeliveryFinding, protectsExistingGroup } from '../domain/assess.js';
import { TrailNotFoundError } from '../domain/errors.js';
import { parseWorkflowInput } from '../domain/events.js';
import { CheckInputSchema, type Decision, type Outcome } from '../domain/run-context.js';
import { clientsIn, type HandlerDeps, type StepFunction } from './deps.js';
import { cisAlarmTopicArn } from './env.js';
import { output, parseInput } from './io.js';
import { lambdaHandler } from './lambda.js';

/** What to do about an assessed trail. Pure. */
export function decide(
  assessment: Assessment,
  config: Pick<Config, 'mode'> & Partial<Pick<Config, 'protectExistingLogGroups'>>,
): { decision: Decision; outcome?: Outcome; reason: string } {
  switch (assessment.verdict) {
    case 'not-ours':
    case 'exempt':
      return { decision: 'skip', outcome: 'skipped', reason: assessment.reason };
    case 'compliant':
      // protectExistingLogGroups: a compliant trail whose group is unprotected gets protection (RestoreLogGroup),
      // except Control Tower's (never written) and in notify-only mode.
      if (protectsExistingGroup(assessment, config)) {
        return {
          decision: 'remediate',
          reason:
            'protectExistingLogGroups: the log group has no deletion protection (LOG_GROUP_UNPROTECTED)',
        };
      }
      return {
        decision: 'compliant',
        outcome: 'compliant',
        reason: assessment.controlTower
          ? `${assessment.reason}; ${assessment.controlTower}`
          : assessment.reason,
      };
    case 'non-compliant':
      break;
  }
  const codes = assessment.findings.map((f) => f.code).join(', ');
  // Control Tower's trail or log group: never changed here; a person repairs it through Control Tower (the
  // email gives the path: services/domain/control-tower.ts CONTROL_TOWER_REPAIR).
  if (assessment.controlTower) {
    return {
      decision: 'notify',
      outcome: 'notified',
      reason: `${assessment.controlTower}; findings: ${codes}`,
    };
  }
  if (config.mode === 'notify-only') {
    return { decision: 'notify', outcome: 'notified', reason: `notify-only mode; findings: ${codes}` };
  }
  if (!assessment.findings.some((f) => f.remediable)) {
    return {
      decision: 'notify',
      outcome: 'notified',
      reason: `only findings trailguard cannot fix by itself: ${codes}`,
    };
  }
  // A delivery error is fixed by the repair of its cause (the role's trust, its grant, the log group), which
  // the other findings name. When none does, the role, the grant and the group read right: there is nothing
  // for trailguard to change, and a person gets the error's next step instead of an empty "remediation".
  if (!assessment.findings.some((f) => f.remediable && !isDeliveryFinding(f))) {
    return {
      decision: 'notify',
      outcome: 'notified',
      reason: `CloudTrail reports a delivery error (${codes}) but the delivery role, its grant and the log group read right: nothing for trailguard to change`,
    };
  }
  return { decision: 'remediate', reason: `findings to remediate: ${codes}` };
}

export function checkStep(deps: HandlerDeps): StepFunction {
  return async (payload) => {
    const { input, execution } = parseInput(CheckInputSchema, payload, 'Check input');
    const parsed = parseWorkflowInput(input);
    const hub = deps.accounts?.hubAccount ?? deps.accountId ?? (await readAccountId(deps.clients));
    const account = parsed.account ?? hub;
    const base = { execution, trigger: parsed.trigger, trailRef: parsed.trail, account, actions: [] };
    // An account this hub does not guard is skipped before anything is read there (or any role assumed).
    const unguarded = unguardedReason(deps.config, account, hub);
    if (unguarded) return output({ ...base, decision: 'skip', outcome: 'skipped', reason: unguarded });
    // The run's account: the hub's own clients, or its remediation role (AccountAccessError when it cannot be
    // assumed: the workflow's failure path reports the run failed, with that reason).
    const clients = await clientsIn(deps, account, 'Check');
    let state: Awaited<ReturnType<typeof readTrailState>>;
    try {
      state = await readTrailState(clients, parsed.trail, account, {
        monitoring: deps.config.cisMonitoring,
      });
    } catch (error) {
      if (!(error instanceof TrailNotFoundError)) throw error;
      return output({ ...base, decision: 'skip', outcome: 'skipped', reason: 'trail no longer exists' });
    }
    // The delivery-error sightings are the hub's (its state table).
    state = await withDeliveryErrorSighting(deps.clients, deps.stateTableName, state, deps.now());
    const assessment = assess(state, deps.config, { cisAlarmTopicArn: cisAlarmTopicArn(deps) });
    const { decision, outcome, reason } = decide(assessment, deps.config);
    return output({
      ...base,
      decision,
      reason,
      ...(outcome ? { outcome } : {}),
      ...(state.trail.trailArn ? { trailArn: state.trail.trailArn } : {}),
      before: { state, assessment },
    });
  };
}

export const handler = lambdaHandler(checkStep, { step: 'Check' });
