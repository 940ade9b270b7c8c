/**
 * SDK clients, created once per region and injectable. They honour the SDK's standard configuration
 * (credential chain, AWS_REGION, AWS_ENDPOINT_URL), so pointing the product at an emulator needs nothing else.
 */
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IAMClient } from '@aws-sdk/client-iam';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { STSClient } from '@aws-sdk/client-sts';

type AnyClient =
  | CloudTrailClient
  | CloudWatchLogsClient
  | IAMClient
  | SNSClient
  | DynamoDBClient
  | STSClient
  | SFNClient;

export interface ClientOptions {
  /** The region used where a call is not tied to a trail's region (IAM, SNS, DynamoDB, STS). */
  defaultRegion?: string;
  /** Called with every client created: tests and the benchmark add SDK middleware here. */
  onCreate?: (client: AnyClient) => void;
  /** Max attempts of the SDK's own retry strategy (throttling, 5xx). */
  maxAttempts?: number;
}

export interface AwsClients {
  readonly defaultRegion: string;
  cloudTrail(region: string): CloudTrailClient;
  logs(region: string): CloudWatchLogsClient;
  iam(): IAMClient;
  sns(): SNSClient;
  dynamo(): DynamoDBClient;
  sts(): STSClient;
  sfn(): SFNClient;
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
  });
  return {
    defaultRegion,
    cloudTrail: (region) => get(`cloudtrail:${region}`, () => new CloudTrailClient(base(region))),
    logs: (region) => get(`logs:${region}`, () => new CloudWatchLogsClient(base(region))),
    iam: () => get('iam', () => new IAMClient(base(defaultRegion))),
    sns: () => get('sns', () => new SNSClient(base(defaultRegion))),
    dynamo: () => get('dynamodb', () => new DynamoDBClient(base(defaultRegion))),
    sts: () => get('sts', () => new STSClient(base(defaultRegion))),
    sfn: () => get('sfn', () => new SFNClient(base(defaultRegion))),
  };
}
