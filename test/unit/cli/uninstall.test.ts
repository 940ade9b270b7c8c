/**
 * `trailguard uninstall` (services/cli/commands/uninstall.ts): the dry run lists, per account and region, what
 * the documented uninstall removes and keeps, for each shape; without --dry-run it refuses (exit 2).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../services/cli/main.js';
import type { CliIo } from '../../../services/cli/output.js';

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: { write: (s: string) => out.push(s) },
    stderr: { write: (s: string) => err.push(s) },
    env: { AWS_REGION: 'eu-west-2' },
  };
  const code = await main(args, io);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

async function configFile(config: unknown): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'tg-uninstall-')), 'trailguard.json');
  await writeFile(file, JSON.stringify(config));
  return file;
}

type Item = { account: string; region: string; removes: string[]; keeps: string[] };

describe('trailguard uninstall', () => {
  it('without --dry-run: refuses, one line, exit 2, pointing at the documented commands', async () => {
    const run = await cli(['uninstall']);
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toMatch(/^trailguard: uninstall only lists .*docs\/operations\.md, "Uninstall"/);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('one account, one region: the stack goes, the tables, key and log groups stay', async () => {
    const run = await cli(['uninstall', '--dry-run', '--json']);
    expect(run.code).toBe(0);
    const [item, ...rest] = JSON.parse(run.stdout) as Item[];
    expect(rest).toEqual([]);
    expect(item).toMatchObject({ account: 'this account', region: 'eu-west-2' });
    expect(item?.removes.join()).toMatch(/^stack Trailguard: /);
    expect(item?.keeps).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^audit table/),
        expect.stringMatching(/^state table/),
        'data key',
      ]),
    );
  });

  it('one account, several regions: the guardrail in the hub region, a region stack in each other one', async () => {
    const file = await configFile({ regions: ['eu-west-1', 'us-east-1'] });
    const plan = JSON.parse(
      (await cli(['uninstall', '--dry-run', '--json', '--config', file])).stdout,
    ) as Item[];
    expect(plan.map((i) => [i.region, i.removes[0]?.split(':')[0]])).toEqual([
      ['eu-west-1', 'stack Trailguard'],
      ['us-east-1', 'stack Trailguard-us-east-1'],
    ]);
  });

  it('an organization: the management account’s spokes, each member’s instance, the StackSet, then the hub', async () => {
    const file = await configFile({
      accounts: ['111122223333'],
      regions: ['us-east-1', 'eu-west-1'],
      hubRegion: 'eu-west-1',
    });
    const run = await cli(['uninstall', '--dry-run', '--config', file]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /management account +us-east-1 +stack TrailguardSpoke: spoke: forwarding rules and dead-letter queues +/,
    );
    expect(run.stdout).toMatch(
      /management account +eu-west-1 +stack TrailguardSpoke: .*member roles trailguard-remediation\*/,
    );
    expect(run.stdout).toMatch(
      /111122223333 +eu-west-1 +StackSet instance: .*member roles trailguard-remediation\*/,
    );
    expect(run.stdout).toMatch(/hub account +eu-west-1 +StackSet Trailguard-spoke/);
    expect(run.stdout).toMatch(/hub account +eu-west-1 +stack Trailguard: .* +audit table/);
    expect(run.stdout).toContain('Nothing was changed (dry run).');
  });
});
