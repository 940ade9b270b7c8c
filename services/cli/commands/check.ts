/**
 * `trailguard check`: assesses every trail in one or more regions, or one trail, and reports the findings as
 * a table or as one JSON document. Reads only; changes nothing.
 *
 * With a hub configuration (`--config` naming accounts, regions or hubRegion; services/local/organization.ts)
 * it checks every guarded account x region from the hub (the caller's account), each other account through its
 * remediation role, and groups the report by account.
 */
import { readFile } from 'node:fs/promises';
import { type Command, InvalidArgumentError } from 'commander';
import { DEFAULT_STACK_NAME } from '../../../infra/stack-name.js';
import { type Config, ConfigError, parseConfig } from '../../../policies/config.js';
import { PREVENTIVE_SCP_NAME } from '../../../policies/scp.js';
import { AccountAccessError, AccountNotEnrolledError } from '../../aws/accounts.js';
import { type AwsClients, createClients, MissingRegionError } from '../../aws/clients.js';
import { type PreventiveScpReport, readPreventiveScp } from '../../aws/preventive-scp.js';
import { enabledRegionsOf } from '../../aws/sweep-targets.js';
import { findListed, type ListedTrail, listTrails } from '../../aws/trail-lister.js';
import { readAccountId, readTrailState } from '../../aws/trail-reader.js';
import { parseTrailArn, partitionOf } from '../../domain/arns.js';
import type { Advice } from '../../domain/assess.js';
import { assess, notOursReason, type Verdict } from '../../domain/assess.js';
import { TrailNotFoundError } from '../../domain/errors.js';
import { trailRef } from '../../domain/events.js';
import type { Finding } from '../../domain/findings.js';
import type { TrailState } from '../../domain/trail-state.js';
import {
  guardedAccounts,
  guardedRegions,
  guardsOtherAccounts,
  isHubConfig,
  localAccountAccess,
  resolveHub,
} from '../../local/organization.js';
import { type CliIo, EXIT, EXIT_CODES_HELP, formatTable, setExitCode, UsageError } from '../output.js';
import { REGION_NAME, regionCollector } from '../regions.js';
import { notEnrolledSpokes } from './spokes.js';

export interface CheckOptions {
  region: string[];
  trail?: string;
  json?: boolean;
  config?: string;
  /** A hub: the deployed hub stack (its StackSet's failed instances). */
  stack?: string;
}

export interface TrailReport {
  trailArn: string;
  name: string;
  /** The region whose endpoint was asked. */
  region: string;
  homeRegion: string;
  verdict: Verdict;
  reason: string;
  /** Null when not read (a trail that is not ours). */
  logging: boolean | null;
  findings: Finding[];
  /** Advice that is not a compliance failure (e.g. LOG_GROUP_UNPROTECTED). */
  advice: Advice[];
  /** Set when the trail or its log group is AWS Control Tower's: trailguard never changes it. */
  managedBy?: 'Control Tower';
}

export interface CheckReport {
  accountId: string;
  regions: string[];
  trails: TrailReport[];
  /** True when no trail owned here is non-compliant (exempt and not-ours trails count as fine). */
  compliant: boolean;
}

/** An invalid --region value is reported by commander as an invalid option argument (exit 2). */
const collectRegions = regionCollector((message) => new InvalidArgumentError(message));

function defaultRegion(env: Record<string, string | undefined>): string {
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  if (!region) {
    throw new MissingRegionError('no AWS region: pass --region or set AWS_REGION (or AWS_DEFAULT_REGION)');
  }
  if (!REGION_NAME.test(region)) throw new UsageError(`invalid region "${region}" in the environment`);
  return region;
}

/** Reads and validates a JSON configuration file, reporting every problem at once. */
export async function loadConfigFile(path: string): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read configuration file ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`configuration file ${path} is not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    return parseConfig(input);
  } catch (error) {
    if (error instanceof ConfigError) {
      throw new UsageError(`invalid configuration in ${path}: ${error.problems.join('; ')}`, {
        cause: error,
      });
    }
    throw error;
  }
}

/** The state of a listed trail: read in full when it is ours, else only what DescribeTrails said. */
async function stateOf(
  clients: AwsClients,
  listed: ListedTrail,
  accountId: string,
  config: Config,
): Promise<TrailState> {
  const base = {
    region: listed.region,
    accountId,
    partition: partitionOf(listed.region),
    trail: listed.trail,
    tags: {},
  };
  if (notOursReason(base)) return base;
  return readTrailState(clients, { id: listed.id, region: listed.region }, accountId, {
    monitoring: config.cisMonitoring,
  });
}

/**
 * Where the CIS alarms must notify, as the CLI knows it: the configured cisAlarmTopicArn, else the
 * notification topic under its configured name in the trail's account and home region (what `local-setup`
 * creates; a deployed stack's topic has a generated name, so set cisAlarmTopicArn to check against it).
 */
export function alarmTopicOf(state: TrailState, config: Config): string {
  return (
    config.cisAlarmTopicArn ??
    `arn:${state.partition}:sns:${state.trail.homeRegion}:${state.accountId}:${config.notificationTopicName}`
  );
}

function report(state: TrailState, config: Config): TrailReport {
  const assessment = assess(state, config, { cisAlarmTopicArn: alarmTopicOf(state, config) });
  return {
    trailArn: state.trail.trailArn,
    name: state.trail.name,
    region: state.region,
    homeRegion: state.trail.homeRegion,
    verdict: assessment.verdict,
    reason: assessment.reason,
    logging: state.status ? state.status.isLogging : null,
    findings: assessment.findings,
    advice: assessment.advice ?? [],
    ...(assessment.controlTower ? { managedBy: 'Control Tower' as const } : {}),
  };
}

/** Works out which regions to ask, and for `--trail`, which trail where. */
function plan(options: CheckOptions, env: Record<string, string | undefined>) {
  const explicit = options.region;
  if (options.trail === undefined) {
    return { regions: explicit.length > 0 ? explicit : [defaultRegion(env)], trail: undefined };
  }
  if (explicit.length > 1) {
    throw new UsageError('--trail checks one trail: give at most one --region (or a trail ARN)');
  }
  const arn = parseTrailArn(options.trail);
  if (arn && explicit.length === 1 && explicit[0] !== arn.region) {
    throw new UsageError(`--region ${explicit[0]} does not match the trail ARN's region ${arn.region}`);
  }
  const ref = trailRef(options.trail, arn ? arn.region : (explicit[0] ?? defaultRegion(env)));
  return { regions: [ref.region], trail: ref };
}

/** Runs the check and returns the report; throws on usage, configuration, credential and AWS errors. */
export async function runCheck(
  options: CheckOptions,
  deps: { env: Record<string, string | undefined>; clients?: AwsClients },
): Promise<CheckReport> {
  const config = options.config ? await loadConfigFile(options.config) : parseConfig({});
  const { regions, trail } = plan(options, deps.env);
  const clients = deps.clients ?? createClients({ defaultRegion: regions[0] });
  const accountId = await readAccountId(clients);
  return checkAccount(clients, accountId, regions, config, trail);
}

/** The check of one account in the given regions (one trail with `trail`). */
async function checkAccount(
  clients: AwsClients,
  accountId: string,
  regions: string[],
  config: Config,
  trail?: { id: string },
): Promise<CheckReport> {
  const perRegion = await Promise.all(
    regions.map(async (region) => {
      const listed = await listTrails(clients, region);
      if (trail) {
        const found = findListed(listed, trail.id, accountId);
        if (!found) throw new TrailNotFoundError(`trail ${trail.id} does not exist in ${region}`);
        return [report(await stateOf(clients, found, accountId, config), config)];
      }
      const states = await Promise.all(listed.map((t) => stateOf(clients, t, accountId, config)));
      return states.map((s) => report(s, config));
    }),
  );
  const trails = perRegion.flat();
  return {
    accountId,
    regions,
    trails,
    compliant: trails.every((t) => t.verdict !== 'non-compliant'),
  };
}

/** One account of a hub's check: its report, or why it could not be checked. */
export interface AccountCheckReport extends CheckReport {
  /**
   * `checked`; `not-enrolled`: no spoke this hub may use there (a coverage gap, as the sweep lists it, not a
   * failure: `reason` says how it was told); `error`: it could not be checked (`error`).
   */
  status: 'checked' | 'not-enrolled' | 'error';
  /** The guarded regions not enabled in this account: not checked, a coverage gap (the sweep's `not-enabled`). */
  notEnabled: string[];
  /** Why the account was not checked (not-enrolled). */
  reason?: string;
  /**
   * The guarded regions whose spoke StackSet instance is not enrolled (failed, skipped, outdated), from the
   * deployed hub stack (`trailguard spokes`): events there are not forwarded (a coverage gap). Only against a
   * deployed hub.
   */
  spokesNotEnrolled?: { region: string; status: string; reason: string | null }[];
  /** The account could not be checked (its remediation role cannot be assumed, an AWS call failed). */
  error?: { name: string; message: string };
}

/** A hub's check of every guarded account x region. */
export interface HubCheckReport {
  hubAccount: string;
  hubRegion: string;
  regions: string[];
  /** Where the regions come from: `--region`, config.regions, or the regions enabled in the hub's account. */
  regionsFrom: 'option' | 'config' | 'enabled';
  /** The hub's account first. */
  accounts: AccountCheckReport[];
  /** Trails per verdict, over every account and region. */
  counts: Record<Verdict, number>;
  /** True when no trail checked is non-compliant. */
  compliant: boolean;
  /** False when some account could not be checked (or, with config.preventive.scp, Organizations could not be read). */
  complete: boolean;
  /** config.preventive.scp: whether the preventive SCP exists and is attached to each target. */
  preventive?: PreventiveScpReport;
}

const VERDICTS: readonly Verdict[] = ['non-compliant', 'compliant', 'exempt', 'not-ours'];

/** Whether `check` with these options reports a hub: a hub configuration and no single trail. */
export function isHubCheck(config: Config, options: Pick<CheckOptions, 'trail'>): boolean {
  return isHubConfig(config) && options.trail === undefined;
}

/**
 * The hub's check: every guarded account (the hub's own with its clients, the others through their remediation
 * role) x every guarded region (`--region` narrows them). An account that cannot be checked is reported with
 * its error; the others are still checked.
 */
export async function runHubCheck(
  options: CheckOptions,
  deps: { env: Record<string, string | undefined>; clients?: AwsClients },
  config: Config,
): Promise<HubCheckReport> {
  const envRegion = deps.env.AWS_REGION || deps.env.AWS_DEFAULT_REGION;
  const hubRegion = config.hubRegion ?? envRegion ?? config.regions?.[0];
  if (!hubRegion && !deps.clients) {
    throw new MissingRegionError(
      'no hub region: set hubRegion in the configuration, or AWS_REGION (or AWS_DEFAULT_REGION)',
    );
  }
  const clients = deps.clients ?? createClients({ defaultRegion: hubRegion });
  const hub = await resolveHub(config, clients);
  const accounts = await guardedAccounts(config, hub);
  const guarded =
    options.region.length > 0
      ? { regions: options.region, source: 'option' as const }
      : await guardedRegions(config, hub);
  const access = guardsOtherAccounts(config) ? localAccountAccess(hub, config) : undefined;

  const reports = await Promise.all(
    accounts.map(async (accountId): Promise<AccountCheckReport> => {
      const unchecked = { accountId, regions: guarded.regions, trails: [], compliant: true, notEnabled: [] };
      try {
        const inAccount =
          accountId === hub.account || !access ? hub.clients : await access.clientsFor(accountId);
        // Each account's regions: the guarded ones enabled there (opt-in regions differ per account).
        const enabled = new Set(await enabledRegionsOf(inAccount));
        const regions = guarded.regions.filter((r) => enabled.has(r));
        const notEnabled = guarded.regions.filter((r) => !enabled.has(r));
        const checked = await checkAccount(inAccount, accountId, regions, config);
        return { ...checked, regions: guarded.regions, status: 'checked', notEnabled };
      } catch (error) {
        // The hub's own credentials failing ends the command (exit 2 or 3); a member's is reported for it.
        if (accountId === hub.account && !(error instanceof AccountAccessError)) throw error;
        if (error instanceof AccountNotEnrolledError) {
          return {
            ...unchecked,
            status: 'not-enrolled',
            reason: `${error.message} (told by ${error.toldBy})`,
          };
        }
        const e = error instanceof Error ? error : new Error(String(error));
        return {
          ...unchecked,
          compliant: false,
          status: 'error',
          error: { name: e.name, message: e.message },
        };
      }
    }),
  );
  const trails = reports.flatMap((r) => r.trails);
  const counts = Object.fromEntries(
    VERDICTS.map((v) => [v, trails.filter((t) => t.verdict === v).length]),
  ) as Record<Verdict, number>;
  const preventive = config.preventive?.scp
    ? await readPreventiveScp(hub.clients, PREVENTIVE_SCP_NAME, config.preventive.targets)
    : undefined;
  return {
    hubAccount: hub.account,
    hubRegion: hub.region,
    regions: guarded.regions,
    regionsFrom: guarded.source,
    accounts: reports,
    counts,
    compliant: counts['non-compliant'] === 0,
    complete: reports.every((r) => r.status !== 'error') && preventive?.error === undefined,
    ...(preventive ? { preventive } : {}),
  };
}

/**
 * The preventive SCP's lines: the policy, each target attached or not (a gap in prevention, not in compliance),
 * and that the management account is never bound by an SCP (AWS Organizations User Guide, "Service control
 * policies (SCPs)"): there only event-driven repair and the sweep protect the trails.
 */
export function formatPreventiveScp(report: PreventiveScpReport, hubAccount: string): string[] {
  if (report.error) {
    return [`Preventive SCP ${report.policyName}: NOT READ: ${report.error.name}: ${report.error.message}`];
  }
  const lines = [
    report.policyId
      ? `Preventive SCP ${report.policyName} (${report.policyId}):`
      : `Preventive SCP ${report.policyName}: NOT FOUND (prevention gap: is the hub stack deployed, or local-setup run?)`,
  ];
  for (const t of report.targets) {
    lines.push(`  ${t.targetId}: ${t.attached ? 'attached' : 'NOT ATTACHED (prevention gap)'}`);
  }
  if (report.managementAccount) {
    const hub = report.managementAccount === hubAccount ? ', the hub' : '';
    lines.push(
      `  Management account ${report.managementAccount}${hub}: no SCP applies there; its trails are protected by event-driven repair and the sweep only.`,
    );
  }
  return lines;
}

/** The hub's report: one block per account (the hub's first), then one summary line. */
export function formatHubCheckReport(report: HubCheckReport): string {
  const lines = [
    `Hub ${report.hubAccount} (${report.hubRegion}): ${plural(report.accounts.length, 'account')} x ${plural(report.regions.length, 'region')} (${report.regions.join(', ')})`,
    ...(report.preventive ? formatPreventiveScp(report.preventive, report.hubAccount) : []),
  ];
  for (const account of report.accounts) {
    const label = `Account ${account.accountId}${account.accountId === report.hubAccount ? ' (hub)' : ''}`;
    lines.push('', `── ${label} ${'─'.repeat(Math.max(4, 76 - label.length))}`);
    if (account.error) {
      lines.push(`NOT CHECKED: ${account.error.name}: ${account.error.message}`);
      continue;
    }
    if (account.status === 'not-enrolled') {
      lines.push(`NOT ENROLLED (coverage gap): ${account.reason ?? ''}`);
      continue;
    }
    if (account.spokesNotEnrolled?.length) {
      lines.push(
        `Spoke not enrolled (coverage gap: events not forwarded; trailguard spokes): ${account.spokesNotEnrolled
          .map((s) => `${s.region} (${s.status}${s.reason ? `: ${s.reason}` : ''})`)
          .join(', ')}`,
      );
    }
    if (account.notEnabled.length > 0) {
      lines.push(`Not enabled in this account (coverage gap, not checked): ${account.notEnabled.join(', ')}`);
    }
    // The account's own report without its first line (the account and regions, said above) and blank line.
    lines.push(...formatCheckReport(account).trimEnd().split('\n').slice(2));
  }
  const trails = Object.values(report.counts).reduce((a, b) => a + b, 0);
  const parts = VERDICTS.filter((v) => report.counts[v] > 0).map(
    (v) => `${report.counts[v]} ${v === 'not-ours' ? 'not ours' : v}`,
  );
  const unchecked = report.accounts.filter((a) => a.status === 'error').length;
  const notEnrolled = report.accounts.filter((a) => a.status === 'not-enrolled').length;
  const notEnabled = report.accounts.reduce((n, a) => n + a.notEnabled.length, 0);
  lines.push(
    '',
    `${plural(report.accounts.length, 'account')} x ${plural(report.regions.length, 'region')}, ${plural(trails, 'trail')}` +
      `${parts.length ? `: ${parts.join(', ')}` : ''}.` +
      `${report.compliant ? '' : ' NOT COMPLIANT.'}` +
      `${notEnrolled ? ` Coverage gap: ${plural(notEnrolled, 'account')} not enrolled.` : ''}` +
      `${notEnabled ? ` Coverage gap: ${plural(notEnabled, 'account-region')} not enabled.` : ''}` +
      `${unchecked ? ` ${plural(unchecked, 'account')} could not be checked.` : ''}` +
      `${report.preventive?.error ? ' The preventive SCP could not be read.' : ''}`,
  );
  return `${lines.join('\n')}\n`;
}

const STATUS: Record<Verdict, string> = {
  compliant: 'compliant',
  'non-compliant': 'NON-COMPLIANT',
  exempt: 'exempt',
  'not-ours': 'not ours',
};

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The human report: a table, then each trail's findings (or why it was not assessed), then a summary. */
export function formatCheckReport(report: CheckReport): string {
  const lines = [`Account ${report.accountId}, ${report.regions.join(', ')}:`, ''];
  if (report.trails.length === 0) {
    lines.push(`No trails in ${report.regions.join(', ')}.`);
    return `${lines.join('\n')}\n`;
  }
  lines.push(
    formatTable(
      ['TRAIL', 'REGION', 'HOME REGION', 'LOGGING', 'STATUS', 'FINDINGS'],
      report.trails.map((t) => [
        t.name,
        t.region,
        t.homeRegion,
        t.logging === null ? '-' : t.logging ? 'yes' : 'no',
        t.managedBy ? `${STATUS[t.verdict]} (managed by Control Tower)` : STATUS[t.verdict],
        t.findings.length > 0 ? t.findings.map((f) => f.code).join(', ') : '-',
      ]),
    ),
  );
  for (const t of report.trails) {
    if (t.verdict === 'compliant' && t.advice.length === 0 && !t.managedBy) continue;
    lines.push('', `${t.name} (${t.region}): ${STATUS[t.verdict]}, ${t.reason}`);
    if (t.managedBy) {
      lines.push(
        '  managed by Control Tower: trailguard never changes it; repair it through Control Tower (landing zone repair, or re-register the OU)',
      );
    }
    for (const f of t.findings) {
      lines.push(`  ${f.code}: ${f.message}${f.remediable ? '' : ' (needs a person)'}`);
    }
    for (const a of t.advice) lines.push(`  advice ${a.code}: ${a.message}`);
  }
  const count = (verdict: Verdict) => report.trails.filter((t) => t.verdict === verdict).length;
  const parts = (['non-compliant', 'compliant', 'exempt', 'not-ours'] as const)
    .filter((verdict) => count(verdict) > 0)
    .map((verdict) => `${count(verdict)} ${verdict === 'not-ours' ? 'not ours' : verdict}`);
  lines.push(
    '',
    `${plural(report.trails.length, 'trail')}: ${parts.join(', ')}.${report.compliant ? '' : ' NOT COMPLIANT.'}`,
  );
  return `${lines.join('\n')}\n`;
}

export function registerCheck(program: Command, io: CliIo): void {
  program
    .command('check')
    .description(
      'Assess every CloudTrail trail in the region(s), or one trail, for its CloudWatch Logs integration. Changes nothing.',
    )
    .option(
      '-r, --region <region>',
      "region to check; repeat or separate with commas (default: the SDK's AWS_REGION)",
      collectRegions,
      [],
    )
    .option('-t, --trail <name|arn>', "check only this trail (a trail ARN's region decides where)")
    .option('-c, --config <file>', 'JSON configuration file (validated; defaults apply)')
    .option(
      '--stack <name>',
      `a hub: the deployed hub stack whose StackSet's failed instances are listed (default ${DEFAULT_STACK_NAME} when AWS_ENDPOINT_URL is not set)`,
    )
    .option('--json', 'print one JSON document instead of the table')
    .addHelpText('after', EXIT_CODES_HELP)
    .addHelpText(
      'after',
      `\nWith a hub configuration (accounts, regions or hubRegion in --config) and no --trail: every guarded account\n(the caller's, then each other through its remediation role) x every guarded region (config.regions, else the\nenabled regions; --region narrows them), grouped by account. An account that cannot be checked is reported and\nmakes the exit code 3.`,
    )
    .action(async (options: CheckOptions, command: Command) => {
      const env = io.env ?? process.env;
      const config = options.config ? await loadConfigFile(options.config) : undefined;
      if (config && isHubCheck(config, options)) {
        const hub = await runHubCheck(options, { env }, config);
        // Against a deployed hub (no emulator, or --stack): its StackSet's failed instances are coverage gaps.
        const stackName = options.stack ?? (env.AWS_ENDPOINT_URL ? undefined : DEFAULT_STACK_NAME);
        if (stackName) {
          const gaps = await notEnrolledSpokes(createClients({ defaultRegion: hub.hubRegion }), stackName);
          for (const account of hub.accounts) {
            const mine = (gaps ?? []).filter(
              (g) => g.account === account.accountId && hub.regions.includes(g.region),
            );
            if (mine.length > 0) {
              account.spokesNotEnrolled = mine.map((g) => ({
                region: g.region,
                status: g.detailedStatus ?? g.status,
                reason: g.reason,
              }));
            }
          }
        }
        io.stdout.write(options.json ? `${JSON.stringify(hub, null, 2)}\n` : formatHubCheckReport(hub));
        setExitCode(command, hub.compliant ? EXIT.OK : EXIT.NOT_COMPLIANT);
        if (!hub.complete) setExitCode(command, EXIT.FAILED);
        return;
      }
      const result = await runCheck(options, { env });
      io.stdout.write(options.json ? `${JSON.stringify(result, null, 2)}\n` : formatCheckReport(result));
      setExitCode(command, result.compliant ? EXIT.OK : EXIT.NOT_COMPLIANT);
    });
}
