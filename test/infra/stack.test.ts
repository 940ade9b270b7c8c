/**
 * The synthesized stack around the workflow: the two rules (patterns, own-role exclusion, targets with retry
 * and dead-letter queues), the sweep schedule, the stateful resources (encryption, retention, deletion
 * protection), alarms and their SNS actions, the dashboard, and cdk-nag on the whole app.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app.js';
import { nagFlatten } from '../../infra/constructs/functions.js';
import {
  type CfnResource,
  functionIds,
  idsOfType,
  onlyIdOfType,
  roleIdOf,
  ruleIds,
  type Synth,
  synth,
} from './template.js';

let s: Synth;
let resources: Record<string, CfnResource>;
beforeAll(() => {
  s = synth();
  resources = s.resources;
});

const rule = (name: string) => {
  const id = ruleIds(resources)[name];
  const r = id ? resources[id] : undefined;
  if (!r) throw new Error(`no rule ${name}`);
  return r.Properties as {
    EventPattern?: Record<string, unknown> & { detail: Record<string, unknown> };
    ScheduleExpression?: string;
    State?: string;
    Targets: Record<string, unknown>[];
  };
};
const getAtt = (id: string | undefined, attribute = 'Arn') => ({ 'Fn::GetAtt': [id, attribute] });
const issuer = (m: unknown) => ({ userIdentity: { sessionContext: { sessionIssuer: { arn: [m] } } } });
/** The roles of the functions that change trails, log groups or roles, as the rules reference them. */
const ownRoles = () =>
  ['RestoreLogGroup', 'RestoreRole', 'RestoreTrail'].map((fn) => getAtt(roleIdOf(resources, fn)));

describe('rules', () => {
  it('four rules: the trail trigger, the dependency trigger, the Security Hub findings trigger and the sweep schedule', () => {
    expect(Object.keys(ruleIds(resources)).sort()).toEqual([
      'DependencyTrigger',
      'FindingsTrigger',
      'Sweep',
      'Trigger',
    ]);
    for (const name of ['DependencyTrigger', 'FindingsTrigger', 'Sweep', 'Trigger'])
      expect(rule(name).State).toBe('ENABLED');
  });

  it('the Security Hub rule: active, failed CloudTrail.5 findings, workflow NEW or NOTIFIED, about a trail', () => {
    expect(rule('FindingsTrigger').EventPattern).toEqual({
      source: ['aws.securityhub'],
      'detail-type': ['Security Hub Findings - Imported'],
      detail: {
        findings: {
          Compliance: { Status: ['FAILED'], SecurityControlId: ['CloudTrail.5'] },
          Workflow: { Status: ['NEW', 'NOTIFIED'] },
          RecordState: ['ACTIVE'],
          Resources: { Type: ['AwsCloudTrailTrail'] },
        },
      },
    });
  });

  it('the trail rule: CloudTrail trail changes incl. DeleteTrail, own roles excluded without dropping root or IAM users', () => {
    const pattern = rule('Trigger').EventPattern;
    expect(pattern).toEqual({
      source: ['aws.cloudtrail'],
      'detail-type': ['AWS API Call via CloudTrail'],
      detail: {
        eventSource: ['cloudtrail.amazonaws.com'],
        eventName: ['CreateTrail', 'UpdateTrail', 'StopLogging', 'DeleteTrail'],
        $or: [issuer({ exists: false }), issuer({ 'anything-but': ownRoles() })],
      },
    });
  });

  it('the dependency rule: DeleteLogGroup and IAM role changes, successful calls only, own roles excluded', () => {
    expect(rule('DependencyTrigger').EventPattern).toEqual({
      source: ['aws.logs', 'aws.iam'],
      'detail-type': ['AWS API Call via CloudTrail'],
      detail: {
        eventSource: ['logs.amazonaws.com', 'iam.amazonaws.com'],
        eventName: [
          'DeleteLogGroup',
          'DeleteRole',
          'DeleteRolePolicy',
          'PutRolePolicy',
          'AttachRolePolicy',
          'DetachRolePolicy',
          'UpdateAssumeRolePolicy',
        ],
        errorCode: [{ exists: false }],
        $or: [issuer({ exists: false }), issuer({ 'anything-but': ownRoles() })],
      },
    });
  });

  it('every mutating function role is excluded, and only those (the sweep and read-only steps change nothing)', () => {
    type Branch = {
      userIdentity: { sessionContext: { sessionIssuer: { arn: [{ 'anything-but': unknown[] }] } } };
    };
    const excluded = (name: string) => {
      const branches = (rule(name).EventPattern?.detail.$or ?? []) as Branch[];
      return branches[1]?.userIdentity.sessionContext.sessionIssuer.arn[0]['anything-but'];
    };
    for (const name of ['Trigger', 'DependencyTrigger']) {
      expect(excluded(name)).toEqual(ownRoles());
      for (const fn of ['Check', 'Verify', 'Notify', 'Audit', 'Sweep']) {
        expect(excluded(name)).not.toContainEqual(getAtt(roleIdOf(resources, fn)));
      }
    }
  });

  it('the trail rule targets the state machine; the dependency and findings rules and the schedule the sweep function; each with retries and its own DLQ', () => {
    const sm = onlyIdOfType(resources, 'AWS::StepFunctions::StateMachine');
    const sweep = functionIds(resources).Sweep;
    const expectTarget = (name: string, arn: unknown, dlqPrefix: RegExp) => {
      const targets = rule(name).Targets;
      expect(targets, name).toHaveLength(1);
      expect(targets[0], name).toMatchObject({
        Arn: arn,
        RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 21600 },
        DeadLetterConfig: { Arn: getAtt(expect.stringMatching(dlqPrefix)) },
      });
      const dlq = targets[0]?.DeadLetterConfig as { Arn: { 'Fn::GetAtt': [string] } } | undefined;
      return dlq?.Arn['Fn::GetAtt'][0];
    };
    const dlqs = [
      expectTarget('Trigger', { Ref: sm }, /^TriggerDeadLetterQueue/),
      expectTarget('DependencyTrigger', getAtt(sweep), /^DependencyTriggerDeadLetterQueue/),
      expectTarget('FindingsTrigger', getAtt(sweep), /^FindingsTriggerDeadLetterQueue/),
      expectTarget('Sweep', getAtt(sweep), /^SweepScheduleDeadLetterQueue/),
    ];
    expect(new Set(dlqs).size).toBe(4);
    expect(rule('Trigger').Targets[0]?.RoleArn).toEqual(getAtt(expect.stringMatching(/EventsRole/)));
    // EventBridge may invoke the sweep function for exactly the three rules.
    const permissions = Object.values(resources)
      .filter((r) => r.Type === 'AWS::Lambda::Permission')
      .map((r) => r.Properties);
    expect(permissions).toHaveLength(3);
    for (const p of permissions) {
      expect(p).toMatchObject({
        Action: 'lambda:InvokeFunction',
        FunctionName: getAtt(sweep),
        Principal: 'events.amazonaws.com',
      });
    }
    expect(permissions.map((p) => nagFlatten(p.SourceArn)).sort()).toEqual(
      [
        `<${ruleIds(resources).DependencyTrigger}.Arn>`,
        `<${ruleIds(resources).FindingsTrigger}.Arn>`,
        `<${ruleIds(resources).Sweep}.Arn>`,
      ].sort(),
    );
  });

  it('the sweep runs hourly by default, and at the configured interval', () => {
    expect(rule('Sweep').ScheduleExpression).toBe('rate(1 hour)');
    expect(rule('Sweep').EventPattern).toBeUndefined();
    const custom = synth({ config: { sweepIntervalMinutes: 15 } });
    const id = ruleIds(custom.resources).Sweep ?? '';
    expect(custom.resources[id]?.Properties.ScheduleExpression).toBe('rate(15 minutes)');
  });
});

describe('queues', () => {
  it('five queues, each encrypted (SSE-SQS), kept 14 days, TLS only', () => {
    const queues = idsOfType(resources, 'AWS::SQS::Queue');
    expect(queues.map((q) => q.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual([
      'DependencyTriggerDeadLetterQueue',
      'FindingsTriggerDeadLetterQueue',
      'SweepFailureQueue',
      'SweepScheduleDeadLetterQueue',
      'TriggerDeadLetterQueue',
    ]);
    for (const q of queues) {
      expect(resources[q]?.Properties, q).toEqual({
        MessageRetentionPeriod: 1209600,
        SqsManagedSseEnabled: true,
      });
      const policies = Object.values(resources).filter(
        (r) =>
          r.Type === 'AWS::SQS::QueuePolicy' &&
          (r.Properties.Queues as { Ref: string }[]).some((ref) => ref.Ref === q),
      );
      expect(policies, q).toHaveLength(1);
      expect(
        ((policies[0]?.Properties.PolicyDocument ?? {}) as { Statement: unknown[] }).Statement,
        q,
      ).toContainEqual({
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'sqs:*',
        Resource: getAtt(q),
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      });
    }
  });

  it('EventBridge may send to each rule DLQ only for its own rule', () => {
    for (const [name, prefix] of [
      ['Trigger', 'TriggerDeadLetterQueue'],
      ['DependencyTrigger', 'DependencyTriggerDeadLetterQueue'],
      ['Sweep', 'SweepScheduleDeadLetterQueue'],
    ] as const) {
      const q = idsOfType(resources, 'AWS::SQS::Queue').find((id) => id.startsWith(prefix));
      const policy = Object.values(resources).find(
        (r) =>
          r.Type === 'AWS::SQS::QueuePolicy' &&
          (r.Properties.Queues as { Ref: string }[]).some((ref) => ref.Ref === q),
      );
      expect(
        ((policy?.Properties.PolicyDocument ?? {}) as { Statement: unknown[] }).Statement,
        name,
      ).toContainEqual(
        expect.objectContaining({
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Condition: { ArnEquals: { 'aws:SourceArn': getAtt(ruleIds(resources)[name]) } },
        }),
      );
    }
  });
});

describe('stateful resources', () => {
  it("Notify's idempotency table: key id, TTL on expiration, on demand, PITR, KMS encrypted with the data key", () => {
    s.template.hasResource('AWS::DynamoDB::Table', {
      Metadata: { 'trailguard:table': 'idempotency' },
      Properties: {
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: {
          SSEEnabled: true,
          SSEType: 'KMS',
          KMSMasterKeyId: getAtt(onlyIdOfType(resources, 'AWS::KMS::Key')),
        },
      },
    });
  });

  it('the audit table: trail/run keys, on demand, PITR, deletion protection, retained, KMS encrypted', () => {
    s.template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        KeySchema: [
          { AttributeName: 'trail', KeyType: 'HASH' },
          { AttributeName: 'run', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'trail', AttributeType: 'S' },
          { AttributeName: 'run', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
        SSESpecification: {
          SSEEnabled: true,
          SSEType: 'KMS',
          KMSMasterKeyId: getAtt(onlyIdOfType(resources, 'AWS::KMS::Key')),
        },
      },
    });
  });

  it('the data key: rotated, retained; CloudWatch alarms of this account may use it', () => {
    const key = onlyIdOfType(resources, 'AWS::KMS::Key');
    expect(resources[key]).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: { EnableKeyRotation: true },
    });
    const statements = (
      (resources[key]?.Properties.KeyPolicy ?? {}) as { Statement: Record<string, unknown>[] }
    ).Statement;
    const cloudwatch = statements.find((st) => st.Sid === 'AllowCloudWatchAlarmsToUseTheTopicKey');
    expect(cloudwatch).toEqual({
      Sid: 'AllowCloudWatchAlarmsToUseTheTopicKey',
      Effect: 'Allow',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      Resource: '*',
      Condition: {
        StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
        ArnLike: { 'aws:SourceArn': expect.anything() },
      },
    });
    expect(
      nagFlatten(
        ((cloudwatch?.Condition ?? {}) as { ArnLike: { 'aws:SourceArn': unknown } }).ArnLike['aws:SourceArn'],
      ),
    ).toBe('arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:*');
  });

  it('the topic: KMS encrypted with the data key; a policy denying non-TLS publishing, allowing alarms', () => {
    const topic = onlyIdOfType(resources, 'AWS::SNS::Topic');
    expect(resources[topic]?.Properties).toEqual({
      DisplayName: 'trailguard',
      KmsMasterKeyId: getAtt(onlyIdOfType(resources, 'AWS::KMS::Key')),
    });
    const policy = resources[onlyIdOfType(resources, 'AWS::SNS::TopicPolicy')]?.Properties as {
      Topics: unknown[];
      PolicyDocument: { Statement: Record<string, unknown>[] };
    };
    expect(policy.Topics).toEqual([{ Ref: topic }]);
    expect(policy.PolicyDocument.Statement).toContainEqual({
      Sid: 'AllowPublishThroughSSLOnly',
      Effect: 'Deny',
      Principal: '*',
      Action: 'sns:Publish',
      Resource: { Ref: topic },
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
    expect(policy.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({
        Sid: 'AllowCloudWatchAlarmsToPublish',
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: { Ref: topic },
      }),
    );
  });

  it('subscribes the notification email when given, and nothing otherwise', () => {
    const withEmail = synth({ notificationEmail: 'security@example.com' });
    withEmail.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'security@example.com',
      TopicArn: { Ref: onlyIdOfType(withEmail.resources, 'AWS::SNS::Topic') },
    });
    s.template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('no physical names anywhere: every name comes from CloudFormation', () => {
    const named = [
      'TopicName',
      'TableName',
      'FunctionName',
      'RoleName',
      'QueueName',
      'StateMachineName',
      'Name',
      'AlarmName',
      'DashboardName',
      'LogGroupName',
    ];
    for (const [id, r] of Object.entries(resources)) {
      for (const key of named) {
        const value = r.Properties?.[key];
        // References to other resources are fine (a function's event invoke config names its function).
        if (value === undefined || typeof value === 'object') continue;
        // The state machine's vended log group name is derived from the stack id, unique per stack.
        if (r.Type === 'AWS::Logs::LogGroup') continue;
        expect.fail(`${id}.${key} is the literal "${String(value)}"`);
      }
    }
  });

  it('every log group: retention one year, retained on stack deletion', () => {
    const groups = idsOfType(resources, 'AWS::Logs::LogGroup');
    expect(groups).toHaveLength(11); // 10 functions + the state machine's execution log
    for (const g of groups) {
      expect(resources[g]?.Properties.RetentionInDays, g).toBe(365);
      expect(resources[g]?.DeletionPolicy, g).toBe('Retain');
    }
  });
});

describe('alarms and dashboard', () => {
  const alarms = () =>
    Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm')
      .map(([id, r]) => ({ id, ...(r.Properties as Record<string, unknown>) }));

  it('one alarm per failure signal, each notifying the topic at the first occurrence', () => {
    const sm = onlyIdOfType(resources, 'AWS::StepFunctions::StateMachine');
    const topic = onlyIdOfType(resources, 'AWS::SNS::Topic');
    const queue = (prefix: string) =>
      idsOfType(resources, 'AWS::SQS::Queue').find((q) => q.startsWith(prefix));
    const expected: Record<
      string,
      { namespace: string; metric: string; dimensions: unknown[]; statistic: string }
    > = {
      WorkflowFailedAlarm: {
        namespace: 'AWS/States',
        metric: 'ExecutionsFailed',
        dimensions: [{ Name: 'StateMachineArn', Value: { Ref: sm } }],
        statistic: 'Sum',
      },
      WorkflowTimedOutAlarm: {
        namespace: 'AWS/States',
        metric: 'ExecutionsTimedOut',
        dimensions: [{ Name: 'StateMachineArn', Value: { Ref: sm } }],
        statistic: 'Sum',
      },
      SweepErrorsAlarm: {
        namespace: 'AWS/Lambda',
        metric: 'Errors',
        dimensions: [{ Name: 'FunctionName', Value: { Ref: functionIds(resources).Sweep } }],
        statistic: 'Sum',
      },
      ...Object.fromEntries(
        [
          'TriggerDeadLetterQueue',
          'DependencyTriggerDeadLetterQueue',
          'SweepScheduleDeadLetterQueue',
          'SweepFailureQueue',
          'FindingsTriggerDeadLetterQueue',
        ].map((name) => [
          `${name}Alarm`,
          {
            namespace: 'AWS/SQS',
            metric: 'ApproximateNumberOfMessagesVisible',
            dimensions: [{ Name: 'QueueName', Value: getAtt(queue(name), 'QueueName') }],
            statistic: 'Maximum',
          },
        ]),
      ),
    };
    const found = alarms().filter((a) => !a.id.startsWith('MonitoringSweepHeartbeatAlarm'));
    expect(found.map((a) => a.id.replace(/^Monitoring/, '').replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(
      Object.keys(expected).sort(),
    );
    for (const a of found) {
      const e = expected[a.id.replace(/^Monitoring/, '').replace(/[0-9A-F]{8}$/, '')];
      expect(a, a.id).toMatchObject({
        Namespace: e?.namespace,
        MetricName: e?.metric,
        Dimensions: e?.dimensions,
        Statistic: e?.statistic,
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: topic }],
        AlarmDescription: expect.stringMatching(/^trailguard: /),
      });
    }
  });

  it("the sweep's heartbeat: alarms when no sweep completed in two intervals, missing data breaching", () => {
    const topic = onlyIdOfType(resources, 'AWS::SNS::Topic');
    const heartbeat = alarms().filter((a) => a.id.startsWith('MonitoringSweepHeartbeatAlarm'));
    expect(heartbeat).toHaveLength(1);
    // The default sweepIntervalMinutes (60): one-hour periods, two of them; the sweep function's own count.
    expect(heartbeat[0]).toMatchObject({
      Namespace: 'Trailguard',
      MetricName: 'SweepCompleted',
      Dimensions: [{ Name: 'service', Value: 'trailguard' }],
      Statistic: 'Sum',
      Period: 3600,
      EvaluationPeriods: 2,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
      AlarmActions: [{ Ref: topic }],
      AlarmDescription: expect.stringMatching(
        /^trailguard: no sweep completed in two sweep intervals \(120 minutes\)/,
      ),
    });
  });

  it('a dashboard with fixes over time (Outcome_remediated), outcomes, failures and execution duration', () => {
    const dashboard = resources[onlyIdOfType(resources, 'AWS::CloudWatch::Dashboard')];
    const [, parts] = ((dashboard?.Properties.DashboardBody ?? {}) as { 'Fn::Join': [string, unknown[]] })[
      'Fn::Join'
    ];
    const body = parts.map((p) => (typeof p === 'string' ? p : 'X')).join('');
    const widgets = (JSON.parse(body) as { widgets: { properties: Record<string, unknown> }[] }).widgets;
    const titled = (title: string) =>
      widgets.find((w) => String(w.properties.title).startsWith(title))?.properties;
    expect(titled('Fixes over time')?.metrics).toEqual([
      [
        'Trailguard',
        'Outcome_remediated',
        'service',
        'trailguard',
        { label: 'remediated', period: 3600, stat: 'Sum' },
      ],
    ]);
    expect(((titled('Outcomes per hour')?.metrics ?? []) as unknown[][]).map((m) => m[1])).toEqual([
      'Outcome_remediated',
      'Outcome_skipped',
      'Outcome_notified',
      'Outcome_failed',
    ]);
    expect(((titled('Workflow executions')?.metrics ?? []) as unknown[][]).map((m) => m[1])).toEqual([
      'ExecutionsStarted',
      'ExecutionsSucceeded',
      'ExecutionsFailed',
      'ExecutionsTimedOut',
    ]);
    expect(
      ((titled('Execution duration')?.metrics ?? []) as unknown[][]).map((m) => [
        m[1],
        (m.at(-1) as { stat?: string }).stat ?? 'Average (the default)',
      ]),
    ).toEqual([
      ['ExecutionTime', 'Average (the default)'],
      ['ExecutionTime', 'p90'],
      ['ExecutionTime', 'Maximum'],
    ]);
    expect(((titled('Failures')?.metrics ?? []) as unknown[][]).map((m) => m[1])).toEqual([
      'ApproximateNumberOfMessagesVisible',
      'ApproximateNumberOfMessagesVisible',
      'ApproximateNumberOfMessagesVisible',
      'ApproximateNumberOfMessagesVisible',
      'ApproximateNumberOfMessagesVisible',
      'Errors',
    ]);
    expect(((titled('Alarms')?.alarms ?? []) as unknown[]).length).toBe(9);
    expect(
      ((titled('Time to remediate')?.metrics ?? []) as unknown[][]).map((m) => [
        m[1],
        (m.at(-1) as { stat?: string }).stat,
      ]),
    ).toEqual([
      ['TimeToRemediate', 'p50'],
      ['TimeToRemediate', 'p95'],
    ]);
  });
});

describe('outputs', () => {
  it('exports the deployed names a person needs', () => {
    expect(Object.keys(s.template.toJSON().Outputs).sort()).toEqual([
      'AuditTableName',
      'DashboardName',
      'DependencyTriggerDeadLetterQueueUrl',
      'FindingsTriggerDeadLetterQueueUrl',
      'IdempotencyTableName',
      'NotificationTopicArn',
      'StateMachineArn',
      'StateTableName',
      'SweepFailureQueueUrl',
      'SweepFunctionName',
      'SweepScheduleDeadLetterQueueUrl',
      'TriggerDeadLetterQueueUrl',
    ]);
  });
});

describe('cdk-nag', () => {
  it('AwsSolutions checks pass on the whole app with no unacknowledged finding', () => {
    const { app } = buildApp({ bundling: false, nag: true });
    expect(() => app.synth()).not.toThrow();
  });

  it('without the delivery check (deliveryCheckMinutes: 0)', () => {
    const { app } = buildApp({ bundling: false, nag: true, config: { deliveryCheckMinutes: 0 } });
    expect(() => app.synth()).not.toThrow();
  });

  it('with a KMS key, managed roles, CIS monitoring and a longer delivery check configured too', () => {
    const { app } = buildApp({
      bundling: false,
      nag: true,
      config: {
        kmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/abcd-1234',
        managedRoleNames: ['ct-delivery'],
        logGroupNameTemplate: 'aws/cloudtrail/{account}/{trail}/events',
        cisMonitoring: true,
        deliveryCheckMinutes: 60,
      },
      notificationEmail: 'security@example.com',
    });
    expect(() => app.synth()).not.toThrow();
  });

  it('acknowledgements outside the function roles: exactly the state machine role grants and the DLQs having no DLQ', () => {
    const acks: string[] = [];
    for (const c of s.stack.node.findAll()) {
      if (c.node.path.includes('/Functions/') || c.node.path.startsWith('Trailguard/Sweep/Sweep/')) continue;
      for (const m of c.node.metadata) {
        if (m.type !== 'aws:cdk:acknowledged-rules') continue;
        for (const [id, reason] of Object.entries(m.data as Record<string, string>)) {
          expect(reason.length, id).toBeGreaterThan(40);
          acks.push(`${c.node.path} ${id.replace(/^annotation::/i, '')}`);
        }
      }
    }
    const fns = functionIds(resources);
    expect(acks.sort()).toEqual(
      [
        'Trailguard/Workflow/StateMachine/Role AwsSolutions-IAM5[Resource::*]',
        ...[
          'Check',
          'RestoreLogGroup',
          'RestoreRole',
          'RestoreTrail',
          'Verify',
          'Notify',
          'UpdateFindings',
          'Audit',
          'CheckDelivery',
        ].map(
          (fn) => `Trailguard/Workflow/StateMachine/Role AwsSolutions-IAM5[Resource::<${fns[fn]}.Arn>:*]`,
        ),
        'Trailguard/Trigger/DeadLetterQueue AwsSolutions-SQS3',
        'Trailguard/DependencyTrigger/DeadLetterQueue AwsSolutions-SQS3',
        'Trailguard/FindingsTrigger/DeadLetterQueue AwsSolutions-SQS3',
        'Trailguard/Sweep/ScheduleDeadLetterQueue AwsSolutions-SQS3',
        'Trailguard/Sweep/FailureQueue AwsSolutions-SQS3',
      ].sort(),
    );
  });

  it('is really on: a new unacknowledged wildcard fails synth', () => {
    const { app, stack } = buildApp({ bundling: false, nag: true });
    const role = new iam.Role(stack, 'Unreviewed', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }));
    expect(() => app.synth()).toThrow(/AwsSolutions-IAM5\[Resource::\*\]/);
  });
});
