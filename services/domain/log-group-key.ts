/**
 * Which KMS key encrypts a log group trailguard creates for a trail: the key of the trail's account and region.
 * KMS keys are regional and CloudWatch Logs uses a key only for log groups of the key's region (CloudWatch Logs
 * User Guide, "Encrypt log data in CloudWatch Logs using AWS KMS",
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html), so the configuration gives
 * one key (`kmsKeyArn`, one region) or a key per region and, where an account's keys differ, per account
 * (`kmsKeys`). CreateLogGroup's `kmsKeyId` takes the key's ARN (CloudWatch Logs API Reference, CreateLogGroup,
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html).
 */
import type { Config } from '../../policies/config.js';
import { LogGroupKeyMissingError } from './errors.js';

/**
 * The key ARN for a new log group in `account` and `region`: the account's own key for the region (kmsKeys
 * `{ "<account>": { "<region>": arn } }`), else the region's (`{ "<region>": arn }`), else kmsKeyArn; undefined
 * when the configuration names no key (CloudWatch Logs then encrypts with its own keys). kmsKeys without a key
 * for the region: LogGroupKeyMissingError (the configuration's load refuses that for a guarded region).
 */
export function logGroupKeyFor(
  config: Pick<Config, 'kmsKeyArn' | 'kmsKeys'>,
  account: string,
  region: string,
): string | undefined {
  const keys = config.kmsKeys;
  if (!keys) return config.kmsKeyArn;
  const own = keys[account];
  const key = (typeof own === 'object' ? own[region] : undefined) ?? regionKey(keys[region]);
  if (!key) {
    throw new LogGroupKeyMissingError(
      `kmsKeys names no key for ${region} (account ${account}): a log group there cannot be created encrypted; add "${region}": "<key arn of ${region}>" to kmsKeys (and ${region} to regions)`,
    );
  }
  return key;
}

function regionKey(value: string | Record<string, string> | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
