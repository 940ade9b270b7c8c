/**
 * End to end through the synthesized workflow (replayEvent): repairs that a policy or a KMS key someone else owns
 * refuses end `notified`, not failed; Control Tower's trails and log groups are never written. moto enforces no
 * SCP, RCP, permissions boundary or key policy: the refusals are injected at the SDK layer (test/support/faults.ts)
 * with the access-denied messages AWS documents (IAM User Guide, "Troubleshoot access denied error messages"), and
 * every test that does so says it in its name.
 */
import { DescribeTrailsCommand } from '@aws-sdk/client-cloudtrail';
import { beforeEach, describe, expect, it } from 'vitest';
import { replayEvent } from '../../services/local/replay.js';
import { ACCOUNT, REGION, testClients } from '../support/aws.js';
import { FaultInjector, type FaultRule } from '../support/faults.js';
import { FOREIGN_ACCOUNT, seedBrokenTrail, seedTrail } from '../support/seed.js';
import { auditItems, cloudTrailEvent, freshGuardrail, mails } from './reliability/harness.js';

const TRAIL = 'main';
const OWN = `arn:aws:sts::${ACCOUNT}:assumed-role/trailguard-RestoreTrailRole/trailguard-restore-trail`;
const trailArn = (name: string) => `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/${name}`;

beforeEach(freshGuardrail);

/** An AccessDeniedException as the SDK throws it, with AWS's message. */
function accessDenied(message: string, name = 'AccessDeniedException'): () => Error {
  return () =>
    Object.assign(new Error(message), {
      name,
      $fault: 'client',
      $metadata: { httpStatusCode: 400, attempts: 1, totalRetryDelay: 0 },
    });
}

function refuseUpdateTrail(context: string): FaultRule {
  return {
    operation: 'UpdateTrail',
    mode: 'fail',
    label: 'access denied',
    error: accessDenied(
      `User: ${OWN} is not authorized to perform: cloudtrail:UpdateTrail on resource: ${trailArn(TRAIL)} ${context}`,
    ),
  };
}

async function replayWith(injector: FaultInjector, config = {}) {
  return replayEvent(cloudTrailEvent('StopLogging', TRAIL), { clients: injector.clients(), config });
}

/** The writes the run made to trails, log groups and roles (its SNS, DynamoDB writes aside). */
function trailSideWrites(injector: FaultInjector) {
  return injector
    .sentWrites()
    .filter((c) => ['CloudTrail', 'CloudWatchLogs', 'IAM'].includes(c.service))
    .map((c) => `${c.service}.${c.operation}`);
}

describe('a repair refused by a policy someone else owns ends notified, not failed (AccessDenied injected at the SDK layer: moto enforces no SCP)', () => {
  for (const [label, context, policyType, explicit] of [
    [
      'explicit SCP deny',
      'with an explicit deny in a service control policy',
      'service control policy',
      true,
    ],
    [
      'implicit SCP deny',
      'because no service control policy allows the cloudtrail:UpdateTrail action',
      'service control policy',
      false,
    ],
    [
      'explicit RCP deny',
      'with an explicit deny in a resource control policy',
      'resource control policy',
      true,
    ],
    ['permissions boundary', 'with an explicit deny in a permissions boundary', 'permissions boundary', true],
    [
      'session policy',
      'because no session policy allows the cloudtrail:UpdateTrail action',
      'session policy',
      false,
    ],
    [
      'a Deny statement attached to the role',
      'with an explicit deny in an identity-based policy',
      'identity-based policy',
      true,
    ],
  ] as const) {
    it(`${label}: outcome notified, the execution succeeds, the email and the audit record name the policy type`, async () => {
      await seedBrokenTrail(testClients(), TRAIL);
      const injector = new FaultInjector([refuseUpdateTrail(context)]);
      const result = await replayWith(injector);
      expect(result.outcome, result.reason).toBe('notified');
      expect(result.error).toBeUndefined();
      expect(result.states).toContain('BlockedByPolicy');
      expect(result.states).not.toContain('Failed');

      const sent = await mails();
      expect(sent.map((m) => m.subject)).toEqual([`[trailguard] ACTION NEEDED: trail ${TRAIL} (${REGION})`]);
      const body = sent[0]?.message ?? '';
      expect(body).toContain('Blocked by policy');
      expect(body).toContain(
        `Policy type:        ${policyType} (${explicit ? 'explicit deny' : 'implicit deny'}`,
      );
      expect(body).toContain('Refused call:       UpdateTrail');
      expect(body).toContain('What to do');

      const items = await auditItems();
      expect(items.map((i) => i.outcome)).toEqual(['notified']);
      expect(items[0]?.blocked).toMatchObject({
        kind: 'policy',
        api: 'UpdateTrail',
        policyType,
        explicit,
        action: 'cloudtrail:UpdateTrail',
        principal: OWN,
      });
      expect(items[0]?.error?.name).toBe('BlockedByPolicyError');
    });
  }

  it("trailguard's own missing permission (no identity-based policy allows it) fails the run visibly (AccessDenied injected at the SDK layer)", async () => {
    await seedBrokenTrail(testClients(), TRAIL);
    const injector = new FaultInjector([
      refuseUpdateTrail('because no identity-based policy allows the cloudtrail:UpdateTrail action'),
    ]);
    const result = await replayWith(injector);
    expect(result.outcome).toBe('failed');
    expect(result.error?.Error).toBe('TrailguardRemediationFailed');
    expect((await mails()).map((m) => m.subject)).toEqual([
      `[trailguard] FAILED: trail ${TRAIL} (${REGION})`,
    ]);
    const items = await auditItems();
    expect(items.map((i) => i.outcome)).toEqual(['failed']);
    expect(items[0]?.blocked).toBeUndefined();
    expect(items[0]?.error?.name).toBe('RemediationError');
  });

  it('an access-denied message without a context clause fails the run visibly (AccessDenied injected at the SDK layer)', async () => {
    await seedBrokenTrail(testClients(), TRAIL);
    const injector = new FaultInjector([
      {
        operation: 'UpdateTrail',
        mode: 'fail',
        error: accessDenied(
          `User: ${OWN} is not authorized to perform: cloudtrail:UpdateTrail on resource: ${trailArn(TRAIL)}`,
        ),
      },
    ]);
    const result = await replayWith(injector);
    expect(result.outcome).toBe('failed');
    expect((await auditItems()).map((i) => i.outcome)).toEqual(['failed']);
  });
});

describe('a KMS key refused at first use (CloudWatch Logs refusal injected at the SDK layer: moto enforces no key policy)', () => {
  it('ends notified with a finding that names the key and the key policy statement to add', async () => {
    const key = `arn:aws:kms:${REGION}:${FOREIGN_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    await seedBrokenTrail(testClients(), TRAIL);
    const injector = new FaultInjector([
      {
        operation: 'CreateLogGroup',
        mode: 'fail',
        error: accessDenied(
          `The specified KMS key does not exist or is not allowed to be used with Arn 'arn:aws:logs:${REGION}:${ACCOUNT}:log-group:CloudTrail/${TRAIL}'`,
        ),
      },
    ]);
    const result = await replayWith(injector, { kmsKeyArn: key });
    expect(result.outcome, result.reason).toBe('notified');
    expect(result.error).toBeUndefined();
    const body = (await mails())[0]?.message ?? '';
    expect(body).toContain('Blocked by the KMS key');
    expect(body).toContain(`KMS key:            ${key}`);
    expect(body).toContain(`logs.${REGION}.amazonaws.com`);
    expect(body).toContain('kms:EncryptionContext:aws:logs:arn');
    expect(body).toContain(`arn:aws:logs:${REGION}:${ACCOUNT}:log-group:*`);
    const items = await auditItems();
    expect(items[0]).toMatchObject({
      outcome: 'notified',
      blocked: { kind: 'kms-key', api: 'CreateLogGroup', kmsKeyArn: key },
    });
    // Nothing else was changed: the log group was refused, and the run stopped there.
    expect(trailSideWrites(injector)).toEqual([]);
  });
});

describe("Control Tower's trails and log groups are never written", () => {
  it('a broken aws-controltower-* trail: notified with the Control Tower repair path, no write to it', async () => {
    const name = 'aws-controltower-BaselineCloudTrail';
    await seedBrokenTrail(testClients(), name);
    const injector = new FaultInjector();
    const result = await replayEvent(cloudTrailEvent('StopLogging', name), { clients: injector.clients() });
    expect(result.outcome, result.reason).toBe('notified');
    expect(result.reason).toContain('managed by Control Tower');
    expect(trailSideWrites(injector)).toEqual([]);
    const body = (await mails())[0]?.message ?? '';
    expect(body).toContain('Repair');
    expect(body).toContain('re-register its OU');
    // Still broken: trailguard left it to Control Tower.
    const trails = await testClients()
      .cloudTrail(REGION)
      .send(new DescribeTrailsCommand({ trailNameList: [name] }));
    expect(trails.trailList?.[0]?.CloudWatchLogsLogGroupArn).toBeUndefined();
  });

  it("a trail delivering to Control Tower's log group (aws-controltower/*): notified, no write", async () => {
    await seedTrail(testClients(), TRAIL, {
      logGroupName: 'aws-controltower/CloudTrailLogs',
      breaks: { loggingStopped: true, roleMissing: true },
    });
    const injector = new FaultInjector();
    const result = await replayWith(injector);
    expect(result.outcome, result.reason).toBe('notified');
    expect(result.reason).toContain('aws-controltower/CloudTrailLogs');
    expect(trailSideWrites(injector)).toEqual([]);
  });
});
