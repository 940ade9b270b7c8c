/**
 * How every AWS write of the guardrail fails: a transient failure (throttling, 5xx, timeout) becomes a
 * TransientAwsError the workflow retries; anything else becomes the caller's permanent error class. Both
 * keep the SDK error as `cause` and name the call that failed.
 */
import { describeDenial, isOwnMissingPermission, parseAccessDenied } from '../domain/access-denied.js';
import {
  awsErrorName,
  BlockedByPolicyError,
  isQuotaExceeded,
  isTransient,
  QuotaExceededError,
  RemediationError,
  TrailguardError,
  TransientAwsError,
} from '../domain/errors.js';

type ErrorClass = new (message: string, options?: ErrorOptions) => Error;

/** The SDK exception names that mean "it is already there", which an idempotent create treats as done. */
const ALREADY_EXISTS = new Set([
  'ResourceAlreadyExistsException',
  'EntityAlreadyExistsException',
  'ResourceInUseException',
]);

export function isAlreadyExists(error: unknown): boolean {
  const name = awsErrorName(error);
  return name !== undefined && ALREADY_EXISTS.has(name);
}

/**
 * The quota a write ran into, in words, by the API that was called (the first word of `what`). IAM: "IAM and
 * AWS STS quotas" in the IAM User Guide; CloudWatch Logs: "CloudWatch Logs quotas"; CloudTrail: "Quotas in AWS
 * CloudTrail".
 */
const QUOTAS: Record<string, string> = {
  PutRolePolicy:
    "IAM quota: a role's inline policies may total at most 10,240 characters (whitespace not counted)",
  CreateRole: 'IAM quota: roles per account (1,000 by default; adjustable)',
  UpdateAssumeRolePolicy:
    'IAM quota: role trust policy length (2,048 characters by default; adjustable to 4,096)',
  AttachRolePolicy: 'IAM quota: managed policies attached to one role (10 by default; adjustable to 25)',
  TagRole: 'IAM quota: tags per role (50)',
  CreateLogGroup: 'CloudWatch Logs quota: log groups per account and region',
  TagLogGroup: 'CloudWatch Logs quota: tags per log group (50)',
  TagResource: 'CloudWatch Logs quota: tags per log group (50)',
  CreateTrail: 'CloudTrail quota: trails per region (5)',
};

export function quotaOf(what: string): string {
  const api = what.split(/\s/, 1)[0] ?? '';
  return QUOTAS[api] ?? 'an AWS service quota';
}

function messageOf(error: unknown): string {
  if (error instanceof Error && error.message) return error.message;
  return awsErrorName(error) ?? String(error);
}

/** SDK exception names of an authorization refusal (IAM: AccessDenied; most JSON services: AccessDeniedException). */
const ACCESS_DENIED = /^(AccessDenied|AccessDeniedException|UnauthorizedOperation|UnauthorizedException)$/;

/** Whether an SDK error is an authorization refusal. */
export function isAccessDenied(error: unknown): boolean {
  return ACCESS_DENIED.test(awsErrorName(error) ?? '');
}

/**
 * CloudWatch Logs refusing a KMS key for a log group (CreateLogGroup, AssociateKmsKey): "The specified KMS key
 * does not exist or is not allowed to be used with Arn '<log group ARN>'". The key's policy does not admit
 * logs.<region>.amazonaws.com for this log group (or the key does not exist).
 */
export function isKmsKeyRefusal(error: unknown): boolean {
  const message = error instanceof Error ? error.message : '';
  return /KMS key does not exist or is not allowed to be used/i.test(message);
}

/**
 * Converts a failed write into a named error. Errors the guardrail already named (TrailguardError) pass
 * through unchanged, so wrapping twice never hides the first classification.
 */
export function writeError(what: string, error: unknown, Permanent: ErrorClass = RemediationError): Error {
  if (error instanceof TrailguardError) return error;
  const name = awsErrorName(error);
  const message = `${what} failed: ${name && name !== 'Error' ? `${name}: ` : ''}${messageOf(error)}`.slice(
    0,
    2000,
  );
  // A refusal by a policy someone else owns (an SCP, RCP, boundary, session policy or Deny statement): a person
  // must act (BlockedByPolicyError, the run ends `notified`). trailguard's own missing permission ("because no
  // identity-based policy allows") and a refusal whose message names no policy type fail the run as before.
  const denial = isAccessDenied(error) ? parseAccessDenied(messageOf(error)) : undefined;
  if (denial && !isOwnMissingPermission(denial)) {
    return new BlockedByPolicyError(`${message} -- blocked by ${describeDenial(denial)}`.slice(0, 2200), {
      cause: error,
    });
  }
  if (isQuotaExceeded(error)) {
    return new QuotaExceededError(
      `${message} -- ${quotaOf(what)} was reached; retrying cannot help until the quota is raised or room is made`,
      { cause: error },
    );
  }
  if (isTransient(error)) return new TransientAwsError(message, { cause: error });
  return new Permanent(message, { cause: error });
}

/** Runs one write and classifies its failure (see writeError). */
export async function write<T>(
  what: string,
  call: () => Promise<T>,
  Permanent: ErrorClass = RemediationError,
): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw writeError(what, error, Permanent);
  }
}

/** One write really made, as the restore steps report it (the step name is added by the handler). */
export interface Write {
  /** The API call, e.g. `CreateLogGroup`. */
  api: string;
  resource: string;
  detail: string;
}
