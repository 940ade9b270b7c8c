/**
 * The CDK app entry (infra/bin/app.ts), run as `cdk synth` runs it (context in CDK_CONTEXT_JSON, the assembly
 * in CDK_OUTDIR), without AWS credentials: the configuration from `configFile` (the CLI's file) or `config`, not
 * both; a configuration problem is its lines on stderr, no stack trace, and a failed synth; an organization hub
 * is pinned to its region in the assembly's manifest.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../../..');

async function synthApp(context: Record<string, unknown>) {
  const dir = await mkdtemp(join(tmpdir(), 'trailguard-cdk-app-'));
  const out = spawnSync(process.execPath, ['--import', 'tsx', 'infra/bin/app.ts'], {
    cwd: ROOT,
    encoding: 'utf8',
    // No credentials and no endpoint: what `cdk synth` on a laptop without a profile sees. The SDK's last
    // credential source, the EC2 instance metadata service, is off: a test never sends traffic off loopback.
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      CDK_CONTEXT_JSON: JSON.stringify(context),
      CDK_OUTDIR: dir,
      AWS_EC2_METADATA_DISABLED: 'true',
    },
    timeout: 120_000,
  });
  return { code: out.status, stderr: out.stderr, dir };
}

async function configFile(config: unknown): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'trailguard-config-')), 'trailguard.json');
  await writeFile(file, JSON.stringify(config));
  return file;
}

describe('infra/bin/app.ts', () => {
  it('config and configFile together: refused, one line', async () => {
    const run = await synthApp({ config: {}, configFile: await configFile({}) });
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([
      'invalid trailguard configuration:',
      '  - context: give "config" or "configFile", not both',
    ]);
  });

  it('an organization hub without hubRegion or regions: synth fails naming hubRegion, no stack trace', async () => {
    const run = await synthApp({ configFile: await configFile({ accounts: 'organization' }) });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^ {2}- hubRegion: an organization hub must name its region: set hubRegion/m);
    expect(run.stderr).not.toMatch(/\bat \S+ \(/);
  });

  it('configFile: the hub is pinned to hubRegion in the manifest (a hub that keeps its StackSet needs no lookup)', async () => {
    const file = await configFile({
      accounts: 'organization',
      regions: ['us-east-1', 'eu-west-1'],
      hubRegion: 'eu-west-1',
    });
    const run = await synthApp({ configFile: file, 'aws:cdk:bundling-stacks': [] });
    expect(run.stderr).not.toMatch(/cannot look up/);
    expect(run.code).toBe(0);
    const manifest = JSON.parse(await readFile(join(run.dir, 'manifest.json'), 'utf8')) as {
      artifacts: Record<string, { type: string; environment?: string }>;
    };
    expect(manifest.artifacts.Trailguard?.environment).toBe('aws://unknown-account/eu-west-1');
    expect(manifest.artifacts.TrailguardSpoke?.environment).toBe('aws://unknown-account/unknown-region');
  });
});
