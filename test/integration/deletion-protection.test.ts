/**
 * CloudWatch Logs deletion protection (CloudWatch Logs API Reference, PutLogGroupDeletionProtection; "Protecting
 * log groups from deletion"), on the emulator. moto 5.2.1 lacks the API and the `deletionProtectionEnabled` field:
 * every test here emulates them at the SDK layer (test/support/deletion-protection.ts) and says so in its name;
 * everything else is moto's.
 */
import { CreateLogGroupCommand, DeleteLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { beforeEach, describe, expect, it } from 'vitest';
import { readLogGroup } from '../../services/aws/log-group-reader.js';
import { restoreLogGroupSnapshot, takeLogGroupSnapshot } from '../../services/aws/log-group-snapshot.js';
import { ensureLogGroup } from '../../services/aws/log-group-writer.js';
import { main } from '../../services/cli/main.js';
import type { CliIo } from '../../services/cli/output.js';
import { partitionOf } from '../../services/domain/arns.js';
import { snapshotItems } from '../../services/domain/log-group-snapshot.js';
import { replayEvent } from '../../services/local/replay.js';
import { cloudTrailEvent, freshGuardrail, mails } from '../e2e/reliability/harness.js';
import { ACCOUNT, REGION, resetEmulator } from '../support/aws.js';
import { DeletionProtectionEmulation } from '../support/deletion-protection.js';
import { seedBrokenTrail, seedCompliantTrail } from '../support/seed.js';

const PARTITION = partitionOf(REGION);
const spec = (name: string, extra: Partial<Parameters<typeof ensureLogGroup>[1]> = {}) => ({
  region: REGION,
  account: ACCOUNT,
  partition: PARTITION,
  name,
  retentionDays: 365,
  ...extra,
});

let protection: DeletionProtectionEmulation;
beforeEach(async () => {
  await resetEmulator();
  protection = new DeletionProtectionEmulation();
});

describe('ensureLogGroup (deletion protection emulated at the SDK layer: moto lacks it)', () => {
  it('a group it creates is protected (logGroupDeletionProtection), and then cannot be deleted', async () => {
    const clients = protection.clients();
    const writes = await ensureLogGroup(clients, spec('CloudTrail/main', { deletionProtection: true }));
    expect(writes.map((w) => w.api)).toEqual([
      'CreateLogGroup',
      'PutRetentionPolicy',
      'PutLogGroupDeletionProtection',
    ]);
    expect(protection.puts).toEqual([{ region: REGION, logGroup: 'CloudTrail/main', enabled: true }]);
    expect((await readLogGroup(clients, REGION, 'CloudTrail/main')).deletionProtectionEnabled).toBe(true);
    await expect(
      clients.logs(REGION).send(new DeleteLogGroupCommand({ logGroupName: 'CloudTrail/main' })),
    ).rejects.toThrow(/deletion protection enabled/);
    // A second run changes nothing.
    expect(await ensureLogGroup(clients, spec('CloudTrail/main', { deletionProtection: true }))).toEqual([]);
  });

  it('logGroupDeletionProtection off: created unprotected', async () => {
    const clients = protection.clients();
    const writes = await ensureLogGroup(clients, spec('CloudTrail/main', { deletionProtection: false }));
    expect(writes.map((w) => w.api)).not.toContain('PutLogGroupDeletionProtection');
    expect(protection.puts).toEqual([]);
  });

  it("a team's existing group: protected only with protectExistingLogGroups", async () => {
    const clients = protection.clients();
    await clients.logs(REGION).send(new CreateLogGroupCommand({ logGroupName: 'team/audit' }));
    expect(await ensureLogGroup(clients, spec('team/audit', { deletionProtection: true }))).toEqual([]);
    expect(protection.isProtected(REGION, 'team/audit')).toBe(false);
    const writes = await ensureLogGroup(clients, spec('team/audit', { protectExisting: true }));
    expect(writes).toEqual([
      {
        api: 'PutLogGroupDeletionProtection',
        resource: 'team/audit',
        detail: 'turned deletion protection on (protectExistingLogGroups: an existing group)',
      },
    ]);
    expect(protection.isProtected(REGION, 'team/audit')).toBe(true);
  });

  it("never touches Control Tower's log group (no call at all)", async () => {
    const clients = protection.clients();
    await expect(
      ensureLogGroup(clients, spec('aws-controltower/CloudTrailLogs', { deletionProtection: true })),
    ).rejects.toThrow(/managed by AWS Control Tower/);
    expect(protection.puts).toEqual([]);
  });
});

describe('the log group snapshot records and restores deletion protection (emulated at the SDK layer: moto lacks it)', () => {
  it('recorded when the group was protected; put back on the recreated group', async () => {
    const clients = protection.clients();
    const logs = clients.logs(REGION);
    await logs.send(new CreateLogGroupCommand({ logGroupName: 'CloudTrail/main' }));
    protection.protect(REGION, 'CloudTrail/main');
    const trailArn = `arn:${PARTITION}:cloudtrail:${REGION}:${ACCOUNT}:trail/main`;
    const where = { region: REGION, account: ACCOUNT, partition: PARTITION, logGroupName: 'CloudTrail/main' };
    const snapshot = await takeLogGroupSnapshot(clients, { ...where, trailArn }, new Date());
    if (!snapshot) throw new Error('the snapshot of an existing group is undefined');
    expect(snapshot.deletionProtectionEnabled).toBe(true);
    expect(snapshotItems(snapshot)).toContain('deletion protection');

    // Someone turns protection off and deletes the group; trailguard recreates it (unprotected here) and restores.
    protection.protect(REGION, 'CloudTrail/main', false);
    await logs.send(new DeleteLogGroupCommand({ logGroupName: 'CloudTrail/main' }));
    await logs.send(new CreateLogGroupCommand({ logGroupName: 'CloudTrail/main' }));
    const result = await restoreLogGroupSnapshot(clients, where, snapshot);
    expect(result.restored).toContain('deletion protection');
    expect(result.writes.map((w) => w.api)).toContain('PutLogGroupDeletionProtection');
    expect(protection.isProtected(REGION, 'CloudTrail/main')).toBe(true);
  });
});

describe('end to end (deletion protection emulated at the SDK layer: moto lacks it)', () => {
  beforeEach(freshGuardrail);

  it('a remediated trail gets a protected log group, listed among the actions', async () => {
    await seedBrokenTrail(protection.clients(), 'main');
    const result = await replayEvent(cloudTrailEvent('StopLogging', 'main'), {
      clients: protection.clients(),
    });
    expect(result.outcome, result.reason).toBe('remediated');
    expect(result.actions.map((a) => a.api)).toContain('PutLogGroupDeletionProtection');
    expect(protection.isProtected(REGION, 'CloudTrail/main')).toBe(true);
  });

  it('an SCP that denies PutLogGroupDeletionProtection does not stop the repair: the trail is fixed, the refusal listed among the actions (denial injected at the SDK layer: moto enforces no SCP)', async () => {
    await seedBrokenTrail(protection.clients(), 'main');
    const role = `arn:${PARTITION}:sts::${ACCOUNT}:assumed-role/trailguard-restore/session`;
    protection.denyWith = `User: ${role} is not authorized to perform: logs:PutLogGroupDeletionProtection on resource: arn:${PARTITION}:logs:${REGION}:${ACCOUNT}:log-group:CloudTrail/main with an explicit deny in a service control policy`;
    const result = await replayEvent(cloudTrailEvent('StopLogging', 'main'), {
      clients: protection.clients(),
    });
    expect(result.outcome, result.reason).toBe('remediated');
    const refusal = result.actions.find((a) => a.api === 'PutLogGroupDeletionProtection');
    expect(refusal?.detail).toMatch(
      /^NOT turned deletion protection on .*explicit deny in a service control policy/,
    );
    expect(protection.isProtected(REGION, 'CloudTrail/main')).toBe(false);
    expect((await readLogGroup(protection.clients(), REGION, 'CloudTrail/main')).exists).toBe(true);
  });

  it('trailguard’s own missing permission for it still fails the run (denial injected at the SDK layer)', async () => {
    const role = `arn:${PARTITION}:sts::${ACCOUNT}:assumed-role/trailguard-restore/session`;
    protection.denyWith = `User: ${role} is not authorized to perform: logs:PutLogGroupDeletionProtection on resource: arn:${PARTITION}:logs:${REGION}:${ACCOUNT}:log-group:CloudTrail/own because no identity-based policy allows the logs:PutLogGroupDeletionProtection action`;
    await expect(
      ensureLogGroup(protection.clients(), spec('CloudTrail/own', { deletionProtection: true })),
    ).rejects.toThrow(/because no identity-based policy allows/);
  });

  it("selftest's canary trail (trailguard-canary-*): its recreated group is not protected (the canary deletes it on purpose)", async () => {
    const name = 'trailguard-canary-0123456789';
    await seedBrokenTrail(protection.clients(), name);
    const result = await replayEvent(cloudTrailEvent('StopLogging', name), { clients: protection.clients() });
    expect(result.outcome, result.reason).toBe('remediated');
    expect(result.actions.map((a) => a.api)).toContain('CreateLogGroup');
    expect(protection.puts).toEqual([]);
  });
});

describe('protectExistingLogGroups end to end (deletion protection emulated at the SDK layer: moto lacks it)', () => {
  beforeEach(freshGuardrail);

  it("a compliant trail's unprotected team group is protected, and nothing else is changed", async () => {
    await seedCompliantTrail(protection.clients(), 'main', { logGroupName: 'team/audit' });
    const result = await replayEvent(cloudTrailEvent('UpdateTrail', 'main'), {
      clients: protection.clients(),
      config: { protectExistingLogGroups: true },
    });
    expect(result.outcome, result.reason).toBe('remediated');
    expect(result.actions.map((a) => `${a.api} ${a.resource}`)).toEqual([
      'PutLogGroupDeletionProtection team/audit',
    ]);
    expect(protection.isProtected(REGION, 'team/audit')).toBe(true);
    const body = (await mails())[0]?.message ?? '';
    expect(body).toContain('is integrated with CloudWatch Logs. trailguard turned deletion protection on');
  });
});

describe('trailguard check: advice and Control Tower (the CLI reads moto as it is: no deletion protection there)', () => {
  beforeEach(freshGuardrail);

  async function check(...args: string[]) {
    const out: string[] = [];
    const io: CliIo = {
      stdout: { write: (s: string) => out.push(s) },
      stderr: { write: (s: string) => out.push(s) },
    };
    const code = await main(['check', '--region', REGION, ...args], io);
    return { code, text: out.join('') };
  }

  it('an unprotected log group is advice LOG_GROUP_UNPROTECTED; the trail is still compliant', async () => {
    await seedCompliantTrail(protection.clients(), 'main');
    const { code, text } = await check('--trail', 'main');
    expect(code, text).toBe(0);
    expect(text).toContain('advice LOG_GROUP_UNPROTECTED');
  });

  it('a Control Tower trail shows "managed by Control Tower"', async () => {
    await seedCompliantTrail(protection.clients(), 'aws-controltower-BaselineCloudTrail');
    const { text } = await check('--trail', 'aws-controltower-BaselineCloudTrail');
    expect(text).toContain('managed by Control Tower');
  });
});
