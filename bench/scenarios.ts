/**
 * The benchmark's scenarios: a trail seeded with one specific breakage (test/support/seed.ts), the CloudTrail
 * event that reports it, and what the workflow must conclude. Names and event ids are fixed, so every run
 * makes the same calls in the same account state.
 */
import type { ConfigInput } from '../policies/config.js';
import { parseConfig } from '../policies/config.js';
import type { AwsClients } from '../services/aws/clients.js';
import type { FindingCode } from '../services/domain/findings.js';
import type { ReplayOutcome } from '../services/local/replay.js';
import { type Breaks, type SeedOptions, seedTrail } from '../test/support/seed.js';
import { ACCOUNT, REGION } from './emulator.js';

/**
 * The guardrail's own delivery role name (a managed name: trailguard repairs it in place and may pass it to
 * CloudTrail). The role-level and log-group-ARN single-finding scenarios use it, so each measures the fix of that
 * one finding; with a role trailguard does not manage, a broken role or a changed log group makes trailguard point
 * the trail at this role instead, which `everything-broken` and the ROLE_ARN_* scenarios measure.
 */
export const DELIVERY_ROLE = parseConfig({}).deliveryRoleName;
const managedRole = { roleName: DELIVERY_ROLE };

export type ScenarioId =
  | 'compliant'
  | 'LOG_GROUP_ARN_MISSING+ROLE_ARN_MISSING'
  | 'LOG_GROUP_ARN_MALFORMED'
  | 'LOG_GROUP_ARN_FOREIGN'
  | 'LOG_GROUP_MISSING'
  | 'ROLE_ARN_MALFORMED'
  | 'ROLE_ARN_FOREIGN'
  | 'ROLE_MISSING'
  | 'ROLE_TRUST_INVALID'
  | 'ROLE_PERMISSIONS_INSUFFICIENT'
  | 'LOGGING_STOPPED'
  | 'no-integration+LOGGING_STOPPED'
  | 'everything-broken';

export interface Scenario {
  id: ScenarioId;
  /** What is wrong, in words. */
  title: string;
  breaks: Breaks;
  seed?: Omit<SeedOptions, 'breaks'>;
  /** The findings Check must report (sorted). */
  findings: FindingCode[];
  outcome: ReplayOutcome;
  eventName: 'CreateTrail' | 'UpdateTrail' | 'StopLogging';
}

/** A scenario remediated after an UpdateTrail event (findings sorted). */
const fixed = (
  id: ScenarioId,
  title: string,
  breaks: Breaks,
  findings: FindingCode[],
  more: Partial<Scenario> = {},
): Scenario => ({ id, title, breaks, findings, outcome: 'remediated', eventName: 'UpdateTrail', ...more });

/** Section 1: compliant, each single finding, the no-integration pair, and everything broken. */
export const CALL_SCENARIOS: readonly Scenario[] = [
  {
    id: 'compliant',
    title: 'integrated the documented way and logging',
    breaks: {},
    findings: [],
    outcome: 'compliant',
    eventName: 'UpdateTrail',
  },
  fixed(
    'LOG_GROUP_ARN_MISSING+ROLE_ARN_MISSING',
    'no CloudWatch Logs integration (CloudTrail sets both ARNs together), logging',
    { logGroupArn: 'absent', roleArn: 'absent' },
    ['LOG_GROUP_ARN_MISSING', 'ROLE_ARN_MISSING'],
  ),
  fixed(
    'LOG_GROUP_ARN_MALFORMED',
    "log group ARN is not an ARN (the default group exists; the role is trailguard's, kept)",
    { logGroupArn: 'malformed' },
    ['LOG_GROUP_ARN_MALFORMED'],
    { seed: managedRole },
  ),
  fixed(
    'LOG_GROUP_ARN_FOREIGN',
    "log group ARN in another account (the default group exists; the role is trailguard's, kept)",
    { logGroupArn: 'foreign' },
    ['LOG_GROUP_ARN_FOREIGN'],
    { seed: managedRole },
  ),
  fixed('LOG_GROUP_MISSING', 'the named log group does not exist', { logGroupMissing: true }, [
    'LOG_GROUP_MISSING',
  ]),
  fixed('ROLE_ARN_MALFORMED', 'role ARN names an IAM user', { roleArn: 'malformed' }, ['ROLE_ARN_MALFORMED']),
  fixed('ROLE_ARN_FOREIGN', 'role ARN in another account', { roleArn: 'foreign' }, ['ROLE_ARN_FOREIGN']),
  fixed(
    'ROLE_MISSING',
    "the trail's role (trailguard's delivery role) does not exist",
    { roleMissing: true },
    ['ROLE_MISSING'],
    { seed: managedRole },
  ),
  fixed(
    'ROLE_TRUST_INVALID',
    "trailguard's delivery role trusts ec2.amazonaws.com instead of CloudTrail",
    { trust: 'wrong-service' },
    ['ROLE_TRUST_INVALID'],
    { seed: managedRole },
  ),
  fixed(
    'ROLE_PERMISSIONS_INSUFFICIENT',
    "trailguard's delivery role may PutLogEvents but not CreateLogStream",
    { permissions: 'put-only' },
    ['ROLE_PERMISSIONS_INSUFFICIENT'],
    { seed: managedRole },
  ),
  fixed('LOGGING_STOPPED', 'integrated, but logging stopped', { loggingStopped: true }, ['LOGGING_STOPPED'], {
    eventName: 'StopLogging',
  }),
  fixed(
    'no-integration+LOGGING_STOPPED',
    'no integration and logging stopped (seedBrokenTrail default)',
    { logGroupArn: 'absent', roleArn: 'absent', loggingStopped: true },
    ['LOGGING_STOPPED', 'LOG_GROUP_ARN_MISSING', 'ROLE_ARN_MISSING'],
  ),
  fixed(
    'everything-broken',
    'log group ARN without ":*" and the group missing, own role trusting ec2 with no permissions, logging stopped',
    {
      logGroupArn: 'no-suffix',
      logGroupMissing: true,
      trust: 'wrong-service',
      permissions: 'none',
      loggingStopped: true,
    },
    [
      'LOGGING_STOPPED',
      'LOG_GROUP_ARN_MALFORMED',
      'LOG_GROUP_MISSING',
      'ROLE_PERMISSIONS_INSUFFICIENT',
      'ROLE_TRUST_INVALID',
    ],
  ),
];

export interface OutcomeScenario extends Scenario {
  config?: ConfigInput;
}

/** Section 2: one scenario per workflow outcome. */
export const OUTCOME_SCENARIOS: readonly OutcomeScenario[] = [
  { ...(CALL_SCENARIOS[0] as Scenario) },
  { ...(CALL_SCENARIOS.find((s) => s.id === 'everything-broken') as Scenario) },
  {
    id: 'no-integration+LOGGING_STOPPED',
    title: 'broken, but tagged trailguard:exempt=true',
    breaks: { logGroupArn: 'absent', roleArn: 'absent', loggingStopped: true },
    seed: { tags: { 'trailguard:exempt': 'true' } },
    findings: ['LOGGING_STOPPED', 'LOG_GROUP_ARN_MISSING', 'ROLE_ARN_MISSING'],
    outcome: 'skipped',
    eventName: 'StopLogging',
  },
  {
    id: 'no-integration+LOGGING_STOPPED',
    title: 'broken, guardrail in notify-only mode',
    breaks: { logGroupArn: 'absent', roleArn: 'absent', loggingStopped: true },
    config: { mode: 'notify-only' },
    findings: ['LOGGING_STOPPED', 'LOG_GROUP_ARN_MISSING', 'ROLE_ARN_MISSING'],
    outcome: 'notified',
    eventName: 'StopLogging',
  },
  {
    id: 'ROLE_PERMISSIONS_INSUFFICIENT',
    title: "trailguard's delivery role has an explicit Deny of PutLogEvents (RestoreRole will not remove it)",
    breaks: { permissions: 'denied' },
    seed: managedRole,
    findings: ['ROLE_PERMISSIONS_INSUFFICIENT'],
    outcome: 'failed',
    eventName: 'UpdateTrail',
  },
];

/** A trail name for a scenario: fixed, valid for CloudTrail (3-128 of letters, digits, . _ -). */
export function trailName(prefix: string, n = 0): string {
  return `${prefix}-${String(n).padStart(3, '0')}`.toLowerCase().replace(/[^a-z0-9._-]/g, '-');
}

export function seedScenario(clients: AwsClients, scenario: Scenario, name: string) {
  return seedTrail(clients, name, { ...scenario.seed, breaks: scenario.breaks });
}

/** The CloudTrail event (EventBridge shape) an administrator's change produces; deterministic ids. */
export function cloudTrailEvent(eventName: Scenario['eventName'], trail: string, n: number) {
  const id = (k: number) => `00000000-0000-4000-8000-${String(k * 1000 + n).padStart(12, '0')}`;
  return {
    version: '0',
    id: id(1),
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'aws.cloudtrail',
    account: ACCOUNT,
    time: '2026-01-15T10:00:00Z',
    region: REGION,
    resources: [],
    detail: {
      eventVersion: '1.09',
      userIdentity: {
        type: 'AssumedRole',
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/bench`,
        accountId: ACCOUNT,
        sessionContext: {
          sessionIssuer: { type: 'Role', arn: `arn:aws:iam::${ACCOUNT}:role/Admin`, accountId: ACCOUNT },
        },
      },
      eventTime: '2026-01-15T10:00:00Z',
      eventSource: 'cloudtrail.amazonaws.com',
      eventName,
      awsRegion: REGION,
      sourceIPAddress: '203.0.113.10',
      userAgent: 'aws-cli/2.22.4',
      requestParameters: { name: trail },
      eventID: id(2),
      readOnly: false,
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: ACCOUNT,
    },
  };
}
