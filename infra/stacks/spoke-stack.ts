/**
 * The spoke: what a guarded account runs, in each guarded region, for a hub (infra/stacks/trailguard-stack.ts with
 * config.accounts set). Nothing heavy: no function, no key, no table.
 * - Forwarding rules on the default bus (infra/constructs/forwarding.ts): the hub rules' patterns (trail changes;
 *   log group and delivery-role changes; Security Hub's failed CloudTrail.5 findings when config.securityHub),
 *   the guardrail's own roles excluded (this account's remediation role, by name, and the hub's own function
 *   roles for the hub's account), each forwarding straight to the hub's bus with its own dead-letter queue.
 *   IAM events reach EventBridge only in us-east-1: the dependency rule exists in every region, and only
 *   us-east-1's ever matches IAM calls.
 * - The remediation role (infra/constructs/remediation-role.ts), created only by the stack in
 *   `RemediationRoleRegion` (IAM is global; the condition `CreateRemediationRole`).
 *
 * The template is environment-agnostic and has no assets: the hub's StackSet deploys this very template
 * (infra/constructs/spoke-stack-set.ts) to every guarded account and region, passing the parameters; the
 * management account, which service-managed StackSets skip, deploys it directly as the `TrailguardSpoke` stack
 * with the same parameters (docs/deploy.md).
 */
import { CfnCondition, CfnOutput, CfnParameter, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { type Config, type ConfigInput, parseConfig, REGION_NAME } from '../../policies/config.js';
import { type ForwardedRule, TrailguardForwardingRule } from '../constructs/forwarding.js';
import { TrailguardRemediationRole } from '../constructs/remediation-role.js';

/** The spoke's parameters: the hub passes them to the StackSet; a direct deployment passes them itself. */
export const SPOKE_PARAMETERS = {
  hubEventBusArn: 'HubEventBusArn',
  hubFunctionRoleArns: 'HubFunctionRoleArns',
  hubMutatingRoleArns: 'HubMutatingRoleArns',
  remediationRoleRegion: 'RemediationRoleRegion',
  organizationId: 'OrganizationId',
  cisAlarmTopicArn: 'CisAlarmTopicArn',
} as const;

/** The condition under which the stack creates the remediation role (its region is RemediationRoleRegion). */
export const CREATE_REMEDIATION_ROLE_CONDITION = 'CreateRemediationRole';

const EVENT_BUS_ARN = '^arn:aws[a-z-]*:events:[a-z0-9-]+:\\d{12}:event-bus/[\\w.\\-/]+$';
const REGION_PATTERN = REGION_NAME.source;

export interface TrailguardSpokeStackProps extends StackProps {
  /** The guardrail's configuration, as the hub's (validated with parseConfig). */
  config?: ConfigInput;
}

export class TrailguardSpokeStack extends Stack {
  readonly config: Config;
  readonly forwardingRole: iam.Role;
  readonly rules: Partial<Record<ForwardedRule, TrailguardForwardingRule>> = {};
  readonly remediationRole: TrailguardRemediationRole;
  readonly parameters: Record<keyof typeof SPOKE_PARAMETERS, CfnParameter | undefined>;

  constructor(scope: Construct, id: string, props: TrailguardSpokeStackProps = {}) {
    super(scope, id, {
      description:
        'trailguard spoke: forwards trail, log group, IAM role and Security Hub events to the hub; the remediation role',
      ...props,
    });
    this.config = parseConfig(props.config ?? {});
    const config = this.config;

    const hubEventBusArn = new CfnParameter(this, SPOKE_PARAMETERS.hubEventBusArn, {
      type: 'String',
      description: "The hub's event bus (the hub stack's output HubEventBusArn)",
      allowedPattern: EVENT_BUS_ARN,
      constraintDescription: 'must be an EventBridge event bus ARN',
    });
    const hubFunctionRoleArns = new CfnParameter(this, SPOKE_PARAMETERS.hubFunctionRoleArns, {
      type: 'CommaDelimitedList',
      description:
        "The hub's function roles that may assume the remediation role, exact ARNs (the hub stack's output SpokeHubFunctionRoleArns)",
    });
    const hubMutatingRoleArns = new CfnParameter(this, SPOKE_PARAMETERS.hubMutatingRoleArns, {
      type: 'CommaDelimitedList',
      description:
        "The hub's function roles that change trails, log groups and roles: their calls are not forwarded, like the remediation role's (the hub stack's output SpokeHubMutatingRoleArns)",
    });
    const remediationRoleRegion = new CfnParameter(this, SPOKE_PARAMETERS.remediationRoleRegion, {
      type: 'String',
      description:
        'The one region whose spoke stack creates the remediation role of the account (IAM is global): the hub region',
      allowedPattern: REGION_PATTERN,
      constraintDescription: 'must be an AWS region name, e.g. eu-west-2',
      // The hub region: hubRegion, else the first of regions (where infra/app.ts pins the hub).
      ...(config.hubRegion || config.regions ? { default: config.hubRegion ?? config.regions?.[0] } : {}),
    });
    const organizationId = new CfnParameter(this, SPOKE_PARAMETERS.organizationId, {
      type: 'String',
      description:
        'The organization id (o-...): the remediation role trusts the hub only from within it. Empty: no organization condition',
      allowedPattern: '^(o-[a-z0-9]{10,32})?$',
      constraintDescription: 'must be an organization id (o-...) or empty',
      default: config.organizationId ?? '',
    });
    // CIS alarms in this account notify the configured topic, else the hub's topic (passed by the hub).
    const cisAlarmTopicArn =
      config.cisMonitoring && !config.cisAlarmTopicArn
        ? new CfnParameter(this, SPOKE_PARAMETERS.cisAlarmTopicArn, {
            type: 'String',
            description:
              'Where the CIS alarms notify: the hub topic (the hub stack output NotificationTopicArn)',
            allowedPattern: '^arn:aws[a-z-]*:sns:[a-z0-9-]+:\\d{12}:[\\w-]{1,256}$',
            constraintDescription: 'must be an SNS topic ARN',
          })
        : undefined;
    this.parameters = {
      hubEventBusArn,
      hubFunctionRoleArns,
      hubMutatingRoleArns,
      remediationRoleRegion,
      organizationId,
      cisAlarmTopicArn,
    };

    const createRole = new CfnCondition(this, CREATE_REMEDIATION_ROLE_CONDITION, {
      expression: Fn.conditionEquals(this.region, remediationRoleRegion.valueAsString),
    });
    const withinOrganization = new CfnCondition(this, 'WithinOrganization', {
      expression: Fn.conditionNot(Fn.conditionEquals(organizationId.valueAsString, '')),
    });

    this.remediationRole = new TrailguardRemediationRole(this, 'RemediationRole', {
      roleName: config.remediationRoleName,
      trustedRoleArns: hubFunctionRoleArns.valueAsList,
      organizationId: organizationId.valueAsString,
      withinOrganization,
      createIn: createRole,
      policy: {
        partition: this.partition,
        account: this.account,
        region: this.region,
        urlSuffix: this.urlSuffix,
        config,
        ...(config.cisMonitoring
          ? { cisAlarmTopicArn: config.cisAlarmTopicArn ?? cisAlarmTopicArn?.valueAsString }
          : {}),
      },
    });

    // The role EventBridge assumes to put events on the hub's bus (and nothing else), for this account's rules.
    this.forwardingRole = new iam.Role(this, 'ForwardingRole', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
      description: "trailguard spoke: EventBridge puts this account's matching events on the hub's bus",
    });
    const hubBus = events.EventBus.fromEventBusArn(this, 'HubBus', hubEventBusArn.valueAsString);
    // The remediation role (by name: the role the hub acts through here) and the hub's own mutating roles (for
    // the hub's account, where the hub acts with its own roles).
    const remediationRoleArn = `arn:${this.partition}:iam::${this.account}:role/${config.remediationRoleName}`;
    const excludedRoleArns = Fn.split(
      ',',
      Fn.join(',', [remediationRoleArn, Fn.join(',', hubMutatingRoleArns.valueAsList)]),
    );
    const names: ForwardedRule[] = [
      'Trigger',
      'DependencyTrigger',
      ...(config.securityHub ? (['FindingsTrigger'] as const) : []),
      ...(config.cisMonitoring ? (['AlarmNotification'] as const) : []),
    ];
    for (const name of names) {
      this.rules[name] = new TrailguardForwardingRule(this, name, {
        name,
        hubBus,
        role: this.forwardingRole,
        excludedRoleArns,
        ...(config.cisMonitoring ? { cisMonitoring: true } : {}),
      });
    }

    const roleArn = new CfnOutput(this, 'RemediationRoleArn', { value: this.remediationRole.roleArn });
    roleArn.condition = createRole;
    for (const [name, rule] of Object.entries(this.rules)) {
      new CfnOutput(this, `${name}DeadLetterQueueUrl`, { value: rule.deadLetterQueue.queueUrl });
    }
  }
}
