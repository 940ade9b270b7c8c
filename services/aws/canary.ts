/**
 * The selftest canary in one account and region: create it, break it one way, restore its own configuration
 * between cases, re-read it (selftest's own reads, never the workflow's verdict), and remove everything made
 * for it. Names, selectors and events are services/domain/canary.ts; running the cases is
 * services/local/selftest.ts.
 *
 * Everything is made with the clients passed in, acting in the canary's account (the caller's own, or a
 * member's through the role selftest assumes there). Cleanup removes the canary's trail, objects, bucket (when
 * this run created it), its log group and role, and what the guardrail's fixes created for the canary: a log
 * group or delivery role the canary trail pointed at that was created during this run and that no other trail
 * uses, and (with cisMonitoring) the CIS alarms made for such a log group. It never touches another trail, or a role, log group or bucket that existed before the run.
 */
import {
  CreateTrailCommand,
  DeleteTrailCommand,
  DescribeTrailsCommand,
  GetEventSelectorsCommand,
  GetTrailCommand,
  GetTrailStatusCommand,
  ListTrailsCommand,
  PutEventSelectorsCommand,
  StartLoggingCommand,
  StopLoggingCommand,
  type Trail,
  UpdateTrailCommand,
} from '@aws-sdk/client-cloudtrail';
import { DeleteAlarmsCommand, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateLogGroupCommand,
  DeleteLogGroupCommand,
  DescribeLogGroupsCommand,
  FilterLogEventsCommand,
  type FilterLogEventsCommandOutput,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import {
  type BucketLocationConstraint,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { logGroupArn, parseLogGroupArn, parseRoleArn, roleArn, trailArn } from '../domain/arns.js';
import {
  type Break,
  CANARY_KEY_PREFIX,
  CANARY_POLICY_NAME,
  type CanaryNames,
  CLOCK_SKEW_MS,
  canaryBucketName,
  canarySelectors,
  cloudTrailStreamPrefix,
  deliveryFilterPattern,
  isDeliveredObjectEvent,
  TRAILS_PER_REGION,
} from '../domain/canary.js';
import { cisAlarmNames } from '../domain/cis-monitoring.js';
import { awsErrorName, TrailguardError } from '../domain/errors.js';
import type { AwsClients } from './clients.js';

/** An AWS call of selftest's own (create, break, re-read, clean up the canary) failed: exit 3. */
export class CanaryError extends TrailguardError {
  override name = 'CanaryError';
}

/** The canary cannot be created here (CloudTrail's trails-per-region quota leaves no room). */
export class CanaryNotRunnableError extends TrailguardError {
  override name = 'CanaryNotRunnableError';
}

/** Where a canary lives and the clients acting there. */
export interface CanaryTarget {
  account: string;
  region: string;
  partition: string;
  clients: AwsClients;
  /** S3 in the canary's region, with the same credentials (see s3ClientFor). */
  s3: S3Client;
  /** An existing bucket whose policy admits the canary trail; default: a bucket of the run's own. */
  bucket?: string;
  /**
   * Roles cleanup never deletes, even when a fix created them during the run for the canary alone: the deployed
   * canary keeps the guardrail's own delivery role (`deliveryRoleName`), which its role may not delete and which
   * later fixes reuse. Only the grants a fix put on them for the canary's log groups go.
   */
  keepRoles?: readonly string[];
  /**
   * The guardrail keeps CIS metric filters and alarms on trail log groups (config.cisMonitoring): its fixes of the
   * canary made alarms named after the canary's log groups, which cleanup removes with the groups.
   */
  cisAlarms?: boolean;
}

export interface Canary extends CanaryNames {
  account: string;
  region: string;
  partition: string;
  bucket: string;
  trailArn: string;
  logGroupArn: string;
  roleArn: string;
  /** This run created the bucket: cleanup deletes it. */
  createdBucket: boolean;
  /** When the canary's role was created (AWS's clock): what the guardrail created later is the run's. */
  createdAt?: Date;
  /** Every log group and role ARN the canary trail pointed at during the run (cleanup's candidates). */
  seen: { logGroupArns: Set<string>; roleArns: Set<string> };
}

/** An S3 client for `region` with `clients`' credentials (path-style against an emulator, as moto needs). */
export function s3ClientFor(
  clients: AwsClients,
  region: string,
  endpoint = process.env.AWS_ENDPOINT_URL,
): S3Client {
  const { credentials, maxAttempts } = clients.sts().config;
  return new S3Client({ region, credentials, maxAttempts, ...(endpoint ? { forcePathStyle: true } : {}) });
}

async function call<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof TrailguardError) throw error;
    throw new CanaryError(`${what}: ${awsErrorName(error) ?? 'Error'}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** The canary delivery role's trust policy (exported for test/infra/service-authorization.test.ts). */
export const CANARY_TRUST_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 'sts:AssumeRole' },
  ],
});

/** The documented delivery grant of one log group (CloudTrail User Guide, role policy document for CloudWatch Logs). */
export function canaryDeliveryPolicy(
  c: Pick<Canary, 'partition' | 'region' | 'account' | 'logGroup'>,
): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: `arn:${c.partition}:logs:${c.region}:${c.account}:log-group:${c.logGroup}:log-stream:${c.account}_CloudTrail_${c.region}*`,
      },
    ],
  });
}

/**
 * The bucket policy CloudTrail needs to deliver the canary's logs (CloudTrail User Guide, "Amazon S3 bucket
 * policy for CloudTrail"): GetBucketAcl, and PutObject under the canary's delivery prefix with the owner's
 * full control, both only for trails of this account named trailguard-canary-* (aws:SourceArn).
 */
export function canaryBucketPolicy(c: Pick<Canary, 'partition' | 'region' | 'account' | 'bucket'>): string {
  const source = `arn:${c.partition}:cloudtrail:${c.region}:${c.account}:trail/trailguard-canary-*`;
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AWSCloudTrailAclCheck',
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: 's3:GetBucketAcl',
        Resource: `arn:${c.partition}:s3:::${c.bucket}`,
        Condition: { ArnLike: { 'aws:SourceArn': source } },
      },
      {
        Sid: 'AWSCloudTrailWrite',
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: 's3:PutObject',
        Resource: `arn:${c.partition}:s3:::${c.bucket}/${CANARY_KEY_PREFIX}/*/${c.region}/logs/AWSLogs/${c.account}/*`,
        Condition: {
          StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' },
          ArnLike: { 'aws:SourceArn': source },
        },
      },
    ],
  });
}

/** Trails whose home is this region (the quota counts them; shadow copies of other regions' trails are not). */
export async function trailsHomedIn(clients: AwsClients, region: string): Promise<Trail[]> {
  const out = await call(`DescribeTrails in ${region}`, () =>
    clients.cloudTrail(region).send(new DescribeTrailsCommand({ includeShadowTrails: false })),
  );
  return (out.trailList ?? []).filter((t) => (t.HomeRegion ?? region) === region);
}

function isMissing(error: unknown): boolean {
  const name = awsErrorName(error) ?? '';
  return /NotFound|NoSuchEntity|NoSuchBucket|ResourceNotFound|TrailNotFound/.test(name);
}

/**
 * Creates the canary: bucket (unless given) and its policy, log group, delivery role and grant, the trail
 * (integrated, one advanced selector, logging). CanaryNotRunnableError when the region already holds
 * TRAILS_PER_REGION trails of this account (nothing is created then). Whatever was created before a failure is
 * returned through `onCreated` so cleanup can remove it.
 */
export async function createCanary(
  target: CanaryTarget,
  names: CanaryNames,
  onCreated: (canary: Canary) => void,
): Promise<Canary> {
  const { clients, region, account, partition } = target;
  const homed = await trailsHomedIn(clients, region);
  if (homed.length >= TRAILS_PER_REGION) {
    throw new CanaryNotRunnableError(
      `${account}/${region} already has ${homed.length} trails (CloudTrail allows ${TRAILS_PER_REGION} per region): no room for the canary trail`,
    );
  }
  const bucket = target.bucket ?? canaryBucketName(account, region, names.run);
  const canary: Canary = {
    ...names,
    account,
    region,
    partition,
    bucket,
    trailArn: trailArn({ partition, region, account, name: names.trail }),
    logGroupArn: logGroupArn({ partition, region, account, name: names.logGroup }),
    roleArn: roleArn({ partition, account, name: names.role }),
    createdBucket: false,
    seen: { logGroupArns: new Set(), roleArns: new Set() },
  };
  canary.seen.logGroupArns.add(canary.logGroupArn);
  canary.seen.roleArns.add(canary.roleArn);
  onCreated(canary);
  if (!target.bucket) {
    await call(`CreateBucket ${bucket}`, () =>
      target.s3.send(
        new CreateBucketCommand({
          Bucket: bucket,
          ...(region === 'us-east-1'
            ? {}
            : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }),
        }),
      ),
    );
    canary.createdBucket = true;
    await call(`PutBucketPolicy ${bucket}`, () =>
      target.s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: canaryBucketPolicy(canary) })),
    );
  }
  const role = await call(`CreateRole ${names.role}`, () =>
    clients.iam().send(
      new CreateRoleCommand({
        RoleName: names.role,
        AssumeRolePolicyDocument: CANARY_TRUST_POLICY,
        Description:
          'trailguard selftest canary: CloudTrail delivery to its own log group (removed after the run)',
      }),
    ),
  );
  if (role.Role?.CreateDate) canary.createdAt = role.Role.CreateDate;
  await restoreBaseline(target, canary, { create: true });
  await call(`PutEventSelectors ${names.trail}`, () =>
    clients.cloudTrail(region).send(
      new PutEventSelectorsCommand({
        TrailName: names.trail,
        AdvancedEventSelectors: canarySelectors(partition, bucket, names),
      }),
    ),
  );
  return canary;
}

/**
 * Puts the canary back to its own configuration before the next break: its log group, its role's grant, the
 * trail integrated with both, logging. `create`: the first time (the trail is created).
 */
export async function restoreBaseline(
  target: CanaryTarget,
  canary: Canary,
  options: { create?: boolean } = {},
): Promise<void> {
  const { clients, region } = target;
  try {
    await clients.logs(region).send(new CreateLogGroupCommand({ logGroupName: canary.logGroup }));
  } catch (error) {
    if (awsErrorName(error) !== 'ResourceAlreadyExistsException') {
      throw new CanaryError(
        `CreateLogGroup ${canary.logGroup}: ${awsErrorName(error)}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }
  await call(`PutRolePolicy ${canary.role}`, () =>
    clients.iam().send(
      new PutRolePolicyCommand({
        RoleName: canary.role,
        PolicyName: CANARY_POLICY_NAME,
        PolicyDocument: canaryDeliveryPolicy(canary),
      }),
    ),
  );
  const integration = {
    CloudWatchLogsLogGroupArn: canary.logGroupArn,
    CloudWatchLogsRoleArn: canary.roleArn,
  };
  if (options.create) {
    await call(`CreateTrail ${canary.trail}`, () =>
      clients.cloudTrail(region).send(
        new CreateTrailCommand({
          Name: canary.trail,
          S3BucketName: canary.bucket,
          S3KeyPrefix: canary.deliveryPrefix,
          IsMultiRegionTrail: false,
          IncludeGlobalServiceEvents: false,
          ...integration,
        }),
      ),
    );
  } else {
    await call(`UpdateTrail ${canary.trail}`, () =>
      clients.cloudTrail(region).send(new UpdateTrailCommand({ Name: canary.trail, ...integration })),
    );
  }
  await call(`StartLogging ${canary.trail}`, () =>
    clients.cloudTrail(region).send(new StartLoggingCommand({ Name: canary.trail })),
  );
}

/** Writes one object under the canary's object prefix: one data event the trail logs and delivers. */
export async function writeCanaryObject(
  target: CanaryTarget,
  canary: Canary,
  label: string,
): Promise<string> {
  const key = `${canary.objectPrefix}${label}`;
  await call(`PutObject ${canary.bucket}/${key}`, () =>
    target.s3.send(
      new PutObjectCommand({ Bucket: canary.bucket, Key: key, Body: `trailguard selftest ${label}` }),
    ),
  );
  return key;
}

/**
 * Looks once for the data event of the canary object `key` (written at `writtenAt`) in the log group the canary
 * trail delivers to now (the fix may have given it another group than its own): FilterLogEvents over CloudTrail's
 * streams of this account and region, from `writtenAt` less the clock skew. `found` when it arrived; otherwise
 * where it was looked for. A log group that does not exist is "not found", not an error.
 */
export async function findDelivery(
  target: CanaryTarget,
  canary: Canary,
  key: string,
  writtenAt: Date,
): Promise<{ found: boolean; logGroup?: string }> {
  const { clients, region } = target;
  const trail = (
    await call(`GetTrail ${canary.trail}`, () =>
      clients.cloudTrail(region).send(new GetTrailCommand({ Name: canary.trail })),
    )
  ).Trail;
  const groupArn = trail?.CloudWatchLogsLogGroupArn || undefined;
  if (groupArn) canary.seen.logGroupArns.add(groupArn);
  const group = groupArn ? parseLogGroupArn(groupArn) : undefined;
  if (!group) return { found: false };
  let token: string | undefined;
  do {
    let page: FilterLogEventsCommandOutput;
    try {
      page = await clients.logs(region).send(
        new FilterLogEventsCommand({
          logGroupName: group.name,
          logStreamNamePrefix: cloudTrailStreamPrefix(canary.account, region),
          filterPattern: deliveryFilterPattern(key),
          startTime: writtenAt.getTime() - CLOCK_SKEW_MS,
          ...(token ? { nextToken: token } : {}),
        }),
      );
    } catch (error) {
      if (isMissing(error)) return { found: false, logGroup: group.name };
      throw new CanaryError(
        `FilterLogEvents ${group.name}: ${awsErrorName(error) ?? 'Error'}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    if ((page.events ?? []).some((e) => isDeliveredObjectEvent(e.message, canary.bucket, key))) {
      return { found: true, logGroup: group.name };
    }
    token = page.nextToken;
  } while (token);
  return { found: false, logGroup: group.name };
}

/** Breaks the canary one way, as a person could. Returns when AWS has accepted the change. */
export async function applyBreak(target: CanaryTarget, canary: Canary, kind: Break): Promise<void> {
  const { clients, region } = target;
  const ct = clients.cloudTrail(region);
  switch (kind) {
    case 'UpdateTrail':
      await call(`UpdateTrail ${canary.trail} (remove the integration)`, () =>
        ct.send(
          new UpdateTrailCommand({
            Name: canary.trail,
            CloudWatchLogsLogGroupArn: '',
            CloudWatchLogsRoleArn: '',
          }),
        ),
      );
      return;
    case 'StopLogging':
      await call(`StopLogging ${canary.trail}`, () =>
        ct.send(new StopLoggingCommand({ Name: canary.trail })),
      );
      return;
    case 'DeleteLogGroup':
      await call(`DeleteLogGroup ${canary.logGroup}`, () =>
        clients.logs(region).send(new DeleteLogGroupCommand({ logGroupName: canary.logGroup })),
      );
      return;
    case 'DeleteRolePolicy':
      await call(`DeleteRolePolicy ${canary.role}`, () =>
        clients
          .iam()
          .send(new DeleteRolePolicyCommand({ RoleName: canary.role, PolicyName: CANARY_POLICY_NAME })),
      );
      return;
  }
}

/** The canary's selectors as CloudTrail reads them back. */
export async function readCanarySelectors(target: CanaryTarget, canary: Canary) {
  return call(`GetEventSelectors ${canary.trail}`, () =>
    target.clients.cloudTrail(target.region).send(new GetEventSelectorsCommand({ TrailName: canary.trail })),
  );
}

/** Whether a glob of an IAM policy's Resource (`*` and `?`) matches `value`. */
function globMatches(pattern: string, value: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`).test(value);
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

/** Whether one policy document allows `action` on `resource` (Allow statements only; a Deny is reported as such). */
function allows(document: string | undefined, action: string, resource: string): boolean {
  if (!document) return false;
  let doc: { Statement?: unknown };
  try {
    doc = JSON.parse(decodeURIComponent(document)) as { Statement?: unknown };
  } catch {
    return false;
  }
  return asList(doc.Statement).some((s) => {
    const st = s as { Effect?: string; Action?: unknown; Resource?: unknown };
    return (
      st.Effect === 'Allow' &&
      asList(st.Action).some(
        (a) => typeof a === 'string' && globMatches(a.toLowerCase(), action.toLowerCase()),
      ) &&
      asList(st.Resource).some((r) => typeof r === 'string' && globMatches(r, resource))
    );
  });
}

/**
 * Re-reads the canary with selftest's own reads: what is still wrong (empty: integrated with an existing log
 * group through a role CloudTrail may assume and that may write CloudTrail's streams there, and logging).
 * Records what the trail points at for cleanup.
 */
export async function rereadCanary(target: CanaryTarget, canary: Canary): Promise<string[]> {
  const { clients, region } = target;
  const problems: string[] = [];
  const trail = (
    await call(`GetTrail ${canary.trail}`, () =>
      clients.cloudTrail(region).send(new GetTrailCommand({ Name: canary.trail })),
    )
  ).Trail;
  const status = await call(`GetTrailStatus ${canary.trail}`, () =>
    clients.cloudTrail(region).send(new GetTrailStatusCommand({ Name: canary.trail })),
  );
  if (status.IsLogging !== true) problems.push('the trail is not logging');
  const groupArn = trail?.CloudWatchLogsLogGroupArn || undefined;
  const roleArnRead = trail?.CloudWatchLogsRoleArn || undefined;
  if (groupArn) canary.seen.logGroupArns.add(groupArn);
  if (roleArnRead) canary.seen.roleArns.add(roleArnRead);
  const group = groupArn ? parseLogGroupArn(groupArn) : undefined;
  if (!group)
    problems.push(groupArn ? `log group ARN ${groupArn} is malformed` : 'no CloudWatch Logs log group');
  else {
    const found = await call(`DescribeLogGroups ${group.name}`, () =>
      clients.logs(region).send(new DescribeLogGroupsCommand({ logGroupNamePrefix: group.name })),
    );
    if (!(found.logGroups ?? []).some((g) => g.logGroupName === group.name)) {
      problems.push(`log group ${group.name} does not exist`);
    }
  }
  const role = roleArnRead ? parseRoleArn(roleArnRead) : undefined;
  if (!role) problems.push(roleArnRead ? `role ARN ${roleArnRead} is malformed` : 'no delivery role');
  else {
    let trust: string | undefined;
    try {
      trust = (await clients.iam().send(new GetRoleCommand({ RoleName: role.name }))).Role
        ?.AssumeRolePolicyDocument;
    } catch (error) {
      if (!isMissing(error))
        throw new CanaryError(`GetRole ${role.name}: ${(error as Error).message}`, { cause: error });
      problems.push(`role ${role.name} does not exist`);
    }
    if (trust !== undefined && !/cloudtrail\.amazonaws\.com/.test(decodeURIComponent(trust))) {
      problems.push(`role ${role.name} does not trust cloudtrail.amazonaws.com`);
    }
    if (trust !== undefined && group) {
      const stream = `arn:${canary.partition}:logs:${region}:${canary.account}:log-group:${group.name}:log-stream:${canary.account}_CloudTrail_${region}_selftest`;
      const documents = await rolePolicyDocuments(target, role.name);
      const grants = (action: string) => documents.some((d) => allows(d, action, stream));
      if (!grants('logs:PutLogEvents') || !grants('logs:CreateLogStream')) {
        problems.push(`role ${role.name} may not write CloudTrail's streams in ${group.name}`);
      }
    }
  }
  return problems;
}

async function rolePolicyDocuments(target: CanaryTarget, roleName: string): Promise<string[]> {
  const iam = target.clients.iam();
  const names = await call(`ListRolePolicies ${roleName}`, () =>
    iam.send(new ListRolePoliciesCommand({ RoleName: roleName })),
  );
  const docs: string[] = [];
  for (const policyName of names.PolicyNames ?? []) {
    const out = await call(`GetRolePolicy ${roleName} ${policyName}`, () =>
      iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: policyName })),
    );
    if (out.PolicyDocument) docs.push(out.PolicyDocument);
  }
  // Managed policies are read too, so a fix by attaching one is seen.
  const { GetPolicyCommand, GetPolicyVersionCommand } = await import('@aws-sdk/client-iam');
  const attached = await call(`ListAttachedRolePolicies ${roleName}`, () =>
    iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName })),
  );
  for (const p of attached.AttachedPolicies ?? []) {
    if (!p.PolicyArn) continue;
    const policy = await call(`GetPolicy ${p.PolicyArn}`, () =>
      iam.send(new GetPolicyCommand({ PolicyArn: p.PolicyArn })),
    );
    const version = policy.Policy?.DefaultVersionId;
    if (!version) continue;
    const doc = await call(`GetPolicyVersion ${p.PolicyArn}`, () =>
      iam.send(new GetPolicyVersionCommand({ PolicyArn: p.PolicyArn, VersionId: version })),
    );
    if (doc.PolicyVersion?.Document) docs.push(doc.PolicyVersion.Document);
  }
  return docs;
}

/** The log group and role ARNs every other trail of the account uses (any region). */
async function usedByOtherTrails(
  target: CanaryTarget,
  canary: Canary,
): Promise<{ groups: Set<string>; roles: Set<string> }> {
  const { clients } = target;
  const groups = new Set<string>();
  const roles = new Set<string>();
  let token: string | undefined;
  const listed: { arn: string; region: string }[] = [];
  do {
    const page = await call('ListTrails', () =>
      clients
        .cloudTrail(target.region)
        .send(new ListTrailsCommand({ ...(token ? { NextToken: token } : {}) })),
    );
    for (const t of page.Trails ?? []) {
      if (t.TrailARN && t.TrailARN !== canary.trailArn)
        listed.push({ arn: t.TrailARN, region: t.HomeRegion ?? target.region });
    }
    token = page.NextToken;
  } while (token);
  for (const t of listed) {
    try {
      const out = await clients.cloudTrail(t.region).send(new GetTrailCommand({ Name: t.arn }));
      if (out.Trail?.CloudWatchLogsLogGroupArn) groups.add(out.Trail.CloudWatchLogsLogGroupArn);
      if (out.Trail?.CloudWatchLogsRoleArn) roles.add(out.Trail.CloudWatchLogsRoleArn);
    } catch (error) {
      if (!isMissing(error))
        throw new CanaryError(`GetTrail ${t.arn}: ${(error as Error).message}`, { cause: error });
    }
  }
  return { groups, roles };
}

/** Whether a resource created at `created` was created during this run (AWS's clock on both sides). */
function createdDuringRun(
  canary: Canary,
  created: Date | number | undefined,
  name: string,
  canaryNamed: boolean,
): boolean {
  if (canaryNamed || name.includes(canary.trail)) return true;
  if (!canary.createdAt || created === undefined) return false;
  return new Date(created).getTime() >= canary.createdAt.getTime() - 1000;
}

/**
 * Removes everything made for the canary (see the file's comment). Each removal is attempted even when an
 * earlier one failed; the failures are thrown together at the end (CanaryError). Returns what was removed.
 */
export async function cleanupCanary(target: CanaryTarget, canary: Canary): Promise<string[]> {
  const { clients, region } = target;
  const removed: string[] = [];
  const failures: string[] = [];
  const attempt = async (what: string, run: () => Promise<unknown>) => {
    try {
      await run();
      removed.push(what);
    } catch (error) {
      if (isMissing(error)) return;
      failures.push(`${what}: ${awsErrorName(error) ?? 'Error'}: ${(error as Error).message}`);
    }
  };
  // The trail first: CloudTrail stops delivering to the bucket and log group.
  try {
    const t = await clients.cloudTrail(region).send(new GetTrailCommand({ Name: canary.trail }));
    if (t.Trail?.CloudWatchLogsLogGroupArn) canary.seen.logGroupArns.add(t.Trail.CloudWatchLogsLogGroupArn);
    if (t.Trail?.CloudWatchLogsRoleArn) canary.seen.roleArns.add(t.Trail.CloudWatchLogsRoleArn);
  } catch {
    // Gone already, or unreadable: the delete below says which.
  }
  await attempt(`trail ${canary.trail}`, () =>
    clients.cloudTrail(region).send(new DeleteTrailCommand({ Name: canary.trail })),
  );

  let used: { groups: Set<string>; roles: Set<string> } = { groups: new Set(), roles: new Set() };
  try {
    used = await usedByOtherTrails(target, canary);
  } catch (error) {
    // Without knowing what other trails use, remove only what is named as the canary's.
    failures.push((error as Error).message);
  }

  for (const arn of canary.seen.logGroupArns) {
    const group = parseLogGroupArn(arn);
    if (!group || group.region !== region || group.account !== canary.account) continue;
    if (
      [...used.groups].some(
        (g) => parseLogGroupArn(g)?.name === group.name && parseLogGroupArn(g)?.region === region,
      )
    )
      continue;
    let created: number | undefined;
    let exists = false;
    try {
      const found = await clients
        .logs(region)
        .send(new DescribeLogGroupsCommand({ logGroupNamePrefix: group.name }));
      const g = (found.logGroups ?? []).find((x) => x.logGroupName === group.name);
      exists = g !== undefined;
      created = g?.creationTime;
    } catch (error) {
      failures.push(`log group ${group.name}: ${(error as Error).message}`);
      continue;
    }
    if (!createdDuringRun(canary, created, group.name, group.name === canary.logGroup)) continue;
    if (exists) {
      // Its metric filters (the CIS ones the fix put there too) go with it.
      await attempt(`log group ${group.name}`, () =>
        clients.logs(region).send(new DeleteLogGroupCommand({ logGroupName: group.name })),
      );
    }
    // The CIS alarms the guardrail's fix made for this group (cisMonitoring): named after the group, the canary's.
    if (target.cisAlarms) {
      try {
        for (const name of await deleteCisAlarms(target, group.name)) removed.push(`alarm ${name}`);
      } catch (error) {
        failures.push(
          `CIS alarms of ${group.name}: ${awsErrorName(error) ?? 'Error'}: ${(error as Error).message}`,
        );
      }
    }
  }

  for (const arn of canary.seen.roleArns) {
    const role = parseRoleArn(arn);
    if (!role || role.account !== canary.account) continue;
    let created: Date | undefined;
    try {
      created = (await clients.iam().send(new GetRoleCommand({ RoleName: role.name }))).Role?.CreateDate;
    } catch (error) {
      if (!isMissing(error)) failures.push(`role ${role.name}: ${(error as Error).message}`);
      continue;
    }
    const usedElsewhere = [...used.roles].some((r) => parseRoleArn(r)?.name === role.name);
    const kept = target.keepRoles?.includes(role.name) === true;
    if (!usedElsewhere && !kept && createdDuringRun(canary, created, role.name, role.name === canary.role)) {
      await attempt(`role ${role.name}`, () => deleteRole(target, role.name));
      continue;
    }
    // A role that stays (another trail uses it, it existed before, or it is kept): only the grants the guardrail put on it
    // for the canary's log groups go (RestoreRole names them trailguard-delivery-<log group>-<hash>).
    try {
      const inline = await clients.iam().send(new ListRolePoliciesCommand({ RoleName: role.name }));
      for (const policyName of inline.PolicyNames ?? []) {
        if (!policyName.startsWith('trailguard-delivery-') || !policyName.includes(canary.trail)) continue;
        await attempt(`grant ${policyName} of role ${role.name}`, () =>
          clients.iam().send(new DeleteRolePolicyCommand({ RoleName: role.name, PolicyName: policyName })),
        );
      }
    } catch (error) {
      failures.push(`grants of role ${role.name}: ${(error as Error).message}`);
    }
  }

  const prefix = `${CANARY_KEY_PREFIX}/${canary.run}/${region}/`;
  await attempt(`objects under ${canary.bucket}/${prefix}`, () =>
    deleteObjects(target.s3, canary.bucket, prefix),
  );
  if (canary.createdBucket) {
    await attempt(`bucket ${canary.bucket}`, async () => {
      // Whatever CloudTrail delivered elsewhere in the run's own bucket goes too (it is the run's).
      await deleteObjects(target.s3, canary.bucket, '');
      await target.s3.send(new DeleteBucketCommand({ Bucket: canary.bucket }));
    });
  }
  if (failures.length > 0) {
    throw new CanaryError(
      `cleanup of ${canary.trail} in ${canary.account}/${region} left: ${failures.join('; ')}`,
    );
  }
  return removed;
}

/**
 * Deletes the CIS alarms of one of the canary's log groups (services/domain/cis-monitoring.ts cisAlarmNames: every
 * name is `trailguard-cis-<control>-<log group>`, so none belongs to another group) that exist, and returns their
 * names. DescribeAlarms first: DeleteAlarms fails on a name that does not exist (CloudWatch API Reference,
 * DeleteAlarms, "ResourceNotFound").
 */
async function deleteCisAlarms(target: CanaryTarget, logGroupName: string): Promise<string[]> {
  const cw = target.clients.cloudWatch(target.region);
  const names = cisAlarmNames(logGroupName);
  const found: string[] = [];
  let token: string | undefined;
  do {
    const page = await cw.send(
      new DescribeAlarmsCommand({
        AlarmNames: names,
        AlarmTypes: ['MetricAlarm'],
        ...(token ? { NextToken: token } : {}),
      }),
    );
    for (const a of page.MetricAlarms ?? []) if (a.AlarmName) found.push(a.AlarmName);
    token = page.NextToken;
  } while (token);
  if (found.length > 0) await cw.send(new DeleteAlarmsCommand({ AlarmNames: found }));
  return found;
}

async function deleteRole(target: CanaryTarget, roleName: string): Promise<void> {
  const iam = target.clients.iam();
  const inline = await iam.send(new ListRolePoliciesCommand({ RoleName: roleName }));
  for (const policyName of inline.PolicyNames ?? []) {
    await iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: policyName }));
  }
  const attached = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName }));
  for (const p of attached.AttachedPolicies ?? []) {
    if (p.PolicyArn)
      await iam.send(new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn: p.PolicyArn }));
  }
  await iam.send(new DeleteRoleCommand({ RoleName: roleName }));
}

async function deleteObjects(s3: S3Client, bucket: string, prefix: string): Promise<void> {
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        ...(token ? { ContinuationToken: token } : {}),
      }),
    );
    const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
    if (keys.length > 0)
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

/** A canary as JSON (the deployed canary's workflow carries it from step to step). */
export interface CanaryState extends Omit<Canary, 'seen' | 'createdAt'> {
  createdAt?: string;
  seen: { logGroupArns: string[]; roleArns: string[] };
}

export function canaryToState(canary: Canary): CanaryState {
  const { seen, createdAt, ...rest } = canary;
  return {
    ...rest,
    ...(createdAt ? { createdAt: createdAt.toISOString() } : {}),
    seen: { logGroupArns: [...seen.logGroupArns], roleArns: [...seen.roleArns] },
  };
}

export function canaryFromState(state: CanaryState): Canary {
  const { seen, createdAt, ...rest } = state;
  return {
    ...rest,
    ...(createdAt ? { createdAt: new Date(createdAt) } : {}),
    seen: { logGroupArns: new Set(seen.logGroupArns), roleArns: new Set(seen.roleArns) },
  };
}
