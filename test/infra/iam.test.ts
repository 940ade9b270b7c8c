/**
 * Least privilege: the exact IAM statements each function's role gets in the synthesized template (as
 * cdk-nag renders references), that they are policies/iam.ts's documents and nothing else, that every
 * cdk-nag wildcard acknowledgement names a finding that exists, and what the documents allow and deny when
 * evaluated (@cloud-copilot/iam-simulate).
 */

import { runSimulation } from '@cloud-copilot/iam-simulate';
import { type CfnElement, Stack } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { nagFlatten, wildcardFindings } from '../../infra/constructs/functions.js';
import { parseConfig } from '../../policies/config.js';
import {
  FUNCTION_NAMES,
  type FunctionName,
  functionPolicy,
  functionPolicyDocument,
  type PolicyContext,
} from '../../policies/iam.js';
import {
  type CfnResource,
  functionIds,
  onlyIdOfType,
  type RenderedStatement,
  renderDeep,
  roleIdOf,
  type Synth,
  sortStatements,
  statementsOfFunction,
  synth,
  tableId,
} from './template.js';

const P = '<AWS::Partition>';
const A = '<AWS::AccountId>';
const TRAILS = `arn:${P}:cloudtrail:*:${A}:trail/*`;
const LOG_GROUPS = `arn:${P}:logs:*:${A}:log-group:*`;
const ROLES = `arn:${P}:iam::${A}:role/*`;
const DELIVERY_ROLE = [
  `arn:${P}:iam::${A}:role/trailguard-cloudtrail-delivery`,
  `arn:${P}:iam::${A}:role/*/trailguard-cloudtrail-delivery`,
];
const XRAY: RenderedStatement = {
  Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
  Resource: ['*'],
};

/** Every BatchUpdateFindings field but Workflow.Status and Note, denied when present (one statement each). */
const DENIED_FINDING_FIELDS = [
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
];
const FINDING_FIELD_DENIALS: RenderedStatement[] = [
  ...DENIED_FINDING_FIELDS.map((field) => ({
    Sid: `DenyFindingField${field.replace('.', '')}`,
    Effect: 'Deny' as const,
    Action: ['securityhub:BatchUpdateFindings'],
    Resource: ['*'],
    Condition: { Null: { [`securityhub:ASFFSyntaxPath/${field}`]: 'false' } },
  })),
  {
    Sid: 'DenyFindingWorkflowStatus',
    Effect: 'Deny',
    Action: ['securityhub:BatchUpdateFindings'],
    Resource: ['*'],
    Condition: {
      Null: { 'securityhub:ASFFSyntaxPath/Workflow.Status': 'false' },
      StringNotEquals: { 'securityhub:ASFFSyntaxPath/Workflow.Status': ['NEW', 'NOTIFIED', 'RESOLVED'] },
    },
  },
];

let s: Synth;
let resources: Record<string, CfnResource>;
beforeAll(() => {
  s = synth();
  resources = s.resources;
});

/** What CDK adds to every function: writing to its own log group, and X-Ray. */
function base(fn: string): RenderedStatement[] {
  const props = resources[functionIds(resources)[fn] ?? '']?.Properties as {
    LoggingConfig: { LogGroup: { Ref: string } };
  };
  return [
    {
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: [`<${props.LoggingConfig.LogGroup.Ref}.Arn>`],
    },
    XRAY,
  ];
}

const READ_TRAILS: RenderedStatement = {
  Sid: 'ReadTrails',
  Action: ['cloudtrail:GetTrail', 'cloudtrail:GetTrailStatus', 'cloudtrail:ListTags'],
  Resource: [TRAILS],
};
const READ_LOG_GROUPS: RenderedStatement = {
  Sid: 'ReadLogGroups',
  Action: ['logs:DescribeLogGroups'],
  Resource: ['*'],
};
const MANAGED_TAG_ONLY = {
  StringEquals: { 'aws:RequestTag/trailguard:managed': 'true' },
  'ForAllValues:StringEquals': { 'aws:TagKeys': ['trailguard:managed'] },
};
const READ_ROLES: RenderedStatement = {
  Sid: 'ReadRoles',
  Action: ['iam:GetRole', 'iam:ListRolePolicies', 'iam:GetRolePolicy', 'iam:ListAttachedRolePolicies'],
  Resource: [ROLES],
};
const READ_POLICIES: RenderedStatement = {
  Sid: 'ReadManagedPolicies',
  Action: ['iam:GetPolicy', 'iam:GetPolicyVersion'],
  Resource: [`arn:${P}:iam::${A}:policy/*`, `arn:${P}:iam::aws:policy/*`],
};
/** The organization's id, for an organization trail's member streams (o-ORGID_*); no resource-level permissions. */
const READ_ORGANIZATION: RenderedStatement = {
  Sid: 'ReadOrganization',
  Action: ['organizations:DescribeOrganization'],
  Resource: ['*'],
};

function expected(): Record<FunctionName, RenderedStatement[]> {
  const key = `<${onlyIdOfType(resources, 'AWS::KMS::Key')}.Arn>`;
  const topic = `<${onlyIdOfType(resources, 'AWS::SNS::Topic')}>`;
  const table = `<${tableId(resources, 'audit')}.Arn>`;
  const idempotencyTable = `<${tableId(resources, 'idempotency')}.Arn>`;
  const stateTable = `<${tableId(resources, 'state')}.Arn>`;
  const MANAGED_GROUPS = [`arn:${P}:logs:*:${A}:log-group:CloudTrail/*`];
  const READ_WRITE_STATE: RenderedStatement = {
    Sid: 'ReadWriteState',
    Action: ['dynamodb:GetItem', 'dynamodb:PutItem'],
    Resource: [stateTable],
  };
  const USE_TABLE_KEY: RenderedStatement = {
    Sid: 'UseAuditTableKey',
    Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
    Resource: [key],
    Condition: { StringEquals: { 'kms:ViaService': 'dynamodb.<AWS::Region>.<AWS::URLSuffix>' } },
  };
  const sm = `<${onlyIdOfType(resources, 'AWS::StepFunctions::StateMachine')}>`;
  const failureQueue = Object.keys(resources).find((id) => id.startsWith('SweepFailureQueue'));
  return {
    Check: [
      READ_TRAILS,
      READ_LOG_GROUPS,
      READ_ROLES,
      READ_POLICIES,
      READ_ORGANIZATION,
      READ_WRITE_STATE,
      USE_TABLE_KEY,
    ],
    Verify: [READ_TRAILS, READ_LOG_GROUPS, READ_ROLES, READ_POLICIES, READ_ORGANIZATION],
    CheckDelivery: [READ_TRAILS],
    RestoreLogGroup: [
      READ_LOG_GROUPS,
      { Sid: 'ReadLogGroupTags', Action: ['logs:ListTagsForResource'], Resource: [LOG_GROUPS] },
      {
        Sid: 'CreateManagedLogGroups',
        Action: ['logs:CreateLogGroup', 'logs:TagResource', 'logs:TagLogGroup'],
        Resource: [`arn:${P}:logs:*:${A}:log-group:CloudTrail/*`],
        Condition: MANAGED_TAG_ONLY,
      },
      {
        Sid: 'SetManagedLogGroupRetention',
        Action: ['logs:PutRetentionPolicy'],
        Resource: [`arn:${P}:logs:*:${A}:log-group:CloudTrail/*`],
      },
      {
        // Deletion protection on the groups trailguard creates or restores only (protectExistingLogGroups off).
        Sid: 'ProtectLogGroups',
        Action: ['logs:PutLogGroupDeletionProtection'],
        Resource: [`arn:${P}:logs:*:${A}:log-group:CloudTrail/*`],
      },
      {
        Sid: 'ReadLogGroupSnapshots',
        Action: [
          'logs:ListTagsForResource',
          'logs:DescribeMetricFilters',
          'logs:DescribeSubscriptionFilters',
          'logs:GetDataProtectionPolicy',
        ],
        Resource: [LOG_GROUPS],
      },
      {
        Sid: 'RestoreLogGroupSnapshots',
        Action: [
          'logs:PutRetentionPolicy',
          'logs:AssociateKmsKey',
          'logs:TagResource',
          'logs:PutDataProtectionPolicy',
          'logs:PutMetricFilter',
          'logs:PutSubscriptionFilter',
        ],
        Resource: MANAGED_GROUPS,
      },
      {
        Sid: 'PassSubscriptionRolesToCloudWatchLogs',
        Action: ['iam:PassRole'],
        Resource: [ROLES],
        Condition: { StringEquals: { 'iam:PassedToService': 'logs.amazonaws.com' } },
      },
      READ_WRITE_STATE,
      USE_TABLE_KEY,
    ],
    RestoreRole: [
      READ_ROLES,
      READ_POLICIES,
      {
        Sid: 'CreateDeliveryRoles',
        Action: ['iam:CreateRole', 'iam:TagRole'],
        Resource: DELIVERY_ROLE,
        Condition: MANAGED_TAG_ONLY,
      },
      {
        Sid: 'RepairDeliveryRoles',
        Action: ['iam:UpdateAssumeRolePolicy', 'iam:PutRolePolicy', 'iam:DeleteRolePolicy'],
        Resource: DELIVERY_ROLE,
      },
    ],
    RestoreTrail: [
      READ_TRAILS,
      READ_ROLES,
      READ_POLICIES,
      {
        Sid: 'RepairTrails',
        Action: ['cloudtrail:UpdateTrail', 'cloudtrail:StartLogging'],
        Resource: [TRAILS],
      },
      {
        Sid: 'PassDeliveryRolesToCloudTrail',
        Action: ['iam:PassRole'],
        Resource: DELIVERY_ROLE,
        Condition: { StringEquals: { 'iam:PassedToService': 'cloudtrail.amazonaws.com' } },
      },
    ],
    Notify: [
      { Sid: 'PublishNotifications', Action: ['sns:Publish'], Resource: [topic] },
      {
        Sid: 'UseTopicKey',
        Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
        Resource: [key],
        Condition: { StringEquals: { 'kms:ViaService': 'sns.<AWS::Region>.<AWS::URLSuffix>' } },
      },
      {
        Sid: 'WriteIdempotencyRecords',
        Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem'],
        Resource: [idempotencyTable],
      },
      {
        Sid: 'UseAuditTableKey',
        Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
        Resource: [key],
        Condition: { StringEquals: { 'kms:ViaService': 'dynamodb.<AWS::Region>.<AWS::URLSuffix>' } },
      },
    ],
    UpdateFindings: [
      { Sid: 'ReadSecurityHubFindings', Action: ['securityhub:GetFindings'], Resource: ['*'] },
      { Sid: 'UpdateSecurityHubFindings', Action: ['securityhub:BatchUpdateFindings'], Resource: ['*'] },
      ...FINDING_FIELD_DENIALS,
    ],
    Audit: [
      { Sid: 'WriteAuditRecords', Action: ['dynamodb:PutItem', 'dynamodb:GetItem'], Resource: [table] },
      {
        Sid: 'UseAuditTableKey',
        Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
        Resource: [key],
        Condition: { StringEquals: { 'kms:ViaService': 'dynamodb.<AWS::Region>.<AWS::URLSuffix>' } },
      },
    ],
    Sweep: [
      { Sid: 'ListTrails', Action: ['cloudtrail:DescribeTrails'], Resource: ['*'] },
      READ_TRAILS,
      READ_LOG_GROUPS,
      READ_ROLES,
      READ_POLICIES,
      READ_ORGANIZATION,
      {
        Sid: 'ReadLogGroupSnapshots',
        Action: [
          'logs:ListTagsForResource',
          'logs:DescribeMetricFilters',
          'logs:DescribeSubscriptionFilters',
          'logs:GetDataProtectionPolicy',
        ],
        Resource: [LOG_GROUPS],
      },
      READ_WRITE_STATE,
      USE_TABLE_KEY,
      { Sid: 'StartWorkflow', Action: ['states:StartExecution'], Resource: [sm] },
      // The Lambda destination of failed asynchronous invocations (CDK's grant).
      {
        Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
        Resource: [`<${failureQueue}.Arn>`],
      },
    ],
  };
}

describe('exact statements per function (default configuration)', () => {
  for (const fn of FUNCTION_NAMES) {
    it(fn, () => {
      expect(statementsOfFunction(resources, fn)).toEqual(sortStatements([...expected()[fn], ...base(fn)]));
    });
  }

  it("the only deletes are iam:DeleteRolePolicy (RestoreRole, managed delivery roles only) and Notify's own idempotency records; nothing detaches", () => {
    const destructive = /:(Delete|Detach|Remove|Untag|Stop|Disable)/;
    for (const fn of FUNCTION_NAMES) {
      const statements = statementsOfFunction(resources, fn);
      const actions = statements.flatMap((st) => st.Action);
      expect(
        actions.filter((a) => /:Detach/.test(a)),
        fn,
      ).toEqual([]);
      expect(
        actions.filter((a) => a.includes('*')),
        fn,
      ).toEqual([]);
      const deletes = statements.flatMap((st) =>
        st.Action.filter((a) => destructive.test(a)).map((action) => ({
          action,
          resource: st.Resource,
          condition: st.Condition,
        })),
      );
      expect(deletes, fn).toEqual(
        fn === 'RestoreRole'
          ? [{ action: 'iam:DeleteRolePolicy', resource: DELIVERY_ROLE, condition: undefined }]
          : fn === 'Notify'
            ? [
                {
                  action: 'dynamodb:DeleteItem',
                  resource: [`<${tableId(resources, 'idempotency')}.Arn>`],
                  condition: undefined,
                },
              ]
            : [],
      );
    }
  });

  it("the state machine's role may invoke exactly the step functions", () => {
    const machine = resources[onlyIdOfType(resources, 'AWS::StepFunctions::StateMachine')];
    const roleId = (machine?.Properties.RoleArn as { 'Fn::GetAtt': [string] } | undefined)?.['Fn::GetAtt'][0];
    const invoke = Object.values(resources)
      .filter(
        (r) =>
          r.Type === 'AWS::IAM::Policy' &&
          (r.Properties.Roles as { Ref: string }[]).some((x) => x.Ref === roleId),
      )
      .flatMap(
        (p) =>
          (p.Properties.PolicyDocument as { Statement: { Action: string; Resource: unknown[] }[] }).Statement,
      )
      .filter((st) => st.Action === 'lambda:InvokeFunction')
      .flatMap((st) => st.Resource.map(nagFlatten));
    const ids = functionIds(resources);
    const steps = FUNCTION_NAMES.filter((f) => f !== 'Sweep');
    expect(invoke.sort()).toEqual(steps.flatMap((f) => [`<${ids[f]}.Arn>`, `<${ids[f]}.Arn>:*`]).sort());
  });
});

describe('Security Hub permissions', () => {
  it('securityhub:BatchUpdateFindings (and GetFindings) in UpdateFindings only, with no wildcard action', () => {
    for (const fn of FUNCTION_NAMES) {
      const actions = statementsOfFunction(resources, fn)
        .filter((st) => st.Effect !== 'Deny')
        .flatMap((st) => st.Action);
      expect(
        actions.filter((a) => a.startsWith('securityhub:') || a === '*' || a.startsWith('securityhub*')),
        fn,
      ).toEqual(
        fn === 'UpdateFindings' ? ['securityhub:GetFindings', 'securityhub:BatchUpdateFindings'] : [],
      );
      expect(
        actions.filter((a) => a.includes('*')),
        fn,
      ).toEqual([]);
    }
    const update = statementsOfFunction(resources, 'UpdateFindings').find(
      (st) => st.Sid === 'UpdateSecurityHubFindings',
    );
    expect(update?.Action).toEqual(['securityhub:BatchUpdateFindings']);
  });

  it('securityHub: false: no Security Hub permission and no findings rule', () => {
    const off = synth({ config: { securityHub: false } });
    for (const fn of FUNCTION_NAMES) {
      const actions = statementsOfFunction(off.resources, fn).flatMap((st) => st.Action);
      expect(
        actions.filter((a) => a.startsWith('securityhub:')),
        fn,
      ).toEqual([]);
    }
    const rules = Object.values(off.resources).filter((r) => r.Type === 'AWS::Events::Rule');
    expect(rules.map((r) => r.Metadata?.['trailguard:rule']).sort()).toEqual([
      'DependencyTrigger',
      'Sweep',
      'Trigger',
    ]);
  });
});

describe('configuration shapes the statements', () => {
  it('a log group template, managed role names and a KMS key for log groups', () => {
    const custom = synth({
      config: {
        logGroupNameTemplate: 'aws/cloudtrail/{account}/{trail}/events',
        managedRoleNames: ['ct-delivery'],
        kmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/abcd-1234',
      },
    });
    const roles = [
      `arn:${P}:iam::${A}:role/trailguard-cloudtrail-delivery`,
      `arn:${P}:iam::${A}:role/*/trailguard-cloudtrail-delivery`,
      `arn:${P}:iam::${A}:role/ct-delivery`,
      `arn:${P}:iam::${A}:role/*/ct-delivery`,
    ];
    const sid = (fn: string, id: string) =>
      statementsOfFunction(custom.resources, fn).find((st) => st.Sid === id);
    const groups = [
      `arn:${P}:logs:*:${A}:log-group:aws/cloudtrail/*/*/events`,
      `arn:${P}:logs:*:${A}:log-group:aws/cloudtrail/*/*/events:*`,
    ];
    expect(sid('RestoreLogGroup', 'CreateManagedLogGroups')).toEqual({
      Sid: 'CreateManagedLogGroups',
      Action: ['logs:CreateLogGroup', 'logs:TagResource', 'logs:TagLogGroup'],
      Resource: groups,
      Condition: MANAGED_TAG_ONLY,
    });
    expect(sid('RestoreLogGroup', 'SetManagedLogGroupRetention')).toEqual({
      Sid: 'SetManagedLogGroupRetention',
      Action: ['logs:PutRetentionPolicy', 'logs:AssociateKmsKey'],
      Resource: groups,
    });
    expect(sid('RestoreLogGroup', 'DescribeLogGroupKey')).toEqual({
      Sid: 'DescribeLogGroupKey',
      Action: ['kms:DescribeKey'],
      Resource: ['arn:aws:kms:us-east-1:123456789012:key/abcd-1234'],
    });
    expect(sid('RestoreRole', 'CreateDeliveryRoles')?.Resource).toEqual(roles);
    expect(sid('RestoreRole', 'RepairDeliveryRoles')?.Resource).toEqual(roles);
    expect(sid('RestoreTrail', 'PassDeliveryRolesToCloudTrail')?.Resource).toEqual(roles);
  });
});

describe('the template holds exactly policies/iam.ts', () => {
  it('each function role carries functionPolicy(fn, ctx) for the stack, plus only CDK log/X-Ray/destination grants', () => {
    const stack = Stack.of(s.stack);
    const ctx: PolicyContext = {
      partition: stack.partition,
      account: stack.account,
      region: stack.region,
      urlSuffix: stack.urlSuffix,
      config: s.stack.config,
      topicArn: s.stack.topic.topicArn,
      topicKeyArn: s.stack.dataKey.keyArn,
      tableArn: s.stack.auditTable.tableArn,
      tableKeyArn: s.stack.dataKey.keyArn,
      idempotencyTableArn: s.stack.idempotencyTable.tableArn,
      stateTableArn: s.stack.stateTable.tableArn,
      stateMachineArn: s.stack.workflow.stateMachine.stateMachineArn,
    };
    for (const fn of FUNCTION_NAMES) {
      const fromDocs = functionPolicy(fn, ctx).map((st) => {
        const resolved = stack.resolve(st) as { Resource: unknown[]; Condition?: unknown };
        return {
          Sid: st.Sid,
          ...(st.Effect === 'Deny' ? { Effect: 'Deny' as const } : {}),
          Action: st.Action,
          Resource: resolved.Resource.map(nagFlatten),
          ...(st.Condition ? { Condition: renderDeep(resolved.Condition) } : {}),
        };
      });
      const inTemplate = statementsOfFunction(resources, fn).filter((st) => st.Sid !== undefined);
      expect(inTemplate, fn).toEqual(sortStatements(fromDocs));
    }
  });
});

describe('cdk-nag acknowledgements are exact', () => {
  it("each function role acknowledges exactly the AwsSolutions-IAM5 findings its policy produces, with the statement's reason", () => {
    const stack = Stack.of(s.stack);
    for (const fn of FUNCTION_NAMES) {
      const roleId = roleIdOf(resources, fn);
      const statements = Object.values(resources)
        .filter(
          (r) =>
            r.Type === 'AWS::IAM::Policy' &&
            (r.Properties.Roles as { Ref: string }[]).some((x) => x.Ref === roleId),
        )
        .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement);
      const findings = new Set(
        statements.flatMap((st) =>
          wildcardFindings(stack, {
            Sid: String(st.Sid ?? ''),
            Effect: 'Allow',
            Action: ([] as string[]).concat(st.Action as string),
            Resource: ([] as unknown[]).concat(st.Resource) as string[],
          }),
        ),
      );
      const role = s.stack.node
        .findAll()
        .find(
          (c) =>
            c.node.defaultChild !== undefined &&
            stack.resolve((c.node.defaultChild as CfnElement).logicalId) === roleId,
        );
      expect(role, fn).toBeDefined();
      // Validations.acknowledge records {id: reason}; CDK prefixes ids "Annotation::" (cdk-nag strips it).
      const acks = (role?.node.metadata ?? [])
        .filter((m) => m.type === 'aws:cdk:acknowledged-rules')
        .flatMap((m) => Object.entries(m.data as Record<string, string>))
        .map(([id, reason]) => ({ id: id.replace(/^(annotation|AwsSolutions)::/i, ''), reason }));
      const iam5 = acks.filter((a) => a.id.startsWith('AwsSolutions-IAM5['));
      expect(new Set(iam5.map((a) => a.id.slice('AwsSolutions-IAM5['.length, -1))), fn).toEqual(findings);
      for (const a of iam5) {
        expect(a.reason, `${fn} ${a.id}`).toMatch(new RegExp(`^Role of the trailguard ${fn} function`));
      }
      expect(
        acks.filter((a) => !a.id.startsWith('AwsSolutions-IAM5[')),
        fn,
      ).toEqual([]);
    }
  });
});

describe('what the documents allow (IAM evaluation)', () => {
  const ACCOUNT = '123456789012';
  const ctx: PolicyContext = {
    partition: 'aws',
    account: ACCOUNT,
    region: 'us-east-1',
    config: parseConfig({ managedRoleNames: ['ct-delivery'] }),
    topicArn: `arn:aws:sns:us-east-1:${ACCOUNT}:topic`,
    topicKeyArn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/k`,
    tableArn: `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/audit`,
    tableKeyArn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/k`,
    stateMachineArn: `arn:aws:states:us-east-1:${ACCOUNT}:stateMachine:sm`,
  };

  async function allowed(
    fn: FunctionName,
    action: string,
    resource: string,
    contextVariables: Record<string, string | string[]> = {},
    context: PolicyContext = ctx,
  ): Promise<boolean> {
    // A KMS key is usable only if its key policy lets the account's IAM policies decide (the default policy).
    const keyPolicy = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
          Action: 'kms:*',
          Resource: '*',
        },
      ],
    };
    const result = await runSimulation(
      {
        identityPolicies: [{ name: fn, policy: functionPolicyDocument(fn, context) }],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        ...(action.startsWith('kms:') ? { resourcePolicy: keyPolicy } : {}),
        request: {
          action,
          principal: `arn:aws:iam::${ACCOUNT}:role/${fn}`,
          resource: { accountId: ACCOUNT, resource },
          contextVariables,
        },
      },
      {},
    );
    if (result.resultType === 'error') throw new Error(`iam-simulate: ${JSON.stringify(result.errors)}`);
    return result.overallResult === 'Allowed';
  }

  const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;

  it('cisMonitoring: alarms only under trailguard-cis-* and notifying only the alarm topic; metric filters on any log group; off by default', async () => {
    const cis: PolicyContext = {
      ...ctx,
      config: { ...ctx.config, cisMonitoring: true },
      cisAlarmTopicArn: `arn:aws:sns:us-east-1:${ACCOUNT}:cis-alarms`,
    };
    const alarm = (name: string) => `arn:aws:cloudwatch:eu-west-1:${ACCOUNT}:alarm:${name}`;
    const actions = (topics: string[]) => ({ 'cloudwatch:AlarmActions': topics });
    const put = (name: string, topics: string[], context = cis) =>
      allowed('RestoreLogGroup', 'cloudwatch:PutMetricAlarm', alarm(name), actions(topics), context);
    const topic = cis.cisAlarmTopicArn ?? '';
    expect(await put('trailguard-cis-4.3-RootAccountUsage-CloudTrail/x', [topic])).toBe(true);
    expect(await put('trailguard-cis-4.3-RootAccountUsage-CloudTrail/x', [topic, ctx.topicArn])).toBe(false);
    expect(await put('team-alarm', [topic])).toBe(false);
    expect(await put('trailguard-cis-4.3-RootAccountUsage-CloudTrail/x', [topic], ctx)).toBe(false);
    const group = `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:team/trail-logs`;
    expect(await allowed('RestoreLogGroup', 'logs:PutMetricFilter', group, {}, cis)).toBe(true);
    expect(await allowed('Check', 'logs:DescribeMetricFilters', group, {}, cis)).toBe(true);
    expect(await allowed('Sweep', 'cloudwatch:DescribeAlarms', alarm('trailguard-cis-x'), {}, cis)).toBe(
      true,
    );
    expect(await allowed('Sweep', 'cloudwatch:DescribeAlarms', alarm('team-alarm'), {}, cis)).toBe(false);
    expect(await allowed('RestoreLogGroup', 'logs:DeleteMetricFilter', group, {}, cis)).toBe(false);
    expect(await allowed('RestoreLogGroup', 'logs:PutMetricFilter', group)).toBe(false);
  });

  const tagged = { 'aws:RequestTag/trailguard:managed': 'true', 'aws:TagKeys': ['trailguard:managed'] };

  it('RestoreRole creates a managed delivery role only tagged trailguard:managed=true, and no other role', async () => {
    expect(
      await allowed('RestoreRole', 'iam:CreateRole', role('trailguard-cloudtrail-delivery'), tagged),
    ).toBe(true);
    expect(await allowed('RestoreRole', 'iam:CreateRole', role('service-role/ct-delivery'), tagged)).toBe(
      true,
    );
    expect(await allowed('RestoreRole', 'iam:TagRole', role('ct-delivery'), tagged)).toBe(true);
    expect(await allowed('RestoreRole', 'iam:CreateRole', role('trailguard-cloudtrail-delivery'))).toBe(
      false,
    );
    expect(
      await allowed('RestoreRole', 'iam:CreateRole', role('ct-delivery'), {
        'aws:RequestTag/trailguard:managed': 'true',
        'aws:TagKeys': ['trailguard:managed', 'owner'],
      }),
    ).toBe(false);
    expect(await allowed('RestoreRole', 'iam:CreateRole', role('Admin'), tagged)).toBe(false);
    expect(await allowed('RestoreRole', 'iam:CreateRole', role('x-ct-delivery'), tagged)).toBe(false);
    expect(await allowed('RestoreRole', 'iam:PutRolePolicy', role('ct-delivery'))).toBe(true);
    expect(
      await allowed('RestoreRole', 'iam:UpdateAssumeRolePolicy', role('trailguard-cloudtrail-delivery')),
    ).toBe(true);
    expect(await allowed('RestoreRole', 'iam:PutRolePolicy', role('Admin'))).toBe(false);
    expect(await allowed('RestoreRole', 'iam:AttachRolePolicy', role('ct-delivery'))).toBe(false);
    // Consolidating an earlier version's per-log-group grants: managed delivery roles only.
    expect(await allowed('RestoreRole', 'iam:DeleteRolePolicy', role('ct-delivery'))).toBe(true);
    expect(
      await allowed('RestoreRole', 'iam:DeleteRolePolicy', role('team/trailguard-cloudtrail-delivery')),
    ).toBe(true);
    expect(await allowed('RestoreRole', 'iam:DeleteRolePolicy', role('Admin'))).toBe(false);
    expect(await allowed('RestoreRole', 'iam:DeleteRole', role('ct-delivery'))).toBe(false);
    expect(await allowed('RestoreRole', 'iam:DetachRolePolicy', role('ct-delivery'))).toBe(false);
    expect(await allowed('RestoreRole', 'iam:DeleteRolePermissionsBoundary', role('ct-delivery'))).toBe(
      false,
    );
    expect(await allowed('RestoreRole', 'iam:GetRole', role('anything'))).toBe(true);
  });

  it('RestoreTrail passes only managed delivery roles, only to CloudTrail; changes only this account’s trails', async () => {
    const toCloudTrail = { 'iam:PassedToService': 'cloudtrail.amazonaws.com' };
    expect(
      await allowed('RestoreTrail', 'iam:PassRole', role('trailguard-cloudtrail-delivery'), toCloudTrail),
    ).toBe(true);
    expect(await allowed('RestoreTrail', 'iam:PassRole', role('Admin'), toCloudTrail)).toBe(false);
    expect(
      await allowed('RestoreTrail', 'iam:PassRole', role('ct-delivery'), {
        'iam:PassedToService': 'lambda.amazonaws.com',
      }),
    ).toBe(false);
    expect(
      await allowed(
        'RestoreTrail',
        'cloudtrail:UpdateTrail',
        `arn:aws:cloudtrail:eu-west-1:${ACCOUNT}:trail/main`,
      ),
    ).toBe(true);
    expect(
      await allowed(
        'RestoreTrail',
        'cloudtrail:UpdateTrail',
        'arn:aws:cloudtrail:us-east-1:210987654321:trail/org',
      ),
    ).toBe(false);
    expect(
      await allowed(
        'RestoreTrail',
        'cloudtrail:DeleteTrail',
        `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/main`,
      ),
    ).toBe(false);
  });

  it('RestoreLogGroup creates only template log groups, tagged trailguard:managed; reads any', async () => {
    const group = (name: string) => `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:${name}`;
    expect(await allowed('RestoreLogGroup', 'logs:CreateLogGroup', group('CloudTrail/main'), tagged)).toBe(
      true,
    );
    expect(await allowed('RestoreLogGroup', 'logs:TagResource', group('CloudTrail/main'), tagged)).toBe(true);
    expect(await allowed('RestoreLogGroup', 'logs:CreateLogGroup', group('CloudTrail/main'))).toBe(false);
    expect(
      await allowed('RestoreLogGroup', 'logs:TagResource', group('CloudTrail/main'), {
        'aws:RequestTag/owner': 'x',
        'aws:TagKeys': ['owner'],
      }),
    ).toBe(false);
    expect(await allowed('RestoreLogGroup', 'logs:PutRetentionPolicy', group('CloudTrail/main'))).toBe(true);
    expect(await allowed('RestoreLogGroup', 'logs:CreateLogGroup', group('/aws/lambda/x'), tagged)).toBe(
      false,
    );
    expect(await allowed('RestoreLogGroup', 'logs:DescribeLogGroups', '*')).toBe(true);
    expect(await allowed('RestoreLogGroup', 'logs:PutRetentionPolicy', group('custom-audit'))).toBe(false);
    expect(await allowed('RestoreLogGroup', 'logs:ListTagsForResource', group('custom-audit'))).toBe(true);
    expect(await allowed('RestoreLogGroup', 'logs:DeleteLogGroup', group('CloudTrail/main'))).toBe(false);
  });

  it('Notify, Audit and Sweep reach only their topic, table and state machine', async () => {
    expect(await allowed('Notify', 'sns:Publish', ctx.topicArn)).toBe(true);
    expect(await allowed('Notify', 'sns:Publish', `arn:aws:sns:us-east-1:${ACCOUNT}:other`)).toBe(false);
    expect(
      await allowed('Notify', 'kms:GenerateDataKey', ctx.topicKeyArn ?? '', {
        'kms:ViaService': 'sns.us-east-1.amazonaws.com',
      }),
    ).toBe(true);
    expect(await allowed('Notify', 'kms:Decrypt', ctx.topicKeyArn ?? '')).toBe(false);
    expect(await allowed('Audit', 'dynamodb:PutItem', ctx.tableArn)).toBe(true);
    expect(await allowed('Audit', 'dynamodb:DeleteItem', ctx.tableArn)).toBe(false);
    expect(await allowed('Sweep', 'states:StartExecution', ctx.stateMachineArn ?? '')).toBe(true);
    expect(
      await allowed(
        'Sweep',
        'states:StartExecution',
        `arn:aws:states:us-east-1:${ACCOUNT}:stateMachine:other`,
      ),
    ).toBe(false);
    expect(await allowed('Sweep', 'cloudtrail:DescribeTrails', '*')).toBe(true);
    expect(
      await allowed('Sweep', 'cloudtrail:UpdateTrail', `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/main`),
    ).toBe(false);
  });

  it('UpdateFindings: securityhub:GetFindings and BatchUpdateFindings only; BatchUpdateFindings changes only Workflow.Status (NEW, NOTIFIED, RESOLVED) and Note, with the request context present and absent', async () => {
    const hub = (region: string, account = ACCOUNT) => `arn:aws:securityhub:${region}:${account}:hub/default`;
    const key = (field: string) => `securityhub:ASFFSyntaxPath/${field}`;
    const update = (context: Record<string, string | string[]>, region = 'us-east-1') =>
      allowed('UpdateFindings', 'securityhub:BatchUpdateFindings', hub(region), context);
    const note = { [key('Note.Text')]: 'trailguard remediated: ...', [key('Note.UpdatedBy')]: 'trailguard' };
    for (const region of ['us-east-1', 'eu-west-3']) {
      expect(await allowed('UpdateFindings', 'securityhub:GetFindings', hub(region))).toBe(true);
      // No field key in the context at all (the evaluator must not need one), a note alone, a status and note.
      expect(await update({}, region)).toBe(true);
      expect(await update(note, region)).toBe(true);
      for (const status of ['NEW', 'NOTIFIED', 'RESOLVED']) {
        expect(await update({ ...note, [key('Workflow.Status')]: status }, region), status).toBe(true);
      }
    }
    // Any other status: denied, with or without a note.
    for (const status of ['SUPPRESSED', 'resolved', '']) {
      expect(await update({ [key('Workflow.Status')]: status }), status).toBe(false);
      expect(await update({ ...note, [key('Workflow.Status')]: status }), status).toBe(false);
    }
    // Every other updatable field: denied whenever it is present, alone or with an allowed status and note.
    const values: Record<string, string | string[]> = {
      Confidence: '100',
      Criticality: '0',
      RelatedFindings: 'x',
      'RelatedFindings.Id': 'arn:aws:securityhub:us-east-1::finding/x',
      'RelatedFindings.ProductArn': 'arn:aws:securityhub:us-east-1::product/aws/securityhub',
      'Severity.Label': 'INFORMATIONAL',
      'Severity.Normalized': '0',
      'Severity.Product': '0',
      Types: ['Software and Configuration Checks'],
      UserDefinedFields: 'k',
      VerificationState: 'BENIGN_POSITIVE',
    };
    for (const [field, value] of Object.entries(values)) {
      expect(await update({ [key(field)]: value }), field).toBe(false);
      expect(
        await update({ ...note, [key('Workflow.Status')]: 'RESOLVED', [key(field)]: value }),
        field,
      ).toBe(false);
    }
    expect(
      await allowed(
        'UpdateFindings',
        'securityhub:BatchImportFindings',
        `arn:aws:securityhub:us-east-1:${ACCOUNT}:product/${ACCOUNT}/default`,
      ),
    ).toBe(false);
    for (const action of [
      'securityhub:UpdateFindings',
      'securityhub:DisableSecurityHub',
      'securityhub:UpdateStandardsControl',
    ]) {
      expect(await allowed('UpdateFindings', action, hub('us-east-1')), action).toBe(false);
    }
    for (const fn of FUNCTION_NAMES.filter((f) => f !== 'UpdateFindings')) {
      expect(await allowed(fn, 'securityhub:BatchUpdateFindings', hub('us-east-1')), fn).toBe(false);
      expect(await allowed(fn, 'securityhub:GetFindings', hub('us-east-1')), fn).toBe(false);
    }
  });

  it('Notify writes and deletes only its own idempotency records', async () => {
    const withTable = { ...ctx, idempotencyTableArn: `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/idem` };
    const document = functionPolicyDocument('Notify', withTable);
    const actions = document.Statement.filter((st) => st.Sid === 'WriteIdempotencyRecords');
    expect(actions).toEqual([
      {
        Sid: 'WriteIdempotencyRecords',
        Effect: 'Allow',
        Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem'],
        Resource: [withTable.idempotencyTableArn],
      },
    ]);
    expect(functionPolicy('Audit', withTable).some((st) => st.Sid === 'WriteIdempotencyRecords')).toBe(false);
  });

  it('Check, Verify and Sweep read the organization id; nothing else reads or changes the organization', async () => {
    for (const fn of FUNCTION_NAMES) {
      expect(await allowed(fn, 'organizations:DescribeOrganization', '*'), fn).toBe(
        fn === 'Check' || fn === 'Verify' || fn === 'Sweep',
      );
      expect(await allowed(fn, 'organizations:ListAccounts', '*'), fn).toBe(false);
      expect(await allowed(fn, 'organizations:EnableAWSServiceAccess', '*'), fn).toBe(false);
    }
    expect(await allowed('RestoreRole', 'iam:DeleteRolePolicy', role('ct-delivery'))).toBe(true);
    for (const fn of FUNCTION_NAMES.filter((f) => f !== 'RestoreRole')) {
      expect(await allowed(fn, 'iam:DeleteRolePolicy', role('ct-delivery')), fn).toBe(false);
    }
  });

  it('the Sweep policy needs the state machine ARN', () => {
    const { stateMachineArn: _sm, ...withoutSm } = ctx;
    expect(() => functionPolicy('Sweep', withoutSm)).toThrow(/state machine ARN/);
    expect(() => functionPolicy('Check', withoutSm)).not.toThrow();
  });
});
