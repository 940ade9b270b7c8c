/**
 * CloudTrail's delivery to CloudWatch Logs, judged from GetTrailStatus (LatestCloudWatchLogsDeliveryTime and
 * LatestCloudWatchLogsDeliveryError): the delivery errors classified into findings, the stale-error rule, and
 * the delivery check after a fix. Pure.
 *
 * AWS does not document the values of LatestCloudWatchLogsDeliveryError ("Displays any CloudWatch Logs error
 * that CloudTrail encountered when attempting to deliver logs to CloudWatch Logs", CloudTrail API Reference,
 * GetTrailStatus). The value carries the error of the call CloudTrail made: STS AssumeRole of the delivery role,
 * CloudWatch Logs CreateLogStream / PutLogEvents, and behind those AWS KMS for a log group encrypted with a
 * customer managed key. So the error is classified by the error codes and messages those services document,
 * matched case-insensitively, most specific first:
 *
 * - AWS KMS API Reference: `DisabledException` ("the specified KMS key is not enabled"),
 *   `KMSInvalidStateException` ("the key state of the KMS key is not compatible with the operation"),
 *   `NotFoundException`, and AccessDeniedException's message "... is not authorized to perform: kms:<Action> on
 *   resource: arn:...:kms:... because no resource-based policy allows ...". CloudWatch's `KmsKeyDisabledException`
 *   ("disabled or pending deletion. Re-enable the key (or restore it, if it is pending deletion)") and
 *   `KmsAccessDeniedException` name the same two cases. KMS Developer Guide, "Cancel key deletion": a key whose
 *   deletion is cancelled is left Disabled and must be enabled.
 * - CloudWatch Logs User Guide, "Encrypt log data in CloudWatch Logs using AWS Key Management Service": the key
 *   policy must let the service principal `logs.<region>.amazonaws.com` use `kms:Encrypt*`, `kms:Decrypt*`,
 *   `kms:ReEncrypt*`, `kms:GenerateDataKey*`, `kms:Describe*`, restricted with a condition on
 *   `kms:EncryptionContext:aws:logs:arn` (ArnLike / ArnEquals, the log group's ARN).
 * - AWS STS API Reference, AssumeRole: AccessDenied "User: ... is not authorized to perform: sts:AssumeRole on
 *   resource: arn:...:role/...".
 * - CloudWatch Logs API Reference, CreateLogStream / PutLogEvents: `ResourceNotFoundException` ("The specified
 *   resource does not exist", i.e. the log group), `AccessDeniedException` ("You don't have sufficient
 *   permissions to perform this action"), `ThrottlingException` ("The request was throttled because of quota
 *   limits"; CreateLogStream is limited to 50 TPS, "after which transactions are throttled"). AWS's generic
 *   throttling message is "Rate exceeded".
 *
 * Order matters: the KMS cases come before the generic access denied (a KMS denial also says "not authorized"),
 * assume-role before access denied (STS denies with AccessDenied too). Anything else is `DELIVERY_ERROR`.
 */
import * as z from '../../policies/zod.js';
import { parseLogGroupArn, parseRoleArn, partitionOf } from './arns.js';
import { type Finding, FindingSchema, finding } from './findings.js';
import type { TrailState, TrailStatus } from './trail-state.js';

export const DELIVERY_CHECK_STATUSES = ['confirmed', 'error', 'no-delivery'] as const;
export type DeliveryCheckStatus = (typeof DELIVERY_CHECK_STATUSES)[number];

/** The delivery check's result: what the workflow records (and emails unless `confirmed`). */
export const DeliveryCheckSchema = z.object({
  status: z.enum(DELIVERY_CHECK_STATUSES),
  /** When the fix was verified (ISO 8601): only deliveries after it count. */
  fixedAt: z.string(),
  /** When the status was read (ISO 8601). */
  checkedAt: z.string(),
  /** How long the workflow waited (config.deliveryCheckMinutes). */
  waitedMinutes: z.int().check(z.gte(0)),
  latestDeliveryTime: z.optional(z.string()),
  latestDeliveryError: z.optional(z.string()),
  /** The delivery error, classified (status `error`). */
  finding: z.optional(FindingSchema),
  /** One or two sentences for people: what was seen. */
  summary: z.string(),
  /** What to do (absent when confirmed). */
  nextStep: z.optional(z.string()),
});
export type DeliveryCheck = z.infer<typeof DeliveryCheckSchema>;

export interface DeliveryErrorClass {
  code: Finding['code'];
  /** What the error means, in one sentence. */
  cause: string;
  /** The exact next step for a person (or what trailguard does about it). */
  nextStep: string;
}

/**
 * What is known about the trail's delivery target, to make the next step exact (names and ARNs instead of
 * placeholders). Every field is optional: a missing one is written as a `<placeholder>`.
 */
export interface DeliveryTarget {
  partition?: string;
  accountId?: string;
  logGroupName?: string;
  roleName?: string;
  trailArn?: string;
}

/** The delivery target of a trail as read (see DeliveryTarget). */
export function deliveryTargetOf(state: TrailState): DeliveryTarget {
  const { cloudWatchLogsLogGroupArn: groupArn, cloudWatchLogsRoleArn: roleArn } = state.trail;
  const group = groupArn ? parseLogGroupArn(groupArn)?.name : undefined;
  const role = roleArn ? parseRoleArn(roleArn)?.name : undefined;
  return {
    partition: state.partition,
    accountId: state.accountId,
    trailArn: state.trail.trailArn,
    ...(group ? { logGroupName: group } : {}),
    ...(role ? { roleName: role } : {}),
  };
}

/** The longest delivery error kept (in findings, the delivery check and emails). */
export const DELIVERY_ERROR_MAX = 512;
/** The longest error quoted in a finding's message. */
const QUOTE_MAX = 300;
/** Only the head of a (possibly huge) error string is matched. */
const MATCH_MAX = 4000;

/**
 * One line of text, as notification.ts's clean() makes it (not imported from there: notification.ts depends on
 * run-context.ts, which depends on this file): control characters become spaces, URL schemes are broken
 * (`https://x` -> `https[:]//x`) so no email client makes a link of them, and long values are cut.
 */
export function cleanDeliveryError(value: string, max = DELIVERY_ERROR_MAX): string {
  const text = value
    .replace(/[\p{Cc}\u2028\u2029]+/gu, ' ')
    .replaceAll('://', '[:]//')
    .trim();
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

/** `kms` as a word of its own (`kms:Encrypt`, `arn:aws:kms:`, `KMS key`), or a KMS exception name; not `my-kms-logs`. */
const MENTIONS_KMS = /(?:^|[^a-z0-9/_.-])kms(?:[^a-z0-9/_-]|$)|kms[a-z]*exception|awskms/i;
const DENIED = /access ?denied|not authori[sz]ed|not allowed|no (?:identity|resource)-based policy allows/i;

interface Rule {
  code: Finding['code'];
  matches: (error: string) => boolean;
}

const RULES: readonly Rule[] = [
  {
    // KMS DisabledException / KMSDisabledException / KmsKeyDisabledException, KMSInvalidStateException, or a
    // message saying the KMS key is disabled or pending deletion.
    code: 'DELIVERY_KMS_KEY_DISABLED',
    matches: (e) =>
      /disabledexception|kmsinvalidstate/i.test(e) ||
      (MENTIONS_KMS.test(e) && /\bdisabled\b|pending ?deletion|not enabled|invalid ?state/i.test(e)),
  },
  {
    // KMS AccessDeniedException ("not authorized to perform: kms:GenerateDataKey ..."), KmsAccessDeniedException,
    // or CloudWatch Logs saying the key "is not allowed to be used" with the log group.
    code: 'DELIVERY_KMS_ACCESS_DENIED',
    matches: (e) => /kmsaccessdenied/i.test(e) || (MENTIONS_KMS.test(e) && DENIED.test(e)),
  },
  {
    // KMS NotFoundException: the key was deleted.
    code: 'DELIVERY_KMS_KEY_DISABLED',
    matches: (e) => MENTIONS_KMS.test(e) && /not ?found|does not exist|doesn't exist|deleted/i.test(e),
  },
  {
    code: 'DELIVERY_THROTTLED',
    matches: (e) =>
      /throttl|rate exceeded|too ?many ?requests|request ?limit ?exceeded|slow ?down ?exception/i.test(e),
  },
  {
    // STS AccessDenied on AssumeRole, or any message saying the role could not be assumed.
    code: 'DELIVERY_ROLE_NOT_ASSUMABLE',
    matches: (e) =>
      /sts:assumerole\b/i.test(e) ||
      /\b(?:unable|cannot|can ?not|could ?not|couldn't|failed) to assume\b|not authori[sz]ed to assume/i.test(
        e,
      ) ||
      (/\bassume ?role\b/i.test(e) && DENIED.test(e)),
  },
  {
    // CloudWatch Logs ResourceNotFoundException ("The specified log group does not exist.").
    code: 'DELIVERY_LOG_GROUP_MISSING',
    matches: (e) =>
      /resourcenotfound/i.test(e) ||
      /log ?group\b.*(?:does not exist|doesn't exist|not found|was deleted)/i.test(e) ||
      /(?:no such|unknown) log ?group/i.test(e),
  },
  {
    // CloudWatch Logs AccessDeniedException on CreateLogStream / PutLogEvents, or any other denial.
    code: 'DELIVERY_ACCESS_DENIED',
    matches: (e) => DENIED.test(e) || /unauthori[sz]ed ?operation/i.test(e),
  },
];

interface Names {
  region: string;
  group: string;
  groupArn: string;
  streams: string;
  role: string;
  trail: string;
}

function namesOf(region: string, target: DeliveryTarget): Names {
  const partition = target.partition || partitionOf(region);
  const account = target.accountId || '<account id>';
  const group = target.logGroupName || '<log group name>';
  const groupArn = `arn:${partition}:logs:${region}:${account}:log-group:${group}`;
  return {
    region,
    group,
    groupArn,
    streams: `${groupArn}:log-stream:${account}_CloudTrail_${region}*`,
    role: target.roleName || '<delivery role name>',
    trail: target.trailArn || '<trail ARN>',
  };
}

function describe(code: Finding['code'], n: Names): { cause: string; nextStep: string } {
  const check = `then run \`trailguard check --trail ${n.trail}\` to see the trail's state.`;
  const findKey = `Find the log group's key (\`aws logs describe-log-groups --log-group-name-prefix ${n.group}\`: kmsKeyId)`;
  switch (code) {
    case 'DELIVERY_ROLE_NOT_ASSUMABLE':
      return {
        cause:
          'CloudTrail could not assume the delivery role (STS AssumeRole was denied): the role was deleted or replaced, or its trust policy does not let cloudtrail.amazonaws.com assume it.',
        nextStep:
          `In remediate mode trailguard repairs the delivery role on its next run (the sweep, or \`trailguard remediate --trail ${n.trail}\`): it recreates a missing role and sets a trust policy that lets the service principal cloudtrail.amazonaws.com call sts:AssumeRole, with no aws:SourceArn or aws:SourceAccount condition (CloudTrail does not support them for this role). ` +
          `In notify-only mode a person does that: check that the role "${n.role}" exists and is the one the trail names, set that trust policy (\`aws iam update-assume-role-policy --role-name ${n.role}\`), ${check}`,
      };
    case 'DELIVERY_ACCESS_DENIED':
      return {
        cause:
          'CloudWatch Logs denied the delivery role logs:CreateLogStream or logs:PutLogEvents on the log group: the role lacks the permission, or a Deny (permissions boundary, SCP) blocks it.',
        nextStep:
          `In remediate mode trailguard re-grants logs:CreateLogStream and logs:PutLogEvents on ${n.streams} to the delivery role on its next run (the sweep, or \`trailguard remediate --trail ${n.trail}\`). ` +
          `In notify-only mode a person grants them to the role "${n.role}" and removes any Deny that matches (permissions boundary, service control policy), ${check}`,
      };
    case 'DELIVERY_LOG_GROUP_MISSING':
      return {
        cause:
          'The log group the trail delivers to does not exist (it was deleted, or the trail names a wrong one).',
        nextStep:
          `In remediate mode trailguard recreates the log group "${n.group}" and points the trail at it on its next run (the sweep, or \`trailguard remediate --trail ${n.trail}\`). ` +
          `In notify-only mode a person creates it (\`aws logs create-log-group --log-group-name ${n.group}\`, with the retention and KMS key it had) or points the trail at an existing group, ${check}`,
      };
    case 'DELIVERY_KMS_KEY_DISABLED':
      return {
        cause:
          "The log group's KMS key is disabled, pending deletion or deleted: CloudWatch Logs cannot encrypt the events CloudTrail delivers.",
        nextStep:
          `A person must act; trailguard never changes KMS keys. ${findKey} and its state (\`aws kms describe-key --key-id <kmsKeyId>\`: KeyState). ` +
          'Disabled: `aws kms enable-key --key-id <kmsKeyId>`. PendingDeletion: `aws kms cancel-key-deletion --key-id <kmsKeyId>`, then enable it (a cancelled deletion leaves the key disabled). ' +
          `Deleted: associate an enabled key with the log group (\`aws logs associate-kms-key --log-group-name ${n.group} --kms-key-id <key ARN>\`) or remove the association (\`aws logs disassociate-kms-key --log-group-name ${n.group}\`); ${check}`,
      };
    case 'DELIVERY_KMS_ACCESS_DENIED':
      return {
        cause: `The log group's KMS key policy does not let CloudWatch Logs (logs.${n.region}.amazonaws.com) use the key, so the events CloudTrail delivers cannot be encrypted.`,
        nextStep:
          `A person must change the key policy; trailguard never changes KMS key policies. ${findKey}, then add to its key policy (\`aws kms get-key-policy\` / \`aws kms put-key-policy\`) a statement that allows the service principal logs.${n.region}.amazonaws.com ` +
          `the actions kms:Encrypt*, kms:Decrypt*, kms:ReEncrypt*, kms:GenerateDataKey* and kms:Describe* on Resource "*" with the condition ArnLike kms:EncryptionContext:aws:logs:arn = ${n.groupArn} ` +
          `(AWS: "Encrypt log data in CloudWatch Logs using AWS Key Management Service"), and make sure no Deny in the key policy matches; ${check}`,
      };
    case 'DELIVERY_THROTTLED':
      return {
        cause:
          "CloudWatch Logs throttled CloudTrail's delivery: a CloudWatch Logs request-rate quota of the account and region was exceeded.",
        nextStep:
          `Usually passes by itself (CloudTrail retries); trailguard changes nothing for it. Run \`trailguard check --trail ${n.trail}\` later. ` +
          `If it persists, find what else calls CloudWatch Logs at a high rate in ${n.region} (CreateLogStream is limited to 50 requests per second) or request a higher quota in Service Quotas (CloudWatch Logs).`,
      };
    default:
      return {
        cause: 'CloudTrail reported a CloudWatch Logs delivery error that trailguard does not recognise.',
        nextStep:
          `A person must read the error: check that the log group "${n.group}" exists, that CloudTrail may assume the role "${n.role}" and that it may call logs:CreateLogStream and logs:PutLogEvents on ${n.streams}, and, if the log group has a KMS key, that the key is enabled and its policy lets logs.${n.region}.amazonaws.com use it; ` +
          check,
      };
  }
}

/** What a CloudWatch Logs delivery error means and what to do about it (see the rules above). */
export function classifyDeliveryError(
  error: string,
  region: string,
  target: DeliveryTarget = {},
): DeliveryErrorClass {
  const text = error.slice(0, MATCH_MAX);
  const code = RULES.find((rule) => rule.matches(text))?.code ?? 'DELIVERY_ERROR';
  return { code, ...describe(code, namesOf(region, target)) };
}

function time(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Whether `a` is strictly later than `b`; false when either is missing or not a date. */
export function isLater(a: string | undefined, b: string | undefined): boolean {
  const ta = time(a);
  const tb = time(b);
  return ta !== undefined && tb !== undefined && ta > tb;
}

/** The status's delivery error, or undefined when there is none (an empty or blank value is none). */
function deliveryError(status: TrailStatus | undefined): string | undefined {
  const error = status?.latestCloudWatchLogsDeliveryError?.trim();
  return error ? error : undefined;
}

function quote(error: string): string {
  return `"${cleanDeliveryError(error, QUOTE_MAX).replaceAll('"', "'")}"`;
}

function findingOf(error: string, cls: DeliveryErrorClass): Finding {
  return finding(cls.code, `CloudTrail's delivery to CloudWatch Logs failed: ${quote(error)}. ${cls.cause}`);
}

/**
 * The delivery finding for the assessment, or undefined: no error, or a stale one. An error is stale when
 * CloudTrail delivered successfully after the guardrail first saw it (`firstSeenAt`, kept by the caller per
 * error string): GetTrailStatus keeps reporting the last error after deliveries resume. Without `firstSeenAt`
 * the error counts as current (the conservative reading).
 */
export function deliveryErrorFinding(
  status: TrailStatus | undefined,
  region: string,
  firstSeenAt?: string,
  target: DeliveryTarget = {},
): Finding | undefined {
  const error = deliveryError(status);
  if (!error) return undefined;
  if (firstSeenAt !== undefined && isLater(status?.latestCloudWatchLogsDeliveryTime, firstSeenAt))
    return undefined;
  return findingOf(error, classifyDeliveryError(error, region, target));
}

export interface JudgeDeliveryInput {
  /** GetTrailStatus read after the wait. */
  status: TrailStatus;
  /** When Verify read the trail back fixed (ISO 8601). */
  fixedAt: string;
  /** When `status` was read (ISO 8601). */
  checkedAt: string;
  waitedMinutes: number;
  /** The delivery error Check read before the fix, if any: it predates the fix. */
  errorBefore?: string;
  region: string;
  /** Names for an exact next step (optional). */
  target?: DeliveryTarget;
}

/**
 * The delivery check after a fix:
 * - `confirmed`: CloudTrail delivered after `fixedAt` and reports no error, or only the error it reported
 *   before the fix (which predates that delivery);
 * - `error`: it reports an error it did not report before the fix, or the error from before and nothing
 *   delivered since the fix;
 * - `no-delivery`: nothing delivered since the fix and no error. Not a failure: a trail with no events in the
 *   wait has nothing to deliver.
 * A delivery at exactly `fixedAt` is not after it.
 */
export function judgeDelivery(input: JudgeDeliveryInput): DeliveryCheck {
  const { status, fixedAt, checkedAt, waitedMinutes, region } = input;
  const latest = status.latestCloudWatchLogsDeliveryTime;
  const error = deliveryError(status);
  const before = input.errorBefore?.trim() ? cleanDeliveryError(input.errorBefore) : undefined;
  const errorIsOld = error !== undefined && cleanDeliveryError(error) === before;
  const deliveredAfterFix = isLater(latest, fixedAt);
  const base = {
    fixedAt,
    checkedAt,
    waitedMinutes,
    ...(latest ? { latestDeliveryTime: latest } : {}),
    ...(error ? { latestDeliveryError: cleanDeliveryError(error) } : {}),
  };
  const n = namesOf(region, input.target ?? {});

  if (deliveredAfterFix && (!error || errorIsOld)) {
    return DeliveryCheckSchema.parse({
      ...base,
      status: 'confirmed',
      summary:
        `CloudTrail delivered to CloudWatch Logs at ${latest}, after the fix at ${fixedAt}` +
        (error ? `; the error it still reports, ${quote(error)}, is the one from before the fix.` : '.'),
    });
  }

  if (error) {
    const cls = classifyDeliveryError(error, region, input.target);
    const seen = errorIsOld
      ? `the delivery error it already reported before the fix, and has delivered nothing since the fix at ${fixedAt} (latest delivery: ${latest ?? 'none'})`
      : deliveredAfterFix
        ? `a delivery error it did not report before the fix at ${fixedAt}, although it also delivered at ${latest}: the error may come from an attempt before that delivery`
        : `a delivery error it did not report before the fix at ${fixedAt}, and has delivered nothing since (latest delivery: ${latest ?? 'none'})`;
    return DeliveryCheckSchema.parse({
      ...base,
      status: 'error',
      finding: findingOf(error, cls),
      summary: `${waitedMinutes} minutes after the fix, CloudTrail reports ${seen}: ${quote(error)}. ${cls.cause}`,
      nextStep: cls.nextStep,
    });
  }

  const stopped = status.isLogging
    ? ''
    : ' The trail is not logging now: someone stopped it after the fix, so there is nothing to deliver until logging starts again.';
  return DeliveryCheckSchema.parse({
    ...base,
    status: 'no-delivery',
    summary:
      `CloudTrail delivered nothing to CloudWatch Logs in the ${waitedMinutes} minutes since the fix at ${fixedAt} (latest delivery: ${latest ?? 'none'}) and reports no delivery error. ` +
      'That is expected when the trail had no events to deliver in that time, e.g. a trail that records only data events on resources nobody used, or one whose management events are excluded; it does not mean that delivery failed.' +
      stopped,
    nextStep:
      (status.isLogging
        ? ''
        : `Find out who stopped logging (the StopLogging event in CloudTrail); trailguard restarts it on its next run in remediate mode. `) +
      `To tell whether delivery works: look at the newest log stream of the log group "${n.group}" (\`aws logs describe-log-streams --log-group-name ${n.group} --order-by LastEventTime --descending --max-items 1\`), or run \`trailguard check --trail ${n.trail}\` later: a delivery after the fix settles it, a delivery error is reported as a finding.`,
  });
}
