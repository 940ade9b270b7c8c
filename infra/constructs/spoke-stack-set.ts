/**
 * The hub rolls the spoke out with a service-managed CloudFormation StackSet: the spoke template
 * (infra/stacks/spoke-stack.ts) is synthesized inside the hub and published as one of the hub's file assets
 * (TemplateURL), and the StackSet deploys it to every account of the target organizational units in the
 * configured regions, new accounts included (auto-deployment), with the hub's values as parameters.
 *
 * - Targets: the `SpokeOrganizationalUnitIds` parameter (the organization's root `r-...` for the whole
 *   organization, or OUs); with a list of accounts, only those accounts of these OUs (AccountFilterType
 *   INTERSECTION). Service-managed StackSets never deploy to the management account: it deploys the
 *   `TrailguardSpoke` stack itself (docs/deploy.md).
 * - Regions: config.regions, else the `SpokeRegions` parameter.
 * - Who creates it: the hub must be the management account (`StackSetCallAs=SELF`) or a delegated administrator
 *   for CloudFormation StackSets (`DELEGATED_ADMIN`, the default).
 */
import {
  Aws,
  CfnParameter,
  CfnRule,
  type DockerImageAssetLocation,
  type FileAssetLocation,
  Fn,
  type ISynthesisSession,
  Lazy,
  RemovalPolicy,
  Stack,
  StackSynthesizer,
  Token,
} from 'aws-cdk-lib';
import * as cloudformation from 'aws-cdk-lib/aws-cloudformation';
import { Construct } from 'constructs';
import type { Config } from '../../policies/config.js';
import { MEMBER_ROLES, type MemberRole } from '../../policies/iam.js';
import { MEMBER_ROLE_PARAMETERS, SPOKE_PARAMETERS, TrailguardSpokeStack } from '../stacks/spoke-stack.js';

/** The hub's parameters for the StackSet. */
export const STACK_SET_PARAMETERS = {
  organizationalUnitIds: 'SpokeOrganizationalUnitIds',
  callAs: 'StackSetCallAs',
  regions: 'SpokeRegions',
} as const;

/**
 * How the StackSet rolls out: regions in parallel; in each region up to a quarter of the accounts at once
 * (`SOFT_FAILURE_TOLERANCE`: the concurrency stays at MaxConcurrentPercentage whatever fails; AWS's default,
 * `STRICT_FAILURE_TOLERANCE`, would cap it at the failure tolerance + 1: CloudFormation API Reference,
 * "StackSetOperationPreferences"); and every account may fail without failing the operation.
 *
 * Why 100%: an operation is `FAILED` only when the failed instances of a region exceed the failure tolerance
 * ("StackSetOperationSummary", Status), and a StackSet resource whose operation fails fails the hub's own
 * CREATE or UPDATE, rolling back the hub for one account without an opt-in region, under an SCP denying a
 * region, suspended, or already holding a role of the same name. With a 10% tolerance, below 10 accounts not
 * one may fail. At 100% the operation always completes, the hub deploys, and each failed instance stays FAILED
 * in the StackSet, reported by `trailguard spokes` (services/cli/commands/spokes.ts) and fixed with the steps
 * of docs/operations.md "When a spoke is missing". Preferences do not apply to auto-deployment (new accounts),
 * whose failures are reported the same way.
 */
export const STACK_SET_OPERATION_PREFERENCES = {
  regionConcurrencyType: 'PARALLEL',
  concurrencyMode: 'SOFT_FAILURE_TOLERANCE',
  maxConcurrentPercentage: 25,
  failureTolerancePercentage: 100,
} as const;

/**
 * Synthesizes a stack only as a template file of the cloud assembly (no artifact of its own: it is not listed by
 * `cdk list` nor deployable by itself) and registers that file as a file asset of another stack, whose template
 * gets its URL. The stack may have no assets of its own.
 */
export class TemplateAssetSynthesizer extends StackSynthesizer {
  private url?: string;

  constructor(private readonly owner: Stack) {
    super();
  }

  /**
   * The template's S3 URL in the owner's asset bucket. Known once the stack is synthesized, which is before its
   * owner is (children first); CDK's preparation resolves it earlier, when it is still undefined.
   */
  get templateUrl(): string {
    return Lazy.uncachedString({ produce: () => this.url });
  }

  override addFileAsset(): FileAssetLocation {
    throw new Error(`${this.boundStack.node.path}: a StackSet template cannot have assets`);
  }

  override addDockerImageAsset(): DockerImageAssetLocation {
    throw new Error(`${this.boundStack.node.path}: a StackSet template cannot have assets`);
  }

  override synthesize(session: ISynthesisSession): void {
    const template = this.synthesizeTemplate(session);
    // The source hash is the template's content hash: the object key changes whenever the template does.
    this.url = this.owner.synthesizer.addFileAsset({
      ...template,
      displayName: `${this.boundStack.node.path} template`,
    }).httpUrl;
  }
}

export interface TrailguardSpokeStackSetProps {
  config: Config;
  /** The hub's bus (the spokes' target). */
  hubEventBusArn: string;
  /** For each member role, the hub's function roles that assume it (its trust). */
  memberRoleTrust: Record<MemberRole, string[]>;
  /** The hub's function roles whose calls the spokes do not forward. */
  mutatingRoleArns: string[];
  /** The organization's id, if known (config or the hub's parameter). */
  organizationId?: string;
  /** Where the spokes' CIS alarms notify when cisAlarmTopicArn is not configured: the hub's topic. */
  topicArn: string;
  /**
   * The one region whose spoke creates each account's remediation role (IAM is global): the hub region, a
   * literal (organizationHubRegion), which must be one of the spokes' regions.
   */
  remediationRoleRegion: string;
  /** config.canary.accounts: the hub's canary function role, which the spokes' canary role trusts. */
  canaryFunctionRoleArn?: string;
}

export class TrailguardSpokeStackSet extends Construct {
  /** The spoke, synthesized as the StackSet's template. */
  readonly spoke: TrailguardSpokeStack;
  readonly stackSet: cloudformation.CfnStackSet;
  readonly organizationalUnitIds: CfnParameter;
  readonly callAs: CfnParameter;
  /** Only when config.regions is not set. */
  readonly regions?: CfnParameter;

  constructor(scope: Construct, id: string, props: TrailguardSpokeStackSetProps) {
    super(scope, id);
    const hub = Stack.of(this);
    const { config } = props;

    const synthesizer = new TemplateAssetSynthesizer(hub);
    this.spoke = new TrailguardSpokeStack(this, 'SpokeTemplate', { config, synthesizer });

    this.organizationalUnitIds = new CfnParameter(hub, STACK_SET_PARAMETERS.organizationalUnitIds, {
      type: 'CommaDelimitedList',
      description:
        'Where the StackSet deploys the spoke: the organization root id (r-...) for every account, or organizational unit ids (ou-...)',
    });
    this.callAs = new CfnParameter(hub, STACK_SET_PARAMETERS.callAs, {
      type: 'String',
      description:
        'SELF when the hub is the management account; DELEGATED_ADMIN when it is a delegated administrator for StackSets',
      allowedValues: ['DELEGATED_ADMIN', 'SELF'],
      default: 'DELEGATED_ADMIN',
    });
    if (!config.regions) {
      this.regions = new CfnParameter(hub, STACK_SET_PARAMETERS.regions, {
        type: 'CommaDelimitedList',
        description: 'The regions the StackSet deploys the spoke to (config.regions is not set)',
      });
    }

    const parameters: Record<string, string> = {
      [SPOKE_PARAMETERS.hubEventBusArn]: props.hubEventBusArn,
      ...Object.fromEntries(
        MEMBER_ROLES.map((role) => [MEMBER_ROLE_PARAMETERS[role], props.memberRoleTrust[role].join(',')]),
      ),
      [SPOKE_PARAMETERS.hubMutatingRoleArns]: props.mutatingRoleArns.join(','),
      // A literal region, one of the spokes' regions: the hub's (config.hubRegion, else the first of regions).
      [SPOKE_PARAMETERS.remediationRoleRegion]: props.remediationRoleRegion,
      [SPOKE_PARAMETERS.organizationId]: props.organizationId ?? '',
      ...(this.spoke.parameters.cisAlarmTopicArn
        ? { [SPOKE_PARAMETERS.cisAlarmTopicArn]: props.topicArn }
        : {}),
      ...(this.spoke.parameters.hubCanaryFunctionRoleArn
        ? { [SPOKE_PARAMETERS.hubCanaryFunctionRoleArn]: requiredCanaryRole(props.canaryFunctionRoleArn) }
        : {}),
    };

    const accounts = config.accounts;
    this.stackSet = new cloudformation.CfnStackSet(this, 'StackSet', {
      stackSetName: `${Aws.STACK_NAME}-spoke`,
      description:
        'trailguard spokes: forwarding rules to the hub bus and the member roles, in every guarded account and region',
      permissionModel: 'SERVICE_MANAGED',
      autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
      callAs: this.callAs.valueAsString,
      capabilities: ['CAPABILITY_NAMED_IAM'],
      managedExecution: { Active: true },
      operationPreferences: STACK_SET_OPERATION_PREFERENCES,
      templateUrl: synthesizer.templateUrl,
      parameters: Object.entries(parameters).map(([parameterKey, parameterValue]) => ({
        parameterKey,
        parameterValue,
      })),
      stackInstancesGroup: [
        {
          regions: config.regions ?? this.regions?.valueAsList ?? [],
          deploymentTargets: {
            organizationalUnitIds: this.organizationalUnitIds.valueAsList,
            ...(accounts !== undefined && accounts !== 'organization'
              ? { accounts: [...accounts], accountFilterType: 'INTERSECTION' }
              : {}),
          },
        },
      ],
    });
    // Removing the StackSet deletes every account's spoke and remediation role, and a hub whose instance cannot
    // be deleted ends DELETE_FAILED: unless config.allowSpokeRemoval, CloudFormation keeps it (and its instances)
    // when it leaves the template or the hub stack is deleted (DeletionPolicy and UpdateReplacePolicy Retain).
    this.stackSet.applyRemovalPolicy(config.allowSpokeRemoval ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN);
    if (this.regions && !Token.isUnresolved(props.remediationRoleRegion)) {
      // Regions as a parameter: the role region (the hub's) must be one of them, or no spoke creates the role.
      new CfnRule(hub, 'RemediationRoleRegionIsASpokeRegion', {
        assertions: [
          {
            assert: Fn.conditionContains(this.regions.valueAsList, props.remediationRoleRegion),
            assertDescription: `${STACK_SET_PARAMETERS.regions} must include ${props.remediationRoleRegion}, the hub region: only the spoke there creates each account's remediation role`,
          },
        ],
      });
    }
  }
}

function requiredCanaryRole(arn: string | undefined): string {
  if (!arn) throw new Error('config.canary.accounts: the spokes need the hub canary function role');
  return arn;
}
