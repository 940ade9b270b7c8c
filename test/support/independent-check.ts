/**
 * An independent compliance check for end-to-end tests: raw SDK reads plus IAM evaluation by
 * @cloud-copilot/iam-simulate, sharing no code with the product's own assessment. Returns the problems
 * found; an empty list means the trail is integrated with CloudWatch Logs and logging.
 *
 * CloudTrail's AssumeRole of a CloudWatch Logs delivery role is simulated as AWS documents it: with no
 * aws:SourceArn / aws:SourceAccount in the request ("Role policy document for CloudTrail to use CloudWatch
 * Logs for monitoring": confused deputy prevention is not applicable to this role and the keys are not
 * supported). Every inline and attached policy (all pages) and the permissions boundary count.
 */
import { CloudTrailClient, GetTrailCommand, GetTrailStatusCommand } from '@aws-sdk/client-cloudtrail';
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  paginateListAttachedRolePolicies,
  paginateListRolePolicies,
} from '@aws-sdk/client-iam';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { ACCOUNT, REGION } from './aws.js';

function doc(text: string | undefined): Record<string, unknown> {
  if (!text) return {};
  return JSON.parse(text.startsWith('{') ? text : decodeURIComponent(text)) as Record<string, unknown>;
}

async function allowed(simulation: Parameters<typeof runSimulation>[0]): Promise<boolean> {
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error') throw new Error(`iam-simulate: ${JSON.stringify(result.errors)}`);
  return result.overallResult === 'Allowed';
}

export async function independentProblems(trailName: string, region = REGION): Promise<string[]> {
  const problems: string[] = [];
  const ct = new CloudTrailClient({ region });
  const { Trail: trail } = await ct.send(new GetTrailCommand({ Name: trailName }));
  const status = await ct.send(new GetTrailStatusCommand({ Name: trailName }));
  if (!status.IsLogging) problems.push('not logging');
  const groupArn = trail?.CloudWatchLogsLogGroupArn ?? '';
  const roleArn = trail?.CloudWatchLogsRoleArn ?? '';
  const group = new RegExp(`^arn:aws:logs:${region}:${ACCOUNT}:log-group:(.+):\\*$`).exec(groupArn);
  const role = new RegExp(`^arn:aws:iam::${ACCOUNT}:role/(?:.*/)?([^/]+)$`).exec(roleArn);
  if (!group?.[1]) problems.push(`log group ARN not in the :* form of this account/region: "${groupArn}"`);
  if (!role?.[1]) problems.push(`role ARN not a role of this account: "${roleArn}"`);
  if (!group?.[1] || !role?.[1]) return problems;
  const groupName = group[1];
  const roleName = role[1];

  const logs = new CloudWatchLogsClient({ region });
  const groups = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: groupName }));
  if (!groups.logGroups?.some((g) => g.logGroupName === groupName))
    problems.push(`log group ${groupName} missing`);

  const iam = new IAMClient({ region });
  let trust: Record<string, unknown>;
  let boundaryArn: string | undefined;
  try {
    const { Role } = await iam.send(new GetRoleCommand({ RoleName: roleName }));
    trust = doc(Role?.AssumeRolePolicyDocument);
    boundaryArn = Role?.PermissionsBoundary?.PermissionsBoundaryArn;
  } catch {
    problems.push(`role ${roleName} missing`);
    return problems;
  }
  const trusts = await allowed({
    identityPolicies: [],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: trust,
    request: {
      action: 'sts:AssumeRole',
      principal: 'cloudtrail.amazonaws.com',
      resource: { accountId: ACCOUNT, resource: roleArn },
      contextVariables: {},
    },
  });
  if (!trusts) problems.push(`role ${roleName} does not trust cloudtrail.amazonaws.com`);

  const managed = async (arn: string | undefined) => {
    const policy = await iam.send(new GetPolicyCommand({ PolicyArn: arn }));
    const version = await iam.send(
      new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: policy.Policy?.DefaultVersionId }),
    );
    return doc(version.PolicyVersion?.Document);
  };
  const identityPolicies: { name: string; policy: Record<string, unknown> }[] = [];
  for await (const page of paginateListRolePolicies({ client: iam }, { RoleName: roleName })) {
    for (const name of page.PolicyNames ?? []) {
      const out = await iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: name }));
      identityPolicies.push({ name, policy: doc(out.PolicyDocument) });
    }
  }
  for await (const page of paginateListAttachedRolePolicies({ client: iam }, { RoleName: roleName })) {
    for (const p of page.AttachedPolicies ?? []) {
      identityPolicies.push({ name: p.PolicyName ?? 'attached', policy: await managed(p.PolicyArn) });
    }
  }
  const permissionBoundaryPolicies = boundaryArn
    ? [{ name: 'boundary', policy: await managed(boundaryArn) }]
    : undefined;
  const stream = `arn:aws:logs:${region}:${ACCOUNT}:log-group:${groupName}:log-stream:${ACCOUNT}_CloudTrail_${region}_2026`;
  for (const action of ['logs:CreateLogStream', 'logs:PutLogEvents']) {
    const ok = await allowed({
      identityPolicies,
      ...(permissionBoundaryPolicies ? { permissionBoundaryPolicies } : {}),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      request: {
        action,
        principal: roleArn,
        resource: { accountId: ACCOUNT, resource: stream },
        contextVariables: {},
      },
    });
    if (!ok) problems.push(`role ${roleName} may not ${action} on ${groupName}'s CloudTrail streams`);
  }
  return problems;
}
