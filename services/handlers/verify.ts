/**
 * Verify: re-reads the trail's real state after the restore steps. The run counts as remediated only when no
 * finding the guardrail can fix remains; otherwise NotCompliantError (the workflow notifies the failure).
 *
 * A delivery-error finding is not counted here: GetTrailStatus keeps reporting CloudTrail's last failed attempt
 * until its next delivery, so it cannot clear at once. Its cause (role, grant, log group) is among the findings
 * that must be gone, and the delivery check (CheckDelivery, after config.deliveryCheckMinutes) confirms that
 * CloudTrail delivers again. The re-read is made in the run's account.
 */
import './zod-jitless.js';
import { readTrailState } from '../aws/trail-reader.js';
import { assess, isDeliveryFinding } from '../domain/assess.js';
import { IamPropagationPendingError, NotCompliantError } from '../domain/errors.js';
import type { FindingCode } from '../domain/findings.js';
import { clientsIn, type HandlerDeps, type StepFunction } from './deps.js';
import { cisAlarmTopicArn } from './env.js';
import { output, remediationContext } from './io.js';
import { lambdaHandler } from './lambda.js';

/** Findings a re-read can show while IAM propagates a role change this run made. */
const IAM_FINDINGS = new Set<FindingCode>([
  'ROLE_MISSING',
  'ROLE_TRUST_INVALID',
  'ROLE_PERMISSIONS_INSUFFICIENT',
]);

export function verifyStep(deps: HandlerDeps): StepFunction {
  return async (payload) => {
    const ctx = remediationContext(payload, 'Verify');
    // Tags decide exemption, which Check settled: compliance itself does not depend on them.
    const state = await readTrailState(
      await clientsIn(deps, ctx.account, 'Verify'),
      ctx.trailRef,
      ctx.account,
      {
        tags: false,
        monitoring: deps.config.cisMonitoring,
      },
    );
    const assessment = assess(state, deps.config, { cisAlarmTopicArn: cisAlarmTopicArn(deps) });
    const remaining = assessment.findings.filter((f) => f.remediable && !isDeliveryFinding(f));
    if (remaining.length > 0) {
      const detail = remaining.map((f) => `${f.code} (${f.message})`).join('; ');
      const trail = state.trail.trailArn || ctx.trailRef.id;
      // A role this run just wrote may read back old while IAM propagates: retried for a bounded time (the
      // workflow's Retry on IamPropagationPendingError) before the run is reported not compliant.
      const wroteIam = ctx.actions.some((a) => a.step === 'RestoreRole');
      if (wroteIam && remaining.every((f) => IAM_FINDINGS.has(f.code))) {
        throw new IamPropagationPendingError(
          `trail ${trail} still reads not compliant after this run's IAM changes (IAM is eventually consistent; retried for about 30 s before giving up): ${detail}`,
        );
      }
      throw new NotCompliantError(`trail ${trail} is still not compliant after remediation: ${detail}`);
    }
    return output({
      ...ctx,
      after: { state, findings: assessment.findings, verifiedAt: deps.now().toISOString() },
      outcome: 'remediated',
    });
  };
}

export const handler = lambdaHandler(verifyStep, { step: 'Verify' });
