/**
 * The changes a remediation would make, predicted from an assessment without touching AWS (`remediate
 * --dry-run`, notify-only emails). The restore steps do not follow this list blindly: each one re-reads and
 * changes only what is wrong when it runs. Pure.
 */
import { type Config, isManagedLogGroupName, managedLogGroupPattern } from '../../policies/config.js';
import type { Assessment } from './assess.js';
import { LogGroupKeyMissingError } from './errors.js';
import type { FindingCode } from './findings.js';
import { logGroupKeyFor } from './log-group-key.js';
import { allowsDelivery, trustsCloudTrail } from './policy-eval.js';
import type { Action } from './run-context.js';
import type { TrailState } from './trail-state.js';

export type PlannedChange = Omit<Action, 'resource'> & { resource: string };

export function planChanges(state: TrailState, assessment: Assessment, config: Config): PlannedChange[] {
  if (assessment.verdict !== 'non-compliant') return [];
  const codes = new Set<FindingCode>(assessment.findings.map((f) => f.code));
  const { target } = assessment;
  const out: PlannedChange[] = [];
  const groupMissing =
    codes.has('LOG_GROUP_MISSING') ||
    !state.logGroup ||
    !state.logGroup.exists ||
    target.logGroupName !== state.logGroup.name;
  if (groupMissing) {
    out.push({
      step: 'RestoreLogGroup',
      api: 'CreateLogGroup',
      resource: target.logGroupName,
      detail: `create log group ${target.logGroupName} (if it does not exist) with ${config.retentionDays} days retention${keyDetail(config, state)}, then put back what the sweep's last snapshot of the trail's log group recorded (retention, KMS key, tags, data protection policy, metric and subscription filters)`,
    });
  }
  const cis = assessment.findings.filter((f) => CIS_FINDINGS.has(f.code));
  if (cis.length > 0 || (groupMissing && config.cisMonitoring && state.trail.isMultiRegionTrail)) {
    out.push({
      step: 'RestoreLogGroup',
      api: 'PutMetricFilter',
      resource: target.logGroupName,
      detail: `put the missing or changed CIS metric filters and their alarms (PutMetricAlarm) on ${target.logGroupName}${cis.length > 0 ? `: ${cis.map((f) => f.code).join(', ')}` : ''}`,
    });
  }
  const roleMissing =
    codes.has('ROLE_MISSING') || !state.role || !state.role.exists || state.role.name !== target.roleName;
  if (roleMissing) {
    out.push({
      step: 'RestoreRole',
      api: 'CreateRole',
      resource: target.roleArn,
      detail: `create role ${target.roleName} (if it does not exist) trusted by cloudtrail.amazonaws.com`,
    });
  } else if (codes.has('ROLE_TRUST_INVALID')) {
    out.push({
      step: 'RestoreRole',
      api: 'UpdateAssumeRolePolicy',
      resource: target.roleArn,
      detail: 'let cloudtrail.amazonaws.com assume the role, keeping its other trust statements',
    });
  }
  if (roleMissing || codes.has('ROLE_PERMISSIONS_INSUFFICIENT')) {
    out.push({
      step: 'RestoreRole',
      api: 'PutRolePolicy',
      resource: target.roleArn,
      detail: isManagedLogGroupName(config, target.logGroupName)
        ? `allow logs:CreateLogStream and logs:PutLogEvents on CloudTrail's streams of every log group named ${managedLogGroupPattern(config)} in this account (one shared grant, whatever the number of trails)`
        : `allow logs:CreateLogStream and logs:PutLogEvents on ${target.streamResources.join(', ')}`,
    });
  }
  if (
    state.trail.cloudWatchLogsLogGroupArn !== target.logGroupArn ||
    state.trail.cloudWatchLogsRoleArn !== target.roleArn
  ) {
    out.push({
      step: 'RestoreTrail',
      api: 'UpdateTrail',
      resource: state.trail.trailArn,
      detail: `set CloudWatchLogsLogGroupArn ${target.logGroupArn} and CloudWatchLogsRoleArn ${target.roleArn}`,
    });
  }
  if (codes.has('LOGGING_STOPPED')) {
    out.push({
      step: 'RestoreTrail',
      api: 'StartLogging',
      resource: state.trail.trailArn,
      detail: 'start logging',
    });
  }
  return out;
}

/**
 * Which restore steps have anything to do, judged from what Check read. A step whose resource Check found
 * right makes no call at all (Verify re-reads everything afterwards, so a change made in between is caught
 * there, not missed); a step with work to do re-reads before it writes.
 */
/** cisMonitoring's findings: RestoreLogGroup repairs them. */
export const CIS_FINDINGS: ReadonlySet<FindingCode> = new Set([
  'CIS_METRIC_FILTER_MISSING',
  'CIS_METRIC_FILTER_CHANGED',
  'CIS_ALARM_MISSING',
  'CIS_ALARM_CHANGED',
]);

export interface RestoreNeeds {
  /** The group itself: missing, or a managed group left without retention. */
  logGroup: boolean;
  /** cisMonitoring: a CIS metric filter or alarm of the group is missing or changed. */
  monitoring: boolean;
  role: boolean;
  trail: boolean;
}

export function restoreNeeds(state: TrailState, assessment: Assessment, config: Config): RestoreNeeds {
  const { target } = assessment;
  const group = state.logGroup;
  const role = state.role;
  const roleIsTarget = role?.exists === true && role.arn === target.roleArn;
  return {
    // A group with no retention under a name trailguard manages may be one it created and could not finish
    // (it sets retention right after creating): the step looks at its tags and completes it when it is
    // trailguard's. A group under any other name is not trailguard's to change.
    // With protectExistingLogGroups, an existing group without deletion protection is protected too.
    logGroup:
      !(
        group?.exists === true &&
        group.name === target.logGroupName &&
        (group.retentionInDays !== undefined || !isManagedLogGroupName(config, group.name))
      ) ||
      (config.protectExistingLogGroups &&
        group?.exists === true &&
        group.name === target.logGroupName &&
        group.deletionProtectionEnabled !== true),
    monitoring: assessment.findings.some((f) => CIS_FINDINGS.has(f.code)),
    role:
      !roleIsTarget ||
      !trustsCloudTrail(role.trustPolicy) ||
      !allowsDelivery(
        role.permissionPolicies.map((p) => p.document),
        target.streamResources,
        role.permissionsBoundary?.document,
      ),
    trail:
      state.trail.cloudWatchLogsLogGroupArn !== target.logGroupArn ||
      state.trail.cloudWatchLogsRoleArn !== target.roleArn ||
      state.status?.isLogging !== true,
  };
}

/** ", encrypted with <key>" for the key of the trail's account and region, if the configuration names one. */
function keyDetail(config: Config, state: TrailState): string {
  try {
    const key = logGroupKeyFor(config, state.accountId, state.trail.homeRegion);
    return key ? `, encrypted with ${key}` : '';
  } catch (error) {
    if (error instanceof LogGroupKeyMissingError) return `, but ${error.message}`;
    throw error;
  }
}
