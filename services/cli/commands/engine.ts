/**
 * Where `replay` and `remediate` run the workflow: `local` (the synthesized state machine in process, against
 * whatever AWS_ENDPOINT_URL points to) or `deployed` (the stack's state machine in the account). By default
 * local when AWS_ENDPOINT_URL is set (an emulator cannot run the deployed Lambda tasks), deployed otherwise.
 */
import { type Command, Option } from 'commander';
import { DEFAULT_STACK_NAME } from '../../../infra/stack-name.js';
import { type CliIo, UsageError } from '../output.js';

export const ENGINES = ['local', 'deployed'] as const;
export type Engine = (typeof ENGINES)[number];

export interface EngineOptions {
  engine?: Engine;
  stack?: string;
}

/** Adds `--engine` and `--stack` to a command. */
export function addEngineOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--engine <engine>',
        "where the workflow runs: in process, or on the deployed stack's state machine (see below)",
      ).choices(ENGINES),
    )
    .option(
      '--stack <name>',
      `the deployed stack whose StateMachineArn output is the workflow (--engine deployed; default ${DEFAULT_STACK_NAME})`,
    );
}

export const ENGINE_HELP = `Engine: without AWS_ENDPOINT_URL the workflow runs on the deployed stack (--stack, in the trail's or event's
region) and this command waits for its execution; with AWS_ENDPOINT_URL it runs in process. --engine overrides.`;

/** A stack name, or a stack id (ARN), as DescribeStacks accepts them. */
const STACK_NAME =
  /^([A-Za-z][A-Za-z0-9-]{0,127}|arn:aws[\w-]*:cloudformation:[a-z0-9-]+:\d{12}:stack\/[A-Za-z][A-Za-z0-9-]{0,127}\/[\w-]+)$/;

/** The engine to use and, for `deployed`, the stack; UsageError for a combination that cannot be meant. */
export function chooseEngine(
  options: EngineOptions,
  io: CliIo,
): { engine: 'local' } | { engine: 'deployed'; stackName: string } {
  const endpoint = (io.env ?? process.env).AWS_ENDPOINT_URL;
  const engine: Engine = options.engine ?? (endpoint ? 'local' : 'deployed');
  if (engine === 'local') {
    if (options.stack !== undefined) {
      throw new UsageError(
        `--stack applies to --engine deployed; the engine is local${options.engine ? '' : ' because AWS_ENDPOINT_URL is set'}`,
      );
    }
    return { engine };
  }
  const stackName = options.stack ?? DEFAULT_STACK_NAME;
  if (!STACK_NAME.test(stackName)) {
    throw new UsageError(
      `--stack "${stackName}" is not a CloudFormation stack name (a letter, then letters, digits and -) or stack ARN`,
    );
  }
  return { engine, stackName };
}
