/**
 * CIS monitoring, pure part: the controls and their exact patterns, the names, and the findings.
 *
 * The expected patterns below are an independent copy of the AWS Security Hub User Guide, "Amazon CloudWatch
 * controls" (awsdocs/aws-security-hub-user-guide, doc_source/cloudwatch-controls.md, commit bda5bf7; the code block
 * under "Copy the following pattern" of each control), and, for CIS 4.15, of the CIS benchmark's remediation as
 * reproduced in https://docs.fugue.co/FG_R00356.html. They are typed here, not imported, so a change to the module
 * that breaks a pattern fails this test.
 */
import { describe, expect, it } from 'vitest';
import {
  CIS_ALARM,
  CIS_CONTROLS,
  CIS_NAME_PREFIX,
  type CisControl,
  type CisTarget,
  cisAlarmName,
  cisAlarmNames,
  cisAlarmSpec,
  cisControlLabel,
  cisFilterName,
  cisFilterSpec,
  cisMetric,
  monitoringFindings,
} from '../../../services/domain/cis-monitoring.js';
import { InvalidInputError } from '../../../services/domain/errors.js';
import type { AlarmState, MetricFilterState, MonitoringState } from '../../../services/domain/trail-state.js';

/** Security Hub control -> the pattern its documentation prescribes, character for character. */
const SECURITY_HUB_PATTERNS: Record<string, string> = {
  'CloudWatch.1':
    '{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}',
  'CloudWatch.2': '{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}',
  'CloudWatch.3':
    '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
  'CloudWatch.4':
    '{($.eventName=DeleteGroupPolicy) || ($.eventName=DeleteRolePolicy) || ($.eventName=DeleteUserPolicy) || ($.eventName=PutGroupPolicy) || ($.eventName=PutRolePolicy) || ($.eventName=PutUserPolicy) || ($.eventName=CreatePolicy) || ($.eventName=DeletePolicy) || ($.eventName=CreatePolicyVersion) || ($.eventName=DeletePolicyVersion) || ($.eventName=AttachRolePolicy) || ($.eventName=DetachRolePolicy) || ($.eventName=AttachUserPolicy) || ($.eventName=DetachUserPolicy) || ($.eventName=AttachGroupPolicy) || ($.eventName=DetachGroupPolicy)}',
  'CloudWatch.5':
    '{($.eventName=CreateTrail) || ($.eventName=UpdateTrail) || ($.eventName=DeleteTrail) || ($.eventName=StartLogging) || ($.eventName=StopLogging)}',
  'CloudWatch.6': '{($.eventName=ConsoleLogin) && ($.errorMessage="Failed authentication")}',
  'CloudWatch.7':
    '{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey) || ($.eventName=ScheduleKeyDeletion))}',
  'CloudWatch.8':
    '{($.eventSource=s3.amazonaws.com) && (($.eventName=PutBucketAcl) || ($.eventName=PutBucketPolicy) || ($.eventName=PutBucketCors) || ($.eventName=PutBucketLifecycle) || ($.eventName=PutBucketReplication) || ($.eventName=DeleteBucketPolicy) || ($.eventName=DeleteBucketCors) || ($.eventName=DeleteBucketLifecycle) || ($.eventName=DeleteBucketReplication))}',
  'CloudWatch.9':
    '{($.eventSource=config.amazonaws.com) && (($.eventName=StopConfigurationRecorder) || ($.eventName=DeleteDeliveryChannel) || ($.eventName=PutDeliveryChannel) || ($.eventName=PutConfigurationRecorder))}',
  'CloudWatch.10':
    '{($.eventName=AuthorizeSecurityGroupIngress) || ($.eventName=AuthorizeSecurityGroupEgress) || ($.eventName=RevokeSecurityGroupIngress) || ($.eventName=RevokeSecurityGroupEgress) || ($.eventName=CreateSecurityGroup) || ($.eventName=DeleteSecurityGroup)}',
  'CloudWatch.11':
    '{($.eventName=CreateNetworkAcl) || ($.eventName=CreateNetworkAclEntry) || ($.eventName=DeleteNetworkAcl) || ($.eventName=DeleteNetworkAclEntry) || ($.eventName=ReplaceNetworkAclEntry) || ($.eventName=ReplaceNetworkAclAssociation)}',
  'CloudWatch.12':
    '{($.eventName=CreateCustomerGateway) || ($.eventName=DeleteCustomerGateway) || ($.eventName=AttachInternetGateway) || ($.eventName=CreateInternetGateway) || ($.eventName=DeleteInternetGateway) || ($.eventName=DetachInternetGateway)}',
  'CloudWatch.13':
    '{($.eventName=CreateRoute) || ($.eventName=CreateRouteTable) || ($.eventName=ReplaceRoute) || ($.eventName=ReplaceRouteTableAssociation) || ($.eventName=DeleteRouteTable) || ($.eventName=DeleteRoute) || ($.eventName=DisassociateRouteTable)}',
  'CloudWatch.14':
    '{($.eventName=CreateVpc) || ($.eventName=DeleteVpc) || ($.eventName=ModifyVpcAttribute) || ($.eventName=AcceptVpcPeeringConnection) || ($.eventName=CreateVpcPeeringConnection) || ($.eventName=DeleteVpcPeeringConnection) || ($.eventName=RejectVpcPeeringConnection) || ($.eventName=AttachClassicLinkVpc) || ($.eventName=DetachClassicLinkVpc) || ($.eventName=DisableVpcClassicLink) || ($.eventName=EnableVpcClassicLink)}',
};

/** CIS v1.4.0/v1.5.0 4.15 (no Security Hub control). */
const ORGANIZATIONS_PATTERN =
  '{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || ($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || ($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || ($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || ($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || ($.eventName = "UpdateOrganizationalUnit")) }';

/**
 * CIS v1.4.0 -> CIS v1.2.0 and Security Hub control, from each control's "Related requirements" and the guide's "CIS
 * AWS Foundations Benchmark" mapping table (CloudWatch.1 = 3.3 / 4.3, CloudWatch.2 = 3.1, CloudWatch.3 = 3.2).
 */
const MAPPING: [cis: string, cisV12: string | undefined, securityHub: string | undefined, metric: string][] =
  [
    ['4.1', '3.1', 'CloudWatch.2', 'UnauthorizedAPICalls'],
    ['4.2', '3.2', 'CloudWatch.3', 'ConsoleSigninWithoutMFA'],
    ['4.3', '3.3', 'CloudWatch.1', 'RootAccountUsage'],
    ['4.4', '3.4', 'CloudWatch.4', 'IAMPolicyChanges'],
    ['4.5', '3.5', 'CloudWatch.5', 'CloudTrailChanges'],
    ['4.6', '3.6', 'CloudWatch.6', 'ConsoleAuthenticationFailure'],
    ['4.7', '3.7', 'CloudWatch.7', 'DisableOrDeleteCMK'],
    ['4.8', '3.8', 'CloudWatch.8', 'S3BucketPolicyChanges'],
    ['4.9', '3.9', 'CloudWatch.9', 'AWSConfigChanges'],
    ['4.10', '3.10', 'CloudWatch.10', 'SecurityGroupChanges'],
    ['4.11', '3.11', 'CloudWatch.11', 'NetworkACLChanges'],
    ['4.12', '3.12', 'CloudWatch.12', 'NetworkGatewayChanges'],
    ['4.13', '3.13', 'CloudWatch.13', 'RouteTableChanges'],
    ['4.14', '3.14', 'CloudWatch.14', 'VPCChanges'],
    ['4.15', undefined, undefined, 'OrganizationsChanges'],
  ];

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:cis-alarms';
const GROUP = 'CloudTrail/management-events';
const TARGET: CisTarget = { logGroupName: GROUP, alarmTopicArn: TOPIC };

function control(cis: string): CisControl {
  const found = CIS_CONTROLS.find((c) => c.cis === cis);
  if (!found) throw new Error(`no control ${cis}`);
  return found;
}

/** The filter of a control as DescribeMetricFilters would return trailguard's. */
function goodFilter(c: CisControl, group = GROUP): MetricFilterState {
  const spec = cisFilterSpec(c, group);
  return {
    filterName: spec.filterName,
    filterPattern: spec.filterPattern,
    metricName: spec.metricName,
    metricNamespace: spec.metricNamespace,
    metricValue: spec.metricValue,
  };
}

/** The alarm of a control as DescribeAlarms would return trailguard's. */
function goodAlarm(c: CisControl, target = TARGET): AlarmState {
  const spec = cisAlarmSpec(c, target);
  return {
    alarmName: spec.alarmName,
    metricName: spec.metricName,
    namespace: spec.namespace,
    statistic: spec.statistic,
    period: spec.periodSeconds,
    evaluationPeriods: spec.evaluationPeriods,
    threshold: spec.threshold,
    comparisonOperator: spec.comparisonOperator,
    treatMissingData: spec.treatMissingData,
    alarmActions: [...spec.alarmActions],
    actionsEnabled: true,
  };
}

function complete(): MonitoringState {
  return {
    logGroupName: GROUP,
    metricFilters: CIS_CONTROLS.map((c) => goodFilter(c)),
    alarms: CIS_CONTROLS.map((c) => goodAlarm(c)),
  };
}

/** `complete()` with one control's filter or alarm replaced (or removed with `undefined`). */
function withFilter(cis: string, change: (f: MetricFilterState) => MetricFilterState | undefined) {
  const state = complete();
  state.metricFilters = state.metricFilters.flatMap((f) =>
    f.filterName === cisFilterName(control(cis)) ? (change(f) ?? []) : [f],
  );
  return state;
}

function withAlarm(cis: string, change: (a: AlarmState) => AlarmState | undefined) {
  const state = complete();
  state.alarms = state.alarms.flatMap((a) =>
    a.alarmName === cisAlarmName(control(cis), GROUP) ? (change(a) ?? []) : [a],
  );
  return state;
}

const codes = (state: MonitoringState | undefined, target = TARGET) =>
  monitoringFindings(state, target).map((f) => f.code);

describe('CIS_CONTROLS', () => {
  it('has the 15 controls CIS 4.1-4.15 in order, 14 of them checked by 14 distinct Security Hub controls', () => {
    expect(CIS_CONTROLS).toHaveLength(15);
    expect(CIS_CONTROLS.map((c) => c.cis)).toEqual(Array.from({ length: 15 }, (_, i) => `4.${i + 1}`));
    const hub = CIS_CONTROLS.flatMap((c) => (c.securityHub ? [c.securityHub] : []));
    expect(hub).toHaveLength(14);
    expect(new Set(hub)).toEqual(new Set(Array.from({ length: 14 }, (_, i) => `CloudWatch.${i + 1}`)));
  });

  it('maps CIS v1.4.0 to v1.2.0 and Security Hub as the user guide does (4.1 is CloudWatch.2, 4.3 is CloudWatch.1)', () => {
    expect(CIS_CONTROLS.map((c) => [c.cis, c.cisV12, c.securityHub, c.metricName])).toEqual(MAPPING);
  });

  it.each(CIS_CONTROLS.filter((c) => c.securityHub))(
    'CIS $cis uses exactly the pattern Security Hub documents for $securityHub',
    (c) => {
      expect(c.filterPattern).toBe(SECURITY_HUB_PATTERNS[c.securityHub ?? '']);
    },
  );

  it('CIS 4.15 (Security Hub does not check it) uses the CIS benchmark pattern', () => {
    const c = control('4.15');
    expect(c.securityHub).toBeUndefined();
    expect(c.filterPattern).toBe(ORGANIZATIONS_PATTERN);
  });

  it('fits every pattern in PutMetricFilter (at most 1,024 characters) with no stray whitespace', () => {
    for (const c of CIS_CONTROLS) {
      expect(c.filterPattern.length).toBeLessThanOrEqual(1024);
      expect(c.filterPattern).toBe(c.filterPattern.trim());
      expect(c.filterPattern).toMatch(/^\{.*\}$/);
    }
  });

  it('has distinct metric names and titles', () => {
    expect(new Set(CIS_CONTROLS.map((c) => c.metricName)).size).toBe(15);
    expect(new Set(CIS_CONTROLS.map((c) => c.title)).size).toBe(15);
  });
});

describe('CIS_ALARM', () => {
  it('is one event or more in one 5-minute period, summed, missing data not breaching', () => {
    expect(CIS_ALARM).toEqual({
      threshold: 1,
      periodSeconds: 300,
      evaluationPeriods: 1,
      statistic: 'Sum',
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      treatMissingData: 'notBreaching',
    });
  });
});

describe('names', () => {
  /** A 512-character log group name (the longest CloudWatch Logs allows) ending in `tail` (2 characters). */
  const longGroup = (tail: string) => `${'a/'.repeat(255)}${tail}`;

  it('names the filter after the control, with the prefix, valid for PutMetricFilter', () => {
    expect(cisFilterName(control('4.3'))).toBe('trailguard-cis-4.3-RootAccountUsage');
    const names = CIS_CONTROLS.map(cisFilterName);
    expect(new Set(names).size).toBe(15);
    for (const name of names) {
      expect(name.startsWith(CIS_NAME_PREFIX)).toBe(true);
      expect(name.length).toBeGreaterThanOrEqual(1);
      expect(name.length).toBeLessThanOrEqual(512);
      expect(name).not.toMatch(/[:*]/);
    }
  });

  it('puts each log group in its own namespace', () => {
    expect(cisMetric(control('4.3'), GROUP)).toEqual({
      namespace: 'CISBenchmark/CloudTrail/management-events',
      name: 'RootAccountUsage',
    });
    expect(cisMetric(control('4.3'), 'other-group').namespace).toBe('CISBenchmark/other-group');
  });

  it('names the alarm after the control and the log group', () => {
    expect(cisAlarmName(control('4.3'), GROUP)).toBe(
      'trailguard-cis-4.3-RootAccountUsage-CloudTrail/management-events',
    );
    const names = cisAlarmNames(GROUP);
    expect(names).toHaveLength(15);
    expect(new Set(names).size).toBe(15);
    expect(names).toEqual(CIS_CONTROLS.map((c) => cisAlarmName(c, GROUP)));
    expect(names.every((n) => n.startsWith(CIS_NAME_PREFIX))).toBe(true);
    expect(cisAlarmNames('other')).not.toEqual(expect.arrayContaining([names[0]]));
  });

  it('keeps names of the longest log groups (512 characters) within limits, hashed, deterministic and distinct', () => {
    const a = longGroup('-a');
    const b = longGroup('-b');
    expect(a).toHaveLength(512);
    expect(a).not.toBe(b);
    expect(a.slice(0, 300)).toBe(b.slice(0, 300));
    for (const c of CIS_CONTROLS) {
      const [na, nb] = [cisMetric(c, a).namespace, cisMetric(c, b).namespace];
      expect(na.length).toBeLessThanOrEqual(255);
      expect(na).toMatch(/^CISBenchmark\/[\w\-./#]+-[0-9a-f]{12}$/);
      expect(na).toBe(cisMetric(c, a).namespace);
      expect(na).not.toBe(nb);
      const [aa, ab] = [cisAlarmName(c, a), cisAlarmName(c, b)];
      expect(aa.length).toBeLessThanOrEqual(255);
      expect(aa.startsWith(`${cisFilterName(c)}-`)).toBe(true);
      expect(aa).toMatch(/-[0-9a-f]{12}$/);
      expect(aa).toBe(cisAlarmName(c, a));
      expect(aa).not.toBe(ab);
    }
    expect(new Set(cisAlarmNames(a)).size).toBe(15);
  });

  it('does not hash names that fit', () => {
    const group = 'g'.repeat(255 - 'CISBenchmark/'.length);
    expect(cisMetric(control('4.1'), group).namespace).toBe(`CISBenchmark/${group}`);
    expect(cisMetric(control('4.1'), `${group}x`).namespace).toHaveLength(255);
  });

  it('labels a control with its Security Hub control when there is one', () => {
    expect(cisControlLabel(control('4.3'))).toBe('4.3 (CloudWatch.1)');
    expect(cisControlLabel(control('4.15'))).toBe('4.15');
  });
});

describe('cisAlarmSpec', () => {
  it("notifies the topic, with actions enabled, on the filter's metric", () => {
    const spec = cisAlarmSpec(control('4.3'), TARGET);
    const filter = cisFilterSpec(control('4.3'), GROUP);
    expect(spec).toMatchObject({
      alarmName: 'trailguard-cis-4.3-RootAccountUsage-CloudTrail/management-events',
      metricName: filter.metricName,
      namespace: filter.metricNamespace,
      statistic: 'Sum',
      periodSeconds: 300,
      evaluationPeriods: 1,
      threshold: 1,
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      treatMissingData: 'notBreaching',
      alarmActions: [TOPIC],
      actionsEnabled: true,
    });
    expect(filter.metricValue).toBe('1');
    expect(spec.alarmDescription.length).toBeLessThanOrEqual(1024);
    expect(
      cisAlarmSpec(control('4.1'), { ...TARGET, logGroupName: 'x'.repeat(512) }).alarmDescription.length,
    ).toBeLessThanOrEqual(1024);
  });
});

describe('monitoringFindings', () => {
  it("finds nothing when every filter and alarm is trailguard's", () => {
    expect(monitoringFindings(complete(), TARGET)).toEqual([]);
  });

  it('reports every filter and alarm missing when nothing was read, once per code', () => {
    const findings = monitoringFindings(undefined, TARGET);
    expect(findings.map((f) => f.code)).toEqual(['CIS_METRIC_FILTER_MISSING', 'CIS_ALARM_MISSING']);
    for (const f of findings) {
      expect(f.remediable).toBe(true);
      expect(f.message).toContain(GROUP);
      expect(f.message).toContain('15 control(s)');
      expect(f.message).toContain('4.3 (CloudWatch.1)');
      expect(f.message).toContain('4.1 (CloudWatch.2)');
      expect(f.message).toContain('4.15');
    }
  });

  it('treats an empty state like a missing one', () => {
    expect(codes({ logGroupName: GROUP, metricFilters: [], alarms: [] })).toEqual([
      'CIS_METRIC_FILTER_MISSING',
      'CIS_ALARM_MISSING',
    ]);
  });

  it('reports a missing filter, naming only its control', () => {
    const [f, ...rest] = monitoringFindings(
      withFilter('4.3', () => undefined),
      TARGET,
    );
    expect(rest).toEqual([]);
    expect(f?.code).toBe('CIS_METRIC_FILTER_MISSING');
    expect(f?.message).toContain('4.3 (CloudWatch.1)');
    expect(f?.message).not.toContain('4.4');
  });

  it.each<[string, (f: MetricFilterState) => MetricFilterState]>([
    ['an extra space in the pattern', (f) => ({ ...f, filterPattern: f.filterPattern.replace('{', '{ ') })],
    ['an added term', (f) => ({ ...f, filterPattern: f.filterPattern.replace(/\}$/, ' && $.x = 1}') })],
    ['another metric name', (f) => ({ ...f, metricName: 'Root' })],
    ['another namespace', (f) => ({ ...f, metricNamespace: 'LogMetrics' })],
    ['another metric value', (f) => ({ ...f, metricValue: '2' })],
    ['no metric transformation', (f) => ({ filterName: f.filterName, filterPattern: f.filterPattern })],
  ])('reports a filter changed by %s', (_, change) => {
    const findings = monitoringFindings(withFilter('4.3', change), TARGET);
    expect(findings.map((f) => f.code)).toEqual(['CIS_METRIC_FILTER_CHANGED']);
    expect(findings[0]?.message).toContain('4.3 (CloudWatch.1)');
    expect(findings[0]?.message).toContain(GROUP);
  });

  it("ignores the team's own filters on the group, even with a CIS pattern", () => {
    const state = complete();
    state.metricFilters.push(
      {
        filterName: 'team-root',
        filterPattern: control('4.3').filterPattern,
        metricName: 'R',
        metricNamespace: 'N',
        metricValue: '5',
      },
      { filterName: 'errors', filterPattern: '?ERROR' },
    );
    expect(monitoringFindings(state, TARGET)).toEqual([]);
  });

  it("does not count a team filter with a CIS pattern as trailguard's", () => {
    const state = withFilter('4.3', (f) => ({ ...f, filterName: 'team-root' }));
    expect(codes(state)).toEqual(['CIS_METRIC_FILTER_MISSING']);
  });

  it('reports a missing alarm', () => {
    const findings = monitoringFindings(
      withAlarm('4.15', () => undefined),
      TARGET,
    );
    expect(findings.map((f) => f.code)).toEqual(['CIS_ALARM_MISSING']);
    expect(findings[0]?.message).toContain('4.15');
    expect(findings[0]?.message).toContain(GROUP);
  });

  it.each<[string, (a: AlarmState) => AlarmState]>([
    ['another metric', (a) => ({ ...a, metricName: 'Other' })],
    ['another namespace', (a) => ({ ...a, namespace: 'LogMetrics' })],
    ['another statistic', (a) => ({ ...a, statistic: 'Average' })],
    ['another period', (a) => ({ ...a, period: 60 })],
    ['more evaluation periods', (a) => ({ ...a, evaluationPeriods: 2 })],
    ['another threshold', (a) => ({ ...a, threshold: 5 })],
    ['another comparison', (a) => ({ ...a, comparisonOperator: 'GreaterThanThreshold' })],
    ['missing data breaching', (a) => ({ ...a, treatMissingData: 'breaching' })],
    ['missing data left at the default', ({ treatMissingData: _, ...a }) => a],
    ['disabled actions', (a) => ({ ...a, actionsEnabled: false })],
    ['no action', (a) => ({ ...a, alarmActions: [] })],
    ['another topic', (a) => ({ ...a, alarmActions: [`${TOPIC}-old`] })],
  ])('reports an alarm changed by %s', (_, change) => {
    const findings = monitoringFindings(withAlarm('4.1', change), TARGET);
    expect(findings.map((f) => f.code)).toEqual(['CIS_ALARM_CHANGED']);
    expect(findings[0]?.message).toContain('4.1 (CloudWatch.2)');
  });

  it('accepts extra actions next to the topic, and actions enabled by default', () => {
    expect(
      codes(
        withAlarm('4.1', (a) => ({ ...a, alarmActions: ['arn:aws:sns:eu-west-1:123456789012:team', TOPIC] })),
      ),
    ).toEqual([]);
    expect(codes(withAlarm('4.1', ({ actionsEnabled: _, ...a }) => a))).toEqual([]);
  });

  it('reports alarms changed when the configured topic changes', () => {
    const findings = monitoringFindings(complete(), { ...TARGET, alarmTopicArn: `${TOPIC}-new` });
    expect(findings.map((f) => f.code)).toEqual(['CIS_ALARM_CHANGED']);
    expect(findings[0]?.message).toContain('15 control(s)');
  });

  it('gives one finding per code, listing every control concerned', () => {
    const state = complete();
    state.metricFilters = state.metricFilters.filter(
      (f) => ![cisFilterName(control('4.1')), cisFilterName(control('4.2'))].includes(f.filterName),
    );
    state.metricFilters = state.metricFilters.map((f) =>
      f.filterName === cisFilterName(control('4.4')) || f.filterName === cisFilterName(control('4.5'))
        ? { ...f, filterPattern: `${f.filterPattern} ` }
        : f,
    );
    state.alarms = state.alarms.filter((a) => a.alarmName !== cisAlarmName(control('4.14'), GROUP));
    state.alarms = state.alarms.map((a) =>
      a.alarmName === cisAlarmName(control('4.6'), GROUP) ? { ...a, threshold: 3 } : a,
    );
    const findings = monitoringFindings(state, TARGET);
    expect(findings.map((f) => f.code)).toEqual([
      'CIS_METRIC_FILTER_MISSING',
      'CIS_METRIC_FILTER_CHANGED',
      'CIS_ALARM_MISSING',
      'CIS_ALARM_CHANGED',
    ]);
    const [missing, changed, alarmMissing, alarmChanged] = findings.map((f) => f.message);
    expect(missing).toContain('4.1 (CloudWatch.2); 4.2 (CloudWatch.3)');
    expect(changed).toContain('4.4 (CloudWatch.4): filter pattern; 4.5 (CloudWatch.5): filter pattern');
    expect(alarmMissing).toContain('4.14 (CloudWatch.14)');
    expect(alarmChanged).toContain('4.6 (CloudWatch.6): threshold (3)');
  });

  it("looks only at the alarms of the target's log group", () => {
    const other: CisTarget = { logGroupName: 'other', alarmTopicArn: TOPIC };
    const state: MonitoringState = {
      logGroupName: 'other',
      metricFilters: CIS_CONTROLS.map((c) => goodFilter(c, 'other')),
      alarms: CIS_CONTROLS.map((c) => goodAlarm(c)),
    };
    expect(codes(state, other)).toEqual(['CIS_ALARM_MISSING']);
  });

  it('refuses a state read for another log group', () => {
    expect(() => monitoringFindings({ ...complete(), logGroupName: 'other' }, TARGET)).toThrow(
      InvalidInputError,
    );
  });
});
