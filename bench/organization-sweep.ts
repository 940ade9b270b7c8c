/**
 * The hub's sweep over an organization on the emulator: a hub guarding `accounts` accounts (itself and members
 * listed in the configuration) in `regions` regions, one integrated, logging trail per account-region, set up as a
 * user does (`trailguard local-setup --config`; each member's trails seeded with its own, uncounted clients).
 * Three sweeps as the hub's organization sweep runs them (services/local/replay.ts `sweepLocally`), each with its
 * own account access (what one warm sweep function holds): all compliant; after breaking a few account-regions
 * (the runs it starts and their outcomes); a re-read that must find every trail compliant. Counted: wall time,
 * every AWS call (hub and member clients alike) and AssumeRole per account.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StopLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { DeleteLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { type ConfigInput, parseConfig } from '../policies/config.js';
import type { AccountAccess } from '../services/aws/accounts.js';
import type { AwsClients } from '../services/aws/clients.js';
import { readAccountId } from '../services/aws/trail-reader.js';
import { main as cli } from '../services/cli/main.js';
import { partitionOf } from '../services/domain/arns.js';
import type { MotoServer } from '../services/local/moto.js';
import { resetMoto } from '../services/local/moto.js';
import { localAccountAccess } from '../services/local/organization.js';
import { adminClientsIn, createDeliveryRole, seedTrailIn } from '../services/local/organization-seed.js';
import { type ReplayResult, sweepLocally } from '../services/local/replay.js';
import { localRunConfig, localWorkflow } from '../services/local/workflow-runner.js';
import type { CallCounter, Counts } from './call-counter.js';
import { REGION, setupClients } from './emulator.js';
import { countsTotal } from './stats.js';

/** The size: 20 accounts x 3 regions. The hub region (us-east-1, where IAM's events are) comes first. */
export const ORGANIZATION_SIZE = { accounts: 20, regions: ['us-east-1', 'eu-west-1', 'ap-southeast-2'] };

const TRAIL = 'organization-standard';
const GROUP = `CloudTrail/${TRAIL}`;
const DELIVERY_ROLE = 'organization-cloudtrail-delivery';

export interface Breakage {
  account: string;
  region: string;
  how: 'logging stopped' | 'log group deleted';
}

export interface OrganizationSweepRun {
  id: 'compliant' | 'with-breakage' | 're-read';
  wallMs: number;
  /** Account-regions the sweep listed, and how many of them could not be swept (their error). */
  accountRegions: number;
  targetErrors: string[];
  /** Trails listed, and those assessed compliant. */
  trails: number;
  compliant: number;
  /** Workflow runs the sweep started, by outcome. */
  runs: Record<string, number>;
  /** The broken trails' runs: trail ARN -> outcome. */
  runOutcomes: Record<string, string>;
  /** Every AWS call the hub made, by operation (hub and member clients). */
  calls: Counts;
  total: number;
  /** AssumeRole calls by account (services/aws/accounts.ts counts them). */
  assumeRoles: Record<string, number>;
}

export interface OrganizationSweepResult {
  accounts: number;
  memberAccounts: number;
  regions: string[];
  trailsPerAccountRegion: number;
  /** Setting the organization up: local-setup (the remediation roles) and seeding the trails. */
  setupMs: number;
  broken: Breakage[];
  sweeps: OrganizationSweepRun[];
  /** Problems that make the run invalid (a broken trail not remediated, a trail left non-compliant). */
  problems: string[];
}

/** 12-digit member account ids: never the hub's (which is read from the emulator). */
export function memberAccounts(count: number, hub: string): string[] {
  const ids: string[] = [];
  for (let n = 1; ids.length < count; n++) {
    const id = String(200000000000 + n * 1_010_101);
    if (id !== hub) ids.push(id);
  }
  return ids;
}

/** Clients acting in `account` as its administrator (the bootstrap role), never counted. */
async function adminClients(setup: AwsClients, hub: string, account: string): Promise<AwsClients> {
  if (account === hub) return setup;
  return adminClientsIn(setup, account, 'OrganizationAccountAccessRole', REGION, {
    sessionName: 'bench-admin',
    maxAttempts: 3,
  });
}

/** One account's delivery role (one grant for the standard group in every region) and a logging trail per region. */
async function seedAccount(admin: AwsClients, account: string, regions: string[]): Promise<void> {
  await createDeliveryRole(admin, account, DELIVERY_ROLE, regions, GROUP);
  for (const region of regions) await seedTrailIn(admin, account, region, TRAIL, { role: DELIVERY_ROLE });
}

/** `trailguard local-setup --config F`, as a user runs it (its output kept for an error). */
async function localSetup(config: ConfigInput): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'trailguard-bench-org-'));
  try {
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify(config));
    const out: string[] = [];
    const io = {
      stdout: { write: (s: string) => out.push(s) },
      stderr: { write: (s: string) => out.push(s) },
    };
    const code = await cli(['local-setup', '--config', file], io);
    if (code !== 0) throw new Error(`trailguard local-setup --config exited ${code}:\n${out.join('')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The sweep's outcome counts, broken trails' outcomes and listed trails, from what sweepLocally returns. */
export function summarizeSweep(
  id: OrganizationSweepRun['id'],
  result: ReplayResult,
  measured: { wallMs: number; calls: Counts; assumed: ReadonlyMap<string, number> },
): OrganizationSweepRun {
  const targets = result.targets ?? [];
  const trails = targets.flatMap((t) => t.trails);
  const runs: Record<string, number> = {};
  const runOutcomes: Record<string, string> = {};
  for (const run of result.runs ?? []) {
    runs[run.outcome] = (runs[run.outcome] ?? 0) + 1;
    if (run.trail) runOutcomes[run.trail] = run.outcome;
  }
  return {
    id,
    wallMs: measured.wallMs,
    accountRegions: targets.length,
    targetErrors: targets.flatMap((t) =>
      t.error ? [`${t.account}/${t.region}: ${t.error.name}: ${t.error.message}`] : [],
    ),
    trails: trails.length,
    compliant: trails.filter((t) => t.verdict === 'compliant').length,
    runs,
    runOutcomes,
    calls: { ...measured.calls },
    total: countsTotal(measured.calls),
    assumeRoles: Object.fromEntries(measured.assumed),
  };
}

/** What makes the section's run invalid: a target not swept, a broken trail not remediated, a trail left non-compliant. */
export function sweepProblems(
  result: Pick<
    OrganizationSweepResult,
    'sweeps' | 'broken' | 'accounts' | 'regions' | 'trailsPerAccountRegion'
  >,
  trailArn: (b: Breakage) => string,
): string[] {
  const problems: string[] = [];
  const expected = result.accounts * result.regions.length;
  for (const s of result.sweeps) {
    if (s.accountRegions !== expected)
      problems.push(`sweep ${s.id}: swept ${s.accountRegions} account-regions, expected ${expected}`);
    for (const e of s.targetErrors) problems.push(`sweep ${s.id}: ${e}`);
    if (s.trails !== expected * result.trailsPerAccountRegion)
      problems.push(
        `sweep ${s.id}: listed ${s.trails} trails, expected ${expected * result.trailsPerAccountRegion}`,
      );
    const more = Object.entries(s.assumeRoles).filter(([, n]) => n > 1);
    for (const [account, n] of more) problems.push(`sweep ${s.id}: ${n} AssumeRole calls for ${account}`);
  }
  const [compliant, withBreakage, reRead] = result.sweeps;
  if (compliant && Object.keys(compliant.runs).length > 0)
    problems.push(`sweep compliant started runs: ${JSON.stringify(compliant.runs)}`);
  if (withBreakage) {
    for (const b of result.broken) {
      const outcome = withBreakage.runOutcomes[trailArn(b)];
      if (outcome !== 'remediated')
        problems.push(`${b.how} in ${b.account}/${b.region}: the run ended ${outcome ?? 'never started'}`);
    }
    const started = countsTotal(withBreakage.runs);
    if (started !== result.broken.length)
      problems.push(
        `sweep with-breakage started ${started} run(s) for ${result.broken.length} broken trail(s)`,
      );
  }
  if (reRead && reRead.compliant !== reRead.trails)
    problems.push(`re-read: ${reRead.trails - reRead.compliant} trail(s) not compliant after the fixes`);
  return problems;
}

/** Section 9. */
export async function organizationSweep(
  moto: MotoServer,
  counter: CallCounter,
  size: { accounts: number; regions: string[] } = ORGANIZATION_SIZE,
): Promise<OrganizationSweepResult> {
  await resetMoto(moto.endpoint);
  const setup = setupClients();
  const hub = await readAccountId(setup);
  const members = memberAccounts(size.accounts - 1, hub);
  const all = [hub, ...members];
  const config: ConfigInput = { accounts: members, regions: size.regions, hubRegion: REGION };
  const parsed = parseConfig(config);

  const setupStarted = performance.now();
  await localSetup(config);
  for (const account of all)
    await seedAccount(await adminClients(setup, hub, account), account, size.regions);
  const setupMs = performance.now() - setupStarted;

  const hubClients = counter.clients(REGION);
  // The template is synthesized (or read from the cache) before anything is timed.
  await localWorkflow({
    config: localRunConfig({ config }),
    clients: hubClients,
    region: REGION,
    accountId: hub,
  });

  const sweep = async (id: OrganizationSweepRun['id']): Promise<OrganizationSweepRun> => {
    const accounts: AccountAccess = localAccountAccess({ clients: hubClients, account: hub }, parsed, {
      onCreate: counter.onCreate,
    });
    counter.reset();
    const started = performance.now();
    const result = await sweepLocally({
      config,
      clients: hubClients,
      accountId: hub,
      accounts,
      steps: counter.steps(),
    });
    return summarizeSweep(id, result, {
      wallMs: performance.now() - started,
      calls: counter.commands,
      assumed: new Map(counter.assumedRoles),
    });
  };

  const sweeps: OrganizationSweepRun[] = [await sweep('compliant')];

  // A few account-regions broken, the hub's own among them; never the hub region's only.
  const last = size.regions.length - 1;
  const broken: Breakage[] = [
    { account: members[0] ?? hub, region: size.regions[Math.min(1, last)] ?? REGION, how: 'logging stopped' },
    {
      account: members[Math.floor(members.length / 2)] ?? hub,
      region: size.regions[last] ?? REGION,
      how: 'log group deleted',
    },
    { account: hub, region: size.regions[last] ?? REGION, how: 'logging stopped' },
  ];
  for (const b of broken) {
    const admin = await adminClients(setup, hub, b.account);
    if (b.how === 'logging stopped')
      await admin.cloudTrail(b.region).send(new StopLoggingCommand({ Name: TRAIL }));
    else await admin.logs(b.region).send(new DeleteLogGroupCommand({ logGroupName: GROUP }));
  }
  sweeps.push(await sweep('with-breakage'));
  sweeps.push(await sweep('re-read'));

  const result = {
    accounts: all.length,
    memberAccounts: members.length,
    regions: size.regions,
    trailsPerAccountRegion: 1,
    setupMs,
    broken,
    sweeps,
  };
  return {
    ...result,
    problems: sweepProblems(
      result,
      (b) => `arn:${partitionOf(b.region)}:cloudtrail:${b.region}:${b.account}:trail/${TRAIL}`,
    ),
  };
}
