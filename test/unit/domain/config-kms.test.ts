/**
 * A log group KMS key the configuration names must serve every guarded region: KMS keys are regional (CloudWatch
 * Logs, "Encrypt log data in CloudWatch Logs using AWS KMS"), so one key ARN with guarded regions it cannot serve
 * is refused when the configuration is loaded: exit 2, nothing touched, the uncovered regions named.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../policies/config.js';
import { cli } from '../../support/organization.js';

const KEY = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

function problems(input: Record<string, unknown>): string[] {
  try {
    parseConfig(input);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

describe('kmsKeyArn and the guarded regions', () => {
  it('a key serves its own region: accepted alone, with regions [its region], and in a single account', () => {
    expect(problems({ kmsKeyArn: KEY })).toEqual([]);
    expect(problems({ kmsKeyArn: KEY, regions: ['eu-west-1'] })).toEqual([]);
    expect(problems({ kmsKeyArn: KEY, accounts: ['444455556666'], regions: ['eu-west-1'] })).toEqual([]);
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
