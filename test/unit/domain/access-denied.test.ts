/**
 * Reading AWS's access-denied messages (IAM User Guide, "Troubleshoot access denied error messages"), classifying a
 * refused write (services/aws/write-errors.ts), and what a blocked run tells people (email, Security Hub note,
 * audit record). Pure: no emulator.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isKmsKeyRefusal, writeError } from '../../../services/aws/write-errors.js';
import {
  isOwnMissingPermission,
  POLICY_TYPES,
  parseAccessDenied,
} from '../../../services/domain/access-denied.js';
import { buildAuditRecord } from '../../../services/domain/audit-record.js';
import { blockedOf, kmsKeyPolicyStatement, kmsRefusalMessage } from '../../../services/domain/blocked.js';
import {
  BlockedByPolicyError,
  QuotaExceededError,
  RemediationError,
  TransientAwsError,
} from '../../../services/domain/errors.js';
import { buildNotification } from '../../../services/domain/notification.js';
import { type RunContext, RunContextSchema } from '../../../services/domain/run-context.js';
import { findingsUpdatePlan } from '../../../services/domain/security-hub.js';
import { ACCOUNT, REGION, remediateContext, TRAIL_ARN } from '../../support/run-contexts.js';

const ROLE = `arn:aws:sts::${ACCOUNT}:assumed-role/trailguard-RestoreTrailRole/session`;
const head = `User: ${ROLE} is not authorized to perform: cloudtrail:UpdateTrail on resource: ${TRAIL_ARN}`;

function sdkError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: 400 } });
}

describe('parseAccessDenied: the formats IAM documents', () => {
  it('explicit deny: "with an explicit deny in a <type>"', () => {
    expect(parseAccessDenied(`${head} with an explicit deny in a service control policy`)).toEqual({
      policyType: 'service control policy',
      explicit: true,
      action: 'cloudtrail:UpdateTrail',
      principal: ROLE,
      resource: TRAIL_ARN,
    });
    expect(parseAccessDenied(`${head} with an explicit deny in a permissions boundary`)?.policyType).toBe(
      'permissions boundary',
    );
    expect(parseAccessDenied(`${head} with an explicit deny in an identity-based policy`)).toMatchObject({
      policyType: 'identity-based policy',
      explicit: true,
    });
  });

  it('implicit deny: "because no <type> allows the <action> action"', () => {
    expect(
      parseAccessDenied(`${head} because no service control policy allows the cloudtrail:UpdateTrail action`),
    ).toMatchObject({
      policyType: 'service control policy',
      explicit: false,
      action: 'cloudtrail:UpdateTrail',
    });
    expect(
      parseAccessDenied(
        `${head} because no resource control policy allows the cloudtrail:UpdateTrail action`,
      ),
    ).toMatchObject({ policyType: 'resource control policy', explicit: false });
  });

  it('the older SCP wording "due to an explicit deny in a Service Control Policy" (any case)', () => {
    expect(parseAccessDenied(`${head} due to an explicit deny in a Service Control Policy`)).toMatchObject({
      policyType: 'service control policy',
      explicit: true,
    });
  });

  it('a message without the context clause (some services omit it), or no access-denied text: undefined', () => {
    expect(parseAccessDenied(head)).toBeUndefined();
    expect(parseAccessDenied('User is not authorized to perform this action')).toBeUndefined();
    expect(parseAccessDenied('')).toBeUndefined();
  });

  it('every policy type, explicit or implicit, with any principal, action and resource (property)', () => {
    const token = fc.stringMatching(/^[A-Za-z0-9:/_+=,.@-]{1,40}$/);
    fc.assert(
      fc.property(
        fc.constantFrom(...POLICY_TYPES),
        fc.boolean(),
        token,
        fc.stringMatching(/^[a-z0-9-]{1,20}:[A-Za-z]{1,30}$/),
        token,
        (type, explicit, principal, action, resource) => {
          const article = /^[aeiouAEIOU]/.test(type) ? 'an' : 'a';
          const context = explicit
            ? `with an explicit deny in ${article} ${type}`
            : `because no ${type} allows the ${action} action`;
          const message = `User: ${principal} is not authorized to perform: ${action} on resource: ${resource} ${context}`;
          expect(parseAccessDenied(message)).toEqual({
            policyType: type,
            explicit,
            action,
            principal,
            resource,
          });
        },
      ),
    );
  });

  it("only an implicit identity-based denial is trailguard's own missing permission", () => {
    for (const type of POLICY_TYPES) {
      for (const explicit of [true, false]) {
        const own = isOwnMissingPermission({ policyType: type, explicit });
        expect(own, `${type} ${explicit}`).toBe(type === 'identity-based policy' && !explicit);
      }
    }
  });
});

describe('writeError: a refused write', () => {
  it('by a policy someone else owns: BlockedByPolicyError that keeps AWS message and cause', () => {
    const cause = sdkError(
      'AccessDeniedException',
      `${head} with an explicit deny in a service control policy`,
    );
    const error = writeError(`UpdateTrail ${TRAIL_ARN}`, cause);
    expect(error).toBeInstanceOf(BlockedByPolicyError);
    expect(error.message).toContain('with an explicit deny in a service control policy');
    expect(error.message.startsWith('UpdateTrail ')).toBe(true);
    expect(error.cause).toBe(cause);
    // IAM's own name for it (AccessDenied) too.
    expect(
      writeError(
        'PutRolePolicy r/p',
        sdkError('AccessDenied', `${head} with an explicit deny in a permissions boundary`),
      ),
    ).toBeInstanceOf(BlockedByPolicyError);
  });

  it("trailguard's own missing permission, or a message without context: RemediationError (the run fails)", () => {
    const own = sdkError(
      'AccessDeniedException',
      `${head} because no identity-based policy allows the x:Y action`,
    );
    expect(writeError('UpdateTrail t', own)).toBeInstanceOf(RemediationError);
    expect(writeError('UpdateTrail t', sdkError('AccessDeniedException', head))).toBeInstanceOf(
      RemediationError,
    );
  });

  it('other classifications are unchanged (quota, transient)', () => {
    expect(writeError('CreateLogGroup g', sdkError('LimitExceededException', 'x'))).toBeInstanceOf(
      QuotaExceededError,
    );
    expect(writeError('UpdateTrail t', sdkError('ThrottlingException', 'Rate exceeded'))).toBeInstanceOf(
      TransientAwsError,
    );
  });

  it("recognizes CloudWatch Logs' refusal of a KMS key", () => {
    expect(
      isKmsKeyRefusal(
        sdkError(
          'AccessDeniedException',
          "The specified KMS key does not exist or is not allowed to be used with Arn 'arn:aws:logs:r:1:log-group:g'",
        ),
      ),
    ).toBe(true);
    expect(isKmsKeyRefusal(sdkError('AccessDeniedException', head))).toBe(false);
  });
});

/** A run the BlockedByPolicy state passed on: outcome notified, the restore step's error in $.error. */
function blockedContext(errorType: string, message: string): RunContext {
  return RunContextSchema.parse({
    ...remediateContext(),
    outcome: 'notified',
    error: { Error: errorType, Cause: JSON.stringify({ errorType, errorMessage: message, trace: [] }) },
  });
}

describe('what a blocked run tells people', () => {
  const scp = () =>
    blockedContext(
      'BlockedByPolicyError',
      `UpdateTrail management-events failed: AccessDeniedException: ${head} because no service control policy allows the cloudtrail:UpdateTrail action -- blocked by no service control policy allows it (implicit deny)`,
    );

  it('blockedOf reads the policy type, the action and the principal back from the error', () => {
    expect(blockedOf(scp())).toMatchObject({
      kind: 'policy',
      api: 'UpdateTrail',
      policyType: 'service control policy',
      explicit: false,
      action: 'cloudtrail:UpdateTrail',
      principal: ROLE,
    });
    expect(blockedOf(remediateContext())).toBeUndefined();
    // A failed run's error is not a block.
    expect(blockedOf(blockedContext('RemediationError', 'UpdateTrail t failed: x'))).toBeUndefined();
  });

  it('the email: ACTION NEEDED, the policy type, and what to do', () => {
    const mail = buildNotification(scp());
    expect(mail.subject).toBe(`[trailguard] ACTION NEEDED: trail management-events (${REGION})`);
    expect(mail.attributes.outcome).toBe('notified');
    expect(mail.body).toContain('Blocked by policy');
    expect(mail.body).toContain('service control policy (implicit deny');
    expect(mail.body).toContain('What to do');
    expect(mail.body).toContain('aws:PrincipalArn');
  });

  it('Security Hub: NOTIFIED, with a note that names the refusal', () => {
    const plan = findingsUpdatePlan(scp());
    expect(plan?.workflowStatus).toBe('NOTIFIED');
    expect(plan?.note).toContain('UpdateTrail was refused by no service control policy allows it');
  });

  it('the audit record: outcome notified and `blocked` with the policy type', () => {
    const record = buildAuditRecord(scp(), new Date('2025-06-01T12:00:00Z'));
    expect(record.outcome).toBe('notified');
    expect(record.blocked).toMatchObject({
      kind: 'policy',
      policyType: 'service control policy',
      explicit: false,
    });
  });

  it('a refused KMS key: the key and the statement its policy needs (CloudWatch Logs, "Encrypt log data ... using AWS KMS")', () => {
    const key = `arn:aws:kms:${REGION}:210987654321:key/k-1`;
    const where = { partition: 'aws', region: REGION, account: ACCOUNT };
    const ctx = blockedContext(
      'KmsKeyRefusedError',
      kmsRefusalMessage(
        'CreateLogGroup',
        'CloudTrail/management-events',
        key,
        where,
        'AccessDeniedException: ...',
      ),
    );
    expect(blockedOf(ctx)).toMatchObject({ kind: 'kms-key', api: 'CreateLogGroup', kmsKeyArn: key });
    const statement = kmsKeyPolicyStatement(where);
    expect(statement.Principal.Service).toBe(`logs.${REGION}.amazonaws.com`);
    expect(statement.Condition.ArnLike['kms:EncryptionContext:aws:logs:arn']).toBe(
      `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:*`,
    );
    const body = buildNotification(ctx).body;
    expect(body).toContain('Blocked by the KMS key');
    expect(body).toContain(JSON.stringify(statement).slice(0, 40));
  });
});
