/**
 * The pure assessment: trail state in, verdict and findings out, plus the target integration a remediation
 * would converge on. No AWS imports.
 */
import * as z from 'zod';
import {
  type Config,
  defaultLogGroupName,
  isManagedLogGroupName,
  managedRoleNames,
} from '../../policies/config.js';
import { deliveryStreamResources, logGroupArn, parseLogGroupArn, parseRoleArn, roleArn } from './arns.js';
import { cisAlarmTopic, monitoringFindings } from './cis-monitoring.js';
import { controlTowerReason, isControlTowerLogGroup } from './control-tower.js';
import { deliveryErrorFinding, deliveryTargetOf } from './delivery.js';
import { InvalidInputError } from './errors.js';
import { FINDING_CODES, type Finding, type FindingCode, FindingSchema, finding } from './findings.js';
import { allowsDelivery, cloudTrailTrust, deliveryDenial, trustsCloudTrail } from './policy-eval.js';
import type { TrailState } from './trail-state.js';

export const VERDICTS = ['compliant', 'non-compliant', 'exempt', 'not-ours'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** Where the trail's integration should end up. Existing valid names are kept; defaults fill the gaps. */
export const TargetSchema = z.object({
  logGroupName: z.string(),
  logGroupArn: z.string(),
  roleName: z.string(),
  rolePath: z.string(),
  roleArn: z.string(),
  streamResources: z.array(z.string()),
});
export type Target = z.infer<typeof TargetSchema>;

/**
 * Advice: what would make the integration harder to break, reported by `check` but not a compliance failure
 * (the verdict does not change). `LOG_GROUP_UNPROTECTED`: the trail's log group has no deletion protection
 * (CloudWatch Logs, "Protecting log groups from deletion"), so anyone allowed logs:DeleteLogGroup can break it.
 */
export const ADVICE_CODES = ['LOG_GROUP_UNPROTECTED'] as const;
export const AdviceSchema = z.object({ code: z.enum(ADVICE_CODES), message: z.string() });
export type Advice = z.infer<typeof AdviceSchema>;

export const AssessmentSchema = z.object({
  verdict: z.enum(VERDICTS),
  reason: z.string(),
  findings: z.array(FindingSchema),
  target: TargetSchema,
  /** Present when there is advice (see AdviceSchema). */
  advice: z.array(AdviceSchema).optional(),
  /**
   * Set when the trail or its log group is AWS Control Tower's (services/domain/control-tower.ts): why. trailguard
   * then never changes it; a broken one goes to a person with Control Tower's repair path.
   */
  controlTower: z.string().optional(),
});
export type Assessment = z.infer<typeof AssessmentSchema>;

export function isExempt(
  tags: Record<string, string>,
  config: Pick<Config, 'exemptTagKey' | 'exemptTagValue'>,
): boolean {
  const value = tags[config.exemptTagKey];
  return value !== undefined && value.trim().toLowerCase() === config.exemptTagValue.toLowerCase();
}

/** Why a trail cannot be changed from here, or undefined when it can. */
export function notOursReason(state: Pick<TrailState, 'trail' | 'region' | 'accountId'>): string | undefined {
  const { trail } = state;
  const owner = /^arn:[^:]+:cloudtrail:[^:]*:(\d{12}):/.exec(trail.trailArn)?.[1];
  if (owner && owner !== state.accountId) {
    return trail.isOrganizationTrail
      ? `organization trail owned by account ${owner}; it can only be changed from that account`
      : `trail owned by account ${owner}`;
  }
  if (trail.homeRegion !== state.region) {
    return `shadow copy of a multi-region trail whose home region is ${trail.homeRegion}; it is changed there`;
  }
  return undefined;
}

/**
 * Where the trail's integration should end up. A log group or role the trail already names is kept when it
 * works, or when trailguard may create or repair it (a managed name, see policies/config.ts); otherwise the
 * trail is pointed at the configured defaults. So a healthy custom integration is never replaced, and nothing
 * outside what the stack's IAM policy allows is ever changed.
 */
export function targetOf(state: TrailState, config: Config): Target {
  const { trail, accountId, partition } = state;
  const home = trail.homeRegion;
  if (trail.isOrganizationTrail && !state.organizationId && !notOursReason(state)) {
    throw new InvalidInputError(
      `organization trail ${trail.trailArn} was read without its organization id: its member accounts' streams cannot be named`,
    );
  }
  const streamsOf = (logGroupName: string) =>
    deliveryStreamResources({
      partition,
      region: home,
      account: accountId,
      logGroupName,
      organizationTrail: trail.isOrganizationTrail,
      ...(state.organizationId ? { organizationId: state.organizationId } : {}),
    });

  const group = trail.cloudWatchLogsLogGroupArn
    ? parseLogGroupArn(trail.cloudWatchLogsLogGroupArn)
    : undefined;
  const groupUsable =
    group &&
    group.account === accountId &&
    group.region === home &&
    (state.logGroup?.exists === true || isManagedLogGroupName(config, group.name));
  const logGroupName = groupUsable
    ? group.name
    : defaultLogGroupName(config, { trail: trail.name, account: accountId, region: home });
  const streamResources = streamsOf(logGroupName);

  const role = trail.cloudWatchLogsRoleArn ? parseRoleArn(trail.cloudWatchLogsRoleArn) : undefined;
  const roleWorks =
    state.role?.exists === true &&
    trustsCloudTrail(state.role.trustPolicy) &&
    allowsDelivery(
      state.role.permissionPolicies.map((p) => p.document),
      streamResources,
      state.role.permissionsBoundary?.document,
    );
  // Changing the trail's log group means passing its role to CloudTrail again (UpdateTrail sets both ARNs):
  // the stack lets trailguard pass only the roles it manages, so an unmanaged role is kept only as it is.
  const groupArn = logGroupArn({ partition, region: home, account: accountId, name: logGroupName });
  const keepsUnmanagedRole = roleWorks && trail.cloudWatchLogsLogGroupArn === groupArn;
  const roleUsable =
    role &&
    role.account === accountId &&
    (keepsUnmanagedRole || managedRoleNames(config).includes(role.name));
  const roleName = roleUsable ? role.name : config.deliveryRoleName;
  const rolePath = roleUsable ? role.path : '/';
  return {
    logGroupName,
    logGroupArn: groupArn,
    roleName,
    rolePath,
    roleArn: roleArn({ partition, account: accountId, name: roleName, path: rolePath }),
    streamResources,
  };
}

function logGroupFindings(state: TrailState): Finding[] {
  const value = state.trail.cloudWatchLogsLogGroupArn;
  if (!value)
    return [
      finding(
        'LOG_GROUP_ARN_MISSING',
        'The trail is not integrated with CloudWatch Logs: it names no log group.',
      ),
    ];
  const parsed = parseLogGroupArn(value);
  if (!parsed)
    return [
      finding(
        'LOG_GROUP_ARN_MALFORMED',
        `The trail's log group ARN "${value}" is not a CloudWatch Logs log group ARN.`,
      ),
    ];
  const out: Finding[] = [];
  if (parsed.account !== state.accountId || parsed.region !== state.trail.homeRegion) {
    out.push(
      finding(
        'LOG_GROUP_ARN_FOREIGN',
        `The trail's log group is in account ${parsed.account}, region ${parsed.region}; CloudTrail delivers only to a log group in its own account (${state.accountId}) and home region (${state.trail.homeRegion}).`,
      ),
    );
    return out;
  }
  if (!parsed.wildcardSuffix) {
    out.push(
      finding(
        'LOG_GROUP_ARN_MALFORMED',
        `The trail's log group ARN "${value}" lacks the ":*" suffix CloudTrail requires.`,
      ),
    );
  }
  if (state.logGroup && !state.logGroup.exists) {
    out.push(
      finding('LOG_GROUP_MISSING', `The log group "${parsed.name}" the trail delivers to does not exist.`),
    );
  }
  return out;
}

function roleFindings(state: TrailState, target: Target): Finding[] {
  const value = state.trail.cloudWatchLogsRoleArn;
  if (!value)
    return [
      finding(
        'ROLE_ARN_MISSING',
        'The trail names no IAM role for CloudTrail to deliver to CloudWatch Logs with.',
      ),
    ];
  const parsed = parseRoleArn(value);
  if (!parsed)
    return [
      finding('ROLE_ARN_MALFORMED', `The trail's delivery role ARN "${value}" is not an IAM role ARN.`),
    ];
  if (parsed.account !== state.accountId) {
    return [
      finding(
        'ROLE_ARN_FOREIGN',
        `The trail's delivery role belongs to account ${parsed.account}; CloudTrail needs a role in account ${state.accountId}.`,
      ),
    ];
  }
  const role = state.role;
  if (!role?.exists) return [finding('ROLE_MISSING', `The delivery role "${parsed.name}" does not exist.`)];
  const out: Finding[] = [];
  const trust = cloudTrailTrust(role.trustPolicy);
  if (!trust.trusted) {
    out.push(
      finding(
        'ROLE_TRUST_INVALID',
        `The delivery role "${role.name}" does not let cloudtrail.amazonaws.com assume it: ${trust.reason}.`,
      ),
    );
  }
  const denial = deliveryDenial(
    role.permissionPolicies.map((p) => p.document),
    target.streamResources,
    role.permissionsBoundary?.document,
  );
  if (denial) {
    const why = {
      deny: 'a Deny statement in its policies refuses it',
      boundary: `its permissions boundary ${role.permissionsBoundary?.arn ?? ''} does not allow it`,
      missing: 'no policy allows it',
    }[denial];
    out.push(
      finding(
        'ROLE_PERMISSIONS_INSUFFICIENT',
        `The delivery role "${role.name}" may not call logs:CreateLogStream and logs:PutLogEvents on the CloudTrail streams of "${target.logGroupName}": ${why}.`,
      ),
    );
  }
  return out;
}

function statusFindings(state: TrailState): Finding[] {
  const out: Finding[] = [];
  if (state.status && !state.status.isLogging) {
    out.push(finding('LOGGING_STOPPED', 'The trail is not logging: no events are being recorded.'));
  }
  // Classified (services/domain/delivery.ts); an error older than the latest delivery is stale, not a finding.
  const delivery = deliveryErrorFinding(
    state.status,
    state.trail.homeRegion,
    state.status?.deliveryErrorFirstSeenAt,
    deliveryTargetOf(state),
  );
  if (delivery) out.push(delivery);
  return out;
}

/**
 * Delivery-error findings (every `DELIVERY_*` code): they describe CloudTrail's last attempt, which only the next
 * delivery can clear.
 */
export const DELIVERY_FINDINGS: ReadonlySet<FindingCode> = new Set(
  FINDING_CODES.filter((code) => code.startsWith('DELIVERY_')),
);

export function isDeliveryFinding(f: Pick<Finding, 'code'>): boolean {
  return DELIVERY_FINDINGS.has(f.code);
}

/** Whether config.cisMonitoring applies to this trail: a multi-region trail whose log group exists. */
export function monitored(state: TrailState, config: Pick<Config, 'cisMonitoring'>): boolean {
  return config.cisMonitoring && state.trail.isMultiRegionTrail && state.logGroup?.exists === true;
}

function cisFindings(state: TrailState, config: Config, target: Target, options: AssessOptions): Finding[] {
  if (!monitored(state, config) || state.logGroup?.name !== target.logGroupName) return [];
  const topic = options.cisAlarmTopicArn ?? config.cisAlarmTopicArn;
  if (!topic) {
    throw new InvalidInputError(
      'cisMonitoring is on but the assessment was given no alarm topic (cisAlarmTopicArn or the notification topic)',
    );
  }
  const alarmTopicArn = cisAlarmTopic(topic, { account: state.accountId, region: state.trail.homeRegion });
  return monitoringFindings(state.monitoring, { logGroupName: target.logGroupName, alarmTopicArn });
}

export interface AssessOptions {
  /** Where the CIS alarms must notify (config.cisAlarmTopicArn, else the guardrail's topic). */
  cisAlarmTopicArn?: string;
}

/**
 * LOG_GROUP_UNPROTECTED when the log group the trail delivers to exists without deletion protection. Not for
 * Control Tower's group, which trailguard leaves to Control Tower.
 */
export function adviceOf(state: TrailState): Advice[] {
  const group = state.logGroup;
  if (!group?.exists || group.deletionProtectionEnabled === true || isControlTowerLogGroup(group.name)) {
    return [];
  }
  return [
    {
      code: 'LOG_GROUP_UNPROTECTED',
      message: `The log group "${group.name}" has no deletion protection: anyone allowed logs:DeleteLogGroup can delete it, and its metric filters with it. Turn it on (aws logs put-log-group-deletion-protection), or set protectExistingLogGroups for trailguard to.`,
    },
  ];
}

/**
 * Whether a compliant trail still gets a run to protect its log group: protectExistingLogGroups on, remediate
 * mode, LOG_GROUP_UNPROTECTED advice, and not Control Tower's. Check decides `remediate` for it (RestoreLogGroup
 * turns protection on) and the sweep starts it like a non-compliant trail.
 */
export function protectsExistingGroup(
  assessment: Pick<Assessment, 'verdict' | 'advice' | 'controlTower'>,
  config: Partial<Pick<Config, 'mode' | 'protectExistingLogGroups'>>,
): boolean {
  return (
    assessment.verdict === 'compliant' &&
    config.protectExistingLogGroups === true &&
    config.mode === 'remediate' &&
    !assessment.controlTower &&
    (assessment.advice ?? []).some((a) => a.code === 'LOG_GROUP_UNPROTECTED')
  );
}

export function assess(state: TrailState, config: Config, options: AssessOptions = {}): Assessment {
  const target = targetOf(state, config);
  const notOurs = notOursReason(state);
  if (notOurs) return { verdict: 'not-ours', reason: notOurs, findings: [], target };
  const findings = [
    ...logGroupFindings(state),
    ...roleFindings(state, target),
    ...statusFindings(state),
    ...cisFindings(state, config, target, options),
  ];
  const advice = adviceOf(state);
  const controlTower = controlTowerReason(state.trail);
  const extra = {
    ...(advice.length > 0 ? { advice } : {}),
    ...(controlTower ? { controlTower } : {}),
  };
  if (isExempt(state.tags, config)) {
    return {
      verdict: 'exempt',
      reason: `tagged ${config.exemptTagKey}=${config.exemptTagValue}`,
      findings,
      target,
      ...extra,
    };
  }
  if (findings.length === 0)
    return {
      verdict: 'compliant',
      reason: 'integrated with CloudWatch Logs and logging',
      findings,
      target,
      ...extra,
    };
  return { verdict: 'non-compliant', reason: `${findings.length} finding(s)`, findings, target, ...extra };
}
