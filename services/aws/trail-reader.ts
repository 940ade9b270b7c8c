/**
 * Reads everything the assessment needs about one trail: GetTrail, GetTrailStatus, ListTags, the log group
 * (exact name match), and the delivery role (trust policy, inline and attached permission policies).
 */
import { createRequire } from 'node:module';
import {
  GetTrailCommand,
  GetTrailStatusCommand,
  type GetTrailStatusCommandOutput,
  paginateListTags,
  type Trail as SdkTrail,
} from '@aws-sdk/client-cloudtrail';
import { DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  type IAMClient,
  paginateListAttachedRolePolicies,
  paginateListRolePolicies,
} from '@aws-sdk/client-iam';
import { parseLogGroupArn, parseRoleArn, partitionOf } from '../domain/arns.js';
import {
  AwsReadError,
  awsErrorName,
  isTransient,
  TrailNotFoundError,
  TransientAwsError,
} from '../domain/errors.js';
import type { TrailRef } from '../domain/events.js';
import type {
  LogGroupState,
  PolicyDocument,
  RoleState,
  Trail,
  TrailState,
  TrailStatus,
} from '../domain/trail-state.js';
import type { AwsClients } from './clients.js';
import { readMonitoring } from './monitoring.js';

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

async function read<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (
      error instanceof TrailNotFoundError ||
      error instanceof AwsReadError ||
      error instanceof TransientAwsError
    )
      throw error;
    const message = `${what} failed: ${(error as Error).message ?? awsErrorName(error)}`;
    if (isTransient(error)) throw new TransientAwsError(message, { cause: error });
    throw new AwsReadError(message, { cause: error });
  }
}

/** The SDK's trail as the domain's Trail; `fallbackRegion` when the API gives no home region. */
export function toTrail(trail: SdkTrail, fallbackRegion: string): Trail {
  return {
    name: trail.Name ?? '',
    trailArn: trail.TrailARN ?? '',
    homeRegion: trail.HomeRegion ?? fallbackRegion,
    isMultiRegionTrail: trail.IsMultiRegionTrail ?? false,
    isOrganizationTrail: trail.IsOrganizationTrail ?? false,
    ...(trail.S3BucketName ? { s3BucketName: trail.S3BucketName } : {}),
    ...(trail.CloudWatchLogsLogGroupArn
      ? { cloudWatchLogsLogGroupArn: trail.CloudWatchLogsLogGroupArn }
      : {}),
    ...(trail.CloudWatchLogsRoleArn ? { cloudWatchLogsRoleArn: trail.CloudWatchLogsRoleArn } : {}),
  };
}

export async function readTrail(clients: AwsClients, ref: TrailRef): Promise<Trail> {
  return read(`GetTrail ${ref.id}`, async () => {
    try {
      const { Trail: trail } = await clients
        .cloudTrail(ref.region)
        .send(new GetTrailCommand({ Name: ref.id }));
      if (!trail) throw new TrailNotFoundError(`trail ${ref.id} does not exist in ${ref.region}`);
      return toTrail(trail, ref.region);
    } catch (error) {
      if (awsErrorName(error) === 'TrailNotFoundException') {
        throw new TrailNotFoundError(`trail ${ref.id} does not exist in ${ref.region}`, { cause: error });
      }
      throw error;
    }
  });
}

export async function readLogGroup(
  clients: AwsClients,
  region: string,
  name: string,
): Promise<LogGroupState> {
  return read(`DescribeLogGroups ${name}`, async () => {
    const logs = clients.logs(region);
    let nextToken: string | undefined;
    do {
      const page = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name, nextToken }));
      const group = page.logGroups?.find((g) => g.logGroupName === name);
      if (group) {
        return {
          name,
          exists: true,
          ...(group.retentionInDays !== undefined ? { retentionInDays: group.retentionInDays } : {}),
          ...(group.kmsKeyId ? { kmsKeyId: group.kmsKeyId } : {}),
        };
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return { name, exists: false };
  });
}

/** Collects every page of a paginated list (the SDK's paginators follow Marker / NextToken). */
async function all<P, T>(pages: AsyncIterable<P>, items: (page: P) => T[] | undefined): Promise<T[]> {
  const out: T[] = [];
  for await (const page of pages) out.push(...(items(page) ?? []));
  return out;
}

/** A managed policy's default version document. */
async function readManagedPolicy(iam: IAMClient, arn: string): Promise<PolicyDocument> {
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

/**
 * The organization's id (o-...), for an organization trail's member streams. Organizations is global: its
 * endpoint is in us-east-1 for the commercial partition (the SDK resolves it from the client's region).
 */
export async function readOrganizationId(clients: AwsClients): Promise<string> {
  const { DescribeOrganizationCommand } = load(
    '@aws-sdk/client-organizations',
  ) as typeof import('@aws-sdk/client-organizations');
  return read('DescribeOrganization', async () => {
    const out = await clients.organizations().send(new DescribeOrganizationCommand({}));
    const id = out.Organization?.Id;
    if (!id) throw new AwsReadError('DescribeOrganization returned no organization id');
    return id;
  });
}

/** STS is needed only where the account id is not configured: loaded on first use, not with this module. */
const load = createRequire(import.meta.url);

export async function readAccountId(clients: AwsClients): Promise<string> {
  const { GetCallerIdentityCommand } = load('@aws-sdk/client-sts') as typeof import('@aws-sdk/client-sts');
  return read('GetCallerIdentity', async () => {
    const out = await clients.sts().send(new GetCallerIdentityCommand({}));
    if (!out.Account) throw new AwsReadError('GetCallerIdentity returned no account');
    return out.Account;
  });
}

/** GetTrailStatus's answer as the assessment reads it (times as ISO 8601). */
function statusOf(out: GetTrailStatusCommandOutput): TrailStatus {
  return {
    isLogging: out.IsLogging ?? false,
    ...(out.LatestCloudWatchLogsDeliveryError
      ? { latestCloudWatchLogsDeliveryError: out.LatestCloudWatchLogsDeliveryError }
      : {}),
    ...(out.LatestCloudWatchLogsDeliveryTime
      ? { latestCloudWatchLogsDeliveryTime: out.LatestCloudWatchLogsDeliveryTime.toISOString() }
      : {}),
    ...(out.StartLoggingTime ? { startLoggingTime: out.StartLoggingTime.toISOString() } : {}),
  };
}

/** One trail's status (GetTrailStatus), asked in the trail's home region: the delivery check reads only this. */
export async function readTrailStatus(clients: AwsClients, trail: Trail): Promise<TrailStatus> {
  const out = await read(`GetTrailStatus ${trail.name}`, () =>
    clients.cloudTrail(trail.homeRegion).send(new GetTrailStatusCommand({ Name: trail.trailArn })),
  );
  return statusOf(out);
}

export interface ReadTrailOptions {
  /** Read the trail's tags (default true): exemption is decided from them. */
  tags?: boolean;
  /**
   * config.cisMonitoring: also read the CIS metric filters and alarms of the log group of a multi-region
   * trail (services/aws/monitoring.ts).
   */
  monitoring?: boolean;
}

/**
 * Reads one trail's whole state. A trail that is not ours (shadow copy, another account's organization
 * trail) is returned with only its GetTrail data: nothing else about it can or should be read from here.
 */
export async function readTrailState(
  clients: AwsClients,
  ref: TrailRef,
  accountId: string,
  options: ReadTrailOptions = {},
): Promise<TrailState> {
  const trail = await readTrail(clients, ref);
  const partition = partitionOf(ref.region);
  const base = { region: ref.region, accountId, partition, trail, tags: {} };
  const owner = /^arn:[^:]+:cloudtrail:[^:]*:(\d{12}):/.exec(trail.trailArn)?.[1];
  if (trail.homeRegion !== ref.region || (owner && owner !== accountId)) return base;

  const group = trail.cloudWatchLogsLogGroupArn
    ? parseLogGroupArn(trail.cloudWatchLogsLogGroupArn)
    : undefined;
  const readGroup = group && group.account === accountId && group.region === trail.homeRegion;
  const role = trail.cloudWatchLogsRoleArn ? parseRoleArn(trail.cloudWatchLogsRoleArn) : undefined;
  const readRoleToo = role && role.account === accountId;
  const cloudTrail = clients.cloudTrail(ref.region);

  const [status, tags, logGroup, roleState, organizationId] = await Promise.all([
    read(`GetTrailStatus ${trail.name}`, () =>
      cloudTrail.send(new GetTrailStatusCommand({ Name: trail.name })),
    ),
    options.tags === false
      ? undefined
      : read(`ListTags ${trail.name}`, () =>
          all(paginateListTags({ client: cloudTrail }, { ResourceIdList: [trail.trailArn] }), (page) =>
            page.ResourceTagList?.flatMap((r) => r.TagsList ?? []),
          ),
        ),
    readGroup ? readLogGroup(clients, ref.region, group.name) : undefined,
    readRoleToo && trail.cloudWatchLogsRoleArn
      ? readRole(clients, role.name, trail.cloudWatchLogsRoleArn)
      : undefined,
    trail.isOrganizationTrail ? readOrganizationId(clients) : undefined,
  ]);
  const tagMap: Record<string, string> = {};
  for (const t of tags ?? []) if (t.Key) tagMap[t.Key] = t.Value ?? '';
  // The CIS monitoring belongs on the log group of a multi-region trail (Security Hub's CloudWatch.1-14 look
  // for one); a group that does not exist has none, and the assessment reports the group itself.
  const monitoring =
    options.monitoring && trail.isMultiRegionTrail && logGroup?.exists
      ? await readMonitoring(clients, ref.region, logGroup.name)
      : undefined;
  return {
    ...base,
    status: statusOf(status),
    tags: tagMap,
    ...(organizationId ? { organizationId } : {}),
    ...(logGroup ? { logGroup } : {}),
    ...(roleState ? { role: roleState } : {}),
    ...(monitoring ? { monitoring } : {}),
  };
}
