/** Named errors. Every one passes `cause`; the workflow's Catch turns them into a visible failure. */

export class TrailguardError extends Error {
  override name = 'TrailguardError';
}

/** Input that is not what a boundary accepts (event, task input, CLI argument). Permanent. */
export class InvalidInputError extends TrailguardError {
  override name = 'InvalidInputError';
}

/** The trail named does not exist (any more). */
export class TrailNotFoundError extends TrailguardError {
  override name = 'TrailNotFoundError';
}

/** An AWS read failed in a way that is not "not found". */
export class AwsReadError extends TrailguardError {
  override name = 'AwsReadError';
}

/** An AWS write failed permanently. */
export class RemediationError extends TrailguardError {
  override name = 'RemediationError';
}

/**
 * CloudTrail rejected the delivery role although its trust policy reads correctly: IAM has not propagated
 * the new role or policy yet. Retryable (the workflow backs off for about two minutes).
 */
export class IamPropagationPendingError extends TrailguardError {
  override name = 'IamPropagationPendingError';
}

/** The delivery role's trust policy really does not let CloudTrail assume it. Permanent. */
export class RoleTrustError extends TrailguardError {
  override name = 'RoleTrustError';
}

/**
 * An AWS service quota stopped a write (IAM `LimitExceeded`, CloudWatch Logs `LimitExceededException`, ...).
 * Permanent: retrying cannot help until someone raises the quota or frees room; the message names the quota.
 */
export class QuotaExceededError extends TrailguardError {
  override name = 'QuotaExceededError';
}

/**
 * A repair refused by a policy trailguard does not own (an SCP, an RCP, a permissions boundary, a session policy,
 * a Deny statement someone attached: services/domain/access-denied.ts): a person must act. The workflow catches
 * it by name and ends the run `notified`, not failed (infra/constructs/workflow.ts). Its message keeps AWS's own
 * text, which names the policy type (parseAccessDenied reads it back for the email and the audit record).
 */
export class BlockedByPolicyError extends TrailguardError {
  override name = 'BlockedByPolicyError';
}

/**
 * The configured KMS key refused to encrypt a log group (its key policy does not admit CloudWatch Logs for this
 * account and region): a person must change the key policy. Caught like BlockedByPolicyError.
 */
export class KmsKeyRefusedError extends TrailguardError {
  override name = 'KmsKeyRefusedError';
}

/**
 * A write to a trail or log group that AWS Control Tower manages (services/domain/control-tower.ts) was about
 * to be made: refused before the call. Check sends such trails to a person, so this only fires on a bug.
 */
export class ControlTowerManagedError extends TrailguardError {
  override name = 'ControlTowerManagedError';
}

/**
 * The configuration names log group keys per region (kmsKeys) but none for the run's account and region. The
 * configuration's load refuses a guarded region without a key, so this is a region outside `regions`. Permanent.
 */
export class LogGroupKeyMissingError extends TrailguardError {
  override name = 'LogGroupKeyMissingError';
}

/** Verify re-read the trail after remediation and it is still not compliant. */
export class NotCompliantError extends TrailguardError {
  override name = 'NotCompliantError';
}

export class NotificationError extends TrailguardError {
  override name = 'NotificationError';
}

export class AuditWriteError extends TrailguardError {
  override name = 'AuditWriteError';
}

/** Returns the `name` of an AWS SDK error (its exception type), or undefined. */
export function awsErrorName(error: unknown): string | undefined {
  if (error && typeof error === 'object' && 'name' in error && typeof error.name === 'string')
    return error.name;
  return undefined;
}

/**
 * An AWS call failed in a way that may pass (throttling, 5xx, timeout, network) after the SDK's own retries.
 * The workflow retries the task with backoff.
 */
export class TransientAwsError extends TrailguardError {
  override name = 'TransientAwsError';
}

const TRANSIENT_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalFailure',
  'InternalServerError',
  'InternalServiceError',
  'ServiceFailureException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'ConcurrentModificationException',
  'OperationAbortedException',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
]);

/**
 * Exception names that mean a service quota (not a rate) was reached. IAM's LimitExceeded ("Cannot exceed
 * quota for PoliciesPerRole / PolicySize ...") and CloudWatch Logs' LimitExceededException ("the maximum
 * number of resources that can be created") are quotas: the IAM API Reference and the CloudWatch Logs API
 * Reference list them apart from throttling. The SDK's retry strategy may still retry them a few times.
 */
const QUOTA_NAMES = new Set([
  'LimitExceeded',
  'LimitExceededException',
  'ServiceQuotaExceededException',
  'MaximumNumberOfTrailsExceededException',
]);

/** Whether an SDK error says a service quota was reached (permanent, see QUOTA_NAMES). */
export function isQuotaExceeded(error: unknown): boolean {
  const name = awsErrorName(error);
  return name !== undefined && QUOTA_NAMES.has(name);
}

/** Whether an SDK error is worth retrying later. */
export function isTransient(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  if (isQuotaExceeded(error)) return false;
  const e = error as {
    name?: string;
    code?: string;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  if (e.$retryable) return true;
  if (e.name && TRANSIENT_NAMES.has(e.name)) return true;
  if (e.code && TRANSIENT_NAMES.has(e.code)) return true;
  const status = e.$metadata?.httpStatusCode;
  return status !== undefined && (status >= 500 || status === 429);
}
