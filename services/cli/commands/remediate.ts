/**
 * `trailguard remediate --trail NAME|ARN`: runs the same workflow for one trail without an event (e.g. right
 * after deploying): in process (`--engine local`, the default with AWS_ENDPOINT_URL) or as an execution of the
 * deployed stack's state machine in the trail's region (`--engine deployed`, the default otherwise). `--dry-run`
 * only reads: it prints the findings and the changes the workflow would make.
 */
import type { Command } from 'commander';
import { parseConfig } from '../../../policies/config.js';
import { type AwsClients, createClients, resolveDefaultRegion } from '../../aws/clients.js';
import { readAccountId, readTrailState } from '../../aws/trail-reader.js';
import { assess } from '../../domain/assess.js';
import { trailRef } from '../../domain/events.js';
import { planChanges } from '../../domain/plan.js';
import { type ReplayResult, remediateTrail } from '../../local/replay.js';
import { workflowRegion } from '../../local/workflow-runner.js';
import { type CliIo, EXIT, setExitCode, UsageError } from '../output.js';
import { alarmTopicOf, loadConfigFile } from './check.js';
import { addEngineOptions, chooseEngine, ENGINE_HELP, type EngineOptions } from './engine.js';
import { printResult } from './workflow-output.js';

interface RemediateOptions extends EngineOptions {
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
  const state = await readTrailState(clients, ref, account, { monitoring: config.cisMonitoring });
  const assessment = assess(state, config, { cisAlarmTopicArn: alarmTopicOf(state, config) });
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
  const command = program
    .command('remediate')
    .description('Run the remediation workflow for one trail now, without an event.')
    .requiredOption('--trail <name-or-arn>', 'the trail, by name or ARN (an ARN decides the region)')
    .option('--region <region>', "region of a trail given by name (default: the SDK's region)")
    .option('--dry-run', 'print the findings and planned changes; change nothing')
    .option('--config <file>', 'JSON configuration file (see policies/config.ts)')
    .option('--json', 'print one JSON object (the last line of stdout)');
  addEngineOptions(command)
    .addHelpText(
      'after',
      `\nA failed run names the step that failed, its error and message. --dry-run reads the trail from here, whatever the engine.\n\n${ENGINE_HELP}\n\nExit codes: 0 done (any outcome but failed; dry run: compliant); 1 failed (dry run: changes needed); 2 usage or no such stack.`,
    )
    .action(async (options: RemediateOptions, command: Command) => {
      const engine = chooseEngine(options, io);
      const region = resolveDefaultRegion(options.region ?? io.env?.AWS_REGION ?? io.env?.AWS_DEFAULT_REGION);
      const clients = createClients({ defaultRegion: region });
      if (options.dryRun) {
        setExitCode(command, await dryRun(clients, options, io, options.config));
        return;
      }
      const config = options.config ? await loadConfigFile(options.config) : undefined;
      const ref = trailRef(options.trail, region);
      const request = { ...(config ? { config } : {}), requestedBy: 'trailguard remediate (CLI)' };
      let result: ReplayResult;
      if (engine.engine === 'local') {
        // A hub configuration runs the workflow in the hub's region, whatever the trail's.
        const hubRegion = config ? workflowRegion(config, { region: ref.region }) : undefined;
        const local =
          hubRegion && hubRegion !== region ? createClients({ defaultRegion: hubRegion }) : clients;
        result = await remediateTrail(ref.id, ref.region, {
          ...request,
          clients: local,
          region: hubRegion ?? ref.region,
        });
      } else {
        // Loaded only here: the local engine never needs CloudFormation. The stack guarding a trail is the
        // one in the trail's home region.
        const deployed = await import('../../local/replay-deployed.js');
        try {
          result = await deployed.remediateTrailDeployed(ref.id, ref.region, {
            ...request,
            clients: ref.region === region ? clients : createClients({ defaultRegion: ref.region }),
            stackName: engine.stackName,
          });
        } catch (error) {
          if (error instanceof deployed.DeployedStackError)
            throw new UsageError(error.message, { cause: error });
          throw error;
        }
      }
      printResult(io.stdout, result, options.json === true);
      setExitCode(command, result.outcome === 'failed' ? EXIT.NOT_COMPLIANT : EXIT.OK);
    });
}
