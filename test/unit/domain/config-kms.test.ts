/**
 * A log group KMS key the configuration names must serve every guarded region: KMS keys are regional (CloudWatch
 * Logs, "Encrypt log data in CloudWatch Logs using AWS KMS"), so one key ARN with guarded regions it cannot serve
 * is refused when the configuration is loaded: exit 2, nothing touched, the uncovered regions named.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configProblems } from '../../support/config-problems.js';
import { cli } from '../../support/organization.js';

const KEY = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

const problems = configProblems;

describe('kmsKeyArn and the guarded regions', () => {
  it('a key serves its own region: accepted alone, with regions [its region], and in a single account', () => {
    expect(problems({ kmsKeyArn: KEY })).toEqual([]);
    expect(problems({ kmsKeyArn: KEY, regions: ['eu-west-1'] })).toEqual([]);
    expect(problems({ kmsKeyArn: KEY, accounts: ['444455556666'], regions: ['eu-west-1'] })).toEqual([]);
  });

  it('an alias ARN is refused: CreateLogGroup takes the key ARN, and IAM authorizes a key only by its ARN', () => {
    expect(problems({ kmsKeyArn: 'arn:aws:kms:eu-west-1:111122223333:alias/logs' })).toEqual([
      'kmsKeyArn: must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)',
    ]);
  });

  it('one key for regions it cannot serve is refused, naming the uncovered regions', () => {
    const found = problems({ kmsKeyArn: KEY, regions: ['eu-west-1', 'us-east-1', 'ap-southeast-2'] });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^kmsKeyArn: is a key of eu-west-1, and KMS keys are regional/);
    expect(found[0]).toContain('in us-east-1, ap-southeast-2 (in `regions`)');
  });

  it('a hub without regions guards every enabled region: one key is refused', () => {
    const found = problems({ kmsKeyArn: KEY, accounts: ['444455556666'] });
    expect(found).toHaveLength(1);
    expect(found[0]).toContain('without `regions` the hub guards every region enabled in its account');
  });
});

describe('the CLI with such a configuration', () => {
  it('exits 2 before touching anything, naming the uncovered regions (check, sweep, local-setup)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'trailguard-kms-'));
    try {
      const file = join(dir, 'config.json');
      await writeFile(file, JSON.stringify({ kmsKeyArn: KEY, regions: ['eu-west-1', 'us-east-1'] }));
      for (const command of ['check', 'sweep', 'local-setup']) {
        const run = await cli([command, '--config', file]);
        expect(run.code, command).toBe(2);
        expect(run.stderr, command).toContain('it cannot encrypt log groups in us-east-1');
        expect(run.stdout, command).toBe('');
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** Two accounts and two regions, and a key of each region (and an account's own keys). */
const A1 = '444455556666';
const A2 = '777788889999';
const keyOf = (region: string, account = '111122223333', id = 'k') =>
  `arn:aws:kms:${region}:${account}:key/${id}-12ab-34cd-56ef-1234567890ab`;

describe('kmsKeys: a key per region, and per account where keys differ', () => {
  it('a key for each guarded region is accepted, for a single account and for a hub', () => {
    const kmsKeys = { 'eu-west-1': keyOf('eu-west-1'), 'us-east-1': keyOf('us-east-1') };
    expect(problems({ kmsKeys, regions: ['eu-west-1', 'us-east-1'] })).toEqual([]);
    expect(problems({ kmsKeys, accounts: [A1, A2], regions: ['eu-west-1', 'us-east-1'] })).toEqual([]);
    expect(problems({ kmsKeys, accounts: 'organization', regions: ['eu-west-1', 'us-east-1'] })).toEqual([]);
  });

  it("each listed account's own keys cover a region without a region key", () => {
    const kmsKeys = {
      'eu-west-1': keyOf('eu-west-1'),
      [A1]: { 'us-east-1': keyOf('us-east-1', A1) },
      [A2]: { 'us-east-1': keyOf('us-east-1', A2), 'eu-west-1': keyOf('eu-west-1', A2) },
    };
    expect(problems({ kmsKeys, accounts: [A1, A2], regions: ['eu-west-1', 'us-east-1'] })).toEqual([]);
  });

  it('a guarded region without a key is refused, naming the region (and the accounts without one)', () => {
    const found = problems({
      kmsKeys: { 'eu-west-1': keyOf('eu-west-1'), [A1]: { 'us-east-1': keyOf('us-east-1', A1) } },
      accounts: [A1, A2],
      regions: ['eu-west-1', 'us-east-1', 'ap-southeast-2'],
    });
    expect(found).toEqual([
      expect.stringMatching(
        /^kmsKeys: leaves guarded regions without a key: us-east-1 \(accounts 777788889999\), ap-southeast-2 \(accounts 444455556666, 777788889999\)\./,
      ),
    ]);
    const org = problems({
      kmsKeys: { 'eu-west-1': keyOf('eu-west-1'), [A1]: { 'us-east-1': keyOf('us-east-1', A1) } },
      accounts: 'organization',
      regions: ['eu-west-1', 'us-east-1'],
    });
    expect(org).toEqual([expect.stringContaining('without a key: us-east-1.')]);
    expect(org[0]).toContain('with accounts "organization" every region needs a key of its own');
  });

  it('a key given for another region than its own is refused, region entry or account entry', () => {
    const found = problems({
      kmsKeys: { 'eu-west-1': keyOf('us-east-1'), [A1]: { 'us-east-1': keyOf('eu-west-1', A1) } },
      accounts: [A1],
      regions: ['eu-west-1', 'us-east-1'],
    });
    expect(found).toContain(
      'kmsKeys.eu-west-1: is a key of us-east-1, given for eu-west-1: KMS keys are regional, and CloudWatch Logs uses a key only for log groups of its own region',
    );
    expect(found).toContain(
      `kmsKeys.${A1}.us-east-1: is a key of eu-west-1, given for us-east-1: KMS keys are regional, and CloudWatch Logs uses a key only for log groups of its own region`,
    );
  });

  it('refuses an alias, kmsKeyArn with kmsKeys, no regions, an unguarded account and a malformed entry', () => {
    const regions = ['eu-west-1'];
    expect(
      problems({ kmsKeys: { 'eu-west-1': 'arn:aws:kms:eu-west-1:111122223333:alias/logs' }, regions }),
    ).toEqual(['kmsKeys.eu-west-1: must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)']);
    expect(problems({ kmsKeyArn: KEY, kmsKeys: { 'eu-west-1': KEY }, regions })).toEqual([
      'kmsKeys: use either kmsKeyArn (one region) or kmsKeys (a key per region), not both',
    ]);
    expect(problems({ kmsKeys: { 'eu-west-1': KEY } })[0]).toMatch(/^kmsKeys: needs `regions`/);
    expect(
      problems({ kmsKeys: { 'eu-west-1': KEY, [A2]: { 'eu-west-1': KEY } }, accounts: [A1], regions }),
    ).toEqual([`kmsKeys.${A2}: is not one of the guarded accounts (${A1})`]);
    expect(problems({ kmsKeys: { 'eu-west-1': KEY, [A1]: { 'eu-west-1': KEY } }, regions })).toEqual([
      `kmsKeys.${A1}: per-account keys need \`accounts\` (a hub); a single account names its keys per region`,
    ]);
    expect(problems({ kmsKeys: { 'eu-west-1': KEY, mine: KEY }, regions })[0]).toMatch(
      /^kmsKeys.mine: must be a region name \(with a key ARN\) or a 12-digit account id/,
    );
  });

  it('the CLI refuses a configuration with an uncovered region: exit 2, nothing printed on stdout', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'trailguard-kms-'));
    try {
      const file = join(dir, 'config.json');
      await writeFile(
        file,
        JSON.stringify({
          kmsKeys: { 'eu-west-1': KEY },
          accounts: [A1, A2],
          regions: ['eu-west-1', 'us-east-1'],
        }),
      );
      const run = await cli(['check', '--config', file]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('leaves guarded regions without a key: us-east-1');
      expect(run.stdout).toBe('');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
