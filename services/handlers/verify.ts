/**
 * Verify: re-reads the trail's real state after the restore steps. The run counts as remediated only when no
 * finding the guardrail can fix remains; otherwise NotCompliantError (the workflow notifies the failure).
 */
import { readTrailState } from '../aws/trail-reader.js';
import { assess } from '../domain/assess.js';
import { NotCompliantError } from '../domain/errors.js';
import type { HandlerDeps, StepFunction } from './deps.js';
import { output, remediationContext } from './io.js';
import { lambdaHandler } from './lambda.js';

export function verifyStep(deps: HandlerDeps): StepFunction {
  return async (payload) => {
    const ctx = remediationContext(payload, 'Verify');
    // Tags decide exemption, which Check settled: compliance itself does not depend on them.
    const state = await readTrailState(deps.clients, ctx.trailRef, ctx.account, { tags: false });
    const assessment = assess(state, deps.config);
    const remaining = assessment.findings.filter((f) => f.remediable);
    if (remaining.length > 0) {
      throw new NotCompliantError(
        `trail ${state.trail.trailArn || ctx.trailRef.id} is still not compliant after remediation: ${remaining
          .map((f) => `${f.code} (${f.message})`)
          .join('; ')}`,
      );
    }
    return output({ ...ctx, after: { state, findings: assessment.findings }, outcome: 'remediated' });
  };
}

export const handler = lambdaHandler(verifyStep, { step: 'Verify' });
