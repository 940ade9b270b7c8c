/**
 * The guardrail: notification topic, audit table, one function per step, the workflow and its trigger.
 * The configuration is validated at synth time (every problem listed at once). No physical names: the
 * deployed names come from CloudFormation and are exported as outputs.
 */
import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { type Config, ConfigError, type ConfigInput, parseConfig } from '../../policies/config.js';
import { type StepName, TrailguardFunctions } from '../constructs/functions.js';
import { TrailguardTrigger } from '../constructs/trigger.js';
import { TrailguardWorkflow } from '../constructs/workflow.js';

export interface TrailguardStackProps extends StackProps {
  /** The guardrail's configuration (validated with parseConfig; defaults apply). */
  config?: ConfigInput;
  /** An address subscribed to the notification topic (it must confirm the subscription). */
  notificationEmail?: string;
  /** Handler files by step, relative to the repository root. Default: the registry's STEP_ENTRIES. */
  stepEntries?: Record<StepName, string>;
}

/** Partition key and sort key of the audit table: a contract with the Audit handler and the CLI. */
export const AUDIT_TABLE_KEYS = { partitionKey: 'trail', sortKey: 'run' } as const;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export class TrailguardStack extends Stack {
  readonly config: Config;
  readonly topic: sns.Topic;
  readonly auditTable: dynamodb.Table;
  readonly functions: TrailguardFunctions;
  readonly workflow: TrailguardWorkflow;
  readonly trigger: TrailguardTrigger;

  constructor(scope: Construct, id: string, props: TrailguardStackProps = {}) {
    super(scope, id, {
      description:
        'trailguard: keeps every CloudTrail trail integrated with CloudWatch Logs (CIS, CloudTrail.5)',
      ...props,
    });
    this.config = parseConfig(props.config ?? {});
    if (props.notificationEmail !== undefined && !EMAIL.test(props.notificationEmail)) {
      throw new ConfigError([`notificationEmail: "${props.notificationEmail}" is not an email address`]);
    }

    const dataKey = new kms.Key(this, 'DataKey', {
      description: 'trailguard: encrypts the notification topic and the audit table',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.topic = new sns.Topic(this, 'NotificationTopic', {
      displayName: 'trailguard',
      masterKey: dataKey,
      enforceSSL: true,
    });
    if (props.notificationEmail) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.notificationEmail));
    }

    this.auditTable = new dynamodb.Table(this, 'AuditTable', {
      partitionKey: { name: AUDIT_TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: AUDIT_TABLE_KEYS.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: dataKey,
    });

    this.functions = new TrailguardFunctions(this, 'Functions', {
      config: this.config,
      topic: this.topic,
      auditTable: this.auditTable,
      ...(props.stepEntries ? { entries: props.stepEntries } : {}),
    });
    this.workflow = new TrailguardWorkflow(this, 'Workflow', { functions: this.functions.functions });
    this.trigger = new TrailguardTrigger(this, 'Trigger', {
      stateMachine: this.workflow.stateMachine,
      excludedRoles: this.functions.mutatingRoles,
    });

    new CfnOutput(this, 'StateMachineArn', { value: this.workflow.stateMachine.stateMachineArn });
    new CfnOutput(this, 'NotificationTopicArn', { value: this.topic.topicArn });
    new CfnOutput(this, 'AuditTableName', { value: this.auditTable.tableName });
    new CfnOutput(this, 'TriggerDeadLetterQueueUrl', { value: this.trigger.deadLetterQueue.queueUrl });
  }
}
