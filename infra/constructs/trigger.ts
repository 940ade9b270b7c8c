/**
 * The EventBridge rule that starts the workflow for CloudTrail API calls that can break a trail's CloudWatch
 * Logs integration, excluding the guardrail's own changes, with a dead-letter queue for events that cannot be
 * delivered. The local runner reads the rule's pattern from the synthesized template, not from a copy.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

/** CloudTrail API calls that can remove or break a trail's CloudWatch Logs integration. */
export const TRIGGER_EVENT_NAMES = ['CreateTrail', 'UpdateTrail', 'StopLogging'] as const;

/**
 * The trigger's event pattern. Calls made under one of `excludedRoleArns` (the guardrail's own functions)
 * are ignored so that a fix does not start another run.
 *
 * `anything-but` only matches when the field exists, so on its own it would also drop every caller that has
 * no session issuer: the root user and IAM users (access keys or console), exactly the callers to watch.
 * The `$or` keeps them.
 */
export function triggerEventPattern(excludedRoleArns: readonly string[]): events.EventPattern {
  if (excludedRoleArns.length === 0)
    throw new Error('the trigger needs the roles of the functions to exclude');
  const issuerArn = (matcher: unknown) => ({ sessionContext: { sessionIssuer: { arn: [matcher] } } });
  return {
    source: ['aws.cloudtrail'],
    detailType: ['AWS API Call via CloudTrail'],
    detail: {
      eventSource: ['cloudtrail.amazonaws.com'],
      eventName: [...TRIGGER_EVENT_NAMES],
      $or: [
        { userIdentity: issuerArn({ exists: false }) },
        { userIdentity: issuerArn({ 'anything-but': [...excludedRoleArns] }) },
      ],
    },
  };
}

export interface TrailguardTriggerProps {
  stateMachine: sfn.IStateMachine;
  /** Roles whose calls must not start the workflow (the functions that change trails, log groups, roles). */
  excludedRoles: iam.IRole[];
}

export class TrailguardTrigger extends Construct {
  readonly rule: events.Rule;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: TrailguardTriggerProps) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: `${this.deadLetterQueue.node.path} is itself the dead-letter queue of the trigger rule's Step Functions target; it needs no DLQ of its own.`,
    });
    this.rule = new events.Rule(this, 'Rule', {
      description: 'trailguard: CloudTrail trail changes that can break the CloudWatch Logs integration',
      eventPattern: triggerEventPattern(props.excludedRoles.map((role) => role.roleArn)),
    });
    this.rule.addTarget(
      new targets.SfnStateMachine(props.stateMachine, {
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: 8,
        maxEventAge: Duration.hours(6),
      }),
    );
  }
}
