/**
 * `TrailguardRegion-<region>`: one region of a single account guarded from one stack (config.regions set without
 * config.accounts). The guardrail's stack runs in the hub region (config.hubRegion, else the first of the
 * regions); each other guarded region gets this stack: the hub rules' patterns on the region's default bus,
 * each forwarding what matches to the hub region's default bus in the same account, where the guardrail's own
 * rules take it (cross-Region event routing: EventBridge User Guide, "Sending and receiving events between AWS
 * Regions in Amazon EventBridge"; a rule in the source Region targets the destination Region's bus through a
 * role allowed events:PutEvents on it: AWS Knowledge Center, "How do I use EventBridge to route events from one
 * event bus to another in a different AWS Region or account?"). Each rule has its own dead-letter queue, as a
 * spoke's (infra/constructs/forwarding.ts).
 *
 * Unlike an organization's spoke, nothing here excludes the guardrail's own calls: the guardrail's roles have
 * names CloudFormation generates in the hub region, unknown to this stack without cross-Region references, and
 * its rules in the hub region exclude them anyway (infra/constructs/trigger.ts), so an event of its own is
 * forwarded and dropped there (a cross-Region event, $1 per million). IAM events exist in us-east-1 only: that
 * region's stack forwards them (when us-east-1 is the hub region, the guardrail's own rules take them). No
 * remediation role: the guardrail acts in its own account with its own roles, in every guarded region.
 *
 * `npx cdk deploy --all` deploys the guardrail's stack and every region's at once (infra/app.ts).
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { type Config, type ConfigInput, parseConfig } from '../../policies/config.js';
import { type ForwardedRule, TrailguardForwardingRule } from '../constructs/forwarding.js';

export interface TrailguardRegionStackProps extends StackProps {
  config?: ConfigInput;
  /** Where the guardrail's stack runs: its default bus receives this region's events. */
  hubRegion: string;
}

export class TrailguardRegionStack extends Stack {
  readonly config: Config;
  /** The hub region's default bus, in this account. */
  readonly hubBusArn: string;
  readonly forwardingRole: iam.Role;
  readonly rules: Partial<Record<ForwardedRule, TrailguardForwardingRule>> = {};

  constructor(scope: Construct, id: string, props: TrailguardRegionStackProps) {
    super(scope, id, {
      description: `trailguard: forwards this region's trail, log group, IAM role and Security Hub events to the guardrail in ${props.hubRegion}`,
      ...props,
    });
    this.config = parseConfig(props.config ?? {});
    this.hubBusArn = `arn:${this.partition}:events:${props.hubRegion}:${this.account}:event-bus/default`;
    this.forwardingRole = new iam.Role(this, 'ForwardingRole', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
      description: `trailguard: EventBridge puts this region's matching events on the default bus of ${props.hubRegion}`,
    });
    const hubBus = events.EventBus.fromEventBusArn(this, 'HubBus', this.hubBusArn);
    const names: ForwardedRule[] = [
      'Trigger',
      'DependencyTrigger',
      ...(this.config.securityHub ? (['FindingsTrigger'] as const) : []),
      ...(this.config.cisMonitoring ? (['AlarmNotification'] as const) : []),
    ];
    for (const name of names) {
      this.rules[name] = new TrailguardForwardingRule(this, name, {
        name,
        hubBus,
        role: this.forwardingRole,
        excludedRoleArns: 'none',
        ...(this.config.cisMonitoring ? { cisMonitoring: true } : {}),
      });
    }
    for (const [name, rule] of Object.entries(this.rules)) {
      new CfnOutput(this, `${name}DeadLetterQueueUrl`, { value: rule.deadLetterQueue.queueUrl });
    }
  }
}
