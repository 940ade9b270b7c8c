/**
 * The preventive SCP on the emulator's Organizations (moto models CreatePolicy, AttachPolicy, EnablePolicyType,
 * ListTargetsForPolicy; it does not enforce SCPs, which test/infra/preventive-scp.test.ts evaluates): an
 * organization whose management account is the hub (the account the tests act in), two member accounts, one of
 * them in an OU. `local-setup --config` enables the SCP policy type, creates the policy and attaches it to each
 * target, idempotently; `check --config` shows whether it is attached to each target and that the management
 * account is never bound by an SCP.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateAccountCommand,
  CreateOrganizationalUnitCommand,
  CreateOrganizationCommand,
  DescribePolicyCommand,
  DetachPolicyCommand,
  ListPoliciesForTargetCommand,
  ListRootsCommand,
  MoveAccountCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../policies/config.js';
import { PREVENTIVE_SCP_NAME, preventiveScpDocument } from '../../policies/scp.js';
import type { HubCheckReport } from '../../services/cli/commands/check.js';
import { partitionOf } from '../../services/domain/arns.js';
import { ACCOUNT, currentCredentials, REGION, resetEmulator } from '../support/aws.js';
import { cli } from '../support/organization.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trailguard-scp-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const organizations = () => new OrganizationsClient({ region: 'us-east-1', credentials: currentCredentials });

interface Organization {
  rootId: string;
  ouId: string;
  members: string[];
}

/** An organization managed by the test account, two members, the second moved into an OU. */
async function organization(): Promise<Organization> {
  const client = organizations();
  await client.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
  const members: string[] = [];
  for (const name of ['workload-a', 'workload-b']) {
    const created = await client.send(
      new CreateAccountCommand({ AccountName: name, Email: `${name}@example.com` }),
    );
    members.push(created.CreateAccountStatus?.AccountId ?? '');
  }
  const rootId = (await client.send(new ListRootsCommand({}))).Roots?.[0]?.Id ?? '';
  const ou = await client.send(new CreateOrganizationalUnitCommand({ ParentId: rootId, Name: 'workloads' }));
  const ouId = ou.OrganizationalUnit?.Id ?? '';
  await client.send(
    new MoveAccountCommand({ AccountId: members[1], SourceParentId: rootId, DestinationParentId: ouId }),
  );
  return { rootId, ouId, members };
}

async function configFile(config: Record<string, unknown>, name = 'config.json'): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, JSON.stringify(config));
  return file;
}

const hubConfig = (org: Organization, breakGlassRoleArns = ['arn:aws:iam::*:role/BreakGlass']) => ({
  accounts: 'organization',
  regions: [REGION],
  hubRegion: REGION,
  preventive: { scp: true, targets: [org.rootId, org.ouId], breakGlassRoleArns },
});

/** The SCPs attached to a target, by name. */
async function scpsOn(target: string): Promise<string[]> {
  const { Policies } = await organizations().send(
    new ListPoliciesForTargetCommand({ TargetId: target, Filter: 'SERVICE_CONTROL_POLICY' }),
  );
  return (Policies ?? []).map((p) => p.Name ?? '');
}

beforeEach(async () => {
  await resetEmulator();
});

describe('trailguard local-setup --config with preventive.scp', () => {
  it('enables SCPs on the root, creates the policy from policies/scp.ts (minified) and attaches it to each target; a second run changes nothing', async () => {
    const org = await organization();
    const config = hubConfig(org);
    const file = await configFile(config);
    const first = await cli(['local-setup', '--config', file]);
    expect(first.code, first.stderr).toBe(0);
    const rows = first.stdout.split('\n');
    expect(rows.some((r) => /^created\s+\S+\s+SCP policy type\s+/.test(r) && r.includes(org.rootId))).toBe(
      true,
    );
    expect(rows.some((r) => r.startsWith('created') && r.includes(`${ACCOUNT}  SCP `))).toBe(true);
    for (const target of [org.rootId, org.ouId]) {
      expect(
        rows.some((r) => /^created\s/.test(r) && r.includes(`${PREVENTIVE_SCP_NAME} -> ${target}`)),
      ).toBe(true);
      expect(await scpsOn(target)).toContain(PREVENTIVE_SCP_NAME);
    }

    const policyId = /\((p-[0-9a-z_]+)\)/.exec(first.stdout)?.[1] ?? '';
    const { Policy } = await organizations().send(new DescribePolicyCommand({ PolicyId: policyId }));
    expect(Policy?.PolicySummary?.Type).toBe('SERVICE_CONTROL_POLICY');
    const parsed = parseConfig(config);
    const preventive = parsed.preventive;
    if (!preventive) throw new Error('no preventive');
    expect(Policy?.Content).toBe(
      JSON.stringify(
        preventiveScpDocument({ partition: partitionOf(REGION), config: { ...parsed, preventive } }),
      ),
    );

    const second = await cli(['local-setup', '--config', file]);
    expect(second.code, second.stderr).toBe(0);
    const scpRows = second.stdout.split('\n').filter((r) => r.includes('SCP'));
    expect(scpRows).toHaveLength(4);
    for (const row of scpRows) expect(row).toMatch(/^exists\s/);
  });

  it('a changed configuration updates the policy in place (same id, new break-glass role)', async () => {
    const org = await organization();
    const first = await cli(['local-setup', '--config', await configFile(hubConfig(org))]);
    expect(first.code, first.stderr).toBe(0);
    const policyId = /\((p-[0-9a-z_]+)\)/.exec(first.stdout)?.[1] ?? '';
    const changed = hubConfig(org, ['arn:aws:iam::*:role/Incident']);
    const second = await cli(['local-setup', '--config', await configFile(changed)]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(
      new RegExp(`updated\\s+${ACCOUNT}\\s+SCP\\s+${PREVENTIVE_SCP_NAME} \\(${policyId}\\)`),
    );
    const { Policy } = await organizations().send(new DescribePolicyCommand({ PolicyId: policyId }));
    expect(Policy?.Content).toContain('arn:aws:iam::*:role/Incident');
    expect(Policy?.Content).not.toContain('arn:aws:iam::*:role/BreakGlass');
  });
});

describe('trailguard local-setup --config with preventive.scp and no organization', () => {
  it('reports the SCP as failed (exit 3) and still sets up the hub and the member roles', async () => {
    const member = '444455556666';
    const file = await configFile({
      accounts: [member],
      regions: [REGION],
      hubRegion: REGION,
      preventive: { scp: true, targets: ['r-a1b2'] },
    });
    const run = await cli(['local-setup', '--config', file]);
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(
      new RegExp(`failed\\s+${ACCOUNT}\\s+SCP\\s+${PREVENTIVE_SCP_NAME}: AWSOrganizationsNotInUseException`),
    );
    expect(run.stdout).toMatch(
      new RegExp(`created\\s+${member}\\s+IAM role\\s+arn:${partitionOf(REGION)}:iam::${member}:role/`),
    );
  });
});

describe('trailguard check --config with preventive.scp', () => {
  it('shows the SCP attached to each target, a target it is not attached to as a prevention gap, and that the management account is not bound', async () => {
    const org = await organization();
    const file = await configFile(hubConfig(org));
    const setup = await cli(['local-setup', '--config', file]);
    expect(setup.code, setup.stderr).toBe(0);
    const policyId = /\((p-[0-9a-z_]+)\)/.exec(setup.stdout)?.[1] ?? '';
    await organizations().send(new DetachPolicyCommand({ PolicyId: policyId, TargetId: org.ouId }));

    const json = await cli(['check', '--config', file, '--json']);
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as HubCheckReport;
    expect(report.preventive).toEqual({
      policyName: PREVENTIVE_SCP_NAME,
      policyId,
      targets: [
        { targetId: org.rootId, attached: true },
        { targetId: org.ouId, attached: false },
      ],
      managementAccount: ACCOUNT,
    });
    expect(report.accounts.map((a) => a.accountId).sort()).toEqual([ACCOUNT, ...org.members].sort());

    const text = await cli(['check', '--config', file]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`Preventive SCP ${PREVENTIVE_SCP_NAME} (${policyId}):`);
    expect(text.stdout).toContain(`  ${org.rootId}: attached`);
    expect(text.stdout).toContain(`  ${org.ouId}: NOT ATTACHED (prevention gap)`);
    expect(text.stdout).toContain(
      `  Management account ${ACCOUNT}, the hub: no SCP applies there; its trails are protected by event-driven repair and the sweep only.`,
    );
  });

  it('no organization to read (Organizations not in use): the SCP is reported not read, and the check is incomplete (exit 3)', async () => {
    const member = '444455556666';
    const config = { accounts: [member], regions: [REGION], hubRegion: REGION };
    const setup = await cli(['local-setup', '--config', await configFile(config, 'accounts.json')]);
    expect(setup.code, setup.stderr).toBe(0);
    const file = await configFile({ ...config, preventive: { scp: true, targets: ['r-a1b2'] } }, 'scp.json');
    const json = await cli(['check', '--config', file, '--json']);
    expect(json.code).toBe(3);
    const report = JSON.parse(json.stdout) as HubCheckReport;
    expect(report.complete).toBe(false);
    expect(report.preventive?.error?.name).toBe('AWSOrganizationsNotInUseException');
    expect(report.preventive?.targets).toEqual([{ targetId: 'r-a1b2', attached: false }]);
    const text = await cli(['check', '--config', file]);
    expect(text.code).toBe(3);
    expect(text.stdout).toContain(
      `Preventive SCP ${PREVENTIVE_SCP_NAME}: NOT READ: AWSOrganizationsNotInUseException`,
    );
    expect(text.stdout).toContain('The preventive SCP could not be read.');
  });

  it('before local-setup: the SCP is reported not found and no target attached', async () => {
    const org = await organization();
    const file = await configFile(hubConfig(org));
    const setup = await cli([
      'local-setup',
      '--config',
      await configFile({ ...hubConfig(org), preventive: undefined }, 'without-scp.json'),
    ]);
    expect(setup.code, setup.stderr).toBe(0);
    const text = await cli(['check', '--config', file]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`Preventive SCP ${PREVENTIVE_SCP_NAME}: NOT FOUND (prevention gap`);
    expect(text.stdout).toContain(`  ${org.ouId}: NOT ATTACHED (prevention gap)`);
  });
});
