/**
 * Seeds the emulator with trails the way an administrator would set them up: an S3 bucket, a log group, a
 * delivery role with a trust policy and a permission policy, the trail itself, and logging started. The
 * policy documents are written out literally (not built with the product's own helpers), so tests that read
 * them back check the product against AWS's documented shapes rather than against itself.
 *
 * `seedTrail` takes `breaks` to get any part wrong; `seedCompliantTrail` and `seedBrokenTrail` are shorthands.
 * moto does not check that the log group or role a trail names exists, so every breakage below is possible.
 */
import { AddTagsCommand, CreateTrailCommand, StartLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import type { AwsClients } from '../../services/aws/clients.js';
import { createBucketIn } from '../../services/local/organization-seed.js';
import { ACCOUNT, currentCredentials, REGION } from './aws.js';

/** Another account, for ARNs that point outside the account under test. */
export const FOREIGN_ACCOUNT = '210987654321';
export const DEFAULT_BUCKET = 'trailguard-test-trail-logs';

/** What to get wrong. Every field left out is set up correctly. */
export interface Breaks {
  /**
   * The trail's CloudWatchLogsLogGroupArn: `absent` (not set), `malformed` (not an ARN), `no-suffix` (a log
   * group ARN without the `:*` CloudTrail requires), `foreign` (a log group in another account).
   */
  logGroupArn?: 'absent' | 'malformed' | 'no-suffix' | 'foreign';
  /** The log group the trail names is not created. */
  logGroupMissing?: boolean;
  /** The trail's CloudWatchLogsRoleArn: `absent`, `malformed` (not a role ARN), `foreign` (another account). */
  roleArn?: 'absent' | 'malformed' | 'foreign';
  /** The role the trail names is not created. */
  roleMissing?: boolean;
  /**
   * The role's trust policy: `wrong-service` (trusts ec2 instead of cloudtrail), `source-account` (trusts
   * cloudtrail only under aws:SourceAccount of this account, a key AWS does not support for this role),
   * `denied` (an explicit Deny for cloudtrail).
   */
  trust?: 'wrong-service' | 'source-account' | 'denied';
  /**
   * The role's permissions: `none` (no policy at all), `put-only` (no logs:CreateLogStream), `other-group`
   * (the right actions on another log group), `denied` (a full grant plus an explicit Deny of PutLogEvents).
   */
  permissions?: 'none' | 'put-only' | 'other-group' | 'denied';
  /** Logging is not started. */
  loggingStopped?: boolean;
}

export interface SeedOptions {
  /** The trail's home region; default REGION (the region under test). */
  region?: string;
  multiRegion?: boolean;
  /** Tags put on the trail. */
  tags?: Record<string, string>;
  /** Default `CloudTrail/<trail name>`. */
  logGroupName?: string;
  /** Default `<trail name>-delivery` (cut to IAM's 64 characters). */
  roleName?: string;
  /** Default `/`. */
  rolePath?: string;
  /** Grant the permissions through an attached customer-managed policy instead of an inline one. */
  managedPolicy?: boolean;
  /** Default DEFAULT_BUCKET (created when missing). */
  bucket?: string;
  breaks?: Breaks;
}

export interface SeededTrail {
  name: string;
  trailArn: string;
  region: string;
  bucket: string;
  logGroupName: string;
  /** What the trail was given as CloudWatchLogsLogGroupArn, if anything. */
  logGroupArn?: string;
  roleName: string;
  /** What the trail was given as CloudWatchLogsRoleArn, if anything. */
  roleArn?: string;
}

/**
 * Creates the bucket trails deliver to, in `region` (in moto one bucket serves trails of every region).
 * Idempotent. Outside us-east-1, S3 requires the region as LocationConstraint (and refuses it in us-east-1).
 */
export function createBucket(name = DEFAULT_BUCKET, region = REGION): Promise<string> {
  return createBucketIn(name, region, { credentials: currentCredentials, maxAttempts: 1 });
}

export function trustPolicy(kind: Breaks['trust'] | 'valid'): Record<string, unknown> {
  const cloudTrail = { Service: 'cloudtrail.amazonaws.com' };
  const statements: Record<string, unknown>[] = {
    // AWS's documented trust for this role: no aws:SourceArn / aws:SourceAccount condition (not supported).
    valid: [{ Effect: 'Allow', Principal: cloudTrail, Action: 'sts:AssumeRole' }],
    'wrong-service': [
      { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ],
    // Confused-deputy keys on this role: CloudTrail does not send them, so this trust never matches.
    'source-account': [
      {
        Effect: 'Allow',
        Principal: cloudTrail,
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
      },
    ],
    denied: [
      { Effect: 'Allow', Principal: cloudTrail, Action: 'sts:AssumeRole' },
      { Effect: 'Deny', Principal: cloudTrail, Action: 'sts:AssumeRole' },
    ],
  }[kind ?? 'valid'];
  return { Version: '2012-10-17', Statement: statements };
}

/** The documented delivery permissions for one log group, or one of the broken variants. */
export function deliveryPermissions(
  kind: Exclude<NonNullable<Breaks['permissions']>, 'none'> | 'valid',
  p: { region: string; logGroupName: string },
): Record<string, unknown> {
  const group = (name: string) => `arn:aws:logs:${p.region}:${ACCOUNT}:log-group:${name}`;
  const streams = (name: string) => `${group(name)}:log-stream:${ACCOUNT}_CloudTrail_${p.region}*`;
  const grant = (actions: string[], name: string) => ({
    Sid: 'AWSCloudTrailDelivery',
    Effect: 'Allow',
    Action: actions,
    Resource: streams(name),
  });
  const both = ['logs:CreateLogStream', 'logs:PutLogEvents'];
  const statements = {
    valid: [grant(both, p.logGroupName)],
    'put-only': [grant(['logs:PutLogEvents'], p.logGroupName)],
    'other-group': [grant(both, 'some-other-group')],
    denied: [
      grant(both, p.logGroupName),
      { Effect: 'Deny', Action: 'logs:PutLogEvents', Resource: `${group(p.logGroupName)}:*` },
    ],
  }[kind];
  return { Version: '2012-10-17', Statement: statements };
}

function logGroupArnFor(kind: Breaks['logGroupArn'], region: string, name: string): string | undefined {
  switch (kind) {
    case 'absent':
      return undefined;
    case 'malformed':
      return `not-a-log-group-arn/${name}`;
    case 'no-suffix':
      return `arn:aws:logs:${region}:${ACCOUNT}:log-group:${name}`;
    case 'foreign':
      return `arn:aws:logs:${region}:${FOREIGN_ACCOUNT}:log-group:${name}:*`;
    default:
      return `arn:aws:logs:${region}:${ACCOUNT}:log-group:${name}:*`;
  }
}

function roleArnFor(kind: Breaks['roleArn'], path: string, name: string): string | undefined {
  switch (kind) {
    case 'absent':
      return undefined;
    case 'malformed':
      return `arn:aws:iam::${ACCOUNT}:user/${name}`;
    case 'foreign':
      return `arn:aws:iam::${FOREIGN_ACCOUNT}:role${path}${name}`;
    default:
      return `arn:aws:iam::${ACCOUNT}:role${path}${name}`;
  }
}

async function createRole(
  clients: AwsClients,
  p: { roleName: string; rolePath: string; region: string; logGroupName: string; managed: boolean },
  breaks: Breaks,
): Promise<void> {
  const iam = clients.iam();
  await iam.send(
    new CreateRoleCommand({
      RoleName: p.roleName,
      Path: p.rolePath,
      AssumeRolePolicyDocument: JSON.stringify(trustPolicy(breaks.trust ?? 'valid')),
    }),
  );
  if (breaks.permissions === 'none') return;
  const document = JSON.stringify(deliveryPermissions(breaks.permissions ?? 'valid', p));
  if (p.managed) {
    const { Policy: policy } = await iam.send(
      new CreatePolicyCommand({ PolicyName: `${p.roleName}-policy`.slice(0, 128), PolicyDocument: document }),
    );
    await iam.send(new AttachRolePolicyCommand({ RoleName: p.roleName, PolicyArn: policy?.Arn }));
  } else {
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: p.roleName,
        PolicyName: 'cloudtrail-delivery',
        PolicyDocument: document,
      }),
    );
  }
}

/** Creates a trail and whatever of its CloudWatch Logs integration `options.breaks` does not break. */
export async function seedTrail(
  clients: AwsClients,
  name: string,
  options: SeedOptions = {},
): Promise<SeededTrail> {
  const region = options.region ?? REGION;
  const breaks = options.breaks ?? {};
  const bucket = await createBucket(options.bucket);
  const logGroupName = options.logGroupName ?? `CloudTrail/${name}`;
  const roleName = options.roleName ?? `${name}-delivery`.slice(0, 64);
  const rolePath = options.rolePath ?? '/';
  const logGroupArn = logGroupArnFor(breaks.logGroupArn, region, logGroupName);
  const roleArn = roleArnFor(breaks.roleArn, rolePath, roleName);

  if (!breaks.logGroupMissing && breaks.logGroupArn !== 'absent') {
    await clients.logs(region).send(new CreateLogGroupCommand({ logGroupName }));
  }
  if (!breaks.roleMissing && breaks.roleArn !== 'absent') {
    await createRole(
      clients,
      { roleName, rolePath, region, logGroupName, managed: options.managedPolicy ?? false },
      breaks,
    );
  }
  const cloudTrail = clients.cloudTrail(region);
  const created = await cloudTrail.send(
    new CreateTrailCommand({
      Name: name,
      S3BucketName: bucket,
      IsMultiRegionTrail: options.multiRegion ?? false,
      ...(logGroupArn ? { CloudWatchLogsLogGroupArn: logGroupArn } : {}),
      ...(roleArn ? { CloudWatchLogsRoleArn: roleArn } : {}),
    }),
  );
  const trailArn = created.TrailARN ?? `arn:aws:cloudtrail:${region}:${ACCOUNT}:trail/${name}`;
  const tags = Object.entries(options.tags ?? {});
  if (tags.length > 0) {
    await cloudTrail.send(
      new AddTagsCommand({ ResourceId: trailArn, TagsList: tags.map(([Key, Value]) => ({ Key, Value })) }),
    );
  }
  if (!breaks.loggingStopped) await cloudTrail.send(new StartLoggingCommand({ Name: name }));
  return {
    name,
    trailArn,
    region,
    bucket,
    logGroupName,
    ...(logGroupArn ? { logGroupArn } : {}),
    roleName,
    ...(roleArn ? { roleArn } : {}),
  };
}

/** A trail integrated with CloudWatch Logs the documented way, and logging. */
export function seedCompliantTrail(
  clients: AwsClients,
  name: string,
  options: Omit<SeedOptions, 'breaks'> = {},
): Promise<SeededTrail> {
  return seedTrail(clients, name, options);
}

/** The default breakage of seedBrokenTrail: no CloudWatch Logs integration at all, and not logging. */
export const DEFAULT_BREAKS: Breaks = { logGroupArn: 'absent', roleArn: 'absent', loggingStopped: true };

/**
 * A trail with its integration broken: by default none at all and logging stopped (findings
 * LOG_GROUP_ARN_MISSING, ROLE_ARN_MISSING, LOGGING_STOPPED); pass `breaks` to break other parts instead.
 */
export function seedBrokenTrail(
  clients: AwsClients,
  name: string,
  options: SeedOptions = {},
): Promise<SeededTrail> {
  return seedTrail(clients, name, { ...options, breaks: options.breaks ?? DEFAULT_BREAKS });
}
