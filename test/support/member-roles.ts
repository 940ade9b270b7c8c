/**
 * The member roles as the tests expect them, stated here rather than imported from policies/iam.ts, so a change to
 * the code's own tables shows up as a failing template test: which hub functions may assume each member role, and
 * what each role's name adds to `remediationRoleName`.
 */
import type { FunctionName, MemberRole } from '../../policies/iam.js';

export const EXPECTED_MEMBER_ROLE_TRUST: Record<MemberRole, readonly FunctionName[]> = {
  read: ['Check', 'Verify', 'CheckDelivery', 'Sweep'],
  'restore-log-group': ['RestoreLogGroup'],
  'restore-role': ['RestoreRole'],
  'restore-trail': ['RestoreTrail'],
  'update-findings': ['UpdateFindings'],
};

export const EXPECTED_MEMBER_ROLE_SUFFIX: Record<MemberRole, string> = {
  read: '-read',
  'restore-log-group': '-log-group',
  'restore-role': '-role',
  'restore-trail': '-trail',
  'update-findings': '-findings',
};
