/**
 * The guardrail: notification topic, audit table, one function per step, the workflow, its two rules (trail
 * changes; log group and delivery-role changes, fanned out by the sweep function), the sweep schedule, alarms
 * and a dashboard. The configuration is validated at synth time (every problem listed at once). No physical
 * names: the deployed names come from CloudFormation and are exported as outputs. The data key and the audit
 * table are retained when the stack is deleted.
 *
 * With config.accounts set the stack is the hub of an organization (or of a list of accounts):
 * - the rules are on the hub's own event bus (infra/constructs/hub-bus.ts), whose policy admits events only from
 *   the organization or the listed accounts; the spokes (infra/stacks/spoke-stack.ts) forward every guarded
 *   account's and region's events there, the hub's own account included (its spoke, like any other: so each
 *   event takes one path and starts one run; there are no default-bus rules in a hub);
 * - each function that acts in guarded accounts may assume its own member role there (policies/iam.ts,
 *   MEMBER_ROLE_OF, AssumeRemediationRole);
 * - the sweep schedule starts the organization sweep (a Distributed Map over every account x region) instead of
 *   the sweep function;
 * - a service-managed StackSet rolls the spoke out (infra/constructs/spoke-stack-set.ts), unless `spokeStackSet`
 *   is false.
 * - with config.preventive.scp, the preventive SCP (infra/constructs/preventive-scp.ts, policies/scp.ts), attached
 *   to config.preventive.targets: this stack must then be deployed in the management account or an Organizations
 *   delegated administrator.
 * Parameters (a hub only): `SpokeOrganizationalUnitIds`, `StackSetCallAs`, `SpokeRegions` (config.regions not
 * set) and `OrganizationId` (an organization whose id is not in the configuration).
 */
import {
  CfnOutput,
  CfnParameter,
  type CfnResource,
  Fn,
  RemovalPolicy,
  Stack,
  type StackProps,
  Token,
} from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import {
  type Config,
  ConfigError,
  type ConfigInput,
  configuredHubRegion,
  ORGANIZATION_ID,
  parseConfig,
} from '../../policies/config.js';
import { MEMBER_ROLES, type MemberRole, memberRoleFunctions } from '../../policies/iam.js';
import { TrailguardCanary } from '../constructs/canary.js';
import { type StepName, TrailguardFunctions } from '../constructs/functions.js';
import { TrailguardHubBus } from '../constructs/hub-bus.js';
import { TrailguardMonitoring } from '../constructs/monitoring.js';
import { TrailguardPreventiveScp } from '../constructs/preventive-scp.js';
import { TrailguardSpokeStackSet } from '../constructs/spoke-stack-set.js';
import { TrailguardSweep } from '../constructs/sweep.js';
import {
  TrailguardAlarmNotification,
  TrailguardDependencyTrigger,
  TrailguardFindingsTrigger,
  TrailguardTrigger,
} from '../constructs/trigger.js';
import { TrailguardWorkflow } from '../constructs/workflow.js';
import { MEMBER_ROLE_PARAMETERS } from './spoke-stack.js';

export interface TrailguardStackProps extends StackProps {
  /** The guardrail's configuration (validated with parseConfig; defaults apply). */
  config?: ConfigInput;
  /** An address subscribed to the notification topic (it must confirm the subscription). */
  notificationEmail?: string;
  /** Handler files by step, relative to the repository root. Default: the registry's STEP_ENTRIES. */
  stepEntries?: Record<StepName, string>;
  /** The sweep function's handler file. Default: the registry's SWEEP_ENTRY. */
  sweepEntry?: string;
  /**
   * A hub (config.accounts set): roll the spoke out with a service-managed StackSet. Default true. False: no
   * StackSet (no organization, or spokes deployed otherwise): deploy the TrailguardSpoke stack in each guarded
   * account and region.
   */
  spokeStackSet?: boolean;
}

/** The hub's parameter holding the organization id when config.organizationId is not set. */
export const ORGANIZATION_ID_PARAMETER = 'OrganizationId';

/** Partition key and sort key of the audit table: a contract with the Audit handler and the CLI. */
export const AUDIT_TABLE_KEYS = { partitionKey: 'trail', sortKey: 'run' } as const;

/**
 * Notify's idempotency table: Powertools idempotency's default layout (partition key `id`, TTL attribute
 * `expiration`). Its own table rather than the audit table, so the audit table keeps exactly one item per run
 * (what `trailguard audit`, scans and exports rely on) and its records expire (TTL) while audit records do not.
 */
export const IDEMPOTENCY_TABLE_KEYS = { partitionKey: 'id', timeToLive: 'expiration' } as const;

/**
 * The state table: per trail (partition key `trail`), the snapshot of its log group taken by the sweep and when
 * the current delivery error was first seen (sort key `kind`). Overwritten as things change; not an audit
 * trail (services/aws/state-store.ts).
 */
export const STATE_TABLE_KEYS = { partitionKey: 'trail', sortKey: 'kind' } as const;

/**
 * CDK metadata key on each table's CfnTable: `audit`, `idempotency` or `state` (the local runner names them by
 * it).
 */
export const TABLE_METADATA_KEY = 'trailguard:table';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export class TrailguardStack extends Stack {
  readonly config: Config;
  readonly topic: sns.Topic;
  readonly auditTable: dynamodb.Table;
  readonly functions: TrailguardFunctions;
  readonly workflow: TrailguardWorkflow;
  readonly trigger: TrailguardTrigger;
  readonly dependencyTrigger: TrailguardDependencyTrigger;
  /** The Security Hub findings rule (config.securityHub only). */
  readonly findingsTrigger?: TrailguardFindingsTrigger;
  /** config.cisMonitoring: the CIS alarms' ALARM state changes emailed to the team. */
  readonly alarmNotification?: TrailguardAlarmNotification;
  readonly idempotencyTable: dynamodb.Table;
  readonly stateTable: dynamodb.Table;
  readonly sweep: TrailguardSweep;
  readonly monitoring: TrailguardMonitoring;
  /** config.canary: the deployed selftest on a schedule. */
  readonly canary?: TrailguardCanary;
  readonly dataKey: kms.Key;
  /** A hub's event bus (config.accounts set). */
  readonly hubBus?: TrailguardHubBus;
  /** A hub's StackSet rolling the spoke out (config.accounts set, unless props.spokeStackSet is false). */
  readonly spokeStackSet?: TrailguardSpokeStackSet;
  /** A hub of an organization: its id (config.organizationId, else the OrganizationId parameter). */
  readonly organizationId?: string;
  /** A hub with config.preventive.scp: the preventive SCP (infra/constructs/preventive-scp.ts). */
  readonly preventiveScp?: TrailguardPreventiveScp;

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
    const accounts = this.config.accounts;
    const hubRegion = this.config.hubRegion;
    if (accounts !== undefined && !Token.isUnresolved(this.region)) {
      // The spokes create the remediation role in the hub region: it must be one of the guarded regions.
      const regions = this.config.regions;
      if (hubRegion && this.region !== hubRegion) {
        throw new ConfigError([`hubRegion: ${hubRegion}, but the hub stack is in ${this.region}`]);
      }
      if (!hubRegion && regions && !regions.includes(this.region)) {
        throw new ConfigError([
          `regions: the hub stack's region ${this.region} is not one of them (${regions.join(', ')}); set hubRegion`,
        ]);
      }
    }
    const singleAccountHub = accounts === undefined ? configuredHubRegion(this.config) : undefined;
    if (singleAccountHub && !Token.isUnresolved(this.region) && this.region !== singleAccountHub) {
      // The other regions' stacks forward to the default bus of the hub region (infra/stacks/region-stack.ts).
      throw new ConfigError([
        `regions: a single account's guardrail runs in ${singleAccountHub} (hubRegion, else the first of the regions), but this stack is in ${this.region}`,
      ]);
    }
    this.organizationId =
      accounts === undefined
        ? undefined
        : (this.config.organizationId ??
          (accounts === 'organization'
            ? new CfnParameter(this, ORGANIZATION_ID_PARAMETER, {
                type: 'String',
                description:
                  'The organization id (o-...): the hub bus admits events, and the functions assume roles, only within it',
                allowedPattern: ORGANIZATION_ID.source,
                constraintDescription:
                  'must be an organization id: o- and 10 to 32 lowercase letters or digits',
              }).valueAsString
            : undefined));
    const organizationId = this.organizationId ? { organizationId: this.organizationId } : {};

    const dataKey = new kms.Key(this, 'DataKey', {
      description: 'trailguard: encrypts the notification topic and the audit table',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.dataKey = dataKey;
    // CloudWatch alarms publish to the encrypted topic: only alarms of this account and region may use the key.
    const alarmsOfThisAccount = {
      StringEquals: { 'aws:SourceAccount': this.account },
      ArnLike: { 'aws:SourceArn': `arn:${this.partition}:cloudwatch:${this.region}:${this.account}:alarm:*` },
    };
    dataKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToUseTheTopicKey',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: alarmsOfThisAccount,
      }),
    );

    this.topic = new sns.Topic(this, 'NotificationTopic', {
      displayName: 'trailguard',
      masterKey: dataKey,
      enforceSSL: true,
    });
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: alarmsOfThisAccount,
      }),
    );
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

    this.idempotencyTable = new dynamodb.Table(this, 'IdempotencyTable', {
      partitionKey: { name: IDEMPOTENCY_TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: IDEMPOTENCY_TABLE_KEYS.timeToLive,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Records live 24 hours: nothing to keep when the stack goes.
      removalPolicy: RemovalPolicy.DESTROY,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: dataKey,
    });

    this.stateTable = new dynamodb.Table(this, 'StateTable', {
      partitionKey: { name: STATE_TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: STATE_TABLE_KEYS.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Snapshots are what a recreated log group gets back: kept when the stack goes, like the audit table.
      removalPolicy: RemovalPolicy.RETAIN,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: dataKey,
    });

    (this.auditTable.node.defaultChild as CfnResource).addMetadata(TABLE_METADATA_KEY, 'audit');
    (this.idempotencyTable.node.defaultChild as CfnResource).addMetadata(TABLE_METADATA_KEY, 'idempotency');
    (this.stateTable.node.defaultChild as CfnResource).addMetadata(TABLE_METADATA_KEY, 'state');

    this.functions = new TrailguardFunctions(this, 'Functions', {
      config: this.config,
      topic: this.topic,
      auditTable: this.auditTable,
      idempotencyTable: this.idempotencyTable,
      stateTable: this.stateTable,
      ...(props.stepEntries ? { entries: props.stepEntries } : {}),
      ...organizationId,
    });
    this.workflow = new TrailguardWorkflow(this, 'Workflow', {
      functions: this.functions.functions,
      deliveryCheckMinutes: this.config.deliveryCheckMinutes,
    });
    if (accounts !== undefined) {
      this.hubBus = new TrailguardHubBus(this, 'HubBus', { accounts, ...organizationId });
    }
    const onHubBus = this.hubBus ? { eventBus: this.hubBus.bus } : {};
    this.trigger = new TrailguardTrigger(this, 'Trigger', {
      stateMachine: this.workflow.stateMachine,
      excludedRoles: this.functions.mutatingRoles,
      ...onHubBus,
    });
    this.sweep = new TrailguardSweep(this, 'Sweep', {
      config: this.config,
      topic: this.topic,
      auditTable: this.auditTable,
      stateTable: this.stateTable,
      stateMachine: this.workflow.stateMachine,
      ...(props.sweepEntry ? { entry: props.sweepEntry } : {}),
      ...organizationId,
    });
    this.dependencyTrigger = new TrailguardDependencyTrigger(this, 'DependencyTrigger', {
      fanOut: this.sweep.handler.function,
      excludedRoles: this.functions.mutatingRoles,
      cisMonitoring: this.config.cisMonitoring,
      ...onHubBus,
    });
    if (this.config.securityHub) {
      this.findingsTrigger = new TrailguardFindingsTrigger(this, 'FindingsTrigger', {
        fanOut: this.sweep.handler.function,
        ...onHubBus,
      });
    }
    if (this.config.cisMonitoring) {
      // The CIS alarms of every guarded account and region reach the team's topic (services/domain/alarm-events.ts):
      // those in the topic's own account and region notify it themselves, the others by their ALARM events.
      const alarmTopic = this.config.cisAlarmTopicArn;
      const [, , , topicRegion, topicAccount] = (alarmTopic ?? '').split(':');
      this.alarmNotification = new TrailguardAlarmNotification(this, 'AlarmNotification', {
        topic: this.topic,
        ...(alarmTopic === undefined
          ? { directlyNotified: { account: this.account, region: this.region } }
          : topicAccount && topicRegion
            ? { directlyNotified: { account: topicAccount, region: topicRegion } }
            : {}),
        ...onHubBus,
      });
    }
    if (this.config.canary) {
      this.canary = new TrailguardCanary(this, 'Canary', {
        config: { ...this.config, canary: this.config.canary },
        topic: this.topic,
        auditTable: this.auditTable,
      });
    }
    this.monitoring = new TrailguardMonitoring(this, 'Monitoring', {
      topic: this.topic,
      stateMachine: this.workflow.stateMachine,
      deadLetterQueues: {
        TriggerDeadLetterQueue: this.trigger.deadLetterQueue,
        DependencyTriggerDeadLetterQueue: this.dependencyTrigger.deadLetterQueue,
        SweepScheduleDeadLetterQueue: this.sweep.scheduleDeadLetterQueue,
        SweepFailureQueue: this.sweep.failureQueue,
        ...(this.findingsTrigger
          ? { FindingsTriggerDeadLetterQueue: this.findingsTrigger.deadLetterQueue }
          : {}),
        ...(this.alarmNotification
          ? { AlarmNotificationDeadLetterQueue: this.alarmNotification.deadLetterQueue }
          : {}),
      },
      sweepFunction: this.sweep.handler.function,
      sweepIntervalMinutes: this.config.sweepIntervalMinutes,
      ...(this.sweep.organizationSweep
        ? { organizationSweep: this.sweep.organizationSweep.stateMachine }
        : {}),
    });
    if (this.hubBus && props.spokeStackSet !== false) {
      this.spokeStackSet = new TrailguardSpokeStackSet(this, 'Spokes', {
        config: this.config,
        hubEventBusArn: this.hubBus.bus.eventBusArn,
        memberRoleTrust: this.memberRoleTrust,
        mutatingRoleArns: this.functions.mutatingRoles.map((role) => role.roleArn),
        ...organizationId,
        topicArn: this.topic.topicArn,
        // The hub region (the stack is pinned to it: infra/app.ts); the stack's own region in an unpinned synth.
        remediationRoleRegion: this.config.hubRegion ?? this.config.regions?.[0] ?? this.region,
        ...(this.canary ? { canaryFunctionRoleArn: this.canary.functionRole.roleArn } : {}),
      });
    }

    const preventive = this.config.preventive;
    if (accounts !== undefined && preventive?.scp) {
      this.preventiveScp = new TrailguardPreventiveScp(this, 'PreventiveScp', {
        config: { ...this.config, preventive },
        ownRoles: [...this.functions.mutatingRoles, ...(this.canary ? [this.canary.canaryRole] : [])],
      });
    }

    new CfnOutput(this, 'StateMachineArn', { value: this.workflow.stateMachine.stateMachineArn });
    new CfnOutput(this, 'NotificationTopicArn', { value: this.topic.topicArn });
    new CfnOutput(this, 'AuditTableName', { value: this.auditTable.tableName });
    new CfnOutput(this, 'TriggerDeadLetterQueueUrl', { value: this.trigger.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'DependencyTriggerDeadLetterQueueUrl', {
      value: this.dependencyTrigger.deadLetterQueue.queueUrl,
    });
    if (this.findingsTrigger) {
      new CfnOutput(this, 'FindingsTriggerDeadLetterQueueUrl', {
        value: this.findingsTrigger.deadLetterQueue.queueUrl,
      });
    }
    new CfnOutput(this, 'IdempotencyTableName', { value: this.idempotencyTable.tableName });
    new CfnOutput(this, 'StateTableName', { value: this.stateTable.tableName });
    new CfnOutput(this, 'SweepScheduleDeadLetterQueueUrl', {
      value: this.sweep.scheduleDeadLetterQueue.queueUrl,
    });
    new CfnOutput(this, 'SweepFailureQueueUrl', { value: this.sweep.failureQueue.queueUrl });
    new CfnOutput(this, 'SweepFunctionName', { value: this.sweep.handler.function.functionName });
    new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboardName });
    if (this.hubBus) {
      new CfnOutput(this, 'HubEventBusArn', { value: this.hubBus.bus.eventBusArn });
      // What a spoke deployed directly (the management account) passes as its parameters.
      for (const role of MEMBER_ROLES) {
        new CfnOutput(this, `Spoke${MEMBER_ROLE_PARAMETERS[role]}`, {
          value: Fn.join(',', this.memberRoleTrust[role]),
        });
      }
      if (this.canary && this.config.canary?.accounts) {
        new CfnOutput(this, 'SpokeHubCanaryFunctionRoleArn', { value: this.canary.functionRole.roleArn });
      }
      new CfnOutput(this, 'SpokeHubMutatingRoleArns', {
        value: Fn.join(
          ',',
          this.functions.mutatingRoles.map((role) => role.roleArn),
        ),
      });
    }
    if (this.sweep.organizationSweep) {
      new CfnOutput(this, 'OrganizationSweepStateMachineArn', {
        value: this.sweep.organizationSweep.stateMachine.stateMachineArn,
      });
    }
    if (this.preventiveScp) {
      new CfnOutput(this, 'PreventiveScpId', { value: this.preventiveScp.policy.attrId });
    }
    if (this.spokeStackSet) {
      new CfnOutput(this, 'SpokeStackSetId', { value: this.spokeStackSet.stackSet.attrStackSetId });
    }
  }

  /**
   * For each member role (policies/iam.ts MEMBER_ROLES), the roles of the hub functions that assume it
   * (memberRoleFunctions; CheckDelivery's only when the delivery check is on): exactly the principals it trusts.
   */
  get memberRoleTrust(): Record<MemberRole, string[]> {
    const arns = (role: MemberRole) =>
      memberRoleFunctions(role).flatMap((fn) => {
        if (fn === 'Sweep') return [this.sweep.handler.role.roleArn];
        const functionRole = this.functions.roles[fn];
        return functionRole ? [functionRole.roleArn] : [];
      });
    return Object.fromEntries(MEMBER_ROLES.map((role) => [role, arns(role)])) as Record<MemberRole, string[]>;
  }
}
