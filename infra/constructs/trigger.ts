/**
 * The EventBridge rules that react to changes, each excluding the guardrail's own changes and with an
 * encrypted, TLS-only dead-letter queue for events that cannot be delivered:
 * - Trigger: CloudTrail's own API calls about a trail (CreateTrail, UpdateTrail, StopLogging, DeleteTrail)
 *   start the workflow for the trail they name;
 * - DependencyTrigger: calls that break the integration from the other side without naming a trail
 *   (CloudWatch Logs DeleteLogGroup; IAM changes to a role, which EventBridge receives in us-east-1 only) go to
 *   the sweep function, which finds the trails using that log group or role and starts one run per trail;
 * - FindingsTrigger (config.securityHub): Security Hub's own failed CloudTrail.5 findings (workflow NEW or
 *   NOTIFIED, active) go to the same function, which starts one run per trail the finding names under a
 *   deterministic name (a rule cannot name executions). trailguard's own BatchUpdateFindings produce
 *   "Findings - Imported" events too: RESOLVED findings do not match, and a note on a NEW finding keeps its
 *   UpdatedAt (BatchUpdateFindings does not change it), so it maps to the execution name already used.
 * The local runner reads the rules' patterns from the synthesized template (by their `trailguard:rule`
 * metadata), not from a copy.
 *
 * In a hub (config.accounts set) the same three rules are on the hub's bus, where the spokes
 * (infra/stacks/spoke-stack.ts) forward the events of every guarded account and region with the same patterns.
 */
import { type CfnResource, Duration, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { alarmEventPattern } from '../../services/domain/alarm-events.js';
import { DEPENDENCY_EVENTS } from '../../services/domain/events.js';
import {
  FINDINGS_IMPORTED,
  OPEN_WORKFLOW_STATUSES,
  SECURITY_CONTROL_ID,
  SECURITY_HUB_SOURCE,
  TRAIL_RESOURCE_TYPE,
} from '../../services/domain/security-hub.js';

/**
 * CDK metadata key on each rule's CfnRule: `Trigger`, `DependencyTrigger`, `FindingsTrigger` or `Sweep` (the
 * schedule).
 */
export const RULE_METADATA_KEY = 'trailguard:rule';
export type RuleName = 'Trigger' | 'DependencyTrigger' | 'FindingsTrigger' | 'AlarmNotification' | 'Sweep';

/**
 * CloudTrail API calls that can remove or break a trail's CloudWatch Logs integration. DeleteTrail only
 * notifies: Check finds the trail gone and the run ends `skipped` ("trail no longer exists"), emailed and
 * audited.
 */
export const TRIGGER_EVENT_NAMES = ['CreateTrail', 'UpdateTrail', 'StopLogging', 'DeleteTrail'] as const;

/** Calls on a log group or a role that can break a trail's integration (see services/domain/events.ts). */
export const DEPENDENCY_EVENT_SOURCES = [DEPENDENCY_EVENTS.logGroup, DEPENDENCY_EVENTS.role] as const;
/** With config.cisMonitoring the dependency rule also matches changes to metric filters and alarms. */
export const MONITORING_EVENT_SOURCES = [DEPENDENCY_EVENTS.metricFilter, DEPENDENCY_EVENTS.alarm] as const;

/**
 * The own-role exclusion every rule carries: calls made under one of `excludedRoleArns` (the guardrail's
 * functions that change trails, log groups or roles) are ignored so that a fix does not start another run.
 *
 * `anything-but` only matches when the field exists, so on its own it would also drop every caller that has
 * no session issuer: the root user and IAM users (access keys or console), exactly the callers to watch.
 * The `$or` keeps them.
 */
/**
 * Roles to exclude, or `'none'`: a rule that forwards everything to a bus whose own rules exclude the roles (a
 * single account's other regions, infra/stacks/region-stack.ts). An empty list is a mistake, not `'none'`.
 */
export type ExcludedRoles = readonly string[] | 'none';

export function excludingRoles(excludedRoleArns: ExcludedRoles): { $or?: unknown[] } {
  if (excludedRoleArns === 'none') return {};
  if (excludedRoleArns.length === 0) throw new Error('a rule needs the roles of the functions to exclude');
  const issuerArn = (matcher: unknown) => ({ sessionContext: { sessionIssuer: { arn: [matcher] } } });
  return {
    $or: [
      { userIdentity: issuerArn({ exists: false }) },
      { userIdentity: issuerArn({ 'anything-but': [...excludedRoleArns] }) },
    ],
  };
}

/** The trail rule's event pattern. */
export function triggerEventPattern(excludedRoleArns: ExcludedRoles): events.EventPattern {
  return {
    source: ['aws.cloudtrail'],
    detailType: ['AWS API Call via CloudTrail'],
    detail: {
      eventSource: ['cloudtrail.amazonaws.com'],
      eventName: [...TRIGGER_EVENT_NAMES],
      ...excludingRoles(excludedRoleArns),
    },
  };
}

/**
 * The dependency rule's event pattern. Failed calls (with an errorCode) changed nothing and are not matched.
 * (Only real pairs occur: DeleteLogGroup comes from logs, the role calls from IAM.) With `cisMonitoring`, also
 * PutMetricFilter/DeleteMetricFilter and PutMetricAlarm/DeleteAlarms: the fan-out starts a run only for the
 * trails whose CIS filters or alarms (trailguard's names) the call touched, and ignores every other filter and
 * alarm of the account.
 */
export function dependencyEventPattern(
  excludedRoleArns: ExcludedRoles,
  options: { cisMonitoring?: boolean } = {},
): events.EventPattern {
  const sources = [...DEPENDENCY_EVENT_SOURCES, ...(options.cisMonitoring ? MONITORING_EVENT_SOURCES : [])];
  return {
    source: [...new Set(sources.map((s) => s.source))],
    detailType: ['AWS API Call via CloudTrail'],
    detail: {
      eventSource: [...new Set(sources.map((s) => s.eventSource))],
      eventName: sources.flatMap((s) => [...s.eventNames]),
      errorCode: [{ exists: false }],
      ...excludingRoles(excludedRoleArns),
    },
  };
}

/**
 * The Security Hub rule's event pattern: an active, failed CloudTrail.5 finding nobody has dealt with yet
 * (workflow NEW or NOTIFIED) about a CloudTrail trail. Consolidated or not, control findings carry
 * `Compliance.SecurityControlId` ("EventBridge event formats for Security Hub CSPM"; ASFF "Compliance"). Each
 * event holds one finding. RESOLVED (trailguard's own update after a fix), SUPPRESSED, PASSED and ARCHIVED
 * findings do not match.
 */
export function findingsEventPattern(): events.EventPattern {
  return {
    source: [SECURITY_HUB_SOURCE],
    detailType: [FINDINGS_IMPORTED],
    detail: {
      findings: {
        Compliance: { Status: ['FAILED'], SecurityControlId: [SECURITY_CONTROL_ID] },
        Workflow: { Status: [...OPEN_WORKFLOW_STATUSES] },
        RecordState: ['ACTIVE'],
        Resources: { Type: [TRAIL_RESOURCE_TYPE] },
      },
    },
  };
}

/** How long and how often EventBridge retries delivering to a target before the dead-letter queue. */
export const TARGET_RETRY = { retryAttempts: 8, maxEventAge: Duration.hours(6) } as const;

/** An encrypted (SSE-SQS), TLS-only queue kept 14 days, for events or invocations that could not be handled. */
export function deadLetterQueue(scope: Construct, id: string, what: string): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: `${queue.node.path} is itself the dead-letter queue of ${what}; it needs no DLQ of its own (an alarm notifies on any message in it).`,
  });
  return queue;
}

export function tagRule(rule: events.Rule, name: RuleName): void {
  (rule.node.defaultChild as CfnResource).addMetadata(RULE_METADATA_KEY, name);
}

/**
 * A rule whose target gets its own encrypted dead-letter queue (and, where the target supports one, EventBridge's
 * retry policy), on the default bus or, in a hub, on the hub's bus.
 */
export abstract class RuleWithDeadLetterQueue extends Construct {
  readonly rule: events.Rule;
  readonly deadLetterQueue: sqs.Queue;

  protected constructor(
    scope: Construct,
    id: string,
    spec: {
      name: RuleName;
      description: string;
      eventPattern: events.EventPattern;
      /** What the queue is the dead-letter queue of, for its cdk-nag acknowledgement. */
      what: string;
      target: (options: { deadLetterQueue: sqs.IQueue } & typeof TARGET_RETRY) => events.IRuleTarget;
      /** The bus the rule is on. Default: the account's default bus. */
      eventBus?: events.IEventBus;
    },
  ) {
    super(scope, id);
    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetterQueue', spec.what);
    this.rule = new events.Rule(this, 'Rule', {
      description: spec.description,
      eventPattern: spec.eventPattern,
      ...(spec.eventBus ? { eventBus: spec.eventBus } : {}),
    });
    tagRule(this.rule, spec.name);
    this.rule.addTarget(spec.target({ deadLetterQueue: this.deadLetterQueue, ...TARGET_RETRY }));
  }
}

export interface TrailguardTriggerProps {
  stateMachine: sfn.IStateMachine;
  /** Roles whose calls must not start the workflow (the functions that change trails, log groups, roles). */
  excludedRoles: iam.IRole[];
  /** A hub's bus (events forwarded by the spokes). Default: the account's default bus. */
  eventBus?: events.IEventBus;
}

/** The trail rule: CloudTrail trail changes start the workflow. */
export class TrailguardTrigger extends RuleWithDeadLetterQueue {
  constructor(scope: Construct, id: string, props: TrailguardTriggerProps) {
    super(scope, id, {
      name: 'Trigger',
      description: 'trailguard: CloudTrail trail changes that can break the CloudWatch Logs integration',
      eventPattern: triggerEventPattern(props.excludedRoles.map((role) => role.roleArn)),
      what: "the trigger rule's Step Functions target",
      target: (options) => new targets.SfnStateMachine(props.stateMachine, options),
      ...(props.eventBus ? { eventBus: props.eventBus } : {}),
    });
  }
}

export interface TrailguardDependencyTriggerProps {
  /** The sweep function, which fans a dependency event out to the trails it affects. */
  fanOut: lambda.IFunction;
  excludedRoles: iam.IRole[];
  /** config.cisMonitoring: also match changes to metric filters and alarms. */
  cisMonitoring?: boolean;
  /** A hub's bus (events forwarded by the spokes). Default: the account's default bus. */
  eventBus?: events.IEventBus;
}

/** The dependency rule: log group deletions and delivery-role changes go to the fan-out. */
export class TrailguardDependencyTrigger extends RuleWithDeadLetterQueue {
  constructor(scope: Construct, id: string, props: TrailguardDependencyTriggerProps) {
    super(scope, id, {
      name: 'DependencyTrigger',
      description:
        'trailguard: log group deletions and IAM role changes that can break a trail CloudWatch Logs integration',
      eventPattern: dependencyEventPattern(
        props.excludedRoles.map((role) => role.roleArn),
        props.cisMonitoring ? { cisMonitoring: true } : {},
      ),
      what: "the dependency rule's Lambda (fan-out) target",
      target: (options) => new targets.LambdaFunction(props.fanOut, options),
      ...(props.eventBus ? { eventBus: props.eventBus } : {}),
    });
  }
}

export interface TrailguardFindingsTriggerProps {
  /** The sweep function, which starts one run per trail the finding names (deterministic names). */
  fanOut: lambda.IFunction;
  /** A hub's bus (events forwarded by the spokes). Default: the account's default bus. */
  eventBus?: events.IEventBus;
}

/** The Security Hub rule: failed CloudTrail.5 findings go to the fan-out. */
export class TrailguardFindingsTrigger extends RuleWithDeadLetterQueue {
  constructor(scope: Construct, id: string, props: TrailguardFindingsTriggerProps) {
    super(scope, id, {
      name: 'FindingsTrigger',
      description:
        'trailguard: failed Security Hub CloudTrail.5 findings (workflow NEW or NOTIFIED) name a trail to fix',
      eventPattern: findingsEventPattern(),
      what: "the Security Hub findings rule's Lambda (fan-out) target",
      target: (options) => new targets.LambdaFunction(props.fanOut, options),
      ...(props.eventBus ? { eventBus: props.eventBus } : {}),
    });
  }
}

export interface TrailguardAlarmNotificationProps {
  /** The team's topic (the hub's). */
  topic: sns.ITopic;
  /**
   * Where the CIS alarms notify the topic themselves (its own account and region, domain/cis-monitoring.ts
   * cisAlarmTopic): their events are left out, so one ALARM is one email. Undefined: none does.
   */
  directlyNotified?: { account: string; region: string };
  /** A hub's bus (events forwarded by the spokes). Default: the account's default bus. */
  eventBus?: events.IEventBus;
}

/**
 * The CIS alarms' notification (config.cisMonitoring): trailguard's own CIS alarms going to ALARM in any guarded
 * account and region (forwarded by the spokes, services/domain/alarm-events.ts) become an email on the team's
 * topic. An alarm cannot notify a topic in another region, nor one of another account whose policies do not
 * admit it (PutMetricAlarm), so this is how alarms outside the topic's account and region reach anyone.
 */
export class TrailguardAlarmNotification extends RuleWithDeadLetterQueue {
  constructor(scope: Construct, id: string, props: TrailguardAlarmNotificationProps) {
    const pattern = alarmEventPattern();
    const direct = props.directlyNotified;
    super(scope, id, {
      name: 'AlarmNotification',
      description:
        "trailguard: trailguard's CIS alarms going to ALARM in a guarded account and region, emailed",
      eventPattern: {
        ...pattern,
        // Alarms in the topic's own account and region notify it themselves.
        ...(direct
          ? {
              $or: [
                { account: [{ 'anything-but': direct.account }] },
                { region: [{ 'anything-but': direct.region }] },
              ],
            }
          : {}),
      },
      what: "the alarm notification rule's SNS target",
      target: (options) =>
        // EventBridge publishes as a role of its own (sns:Publish on the topic and its key, CDK's grantPublish),
        // so the topic's policy gains no statement for the events.amazonaws.com service at large.
        new targets.SnsTopic(props.topic, {
          ...options,
          authorizeUsingRole: true,
          message: events.RuleTargetInput.fromText(alarmEmailText()),
        }),
      ...(props.eventBus ? { eventBus: props.eventBus } : {}),
    });
    const eventsRole = this.rule.node.tryFindChild('EventsRole');
    if (eventsRole) {
      Validations.of(eventsRole).acknowledge({
        id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        reason: `${this.rule.node.path}: EventBridge publishes to the encrypted team topic as this role (CDK's topic.grantPublish): kms:GenerateDataKey* (GenerateDataKey and its WithoutPlaintext variant, both what SNS encryption needs) on the topic's own key only.`,
      });
    }
  }
}

/** The email's text: which CIS alarm, where, why (EventBridge input transformer over the event's fields). */
export function alarmEmailText(): string {
  const f = (path: string) => events.EventField.fromPath(path);
  return [
    `trailguard: CIS alarm ${f('$.detail.alarmName')} is ${f('$.detail.state.value')}`,
    `in account ${f('$.account')}, region ${f('$.region')}, since ${f('$.time')}.`,
    `Reason: ${f('$.detail.state.reason')}`,
    `Alarm: ${f('$.resources[0]')}`,
    'A CloudTrail event matched one of the CIS AWS Foundations 4.x metric filters trailguard keeps on the trail log group; look the call up in that log group or in CloudTrail event history.',
  ].join(' ');
}
