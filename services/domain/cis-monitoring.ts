/**
 * CIS AWS Foundations monitoring (4.1-4.15) on a trail's CloudWatch Logs log group: what trailguard keeps there
 * (one metric filter, its metric and one alarm per control) and how the state read from AWS differs from it.
 * Pure: no AWS imports.
 *
 * The filter patterns are copied character for character from the AWS Security Hub User Guide, "Amazon
 * CloudWatch controls", controls CloudWatch.1-14 ("Copy the following pattern"): source
 * awsdocs/aws-security-hub-user-guide, doc_source/cloudwatch-controls.md (commit bda5bf7, the last version of the
 * page in that repository; https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html).
 * The page says of every one of them: "This control fails if the exact metric filters prescribed by CIS are not
 * used. Additional fields or terms cannot be added to the metric filters." The CIS ids come from each control's
 * "Related requirements" and from the page "CIS AWS Foundations Benchmark" of the same guide
 * (doc_source/cis-aws-foundations-benchmark.md), whose mapping table puts CloudWatch.1 = v1.2.0 3.3, CloudWatch.2 =
 * 3.1, CloudWatch.3 = 3.2 and CloudWatch.4-14 = v1.2.0 3.4-3.14 = v1.4.0 4.4-4.14. So CIS v1.4.0 4.1 is
 * CloudWatch.2, 4.2 is CloudWatch.3 and 4.3 is CloudWatch.1 (not 4.n = CloudWatch.n).
 *
 * CIS 4.15 (AWS Organizations changes) has no Security Hub control; its pattern is the CIS benchmark's (v1.4.0 /
 * v1.5.0 4.15 remediation), as reproduced in e.g. https://docs.fugue.co/FG_R00356.html and
 * https://docs.datadoghq.com/security/default_rules/def-000-fp3.md.
 */
import { createHash } from 'node:crypto';
import { InvalidInputError } from './errors.js';
import { type Finding, finding } from './findings.js';
import type { AlarmState, MetricFilterState, MonitoringState } from './trail-state.js';

export interface CisControl {
  /** CIS AWS Foundations Benchmark v1.4.0 recommendation, e.g. `4.3`. */
  cis: string;
  /** The same recommendation in CIS v1.2.0 (section 3), when v1.2.0 has it. */
  cisV12?: string;
  /** The Security Hub control that checks it, e.g. `CloudWatch.1`; undefined when Security Hub does not. */
  securityHub?: string;
  /** What the control watches, in words that fit "metric filter for CIS 4.3 (CloudWatch.1) ...". */
  title: string;
  /** The CloudWatch metric the filter publishes (the name Security Hub's remediation steps suggest). */
  metricName: string;
  /** The CloudWatch Logs filter pattern, exactly as documented. */
  filterPattern: string;
}

/** CIS 4.1-4.15 in order. Patterns: see the header of this file for the source of each. */
export const CIS_CONTROLS: readonly CisControl[] = [
  {
    cis: '4.1',
    cisV12: '3.1',
    securityHub: 'CloudWatch.2',
    title: 'unauthorized API calls',
    metricName: 'UnauthorizedAPICalls',
    filterPattern: '{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}',
  },
  {
    cis: '4.2',
    cisV12: '3.2',
    securityHub: 'CloudWatch.3',
    title: 'Management Console sign-in without MFA',
    metricName: 'ConsoleSigninWithoutMFA',
    filterPattern:
      '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
  },
  {
    cis: '4.3',
    cisV12: '3.3',
    securityHub: 'CloudWatch.1',
    title: 'root account usage',
    metricName: 'RootAccountUsage',
    filterPattern:
      '{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}',
  },
  {
    cis: '4.4',
    cisV12: '3.4',
    securityHub: 'CloudWatch.4',
    title: 'IAM policy changes',
    metricName: 'IAMPolicyChanges',
    filterPattern:
      '{($.eventName=DeleteGroupPolicy) || ($.eventName=DeleteRolePolicy) || ($.eventName=DeleteUserPolicy) || ($.eventName=PutGroupPolicy) || ($.eventName=PutRolePolicy) || ($.eventName=PutUserPolicy) || ($.eventName=CreatePolicy) || ($.eventName=DeletePolicy) || ($.eventName=CreatePolicyVersion) || ($.eventName=DeletePolicyVersion) || ($.eventName=AttachRolePolicy) || ($.eventName=DetachRolePolicy) || ($.eventName=AttachUserPolicy) || ($.eventName=DetachUserPolicy) || ($.eventName=AttachGroupPolicy) || ($.eventName=DetachGroupPolicy)}',
  },
  {
    cis: '4.5',
    cisV12: '3.5',
    securityHub: 'CloudWatch.5',
    title: 'CloudTrail configuration changes',
    metricName: 'CloudTrailChanges',
    filterPattern:
      '{($.eventName=CreateTrail) || ($.eventName=UpdateTrail) || ($.eventName=DeleteTrail) || ($.eventName=StartLogging) || ($.eventName=StopLogging)}',
  },
  {
    cis: '4.6',
    cisV12: '3.6',
    securityHub: 'CloudWatch.6',
    title: 'Management Console authentication failures',
    metricName: 'ConsoleAuthenticationFailure',
    filterPattern: '{($.eventName=ConsoleLogin) && ($.errorMessage="Failed authentication")}',
  },
  {
    cis: '4.7',
    cisV12: '3.7',
    securityHub: 'CloudWatch.7',
    title: 'disabling or scheduled deletion of customer managed keys',
    metricName: 'DisableOrDeleteCMK',
    filterPattern:
      '{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey) || ($.eventName=ScheduleKeyDeletion))}',
  },
  {
    cis: '4.8',
    cisV12: '3.8',
    securityHub: 'CloudWatch.8',
    title: 'S3 bucket policy changes',
    metricName: 'S3BucketPolicyChanges',
    filterPattern:
      '{($.eventSource=s3.amazonaws.com) && (($.eventName=PutBucketAcl) || ($.eventName=PutBucketPolicy) || ($.eventName=PutBucketCors) || ($.eventName=PutBucketLifecycle) || ($.eventName=PutBucketReplication) || ($.eventName=DeleteBucketPolicy) || ($.eventName=DeleteBucketCors) || ($.eventName=DeleteBucketLifecycle) || ($.eventName=DeleteBucketReplication))}',
  },
  {
    cis: '4.9',
    cisV12: '3.9',
    securityHub: 'CloudWatch.9',
    title: 'AWS Config configuration changes',
    metricName: 'AWSConfigChanges',
    filterPattern:
      '{($.eventSource=config.amazonaws.com) && (($.eventName=StopConfigurationRecorder) || ($.eventName=DeleteDeliveryChannel) || ($.eventName=PutDeliveryChannel) || ($.eventName=PutConfigurationRecorder))}',
  },
  {
    cis: '4.10',
    cisV12: '3.10',
    securityHub: 'CloudWatch.10',
    title: 'security group changes',
    metricName: 'SecurityGroupChanges',
    filterPattern:
      '{($.eventName=AuthorizeSecurityGroupIngress) || ($.eventName=AuthorizeSecurityGroupEgress) || ($.eventName=RevokeSecurityGroupIngress) || ($.eventName=RevokeSecurityGroupEgress) || ($.eventName=CreateSecurityGroup) || ($.eventName=DeleteSecurityGroup)}',
  },
  {
    cis: '4.11',
    cisV12: '3.11',
    securityHub: 'CloudWatch.11',
    title: 'network ACL changes',
    metricName: 'NetworkACLChanges',
    filterPattern:
      '{($.eventName=CreateNetworkAcl) || ($.eventName=CreateNetworkAclEntry) || ($.eventName=DeleteNetworkAcl) || ($.eventName=DeleteNetworkAclEntry) || ($.eventName=ReplaceNetworkAclEntry) || ($.eventName=ReplaceNetworkAclAssociation)}',
  },
  {
    cis: '4.12',
    cisV12: '3.12',
    securityHub: 'CloudWatch.12',
    title: 'network gateway changes',
    metricName: 'NetworkGatewayChanges',
    filterPattern:
      '{($.eventName=CreateCustomerGateway) || ($.eventName=DeleteCustomerGateway) || ($.eventName=AttachInternetGateway) || ($.eventName=CreateInternetGateway) || ($.eventName=DeleteInternetGateway) || ($.eventName=DetachInternetGateway)}',
  },
  {
    cis: '4.13',
    cisV12: '3.13',
    securityHub: 'CloudWatch.13',
    title: 'route table changes',
    metricName: 'RouteTableChanges',
    filterPattern:
      '{($.eventName=CreateRoute) || ($.eventName=CreateRouteTable) || ($.eventName=ReplaceRoute) || ($.eventName=ReplaceRouteTableAssociation) || ($.eventName=DeleteRouteTable) || ($.eventName=DeleteRoute) || ($.eventName=DisassociateRouteTable)}',
  },
  {
    cis: '4.14',
    cisV12: '3.14',
    securityHub: 'CloudWatch.14',
    title: 'VPC changes',
    metricName: 'VPCChanges',
    filterPattern:
      '{($.eventName=CreateVpc) || ($.eventName=DeleteVpc) || ($.eventName=ModifyVpcAttribute) || ($.eventName=AcceptVpcPeeringConnection) || ($.eventName=CreateVpcPeeringConnection) || ($.eventName=DeleteVpcPeeringConnection) || ($.eventName=RejectVpcPeeringConnection) || ($.eventName=AttachClassicLinkVpc) || ($.eventName=DetachClassicLinkVpc) || ($.eventName=DisableVpcClassicLink) || ($.eventName=EnableVpcClassicLink)}',
  },
  {
    cis: '4.15',
    // CIS v1.2.0 has no Organizations recommendation.
    // Security Hub does not check 4.15: no CloudWatch control exists for it, and the guide's "CIS AWS Foundations
    // Benchmark" page lists 4.15 among the v1.4.0 automated checks Security Hub does not support.
    securityHub: undefined,
    title: 'AWS Organizations changes',
    metricName: 'OrganizationsChanges',
    filterPattern:
      '{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || ($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || ($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || ($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || ($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || ($.eventName = "UpdateOrganizationalUnit")) }',
  },
];

/**
 * The alarm on every CIS metric: one data point of at least 1 in 5 minutes (CIS remediation: `--statistic Sum
 * --period 300 --threshold 1 --comparison-operator GreaterThanOrEqualToThreshold --evaluation-periods 1`). Missing
 * data (no matching event: the filter publishes nothing) is "not breaching", so a quiet account stays OK.
 */
export const CIS_ALARM = {
  threshold: 1,
  periodSeconds: 300,
  evaluationPeriods: 1,
  statistic: 'Sum',
  comparisonOperator: 'GreaterThanOrEqualToThreshold',
  treatMissingData: 'notBreaching',
} as const;

/** The metric value each matching event adds. */
export const CIS_METRIC_VALUE = '1';

/** Every metric filter and alarm trailguard keeps starts with it; other filters on the group are the team's. */
export const CIS_NAME_PREFIX = 'trailguard-cis-';

const NAMESPACE_PREFIX = 'CISBenchmark/';
/** CloudWatch: a namespace and an alarm name are at most 255 characters (PutMetricAlarm, MetricTransformation). */
const NAMESPACE_MAX = 255;
const ALARM_NAME_MAX = 255;
const HASH_LENGTH = 12;
/** Characters of a log group name ([\.\-_/#A-Za-z0-9]); all are allowed in a CloudWatch namespace. */
const NAMESPACE_SAFE = /^[\w\-./#]+$/;

function shortHash(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, HASH_LENGTH);
}

/** `prefix + value` when it fits in `max`, else `prefix + value cut short + '-' + hash(value)` (exactly `max`). */
function fitted(prefix: string, value: string, max: number, safe = true): string {
  const whole = `${prefix}${value}`;
  if (whole.length <= max && safe) return whole;
  const room = max - prefix.length - 1 - HASH_LENGTH;
  const kept = safe ? value.slice(0, room) : value.replace(/[^\w\-./#]/g, '-').slice(0, room);
  return `${prefix}${kept}-${shortHash(value)}`;
}

/** `4.3 (CloudWatch.1)`, or `4.15` for the control Security Hub does not check. */
export function cisControlLabel(control: CisControl): string {
  return control.securityHub ? `${control.cis} (${control.securityHub})` : control.cis;
}

/**
 * The metric filter's name on the log group, e.g. `trailguard-cis-4.3-RootAccountUsage`. Filter names are unique
 * per log group, so the group is not part of it. Valid: 1-512 characters, no `:` or `*` (PutMetricFilter).
 */
export function cisFilterName(control: CisControl): string {
  return `${CIS_NAME_PREFIX}${control.cis}-${control.metricName}`;
}

/**
 * The metric a control's filter publishes. One namespace per log group, `CISBenchmark/<log group>`, so the metrics
 * (and alarms) of two multi-region trails never mix; a log group name too long for a namespace (255 characters) is
 * cut short and followed by a hash of the whole name.
 */
export function cisMetric(control: CisControl, logGroupName: string): { namespace: string; name: string } {
  const safe = NAMESPACE_SAFE.test(logGroupName);
  return {
    namespace: fitted(NAMESPACE_PREFIX, logGroupName, NAMESPACE_MAX, safe),
    name: control.metricName,
  };
}

/**
 * The alarm's name: `trailguard-cis-<cis>-<metricName>-<log group>`, at most 255 characters (alarm names are
 * per account and region, so the group is part of it); longer log group names are cut short and followed by a hash
 * of the whole name. Deterministic.
 */
export function cisAlarmName(control: CisControl, logGroupName: string): string {
  return fitted(`${cisFilterName(control)}-`, logGroupName, ALARM_NAME_MAX);
}

/** The alarm names of every control for a log group, in CIS order. */
export function cisAlarmNames(logGroupName: string): string[] {
  return CIS_CONTROLS.map((control) => cisAlarmName(control, logGroupName));
}

/** Where the monitoring lives (the trail's log group) and whom its alarms notify. */
export interface CisTarget {
  logGroupName: string;
  /** The alarms' one action (cisAlarmActions); undefined: no action (state changes reach the hub by EventBridge). */
  alarmTopicArn: string | undefined;
}

/**
 * The topic a CIS alarm in `where` (the trail's account and home region) may notify directly: `topicArn` when it is
 * in that same account and region, else none. PutMetricAlarm refuses an SNS action in another region, and a topic
 * of another account works only if its policies admit the alarm's account, which the hub topic's do not (they
 * admit CloudWatch for the hub's own account and region); such alarms get no action, and their ALARM state
 * changes reach the hub's topic through EventBridge (services/domain/alarm-events.ts).
 */
export function cisAlarmTopic(
  topicArn: string | undefined,
  where: { account: string; region: string },
): string | undefined {
  if (!topicArn) return undefined;
  const [, , service, region, account] = topicArn.split(':');
  return service === 'sns' && region === where.region && account === where.account ? topicArn : undefined;
}

/** The metric filter trailguard keeps for a control (PutMetricFilter's input, in the domain's words). */
export interface CisFilterSpec {
  logGroupName: string;
  filterName: string;
  filterPattern: string;
  metricName: string;
  metricNamespace: string;
  metricValue: string;
}

export function cisFilterSpec(control: CisControl, logGroupName: string): CisFilterSpec {
  const metric = cisMetric(control, logGroupName);
  return {
    logGroupName,
    filterName: cisFilterName(control),
    filterPattern: control.filterPattern,
    metricName: metric.name,
    metricNamespace: metric.namespace,
    metricValue: CIS_METRIC_VALUE,
  };
}

/** The alarm trailguard keeps for a control (PutMetricAlarm's input, in the domain's words). */
export interface CisAlarmSpec {
  alarmName: string;
  alarmDescription: string;
  metricName: string;
  namespace: string;
  statistic: typeof CIS_ALARM.statistic;
  periodSeconds: typeof CIS_ALARM.periodSeconds;
  evaluationPeriods: typeof CIS_ALARM.evaluationPeriods;
  threshold: typeof CIS_ALARM.threshold;
  comparisonOperator: typeof CIS_ALARM.comparisonOperator;
  treatMissingData: typeof CIS_ALARM.treatMissingData;
  alarmActions: string[];
  actionsEnabled: true;
}

export function cisAlarmSpec(control: CisControl, target: CisTarget): CisAlarmSpec {
  const metric = cisMetric(control, target.logGroupName);
  const checkedBy = control.securityHub
    ? `Security Hub ${control.securityHub}`
    : 'no Security Hub control (CIS only)';
  return {
    alarmName: cisAlarmName(control, target.logGroupName),
    // AlarmDescription: at most 1024 characters; the longest log group name (512) still fits.
    alarmDescription:
      `CIS AWS Foundations ${control.cis} (${checkedBy}): ${control.title} recorded by CloudTrail in log group ` +
      `${target.logGroupName}. Kept by trailguard; changes are reverted.`,
    metricName: metric.name,
    namespace: metric.namespace,
    statistic: CIS_ALARM.statistic,
    periodSeconds: CIS_ALARM.periodSeconds,
    evaluationPeriods: CIS_ALARM.evaluationPeriods,
    threshold: CIS_ALARM.threshold,
    comparisonOperator: CIS_ALARM.comparisonOperator,
    treatMissingData: CIS_ALARM.treatMissingData,
    alarmActions: target.alarmTopicArn ? [target.alarmTopicArn] : [],
    actionsEnabled: true,
  };
}

/** What differs between a metric filter read from AWS and trailguard's, in words (empty: nothing). */
export function filterDifferences(spec: CisFilterSpec, filter: MetricFilterState): string[] {
  const out: string[] = [];
  if (filter.filterPattern !== spec.filterPattern) out.push('filter pattern');
  if (filter.metricName !== spec.metricName) out.push(`metric name (${filter.metricName ?? 'none'})`);
  if (filter.metricNamespace !== spec.metricNamespace)
    out.push(`metric namespace (${filter.metricNamespace ?? 'none'})`);
  if (filter.metricValue !== spec.metricValue) out.push(`metric value (${filter.metricValue ?? 'none'})`);
  return out;
}

/**
 * What differs between an alarm read from AWS and trailguard's, in words (empty: nothing). Extra alarm actions are
 * allowed; the topic must be one of them and actions must be enabled.
 */
export function alarmDifferences(spec: CisAlarmSpec, alarm: AlarmState): string[] {
  const out: string[] = [];
  if (alarm.metricName !== spec.metricName) out.push(`metric (${alarm.metricName ?? 'none'})`);
  if (alarm.namespace !== spec.namespace) out.push(`namespace (${alarm.namespace ?? 'none'})`);
  if (alarm.statistic !== spec.statistic) out.push(`statistic (${alarm.statistic ?? 'none'})`);
  if (alarm.period !== spec.periodSeconds) out.push(`period (${alarm.period ?? 'none'})`);
  if (alarm.evaluationPeriods !== spec.evaluationPeriods)
    out.push(`evaluation periods (${alarm.evaluationPeriods ?? 'none'})`);
  if (alarm.threshold !== spec.threshold) out.push(`threshold (${alarm.threshold ?? 'none'})`);
  if (alarm.comparisonOperator !== spec.comparisonOperator)
    out.push(`comparison (${alarm.comparisonOperator ?? 'none'})`);
  // CloudWatch reports `missing` when the alarm was created without a value (PutMetricAlarm's default).
  if ((alarm.treatMissingData ?? 'missing') !== spec.treatMissingData)
    out.push(`missing data treated as ${alarm.treatMissingData ?? 'missing'}`);
  if (alarm.actionsEnabled === false) out.push('actions disabled');
  for (const action of spec.alarmActions) {
    if (!alarm.alarmActions.includes(action)) out.push(`does not notify ${action}`);
  }
  return out;
}

export type CisItemStatus =
  | { status: 'ok' }
  | { status: 'missing' }
  | { status: 'changed'; differences: string[] };

/** One control's metric filter and alarm, compared with what trailguard keeps. */
export interface CisControlDrift {
  control: CisControl;
  filter: CisItemStatus;
  alarm: CisItemStatus;
  filterSpec: CisFilterSpec;
  alarmSpec: CisAlarmSpec;
}

function statusOf(differences: string[] | undefined): CisItemStatus {
  if (differences === undefined) return { status: 'missing' };
  return differences.length === 0 ? { status: 'ok' } : { status: 'changed', differences };
}

/**
 * Every control's metric filter and alarm on the target's log group, compared with trailguard's. Filters are
 * found by trailguard's name (other filters on the group are the team's and ignored), alarms by trailguard's name.
 * `state` undefined: nothing was read, so everything is missing.
 */
export function cisDrift(state: MonitoringState | undefined, target: CisTarget): CisControlDrift[] {
  if (state && state.logGroupName !== target.logGroupName) {
    throw new InvalidInputError(
      `CIS monitoring state read for log group ${state.logGroupName} compared with log group ${target.logGroupName}`,
    );
  }
  return CIS_CONTROLS.map((control) => {
    const filterSpec = cisFilterSpec(control, target.logGroupName);
    const alarmSpec = cisAlarmSpec(control, target);
    // CloudWatch Logs keeps one filter per name and log group; should a reader ever return two, all must match.
    const filters = (state?.metricFilters ?? []).filter((f) => f.filterName === filterSpec.filterName);
    const alarm = state?.alarms.find((a) => a.alarmName === alarmSpec.alarmName);
    return {
      control,
      filter: statusOf(
        filters.length > 0 ? filters.flatMap((f) => filterDifferences(filterSpec, f)) : undefined,
      ),
      alarm: statusOf(alarm ? alarmDifferences(alarmSpec, alarm) : undefined),
      filterSpec,
      alarmSpec,
    };
  });
}

function listing(drifts: CisControlDrift[], item: 'filter' | 'alarm'): string {
  return drifts
    .map((d) => {
      const s = d[item];
      return s.status === 'changed'
        ? `${cisControlLabel(d.control)}: ${s.differences.join(', ')}`
        : cisControlLabel(d.control);
    })
    .join('; ');
}

/**
 * The CIS findings of a log group: at most one per code, each naming the controls concerned and the log group.
 * MISSING: trailguard's filter (alarm) is not there. CHANGED: it is there but differs (see filterDifferences,
 * alarmDifferences).
 */
export function monitoringFindings(state: MonitoringState | undefined, target: CisTarget): Finding[] {
  const drifts = cisDrift(state, target);
  const group = target.logGroupName;
  const having = (item: 'filter' | 'alarm', status: CisItemStatus['status']) =>
    drifts.filter((d) => d[item].status === status);
  const out: Finding[] = [];
  const filtersMissing = having('filter', 'missing');
  if (filtersMissing.length > 0) {
    out.push(
      finding(
        'CIS_METRIC_FILTER_MISSING',
        `log group ${group} lacks the CIS metric filter of ${filtersMissing.length} control(s): ${listing(filtersMissing, 'filter')}`,
      ),
    );
  }
  const filtersChanged = having('filter', 'changed');
  if (filtersChanged.length > 0) {
    out.push(
      finding(
        'CIS_METRIC_FILTER_CHANGED',
        `log group ${group}: the CIS metric filter of ${filtersChanged.length} control(s) differs from the documented one (Security Hub fails any other pattern): ${listing(filtersChanged, 'filter')}`,
      ),
    );
  }
  const alarmsMissing = having('alarm', 'missing');
  if (alarmsMissing.length > 0) {
    out.push(
      finding(
        'CIS_ALARM_MISSING',
        `log group ${group} lacks the CIS alarm of ${alarmsMissing.length} control(s): ${listing(alarmsMissing, 'alarm')}`,
      ),
    );
  }
  const alarmsChanged = having('alarm', 'changed');
  if (alarmsChanged.length > 0) {
    out.push(
      finding(
        'CIS_ALARM_CHANGED',
        `log group ${group}: the CIS alarm of ${alarmsChanged.length} control(s) differs from trailguard's: ${listing(alarmsChanged, 'alarm')}`,
      ),
    );
  }
  return out;
}
