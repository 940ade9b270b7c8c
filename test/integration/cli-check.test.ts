import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeEach, describe, expect, it } from 'vitest';
import type { CheckReport } from '../../services/cli/commands/check.js';
import { main } from '../../services/cli/main.js';
import type { CliIo } from '../../services/cli/output.js';
import {
  ACCOUNT,
  currentCredentials,
  motoEndpoint,
  REGION,
  resetEmulator,
  testClients,
} from '../support/aws.js';
import { seedBrokenTrail, seedCompliantTrail, seedTrail } from '../support/seed.js';

const BIN = fileURLToPath(new URL('../../bin/trailguard.mjs', import.meta.url));
/** A region other than REGION in every project (a multi-region trail of REGION has a shadow copy there). */
const OTHER_REGION = 'us-west-2';
/** A region other than both, where no trail is created. */
const EMPTY_REGION = 'eu-west-1';
const arn = (name: string, region = REGION) => `arn:aws:cloudtrail:${region}:${ACCOUNT}:trail/${name}`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(args: string[], env?: Record<string, string | undefined>): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: { write: (s: string) => out.push(s) },
    stderr: { write: (s: string) => err.push(s) },
    ...(env ? { env } : {}),
  };
  const code = await main(args, io);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

async function runJson(args: string[]): Promise<{ code: number; report: CheckReport; stderr: string }> {
  const { code, stdout, stderr } = await run([...args, '--json']);
  return { code, report: JSON.parse(stdout) as CheckReport, stderr };
}

/** Asserts a usage-type failure: exit 2, nothing on stdout, exactly one line on stderr. */
function expectOneLineFailure(result: Run, pattern: RegExp): void {
  expect(result.code).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.stderr.endsWith('\n')).toBe(true);
  expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(result.stderr).toMatch(pattern);
}

beforeEach(async () => {
  await resetEmulator();
});

describe('trailguard check', () => {
  beforeEach(async () => {
    await seedCompliantTrail(testClients(), 'good-trail', { multiRegion: true });
    await seedBrokenTrail(testClients(), 'bad-trail');
  });

  it('--json reports each trail with exactly its findings, and exits 1', async () => {
    const { code, report, stderr } = await runJson(['check']);
    expect(code).toBe(1);
    expect(stderr).toBe('');
    expect(report).toEqual({
      accountId: ACCOUNT,
      regions: [REGION],
      compliant: false,
      trails: [
        {
          trailArn: arn('bad-trail'),
          name: 'bad-trail',
          region: REGION,
          homeRegion: REGION,
          verdict: 'non-compliant',
          reason: '3 finding(s)',
          logging: false,
          findings: [
            {
              code: 'LOG_GROUP_ARN_MISSING',
              message: 'The trail is not integrated with CloudWatch Logs: it names no log group.',
              remediable: true,
            },
            {
              code: 'ROLE_ARN_MISSING',
              message: 'The trail names no IAM role for CloudTrail to deliver to CloudWatch Logs with.',
              remediable: true,
            },
            {
              code: 'LOGGING_STOPPED',
              message: 'The trail is not logging: no events are being recorded.',
              remediable: true,
            },
          ],
          advice: [],
        },
        {
          trailArn: arn('good-trail'),
          name: 'good-trail',
          region: REGION,
          homeRegion: REGION,
          verdict: 'compliant',
          reason: 'integrated with CloudWatch Logs and logging',
          logging: true,
          findings: [],
          // moto reports no deletionProtectionEnabled: read as it is, the group is unprotected (advice only).
          advice: [
            {
              code: 'LOG_GROUP_UNPROTECTED',
              message: expect.stringContaining('has no deletion protection'),
            },
          ],
        },
      ],
    });
  });

  it('prints a table and each finding as a sentence', async () => {
    const { code, stdout, stderr } = await run(['check']);
    expect(code).toBe(1);
    expect(stderr).toBe('');
    const lines = stdout.split('\n');
    expect(lines[0]).toBe(`Account ${ACCOUNT}, ${REGION}:`);
    expect(lines[2]).toMatch(/^TRAIL\s+REGION\s+HOME REGION\s+LOGGING\s+STATUS\s+FINDINGS$/);
    expect(lines[3]).toMatch(
      new RegExp(
        `^bad-trail\\s+${REGION}\\s+${REGION}\\s+no\\s+NON-COMPLIANT\\s+LOG_GROUP_ARN_MISSING, ROLE_ARN_MISSING, LOGGING_STOPPED$`,
      ),
    );
    expect(lines[4]).toMatch(new RegExp(`^good-trail\\s+${REGION}\\s+${REGION}\\s+yes\\s+compliant\\s+-$`));
    expect(stdout).toContain(
      `bad-trail (${REGION}): NON-COMPLIANT, 3 finding(s)\n` +
        '  LOG_GROUP_ARN_MISSING: The trail is not integrated with CloudWatch Logs: it names no log group.\n',
    );
    expect(stdout).toContain('  LOGGING_STOPPED: The trail is not logging: no events are being recorded.\n');
    expect(stdout.trimEnd().split('\n').at(-1)).toBe(
      '2 trails: 1 non-compliant, 1 compliant. NOT COMPLIANT.',
    );
  });

  it('--trail checks only that trail, by name or by ARN', async () => {
    const byName = await runJson(['check', '--trail', 'good-trail']);
    expect(byName.code).toBe(0);
    expect(byName.report.trails.map((t) => t.trailArn)).toEqual([arn('good-trail')]);
    expect(byName.report.compliant).toBe(true);

    const byArn = await runJson(['check', '--trail', arn('bad-trail')]);
    expect(byArn.code).toBe(1);
    expect(byArn.report.trails.map((t) => t.name)).toEqual(['bad-trail']);
  });

  it('--region <another region> shows the multi-region trail of REGION as not ours, and exits 0', async () => {
    const { code, report } = await runJson(['check', '--region', OTHER_REGION]);
    expect(code).toBe(0);
    expect(report).toEqual({
      accountId: ACCOUNT,
      regions: [OTHER_REGION],
      compliant: true,
      trails: [
        {
          trailArn: arn('good-trail'),
          name: 'good-trail',
          region: OTHER_REGION,
          homeRegion: REGION,
          verdict: 'not-ours',
          reason: `shadow copy of a multi-region trail whose home region is ${REGION}; it is changed there`,
          logging: null,
          findings: [],
          advice: [],
        },
      ],
    });
    const human = await run(['check', '--region', OTHER_REGION]);
    expect(human.stdout).toMatch(
      new RegExp(`^good-trail\\s+${OTHER_REGION}\\s+${REGION}\\s+-\\s+not ours\\s+-$`, 'm'),
    );
  });

  it('checks several regions at once', async () => {
    await seedCompliantTrail(testClients(), 'west-trail', { region: OTHER_REGION });
    const { code, report } = await runJson(['check', '--region', `${REGION},${OTHER_REGION}`]);
    expect(code).toBe(1);
    expect(report.regions).toEqual([REGION, OTHER_REGION]);
    expect(report.trails.map((t) => [t.name, t.region, t.verdict])).toEqual([
      ['bad-trail', REGION, 'non-compliant'],
      ['good-trail', REGION, 'compliant'],
      ['good-trail', OTHER_REGION, 'not-ours'],
      ['west-trail', OTHER_REGION, 'compliant'],
    ]);
  });

  it('--config applies the configuration: an exemption tag of its own', async () => {
    await seedBrokenTrail(testClients(), 'waived-trail', { tags: { Compliance: 'waived' } });
    const dir = await mkdtemp(join(tmpdir(), 'trailguard-'));
    try {
      const file = join(dir, 'config.json');
      await writeFile(file, JSON.stringify({ exemptTagKey: 'Compliance', exemptTagValue: 'waived' }));
      const { code, report } = await runJson(['check', '--trail', 'waived-trail', '--config', file]);
      expect(code).toBe(0);
      expect(report.trails[0]).toMatchObject({ verdict: 'exempt', reason: 'tagged Compliance=waived' });
      expect(report.trails[0]?.findings.map((f) => f.code)).toEqual([
        'LOG_GROUP_ARN_MISSING',
        'ROLE_ARN_MISSING',
        'LOGGING_STOPPED',
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('trailguard check: findings of partly broken trails', () => {
  it('reports trust and permission problems of an existing role', async () => {
    await seedTrail(testClients(), 'role-trail', {
      breaks: { trust: 'wrong-service', permissions: 'put-only' },
    });
    const { code, report } = await runJson(['check']);
    expect(code).toBe(1);
    expect(report.trails[0]?.findings.map((f) => f.code)).toEqual([
      'ROLE_TRUST_INVALID',
      'ROLE_PERMISSIONS_INSUFFICIENT',
    ]);
  });

  it('reports a malformed log group ARN and a foreign role', async () => {
    await seedTrail(testClients(), 'arn-trail', { breaks: { logGroupArn: 'no-suffix', roleArn: 'foreign' } });
    const { report } = await runJson(['check']);
    expect(report.trails[0]?.findings.map((f) => f.code)).toEqual([
      'LOG_GROUP_ARN_MALFORMED',
      'ROLE_ARN_FOREIGN',
    ]);
  });

  it('exits 0 when every trail is compliant, and says so', async () => {
    await seedCompliantTrail(testClients(), 'one-trail');
    await seedCompliantTrail(testClients(), 'two-trail', { managedPolicy: true });
    const { code, stdout, stderr } = await run(['check']);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout.trimEnd().split('\n').at(-1)).toBe('2 trails: 2 compliant.');
  });

  it('exits 0 with a plain message when the region has no trails', async () => {
    const { code, stdout } = await run(['check', '--region', EMPTY_REGION]);
    expect(code).toBe(0);
    expect(stdout).toContain(`No trails in ${EMPTY_REGION}.`);
  });
});

describe('trailguard usage errors', () => {
  it('an unknown flag exits 2 with one line', async () => {
    expectOneLineFailure(
      await run(['check', '--jsn']),
      /^trailguard: unknown option '--jsn' \(Did you mean --json\?\)/,
    );
  });

  it('an unknown command exits 2 with one line', async () => {
    expectOneLineFailure(await run(['chek']), /^trailguard: unknown command 'chek'/);
  });

  it('a missing option argument exits 2 with one line', async () => {
    expectOneLineFailure(
      await run(['check', '--trail']),
      /^trailguard: option '-t, --trail <name\|arn>' argument missing/,
    );
  });

  it('no command exits 2 with one line', async () => {
    expectOneLineFailure(await run([]), /^trailguard: missing command/);
  });

  it('an invalid region exits 2 with one line', async () => {
    expectOneLineFailure(await run(['check', '--region', 'moon-1']), /"moon-1" is not a region/);
  });

  it('a trail that does not exist exits 2 with one line', async () => {
    await seedCompliantTrail(testClients(), 'good-trail');
    expectOneLineFailure(
      await run(['check', '--trail', 'missing-trail']),
      new RegExp(`^trailguard: trail missing-trail does not exist in ${REGION}$`, 'm'),
    );
  });

  it('something that is not a trail name exits 2 with one line', async () => {
    expectOneLineFailure(
      await run(['check', '--trail', 'no such/trail']),
      /is neither a CloudTrail trail name nor a trail ARN/,
    );
  });

  it('no region exits 2 with one line', async () => {
    expectOneLineFailure(
      await run(['check'], {}),
      /^trailguard: no AWS region: pass --region or set AWS_REGION/,
    );
  });

  it('an invalid configuration file exits 2 and names every problem on one line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'trailguard-'));
    try {
      const file = join(dir, 'config.json');
      await writeFile(
        file,
        JSON.stringify({ retentionDays: 42, mode: 'sometimes', deliveryRoleName: 'no spaces' }),
      );
      const result = await run(['check', '--config', file]);
      expectOneLineFailure(result, /^trailguard: invalid configuration in .*config\.json: /);
      expect(result.stderr).toContain('retentionDays: must be one of 1, 3, 5');
      expect(result.stderr).toContain('mode: ');
      expect(result.stderr).toContain('deliveryRoleName: must be a valid IAM role name');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('--help exits 0 and lists the commands and exit codes', async () => {
    const { code, stdout, stderr } = await run(['--help']);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^Usage: trailguard /);
    expect(stdout).toContain('check [options]');
    expect(stdout).toContain('Exit codes:');
  });

  it('check --help exits 0 and shows the options', async () => {
    const { code, stdout } = await run(['check', '--help']);
    expect(code).toBe(0);
    for (const option of ['--region <region>', '--trail <name|arn>', '--config <file>', '--json']) {
      expect(stdout).toContain(option);
    }
  });
});

describe('bin/trailguard.mjs', () => {
  const execFileAsync = promisify(execFile);
  const baseEnv = () => ({
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    AWS_ENDPOINT_URL: motoEndpoint(),
    AWS_REGION: REGION,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
    AWS_CONFIG_FILE: '/nonexistent/config',
  });

  async function spawnBin(args: string[], env: Record<string, string>): Promise<Run> {
    try {
      const { stdout, stderr } = await execFileAsync(BIN, args, { env, timeout: 30_000 });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code?: unknown; stdout?: string; stderr?: string };
      if (typeof e.code !== 'number') throw error;
      return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  }

  async function seed() {
    await seedCompliantTrail(testClients(), 'good-trail');
    await seedBrokenTrail(testClients(), 'bad-trail');
  }

  it('runs as an executable against the emulator: --json and exit 1', async () => {
    await seed();
    // The credentials the tests act with (assumed into ACCOUNT when it is not moto's default account).
    const { accessKeyId, secretAccessKey, sessionToken } = await currentCredentials();
    const result = await spawnBin(['check', '--json'], {
      ...baseEnv(),
      AWS_ACCESS_KEY_ID: accessKeyId,
      AWS_SECRET_ACCESS_KEY: secretAccessKey,
      ...(sessionToken ? { AWS_SESSION_TOKEN: sessionToken } : {}),
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as CheckReport;
    expect(report.accountId).toBe(ACCOUNT);
    expect(report.trails.map((t) => [t.name, t.verdict])).toEqual([
      ['bad-trail', 'non-compliant'],
      ['good-trail', 'compliant'],
    ]);
  });

  it('without credentials exits 2 with one line and no stack trace', async () => {
    await seed();
    const result = await spawnBin(['check'], baseEnv());
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^trailguard: no AWS credentials found \(CredentialsProviderError: /);
  });

  it('--help exits 0', async () => {
    const result = await spawnBin(['--help'], baseEnv());
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: trailguard');
  });
});
