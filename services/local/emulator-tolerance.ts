/**
 * What the local emulator does differently from AWS, tolerated here and only here (never in a Lambda bundle:
 * nothing under services/aws/ or services/handlers/ imports this file).
 *
 * moto 5.2.1 has no AssociateKmsKey, GetDataProtectionPolicy or PutDataProtectionPolicy: its server raises
 * NotImplementedError and answers HTTP 500 with Werkzeug's HTML page ("500 Internal Server Error") and no request
 * id; the SDK then throws a deserialization error (name `SyntaxError`, `$metadata.httpStatusCode` 500, no
 * `$fault`). On AWS such an answer is a transient server error and is retried (services/aws/log-group-snapshot.ts
 * recognizes only AWS's own "unknown operation" answers); against the emulator the log group snapshot records the
 * item as unreadable or not restored instead.
 *
 * moto also delivers no CloudTrail events: selftest's proof of delivery is stood in for by
 * `emulateCloudTrailDelivery` below.
 */
import { GetTrailCommand, GetTrailStatusCommand } from '@aws-sdk/client-cloudtrail';
import { CreateLogStreamCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { Canary, CanaryTarget } from '../aws/canary.js';
import { setEmulatorUnsupportedApi } from '../aws/log-group-snapshot.js';
import { parseLogGroupArn } from '../domain/arns.js';
import { cloudTrailStreamPrefix } from '../domain/canary.js';
import { awsErrorName } from '../domain/errors.js';

function header(headers: Record<string, string> | undefined, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers ?? {})) if (key.toLowerCase() === name) return value;
  return undefined;
}

/** moto's answer to an API it lacks: HTTP 500, an HTML page, no AWS error fault and no AWS request id. */
export function motoUnsupportedApiReason(api: string, error: unknown): string | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const e = error as {
    $fault?: unknown;
    $metadata?: { httpStatusCode?: number };
    $response?: { headers?: Record<string, string> };
  };
  const headers = e.$response?.headers;
  if (
    e.$metadata?.httpStatusCode === 500 &&
    e.$fault === undefined &&
    header(headers, 'content-type')?.startsWith('text/html') &&
    !header(headers, 'x-amzn-requestid') &&
    !header(headers, 'x-amz-request-id')
  ) {
    return `the endpoint does not implement ${api}: it answered HTTP 500 with an HTML page and no AWS request id instead of an AWS error (how moto 5.2.1 answers an API it lacks)`;
  }
  return undefined;
}

/**
 * Tolerates moto's missing APIs when the SDK points at an emulator (`AWS_ENDPOINT_URL` set: the local runner, the
 * tests, the demo); against real AWS (no endpoint override) nothing is installed. Returns whether it was.
 */
export function tolerateEmulator(env: NodeJS.ProcessEnv = process.env): boolean {
  if (!env.AWS_ENDPOINT_URL) return false;
  setEmulatorUnsupportedApi(motoUnsupportedApiReason);
  return true;
}

/**
 * moto never delivers CloudTrail events anywhere (design notes, "Local AWS"). Against the emulator, selftest stands
 * in for CloudTrail after writing its canary object: when the canary trail is logging and integrated with a log
 * group that exists, the object's PutObject data event is put into CloudTrail's stream
 * `<account>_CloudTrail_<region>` of that group, in the shape of a CloudTrail record, as CloudTrail would deliver
 * it ("CloudTrail record contents for data events", AWS CloudTrail User Guide). A canary left broken gets no
 * delivery, as on AWS. Used only when the SDK points at an emulator (see `emulatedDelivery`).
 */
export async function emulateCloudTrailDelivery(
  target: CanaryTarget,
  canary: Canary,
  key: string,
  at: Date = new Date(),
): Promise<boolean> {
  const ct = target.clients.cloudTrail(target.region);
  const trail = (await ct.send(new GetTrailCommand({ Name: canary.trail }))).Trail;
  const status = await ct.send(new GetTrailStatusCommand({ Name: canary.trail }));
  const group = trail?.CloudWatchLogsLogGroupArn
    ? parseLogGroupArn(trail.CloudWatchLogsLogGroupArn)
    : undefined;
  if (!status.IsLogging || !group || !trail?.CloudWatchLogsRoleArn) return false;
  const logs = target.clients.logs(target.region);
  const stream = `${cloudTrailStreamPrefix(canary.account, target.region)}`;
  try {
    await logs.send(new CreateLogStreamCommand({ logGroupName: group.name, logStreamName: stream }));
  } catch (error) {
    if (awsErrorName(error) === 'ResourceNotFoundException') return false;
    if (awsErrorName(error) !== 'ResourceAlreadyExistsException') throw error;
  }
  const time = at.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const record = {
    eventVersion: '1.11',
    eventTime: time,
    eventSource: 's3.amazonaws.com',
    eventName: 'PutObject',
    awsRegion: target.region,
    requestParameters: { bucketName: canary.bucket, key },
    resources: [{ type: 'AWS::S3::Object', ARN: `arn:${canary.partition}:s3:::${canary.bucket}/${key}` }],
    eventType: 'AwsApiCall',
    managementEvent: false,
    readOnly: false,
    recipientAccountId: canary.account,
    eventCategory: 'Data',
  };
  await logs.send(
    new PutLogEventsCommand({
      logGroupName: group.name,
      logStreamName: stream,
      logEvents: [{ timestamp: at.getTime(), message: JSON.stringify(record) }],
    }),
  );
  return true;
}

/** The stand-in for CloudTrail's delivery when the SDK points at an emulator (`AWS_ENDPOINT_URL`); else none. */
export function emulatedDelivery(
  env: NodeJS.ProcessEnv = process.env,
): ((target: CanaryTarget, canary: Canary, key: string) => Promise<unknown>) | undefined {
  return env.AWS_ENDPOINT_URL
    ? (target, canary, key) => emulateCloudTrailDelivery(target, canary, key)
    : undefined;
}
