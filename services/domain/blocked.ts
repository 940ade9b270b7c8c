/**
 * A run a policy or a KMS key stopped: a restore step's write was refused by a policy trailguard does not own
 * (BlockedByPolicyError) or the configured KMS key refused the log group (KmsKeyRefusedError). The workflow
 * catches these by name, sets the outcome `notified` and goes on to Notify, UpdateFindings and Audit with the
 * error in `$.error` (infra/constructs/workflow.ts); this module reads it back for the email, the Security Hub
 * note and the audit record. Pure.
 */
import * as z from 'zod';
import {
  type AccessDenial,
  denialNextStep,
  describeDenial,
  NOTIFIED_ERRORS,
  POLICY_TYPES,
  parseAccessDenied,
} from './access-denied.js';
import type { RunContext } from './run-context.js';
import { describeTaskError } from './task-error.js';

export const BlockedSchema = z.object({
  kind: z.enum(['policy', 'kms-key']),
  /** The API call refused, e.g. `UpdateTrail` (the first word of the error's message). */
  api: z.string().optional(),
  /** kind `policy`: the policy type AWS's message names, e.g. `service control policy`. */
  policyType: z.enum(POLICY_TYPES).optional(),
  /** kind `policy`: a Deny statement (true) or no Allow (false). */
  explicit: z.boolean().optional(),
  action: z.string().optional(),
  principal: z.string().optional(),
  /** kind `kms-key`: the key that refused. */
  kmsKeyArn: z.string().optional(),
  /** One line: what stopped the run. */
  summary: z.string(),
  /** What a person does about it. */
  nextStep: z.string(),
});
export type Blocked = z.infer<typeof BlockedSchema>;

/**
 * The key policy statement CloudWatch Logs needs to use a customer managed key for a log group (CloudWatch Logs
 * User Guide, "Encrypt log data in CloudWatch Logs using AWS KMS",
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html): the service principal
 * logs.<region>.amazonaws.com, bounded by the kms:EncryptionContext:aws:logs:arn condition to the account's log
 * groups in that region.
 */
export function kmsKeyPolicyStatement(where: { partition: string; region: string; account: string }) {
  const suffix = where.partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return {
    Effect: 'Allow',
    Principal: { Service: `logs.${where.region}.${suffix}` },
    Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
    Resource: '*',
    Condition: {
      ArnLike: {
        'kms:EncryptionContext:aws:logs:arn': `arn:${where.partition}:logs:${where.region}:${where.account}:log-group:*`,
      },
    },
  };
}

/** The message of a KmsKeyRefusedError: the key, the group, and the statement the key policy needs. */
export function kmsRefusalMessage(
  api: string,
  logGroupName: string,
  keyArn: string,
  where: { partition: string; region: string; account: string },
  awsMessage: string,
): string {
  return `${api} ${logGroupName} failed: the KMS key ${keyArn} refused to encrypt it (${awsMessage}). Its key policy must admit CloudWatch Logs for account ${where.account} in ${where.region}: add ${JSON.stringify(kmsKeyPolicyStatement(where))}`;
}

function apiOf(message: string): string | undefined {
  return /^([A-Z][A-Za-z]+) /.exec(message)?.[1];
}

function policyBlocked(api: string | undefined, denial: AccessDenial): Blocked {
  return {
    kind: 'policy',
    ...(api ? { api } : {}),
    policyType: denial.policyType,
    explicit: denial.explicit,
    ...(denial.action ? { action: denial.action } : {}),
    ...(denial.principal ? { principal: denial.principal } : {}),
    summary: `${api ?? 'a repair'} was refused by ${describeDenial(denial)}`,
    nextStep: denialNextStep(denial),
  };
}

/** What stopped the run, when its error is one of NOTIFIED_ERRORS; else undefined. */
export function blockedOf(ctx: Pick<RunContext, 'error'>): Blocked | undefined {
  const error = ctx.error;
  if (!error || !(NOTIFIED_ERRORS as readonly string[]).includes(error.Error)) return undefined;
  const { message } = describeTaskError(error);
  const api = apiOf(message);
  if (error.Error === 'KmsKeyRefusedError') {
    const key = /the KMS key (\S+) refused/.exec(message)?.[1];
    const add = message.indexOf(': add {');
    return {
      kind: 'kms-key',
      ...(api ? { api } : {}),
      ...(key ? { kmsKeyArn: key } : {}),
      summary: `the KMS key ${key ?? '(unknown)'} refused to encrypt the trail's log group`,
      nextStep:
        add >= 0
          ? `Add this statement to the key's policy, then run \`trailguard remediate\` for the trail: ${message.slice(add + ': add '.length)}`
          : "Let CloudWatch Logs use the key in its key policy (CloudWatch Logs, 'Encrypt log data in CloudWatch Logs using AWS KMS'), then run `trailguard remediate` for the trail.",
    };
  }
  const denial = parseAccessDenied(message);
  if (!denial) {
    return {
      kind: 'policy',
      ...(api ? { api } : {}),
      summary: `${api ?? 'a repair'} was refused by a policy`,
      nextStep: 'Read the error below: it names the policy that refused the call.',
    };
  }
  return policyBlocked(api, denial);
}
