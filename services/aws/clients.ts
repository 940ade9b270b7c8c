/**
 * SDK clients, created once per region and injectable. They honour the SDK's standard configuration
 * (credential chain, AWS_REGION, AWS_ENDPOINT_URL), so pointing the product at an emulator needs nothing else.
 */
import { createRequire } from 'node:module';
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { IAMClient, IAMClientConfig } from '@aws-sdk/client-iam';
import type { OrganizationsClient } from '@aws-sdk/client-organizations';
import type { SecurityHubClient } from '@aws-sdk/client-securityhub';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { STSClient } from '@aws-sdk/client-sts';

/**
 * SDK packages are loaded when a client of theirs is first created, not when this module is imported: each
 * Lambda function loads only the one to four SDK packages it uses, which keeps cold starts short.
 */
const load = createRequire(import.meta.url);
const sdk = {
  cloudTrail: () =>
    (load('@aws-sdk/client-cloudtrail') as typeof import('@aws-sdk/client-cloudtrail')).CloudTrailClient,
  logs: () =>
    (load('@aws-sdk/client-cloudwatch-logs') as typeof import('@aws-sdk/client-cloudwatch-logs'))
      .CloudWatchLogsClient,
  cloudWatch: () =>
    (load('@aws-sdk/client-cloudwatch') as typeof import('@aws-sdk/client-cloudwatch')).CloudWatchClient,
  iam: () => (load('@aws-sdk/client-iam') as typeof import('@aws-sdk/client-iam')).IAMClient,
  sns: () => (load('@aws-sdk/client-sns') as typeof import('@aws-sdk/client-sns')).SNSClient,
  dynamo: () =>
    (load('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb')).DynamoDBClient,
  sts: () => (load('@aws-sdk/client-sts') as typeof import('@aws-sdk/client-sts')).STSClient,
  organizations: () =>
    (load('@aws-sdk/client-organizations') as typeof import('@aws-sdk/client-organizations'))
      .OrganizationsClient,
  sfn: () => (load('@aws-sdk/client-sfn') as typeof import('@aws-sdk/client-sfn')).SFNClient,
  cloudFormation: () =>
    (load('@aws-sdk/client-cloudformation') as typeof import('@aws-sdk/client-cloudformation'))
      .CloudFormationClient,
  securityHub: () =>
    (load('@aws-sdk/client-securityhub') as typeof import('@aws-sdk/client-securityhub')).SecurityHubClient,
};

type AnyClient =
  | CloudTrailClient
  | CloudWatchLogsClient
  | IAMClient
  | SNSClient
  | DynamoDBClient
  | STSClient
  | SFNClient
  | OrganizationsClient
  | CloudFormationClient
  | SecurityHubClient
  | CloudWatchClient;

export type { AnyClient as SdkClient };

export interface ClientOptions {
  /** The region used where a call is not tied to a trail's region (IAM, SNS, DynamoDB, STS). */
  defaultRegion?: string;
  /**
   * Called with every client created: tests and the benchmark add SDK middleware here, and the Lambda entry
   * adds X-Ray tracing (services/handlers/lambda.ts), so nothing here depends on X-Ray.
   */
  onCreate?: (client: AnyClient) => void;
  /** Max attempts of the SDK's own retry strategy (throttling, 5xx). */
  maxAttempts?: number;
  /** Credentials for every client; default: the SDK's standard provider chain. */
  credentials?: IAMClientConfig['credentials'];
}

export interface AwsClients {
  readonly defaultRegion: string;
  cloudTrail(region: string): CloudTrailClient;
  logs(region: string): CloudWatchLogsClient;
  /** CloudWatch (metrics and alarms): the CIS monitoring alarms live in the trail's home region. */
  cloudWatch(region: string): CloudWatchClient;
  iam(): IAMClient;
  sns(): SNSClient;
  dynamo(): DynamoDBClient;
  sts(): STSClient;
  sfn(): SFNClient;
  /** Organizations is global (its endpoint is in us-east-1 in the commercial partition). */
  organizations(): OrganizationsClient;
  /** The CLI reads the deployed stack's outputs (the state machine ARN) with it. */
  cloudFormation(): CloudFormationClient;
  /** Security Hub is regional: a trail's findings are in its home region. */
  securityHub(region: string): SecurityHubClient;
}

export class MissingRegionError extends Error {
  override name = 'MissingRegionError';
}

export function resolveDefaultRegion(explicit?: string): string {
  const region = explicit ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!region) {
    throw new MissingRegionError('no AWS region: pass --region or set AWS_REGION (or AWS_DEFAULT_REGION)');
  }
  return region;
}

/** Organizations' single endpoint region per partition (us-east-1 commercial, us-gov-west-1, cn-northwest-1). */
function organizationsRegion(region: string): string {
  if (region.startsWith('us-gov-')) return 'us-gov-west-1';
  if (region.startsWith('cn-')) return 'cn-northwest-1';
  return 'us-east-1';
}

export function createClients(options: ClientOptions = {}): AwsClients {
  const defaultRegion = resolveDefaultRegion(options.defaultRegion);
  const cache = new Map<string, AnyClient>();
  function get<T extends AnyClient>(key: string, make: () => T): T {
    let client = cache.get(key) as T | undefined;
    if (!client) {
      client = make();
      options.onCreate?.(client);
      cache.set(key, client);
    }
    return client;
  }
  const base = (region: string) => ({
    region,
    ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  return {
    defaultRegion,
    cloudTrail: (region) => get(`cloudtrail:${region}`, () => new (sdk.cloudTrail())(base(region))),
    logs: (region) => get(`logs:${region}`, () => new (sdk.logs())(base(region))),
    cloudWatch: (region) => get(`cloudwatch:${region}`, () => new (sdk.cloudWatch())(base(region))),
    iam: () => get('iam', () => new (sdk.iam())(base(defaultRegion))),
    sns: () => get('sns', () => new (sdk.sns())(base(defaultRegion))),
    dynamo: () => get('dynamodb', () => new (sdk.dynamo())(base(defaultRegion))),
    sts: () => get('sts', () => new (sdk.sts())(base(defaultRegion))),
    sfn: () => get('sfn', () => new (sdk.sfn())(base(defaultRegion))),
    organizations: () =>
      get('organizations', () => new (sdk.organizations())(base(organizationsRegion(defaultRegion)))),
    cloudFormation: () => get('cloudformation', () => new (sdk.cloudFormation())(base(defaultRegion))),
    securityHub: (region) => get(`securityhub:${region}`, () => new (sdk.securityHub())(base(region))),
  };
}
