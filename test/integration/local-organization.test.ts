/**
 * A local organization on the emulator: a hub (the account the tests act in, ACCOUNT / REGION) guarding member
 * accounts in two regions, reached the way the product reaches them: `local-setup` through each member's
 * bootstrap role, then every run through the member's remediation role (moto acts in the account of the
 * assumed role's credentials). What the member looks like afterwards is read back with that member's own
 * clients; emails are read from the hub's topic, audit records from the hub's table.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetTrailCommand, GetTrailStatusCommand } from '@aws-sdk/client-cloudtrail';
import { DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DeleteRolePolicyCommand, GetRoleCommand, GetRolePolicyCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../policies/config.js';
import { listAuditRecords } from '../../services/aws/audit-store.js';
import type { AwsClients } from '../../services/aws/clients.js';
import { decodePolicy } from '../../services/aws/trail-reader.js';
import { type HubCheckReport, runHubCheck } from '../../services/cli/commands/check.js';
import type { SweepReport } from '../../services/cli/commands/sweep.js';
import { adminClientsIn, seedTrailIn } from '../../services/local/organization-seed.js';
import { replayEvent, sweepLocally } from '../../services/local/replay.js';
import {
  ACCOUNT,
  currentCredentials,
  emulatorNotifications,
  REGION,
  resetEmulator,
  testClients,
} from '../support/aws.js';
import { FaultInjector, failing } from '../support/faults.js';
import { type CliRun, cli, eventIn } from '../support/organization.js';

/** Two member accounts (neither is the hub's, in either project). */
const MEMBER = '444455556666';
const OTHER_MEMBER = '777788889999';
/** An account no configuration here guards. */
const STRANGER = '999988887777';
/** The second guarded region: never the hub's. */
const SECOND_REGION = REGION === 'eu-west-1' ? 'us-west-2' : 'eu-west-1';
const REGIONS = [REGION, SECOND_REGION];
const TOPIC = 'trailguard-notifications';
const TABLE = 'trailguard-audit';
const HUB_TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:${TOPIC}`;

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trailguard-org-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function configFile(config: Record<string, unknown>, name = 'config.json'): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, JSON.stringify(config));
  return file;
}

/** The member roles local-setup creates (the spoke's): the read-only one, one per restore step, UpdateFindings'. */
const MEMBER_ROLE_NAMES = ['read', 'log-group', 'role', 'trail', 'findings'].map(
  (suffix) => `trailguard-remediation-${suffix}`,
);
const orgConfig = { accounts: [MEMBER, OTHER_MEMBER], regions: REGIONS, hubRegion: REGION };

/** The last stdout line as JSON. */
function lastJson<T = Record<string, unknown>>(run: CliRun): T {
  return JSON.parse(run.stdout.trimEnd().split('\n').at(-1) ?? '{}') as T;
}

/** Clients acting in `account`, as an administrator of it would (credentials of a role assumed there). */
function clientsOf(account: string): Promise<AwsClients> {
  return adminClientsIn(testClients(), account, 'test-admin', REGION, {
    sessionName: 'test-admin',
    maxAttempts: 1,
  });
}

/** The trail as its own account reads it back. */
async function trailIn(clients: AwsClients, region: string, name: string) {
  const { Trail } = await clients.cloudTrail(region).send(new GetTrailCommand({ Name: name }));
  const status = await clients.cloudTrail(region).send(new GetTrailStatusCommand({ Name: name }));
  return { trail: Trail, logging: status.IsLogging ?? false };
}

async function writeEvent(event: Record<string, unknown>, name: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, JSON.stringify(event));
  return file;
}

const setup = async (config: Record<string, unknown> = orgConfig) => {
  const file = await configFile(config);
  const run = await cli(['local-setup', '--config', file]);
  expect(run.code, run.stderr).toBe(0);
  return file;
};

beforeEach(async () => {
  await resetEmulator();
});

describe('trailguard local-setup --config (an organization)', () => {
  it("creates the hub's topic and tables, and each member's five member roles through its bootstrap role", async () => {
    const { STSClient: Sts } = await import('@aws-sdk/client-sts');
    const send = vi.spyOn(Sts.prototype, 'send');
    const file = await configFile(orgConfig);
    const first = await cli(['local-setup', '--config', file]);
    const assumed = send.mock.calls
      .map(([command]) => (command as { input?: { RoleArn?: string } }).input?.RoleArn)
      .filter((arn): arn is string => arn !== undefined);
    send.mockRestore();
    expect(first.code, first.stderr).toBe(0);
    expect(assumed).toEqual([
      `arn:aws:iam::${MEMBER}:role/OrganizationAccountAccessRole`,
      `arn:aws:iam::${OTHER_MEMBER}:role/OrganizationAccountAccessRole`,
    ]);
    const lines = first.stdout.trimEnd().split('\n').slice(1);
    const rows = lines.map((l) => l.split(/\s{2,}/));
    expect(rows).toEqual([
      ['created', ACCOUNT, 'SNS topic', HUB_TOPIC_ARN],
      ['created', ACCOUNT, 'DynamoDB table', TABLE],
      ['created', ACCOUNT, 'DynamoDB table', `${TABLE}-idempotency`],
      ['created', ACCOUNT, 'DynamoDB table', `${TABLE}-state`],
      ...[MEMBER, OTHER_MEMBER].flatMap((account) =>
        MEMBER_ROLE_NAMES.flatMap((name) => [
          ['created', account, 'IAM role', `arn:aws:iam::${account}:role/${name}`],
          ['created', account, 'IAM role policy', `${name}/trailguard-remediation`],
        ]),
      ),
    ]);

    // Read back in the member: each trusted by the hub's account, with its own step's member-side permissions.
    const member = await clientsOf(MEMBER);
    // Security Hub's actions have no resource but "*": the findings role names no account.
    const policyOf = async (name: string, namesTheAccount = true) => {
      const { Role } = await member.iam().send(new GetRoleCommand({ RoleName: name }));
      expect(decodePolicy(Role?.AssumeRolePolicyDocument)).toEqual({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:AssumeRole' },
        ],
      });
      const { PolicyDocument } = await member
        .iam()
        .send(new GetRolePolicyCommand({ RoleName: name, PolicyName: 'trailguard-remediation' }));
      const policy = decodePolicy(PolicyDocument) as {
        Statement: { Sid: string; Effect: string; Action: string[] }[];
      };
      const text = JSON.stringify(policy);
      if (namesTheAccount) expect(text).toContain(`:${MEMBER}:`);
      expect(text).not.toContain(`:${ACCOUNT}:`);
      // Within IAM's 10,240 characters for a role's inline policies (whitespace not counted).
      expect(text.replace(/\s/g, '').length).toBeLessThanOrEqual(10_240);
      return policy;
    };
    const sidsOf = async (name: string) =>
      (await policyOf(name, !name.endsWith('-findings'))).Statement.map((st) => st.Sid);
    const readOnly = await policyOf('trailguard-remediation-read');
    expect(readOnly.Statement.map((st) => st.Sid)).toEqual(
      expect.arrayContaining(['ListTrails', 'ReadTrails', 'ReadRoles', 'ReadLogGroups']),
    );
    for (const action of readOnly.Statement.flatMap((st) => st.Action)) {
      expect(action).toMatch(/^[a-z0-9-]+:(Get|List|Describe)\w*$/);
    }
    expect(await sidsOf('trailguard-remediation-trail')).toEqual([
      'ReadTrails',
      'ReadRoles',
      'ReadManagedPolicies',
      'RepairTrails',
      'PassDeliveryRolesToCloudTrail',
    ]);
    expect(await sidsOf('trailguard-remediation-role')).toContain('CreateDeliveryRoles');
    expect(await sidsOf('trailguard-remediation-role')).not.toContain('RepairTrails');
    expect(await sidsOf('trailguard-remediation-log-group')).toContain('CreateManagedLogGroups');
    expect(await sidsOf('trailguard-remediation-log-group')).not.toContain('CreateDeliveryRoles');
    expect(await sidsOf('trailguard-remediation-findings')).toEqual(
      expect.arrayContaining([
        'ReadSecurityHubFindings',
        'UpdateSecurityHubFindings',
        'DenyFindingWorkflowStatus',
      ]),
    );

    const second = await cli(['local-setup', '--config', file]);
    expect(second.code).toBe(0);
    expect(
      second.stdout
        .trimEnd()
        .split('\n')
        .slice(1)
        .map((l) => l.split(/\s{2,}/)[0]),
    ).toEqual(Array(4 + 2 * 2 * MEMBER_ROLE_NAMES.length).fill('exists'));
  });

  it('--bootstrap-role names the role assumed in each member', async () => {
    const { STSClient: Sts } = await import('@aws-sdk/client-sts');
    const send = vi.spyOn(Sts.prototype, 'send');
    const file = await configFile({ accounts: [MEMBER], regions: [REGION] });
    const run = await cli(['local-setup', '--config', file, '--bootstrap-role', 'AWSControlTowerExecution']);
    const assumed = send.mock.calls
      .map(([command]) => (command as { input?: { RoleArn?: string } }).input?.RoleArn)
      .filter(Boolean);
    send.mockRestore();
    expect(run.code, run.stderr).toBe(0);
    expect(assumed).toEqual([`arn:aws:iam::${MEMBER}:role/AWSControlTowerExecution`]);
  });

  it('"organization": the members are the active accounts Organizations lists', async () => {
    const { CreateAccountCommand, CreateOrganizationCommand, OrganizationsClient } = await import(
      '@aws-sdk/client-organizations'
    );
    const organizations = new OrganizationsClient({ region: 'us-east-1', credentials: currentCredentials });
    await organizations.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
    const created = await organizations.send(
      new CreateAccountCommand({ AccountName: 'workload', Email: 'workload@example.com' }),
    );
    const member = created.CreateAccountStatus?.AccountId ?? '';
    expect(member).toMatch(/^\d{12}$/);
    const file = await configFile({ accounts: 'organization', regions: [REGION] });
    const run = await cli(['local-setup', '--config', file]);
    expect(run.code, run.stderr).toBe(0);
    for (const name of MEMBER_ROLE_NAMES) {
      expect(run.stdout).toContain(
        `created  ${member}  IAM role         arn:aws:iam::${member}:role/${name}`,
      );
      const { Role } = await (await clientsOf(member)).iam().send(new GetRoleCommand({ RoleName: name }));
      expect(Role?.Arn).toBe(`arn:aws:iam::${member}:role/${name}`);
    }
  });
});

describe('trailguard replay --config (an event from a member account)', () => {
  it("a member's trail broken in the second region: remediated there, email on the hub topic, record in the hub table", async () => {
    const file = await setup();
    const member = await clientsOf(MEMBER);
    const trailArn = await seedTrailIn(member, MEMBER, SECOND_REGION, 'workload-trail');
    const event = eventIn(MEMBER, SECOND_REGION, 'UpdateTrail', 'workload-trail');
    const { STSClient: Sts } = await import('@aws-sdk/client-sts');
    const send = vi.spyOn(Sts.prototype, 'send');
    const run = await cli([
      'replay',
      await writeEvent(event, 'member-event.json'),
      '--config',
      file,
      '--json',
    ]);
    const assumed = send.mock.calls
      .map(([command]) => (command as { input?: { RoleArn?: string } }).input?.RoleArn)
      .filter((arn): arn is string => arn !== undefined);
    send.mockRestore();
    expect(run.code, run.stderr).toBe(0);
    // Each step acted through its own member role: the read-only one for Check and Verify, one per restore
    // step, UpdateFindings' own; never anything else, and each once (credentials are cached per role).
    expect(assumed.sort()).toEqual(
      MEMBER_ROLE_NAMES.map((name) => `arn:aws:iam::${MEMBER}:role/${name}`).sort(),
    );
    const json = lastJson(run);
    expect(json).toMatchObject({
      outcome: 'remediated',
      account: MEMBER,
      region: SECOND_REGION,
      trail: trailArn,
      findings: ['LOG_GROUP_ARN_MISSING', 'ROLE_ARN_MISSING', 'LOGGING_STOPPED'],
    });

    // Compliant in the member, read with the member's own credentials.
    const after = await trailIn(member, SECOND_REGION, 'workload-trail');
    expect(after.trail?.CloudWatchLogsLogGroupArn).toBe(
      `arn:aws:logs:${SECOND_REGION}:${MEMBER}:log-group:CloudTrail/workload-trail:*`,
    );
    expect(after.trail?.CloudWatchLogsRoleArn).toBe(
      `arn:aws:iam::${MEMBER}:role/trailguard-cloudtrail-delivery`,
    );
    expect(after.logging).toBe(true);
    const groups = await member
      .logs(SECOND_REGION)
      .send(new DescribeLogGroupsCommand({ logGroupNamePrefix: 'CloudTrail/workload-trail' }));
    expect(groups.logGroups?.map((g) => g.logGroupName)).toEqual(['CloudTrail/workload-trail']);
    await member.iam().send(new GetRoleCommand({ RoleName: 'trailguard-cloudtrail-delivery' }));
    const check = await cli(['check', '--config', file, '--json']);
    const report = JSON.parse(check.stdout) as HubCheckReport;
    expect(
      report.accounts.find((a) => a.accountId === MEMBER)?.trails.map((t) => [t.trailArn, t.verdict]),
    ).toEqual([[trailArn, 'compliant']]);

    // Nothing of it in the hub: no such trail or role there.
    const hub = testClients();
    await expect(
      hub.cloudTrail(SECOND_REGION).send(new GetTrailCommand({ Name: 'workload-trail' })),
    ).rejects.toThrow();

    // One email stream: the hub's topic, naming the member account.
    const mails = await emulatorNotifications();
    expect(mails.map((m) => m.topicArn)).toEqual([HUB_TOPIC_ARN]);
    expect(mails[0]?.message).toContain(MEMBER);
    // One audit table: the hub's, filterable by account.
    const records = await listAuditRecords(hub, TABLE, { account: MEMBER });
    expect(records.map((r) => [r.trailArn, r.outcome])).toEqual([[trailArn, 'remediated']]);
    const audit = await cli(['audit', '--config', file, '--account', MEMBER, '--json']);
    expect(audit.code, audit.stderr).toBe(0);
    expect((lastJson<unknown[]>(audit) as { trailArn?: string }[]).map((r) => r.trailArn)).toEqual([
      trailArn,
    ]);
  });

  it("remediate --trail <a member's trail ARN> --config: the workflow runs in the hub and acts in the member", async () => {
    const file = await setup();
    const member = await clientsOf(MEMBER);
    const trailArn = await seedTrailIn(member, MEMBER, SECOND_REGION, 'manual-trail');
    const run = await cli(['remediate', '--trail', trailArn, '--config', file, '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(lastJson(run)).toMatchObject({ outcome: 'remediated', trail: trailArn });
    const after = await trailIn(member, SECOND_REGION, 'manual-trail');
    expect(after.logging).toBe(true);
    expect(after.trail?.CloudWatchLogsRoleArn).toBe(
      `arn:aws:iam::${MEMBER}:role/trailguard-cloudtrail-delivery`,
    );
    const records = await listAuditRecords(testClients(), TABLE, { account: MEMBER });
    expect(records.map((r) => [r.trailArn, r.outcome])).toEqual([[trailArn, 'remediated']]);
  });

  it('an event from an account the configuration does not guard is skipped and changes nothing', async () => {
    const file = await setup();
    const stranger = await clientsOf(STRANGER);
    await seedTrailIn(stranger, STRANGER, REGION, 'stranger-trail');
    const event = eventIn(STRANGER, REGION, 'UpdateTrail', 'stranger-trail');
    const run = await cli(['replay', await writeEvent(event, 'stranger.json'), '--config', file, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const json = lastJson(run);
    expect(json).toMatchObject({
      outcome: 'skipped',
      account: STRANGER,
      region: REGION,
      trail: 'stranger-trail',
      findings: [],
      actions: [],
    });
    expect(String(json.reason)).toContain(`account ${STRANGER} is not guarded by this hub`);
    const after = await trailIn(stranger, REGION, 'stranger-trail');
    expect(after.trail?.CloudWatchLogsLogGroupArn).toBeUndefined();
    expect(after.logging).toBe(false);
    expect(await emulatorNotifications()).toEqual([]);
    expect(await listAuditRecords(testClients(), TABLE)).toEqual([]);
  });

  it('a member whose remediation role cannot be assumed: failed, with that reason (AccessDenied injected on sts:AssumeRole at the SDK layer)', async () => {
    await setup();
    const member = await clientsOf(MEMBER);
    await seedTrailIn(member, MEMBER, SECOND_REGION, 'workload-trail');
    const injector = new FaultInjector([failing('AssumeRole', 'accessDenied')]);
    const event = eventIn(MEMBER, SECOND_REGION, 'UpdateTrail', 'workload-trail');
    const result = await replayEvent(event, {
      clients: injector.clients({ credentials: currentCredentials }),
      config: orgConfig,
    });
    expect(result.outcome).toBe('failed');
    expect(result).toMatchObject({ account: MEMBER, region: SECOND_REGION });
    // AssumeRole's AccessDenied says the account is not enrolled; a run for an event from it still fails.
    expect(result.failure).toMatchObject({ step: 'Check', name: 'AccountNotEnrolledError' });
    expect(result.reason).toMatch(
      new RegExp(
        `^AccountNotEnrolledError: account ${MEMBER} is not enrolled: AssumeRole arn:aws:iam::${MEMBER}:role/trailguard-remediation-read was refused \\(AccessDenied`,
      ),
    );
    expect(injector.callsOf('AssumeRole').map((c) => c.fault)).not.toContain(undefined);
    // Nothing changed in the member; the failure went to the hub's topic and table.
    const after = await trailIn(member, SECOND_REGION, 'workload-trail');
    expect(after.trail?.CloudWatchLogsLogGroupArn).toBeUndefined();
    const mails = await emulatorNotifications();
    expect(mails.map((m) => [m.topicArn, m.messageAttributes.outcome?.Value])).toEqual([
      [HUB_TOPIC_ARN, 'failed'],
    ]);
    expect((await listAuditRecords(testClients(), TABLE)).map((r) => r.outcome)).toEqual(['failed']);
  });

  it("an IAM change in us-east-1 is fanned out to the member's trails in both regions", async () => {
    const file = await setup();
    const member = await clientsOf(MEMBER);
    const role = 'workload-delivery';
    const first = await seedTrailIn(member, MEMBER, REGION, 'trail-a', { role, grantRegions: REGIONS });
    const second = await seedTrailIn(member, MEMBER, SECOND_REGION, 'trail-b', {
      role,
      grantRegions: REGIONS,
    });
    await member
      .iam()
      .send(new DeleteRolePolicyCommand({ RoleName: role, PolicyName: 'cloudtrail-delivery' }));
    const event = eventIn(MEMBER, 'us-east-1', 'DeleteRolePolicy', role, {
      source: 'aws.iam',
      detail: {
        eventSource: 'iam.amazonaws.com',
        requestParameters: { roleName: role, policyName: 'cloudtrail-delivery' },
      },
    });
    const run = await cli(['replay', await writeEvent(event, 'iam.json'), '--config', file, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const json = lastJson<{ outcome: string; account: string; runs: Record<string, unknown>[] }>(run);
    expect(json.outcome).toBe('remediated');
    expect(json.account).toBe(MEMBER);
    expect(
      json.runs
        .map((r) => [r.trail, r.outcome, r.account, r.region])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    ).toEqual(
      [
        [first, 'remediated', MEMBER, REGION],
        [second, 'remediated', MEMBER, SECOND_REGION],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    for (const [region, name] of [
      [REGION, 'trail-a'],
      [SECOND_REGION, 'trail-b'],
    ] as const) {
      const after = await trailIn(member, region, name);
      expect(after.logging, name).toBe(true);
      expect(after.trail?.CloudWatchLogsRoleArn, name).toMatch(new RegExp(`^arn:aws:iam::${MEMBER}:role/`));
    }
    expect((await emulatorNotifications()).map((m) => m.topicArn)).toEqual([HUB_TOPIC_ARN, HUB_TOPIC_ARN]);
  });
});

describe('check and sweep over 2 accounts x 2 regions', () => {
  const config = { accounts: [MEMBER], regions: REGIONS, hubRegion: REGION };

  /** Each account: a compliant trail in the hub region, a broken one in the second. */
  async function seedBoth(): Promise<{ member: AwsClients; broken: string[] }> {
    const member = await clientsOf(MEMBER);
    const hub = testClients();
    await seedTrailIn(hub, ACCOUNT, REGION, 'hub-good', {
      role: 'hub-good-delivery',
      grantRegions: [REGION],
    });
    const hubBad = await seedTrailIn(hub, ACCOUNT, SECOND_REGION, 'hub-bad');
    await seedTrailIn(member, MEMBER, REGION, 'member-good', {
      role: 'member-good-delivery',
      grantRegions: [REGION],
    });
    const memberBad = await seedTrailIn(member, MEMBER, SECOND_REGION, 'member-bad');
    return { member, broken: [hubBad, memberBad] };
  }

  it('check --json reports every account x region, grouped by account, and exits 1', async () => {
    const file = await setup(config);
    await seedBoth();
    const run = await cli(['check', '--config', file, '--json']);
    expect(run.code, run.stderr).toBe(1);
    const report = JSON.parse(run.stdout) as HubCheckReport;
    expect(report).toMatchObject({
      hubAccount: ACCOUNT,
      hubRegion: REGION,
      regions: REGIONS,
      regionsFrom: 'config',
      counts: { compliant: 2, 'non-compliant': 2, exempt: 0, 'not-ours': 0 },
      compliant: false,
      complete: true,
    });
    expect(
      report.accounts.map((a) => [a.accountId, a.trails.map((t) => `${t.name}:${t.region}:${t.verdict}`)]),
    ).toEqual([
      [ACCOUNT, [`hub-good:${REGION}:compliant`, `hub-bad:${SECOND_REGION}:non-compliant`]],
      [MEMBER, [`member-good:${REGION}:compliant`, `member-bad:${SECOND_REGION}:non-compliant`]],
    ]);

    const text = await cli(['check', '--config', file]);
    expect(text.code).toBe(1);
    const hubAt = text.stdout.indexOf(`Account ${ACCOUNT} (hub)`);
    const memberAt = text.stdout.indexOf(`Account ${MEMBER}`);
    expect(hubAt).toBeGreaterThan(-1);
    expect(memberAt).toBeGreaterThan(hubAt);
    expect(text.stdout.trimEnd().split('\n').at(-1)).toBe(
      '2 accounts x 2 regions, 4 trails: 2 non-compliant, 2 compliant. NOT COMPLIANT.',
    );
  });

  it('check: a member whose role AssumeRole refuses (AccessDenied injected on sts:AssumeRole at the SDK layer) is not-enrolled, listed, and the check is complete', async () => {
    await setup(config);
    await seedBoth();
    const injector = new FaultInjector([failing('AssumeRole', 'accessDenied')]);
    const report = await runHubCheck(
      { region: [] },
      { env: process.env, clients: injector.clients({ credentials: currentCredentials }) },
      parseConfig(config),
    );
    expect(report.complete).toBe(true);
    expect(report.accounts[0]?.trails).toHaveLength(2);
    expect(report.accounts[1]).toMatchObject({ accountId: MEMBER, trails: [], status: 'not-enrolled' });
    expect(report.accounts[1]?.reason).toContain("told by STS AssumeRole's AccessDenied");
  });

  it('check --config: a member without the role (not set up) and a region not enabled are coverage gaps, listed; another AssumeRole failure is an error', async () => {
    await setup(config);
    await seedBoth();
    // OTHER_MEMBER has no remediation role (local-setup ran for MEMBER only); ap-east-1 is an opt-in region
    // moto lists as not-opted-in in every account.
    const gaps = { ...config, accounts: [MEMBER, OTHER_MEMBER], regions: [...REGIONS, 'ap-east-1'] };
    const run = await cli(['check', '--config', await configFile(gaps, 'gaps.json'), '--json']);
    expect(run.code, run.stderr).toBe(1);
    const report = JSON.parse(run.stdout) as HubCheckReport;
    expect(report.complete).toBe(true);
    expect(report.accounts.map((a) => [a.accountId, a.status, a.notEnabled])).toEqual([
      [ACCOUNT, 'checked', ['ap-east-1']],
      [MEMBER, 'checked', ['ap-east-1']],
      [OTHER_MEMBER, 'not-enrolled', []],
    ]);
    expect(report.accounts[2]?.reason).toContain("told by IAM GetRole's NoSuchEntity");
    const text = await cli(['check', '--config', await configFile(gaps, 'gaps.json')]);
    expect(text.stdout).toContain('NOT ENROLLED (coverage gap)');
    expect(text.stdout.trimEnd().split('\n').at(-1)).toContain(
      'Coverage gap: 1 account not enrolled. Coverage gap: 2 account-regions not enabled.',
    );

    const injector = new FaultInjector([
      {
        operation: 'AssumeRole',
        mode: 'fail',
        error: () =>
          Object.assign(new Error('STS is not activated in this region'), {
            name: 'RegionDisabledException',
            $metadata: { httpStatusCode: 403 },
          }),
      },
    ]);
    const failed = await runHubCheck(
      { region: [] },
      { env: process.env, clients: injector.clients({ credentials: currentCredentials }) },
      parseConfig(config),
    );
    expect(failed.complete).toBe(false);
    expect(failed.accounts[1]).toMatchObject({
      accountId: MEMBER,
      status: 'error',
      error: { name: 'AccountAccessError' },
    });
  });

  it('sweep --json runs the workflow for each non-compliant trail of every account x region; check is clean after', async () => {
    const file = await setup(config);
    const { member, broken } = await seedBoth();
    const run = await cli(['sweep', '--config', file, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const report = lastJson<SweepReport>(run);
    expect(report.outcome).toBe('remediated');
    // The hub's organization sweep as CDK synthesizes it ran (ListTargets, then its Map of SweepTarget).
    expect(report.reason).toMatch(/organization sweep .*: SUCCEEDED$/);
    expect(report.counts).toEqual({ failed: 0, remediated: 2, notified: 0, skipped: 0, compliant: 0 });
    expect(report.verdicts).toEqual({ compliant: 2, 'non-compliant': 2 });
    expect(report.targets.map((t) => [t.account, t.region, t.trails.length, t.started])).toEqual([
      [ACCOUNT, REGION, 1, 0],
      [ACCOUNT, SECOND_REGION, 1, 1],
      [MEMBER, REGION, 1, 0],
      [MEMBER, SECOND_REGION, 1, 1],
    ]);
    expect(report.runs.map((r) => [r.account, r.region, r.trail, r.outcome])).toEqual([
      [ACCOUNT, SECOND_REGION, broken[0], 'remediated'],
      [MEMBER, SECOND_REGION, broken[1], 'remediated'],
    ]);
    expect((await trailIn(member, SECOND_REGION, 'member-bad')).logging).toBe(true);
    const audit = await listAuditRecords(testClients(), TABLE);
    expect(audit.map((r) => r.trailArn).sort()).toEqual([...broken].sort());

    const again = await cli(['check', '--config', file, '--json']);
    expect(again.code, again.stdout).toBe(0);
    expect((JSON.parse(again.stdout) as HubCheckReport).counts).toMatchObject({
      compliant: 4,
      'non-compliant': 0,
    });

    const quiet = await cli(['sweep', '--config', file, '--json']);
    expect(quiet.code).toBe(0);
    expect(lastJson<SweepReport>(quiet)).toMatchObject({ outcome: 'compliant', runs: [] });
  });

  it('sweep --json: a member without the role is not-enrolled and a region not enabled is not-enabled, both listed and exit 0; the organization sweep succeeds', async () => {
    await setup(config);
    await seedBoth();
    const gaps = { ...config, accounts: [MEMBER, OTHER_MEMBER], regions: [...REGIONS, 'ap-east-1'] };
    const run = await cli(['sweep', '--config', await configFile(gaps, 'gaps.json'), '--json']);
    expect(run.code, run.stderr).toBe(0);
    const report = lastJson<SweepReport>(run);
    expect(report.targets.map((t) => [t.account, t.region, t.status])).toEqual([
      [ACCOUNT, REGION, 'swept'],
      [ACCOUNT, SECOND_REGION, 'swept'],
      [ACCOUNT, 'ap-east-1', 'not-enabled'],
      [MEMBER, REGION, 'swept'],
      [MEMBER, SECOND_REGION, 'swept'],
      [MEMBER, 'ap-east-1', 'not-enabled'],
      [OTHER_MEMBER, REGION, 'not-enrolled'],
      [OTHER_MEMBER, SECOND_REGION, 'not-enrolled'],
      [OTHER_MEMBER, 'ap-east-1', 'not-enrolled'],
    ]);
    const notEnrolled = report.targets.find((t) => t.account === OTHER_MEMBER);
    expect(notEnrolled?.reason).toContain("told by IAM GetRole's NoSuchEntity");
    expect(report.targets.find((t) => t.status === 'not-enabled')?.reason).toContain(
      'region ap-east-1 is not enabled in account',
    );
    expect(report.counts).toMatchObject({ failed: 0, remediated: 2 });
    // Coverage gaps are not failures: the organization sweep ends in SweepComplete, not SweepIncomplete.
    expect(report.reason).toMatch(/organization sweep .*: SUCCEEDED$/);
  });

  it('sweep: a member whose AssumeRole fails otherwise (RegionDisabledException injected at the SDK layer) is an error per region; the hub still swept; the organization sweep fails (SweepIncomplete)', async () => {
    await setup(config);
    await seedBoth();
    const injector = new FaultInjector([
      {
        operation: 'AssumeRole',
        mode: 'fail',
        error: () =>
          Object.assign(new Error('STS is not activated in this region'), {
            name: 'RegionDisabledException',
            $metadata: { httpStatusCode: 403 },
          }),
      },
    ]);
    const result = await sweepLocally({
      clients: injector.clients({ credentials: currentCredentials }),
      config,
    });
    expect(
      result.targets?.filter((t) => t.error).map((t) => [t.account, t.region, t.status, t.error?.name]),
    ).toEqual([
      [MEMBER, REGION, 'error', 'AccountAccessError'],
      [MEMBER, SECOND_REGION, 'error', 'AccountAccessError'],
    ]);
    expect(result.runs?.map((r) => [r.account, r.outcome])).toEqual([[ACCOUNT, 'remediated']]);
    expect(result.reason).toMatch(/organization sweep .*: FAILED$/);
  });

  it("sweep without a hub configuration: the caller's account in the given region, --region with one is a usage error", async () => {
    const local = await cli(['local-setup']);
    expect(local.code, local.stderr).toBe(0);
    const broken = await seedTrailIn(testClients(), ACCOUNT, REGION, 'lonely-trail');
    const run = await cli(['sweep', '--region', REGION, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const report = lastJson<SweepReport>(run);
    expect(report.targets.map((t) => [t.account, t.region, t.started])).toEqual([[ACCOUNT, REGION, 1]]);
    expect(report.runs.map((r) => [r.account, r.region, r.trail, r.outcome])).toEqual([
      [ACCOUNT, REGION, broken, 'remediated'],
    ]);
    expect(report.counts.remediated).toBe(1);
    const usage = await cli(['sweep', '--config', await configFile(config, 'hub.json'), '--region', REGION]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^trailguard: --region applies without a hub configuration/);
  });
});

describe('a single account guarding two regions (regions, no accounts)', () => {
  // The hub region is the first listed: REGION, where the tests' clients act.
  const config = { regions: REGIONS };

  it('sweep --config sweeps both regions of the account through the organization sweep; an event from the second region is remediated there', async () => {
    const file = await setup(config);
    const hub = testClients();
    await seedTrailIn(hub, ACCOUNT, REGION, 'first-good', { role: 'first-delivery', grantRegions: [REGION] });
    const broken = await seedTrailIn(hub, ACCOUNT, SECOND_REGION, 'second-bad');
    const run = await cli(['sweep', '--config', file, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const report = lastJson<SweepReport>(run);
    expect(report.reason).toMatch(/organization sweep .*: SUCCEEDED$/);
    expect(report.targets.map((t) => [t.account, t.region, t.trails.length, t.started])).toEqual([
      [ACCOUNT, REGION, 1, 0],
      [ACCOUNT, SECOND_REGION, 1, 1],
    ]);
    expect(report.runs.map((r) => [r.account, r.region, r.trail, r.outcome])).toEqual([
      [ACCOUNT, SECOND_REGION, broken, 'remediated'],
    ]);
    expect((await trailIn(hub, SECOND_REGION, 'second-bad')).logging).toBe(true);

    // An event recorded in the second region (as its region stack forwards it): remediated in that region.
    const other = await seedTrailIn(hub, ACCOUNT, SECOND_REGION, 'second-later');
    const event = eventIn(ACCOUNT, SECOND_REGION, 'StopLogging', 'second-later');
    const replay = await cli([
      'replay',
      await writeEvent(event, 'second-region.json'),
      '--config',
      file,
      '--json',
    ]);
    expect(replay.code, replay.stderr).toBe(0);
    expect(lastJson(replay)).toMatchObject({
      outcome: 'remediated',
      account: ACCOUNT,
      region: SECOND_REGION,
      trail: other,
    });
    const after = await trailIn(hub, SECOND_REGION, 'second-later');
    expect(after.trail?.CloudWatchLogsLogGroupArn).toBe(
      `arn:aws:logs:${SECOND_REGION}:${ACCOUNT}:log-group:CloudTrail/second-later:*`,
    );
    expect(after.logging).toBe(true);

    // One topic and one table, in the hub region.
    const mails = await emulatorNotifications();
    expect(new Set(mails.map((m) => m.topicArn))).toEqual(new Set([HUB_TOPIC_ARN]));
    const records = await listAuditRecords(hub, TABLE);
    expect(records.map((r) => r.trailArn).sort()).toEqual([broken, other].sort());
    const check = await cli(['check', '--config', file, '--json']);
    expect(check.code, check.stdout).toBe(0);
    expect((JSON.parse(check.stdout) as HubCheckReport).counts).toMatchObject({
      compliant: 3,
      'non-compliant': 0,
    });
  });
});
