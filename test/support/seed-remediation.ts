/**
 * Small seeding helpers for the restore / notify / audit step tests: trails, log groups and roles in the
 * emulator, the handler deps, and a RunContext made by the real Check step. Policy documents are literal
 * JSON, not built with the product's helpers.
 */
import { CreateTrailCommand, StartLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { CreateLogGroupCommand, PutRetentionPolicyCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { type ConfigInput, parseConfig } from '../../policies/config.js';
import { ensureAuditTable } from '../../services/aws/audit-store.js';
import type { AwsClients } from '../../services/aws/clients.js';
import { ensureTopic } from '../../services/aws/notifier.js';
import { ensureStateTable, localStateTableName } from '../../services/aws/state-store.js';
import type { Execution, RunContext } from '../../services/domain/run-context.js';
import { RunContextSchema } from '../../services/domain/run-context.js';
import { checkStep } from '../../services/handlers/check.js';
import type { HandlerDeps } from '../../services/handlers/deps.js';
import { ACCOUNT, REGION, testClients } from './aws.js';
import { createBucket as createSeedBucket } from './seed.js';

export const BUCKET = 'trailguard-remediation-test';
export const TOPIC = 'trailguard-test-notifications';
export const TABLE = 'trailguard-test-audit';
export const NOW = new Date('2025-06-01T12:00:00.000Z');

export const CLOUDTRAIL_TRUST = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { Service: 'cloudtrail.amazonaws.com' },
      Action: 'sts:AssumeRole',
    },
  ],
};

export const logGroupArnOf = (name: string) => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${name}:*`;
export const roleArnOf = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
export const trailArnOf = (name: string) => `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/${name}`;

export function grantFor(logGroupName: string) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${logGroupName}:log-stream:*`,
      },
    ],
  };
}

/** The bucket the trails deliver to, in REGION (seed.ts's createBucket: LocationConstraint outside us-east-1). */
export async function createBucket(name = BUCKET): Promise<void> {
  await createSeedBucket(name);
}

export async function createTrail(
  clients: AwsClients,
  name: string,
  options: { logGroupArn?: string; roleArn?: string; logging?: boolean } = {},
): Promise<void> {
  await clients.cloudTrail(REGION).send(
    new CreateTrailCommand({
      Name: name,
      S3BucketName: BUCKET,
      ...(options.logGroupArn ? { CloudWatchLogsLogGroupArn: options.logGroupArn } : {}),
      ...(options.roleArn ? { CloudWatchLogsRoleArn: options.roleArn } : {}),
    }),
  );
  if (options.logging) await clients.cloudTrail(REGION).send(new StartLoggingCommand({ Name: name }));
}

export async function createLogGroup(
  clients: AwsClients,
  name: string,
  options: { retentionDays?: number } = {},
): Promise<void> {
  await clients.logs(REGION).send(new CreateLogGroupCommand({ logGroupName: name }));
  if (options.retentionDays) {
    await clients
      .logs(REGION)
      .send(new PutRetentionPolicyCommand({ logGroupName: name, retentionInDays: options.retentionDays }));
  }
}

export async function createRole(
  clients: AwsClients,
  name: string,
  options: { trust?: unknown; policies?: Record<string, unknown> } = {},
): Promise<void> {
  await clients.iam().send(
    new CreateRoleCommand({
      RoleName: name,
      AssumeRolePolicyDocument: JSON.stringify(options.trust ?? CLOUDTRAIL_TRUST),
    }),
  );
  for (const [policyName, document] of Object.entries(options.policies ?? {})) {
    await clients.iam().send(
      new PutRolePolicyCommand({
        RoleName: name,
        PolicyName: policyName,
        PolicyDocument: JSON.stringify(document),
      }),
    );
  }
}

/** Handler deps against the emulator, with the topic and the audit table created. */
export async function makeDeps(
  options: { config?: ConfigInput; clients?: AwsClients; now?: () => Date } = {},
): Promise<HandlerDeps> {
  const clients = options.clients ?? testClients();
  const { topicArn } = await ensureTopic(clients, TOPIC);
  await ensureAuditTable(clients, TABLE);
  await ensureStateTable(clients, localStateTableName({ auditTableName: TABLE }));
  return {
    config: parseConfig(options.config ?? {}),
    topicArn,
    auditTableName: TABLE,
    accountId: ACCOUNT,
    clients,
    now: options.now ?? (() => NOW),
  };
}

export function execution(n = 1): Execution {
  return {
    id: `arn:aws:states:${REGION}:${ACCOUNT}:execution:trailguard-remediation:run-${n}`,
    startTime: `2025-06-01T11:59:${String(n % 60).padStart(2, '0')}.000Z`,
  };
}

/** A CloudTrail event in EventBridge's shape, as an administrator's StopLogging would produce it. */
export function stopLoggingEvent(trailName: string) {
  return {
    version: '0',
    id: 'b6f1c0de-0000-4000-8000-000000000001',
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'aws.cloudtrail',
    account: ACCOUNT,
    time: '2025-06-01T11:58:00Z',
    region: REGION,
    detail: {
      eventName: 'StopLogging',
      eventSource: 'cloudtrail.amazonaws.com',
      eventTime: '2025-06-01T11:58:00Z',
      awsRegion: REGION,
      eventID: '5d8e7a1c-1111-4222-8333-444455556666',
      sourceIPAddress: '203.0.113.7',
      userAgent: 'aws-cli/2.15.0 Python/3.11',
      userIdentity: {
        type: 'AssumedRole',
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/alice`,
      },
      requestParameters: { name: trailName },
    },
  };
}

/** Runs the real Check step on a trail and returns its RunContext. */
export async function checkContext(deps: HandlerDeps, trailName: string, n = 1): Promise<RunContext> {
  const out = await checkStep(deps)({ input: stopLoggingEvent(trailName), execution: execution(n) });
  return RunContextSchema.parse(out);
}
