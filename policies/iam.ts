/**
 * The IAM permissions of each trailguard function, as plain IAM policy statements: the one place an IAM
 * review reads and edits. The CDK stack attaches exactly these (infra/constructs/functions.ts); the values in
 * the context may be CloudFormation tokens. Each function also gets, from CDK, write access to its own log
 * group and the X-Ray actions of active tracing; the sweep function send access to its failure queue.
 *
 * Scoped as tightly as the APIs allow:
 * - trails: this account's trails only (`arn:PARTITION:cloudtrail:*:ACCOUNT:trail/*`); an organization trail
 *   is owned by the management account, so only a stack in that account can repair it (elsewhere it is
 *   reported as not ours and never read or changed);
 * - log groups: creation and tags (only `trailguard:managed=true`, the tag log-group-writer.ts sets at
 *   creation) and retention only on the names the configuration's template can produce
 *   (`managedLogGroupPattern`, e.g. `CloudTrail/*`); reading any log group of the account;
 * - roles: create (only tagged `trailguard:managed=true`, the tag role-writer.ts sets at creation), trust and
 *   inline-policy repair, and iam:PassRole (only to cloudtrail.amazonaws.com) on the managed delivery role
 *   names only (`managedRoleNames`); reading any role and policy of the account (and AWS managed policies);
 * - notifications, audit records, workflow: the one topic, table and state machine, and their KMS key only
 *   through that service; Notify's idempotency records: that table only;
 * - Security Hub (config.securityHub): GetFindings and BatchUpdateFindings on this account's hub only; Deny
 *   statements keep every finding field but the workflow status (NEW, NOTIFIED, RESOLVED only) and the note out;
 * - the only delete: an earlier version's per-log-group inline grant on a managed delivery role, once the
 *   shared grant that covers it is in place (iam:DeleteRolePolicy on the managed role names only);
 * - the organization's id (organizations:DescribeOrganization, read only) for organization trails' streams;
 * - CIS monitoring (config.cisMonitoring): metric filters on this account's log groups, and alarms only under
 *   trailguard's own names (`trailguard-cis-*`) whose actions are only the configured alarm topic
 *   (cloudwatch:AlarmActions);
 * - a log group restored whole: what the sweep's snapshot recorded (retention, KMS key, tags, data protection
 *   policy, metric and subscription filters) put back only on log groups trailguard may create, and a
 *   subscription filter's role passed only to CloudWatch Logs; the snapshots and delivery-error sightings in
 *   the state table only.
 *
 * At the scale of an Organization (config.accounts set), the hub's functions that act in guarded accounts also
 * get sts:AssumeRole on their own member role only (`AssumeRemediationRole`: MEMBER_ROLE_OF, named from
 * config.remediationRoleName, in the organization's accounts (aws:ResourceOrgID) or the listed accounts); the
 * sweep lists the organization's accounts and, without configured regions, the enabled regions. Each member role
 * (created in each guarded account by the spoke stack) gets `remediationRolePolicy(c, role)`: exactly the
 * statements of the functions that assume it that act in the member account, resolved for that account, and
 * none about the hub's own topic, tables or state machine. Check, Verify, CheckDelivery and the sweep reach a
 * member only through the read-only role; each restore step and UpdateFindings through a role of its own.
 * No statement grants an Organizations write action anywhere; an organization trail is repaired only through the
 * management account's roles (trails(c) is the member's own account: CloudTrail User Guide, "Creating a trail
 * for an organization": member accounts cannot change it).
 */
import { type Config, logGroupKeyArns, managedLogGroupPattern, managedRoleNames } from './config.js';

/** Everything the statements are built from; any value may be a CloudFormation token. */
export interface PolicyContext {
  partition: string;
  account: string;
  /** The stack's region (KMS `kms:ViaService`). */
  region: string;
  /** `amazonaws.com` (or the partition's URL suffix). */
  urlSuffix?: string;
  config: Pick<Config, 'logGroupNameTemplate' | 'deliveryRoleName' | 'managedRoleNames' | 'kmsKeyArn'> & {
    /** config.kmsKeys: a log group key per region (and per account); absent: none. */
    kmsKeys?: Config['kmsKeys'];
    /** config.securityHub; absent counts as on (the default). */
    securityHub?: boolean;
    /** config.cisMonitoring; absent counts as off (the default). */
    cisMonitoring?: boolean;
    /** config.protectExistingLogGroups; absent counts as off (the default). */
    protectExistingLogGroups?: boolean;
  };
  /** Where the CIS alarms notify (config.cisAlarmTopicArn, else the notification topic). */
  cisAlarmTopicArn?: string;
  /** The state table: log group snapshots and delivery-error sightings (encrypted with the audit table's key). */
  stateTableArn?: string;
  topicArn: string;
  /** The key that encrypts the topic, if it is customer managed. */
  topicKeyArn?: string;
  tableArn: string;
  /** The key that encrypts the table, if it is customer managed. */
  tableKeyArn?: string;
  /** Notify's idempotency table (one email per run and outcome); encrypted with the same key as the audit table. */
  idempotencyTableArn?: string;
  /** The remediation state machine (the sweep's StartWorkflow only; unknown to the steps it runs). */
  stateMachineArn?: string;
  /**
   * A hub (config.accounts set): the functions that act in guarded accounts assume each account's remediation
   * role there. Absent: a single-account deployment, which assumes no role.
   */
  hub?: HubPolicyContext;
  /**
   * The sweep lists regions enabled in an account (ec2:DescribeRegions): with config.accounts or config.regions
   * its targets are account x region pairs, and each target's region is checked against the regions enabled in
   * its own account (and, without config.regions, the hub's enabled regions are the list).
   */
  listsEnabledRegions?: boolean;
}

/** What a hub's statements are built from (values may be CloudFormation tokens). */
export interface HubPolicyContext {
  /** config.remediationRoleName (functionPolicy turns it into each function's member role name). */
  remediationRoleName: string;
  /** config.accounts: `"organization"` or the guarded account ids. */
  accounts: 'organization' | readonly string[];
  /** The organization's id (o-...); required with `"organization"` (aws:ResourceOrgID). */
  organizationId?: string;
}

export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** The functions: the workflow's steps and the sweep (schedule and dependency fan-out). */
export const FUNCTION_NAMES = [
  'Check',
  'RestoreLogGroup',
  'RestoreRole',
  'RestoreTrail',
  'Verify',
  'Notify',
  'UpdateFindings',
  'Audit',
  'CheckDelivery',
  'Sweep',
] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

/** The tag role-writer.ts and log-group-writer.ts put on what they create (services/aws/managed-tags.ts). */
export const MANAGED_TAG = { key: 'trailguard:managed', value: 'true' } as const;

const trails = (c: PolicyContext) => `arn:${c.partition}:cloudtrail:*:${c.account}:trail/*`;
const anyLogGroup = (c: PolicyContext) => `arn:${c.partition}:logs:*:${c.account}:log-group:*`;
const anyRole = (c: PolicyContext) => `arn:${c.partition}:iam::${c.account}:role/*`;
/** The CIS alarms trailguard names (services/domain/cis-monitoring.ts CIS_NAME_PREFIX), in any region. */
const cisAlarms = (c: PolicyContext) => `arn:${c.partition}:cloudwatch:*:${c.account}:alarm:trailguard-cis-*`;

/** The log groups trailguard may create: the template's names, as tagged/retention ARNs and with `:*`. */
export function managedLogGroupArns(c: PolicyContext): string[] {
  const base = `arn:${c.partition}:logs:*:${c.account}:log-group:${managedLogGroupPattern(c.config)}`;
  return base.endsWith('*') ? [base] : [base, `${base}:*`];
}

/** The delivery roles trailguard may create or repair: each managed name, at the root path or any other. */
export function managedRoleArns(c: PolicyContext): string[] {
  return managedRoleNames(c.config).flatMap((name) => [
    `arn:${c.partition}:iam::${c.account}:role/${name}`,
    `arn:${c.partition}:iam::${c.account}:role/*/${name}`,
  ]);
}

/** Only a request that tags the resource `trailguard:managed=true`, and with no other tag. */
const managedTagOnly = {
  StringEquals: { [`aws:RequestTag/${MANAGED_TAG.key}`]: MANAGED_TAG.value },
  'ForAllValues:StringEquals': { 'aws:TagKeys': [MANAGED_TAG.key] },
};

const viaService = (c: PolicyContext, service: string) => ({
  StringEquals: { 'kms:ViaService': `${service}.${c.region}.${c.urlSuffix ?? 'amazonaws.com'}` },
});

/** Every statement, by Sid. */
export const STATEMENTS = {
  ListTrails: (): PolicyStatement => ({
    Sid: 'ListTrails',
    Effect: 'Allow',
    Action: ['cloudtrail:DescribeTrails'],
    Resource: ['*'],
  }),
  ReadTrails: (c: PolicyContext): PolicyStatement => ({
    Sid: 'ReadTrails',
    Effect: 'Allow',
    Action: ['cloudtrail:GetTrail', 'cloudtrail:GetTrailStatus', 'cloudtrail:ListTags'],
    Resource: [trails(c)],
  }),
  ReadLogGroups: (): PolicyStatement => ({
    Sid: 'ReadLogGroups',
    Effect: 'Allow',
    Action: ['logs:DescribeLogGroups'],
    Resource: ['*'],
  }),
  ReadLogGroupTags: (c: PolicyContext): PolicyStatement => ({
    Sid: 'ReadLogGroupTags',
    Effect: 'Allow',
    Action: ['logs:ListTagsForResource'],
    Resource: [anyLogGroup(c)],
  }),
  ReadRoles: (c: PolicyContext): PolicyStatement => ({
    Sid: 'ReadRoles',
    Effect: 'Allow',
    Action: ['iam:GetRole', 'iam:ListRolePolicies', 'iam:GetRolePolicy', 'iam:ListAttachedRolePolicies'],
    Resource: [anyRole(c)],
  }),
  ReadManagedPolicies: (c: PolicyContext): PolicyStatement => ({
    Sid: 'ReadManagedPolicies',
    Effect: 'Allow',
    Action: ['iam:GetPolicy', 'iam:GetPolicyVersion'],
    Resource: [`arn:${c.partition}:iam::${c.account}:policy/*`, `arn:${c.partition}:iam::aws:policy/*`],
  }),
  CreateManagedLogGroups: (c: PolicyContext): PolicyStatement => ({
    Sid: 'CreateManagedLogGroups',
    Effect: 'Allow',
    Action: ['logs:CreateLogGroup', 'logs:TagResource', 'logs:TagLogGroup'],
    Resource: managedLogGroupArns(c),
    Condition: managedTagOnly,
  }),
  SetManagedLogGroupRetention: (c: PolicyContext): PolicyStatement => ({
    Sid: 'SetManagedLogGroupRetention',
    Effect: 'Allow',
    Action: ['logs:PutRetentionPolicy', ...(hasLogGroupKey(c) ? ['logs:AssociateKmsKey'] : [])],
    Resource: managedLogGroupArns(c),
  }),
  // CloudWatch Logs API Reference, PutLogGroupDeletionProtection; Service Authorization Reference, "Actions,
  // resources, and condition keys for Amazon CloudWatch Logs": logs:PutLogGroupDeletionProtection takes the
  // log-group resource. On the groups trailguard creates (config.logGroupDeletionProtection, and a restored
  // snapshot's recorded protection); on any group of the account only with config.protectExistingLogGroups.
  ProtectLogGroups: (c: PolicyContext): PolicyStatement => ({
    Sid: 'ProtectLogGroups',
    Effect: 'Allow',
    Action: ['logs:PutLogGroupDeletionProtection'],
    Resource: c.config.protectExistingLogGroups ? [anyLogGroup(c)] : managedLogGroupArns(c),
  }),
  DescribeLogGroupKey: (c: PolicyContext): PolicyStatement => ({
    Sid: 'DescribeLogGroupKey',
    Effect: 'Allow',
    Action: ['kms:DescribeKey'],
    // Exactly the configured keys: kmsKeyArn, or every key of kmsKeys (each region's, each account's).
    Resource: logGroupKeyArns(c.config),
  }),
  CreateDeliveryRoles: (c: PolicyContext): PolicyStatement => ({
    Sid: 'CreateDeliveryRoles',
    Effect: 'Allow',
    Action: ['iam:CreateRole', 'iam:TagRole'],
    Resource: managedRoleArns(c),
    Condition: managedTagOnly,
  }),
  RepairDeliveryRoles: (c: PolicyContext): PolicyStatement => ({
    Sid: 'RepairDeliveryRoles',
    Effect: 'Allow',
    Action: ['iam:UpdateAssumeRolePolicy', 'iam:PutRolePolicy', 'iam:DeleteRolePolicy'],
    Resource: managedRoleArns(c),
  }),
  ReadOrganization: (): PolicyStatement => ({
    Sid: 'ReadOrganization',
    Effect: 'Allow',
    Action: ['organizations:DescribeOrganization'],
    Resource: ['*'],
  }),
  RepairTrails: (c: PolicyContext): PolicyStatement => ({
    Sid: 'RepairTrails',
    Effect: 'Allow',
    Action: ['cloudtrail:UpdateTrail', 'cloudtrail:StartLogging'],
    Resource: [trails(c)],
  }),
  PassDeliveryRolesToCloudTrail: (c: PolicyContext): PolicyStatement => ({
    Sid: 'PassDeliveryRolesToCloudTrail',
    Effect: 'Allow',
    Action: ['iam:PassRole'],
    Resource: managedRoleArns(c),
    Condition: { StringEquals: { 'iam:PassedToService': 'cloudtrail.amazonaws.com' } },
  }),
  PublishNotifications: (c: PolicyContext): PolicyStatement => ({
    Sid: 'PublishNotifications',
    Effect: 'Allow',
    Action: ['sns:Publish'],
    Resource: [c.topicArn],
  }),
  UseTopicKey: (c: PolicyContext): PolicyStatement => ({
    Sid: 'UseTopicKey',
    Effect: 'Allow',
    Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
    Resource: [c.topicKeyArn ?? ''],
    Condition: viaService(c, 'sns'),
  }),
  WriteAuditRecords: (c: PolicyContext): PolicyStatement => ({
    Sid: 'WriteAuditRecords',
    Effect: 'Allow',
    Action: ['dynamodb:PutItem', 'dynamodb:GetItem'],
    Resource: [c.tableArn],
  }),
  UseAuditTableKey: (c: PolicyContext): PolicyStatement => ({
    Sid: 'UseAuditTableKey',
    Effect: 'Allow',
    Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
    Resource: [c.tableKeyArn ?? ''],
    Condition: viaService(c, 'dynamodb'),
  }),
  WriteIdempotencyRecords: (c: PolicyContext): PolicyStatement => ({
    Sid: 'WriteIdempotencyRecords',
    Effect: 'Allow',
    // Powertools idempotency (DynamoDB persistence): conditional PutItem (IN_PROGRESS), UpdateItem
    // (COMPLETED), DeleteItem (a failed attempt), GetItem (a repeated call).
    Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem'],
    Resource: [c.idempotencyTableArn ?? ''],
  }),
  // Service Authorization Reference, "Actions, resources, and condition keys for AWS Security Hub": GetFindings
  // and BatchUpdateFindings take the hub only as an optional resource type, so AWS may authorize them against
  // "*"; a hub ARN would then never match. What bounds them is the API itself (the caller's own findings) and,
  // for BatchUpdateFindings, the securityhub:ASFFSyntaxPath condition keys.
  ReadSecurityHubFindings: (): PolicyStatement => ({
    Sid: 'ReadSecurityHubFindings',
    Effect: 'Allow',
    Action: ['securityhub:GetFindings'],
    Resource: ['*'],
  }),
  // Security Hub user guide, "Configuring access to BatchUpdateFindings": the fields and values a request may
  // set are bounded with the securityhub:ASFFSyntaxPath/<field> condition keys. The Allow has no condition;
  // the Deny statements that always come with it (findingUpdateDenials) keep every field but Workflow.Status
  // and Note out, and Workflow.Status to NEW, NOTIFIED or RESOLVED.
  UpdateSecurityHubFindings: (): PolicyStatement => ({
    Sid: 'UpdateSecurityHubFindings',
    Effect: 'Allow',
    Action: ['securityhub:BatchUpdateFindings'],
    Resource: ['*'],
  }),
  // Service Authorization Reference, "Actions, resources, and condition keys for Amazon CloudWatch" and "... for
  // Amazon CloudWatch Logs": DescribeAlarms and PutMetricAlarm take the alarm resource (required);
  // PutMetricAlarm has the cloudwatch:AlarmActions condition key; the metric filter calls take the log group.
  ReadCisMonitoring: (c: PolicyContext): PolicyStatement => ({
    Sid: 'ReadCisMonitoring',
    Effect: 'Allow',
    Action: ['logs:DescribeMetricFilters', 'cloudwatch:DescribeAlarms'],
    Resource: [anyLogGroup(c), cisAlarms(c)],
  }),
  WriteCisMonitoring: (c: PolicyContext): PolicyStatement => ({
    Sid: 'WriteCisMonitoring',
    Effect: 'Allow',
    Action: ['logs:PutMetricFilter'],
    Resource: [anyLogGroup(c)],
  }),
  WriteCisAlarms: (c: PolicyContext): PolicyStatement => ({
    Sid: 'WriteCisAlarms',
    Effect: 'Allow',
    Action: ['cloudwatch:PutMetricAlarm'],
    Resource: [cisAlarms(c)],
    Condition: {
      'ForAllValues:StringEquals': { 'cloudwatch:AlarmActions': [c.cisAlarmTopicArn ?? c.topicArn] },
    },
  }),
  ReadLogGroupSnapshots: (c: PolicyContext): PolicyStatement => ({
    Sid: 'ReadLogGroupSnapshots',
    Effect: 'Allow',
    Action: [
      'logs:ListTagsForResource',
      'logs:DescribeMetricFilters',
      'logs:DescribeSubscriptionFilters',
      'logs:GetDataProtectionPolicy',
    ],
    Resource: [anyLogGroup(c)],
  }),
  RestoreLogGroupSnapshots: (c: PolicyContext): PolicyStatement => ({
    Sid: 'RestoreLogGroupSnapshots',
    Effect: 'Allow',
    Action: [
      'logs:PutRetentionPolicy',
      'logs:AssociateKmsKey',
      'logs:TagResource',
      'logs:PutDataProtectionPolicy',
      'logs:PutMetricFilter',
      'logs:PutSubscriptionFilter',
    ],
    Resource: managedLogGroupArns(c),
  }),
  PassSubscriptionRolesToCloudWatchLogs: (c: PolicyContext): PolicyStatement => ({
    Sid: 'PassSubscriptionRolesToCloudWatchLogs',
    Effect: 'Allow',
    Action: ['iam:PassRole'],
    Resource: [anyRole(c)],
    Condition: { StringEquals: { 'iam:PassedToService': 'logs.amazonaws.com' } },
  }),
  ReadWriteState: (c: PolicyContext): PolicyStatement => ({
    Sid: 'ReadWriteState',
    Effect: 'Allow',
    Action: ['dynamodb:GetItem', 'dynamodb:PutItem'],
    Resource: [c.stateTableArn ?? ''],
  }),
  StartWorkflow: (c: PolicyContext): PolicyStatement => ({
    Sid: 'StartWorkflow',
    Effect: 'Allow',
    Action: ['states:StartExecution'],
    Resource: [c.stateMachineArn ?? ''],
  }),
  AssumeRemediationRole: (c: PolicyContext): PolicyStatement => {
    const hub = c.hub;
    if (!hub) throw new Error('AssumeRemediationRole needs the hub context (config.accounts)');
    const role = (account: string) => `arn:${c.partition}:iam::${account}:role/${hub.remediationRoleName}`;
    if (hub.accounts !== 'organization') {
      return {
        Sid: 'AssumeRemediationRole',
        Effect: 'Allow',
        Action: ['sts:AssumeRole'],
        Resource: hub.accounts.map(role),
      };
    }
    if (!hub.organizationId) throw new Error('AssumeRemediationRole needs the organization id');
    return {
      Sid: 'AssumeRemediationRole',
      Effect: 'Allow',
      Action: ['sts:AssumeRole'],
      Resource: [role('*')],
      Condition: { StringEquals: { 'aws:ResourceOrgID': hub.organizationId } },
    };
  },
  ListOrganizationAccounts: (): PolicyStatement => ({
    Sid: 'ListOrganizationAccounts',
    Effect: 'Allow',
    Action: ['organizations:ListAccounts'],
    Resource: ['*'],
  }),
  ListEnabledRegions: (): PolicyStatement => ({
    Sid: 'ListEnabledRegions',
    Effect: 'Allow',
    Action: ['ec2:DescribeRegions'],
    Resource: ['*'],
  }),
} satisfies Record<string, (c: PolicyContext) => PolicyStatement>;

export type StatementId = keyof typeof STATEMENTS;

/**
 * The BatchUpdateFindings fields trailguard never sets, as their `securityhub:ASFFSyntaxPath/<field>` condition
 * keys (Security Hub user guide, "Configuring access to BatchUpdateFindings"; the request's fields in the API
 * Reference, "BatchUpdateFindings": Confidence, Criticality, RelatedFindings (Id, ProductArn), Severity (Label,
 * Normalized, Product), Types, UserDefinedFields, VerificationState). Only `Workflow.Status` and `Note` remain.
 */
export const PROTECTED_FINDING_FIELDS = [
  'Confidence',
  'Criticality',
  'RelatedFindings',
  'RelatedFindings.Id',
  'RelatedFindings.ProductArn',
  'Severity.Label',
  'Severity.Normalized',
  'Severity.Product',
  'Types',
  'UserDefinedFields',
  'VerificationState',
] as const;

/** The only workflow statuses trailguard sets: NEW (re-open), NOTIFIED (delivery not confirmed), RESOLVED. */
export const WRITABLE_WORKFLOW_STATUSES = ['NEW', 'NOTIFIED', 'RESOLVED'] as const;

const ASFF_PATH = 'securityhub:ASFFSyntaxPath/';

/**
 * The Deny statements that always accompany UpdateSecurityHubFindings. One statement per field: the keys of one
 * `Null` block are ANDed, so a single statement would deny only a request that sets all of them. `Null: false`
 * ("the key is present") denies any request that sets the field, and a request without it (a note alone) is
 * not touched; the workflow status is denied only when present AND not one of WRITABLE_WORKFLOW_STATUSES (a
 * bare `StringNotEquals` would be true for a missing key and deny note-only updates).
 */
export function findingUpdateDenials(): PolicyStatement[] {
  const deny = (sid: string, condition: PolicyStatement['Condition']): PolicyStatement => ({
    Sid: sid,
    Effect: 'Deny',
    Action: ['securityhub:BatchUpdateFindings'],
    Resource: ['*'],
    ...(condition ? { Condition: condition } : {}),
  });
  return [
    ...PROTECTED_FINDING_FIELDS.map((field) =>
      deny(`DenyFindingField${field.replace(/\./g, '')}`, { Null: { [`${ASFF_PATH}${field}`]: 'false' } }),
    ),
    deny('DenyFindingWorkflowStatus', {
      Null: { [`${ASFF_PATH}Workflow.Status`]: 'false' },
      StringNotEquals: { [`${ASFF_PATH}Workflow.Status`]: [...WRITABLE_WORKFLOW_STATUSES] },
    }),
  ];
}

/** A statement id's statements: its own, and for UpdateSecurityHubFindings the Deny statements bounding it. */
function statementsOf(id: StatementId, c: PolicyContext): PolicyStatement[] {
  const statement = STATEMENTS[id](c);
  return id === 'UpdateSecurityHubFindings' ? [statement, ...findingUpdateDenials()] : [statement];
}

/** Why each statement is there, and why its wildcards (if any) cannot be narrower. */
export const STATEMENT_REASONS: Record<StatementId, string> = {
  ListTrails: 'cloudtrail:DescribeTrails supports no resource-level permissions (resource "*" is required)',
  ReadTrails:
    'the trail an event or request names can be any trail of this account (never another account: organization trails of the management account are not read); read only',
  ReadLogGroups:
    'logs:DescribeLogGroups has no resource type in the Service Authorization Reference (resource "*" is required); it lists log groups of this account by name prefix, read only',
  ReadLogGroupTags:
    "reads the tags of the trail's existing log group to tell a group trailguard created (trailguard:managed) from anyone else's; read only",
  ReadRoles: "a trail's delivery role can be any role of this account; read only (trust and permissions)",
  ReadManagedPolicies:
    "the delivery role's attached customer managed and AWS managed policies, to evaluate its permissions; read only",
  CreateManagedLogGroups:
    'only log groups whose names the configured logGroupNameTemplate can produce (each template variable becomes "*"), in this account, and only when created or tagged trailguard:managed=true with no other tag (log-group-writer.ts tags at creation)',
  SetManagedLogGroupRetention:
    'retention (and the configured KMS key) only on log groups whose names the configured logGroupNameTemplate can produce, in this account',
  ProtectLogGroups:
    'turns deletion protection on (never off) for log groups whose names the configured logGroupNameTemplate can produce (the groups trailguard creates or restores), in this account; any log group of this account only with protectExistingLogGroups, whose point is to protect the groups teams own',
  DescribeLogGroupKey: 'the configured KMS key for new log groups only',
  CreateDeliveryRoles:
    'only the managed delivery role names (deliveryRoleName, managedRoleNames) at any IAM path ("*/NAME": role names cannot contain "/"), and only when the role is tagged trailguard:managed=true and with no other tag',
  RepairDeliveryRoles:
    'only the managed delivery role names (deliveryRoleName, managedRoleNames), at any IAM path ("*/NAME": role names cannot contain "/"); DeleteRolePolicy only removes an earlier version\'s per-log-group grant once the shared grant covers it (role-writer.ts)',
  ReadOrganization:
    'organizations:DescribeOrganization supports no resource-level permissions (resource "*" is required); read only, for the id in an organization trail\'s member stream names (o-ORGID_*)',
  RepairTrails:
    'the trail to repair can be any trail of this account, in the home region of the event or request; UpdateTrail and StartLogging only',
  PassDeliveryRolesToCloudTrail:
    'only the managed delivery role names, at any IAM path, and only to cloudtrail.amazonaws.com (iam:PassedToService)',
  PublishNotifications: 'the notification topic only',
  UseTopicKey: 'the topic key only, through SNS only (kms:ViaService)',
  WriteAuditRecords: 'the audit table only; write-once items (conditional PutItem, GetItem to tell a retry)',
  UseAuditTableKey:
    "the audit table key only (it also encrypts Notify's idempotency table), through DynamoDB only (kms:ViaService)",
  StartWorkflow: 'the remediation state machine only',
  ReadCisMonitoring:
    'the metric filters of any log group of this account (a trail may deliver to any) and only the alarms named trailguard-cis-*; read only',
  WriteCisMonitoring:
    "PutMetricFilter only, on this account's log groups: the CIS filters go on whatever log group a guarded multi-region trail delivers to, which may be a group the team named",
  WriteCisAlarms:
    'PutMetricAlarm only on alarms named trailguard-cis-*, and only with the configured alarm topic as action (cloudwatch:AlarmActions)',
  ReadLogGroupSnapshots:
    "what deleting a trail's log group would lose (tags, metric and subscription filters, data protection policy), on this account's log groups; read only",
  RestoreLogGroupSnapshots:
    'puts a snapshot back only on log groups whose names the configured logGroupNameTemplate can produce (the only groups trailguard creates), in this account',
  PassSubscriptionRolesToCloudWatchLogs:
    "a restored subscription filter's destination role is the team's choice (any role of this account), and it is passed only to CloudWatch Logs (iam:PassedToService)",
  ReadWriteState:
    'the state table only (log group snapshots and delivery-error sightings): GetItem and PutItem',
  WriteIdempotencyRecords:
    "Notify's idempotency table only (one email per run and outcome; Powertools idempotency records)",
  ReadSecurityHubFindings:
    'securityhub:GetFindings takes the hub only as an optional resource type (resource "*"); read only, the trail\'s CloudTrail.5 findings',
  UpdateSecurityHubFindings:
    'securityhub:BatchUpdateFindings takes the hub only as an optional resource type (resource "*"); BatchUpdateFindings only, and Deny statements (securityhub:ASFFSyntaxPath) keep every field but Workflow.Status (NEW, NOTIFIED, RESOLVED only) and Note out',
  AssumeRemediationRole:
    'the hub function acts in each guarded account through its own member role there only (MEMBER_ROLE_OF, named from config.remediationRoleName): in an organization any account of it ("*" as the account, bounded by aws:ResourceOrgID), else exactly the listed accounts',
  ListOrganizationAccounts:
    'organizations:ListAccounts supports no resource-level permissions (resource "*" is required); read only, the accounts an organization sweep covers',
  ListEnabledRegions:
    'ec2:DescribeRegions supports no resource-level permissions (resource "*" is required); read only: the regions enabled in the account a sweep target is in (opt-in regions differ per account), and the regions a sweep covers when config.regions is not set',
};

/** Which statements each function gets. */
export const FUNCTION_STATEMENTS: Record<FunctionName, readonly StatementId[]> = {
  Check: [
    'ReadTrails',
    'ReadLogGroups',
    'ReadRoles',
    'ReadManagedPolicies',
    'ReadOrganization',
    'ReadCisMonitoring',
    'ReadWriteState',
    'UseAuditTableKey',
    'AssumeRemediationRole',
  ],
  RestoreLogGroup: [
    'ReadLogGroups',
    'ReadLogGroupTags',
    'CreateManagedLogGroups',
    'SetManagedLogGroupRetention',
    'ProtectLogGroups',
    'DescribeLogGroupKey',
    'ReadLogGroupSnapshots',
    'RestoreLogGroupSnapshots',
    'PassSubscriptionRolesToCloudWatchLogs',
    'ReadCisMonitoring',
    'WriteCisMonitoring',
    'WriteCisAlarms',
    'ReadWriteState',
    'UseAuditTableKey',
    'AssumeRemediationRole',
  ],
  RestoreRole: [
    'ReadRoles',
    'ReadManagedPolicies',
    'CreateDeliveryRoles',
    'RepairDeliveryRoles',
    'AssumeRemediationRole',
  ],
  RestoreTrail: [
    'ReadTrails',
    'ReadRoles',
    'ReadManagedPolicies',
    'RepairTrails',
    'PassDeliveryRolesToCloudTrail',
    'AssumeRemediationRole',
  ],
  Verify: [
    'ReadTrails',
    'ReadLogGroups',
    'ReadRoles',
    'ReadManagedPolicies',
    'ReadOrganization',
    'ReadCisMonitoring',
    'AssumeRemediationRole',
  ],
  CheckDelivery: ['ReadTrails', 'AssumeRemediationRole'],
  Notify: ['PublishNotifications', 'UseTopicKey', 'WriteIdempotencyRecords', 'UseAuditTableKey'],
  UpdateFindings: ['ReadSecurityHubFindings', 'UpdateSecurityHubFindings', 'AssumeRemediationRole'],
  Audit: ['WriteAuditRecords', 'UseAuditTableKey'],
  Sweep: [
    'ListTrails',
    'ReadTrails',
    'ReadLogGroups',
    'ReadRoles',
    'ReadManagedPolicies',
    'ReadOrganization',
    'ReadCisMonitoring',
    'ReadLogGroupSnapshots',
    'ReadWriteState',
    'UseAuditTableKey',
    'StartWorkflow',
    'AssumeRemediationRole',
    'ListOrganizationAccounts',
    'ListEnabledRegions',
  ],
};

/** Whether the configuration names a key for the log groups trailguard creates (kmsKeyArn or kmsKeys). */
function hasLogGroupKey(c: Pick<PolicyContext, 'config'>): boolean {
  return logGroupKeyArns(c.config).length > 0;
}

/** Statements that only exist when the context has what they are about (a configured or customer key). */
function applies(id: StatementId, c: PolicyContext): boolean {
  switch (id) {
    case 'DescribeLogGroupKey':
      return hasLogGroupKey(c);
    case 'UseTopicKey':
      return c.topicKeyArn !== undefined;
    case 'UseAuditTableKey':
      return c.tableKeyArn !== undefined;
    case 'WriteIdempotencyRecords':
      return c.idempotencyTableArn !== undefined;
    case 'ReadSecurityHubFindings':
    case 'UpdateSecurityHubFindings':
      return c.config.securityHub !== false;
    case 'ReadCisMonitoring':
    case 'WriteCisMonitoring':
    case 'WriteCisAlarms':
      return c.config.cisMonitoring === true;
    case 'ReadWriteState':
    case 'ReadLogGroupSnapshots':
    case 'RestoreLogGroupSnapshots':
    case 'PassSubscriptionRolesToCloudWatchLogs':
      return c.stateTableArn !== undefined;
    case 'StartWorkflow':
      if (c.stateMachineArn === undefined) throw new Error('StartWorkflow needs the state machine ARN');
      return true;
    case 'AssumeRemediationRole':
      return c.hub !== undefined;
    case 'ListOrganizationAccounts':
      return c.hub?.accounts === 'organization';
    case 'ListEnabledRegions':
      return c.listsEnabledRegions === true;
    default:
      return true;
  }
}

/** The policy statements of one function. */
export function functionPolicy(fn: FunctionName, c: PolicyContext): PolicyStatement[] {
  // A hub function assumes only its own member role (MEMBER_ROLE_OF) in the guarded accounts.
  const own =
    c.hub && isMemberFunction(fn)
      ? {
          ...c,
          hub: {
            ...c.hub,
            remediationRoleName: memberRoleName(c.hub.remediationRoleName, MEMBER_ROLE_OF[fn]),
          },
        }
      : c;
  return FUNCTION_STATEMENTS[fn].filter((id) => applies(id, own)).flatMap((id) => statementsOf(id, own));
}

/** A whole policy document for one function (for reviews and IAM simulation). */
export function functionPolicyDocument(
  fn: FunctionName,
  c: PolicyContext,
): { Version: '2012-10-17'; Statement: PolicyStatement[] } {
  return { Version: '2012-10-17', Statement: functionPolicy(fn, c) };
}

/** The functions that act in guarded accounts (through the remediation role when a hub reaches a member). */
export const MEMBER_FUNCTIONS = [
  'Check',
  'RestoreLogGroup',
  'RestoreRole',
  'RestoreTrail',
  'Verify',
  'CheckDelivery',
  'UpdateFindings',
  'Sweep',
] as const satisfies readonly FunctionName[];

/**
 * Statements about the hub itself (its topic, tables, state machine, its reach into the accounts): never part
 * of a member account's remediation role.
 */
export const HUB_ONLY_STATEMENTS = [
  'PublishNotifications',
  'UseTopicKey',
  'WriteAuditRecords',
  'UseAuditTableKey',
  'WriteIdempotencyRecords',
  'ReadWriteState',
  'StartWorkflow',
  'AssumeRemediationRole',
  'ListOrganizationAccounts',
] as const satisfies readonly StatementId[];

/** What the remediation role's statements are built from: the member account (values may be tokens). */
export interface MemberPolicyContext {
  partition: string;
  /** The member account. */
  account: string;
  region: string;
  urlSuffix?: string;
  config: PolicyContext['config'];
  /** Where the CIS alarms notify (config.cisAlarmTopicArn, else the hub's topic); needed with cisMonitoring. */
  cisAlarmTopicArn?: string;
}

/**
 * The roles the hub assumes in a member account, one per kind of access, so that what a hub function reaches
 * there is its own step's member-side statements (MEMBER_ROLE_FUNCTIONS), never another step's:
 * - `read`: Check, Verify, CheckDelivery and the sweep; read-only statements only (Check parses untrusted
 *   event input, so it must not hold anything that writes);
 * - `restore-log-group`, `restore-role`, `restore-trail`: one per restore step, exactly that step's statements;
 * - `update-findings`: UpdateFindings' Security Hub statements (BatchUpdateFindings bounded by its Deny
 *   statements).
 * Named `<config.remediationRoleName><suffix>` (MEMBER_ROLE_SUFFIXES).
 */
export const MEMBER_ROLES = [
  'read',
  'restore-log-group',
  'restore-role',
  'restore-trail',
  'update-findings',
] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];
export type MemberFunction = (typeof MEMBER_FUNCTIONS)[number];

/** Which member role each hub function that acts in members assumes. */
export const MEMBER_ROLE_OF: Record<MemberFunction, MemberRole> = {
  Check: 'read',
  Verify: 'read',
  CheckDelivery: 'read',
  Sweep: 'read',
  RestoreLogGroup: 'restore-log-group',
  RestoreRole: 'restore-role',
  RestoreTrail: 'restore-trail',
  UpdateFindings: 'update-findings',
};

/** The functions that may assume each member role (its trust admits exactly their roles). */
export function memberRoleFunctions(role: MemberRole): MemberFunction[] {
  return MEMBER_FUNCTIONS.filter((fn) => MEMBER_ROLE_OF[fn] === role);
}

/** What each member role's name adds to config.remediationRoleName (at most MEMBER_ROLE_SUFFIX_MAX characters). */
export const MEMBER_ROLE_SUFFIXES: Record<MemberRole, string> = {
  read: '-read',
  'restore-log-group': '-log-group',
  'restore-role': '-role',
  'restore-trail': '-trail',
  'update-findings': '-findings',
};
export const MEMBER_ROLE_SUFFIX_MAX = Math.max(...Object.values(MEMBER_ROLE_SUFFIXES).map((s) => s.length));

/** The name of member role `role`, from config.remediationRoleName. */
export function memberRoleName(remediationRoleName: string, role: MemberRole): string {
  return `${remediationRoleName}${MEMBER_ROLE_SUFFIXES[role]}`;
}

/** Whether `fn` acts in member accounts (then it assumes MEMBER_ROLE_OF[fn] there). */
export function isMemberFunction(fn: FunctionName): fn is MemberFunction {
  return (MEMBER_FUNCTIONS as readonly string[]).includes(fn);
}

/**
 * The statements member role `role` needs (all member roles together when `role` is absent): those of the
 * functions that assume it, each once, in the order the functions list them, minus the hub-only ones. What
 * exists depends on the configuration as in the hub (a log group KMS key, Security Hub, CIS monitoring); the
 * log group snapshot statements are always there (the hub always keeps snapshots in its state table).
 */
export function memberStatementIds(c: Pick<MemberPolicyContext, 'config'>, role?: MemberRole): StatementId[] {
  const hubOnly: readonly StatementId[] = HUB_ONLY_STATEMENTS;
  const functions = role ? memberRoleFunctions(role) : MEMBER_FUNCTIONS;
  const ids = [...new Set(functions.flatMap((fn) => FUNCTION_STATEMENTS[fn]))];
  return ids.filter((id) => {
    if (hubOnly.includes(id)) return false;
    switch (id) {
      case 'DescribeLogGroupKey':
        return hasLogGroupKey(c);
      case 'ReadSecurityHubFindings':
      case 'UpdateSecurityHubFindings':
        return c.config.securityHub !== false;
      case 'ReadCisMonitoring':
      case 'WriteCisMonitoring':
      case 'WriteCisAlarms':
        return c.config.cisMonitoring === true;
      default:
        return true;
    }
  });
}

/** Member role `role`'s permissions in a member account: `memberStatementIds(c, role)`, resolved there. */
export function remediationRolePolicy(c: MemberPolicyContext, role: MemberRole): PolicyStatement[] {
  const ids = memberStatementIds(c, role);
  if (ids.includes('WriteCisAlarms') && c.cisAlarmTopicArn === undefined) {
    throw new Error('the remediation role needs the CIS alarm topic (cisMonitoring)');
  }
  // Only hub-only statements read the topic and table ARNs; WriteCisAlarms reads cisAlarmTopicArn.
  const ctx: PolicyContext = { ...c, topicArn: c.cisAlarmTopicArn ?? '', tableArn: '' };
  return ids.flatMap((id) => statementsOf(id, ctx));
}

/** Member role `role`'s policy document (for reviews and IAM simulation). */
export function remediationRolePolicyDocument(
  c: MemberPolicyContext,
  role: MemberRole,
): {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
} {
  return { Version: '2012-10-17', Statement: remediationRolePolicy(c, role) };
}

/**
 * IAM's policy size quotas ("IAM and AWS STS quotas", IAM User Guide), in characters, whitespace not counted:
 * all inline policies of a role together, and one managed policy.
 */
export const IAM_POLICY_QUOTAS = { inlinePerRole: 10_240, managedPolicy: 6_144 } as const;

/** A policy document's size as IAM counts it: its JSON without whitespace outside strings. */
export function policySize(document: unknown): number {
  return JSON.stringify(document).length;
}

/** The remediation role's worst case for sizes: the longest partition, a topic name of the maximum length. */
export function worstCaseMemberContext(config: MemberPolicyContext['config']): MemberPolicyContext {
  return {
    partition: 'aws-us-gov',
    account: '123456789012',
    region: 'ap-southeast-2',
    urlSuffix: 'amazonaws.com.cn',
    config,
    cisAlarmTopicArn: `arn:aws-us-gov:sns:ap-southeast-2:123456789012:${'t'.repeat(256)}`,
  };
}

/**
 * Member role `role`'s statements (`remediationRolePolicy(c, role)`) packed, in order, into as few policy documents
 * as fit IAM's managed policy quota each, sized on `measure` (the same statements with concrete values; default
 * `worstCaseMemberContext`), since `c` may hold CloudFormation tokens. A configuration with many managed role
 * names outgrows one document (and the 10,240 characters of a role's inline policies); a role may have 10
 * managed policies.
 */
export function remediationRolePolicyDocuments(
  c: MemberPolicyContext,
  role: MemberRole,
  measure: MemberPolicyContext = worstCaseMemberContext(c.config),
): { Version: '2012-10-17'; Statement: PolicyStatement[] }[] {
  const statements = remediationRolePolicy(c, role);
  const measured = remediationRolePolicy({ ...measure, config: c.config }, role);
  const documents: { Version: '2012-10-17'; Statement: PolicyStatement[] }[] = [];
  let current: PolicyStatement[] = [];
  let currentMeasured: PolicyStatement[] = [];
  const size = (list: PolicyStatement[]) => policySize({ Version: '2012-10-17', Statement: list });
  statements.forEach((statement, i) => {
    const sized = measured[i] as PolicyStatement;
    if (size([sized]) > IAM_POLICY_QUOTAS.managedPolicy) {
      throw new Error(`statement ${statement.Sid} alone exceeds IAM's managed policy size quota`);
    }
    if (current.length > 0 && size([...currentMeasured, sized]) > IAM_POLICY_QUOTAS.managedPolicy) {
      documents.push({ Version: '2012-10-17', Statement: current });
      current = [];
      currentMeasured = [];
    }
    current.push(statement);
    currentMeasured.push(sized);
  });
  if (current.length > 0) documents.push({ Version: '2012-10-17', Statement: current });
  return documents;
}
