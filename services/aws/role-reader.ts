/** Reads a delivery role as the assessment needs it (IAM only). */
import type { IAMClient } from '@aws-sdk/client-iam';
import { AwsReadError, awsErrorName } from '../domain/errors.js';
import type { PolicyDocument, RoleState } from '../domain/trail-state.js';
import type { AwsClients } from './clients.js';
import { all, read } from './read.js';
import { sdk } from './sdk.js';

/** IAM returns policy documents URL-encoded; some emulators return them plain or as objects. */
export function decodePolicy(document: unknown): PolicyDocument {
  if (document && typeof document === 'object') return document as PolicyDocument;
  if (typeof document !== 'string' || document === '') return {};
  let text = document;
  if (!text.trimStart().startsWith('{')) {
    try {
      text = decodeURIComponent(text);
    } catch {
      // not URL-encoded: parse as it is
    }
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' ? (parsed as PolicyDocument) : {};
  } catch (error) {
    throw new AwsReadError('an IAM policy document is not valid JSON', { cause: error });
  }
}

/** A managed policy's default version document. */
async function readManagedPolicy(iam: IAMClient, arn: string): Promise<PolicyDocument> {
  const { GetPolicyCommand, GetPolicyVersionCommand } = sdk.iam();
  const policy = await iam.send(new GetPolicyCommand({ PolicyArn: arn }));
  const version = await iam.send(
    new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: policy.Policy?.DefaultVersionId }),
  );
  return decodePolicy(version.PolicyVersion?.Document);
}

/**
 * A role as the assessment needs it: trust policy, every inline and attached policy (all pages of both
 * lists), and its permissions boundary, which caps what the policies grant.
 */
export async function readRole(clients: AwsClients, name: string, arn: string): Promise<RoleState> {
  const iam = clients.iam();
  const { GetRoleCommand, GetRolePolicyCommand, paginateListAttachedRolePolicies, paginateListRolePolicies } =
    sdk.iam();
  return read(`reading role ${name}`, async () => {
    let trustPolicy: PolicyDocument | undefined;
    let boundaryArn: string | undefined;
    try {
      const { Role: role } = await iam.send(new GetRoleCommand({ RoleName: name }));
      trustPolicy = decodePolicy(role?.AssumeRolePolicyDocument);
      boundaryArn = role?.PermissionsBoundary?.PermissionsBoundaryArn;
    } catch (error) {
      if (awsErrorName(error) === 'NoSuchEntityException')
        return { name, arn, exists: false, permissionPolicies: [] };
      throw error;
    }
    const [inlineNames, attached, boundary] = await Promise.all([
      all(paginateListRolePolicies({ client: iam }, { RoleName: name }), (p) => p.PolicyNames),
      all(paginateListAttachedRolePolicies({ client: iam }, { RoleName: name }), (p) => p.AttachedPolicies),
      boundaryArn ? readManagedPolicy(iam, boundaryArn) : undefined,
    ]);
    const inlineDocs = await Promise.all(
      inlineNames.map(async (policyName) => {
        const out = await iam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: policyName }));
        return { name: policyName, kind: 'inline' as const, document: decodePolicy(out.PolicyDocument) };
      }),
    );
    const attachedDocs = await Promise.all(
      attached
        .filter((p) => p.PolicyArn)
        .map(async (p) => ({
          name: p.PolicyName ?? p.PolicyArn ?? 'attached',
          kind: 'managed' as const,
          document: await readManagedPolicy(iam, p.PolicyArn as string),
        })),
    );
    return {
      name,
      arn,
      exists: true,
      trustPolicy,
      permissionPolicies: [...inlineDocs, ...attachedDocs],
      ...(boundaryArn && boundary ? { permissionsBoundary: { arn: boundaryArn, document: boundary } } : {}),
    };
  });
}
