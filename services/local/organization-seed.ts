/**
 * Seeding accounts of a local organization on the emulator the way their administrators would set them up:
 * clients acting in an account through a role assumed there, the bucket its trails deliver to, a CloudTrail
 * delivery role with AWS's documented grant, and trails either integrated with CloudWatch Logs through such a
 * role (and logging) or broken (no integration, not logging).
 *
 * Used by the demo (services/local/demo.ts), the organization benchmark (bench/organization-sweep.ts) and the
 * organization tests. Everything is created with the clients passed in, so it lands in their account (moto
 * acts in the account of the assumed role's credentials). The policy documents are written out literally, in
 * the shape the AWS CloudTrail User Guide documents, not built with the product's own policy helpers.
 */
import { CreateTrailCommand, StartLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import {
  type BucketLocationConstraint,
  CreateBucketCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { clientsAssumingRole } from '../aws/accounts.js';
import type { AwsClients } from '../aws/clients.js';
import { isAlreadyExists } from '../aws/write-errors.js';
import { logGroupArn, partitionOf, roleArn, trailArn } from '../domain/arns.js';
import { awsErrorName } from '../domain/errors.js';

/**
 * Clients acting in `account` as its administrator would: with credentials from sts:AssumeRole (made with
 * `hub`'s clients) into `roleName` there, e.g. OrganizationAccountAccessRole, the role Organizations creates
 * in the accounts it creates. `region` is the clients' default region.
 */
export async function adminClientsIn(
  hub: AwsClients,
  account: string,
  roleName: string,
  region: string,
  options: { sessionName?: string; maxAttempts?: number } = {},
): Promise<AwsClients> {
  const { clients } = await clientsAssumingRole(
    hub,
    roleArn({ partition: partitionOf(region), account, name: roleName }),
    {
      sessionName: options.sessionName ?? 'admin',
      region,
      ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
    },
  );
  return clients;
}

/** How the S3 client acts: its credentials (default: the SDK's chain) and its SDK retries (default: the SDK's). */
export interface S3Access {
  credentials?: S3ClientConfig['credentials'];
  maxAttempts?: S3ClientConfig['maxAttempts'];
}

/**
 * Creates bucket `name` in `region` with a path-style S3 client (as the emulator needs), idempotently (a bucket
 * the caller already owns is fine). Outside us-east-1, S3 requires the region as LocationConstraint (and
 * refuses it in us-east-1).
 */
export async function createBucketIn(name: string, region: string, access: S3Access = {}): Promise<string> {
  const s3 = new S3Client({
    region,
    forcePathStyle: true,
    ...(access.maxAttempts !== undefined ? { maxAttempts: access.maxAttempts } : {}),
    ...(access.credentials !== undefined ? { credentials: access.credentials } : {}),
  });
  try {
    await s3.send(
      new CreateBucketCommand({
        Bucket: name,
        ...(region === 'us-east-1'
          ? {}
          : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }),
      }),
    );
  } catch (error) {
    if (awsErrorName(error) !== 'BucketAlreadyOwnedByYou') throw error;
  } finally {
    s3.destroy();
  }
  return name;
}

/**
 * The bucket the trails of `account` in `region` deliver to, `cloudtrail-<account>-<region>`, created when
 * missing with `clients`' credentials and retries (so it is `account`'s bucket). Returns its name.
 */
export function trailBucketIn(clients: AwsClients, account: string, region: string): Promise<string> {
  const { credentials, maxAttempts } = clients.sts().config;
  return createBucketIn(`cloudtrail-${account}-${region}`, region, { credentials, maxAttempts });
}

/** AWS's documented trust policy of a CloudTrail delivery role: CloudTrail may assume it, with no condition. */
export const CLOUDTRAIL_TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 'sts:AssumeRole' },
  ],
});

/** The inline policy name of the grant `grantDelivery` puts on a delivery role. */
export const DELIVERY_POLICY_NAME = 'cloudtrail-delivery';

/**
 * The documented delivery grant: logs:CreateLogStream and logs:PutLogEvents on CloudTrail's streams
 * (`<account>_CloudTrail_<region>*`) of the log groups matching `logGroups` in each of `regions`.
 */
export function deliveryGrantDocument(account: string, regions: string[], logGroups: string) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: regions.map(
          (r) =>
            `arn:${partitionOf(r)}:logs:${r}:${account}:log-group:${logGroups}:log-stream:${account}_CloudTrail_${r}*`,
        ),
      },
    ],
  };
}

/**
 * Puts (or replaces) the documented delivery grant (deliveryGrantDocument) on `roleName` of `account`, over the
 * log groups matching `logGroups` (default `CloudTrail/*`) in each of `regions`.
 */
export async function grantDelivery(
  clients: AwsClients,
  account: string,
  roleName: string,
  regions: string[],
  logGroups = 'CloudTrail/*',
): Promise<void> {
  await clients.iam().send(
    new PutRolePolicyCommand({
      RoleName: roleName,
      PolicyName: DELIVERY_POLICY_NAME,
      PolicyDocument: JSON.stringify(deliveryGrantDocument(account, regions, logGroups)),
    }),
  );
}

/**
 * A CloudTrail delivery role `roleName` in `account` (CLOUDTRAIL_TRUST; an existing role of that name is kept
 * as it is) with the delivery grant over the `logGroups` of `regions` (grantDelivery, replacing any earlier
 * grant).
 */
export async function createDeliveryRole(
  clients: AwsClients,
  account: string,
  roleName: string,
  regions: string[],
  logGroups?: string,
): Promise<void> {
  try {
    await clients
      .iam()
      .send(new CreateRoleCommand({ RoleName: roleName, AssumeRolePolicyDocument: CLOUDTRAIL_TRUST }));
  } catch (error) {
    // moto names it EntityAlreadyExists, AWS EntityAlreadyExistsException.
    if (!isAlreadyExists(error) && awsErrorName(error) !== 'EntityAlreadyExists') throw error;
  }
  await grantDelivery(clients, account, roleName, regions, logGroups);
}

export interface SeedTrailOptions {
  /**
   * Integrate the trail with CloudWatch Logs through this delivery role (log group `CloudTrail/<name>`,
   * created here) and start logging. Without it the trail is broken: no integration, and not logging.
   */
  role?: string;
  /**
   * With `role`: create the role first (createDeliveryRole: an existing one is kept, its grant replaced by one
   * over these regions). Without it, `role` must exist (e.g. made with createDeliveryRole).
   */
  grantRegions?: string[];
  /** An organization trail (multi-region, as AWS requires of organization trails). */
  organization?: boolean;
}

/**
 * Creates trail `name` of `account` in `region` with `clients` (delivering to trailBucketIn's bucket):
 * integrated the documented way through `options.role` and logging, or broken. Returns the trail's ARN.
 */
export async function seedTrailIn(
  clients: AwsClients,
  account: string,
  region: string,
  name: string,
  options: SeedTrailOptions = {},
): Promise<string> {
  const partition = partitionOf(region);
  const bucket = await trailBucketIn(clients, account, region);
  let integration = {};
  if (options.role) {
    if (options.grantRegions) {
      await createDeliveryRole(clients, account, options.role, options.grantRegions);
    }
    const group = `CloudTrail/${name}`;
    await clients.logs(region).send(new CreateLogGroupCommand({ logGroupName: group }));
    integration = {
      CloudWatchLogsLogGroupArn: logGroupArn({ partition, region, account, name: group }),
      CloudWatchLogsRoleArn: roleArn({ partition, account, name: options.role }),
    };
  }
  const out = await clients.cloudTrail(region).send(
    new CreateTrailCommand({
      Name: name,
      S3BucketName: bucket,
      ...integration,
      ...(options.organization ? { IsOrganizationTrail: true, IsMultiRegionTrail: true } : {}),
    }),
  );
  if (options.role) await clients.cloudTrail(region).send(new StartLoggingCommand({ Name: name }));
  return out.TrailARN ?? trailArn({ partition, region, account, name });
}
