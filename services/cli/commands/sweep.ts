/**
 * `trailguard sweep`: the hub's scheduled sweep, run now: in process (the synthesized workflow, as `replay` runs
 * it locally; the engine when AWS_ENDPOINT_URL is set) or on the deployed stack (services/local/sweep-deployed.ts),
 * with the same report. Every trail of every guarded account and region is assessed, and the workflow runs for
 * each one that is not compliant. Without a hub configuration: the caller's account in the given regions.
 */
import type { Command } from 'commander';
import type { Config } from '../../../policies/config.js';
import { createClients, MissingRegionError } from '../../aws/clients.js';
import { DeployedStackError } from '../../aws/deployed-workflow.js';
import type { Outcome } from '../../domain/run-context.js';
import type { TargetStatus } from '../../domain/sweep.js';
import { isHubConfig } from '../../local/organization.js';
import {
  combined,
  OUTCOME_SEVERITY,
  outcomeCounts,
  type ReplayResult,
  type SweptTarget,
  sweepLocally,
} from '../../local/replay.js';
import { sweepDeployed } from '../../local/sweep-deployed.js';
import { type CliIo, EXIT, formatTable, type Output, setExitCode, UsageError } from '../output.js';
import { regionCollector } from '../regions.js';
import { loadConfigFile } from './check.js';
import { addEngineOptions, chooseEngine, type EngineOptions } from './engine.js';
import { failureLine, resultJson } from './workflow-output.js';

interface SweepOptions extends EngineOptions {
  config?: string;
  region: string[];
  json?: boolean;
}

/** An invalid --region value is a usage error (exit 2, reported by main() as one line). */
const collectRegions = regionCollector((message) => new UsageError(message));

/** What `sweep` found and did, everywhere it looked. */
export interface SweepReport {
  /** The most severe outcome of the runs (`compliant` when nothing needed a run). */
  outcome: Outcome;
  reason: string;
  /** The regions swept in every account. */
  regions: string[];
  /** Runs per outcome (every outcome, 0 when none). */
  counts: Record<Outcome, number>;
  /** Trails assessed, per verdict. */
  verdicts: Record<string, number>;
  /** Per account and region: the trails found (verdict, reason), the runs started, or why it was not swept. */
  targets: {
    account: string;
    region: string;
    trails: { trail: string; verdict: string; reason: string }[];
    started: number;
    /** swept, not-enrolled, not-enabled (coverage gaps: listed, not failures) or error. */
    status: TargetStatus;
    /** A coverage gap: why it was not swept. */
    reason?: string;
    error?: { name: string; message: string };
  }[];
  /** Every workflow run, with its account and region. */
  runs: Record<string, unknown>[];
}

/** One run for the report: where, what happened, what changed (not the state list). */
function runReport(run: ReplayResult): Record<string, unknown> {
  const { states: _states, runs: _runs, ...rest } = resultJson(run);
  return { account: run.account ?? null, region: run.region ?? null, ...rest };
}

export function sweepReport(result: ReplayResult): SweepReport {
  const targets: SweptTarget[] = result.targets ?? [];
  const runs = result.runs ?? [];
  const verdicts: Record<string, number> = {};
  for (const t of targets)
    for (const trail of t.trails) verdicts[trail.verdict] = (verdicts[trail.verdict] ?? 0) + 1;
  return {
    outcome: result.outcome === 'ignored' ? 'compliant' : result.outcome,
    reason: result.reason,
    regions: [...new Set(targets.map((t) => t.region))],
    counts: outcomeCounts(runs),
    verdicts,
    targets: targets.map((t) => ({
      account: t.account,
      region: t.region,
      trails: t.trails.map((trail) => ({ trail: trail.trail, verdict: trail.verdict, reason: trail.reason })),
      started: t.started,
      status: t.status,
      ...(t.status === 'not-enrolled' || t.status === 'not-enabled' ? { reason: t.reason ?? '' } : {}),
      ...(t.error ? { error: t.error } : {}),
    })),
    runs: runs.map(runReport),
  };
}

export function formatSweepReport(report: SweepReport, result: ReplayResult): string {
  const accounts = new Set(report.targets.map((t) => t.account));
  const lines = [
    `Sweep: ${accounts.size} account(s) x ${report.regions.length} region(s) (${report.regions.join(', ')})`,
  ];
  lines.push(
    '',
    formatTable(
      ['ACCOUNT', 'REGION', 'STATUS', 'TRAILS', 'NON-COMPLIANT', 'RUNS', 'ERROR'],
      report.targets.map((t) => [
        t.account,
        t.region,
        t.status,
        t.status !== 'swept' && t.trails.length === 0 ? '-' : String(t.trails.length),
        String(t.trails.filter((trail) => trail.verdict === 'non-compliant').length),
        String(t.started),
        t.error ? `${t.error.name}: ${t.error.message}` : (t.reason ?? ''),
      ]),
    ),
  );
  const runs = result.runs ?? [];
  if (runs.length > 0) {
    lines.push('', `runs: ${runs.length}`);
    for (const run of runs) {
      lines.push(
        `  - ${run.outcome}: ${run.trail ?? '-'} (account ${run.account ?? '-'}, ${run.region ?? '-'})`,
      );
      if (run.failure) lines.push(`    ${failureLine(run.failure)}`);
      else if (run.reason) lines.push(`    ${run.reason}`);
      if (run.findings.length > 0) lines.push(`    findings: ${run.findings.join(', ')}`);
      for (const a of run.actions) lines.push(`    change: ${a.step} ${a.api}: ${a.detail}`);
    }
  }
  const counts = OUTCOME_SEVERITY.filter((o) => report.counts[o] > 0).map((o) => `${report.counts[o]} ${o}`);
  const unswept = report.targets.filter((t) => t.status === 'error').length;
  const gap = (status: TargetStatus) => report.targets.filter((t) => t.status === status).length;
  const notEnrolled = gap('not-enrolled');
  const notEnabled = gap('not-enabled');
  lines.push(
    '',
    `outcome: ${report.outcome} (${runs.length} run(s)${counts.length ? `: ${counts.join(', ')}` : ''})` +
      `${notEnrolled ? `; coverage gap: ${notEnrolled} account-region(s) not enrolled` : ''}` +
      `${notEnabled ? `; coverage gap: ${notEnabled} account-region(s) not enabled` : ''}` +
      `${unswept ? `; ${unswept} account-region(s) could not be swept` : ''}`,
  );
  return `${lines.join('\n')}\n`;
}

/** The sweep of the caller's account in each region (no hub configuration), as one result. */
async function sweepRegions(regions: string[], config: Config | undefined): Promise<ReplayResult> {
  const results: ReplayResult[] = [];
  for (const region of regions) {
    const clients = createClients({ defaultRegion: region });
    results.push(await sweepLocally({ clients, region, ...(config ? { config } : {}) }));
  }
  const runs = results.flatMap((r) => r.runs ?? []);
  return {
    ...combined(results.map((r) => r.reason).join('; '), runs),
    targets: results.flatMap((r) => r.targets ?? []),
  };
}

export function registerSweep(program: Command, io: CliIo): void {
  const command = program
    .command('sweep')
    .description(
      'Run the sweep now, in process or on the deployed stack (--engine): assess every trail of every guarded account and region, and run the workflow for each one that is not compliant.',
    )
    .option(
      '--config <file>',
      'JSON configuration file (accounts, regions, hubRegion: the hub and what it guards)',
    )
    .option(
      '-r, --region <region>',
      "without a hub configuration: region to sweep; repeat or separate with commas (default: the SDK's AWS_REGION)",
      collectRegions,
      [],
    )
    .option('--json', 'print one JSON document: each run with its outcome, and counts per outcome');
  addEngineOptions(command)
    .addHelpText(
      'after',
      `
With a hub configuration (accounts, regions or hubRegion in --config): every guarded account (the caller's, and
each other one through its remediation role) x every guarded region (config.regions, else the enabled regions);
the workflow, topic and audit table are the hub's (the caller's account, hubRegion or AWS_REGION). With
accounts, the organization sweep's synthesized state machine runs (ListTargets, then a Map of SweepTarget), its
tasks handled by the sweep function's core. Runs in process against whatever AWS_ENDPOINT_URL points to (the
deployed hub runs the same sweep on its schedule).

Engine: without AWS_ENDPOINT_URL the sweep runs on the deployed stack (--stack, default Trailguard, in the hub
region: config.hubRegion, else --region, else AWS_REGION): its organization sweep (a hub, or a single account with
regions) or, for a single account in one region, the sweep here with the runs on the stack's state machine; the
command waits for every run. With AWS_ENDPOINT_URL it runs in process. --engine overrides.

Outcomes of runs: remediated, compliant, skipped, notified, failed.
Each account x region has a status: swept; not-enrolled (no spoke there: its role cannot be assumed, or locally
does not exist) or not-enabled (the region is not enabled in that account), coverage gaps listed but not failures;
or error.
Exit codes: 0 no run failed and every account-region was swept or is a coverage gap; 1 some run failed; 2 usage
or configuration error; 3 some account or region could not be swept (status error; the others were swept).`,
    )
    .action(async (options: SweepOptions, command: Command) => {
      const env = io.env ?? process.env;
      const config = options.config ? await loadConfigFile(options.config) : undefined;
      const envRegion = env.AWS_REGION || env.AWS_DEFAULT_REGION;
      let result: ReplayResult;
      const engine = chooseEngine(options, io);
      if (engine.engine === 'deployed') {
        if (options.region.length > 1) {
          throw new UsageError(
            "--engine deployed sweeps what the stack guards: give at most one --region (the stack's)",
          );
        }
        const region = config?.hubRegion ?? options.region[0] ?? envRegion ?? config?.regions?.[0];
        if (!region) {
          throw new MissingRegionError(
            'no region for the deployed stack: set hubRegion in the configuration, pass --region or set AWS_REGION',
          );
        }
        try {
          result = await sweepDeployed({
            clients: createClients({ defaultRegion: region }),
            stackName: engine.stackName,
            ...(config ? { config } : {}),
          });
        } catch (error) {
          if (error instanceof DeployedStackError) throw new UsageError(error.message, { cause: error });
          throw error;
        }
      } else if (config && isHubConfig(config)) {
        if (options.region.length > 0) {
          throw new UsageError(
            '--region applies without a hub configuration; the configuration decides the regions (set "regions")',
          );
        }
        const hubRegion = config.hubRegion ?? envRegion ?? config.regions?.[0];
        if (!hubRegion) {
          throw new MissingRegionError(
            'no hub region: set hubRegion in the configuration, or AWS_REGION (or AWS_DEFAULT_REGION)',
          );
        }
        result = await sweepLocally({ clients: createClients({ defaultRegion: hubRegion }), config });
      } else {
        const regions = options.region.length > 0 ? options.region : envRegion ? [envRegion] : [];
        if (regions.length === 0) {
          throw new MissingRegionError(
            'no AWS region: pass --region or set AWS_REGION (or AWS_DEFAULT_REGION)',
          );
        }
        result = await sweepRegions(regions, config);
      }
      const report = sweepReport(result);
      print(io.stdout, report, result, options.json === true);
      setExitCode(command, report.counts.failed > 0 ? EXIT.NOT_COMPLIANT : EXIT.OK);
      if (report.targets.some((t) => t.status === 'error')) setExitCode(command, EXIT.FAILED);
    });
}

function print(out: Output, report: SweepReport, result: ReplayResult, json: boolean): void {
  out.write(json ? `${JSON.stringify(report)}\n` : formatSweepReport(report, result));
}
