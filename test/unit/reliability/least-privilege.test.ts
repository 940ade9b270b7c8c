/**
 * Least privilege, proven by IAM policy simulation (@cloud-copilot/iam-simulate) on the policies the stack
 * really synthesizes (buildApp, bundling off; see template-policies.ts): each workflow step's role allows what
 * that step calls, and a list of dangerous requests is denied for every role the stack creates (each
 * function's role, the sweep's, the state machine's and the trigger's). Written against the contract in
 * docs/security.md, not against today's template.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initialTrustPolicy } from '../../../services/aws/role-writer.js';
import { STEPS, type StepName } from '../../../services/handlers/registry.js';
import {
  ACCOUNT,
  type CfnTemplate,
  decide,
  type IamRequest,
  type RolePolicies,
  resolver,
  rolesOf,
  synthTemplate,
} from './template-policies.js';

const OTHER_ACCOUNT = '999999999999';
const DELIVERY_ROLE = `arn:aws:iam::${ACCOUNT}:role/trailguard-cloudtrail-delivery`;
const ADMIN_ROLE = `arn:aws:iam::${ACCOUNT}:role/Admin`;
const trail = (region = 'us-east-1', account = ACCOUNT) => `arn:aws:cloudtrail:${region}:${account}:trail/x`;
const logGroup = (name: string, region = 'us-east-1') =>
  `arn:aws:logs:${region}:${ACCOUNT}:log-group:${name}`;
const MANAGED_TAG = { 'aws:RequestTag/trailguard:managed': 'true', 'aws:TagKeys': ['trailguard:managed'] };

let template: CfnTemplate;
let roles: RolePolicies[];
let topicArn: string;
let tableArn: string;
let idempotencyTableArn: string;
let stateTableArn: string;
let keyArn: string;
/** The data key's key policy (KMS needs it to delegate to IAM policies). */
let keyPolicy: unknown;

function roleOf(step: StepName): RolePolicies {
  const role = roles.find((r) => r.owner === step);
  if (!role) throw new Error(`no role for step ${step}`);
  return role;
}

function single(type: string): string {
  const ids = Object.entries(template.Resources)
    .filter(([, r]) => r.Type === type)
    .map(([id]) => id);
  expect(ids, type).toHaveLength(1);
  return ids[0] as string;
}

/** The table with this `trailguard:table` metadata. */
function table(kind: 'audit' | 'idempotency' | 'state'): string {
  const ids = Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::DynamoDB::Table' && r.Metadata?.['trailguard:table'] === kind)
    .map(([id]) => id);
  expect(ids, kind).toHaveLength(1);
  return ids[0] as string;
}

beforeAll(() => {
  template = synthTemplate();
  roles = rolesOf(template);
  const resolve = resolver(template);
  topicArn = String(resolve({ Ref: single('AWS::SNS::Topic') }));
  tableArn = String(resolve({ 'Fn::GetAtt': [table('audit'), 'Arn'] }));
  idempotencyTableArn = String(resolve({ 'Fn::GetAtt': [table('idempotency'), 'Arn'] }));
  stateTableArn = String(resolve({ 'Fn::GetAtt': [table('state'), 'Arn'] }));
  const keyId = single('AWS::KMS::Key');
  keyArn = String(resolve({ 'Fn::GetAtt': [keyId, 'Arn'] }));
  keyPolicy = resolve(template.Resources[keyId]?.Properties?.KeyPolicy);
}, 120_000);

/** The state table (snapshots, delivery-error sightings), through the data key. */
const STATE_TABLE = (): IamRequest[] => [
  { action: 'dynamodb:GetItem', resource: stateTableArn },
  { action: 'dynamodb:PutItem', resource: stateTableArn },
  {
    action: 'kms:GenerateDataKey',
    resource: keyArn,
    context: { 'kms:ViaService': 'dynamodb.us-east-1.amazonaws.com' },
    resourcePolicy: keyPolicy,
  },
];

/** Reads every step that assesses a trail needs: the trail, its log group, its role (any role) and policies. */
const READ_TRAIL_STATE: IamRequest[] = [
  ...['cloudtrail:GetTrail', 'cloudtrail:GetTrailStatus', 'cloudtrail:ListTags'].flatMap((action) => [
    { action, resource: trail() },
    { action, resource: trail('eu-west-3') },
  ]),
  // DescribeLogGroups has no resource type in the Service Authorization Reference: only Resource "*" grants it.
  { action: 'logs:DescribeLogGroups', resource: '*' },
  ...['iam:GetRole', 'iam:ListRolePolicies', 'iam:GetRolePolicy', 'iam:ListAttachedRolePolicies'].flatMap(
    (action) => [
      { action, resource: DELIVERY_ROLE },
      { action, resource: `arn:aws:iam::${ACCOUNT}:role/service-role/custom-cloudtrail-role` },
    ],
  ),
  { action: 'iam:GetPolicy', resource: `arn:aws:iam::${ACCOUNT}:policy/custom-delivery` },
  { action: 'iam:GetPolicyVersion', resource: 'arn:aws:iam::aws:policy/CloudWatchLogsFullAccess' },
];

/** What each step calls (see services/handlers and services/aws), as IAM requests. */
function needs(step: StepName): IamRequest[] {
  switch (step) {
    case 'Check':
      // An organization trail's member streams are named after the organization id (o-ORGID_*); when the trail
      // reports a delivery error, when it was first seen (the state table).
      return [
        ...READ_TRAIL_STATE,
        { action: 'organizations:DescribeOrganization', resource: '*' },
        ...STATE_TABLE(),
      ];
    case 'Verify':
      return [...READ_TRAIL_STATE, { action: 'organizations:DescribeOrganization', resource: '*' }];
    case 'CheckDelivery':
      // The delivery check reads only the trail's status, in its home region.
      return ['us-east-1', 'eu-west-3'].map((region) => ({
        action: 'cloudtrail:GetTrailStatus',
        resource: trail(region),
      }));
    case 'RestoreLogGroup':
      return ['us-east-1', 'eu-west-3'].flatMap((region) => [
        { action: 'logs:DescribeLogGroups', resource: '*' },
        // CreateLogGroup with tags needs logs:TagResource too.
        // Created with the trailguard:managed=true tag (services/aws/log-group-writer.ts).
        { action: 'logs:CreateLogGroup', resource: logGroup('CloudTrail/x', region), context: MANAGED_TAG },
        { action: 'logs:TagResource', resource: logGroup('CloudTrail/x', region), context: MANAGED_TAG },
        { action: 'logs:PutRetentionPolicy', resource: logGroup('CloudTrail/x', region) },
        // Deletion protection on a group it created (config.logGroupDeletionProtection) or restored.
        { action: 'logs:PutLogGroupDeletionProtection', resource: logGroup('CloudTrail/x', region) },
        { action: 'logs:ListTagsForResource', resource: logGroup('CloudTrail/x', region) },
        // A recreated group gets back what the sweep's snapshot recorded (services/aws/log-group-snapshot.ts),
        // after re-reading what the group already has.
        ...[
          'logs:DescribeMetricFilters',
          'logs:DescribeSubscriptionFilters',
          'logs:GetDataProtectionPolicy',
        ].map((action) => ({ action, resource: logGroup('CloudTrail/x', region) })),
        ...[
          'logs:AssociateKmsKey',
          'logs:TagResource',
          'logs:PutDataProtectionPolicy',
          'logs:PutMetricFilter',
          'logs:PutSubscriptionFilter',
        ].map((action) => ({ action, resource: logGroup('CloudTrail/x', region) })),
        {
          action: 'iam:PassRole',
          resource: `arn:aws:iam::${ACCOUNT}:role/team-log-stream-writer`,
          context: { 'iam:PassedToService': 'logs.amazonaws.com' },
        },
        ...STATE_TABLE(),
      ]);
    case 'RestoreRole':
      return [
        ...['iam:GetRole', 'iam:ListRolePolicies', 'iam:GetRolePolicy', 'iam:ListAttachedRolePolicies'].map(
          (action) => ({ action, resource: DELIVERY_ROLE }),
        ),
        { action: 'iam:CreateRole', resource: DELIVERY_ROLE, context: MANAGED_TAG },
        { action: 'iam:TagRole', resource: DELIVERY_ROLE, context: MANAGED_TAG },
        { action: 'iam:PutRolePolicy', resource: DELIVERY_ROLE },
        { action: 'iam:UpdateAssumeRolePolicy', resource: DELIVERY_ROLE },
        // Consolidating an earlier version's per-log-group grants into the shared one (role-writer.ts).
        { action: 'iam:DeleteRolePolicy', resource: DELIVERY_ROLE },
      ];
    case 'RestoreTrail':
      return [
        ...['us-east-1', 'eu-west-3'].flatMap((region) =>
          [
            'cloudtrail:GetTrail',
            'cloudtrail:GetTrailStatus',
            'cloudtrail:UpdateTrail',
            'cloudtrail:StartLogging',
          ].map((action) => ({ action, resource: trail(region) })),
        ),
        {
          action: 'iam:PassRole',
          resource: DELIVERY_ROLE,
          context: { 'iam:PassedToService': 'cloudtrail.amazonaws.com' },
        },
        // Classifying a rejection re-reads the role's trust policy.
        { action: 'iam:GetRole', resource: DELIVERY_ROLE },
        { action: 'iam:ListRolePolicies', resource: DELIVERY_ROLE },
      ];
    case 'Notify':
      return [
        { action: 'sns:Publish', resource: topicArn },
        {
          action: 'kms:GenerateDataKey',
          resource: keyArn,
          context: { 'kms:ViaService': 'sns.us-east-1.amazonaws.com' },
          resourcePolicy: keyPolicy,
        },
        {
          action: 'kms:Decrypt',
          resource: keyArn,
          context: { 'kms:ViaService': 'sns.us-east-1.amazonaws.com' },
          resourcePolicy: keyPolicy,
        },
        // Powertools idempotency on Notify's own table (one email per run and outcome).
        ...['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem'].map(
          (action) => ({ action, resource: idempotencyTableArn }),
        ),
        {
          action: 'kms:GenerateDataKey',
          resource: keyArn,
          context: { 'kms:ViaService': 'dynamodb.us-east-1.amazonaws.com' },
          resourcePolicy: keyPolicy,
        },
      ];
    case 'UpdateFindings':
      return ['us-east-1', 'eu-west-3'].flatMap((region) => [
        {
          action: 'securityhub:GetFindings',
          resource: `arn:aws:securityhub:${region}:${ACCOUNT}:hub/default`,
        },
        {
          action: 'securityhub:BatchUpdateFindings',
          resource: `arn:aws:securityhub:${region}:${ACCOUNT}:hub/default`,
          context: { 'securityhub:ASFFSyntaxPath/Workflow.Status': 'RESOLVED' },
        },
        // A note alone: no workflow status in the request.
        {
          action: 'securityhub:BatchUpdateFindings',
          resource: `arn:aws:securityhub:${region}:${ACCOUNT}:hub/default`,
        },
      ]);
    case 'Audit':
      return [
        { action: 'dynamodb:PutItem', resource: tableArn },
        { action: 'dynamodb:GetItem', resource: tableArn },
        {
          action: 'kms:GenerateDataKey',
          resource: keyArn,
          context: { 'kms:ViaService': 'dynamodb.us-east-1.amazonaws.com' },
          resourcePolicy: keyPolicy,
        },
      ];
  }
}

/** Requests no role of the stack may make. */
const DANGEROUS: (IamRequest & { why: string })[] = [
  {
    why: 'pass another role to CloudTrail',
    action: 'iam:PassRole',
    resource: ADMIN_ROLE,
    context: { 'iam:PassedToService': 'cloudtrail.amazonaws.com' },
  },
  {
    why: 'pass the delivery role to another service',
    action: 'iam:PassRole',
    resource: DELIVERY_ROLE,
    context: { 'iam:PassedToService': 'ec2.amazonaws.com' },
  },
  {
    why: 'pass the delivery role to Lambda',
    action: 'iam:PassRole',
    resource: DELIVERY_ROLE,
    context: { 'iam:PassedToService': 'lambda.amazonaws.com' },
  },
  { why: 'create another role', action: 'iam:CreateRole', resource: ADMIN_ROLE, context: MANAGED_TAG },
  { why: "change another role's permissions", action: 'iam:PutRolePolicy', resource: ADMIN_ROLE },
  {
    why: 'pass a role to Lambda (only CloudTrail and CloudWatch Logs get roles)',
    action: 'iam:PassRole',
    resource: ADMIN_ROLE,
    context: { 'iam:PassedToService': 'lambda.amazonaws.com' },
  },
  {
    why: "subscribe a team's log group to a destination",
    action: 'logs:PutSubscriptionFilter',
    resource: logGroup('app/payments'),
  },
  { why: 'delete a metric filter', action: 'logs:DeleteMetricFilter', resource: logGroup('CloudTrail/x') },
  {
    why: "change a team's log group deletion protection (protectExistingLogGroups is off by default)",
    action: 'logs:PutLogGroupDeletionProtection',
    resource: logGroup('app/payments'),
  },
  {
    why: 'delete an alarm',
    action: 'cloudwatch:DeleteAlarms',
    resource: `arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:trailguard-cis-4.3-RootAccountUsage-x`,
  },
  {
    why: "change a team's retention",
    action: 'logs:PutRetentionPolicy',
    resource: logGroup('app/payments'),
  },
  { why: "delete another role's inline policy", action: 'iam:DeleteRolePolicy', resource: ADMIN_ROLE },
  { why: 'detach a policy from the delivery role', action: 'iam:DetachRolePolicy', resource: DELIVERY_ROLE },
  {
    why: "remove the delivery role's permissions boundary",
    action: 'iam:DeleteRolePermissionsBoundary',
    resource: DELIVERY_ROLE,
  },
  { why: 'list the accounts of the organization', action: 'organizations:ListAccounts', resource: '*' },
  { why: "change another role's trust", action: 'iam:UpdateAssumeRolePolicy', resource: ADMIN_ROLE },
  {
    why: 'attach AdministratorAccess to another role',
    action: 'iam:AttachRolePolicy',
    resource: ADMIN_ROLE,
    context: { 'iam:PolicyARN': 'arn:aws:iam::aws:policy/AdministratorAccess' },
  },
  {
    why: 'attach AdministratorAccess to the delivery role',
    action: 'iam:AttachRolePolicy',
    resource: DELIVERY_ROLE,
    context: { 'iam:PolicyARN': 'arn:aws:iam::aws:policy/AdministratorAccess' },
  },
  {
    why: 'give the delivery role a permissions boundary',
    action: 'iam:PutRolePermissionsBoundary',
    resource: DELIVERY_ROLE,
  },
  { why: 'delete the delivery role', action: 'iam:DeleteRole', resource: DELIVERY_ROLE },
  {
    why: 'create a managed policy version',
    action: 'iam:CreatePolicyVersion',
    resource: `arn:aws:iam::${ACCOUNT}:policy/any`,
  },
  {
    why: 'create a managed policy',
    action: 'iam:CreatePolicy',
    resource: `arn:aws:iam::${ACCOUNT}:policy/any`,
  },
  {
    why: 'assume the delivery role',
    action: 'sts:AssumeRole',
    resource: DELIVERY_ROLE,
    resourcePolicy: initialTrustPolicy(),
  },
  { why: 'assume another role', action: 'sts:AssumeRole', resource: ADMIN_ROLE },
  { why: 'delete a trail', action: 'cloudtrail:DeleteTrail', resource: trail() },
  { why: 'stop logging', action: 'cloudtrail:StopLogging', resource: trail() },
  { why: 'change event selectors', action: 'cloudtrail:PutEventSelectors', resource: trail() },
  {
    why: 'update a trail of another account',
    action: 'cloudtrail:UpdateTrail',
    resource: trail('us-east-1', OTHER_ACCOUNT),
  },
  {
    why: 'start logging a trail of another account',
    action: 'cloudtrail:StartLogging',
    resource: trail('us-east-1', OTHER_ACCOUNT),
  },
  { why: 'delete the log group', action: 'logs:DeleteLogGroup', resource: logGroup('CloudTrail/x') },
  {
    why: 'delete a log stream',
    action: 'logs:DeleteLogStream',
    resource: `${logGroup('CloudTrail/x')}:log-stream:s`,
  },
  {
    why: 'shorten retention of an unrelated log group',
    action: 'logs:PutRetentionPolicy',
    resource: logGroup('/aws/lambda/payments'),
  },
  {
    why: 'delete the retention policy',
    action: 'logs:DeleteRetentionPolicy',
    resource: logGroup('CloudTrail/x'),
  },
  {
    why: 'read the audit records',
    action: 'dynamodb:Scan',
    resource: `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/any`,
  },
  {
    why: 'suppress a Security Hub finding',
    action: 'securityhub:BatchUpdateFindings',
    resource: `arn:aws:securityhub:us-east-1:${ACCOUNT}:hub/default`,
    context: { 'securityhub:ASFFSyntaxPath/Workflow.Status': 'SUPPRESSED' },
  },
  {
    why: 'import (forge) Security Hub findings',
    action: 'securityhub:BatchImportFindings',
    resource: `arn:aws:securityhub:us-east-1:${ACCOUNT}:product/${ACCOUNT}/default`,
  },
  {
    why: 'disable Security Hub',
    action: 'securityhub:DisableSecurityHub',
    resource: `arn:aws:securityhub:us-east-1:${ACCOUNT}:hub/default`,
  },
];

describe('the synthesized roles', () => {
  it('one role per workflow step (and no AWS managed policy on any role)', () => {
    for (const step of Object.keys(STEPS) as StepName[])
      expect(roleOf(step).policies.length, step).toBeGreaterThan(0);
    for (const role of roles) expect(role.managedPolicyArns, role.logicalId).toEqual([]);
  });
});

describe('each step may do what it needs', () => {
  it.each(Object.keys(STEPS) as StepName[])('%s', async (step) => {
    const role = roleOf(step);
    const refused: string[] = [];
    for (const request of needs(step)) {
      if ((await decide(role, request)) !== 'Allowed')
        refused.push(`${request.action} on ${request.resource}`);
    }
    expect(refused, `${step} cannot do what it needs`).toEqual([]);
  });
});

describe('dangerous requests are denied for every role of the stack', () => {
  it.each(DANGEROUS.map((d) => [d.why, d] as const))('%s', async (_why, request) => {
    const allowedFor: string[] = [];
    for (const role of roles) {
      if ((await decide(role, request)) === 'Allowed') allowedFor.push(role.owner ?? role.logicalId);
    }
    expect(allowedFor, `${request.action} on ${request.resource} is allowed for`).toEqual([]);
  });

  it('the checks cover every function role (a role added later is checked too)', () => {
    const functionRoles = roles.filter((r) => r.assumedBy.includes('lambda.amazonaws.com'));
    expect(functionRoles.length).toBeGreaterThanOrEqual(Object.keys(STEPS).length);
    expect(functionRoles.every((r) => r.owner !== undefined)).toBe(true);
  });
});

describe('the simulation itself', () => {
  it('tells allowed from denied (a policy granting everything allows every dangerous request)', async () => {
    const admin: RolePolicies = {
      logicalId: 'Admin',
      roleArn: ADMIN_ROLE,
      assumedBy: [],
      policies: [
        {
          name: 'all',
          policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
        },
      ],
      managedPolicyArns: [],
    };
    for (const request of DANGEROUS.filter((d) => !d.resourcePolicy && !d.resource.includes(OTHER_ACCOUNT)))
      expect(await decide(admin, request), request.why).toBe('Allowed');
  });
});

describe("the delivery role's trust policy (no condition: AWS supports none for this role)", () => {
  // AWS, "Role policy document for CloudTrail to use CloudWatch Logs for monitoring": confused deputy prevention
  // is not applicable to this role; aws:SourceArn / aws:SourceAccount are not supported. What keeps other
  // principals out is the principal itself; what keeps the role to this account's trails is iam:PassRole (only
  // trailguard's RestoreTrail may pass it, and only to CloudTrail).
  const trust = initialTrustPolicy();
  const assume = (principal: string, context: Record<string, string>) =>
    decide(
      { logicalId: 'caller', roleArn: principal, assumedBy: [], policies: [], managedPolicyArns: [] },
      { action: 'sts:AssumeRole', resource: DELIVERY_ROLE, context, resourcePolicy: trust },
    );

  it('has no condition', () => {
    expect(JSON.stringify(trust)).not.toContain('Condition');
  });

  it('lets CloudTrail assume it without aws:SourceAccount / aws:SourceArn (what CloudTrail sends for this role)', async () => {
    expect(await assume('cloudtrail.amazonaws.com', {})).toBe('Allowed');
  });

  it('lets CloudTrail assume it for any trail of the account, in any region (a shared role), keys or not', async () => {
    for (const sourceArn of [
      trail(),
      trail('eu-west-3'),
      `arn:aws:cloudtrail:ap-southeast-2:${ACCOUNT}:trail/org-trail`,
    ])
      expect(
        await assume('cloudtrail.amazonaws.com', {
          'aws:SourceAccount': ACCOUNT,
          'aws:SourceArn': sourceArn,
        }),
      ).toBe('Allowed');
  });

  it('refuses other services and any role or user', async () => {
    expect(await assume('ec2.amazonaws.com', {})).not.toBe('Allowed');
    expect(await assume('lambda.amazonaws.com', { 'aws:SourceAccount': ACCOUNT })).not.toBe('Allowed');
    expect(await assume(ADMIN_ROLE, {})).not.toBe('Allowed');
    expect(await assume(`arn:aws:iam::${OTHER_ACCOUNT}:role/Admin`, {})).not.toBe('Allowed');
  });
});
