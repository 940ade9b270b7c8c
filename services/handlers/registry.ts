/**
 * The workflow's Lambda steps by state name: the step cores (used by the local runner) and the handler file
 * of each (used by the CDK construct to bundle one function per step). The sweep function is not a workflow
 * step: it starts workflow executions (SWEEP_ENTRY).
 */
import { auditStep } from './audit.js';
import { checkStep } from './check.js';
import { checkDeliveryStep } from './check-delivery.js';
import { notifyStep } from './notify.js';
import { restoreLogGroupStep } from './restore-log-group.js';
import { restoreRoleStep } from './restore-role.js';
import { restoreTrailStep } from './restore-trail.js';
import { updateFindingsStep } from './update-findings.js';
import { verifyStep } from './verify.js';

export const STEPS = {
  Check: checkStep,
  RestoreLogGroup: restoreLogGroupStep,
  RestoreRole: restoreRoleStep,
  RestoreTrail: restoreTrailStep,
  Verify: verifyStep,
  Notify: notifyStep,
  UpdateFindings: updateFindingsStep,
  Audit: auditStep,
  CheckDelivery: checkDeliveryStep,
} as const;

export type StepName = keyof typeof STEPS;

/** Each step's handler file, relative to the repository root; its Lambda entry is `handler`. */
export const STEP_ENTRIES: Record<StepName, string> = {
  Check: 'services/handlers/check.ts',
  RestoreLogGroup: 'services/handlers/restore-log-group.ts',
  RestoreRole: 'services/handlers/restore-role.ts',
  RestoreTrail: 'services/handlers/restore-trail.ts',
  Verify: 'services/handlers/verify.ts',
  Notify: 'services/handlers/notify.ts',
  UpdateFindings: 'services/handlers/update-findings.ts',
  Audit: 'services/handlers/audit.ts',
  CheckDelivery: 'services/handlers/check-delivery.ts',
};

/** The sweep function's handler file (schedule and dependency fan-out; see services/handlers/sweep.ts). */
export const SWEEP_ENTRY = 'services/handlers/sweep.ts';
