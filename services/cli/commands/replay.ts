/**
 * `trailguard replay EVENT.json`: applies the stack's EventBridge rules to a CloudTrail event, then runs the
 * workflow for it: for the trail it names (trail rule), or once per trail using the log group or role it
 * changed (dependency rule; the result lists each run). The workflow runs in process (the synthesized state
 * machine, `--engine local`, the default with AWS_ENDPOINT_URL) or on the deployed stack's state machine
 * (`--engine deployed`, the default otherwise). Bad input changes nothing.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { Config } from '../../../policies/config.js';
import { createClients } from '../../aws/clients.js';
import { isHubConfig } from '../../local/organization.js';
import {
  eventRegion,
  parseEventText,
  type ReplayEvent,
  type ReplayResult,
  replayEvent,
} from '../../local/replay.js';
import { type CliIo, EXIT, type Output, setExitCode, UsageError } from '../output.js';
import { loadConfigFile } from './check.js';
import { addEngineOptions, chooseEngine, ENGINE_HELP, type EngineOptions } from './engine.js';
import { printResult, resultJson } from './workflow-output.js';

interface ReplayOptions extends EngineOptions {
  ownRoleArn?: string;
  config?: string;
  json?: boolean;
}

export function registerReplay(program: Command, io: CliIo): void {
  const command = program
    .command('replay')
    .description(
      "Replay a CloudTrail event (EventBridge's shape) through the stack's rules and the remediation workflow.",
    )
    .argument(
      '<event-file>',
      'JSON file holding one CloudTrail event, or one Security Hub "Findings - Imported" event, as EventBridge delivers it',
    )
    .option('--own-role-arn <arn>', "the guardrail's own role, which the rule excludes")
    .option('--config <file>', 'JSON configuration file (see policies/config.ts)')
    .option('--json', 'end with one JSON object on the last line of stdout');
  addEngineOptions(command)
    .addHelpText(
      'after',
      `\nOutcomes: remediated, compliant, skipped, notified, failed, ignored.\nWith a hub configuration (accounts, regions or hubRegion in --config) the workflow, topic and audit table are the hub's (the caller's account, hubRegion or AWS_REGION), and the run acts in the event's account through its remediation role: an event from an account the hub does not guard is skipped (nothing runs), one whose role cannot be assumed is failed. An IAM change is fanned out to the account's trails in every guarded region.\nA log group deletion or a delivery-role change runs the workflow once per trail using it: the outcome is the most severe of those runs, each listed under "runs".\nA failed run names the step that failed, its error and message.\n\n${ENGINE_HELP}\n\nExit codes: 0 any outcome but failed; 1 failed; 2 bad input or no such stack (nothing touched).`,
    )
    .action(async (file: string, options: ReplayOptions, command: Command) => {
      const engine = chooseEngine(options, io);
      if (
        options.ownRoleArn !== undefined &&
        !/^arn:aws[\w-]*:iam::\d{12}:role\/.+$/.test(options.ownRoleArn)
      ) {
        throw new UsageError(`--own-role-arn "${options.ownRoleArn}" is not an IAM role ARN`);
      }
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (error) {
        throw new UsageError(`cannot read ${file}: ${(error as Error).message}`, { cause: error });
      }
      const event = parseEventText(text, file);
      const config = options.config ? await loadConfigFile(options.config) : undefined;
      const clients = createClients({ defaultRegion: workflowRegionOf(config, event, io) });
      const common = {
        clients,
        ...(config ? { config } : {}),
        ...(options.ownRoleArn ? { ownRoleArn: options.ownRoleArn } : {}),
      };
      let result: ReplayResult;
      if (engine.engine === 'local') {
        const env = io.env ?? process.env;
        const stackRegion = env.AWS_REGION || env.AWS_DEFAULT_REGION;
        result = await replayEvent(event, {
          ...common,
          region: clients.defaultRegion,
          ...(stackRegion ? { stackRegion } : {}),
        });
      } else {
        // Loaded only here: the local engine never needs CloudFormation.
        const deployed = await import('../../local/replay-deployed.js');
        try {
          // The event as the file holds it: exactly what EventBridge would pass the state machine.
          result = await deployed.replayEventDeployed(JSON.parse(text) as unknown, {
            ...common,
            stackName: engine.stackName,
          });
        } catch (error) {
          if (error instanceof deployed.DeployedStackError)
            throw new UsageError(error.message, { cause: error });
          throw error;
        }
      }
      printWithWhere(io.stdout, result, event, options.json === true);
      setExitCode(command, result.outcome === 'failed' ? EXIT.NOT_COMPLIANT : EXIT.OK);
    });
}

/**
 * Where the workflow (topic, tables) lives: a hub configuration's hub region (hubRegion, else the CLI's
 * region, else the event's); otherwise the event's region, as before.
 */
function workflowRegionOf(config: Config | undefined, event: ReplayEvent, io: CliIo): string {
  if (!config || !isHubConfig(config)) return eventRegion(event);
  const env = io.env ?? process.env;
  return config.hubRegion ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? eventRegion(event);
}

/** The result, with the account and region of the event (and of each run), as text or one JSON line. */
function printWithWhere(out: Output, result: ReplayResult, event: ReplayEvent, json: boolean): void {
  const account = result.account ?? event.account;
  const region = result.region ?? eventRegion(event);
  if (!json) {
    out.write(`account:  ${account}\nregion:   ${region}\n`);
    printResult(out, result, false);
    return;
  }
  const { outcome, runs, ...rest } = resultJson(result);
  const withWhere = Array.isArray(runs)
    ? {
        runs: (runs as Record<string, unknown>[]).map((run, i) => ({
          ...run,
          account: result.runs?.[i]?.account ?? account,
          region: result.runs?.[i]?.region ?? region,
        })),
      }
    : {};
  out.write(`${JSON.stringify({ outcome, account, region, ...rest, ...withWhere })}\n`);
}
