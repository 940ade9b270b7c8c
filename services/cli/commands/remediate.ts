/**
 * `trailguard remediate --trail NAME|ARN`: runs the same workflow for one trail without an event (e.g. right
 * after deploying). `--dry-run` only reads: it prints the findings and the changes the workflow would make.
 */
import type { Command } from 'commander';
import { parseConfig } from '../../../policies/config.js';
import { type AwsClients, createClients, resolveDefaultRegion } from '../../aws/clients.js';
import { readAccountId, readTrailState } from '../../aws/trail-reader.js';
import { assess } from '../../domain/assess.js';
import { trailRef } from '../../domain/events.js';
import { planChanges } from '../../domain/plan.js';
import { remediateTrail } from '../../local/replay.js';
import { type CliIo, EXIT, setExitCode } from '../output.js';
import { loadConfigFile } from './check.js';
import { printResult } from './workflow-output.js';

interface RemediateOptions {
  trail: string;
  region?: string;
  dryRun?: boolean;
  json?: boolean;
  config?: string;
}

async function dryRun(clients: AwsClients, options: RemediateOptions, io: CliIo, configFile?: string) {
  const config = configFile ? await loadConfigFile(configFile) : parseConfig({});
  const ref = trailRef(options.trail, clients.defaultRegion);
  const account = await readAccountId(clients);
  const state = await readTrailState(clients, ref, account);
  const assessment = assess(state, config);
  const plan = planChanges(state, assessment, config);
  if (options.json) {
    io.stdout.write(
      `${JSON.stringify({ dryRun: true, trail: state.trail.trailArn, verdict: assessment.verdict, reason: assessment.reason, findings: assessment.findings.map((f) => f.code), plan })}\n`,
    );
    return assessment.verdict === 'non-compliant' ? EXIT.NOT_COMPLIANT : EXIT.OK;
  }
  const lines = [
    `trail:    ${state.trail.trailArn}`,
    `verdict:  ${assessment.verdict} (${assessment.reason})`,
  ];
  for (const f of assessment.findings) lines.push(`  - ${f.code}: ${f.message}`);
  lines.push(plan.length ? 'would change (dry run, nothing changed):' : 'would change nothing.');
  for (const p of plan) lines.push(`  - ${p.step} ${p.api}: ${p.detail}`);
  io.stdout.write(`${lines.join('\n')}\n`);
  return assessment.verdict === 'non-compliant' ? EXIT.NOT_COMPLIANT : EXIT.OK;
}

export function registerRemediate(program: Command, io: CliIo): void {
  program
    .command('remediate')
    .description('Run the remediation workflow for one trail now, without an event.')
    .requiredOption('--trail <name-or-arn>', 'the trail, by name or ARN (an ARN decides the region)')
    .option('--region <region>', "region of a trail given by name (default: the SDK's region)")
    .option('--dry-run', 'print the findings and planned changes; change nothing')
    .option('--config <file>', 'JSON configuration file (see policies/config.ts)')
    .option('--json', 'print one JSON object (the last line of stdout)')
    .addHelpText(
      'after',
      '\nExit codes: 0 done (any outcome but failed; dry run: compliant); 1 failed (dry run: changes needed); 2 usage.',
    )
    .action(async (options: RemediateOptions, command: Command) => {
      const region = resolveDefaultRegion(options.region ?? io.env?.AWS_REGION ?? io.env?.AWS_DEFAULT_REGION);
      const clients = createClients({ defaultRegion: region });
      if (options.dryRun) {
        setExitCode(command, await dryRun(clients, options, io, options.config));
        return;
      }
      const config = options.config ? await loadConfigFile(options.config) : undefined;
      const ref = trailRef(options.trail, region);
      const result = await remediateTrail(ref.id, ref.region, {
        clients,
        region: ref.region,
        ...(config ? { config } : {}),
        requestedBy: 'trailguard remediate (CLI)',
      });
      printResult(io.stdout, result, options.json === true);
      setExitCode(command, result.outcome === 'failed' ? EXIT.NOT_COMPLIANT : EXIT.OK);
    });
}
