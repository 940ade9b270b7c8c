/**
 * The IAM policies the stack really synthesizes, ready for @cloud-copilot/iam-simulate: the app is built with
 * buildApp (bundling and cdk-nag off), every IAM role of the template is collected with the AWS::IAM::Policy
 * documents attached to it, and CloudFormation intrinsics are resolved by a small resolver for account
 * 123456789012 in us-east-1 (a resource's physical name is its logical id). Anything the resolver does not
 * know fails loudly, so a new kind of reference cannot silently weaken the checks.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { buildApp } from '../../../infra/app.js';
import type { ConfigInput } from '../../../policies/config.js';
import { intrinsicResolver } from '../../../services/local/intrinsics.js';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
export const PARTITION = 'aws';

interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
}
export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
}

export function synthTemplate(config: ConfigInput = {}): CfnTemplate {
  const outdir = mkdtempSync(join(tmpdir(), 'trailguard-iam-'));
  try {
    const { app, stack } = buildApp({ config, bundling: false, nag: false, outdir });
    return app.synth().getStackByName(stack.stackName).template as CfnTemplate;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/**
 * Resolves Ref / Fn::GetAtt / Fn::Join / Fn::Select / Fn::Split for the local account and region. A resource's
 * physical name is its logical id unless `physicalNames` gives one (e.g. the names the local runner uses).
 */
export function resolver(template: CfnTemplate, physicalNames: Record<string, string> = {}) {
  const pseudo: Record<string, string> = {
    'AWS::AccountId': ACCOUNT,
    'AWS::Region': REGION,
    'AWS::Partition': PARTITION,
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': 'Trailguard',
    'AWS::StackId': `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/Trailguard/00000000-0000-0000-0000-000000000000`,
  };
  const arnOf = (logicalId: string): string => {
    const type = template.Resources[logicalId]?.Type;
    const id = physicalNames[logicalId] ?? logicalId;
    switch (type) {
      case 'AWS::SNS::Topic':
        return `arn:aws:sns:${REGION}:${ACCOUNT}:${id}`;
      case 'AWS::DynamoDB::Table':
        return `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${id}`;
      case 'AWS::KMS::Key':
        return `arn:aws:kms:${REGION}:${ACCOUNT}:key/${id}`;
      case 'AWS::Logs::LogGroup':
        return `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${id}:*`;
      case 'AWS::Lambda::Function':
        return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${id}`;
      case 'AWS::SQS::Queue':
        return `arn:aws:sqs:${REGION}:${ACCOUNT}:${id}`;
      case 'AWS::IAM::Role':
        return `arn:aws:iam::${ACCOUNT}:role/${id}`;
      case 'AWS::StepFunctions::StateMachine':
        return `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${id}`;
      case 'AWS::Events::Rule':
        return `arn:aws:events:${REGION}:${ACCOUNT}:rule/${id}`;
      default:
        throw new Error(`the test resolver does not know the ARN of ${id} (${type ?? 'no such resource'})`);
    }
  };
  const ref = (id: string): string => {
    if (id in pseudo) return pseudo[id] as string;
    const type = template.Resources[id]?.Type;
    if (type === 'AWS::SQS::Queue') return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${id}`;
    if (type === 'AWS::DynamoDB::Table' || type === 'AWS::Logs::LogGroup' || type === 'AWS::IAM::Role')
      return id;
    return arnOf(id);
  };
  const getAtt = (id: string, attribute: string): string => {
    if (attribute === 'Arn' || attribute === 'TopicArn') return arnOf(id);
    if (attribute === 'QueueName' || attribute === 'TopicName') return physicalNames[id] ?? id;
    throw new Error(`the test resolver does not know Fn::GetAtt ${id}.${attribute}`);
  };
  return intrinsicResolver({
    ref,
    getAtt,
    unsupported: (fn) => new Error(`the test resolver does not support ${fn}`),
  });
}

export interface RolePolicies {
  logicalId: string;
  roleArn: string;
  /** The service that assumes the role (e.g. lambda.amazonaws.com). */
  assumedBy: string[];
  /** The workflow step or function the role belongs to (`trailguard:step` / `trailguard:function`), if any. */
  owner?: string;
  policies: { name: string; policy: unknown }[];
  managedPolicyArns: unknown[];
}

/** Every IAM role of the template with the policies attached to it, intrinsics resolved. */
export function rolesOf(template: CfnTemplate, physicalNames: Record<string, string> = {}): RolePolicies[] {
  const resolve = resolver(template, physicalNames);
  const roles: RolePolicies[] = [];
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::IAM::Role') continue;
    const props = resource.Properties ?? {};
    const trust = props.AssumeRolePolicyDocument as
      | { Statement?: { Principal?: { Service?: unknown } }[] }
      | undefined;
    const assumedBy = (trust?.Statement ?? []).flatMap((s) => {
      const service = s.Principal?.Service;
      return Array.isArray(service) ? service.map(String) : service ? [String(service)] : [];
    });
    const fn = Object.values(template.Resources).find(
      (r) =>
        r.Type === 'AWS::Lambda::Function' &&
        JSON.stringify(r.Properties?.Role) === JSON.stringify({ 'Fn::GetAtt': [id, 'Arn'] }),
    );
    const owner = fn?.Metadata?.['trailguard:step'] ?? fn?.Metadata?.['trailguard:function'];
    const attached = Object.entries(template.Resources)
      .filter(
        ([, r]) =>
          r.Type === 'AWS::IAM::Policy' &&
          ((r.Properties?.Roles as unknown[] | undefined) ?? []).some(
            (role) => JSON.stringify(role) === JSON.stringify({ Ref: id }),
          ),
      )
      .map(([policyId, r]) => ({ name: policyId, policy: resolve(r.Properties?.PolicyDocument) }));
    const inline = (
      (props.Policies as { PolicyName: string; PolicyDocument: unknown }[] | undefined) ?? []
    ).map((p) => ({ name: p.PolicyName, policy: resolve(p.PolicyDocument) }));
    roles.push({
      logicalId: id,
      roleArn: `arn:aws:iam::${ACCOUNT}:role/${id}`,
      assumedBy,
      ...(typeof owner === 'string' ? { owner } : {}),
      policies: [...attached, ...inline],
      managedPolicyArns: (props.ManagedPolicyArns as unknown[] | undefined) ?? [],
    });
  }
  return roles;
}

export interface IamRequest {
  action: string;
  resource: string;
  context?: Record<string, string | string[]>;
  /** A resource policy (e.g. a role's trust policy) evaluated with the identity policies. */
  resourcePolicy?: unknown;
}

export type Decision = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied';

/** What IAM decides for a request made by the role (identity policies only, unless a resource policy is given). */
export async function decide(role: RolePolicies, request: IamRequest): Promise<Decision> {
  const accountId = /^arn:[^:]+:[^:]*:[^:]*:(\d{12}):/.exec(request.resource)?.[1] ?? ACCOUNT;
  const result = await runSimulation(
    {
      identityPolicies: role.policies,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(request.resourcePolicy ? { resourcePolicy: request.resourcePolicy } : {}),
      request: {
        action: request.action,
        principal: role.roleArn,
        resource: { resource: request.resource, accountId },
        contextVariables: request.context ?? {},
      },
    },
    {},
  );
  if (result.resultType === 'error') {
    throw new Error(
      `iam-simulate could not run ${request.action} on ${request.resource}: ${JSON.stringify(result.errors)}`,
    );
  }
  return result.overallResult as Decision;
}
