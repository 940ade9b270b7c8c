/**
 * `trailguard replay EVENT.json`: applies the stack's EventBridge rules to a CloudTrail event, then runs the
 * synthesized workflow for it against AWS_ENDPOINT_URL (or real AWS): for the trail it names (trail rule), or
 * once per trail using the log group or role it changed (dependency rule; the result lists each run). Bad
 * input changes nothing.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { createClients } from '../../aws/clients.js';
import { parseEventText, replayEvent } from '../../local/replay.js';
import { type CliIo, EXIT, setExitCode, UsageError } from '../output.js';
import { loadConfigFile } from './check.js';
import { printResult } from './workflow-output.js';

export function registerReplay(program: Command, io: CliIo): void {
  program
    .command('replay')
    .description(
      "Replay a CloudTrail event (EventBridge's shape) through the stack's rules and the remediation workflow.",
    )
    .argument('<event-file>', 'JSON file holding one CloudTrail event as EventBridge delivers it')
    .option('--own-role-arn <arn>', "the guardrail's own role, which the rule excludes")
    .option('--config <file>', 'JSON configuration file (see policies/config.ts)')
    .option('--json', 'end with one JSON object on the last line of stdout')
    .addHelpText(
      'after',
      '\nOutcomes: remediated, compliant, skipped, notified, failed, ignored.\nA log group deletion or a delivery-role change runs the workflow once per trail using it: the outcome is the most severe of those runs, each listed under "runs".\nExit codes: 0 any outcome but failed; 1 failed; 2 bad input (nothing touched).',
    )
    .action(
      async (
        file: string,
        options: { ownRoleArn?: string; config?: string; json?: boolean },
        command: Command,
      ) => {
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
        const clients = createClients({ defaultRegion: event.detail.awsRegion });
        const result = await replayEvent(event, {
          clients,
          region: clients.defaultRegion,
          ...(config ? { config } : {}),
          ...(options.ownRoleArn ? { ownRoleArn: options.ownRoleArn } : {}),
        });
        printResult(io.stdout, result, options.json === true);
        setExitCode(command, result.outcome === 'failed' ? EXIT.NOT_COMPLIANT : EXIT.OK);
      },
    );
}
