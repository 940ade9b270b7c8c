/**
 * End to end: CloudTrail events replayed through the stack's rule and the synthesized state machine against
 * moto, with the result read back independently (raw SDK + IAM simulation), the SNS message as moto recorded
 * it, and the audit record in DynamoDB. One scenario per outcome and per finding code.
 */
import { GetTrailCommand, GetTrailStatusCommand, StopLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { GetRoleCommand, ListRolesCommand } from '@aws-sdk/client-iam';
import { beforeEach, describe, expect, it } from 'vitest';
import { ensureAuditTable, listAuditRecords } from '../../services/aws/audit-store.js';
import { createClients } from '../../services/aws/clients.js';
import { ensureTopic } from '../../services/aws/notifier.js';
import { ensureStateTable, localStateTableName } from '../../services/aws/state-store.js';
import { InvalidInputError } from '../../services/domain/errors.js';
import type { FindingCode } from '../../services/domain/findings.js';
import { type ReplayOptions, type ReplayResult, replayEvent } from '../../services/local/replay.js';
import {
  ACCOUNT,
  currentCredentials,
  emulatorNotifications,
  REGION,
  resetEmulator,
  testClients,
} from '../support/aws.js';
import { adminEvent, sampleEvent } from '../support/events.js';
import { independentProblems } from '../support/independent-check.js';
import { onResponse } from '../support/sdk-middleware.js';
import {
  type Breaks,
  type SeedOptions,
  seedBrokenTrail,
  seedCompliantTrail,
  seedTrail,
  trustPolicy,
} from '../support/seed.js';

const TABLE = 'trailguard-audit';
/** The admin of the sample events (recorded in moto's default account, read in ACCOUNT: test/support/events.ts). */
const ACTOR = `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/alice`;
/**
 * Made again after every reset: an SDK client keeps the credentials it first resolved, and a reset makes moto
 * forget assumed ones (the client would then act in moto's default account).
 */
let clients = testClients();

beforeEach(async () => {
  await resetEmulator();
  clients = testClients();
  await ensureTopic(clients, 'trailguard-notifications');
  await ensureAuditTable(clients, TABLE);
  await ensureStateTable(clients, localStateTableName({ auditTableName: TABLE }));
});

async function replay(event: unknown, options: ReplayOptions = {}): Promise<ReplayResult> {
  return replayEvent(event, { clients, ...options });
}

async function auditOf(trailArn: string) {
  return listAuditRecords(clients, TABLE, { trail: trailArn });
}

/** Asserts the full remediated contract: outcome, state read back, one email, one audit record. */
async function expectRemediated(result: ReplayResult, trailName: string, codes: FindingCode[]) {
  expect(result.outcome, result.reason).toBe('remediated');
  for (const code of codes) expect(result.findings).toContain(code);
  expect(await independentProblems(trailName)).toEqual([]);

  const mails = await emulatorNotifications();
  expect(mails).toHaveLength(1);
  const [mail] = mails;
  expect(mail?.subject).toBe(`[trailguard] REMEDIATED: trail ${trailName} (${REGION})`);
  expect(mail?.subject?.length).toBeLessThanOrEqual(100);
  expect(mail?.messageAttributes.outcome?.Value).toBe('remediated');
  expect(mail?.messageAttributes.trail?.Value).toBe(
    `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/${trailName}`,
  );
  expect(['HIGH', 'CRITICAL']).toContain(mail?.messageAttributes.severity?.Value);
  for (const code of codes) expect(mail?.message).toContain(code);
  expect(mail?.message).toContain(ACTOR);
  expect(mail?.message).toContain('203.0.113.10');
  expect(mail?.message).not.toMatch(/https?:\/\//);

  const records = await auditOf(`arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/${trailName}`);
  expect(records).toHaveLength(1);
  const [record] = records;
  expect(record?.outcome).toBe('remediated');
  expect(record?.executionId).toBe(result.executionId);
  expect(record?.actor?.arn).toBe(ACTOR);
  expect(record?.findingsBefore.map((f) => f.code)).toEqual(expect.arrayContaining(codes));
  expect(record?.actions.length).toBe(result.actions.length);
  expect(result.actions.length).toBeGreaterThan(0);
  return { mail, record };
}

describe('the sample events', () => {
  it('CreateTrail without CloudWatch Logs: log group, role and integration created, logging started', async () => {
    await seedBrokenTrail(clients, 'management-events', { multiRegion: true });
    const result = await replay(sampleEvent('create-trail'));
    await expectRemediated(result, 'management-events', [
      'LOG_GROUP_ARN_MISSING',
      'ROLE_ARN_MISSING',
      'LOGGING_STOPPED',
    ]);
    expect(result.actions.map((a) => a.api)).toEqual([
      'CreateLogGroup',
      'PutRetentionPolicy',
      'CreateRole',
      'PutRolePolicy',
      'UpdateTrail',
      'StartLogging',
    ]);
    const groups = await clients
      .logs(REGION)
      .send(new DescribeLogGroupsCommand({ logGroupNamePrefix: 'CloudTrail/' }));
    expect(groups.logGroups?.map((g) => [g.logGroupName, g.retentionInDays])).toEqual([
      ['CloudTrail/management-events', 365],
    ]);
  });

  it('UpdateTrail removing the integration: the template log group is reused, no custom role is adopted', async () => {
    const seeded = await seedCompliantTrail(clients, 'management-events', { multiRegion: true });
    await clients.cloudTrail(REGION).send(
      new (await import('@aws-sdk/client-cloudtrail')).UpdateTrailCommand({
        Name: 'management-events',
        CloudWatchLogsLogGroupArn: '',
        CloudWatchLogsRoleArn: '',
      }),
    );
    const result = await replay(sampleEvent('update-trail-remove-cloudwatch'));
    await expectRemediated(result, 'management-events', ['LOG_GROUP_ARN_MISSING', 'ROLE_ARN_MISSING']);
    const { Trail } = await clients
      .cloudTrail(REGION)
      .send(new GetTrailCommand({ Name: 'management-events' }));
    // The seeded role is not the delivery role: trailguard does not reuse an unreferenced custom role, it
    // points the trail at its own delivery role and the template's log group (the seeded one, by name).
    expect(Trail?.CloudWatchLogsLogGroupArn).toBe(
      `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${seeded.logGroupName}:*`,
    );
    expect(Trail?.CloudWatchLogsRoleArn).toBe(`arn:aws:iam::${ACCOUNT}:role/trailguard-cloudtrail-delivery`);
    expect(result.actions.map((a) => a.api)).not.toContain('CreateLogGroup');
  });

  it('StopLogging naming the trail by ARN: logging restarted, nothing else changed', async () => {
    await seedCompliantTrail(clients, 'management-events', { multiRegion: true });
    await clients.cloudTrail(REGION).send(new StopLoggingCommand({ Name: 'management-events' }));
    const result = await replay(sampleEvent('stop-logging'));
    await expectRemediated(result, 'management-events', ['LOGGING_STOPPED']);
    expect(result.findings).toEqual(['LOGGING_STOPPED']);
    expect(result.actions.map((a) => a.api)).toEqual(['StartLogging']);
    const mails = await emulatorNotifications();
    expect(mails[0]?.messageAttributes.severity?.Value).toBe('CRITICAL');
  });

  it("the remediator's own UpdateTrail is ignored and touches nothing", async () => {
    await seedBrokenTrail(clients, 'management-events', { multiRegion: true });
    const result = await replay(sampleEvent('own-update-trail'), {
      ownRoleArn: `arn:aws:iam::${ACCOUNT}:role/trailguard-remediator`,
    });
    expect(result.outcome).toBe('ignored');
    expect(result.actions).toEqual([]);
    expect(await emulatorNotifications()).toEqual([]);
    expect(await listAuditRecords(clients, TABLE)).toEqual([]);
    expect(await independentProblems('management-events')).not.toEqual([]);
  });
});

const single: [FindingCode, Breaks, SeedOptions?][] = [
  ['LOG_GROUP_ARN_MALFORMED', { logGroupArn: 'malformed' }],
  ['LOG_GROUP_ARN_MALFORMED', { logGroupArn: 'no-suffix' }],
  ['LOG_GROUP_ARN_FOREIGN', { logGroupArn: 'foreign' }],
  ['LOG_GROUP_MISSING', { logGroupMissing: true }],
  ['ROLE_ARN_MALFORMED', { roleArn: 'malformed' }],
  ['ROLE_ARN_FOREIGN', { roleArn: 'foreign' }],
  ['ROLE_MISSING', { roleMissing: true }],
  ['ROLE_TRUST_INVALID', { trust: 'wrong-service' }],
  ['ROLE_TRUST_INVALID', { trust: 'source-account' }],
  ['ROLE_PERMISSIONS_INSUFFICIENT', { permissions: 'none' }],
  ['ROLE_PERMISSIONS_INSUFFICIENT', { permissions: 'put-only' }],
  ['ROLE_PERMISSIONS_INSUFFICIENT', { permissions: 'other-group' }],
  ['LOGGING_STOPPED', { loggingStopped: true }],
];

describe('every finding code is remediated and verified', () => {
  for (const [code, breaks] of single) {
    it(`${code} (${JSON.stringify(breaks)})`, async () => {
      await seedTrail(clients, 'audit-trail', { breaks, roleName: 'trailguard-cloudtrail-delivery' });
      const result = await replay(adminEvent('UpdateTrail', 'audit-trail'));
      await expectRemediated(result, 'audit-trail', [code]);
    });
  }

  it('a deleted log group of the trail is recreated under its own name', async () => {
    await seedTrail(clients, 'audit-trail', {
      breaks: { logGroupMissing: true },
      logGroupName: 'CloudTrail/custom-name',
    });
    const result = await replay(adminEvent('UpdateTrail', 'audit-trail'));
    await expectRemediated(result, 'audit-trail', ['LOG_GROUP_MISSING']);
    const groups = await clients.logs(REGION).send(new DescribeLogGroupsCommand({}));
    expect(groups.logGroups?.map((g) => g.logGroupName)).toEqual(['CloudTrail/custom-name']);
  });

  it('a deleted delivery role is recreated under its own name; no second role appears', async () => {
    await seedTrail(clients, 'audit-trail', {
      breaks: { roleMissing: true },
      roleName: 'trailguard-cloudtrail-delivery',
    });
    await expectRemediated(await replay(adminEvent('UpdateTrail', 'audit-trail')), 'audit-trail', [
      'ROLE_MISSING',
    ]);
    const roles = await clients.iam().send(new ListRolesCommand({}));
    expect(roles.Roles?.map((r) => r.RoleName)).toEqual(['trailguard-cloudtrail-delivery']);
  });

  it('everything broken at once, trail named by ARN', async () => {
    const seeded = await seedTrail(clients, 'audit-trail', {
      breaks: {
        logGroupArn: 'no-suffix',
        logGroupMissing: true,
        trust: 'wrong-service',
        permissions: 'put-only',
        loggingStopped: true,
      },
      roleName: 'trailguard-cloudtrail-delivery',
    });
    const result = await replay(adminEvent('StopLogging', seeded.trailArn));
    await expectRemediated(result, 'audit-trail', [
      'LOG_GROUP_ARN_MALFORMED',
      'LOG_GROUP_MISSING',
      'ROLE_TRUST_INVALID',
      'ROLE_PERMISSIONS_INSUFFICIENT',
      'LOGGING_STOPPED',
    ]);
    expect(result.transitions).toBeLessThanOrEqual(12);
  });
});

describe('outcomes other than remediated', () => {
  it('compliant: ends quietly, no email, no audit record, nothing changed', async () => {
    await seedCompliantTrail(clients, 'audit-trail');
    const result = await replay(adminEvent('UpdateTrail', 'audit-trail'));
    expect(result.outcome).toBe('compliant');
    expect(result.actions).toEqual([]);
    expect(result.states).toEqual(['Check', 'Decide', 'Compliant']);
    expect(await emulatorNotifications()).toEqual([]);
    expect(await listAuditRecords(clients, TABLE)).toEqual([]);
  });

  it('skipped (exempt by tag): email and audit record, nothing changed', async () => {
    await seedBrokenTrail(clients, 'audit-trail', { tags: { 'trailguard:exempt': 'true' } });
    const result = await replay(adminEvent('UpdateTrail', 'audit-trail'));
    expect(result.outcome).toBe('skipped');
    expect(result.actions).toEqual([]);
    expect(await independentProblems('audit-trail')).not.toEqual([]);
    const [mail] = await emulatorNotifications();
    expect(mail?.subject).toBe(`[trailguard] SKIPPED: trail audit-trail (${REGION})`);
    expect(mail?.message).toContain('trailguard:exempt');
    const [record] = await listAuditRecords(clients, TABLE);
    expect(record?.outcome).toBe('skipped');
  });

  it('skipped (the trail no longer exists, e.g. DeleteTrail)', async () => {
    const result = await replay(adminEvent('UpdateTrail', 'gone-trail'));
    expect(result.outcome).toBe('skipped');
    expect(result.reason).toBe('trail no longer exists');
    expect(await emulatorNotifications()).toHaveLength(1);
    expect(await listAuditRecords(clients, TABLE)).toHaveLength(1);
  });

  it('notified (notify-only mode): findings emailed and audited, nothing changed', async () => {
    await seedBrokenTrail(clients, 'audit-trail');
    const result = await replay(adminEvent('UpdateTrail', 'audit-trail'), {
      config: { mode: 'notify-only' },
    });
    expect(result.outcome).toBe('notified');
    expect(result.actions).toEqual([]);
    expect(result.findings).toEqual(['LOG_GROUP_ARN_MISSING', 'ROLE_ARN_MISSING', 'LOGGING_STOPPED']);
    const { Trail } = await clients.cloudTrail(REGION).send(new GetTrailCommand({ Name: 'audit-trail' }));
    expect(Trail?.CloudWatchLogsLogGroupArn ?? '').toBe('');
    expect(
      (await clients.cloudTrail(REGION).send(new GetTrailStatusCommand({ Name: 'audit-trail' }))).IsLogging,
    ).toBe(false);
    const [mail] = await emulatorNotifications();
    expect(mail?.subject).toBe(`[trailguard] ACTION NEEDED: trail audit-trail (${REGION})`);
    expect(mail?.messageAttributes.outcome?.Value).toBe('notified');
    const [record] = await listAuditRecords(clients, TABLE);
    expect(record?.outcome).toBe('notified');
  });

  it('notified (a delivery error whose cause reads right, injected at the SDK layer): classified, a person must look, nothing changed', async () => {
    await seedCompliantTrail(clients, 'audit-trail');
    // moto never reports delivery errors: inject one into GetTrailStatus responses (SDK middleware).
    const withDeliveryError = createClients({
      defaultRegion: REGION,
      maxAttempts: 1,
      credentials: currentCredentials,
      onCreate: (client) =>
        onResponse(client, 'injectDeliveryError', (command, output) => {
          if (command === 'GetTrailStatusCommand') {
            output.LatestCloudWatchLogsDeliveryError =
              'AccessDeniedException: access denied for CreateLogStream';
          }
        }),
    });
    const result = await replayEvent(adminEvent('UpdateTrail', 'audit-trail'), {
      clients: withDeliveryError,
    });
    expect(result.outcome).toBe('notified');
    // Access denied on the log group is fixed by re-granting, but the role's grant reads right: nothing for
    // trailguard to change, so a person gets the error and its next step.
    expect(result.findings).toEqual(['DELIVERY_ACCESS_DENIED']);
    expect(result.reason).toContain('nothing for trailguard to change');
    expect(result.actions).toEqual([]);
    const [mail] = await emulatorNotifications();
    expect(mail?.message).toContain('access denied for CreateLogStream');
    expect((await listAuditRecords(clients, TABLE))[0]?.outcome).toBe('notified');
  });

  it('failed: a Deny in the role that trailguard will not remove fails visibly, emailed and audited', async () => {
    await seedTrail(clients, 'audit-trail', {
      breaks: { permissions: 'denied' },
      roleName: 'trailguard-cloudtrail-delivery',
    });
    const result = await replay(adminEvent('UpdateTrail', 'audit-trail'));
    expect(result.outcome).toBe('failed');
    expect(result.states?.slice(-5)).toEqual([
      'CaptureRestoreRoleFailure',
      'NotifyFailure',
      'UpdateFindingsFailure',
      'AuditFailure',
      'Failed',
    ]);
    // The failed step, its error and message: in the result, the email and the audit record alike.
    expect(result.failure).toEqual({
      step: 'RestoreRole',
      name: 'RemediationError',
      message: expect.stringMatching(/Deny/i),
    });
    const error = { step: 'RestoreRole', name: 'RemediationError', message: result.failure?.message };
    expect(await independentProblems('audit-trail')).not.toEqual([]);
    const [mail] = await emulatorNotifications();
    expect(mail?.subject).toBe(`[trailguard] FAILED: trail audit-trail (${REGION})`);
    expect(mail?.messageAttributes.outcome?.Value).toBe('failed');
    expect(mail?.message).toMatch(/\n {2}Failed step: +RestoreRole\n {2}Name: +RemediationError\n/);
    const [record] = await listAuditRecords(clients, TABLE);
    expect(record?.outcome).toBe('failed');
    expect(record?.executionId).toBe(result.executionId);
    expect(record?.error).toEqual(error);
  });

  it("failed: a Deny for CloudTrail in the delivery role's trust is kept, so the trust cannot be repaired", async () => {
    // An Allow plus an explicit Deny for cloudtrail.amazonaws.com: trailguard keeps every statement it did
    // not write, a Deny included, so CloudTrail can never assume the role and a person must act.
    await seedTrail(clients, 'audit-trail', {
      breaks: { trust: 'denied' },
      roleName: 'trailguard-cloudtrail-delivery',
    });
    const result = await replay(adminEvent('UpdateTrail', 'audit-trail'));
    expect(result.outcome).toBe('failed');
    expect(result.findings).toEqual(['ROLE_TRUST_INVALID']);
    expect(result.actions).toEqual([]);
    expect(result.states?.slice(-5)).toEqual([
      'CaptureRestoreRoleFailure',
      'NotifyFailure',
      'UpdateFindingsFailure',
      'AuditFailure',
      'Failed',
    ]);
    expect(result.failure).toEqual({
      step: 'RestoreRole',
      name: 'RoleTrustError',
      message: expect.stringMatching(/\bDeny\b/),
    });
    const error = { step: 'RestoreRole', name: 'RoleTrustError', message: result.failure?.message };

    // The trust policy is exactly as the seed wrote it: the Deny (and the Allow) still there.
    const { Role } = await clients
      .iam()
      .send(new GetRoleCommand({ RoleName: 'trailguard-cloudtrail-delivery' }));
    const trust = JSON.parse(decodeURIComponent(Role?.AssumeRolePolicyDocument ?? '{}')) as {
      Statement?: unknown[];
    };
    expect(trust.Statement).toContainEqual({
      Effect: 'Deny',
      Principal: { Service: 'cloudtrail.amazonaws.com' },
      Action: 'sts:AssumeRole',
    });
    expect(trust).toEqual(trustPolicy('denied'));
    expect(await independentProblems('audit-trail')).not.toEqual([]);

    const mails = await emulatorNotifications();
    expect(mails).toHaveLength(1);
    const [mail] = mails;
    expect(mail?.subject).toBe(`[trailguard] FAILED: trail audit-trail (${REGION})`);
    expect(mail?.messageAttributes.outcome?.Value).toBe('failed');
    expect(mail?.message).toMatch(/\n {2}Failed step: +RestoreRole\n {2}Name: +RoleTrustError\n/);
    expect(mail?.message).toContain(result.failure?.message);
    const records = await listAuditRecords(clients, TABLE);
    expect(records).toHaveLength(1);
    const [record] = records;
    expect(record?.outcome).toBe('failed');
    expect(record?.executionId).toBe(result.executionId);
    expect(record?.error).toEqual(error);
  });

  it('bad input: not a CloudTrail event -> InvalidInputError, nothing touched, nothing sent', async () => {
    await seedBrokenTrail(clients, 'audit-trail');
    await expect(replay({ hello: 'world' })).rejects.toBeInstanceOf(InvalidInputError);
    const noTrail = adminEvent('UpdateTrail', 'audit-trail', { requestParameters: {} });
    await expect(replay(noTrail)).rejects.toBeInstanceOf(InvalidInputError);
    expect(await emulatorNotifications()).toEqual([]);
    expect(await listAuditRecords(clients, TABLE)).toEqual([]);
    expect(await independentProblems('audit-trail')).not.toEqual([]);
  });
});
