/**
 * The optional preventive SCP of an organization hub (config.preventive.scp): one AWS::Organizations::Policy of
 * type SERVICE_CONTROL_POLICY, attached to config.preventive.targets, whose document is policies/scp.ts's
 * (CloudFormation User Guide, "AWS::Organizations::Policy",
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-organizations-policy.html: only the
 * management account or a delegated administrator for Organizations policies can create it, and the SCP policy
 * type must be enabled on the root first).
 *
 * The content is written as a minified JSON string, not an object: the SCP size quota counts whitespace when the
 * policy is written through CloudFormation, and a string is exactly what is sent (CloudFormation then skips drift
 * detection on it, which the page notes). Its size at the deployed worst case is checked at synth time
 * (assertScpFits).
 */
import { Stack } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as organizations from 'aws-cdk-lib/aws-organizations';
import { Construct } from 'constructs';
import type { Config, PreventiveConfig } from '../../policies/config.js';
import {
  assertScpFits,
  PREVENTIVE_SCP_DESCRIPTION,
  PREVENTIVE_SCP_NAME,
  preventiveScpDocument,
  type ScpContext,
} from '../../policies/scp.js';

export interface TrailguardPreventiveScpProps {
  config: Config & { preventive: PreventiveConfig };
  /** The hub's roles that change guarded resources in its own account, and the canary's role: never bound. */
  ownRoles: readonly iam.IRole[];
}

export class TrailguardPreventiveScp extends Construct {
  readonly policy: organizations.CfnPolicy;

  constructor(scope: Construct, id: string, props: TrailguardPreventiveScpProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const context: ScpContext = {
      partition: stack.partition,
      config: props.config,
      ownRoleArns: props.ownRoles.map((role) => role.roleArn),
    };
    assertScpFits(context);
    this.policy = new organizations.CfnPolicy(this, 'Policy', {
      name: PREVENTIVE_SCP_NAME,
      type: 'SERVICE_CONTROL_POLICY',
      description: PREVENTIVE_SCP_DESCRIPTION,
      content: stack.toJsonString(preventiveScpDocument(context)),
      targetIds: [...props.config.preventive.targets],
    });
  }
}
