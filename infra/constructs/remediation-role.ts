/**
 * One member role of a guarded account (policies/iam.ts MEMBER_ROLES; the spoke creates each once per account:
 * IAM is global). The hub's functions assume it (services/aws/accounts.ts) to act in the account. Trusted only by
 * the hub function roles that assume this kind of role (MEMBER_ROLE_OF), named by exact ARN, and, when the
 * organization's id is known, only from within the organization (aws:PrincipalOrgID). Its permissions are exactly
 * policies/iam.ts's `remediationRolePolicy(c, role)`: the member-side statements of those functions resolved for
 * this account, nothing about the hub, in customer managed policies of its own (`remediationRolePolicyDocuments`:
 * as many as IAM's 6,144-character quota per managed policy needs; one for the default configuration), created
 * with the role.
 */
import { Aws, type CfnCondition, Fn, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import {
  type MemberPolicyContext,
  type MemberRole,
  type PolicyStatement,
  remediationRolePolicyDocuments,
  STATEMENT_REASONS,
  type StatementId,
} from '../../policies/iam.js';
import { wildcardFindings } from './functions.js';

/** Sid of the role's only trust statement. */
export const REMEDIATION_TRUST_SID = 'OnlyTheHubFunctions';

export interface TrailguardRemediationRoleProps {
  /** Which member role (its statements and its trusted functions). */
  memberRole: MemberRole;
  /** Its name (policies/iam.ts memberRoleName). */
  roleName: string;
  /** The hub's function roles that may assume it: MEMBER_ROLE_OF's (a list; may be a parameter's list token). */
  trustedRoleArns: string[];
  /** The organization's id; with `withinOrganization`, only principals of that organization. */
  organizationId: string;
  /** Whether the trust adds aws:PrincipalOrgID (a condition: the id may be empty). */
  withinOrganization: CfnCondition;
  /** Created only where this condition holds (IAM is global: one stack per account creates the role). */
  createIn: CfnCondition;
  /** The member-side statements' context (this account). */
  policy: MemberPolicyContext;
}

export class TrailguardRemediationRole extends Construct {
  readonly role: iam.CfnRole;
  /** The role's managed policies, each with its part of the statements. */
  readonly policies: iam.CfnManagedPolicy[];
  /** The statements of policies/iam.ts on the role, in order. */
  readonly statements: PolicyStatement[];
  readonly memberRole: MemberRole;

  constructor(scope: Construct, id: string, props: TrailguardRemediationRoleProps) {
    super(scope, id);
    this.memberRole = props.memberRole;
    const documents = remediationRolePolicyDocuments(props.policy, props.memberRole);
    this.statements = documents.flatMap((d) => d.Statement);
    this.policies = documents.map((document, i) => {
      const policy = new iam.CfnManagedPolicy(this, `Permissions${i + 1}`, {
        description: `trailguard ${props.memberRole} member role permissions (${i + 1} of ${documents.length})`,
        policyDocument: document,
      });
      policy.cfnOptions.condition = props.createIn;
      this.acknowledgeWildcards(policy, document.Statement);
      return policy;
    });
    this.role = new iam.CfnRole(this, 'Role', {
      roleName: props.roleName,
      description: `trailguard: the hub's ${props.memberRole} access to this account (trusted only by the hub functions that need it)`,
      maxSessionDuration: 3600,
      assumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: REMEDIATION_TRUST_SID,
            Effect: 'Allow',
            Principal: { AWS: props.trustedRoleArns },
            Action: 'sts:AssumeRole',
            Condition: Fn.conditionIf(
              props.withinOrganization.logicalId,
              { StringEquals: { 'aws:PrincipalOrgID': props.organizationId } },
              Aws.NO_VALUE,
            ),
          },
        ],
      },
      managedPolicyArns: this.policies.map((policy) => policy.ref),
    });
    this.role.cfnOptions.condition = props.createIn;
  }

  get roleArn(): string {
    return this.role.attrArn;
  }

  /** Acknowledges exactly the AwsSolutions-IAM5 findings a policy's statements produce, with their reasons. */
  private acknowledgeWildcards(policy: iam.CfnManagedPolicy, statements: PolicyStatement[]): void {
    const stack = Stack.of(this);
    const reasons = new Map<string, string[]>();
    for (const statement of statements) {
      for (const finding of wildcardFindings(stack, statement)) {
        const why = `${statement.Sid}: ${STATEMENT_REASONS[statement.Sid as StatementId]}`;
        reasons.set(finding, [...(reasons.get(finding) ?? []), why]);
      }
    }
    for (const [finding, why] of reasons) {
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[${finding}]`,
        reason: `trailguard remediation role policy (${policy.node.path}): ${[...new Set(why)].join('; ')}.`,
      });
    }
  }
}
