/**
 * A spoke's rules: on the account's default bus, with the same patterns as the hub's rules (trigger.ts), each
 * forwarding what matches straight to the hub's bus (cross-account and cross-region, one hop: a receiving bus
 * does not forward again) through a role EventBridge assumes, with its own encrypted dead-letter queue for events
 * that could not be delivered. CDK's EventBus target takes no retry policy, so EventBridge's default applies:
 * retriable failures are retried for up to 24 hours (185 attempts); others go to the queue at once ("How
 * EventBridge retries delivering events", "Using dead-letter queues to process undelivered events").
 */
import type * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { alarmEventPattern } from '../../services/domain/alarm-events.js';
import {
  dependencyEventPattern,
  type ExcludedRoles,
  findingsEventPattern,
  type RuleName,
  RuleWithDeadLetterQueue,
  triggerEventPattern,
} from './trigger.js';

/** What each forwarding rule matches and forwards. */
export const FORWARDED = {
  Trigger: 'CloudTrail trail changes that can break the CloudWatch Logs integration',
  DependencyTrigger:
    'log group deletions and IAM role changes (IAM events occur in us-east-1 only) that can break a trail CloudWatch Logs integration',
  FindingsTrigger: 'failed Security Hub CloudTrail.5 findings (workflow NEW or NOTIFIED) naming a trail',
  AlarmNotification:
    "trailguard's CIS alarms going to ALARM (config.cisMonitoring): they cannot notify the hub's topic in another account or region themselves",
} as const satisfies Partial<Record<RuleName, string>>;
export type ForwardedRule = keyof typeof FORWARDED;

export interface TrailguardForwardingRuleProps {
  name: ForwardedRule;
  /** The hub's bus. */
  hubBus: events.IEventBus;
  /** The role EventBridge assumes to put events on the hub's bus (events:PutEvents on that bus only). */
  role: iam.IRole;
  /**
   * Calls made under these roles are not forwarded (Trigger and DependencyTrigger); `'none'`: everything is
   * forwarded, for a bus whose own rules exclude them.
   */
  excludedRoleArns: ExcludedRoles;
  /** config.cisMonitoring (DependencyTrigger). */
  cisMonitoring?: boolean;
}

function patternOf(props: TrailguardForwardingRuleProps): events.EventPattern {
  switch (props.name) {
    case 'Trigger':
      return triggerEventPattern(props.excludedRoleArns);
    case 'DependencyTrigger':
      return dependencyEventPattern(
        props.excludedRoleArns,
        props.cisMonitoring ? { cisMonitoring: true } : {},
      );
    case 'FindingsTrigger':
      return findingsEventPattern();
    case 'AlarmNotification':
      return alarmEventPattern();
  }
}

/** One spoke rule: the hub rule's pattern, the hub's bus as target, its own dead-letter queue. */
export class TrailguardForwardingRule extends RuleWithDeadLetterQueue {
  constructor(scope: Construct, id: string, props: TrailguardForwardingRuleProps) {
    super(scope, id, {
      name: props.name,
      description: `trailguard spoke: forwards ${FORWARDED[props.name]} to the hub`,
      eventPattern: patternOf(props),
      what: `the spoke's ${props.name} rule (its target, the hub's event bus)`,
      target: ({ deadLetterQueue }) =>
        new targets.EventBus(props.hubBus, { role: props.role, deadLetterQueue }),
    });
  }
}
