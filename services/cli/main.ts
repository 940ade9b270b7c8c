/**
 * The `trailguard` command line. Each subcommand lives in its own file under ./commands/ and registers itself
 * on the program; this file only builds the program, maps errors to one stderr line and an exit code, and
 * returns that code (it never calls process.exit, so tests run it in-process).
 */
import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { registerAudit } from './commands/audit.js';
import { registerCheck } from './commands/check.js';
import { registerLocalSetup } from './commands/local-setup.js';
import { registerRemediate } from './commands/remediate.js';
import { registerReplay } from './commands/replay.js';
import { registerSelftest } from './commands/selftest.js';
import { registerSpokes } from './commands/spokes.js';
import { registerSweep } from './commands/sweep.js';
import { registerUninstall } from './commands/uninstall.js';
import {
  type CliIo,
  describeFailure,
  EXIT,
  EXIT_CODES_HELP,
  exitCodeOf,
  oneLine,
  processIo,
} from './output.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

/** Commander's error text ("error: unknown option '--x'\n(Did you mean --y?)") as our one stderr line. */
function usageLine(text: string): string {
  return `trailguard: ${oneLine(text).replace(/^error: /, '')}; see 'trailguard --help'`;
}

export function buildProgram(io: CliIo): Command {
  const program = new Command('trailguard')
    .description(
      'Keeps every AWS CloudTrail trail integrated with CloudWatch Logs (CIS, Security Hub CloudTrail.5).',
    )
    .version(version, '-V, --version')
    // Settings below are copied to every subcommand created afterwards with program.command(...).
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(`${usageLine(text)}\n`),
    })
    .showSuggestionAfterError(true)
    .addHelpText('after', EXIT_CODES_HELP);

  registerCheck(program, io);
  registerLocalSetup(program, io);
  registerReplay(program, io);
  registerRemediate(program, io);
  registerSweep(program, io);
  registerAudit(program, io);
  registerSelftest(program, io);
  registerSpokes(program, io);
  registerUninstall(program, io);
  // ── More commands register here, one file each under ./commands/, same shape:
  //      import { registerXxx } from './commands/xxx.js';   registerXxx(program, io);
  //    Create them with program.command(...) (so they inherit exitOverride and the output settings), write to
  //    io.stdout / io.stderr only, record the exit code with setExitCode(command, code) from ../output.js, and
  //    throw named errors (UsageError, ConfigError, TrailNotFoundError, ...): main() turns them into one line.

  return program;
}

/**
 * Runs the command line given as user arguments (process.argv.slice(2), without node and the script) and
 * returns the exit code: 0 fine, 1 not compliant, 2 usage/config/credentials/not found, 3 could not complete.
 */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  if (argv.length === 0) {
    io.stderr.write("trailguard: missing command; see 'trailguard --help'\n");
    return EXIT.USAGE;
  }
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCodeOf(program);
  } catch (error) {
    // Help and --version end with code 0; commander's usage errors (its code 1) are our 2. Either way
    // commander has already written what it had to say.
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    const failure = describeFailure(error);
    io.stderr.write(`${failure.line}\n`);
    if ((io.env ?? process.env).TRAILGUARD_DEBUG && error instanceof Error && error.stack) {
      io.stderr.write(`${error.stack}\n`);
    }
    return failure.exitCode;
  }
}
