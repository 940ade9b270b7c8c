/**
 * The spoke: what a guarded account runs, in each guarded region, for a hub (infra/stacks/trailguard-stack.ts with
 * config.accounts set). Nothing heavy: no function, no key, no table.
 * - Forwarding rules on the default bus (infra/constructs/forwarding.ts): the hub rules' patterns (trail changes;
 *   log group and delivery-role changes; Security Hub's failed CloudTrail.5 findings when config.securityHub),
 *   the guardrail's own roles excluded (this account's remediation role, by name, and the hub's own function
 *   roles for the hub's account), each forwarding straight to the hub's bus with its own dead-letter queue.
 *   IAM events reach EventBridge only in us-east-1: the dependency rule exists in every region, and only
 *   us-east-1's ever matches IAM calls.
 * - The member roles (infra/constructs/remediation-role.ts; policies/iam.ts MEMBER_ROLES): a read-only role for
 *   Check, Verify, CheckDelivery and the sweep, one role per restore step and one for UpdateFindings, each
 *   trusted only by the hub function roles that assume it (one parameter each, MEMBER_ROLE_PARAMETERS) and
 *   holding only their member-side statements; created only by the stack in `RemediationRoleRegion` (IAM is
 *   global; the condition `CreateRemediationRole`).
 *
 * - With config.canary.accounts, the canary role `trailguard-canary-access` (createCanaryRole), trusted only by the
 *   hub's canary function role (parameter HubCanaryFunctionRoleArn).
 *
 * The template is environment-agnostic and has no assets: the hub's StackSet deploys this very template
 * (infra/constructs/spoke-stack-set.ts) to every guarded account and region, passing the parameters; the
 * management account, which service-managed StackSets skip, deploys it directly as the `TrailguardSpoke` stack
 * with the same parameters (docs/deploy.md).
 */
import {
  Aws,
  CfnCondition,
  CfnOutput,
  CfnParameter,
  Fn,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { type Config, type ConfigInput, parseConfig, REGION_NAME } from '../../policies/config.js';
import { MEMBER_ROLES, type MemberRole, memberRoleName, type PolicyStatement } from '../../policies/iam.js';
import { CANARY_MEMBER_ROLE_NAME } from '../../services/domain/canary.js';
import { CANARY_STATEMENT_REASONS, memberCanaryRoleStatements } from '../constructs/canary.js';
import { type ForwardedRule, TrailguardForwardingRule } from '../constructs/forwarding.js';
import { wildcardFindings } from '../constructs/functions.js';
import { TrailguardRemediationRole } from '../constructs/remediation-role.js';

/** The spoke's parameters: the hub passes them to the StackSet; a direct deployment passes them itself. */
export const SPOKE_PARAMETERS = {
  hubEventBusArn: 'HubEventBusArn',
  hubMutatingRoleArns: 'HubMutatingRoleArns',
  remediationRoleRegion: 'RemediationRoleRegion',
  organizationId: 'OrganizationId',
  cisAlarmTopicArn: 'CisAlarmTopicArn',
  hubCanaryFunctionRoleArn: 'HubCanaryFunctionRoleArn',
} as const;

/**
 * The parameter that lists, for each member role, the hub function roles it trusts (exact ARNs; the hub stack's
 * output `Spoke<parameter>`).
 */
export const MEMBER_ROLE_PARAMETERS: Record<MemberRole, string> = {
  read: 'HubReadRoleArns',
  'restore-log-group': 'HubRestoreLogGroupRoleArns',
  'restore-role': 'HubRestoreRoleRoleArns',
  'restore-trail': 'HubRestoreTrailRoleArns',
  'update-findings': 'HubUpdateFindingsRoleArns',
};

/** The member role's construct id in the spoke (and its output `<id>Arn`). */
export function memberRoleId(role: MemberRole): string {
  return `RemediationRole${role.replace(/(^|-)(\w)/g, (_, _dash, c: string) => c.toUpperCase())}`;
}

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
  /** The member roles, by kind (policies/iam.ts MEMBER_ROLES). */
  readonly memberRoles: Record<MemberRole, TrailguardRemediationRole>;
  readonly parameters: Record<keyof typeof SPOKE_PARAMETERS, CfnParameter | undefined>;
  /** config.canary.accounts: the role the hub's canary function acts through here (trailguard-canary-access). */
  readonly canaryRole?: iam.CfnRole;
  /** The trust parameter of each member role. */
  readonly memberRoleParameters: Record<MemberRole, CfnParameter>;

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
    const trustParameter = (role: MemberRole) =>
      new CfnParameter(this, MEMBER_ROLE_PARAMETERS[role], {
        type: 'CommaDelimitedList',
        description: `The hub's function roles that may assume the ${role} member role, exact ARNs (the hub stack's output Spoke${MEMBER_ROLE_PARAMETERS[role]})`,
      });
    this.memberRoleParameters = Object.fromEntries(
      MEMBER_ROLES.map((role) => [role, trustParameter(role)]),
    ) as Record<MemberRole, CfnParameter>;
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
    // The deployed canary in this account (config.canary.accounts): the hub's canary function role, exact ARN.
    const hubCanaryFunctionRoleArn = config.canary?.accounts
      ? new CfnParameter(this, SPOKE_PARAMETERS.hubCanaryFunctionRoleArn, {
          type: 'String',
          description:
            "The hub's canary function role, the only principal the canary role trusts (the hub stack's output SpokeHubCanaryFunctionRoleArn)",
          allowedPattern: '^arn:aws[a-z-]*:iam::\\d{12}:role/[\\w+=,.@/-]+$',
          constraintDescription: 'must be an IAM role ARN',
        })
      : undefined;
    this.parameters = {
      hubEventBusArn,
      hubMutatingRoleArns,
      remediationRoleRegion,
      organizationId,
      cisAlarmTopicArn,
      hubCanaryFunctionRoleArn,
    };

    const createRole = new CfnCondition(this, CREATE_REMEDIATION_ROLE_CONDITION, {
      expression: Fn.conditionEquals(this.region, remediationRoleRegion.valueAsString),
    });
    const withinOrganization = new CfnCondition(this, 'WithinOrganization', {
      expression: Fn.conditionNot(Fn.conditionEquals(organizationId.valueAsString, '')),
    });

    const policy = {
      partition: this.partition,
      account: this.account,
      region: this.region,
      urlSuffix: this.urlSuffix,
      config,
      ...(config.cisMonitoring
        ? { cisAlarmTopicArn: config.cisAlarmTopicArn ?? cisAlarmTopicArn?.valueAsString }
        : {}),
    };
    this.memberRoles = Object.fromEntries(
      MEMBER_ROLES.map((role) => [
        role,
        new TrailguardRemediationRole(this, memberRoleId(role), {
          memberRole: role,
          roleName: memberRoleName(config.remediationRoleName, role),
          trustedRoleArns: this.memberRoleParameters[role].valueAsList,
          organizationId: organizationId.valueAsString,
          withinOrganization,
          createIn: createRole,
          policy,
        }),
      ]),
    ) as Record<MemberRole, TrailguardRemediationRole>;

    if (hubCanaryFunctionRoleArn) {
      this.canaryRole = this.createCanaryRole(
        hubCanaryFunctionRoleArn.valueAsString,
        organizationId.valueAsString,
        withinOrganization,
        createRole,
      );
    }

    // The role EventBridge assumes to put events on the hub's bus (and nothing else), for this account's rules.
    this.forwardingRole = new iam.Role(this, 'ForwardingRole', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
      description: "trailguard spoke: EventBridge puts this account's matching events on the hub's bus",
    });
    const hubBus = events.EventBus.fromEventBusArn(this, 'HubBus', hubEventBusArn.valueAsString);
    // The member roles (by name: the roles the hub acts through here) and the hub's own mutating roles (for the
    // hub's account, where the hub acts with its own roles).
    const memberRoleArns = MEMBER_ROLES.map(
      (role) =>
        `arn:${this.partition}:iam::${this.account}:role/${memberRoleName(config.remediationRoleName, role)}`,
    );
    const excludedRoleArns = Fn.split(
      ',',
      Fn.join(',', [...memberRoleArns, Fn.join(',', hubMutatingRoleArns.valueAsList)]),
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

    for (const role of MEMBER_ROLES) {
      const roleArn = new CfnOutput(this, `${memberRoleId(role)}Arn`, {
        value: this.memberRoles[role].roleArn,
      });
      roleArn.condition = createRole;
    }
    for (const [name, rule] of Object.entries(this.rules)) {
      new CfnOutput(this, `${name}DeadLetterQueueUrl`, { value: rule.deadLetterQueue.queueUrl });
    }
  }

  /**
   * The canary role of this account, `trailguard-canary-access` (once per account, like the member roles: IAM is
   * global): trusted only by the hub's canary function role (exact ARN) from within the organization, holding the
   * canary statements for this account (infra/constructs/canary.ts memberCanaryRoleStatements: trails, log
   * groups, roles and buckets named trailguard-canary-*, and a Deny of IAM on itself).
   */
  private createCanaryRole(
    trustedRoleArn: string,
    organizationId: string,
    withinOrganization: CfnCondition,
    createIn: CfnCondition,
  ): iam.CfnRole {
    const statements = memberCanaryRoleStatements({
      partition: this.partition,
      account: this.account,
      config: this.config,
    });
    const role = new iam.CfnRole(this, 'CanaryRole', {
      roleName: CANARY_MEMBER_ROLE_NAME,
      description:
        "trailguard canary: the hub's canary function creates, breaks and removes trailguard-canary-* resources here",
      maxSessionDuration: 3600,
      assumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'OnlyTheHubCanaryFunction',
            Effect: 'Allow',
            Principal: { AWS: trustedRoleArn },
            Action: 'sts:AssumeRole',
            Condition: Fn.conditionIf(
              withinOrganization.logicalId,
              { StringEquals: { 'aws:PrincipalOrgID': organizationId } },
              Aws.NO_VALUE,
            ),
          },
        ],
      },
      policies: [
        {
          policyName: 'trailguard-canary',
          policyDocument: { Version: '2012-10-17', Statement: statements.map((st) => st.toStatementJson()) },
        },
      ],
    });
    role.cfnOptions.condition = createIn;
    const findings = new Map<string, string[]>();
    for (const statement of statements) {
      const json = statement.toStatementJson() as PolicyStatement;
      for (const finding of wildcardFindings(this, {
        ...json,
        Action: ([] as string[]).concat(json.Action),
        Resource: ([] as string[]).concat(json.Resource),
      })) {
        findings.set(finding, [
          ...(findings.get(finding) ?? []),
          CANARY_STATEMENT_REASONS[json.Sid ?? ''] ?? '',
        ]);
      }
    }
    for (const [finding, why] of findings) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[${finding}]`,
        reason: `trailguard member canary role: ${[...new Set(why)].join('; ')}.`,
      });
    }
    return role;
  }
}
