/**
 * Reads everything the assessment needs about one trail: GetTrail, GetTrailStatus, ListTags, the log group
 * (exact name match), and the delivery role (trust policy, inline and attached permission policies).
 */
import { createRequire } from 'node:module';
import {
  GetTrailCommand,
  GetTrailStatusCommand,
  paginateListTags,
  type Trail as SdkTrail,
} from '@aws-sdk/client-cloudtrail';
import { parseLogGroupArn, parseRoleArn, partitionOf } from '../domain/arns.js';
import { AwsReadError, awsErrorName, TrailNotFoundError } from '../domain/errors.js';
import type { TrailRef } from '../domain/events.js';
import type { Trail, TrailState } from '../domain/trail-state.js';
import type { AwsClients } from './clients.js';
import { readLogGroup } from './log-group-reader.js';
import { readMonitoring } from './monitoring.js';
import { all, read } from './read.js';
import { readRole } from './role-reader.js';
import { statusOf } from './trail-status-reader.js';

export { readLogGroup } from './log-group-reader.js';
/** The per-service readers, re-exported for this module's callers. */
export { decodePolicy, readRole } from './role-reader.js';
export { readTrailStatus } from './trail-status-reader.js';

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

/**
 * The organization's id (o-...), for an organization trail's member streams. Organizations is global: its
 * endpoint is in us-east-1 for the commercial partition (the SDK resolves it from the client's region).
 */
/** Organizations is needed only for organization trails: loaded on first use, not with this module. */
const load = createRequire(import.meta.url);

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

/** The caller's account: services/aws/caller-identity.ts (re-exported for the reader's callers). */
export { readAccountId } from './caller-identity.js';

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
