/**
 * What AWS Control Tower manages, and so trailguard never changes. Pure.
 *
 * Control Tower's landing zone creates the trail `aws-controltower-BaselineCloudTrail` (an organization trail in
 * the management account since landing zone 3.0) and its log group `aws-controltower/CloudTrailLogs`; its
 * delivery role's managed policy, AWSControlTowerCloudTrailRolePolicy, grants exactly
 * `log-group:aws-controltower/CloudTrailLogs*` (AWS Managed Policy Reference,
 * https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSControlTowerCloudTrailRolePolicy.html).
 * Drift in them is repaired through Control Tower: the landing zone's repair, or ResetLandingZone (Control Tower
 * User Guide, "Reset the landing zone to resolve drift",
 * https://docs.aws.amazon.com/controltower/latest/userguide/lz-api-reset.html), or re-registering the OU for an
 * enrolled account. A guardrail changing them would itself cause the drift Control Tower reports. Every name with
 * the `aws-controltower-` (trails) or `aws-controltower/` (log groups) prefix is treated as Control Tower's.
 */
import { parseLogGroupArn } from './arns.js';
import { ControlTowerManagedError } from './errors.js';

export const CONTROL_TOWER_TRAIL_PREFIX = 'aws-controltower-';
export const CONTROL_TOWER_LOG_GROUP_PREFIX = 'aws-controltower/';

/** The trail name from a trail name or ARN (`arn:...:trail/NAME`). */
function trailNameOf(nameOrArn: string): string {
  return nameOrArn.startsWith('arn:') ? (nameOrArn.split(':trail/')[1] ?? nameOrArn) : nameOrArn;
}

export function isControlTowerTrail(nameOrArn: string): boolean {
  return trailNameOf(nameOrArn).startsWith(CONTROL_TOWER_TRAIL_PREFIX);
}

/** A log group name, or a log group ARN (with or without `:*`). */
export function isControlTowerLogGroup(nameOrArn: string): boolean {
  const name = nameOrArn.startsWith('arn:') ? parseLogGroupArn(nameOrArn)?.name : nameOrArn;
  return name?.startsWith(CONTROL_TOWER_LOG_GROUP_PREFIX) ?? false;
}

/**
 * Why a trail is Control Tower's, or undefined: its name, or the log group it delivers to. Either makes the
 * whole integration Control Tower's: trailguard would otherwise point Control Tower's trail elsewhere, or point
 * another trail at Control Tower's group.
 */
export function controlTowerReason(trail: {
  name: string;
  cloudWatchLogsLogGroupArn?: string | undefined;
}): string | undefined {
  if (isControlTowerTrail(trail.name)) {
    return `managed by Control Tower: the trail ${trail.name} is Control Tower's (${CONTROL_TOWER_TRAIL_PREFIX}*)`;
  }
  const group = trail.cloudWatchLogsLogGroupArn;
  if (group && isControlTowerLogGroup(group)) {
    return `managed by Control Tower: the trail delivers to Control Tower's log group ${parseLogGroupArn(group)?.name ?? group} (${CONTROL_TOWER_LOG_GROUP_PREFIX}*)`;
  }
  return undefined;
}

/** The repair path a person follows for a broken Control Tower trail (the email's "What to do"). */
export const CONTROL_TOWER_REPAIR =
  "Control Tower's trail and log group are left to Control Tower (trailguard does not change them). Repair them through AWS Control Tower: in the management account, open Control Tower's landing zone settings and choose Repair (or call ResetLandingZone; landing zone 3.1 or later). For a member account that drifted, re-register its OU (or update the account's enrollment). Control Tower's SCPs deny other changes to these resources in member accounts.";

/**
 * Throws ControlTowerManagedError when a write is about to touch Control Tower's trail or log group. Every writer
 * of trails and log groups calls it before its first AWS call (trail-writer, log-group-writer, monitoring,
 * log-group-snapshot), so no path can change them even if Check's decision were bypassed.
 */
export function refuseControlTowerWrite(what: { trail?: string; logGroup?: string }, api: string): void {
  if (what.trail !== undefined && isControlTowerTrail(what.trail)) {
    throw new ControlTowerManagedError(
      `${api} refused: the trail ${what.trail} is managed by AWS Control Tower; trailguard never changes it`,
    );
  }
  if (what.logGroup !== undefined && isControlTowerLogGroup(what.logGroup)) {
    throw new ControlTowerManagedError(
      `${api} refused: the log group ${what.logGroup} is managed by AWS Control Tower; trailguard never changes it`,
    );
  }
}
