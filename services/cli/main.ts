/**
 * The `trailguard` command line. Each subcommand lives in its own file under ./commands/ and registers itself
 * on the program; this file only builds the program, maps errors to one stderr line and an exit code, and
 * returns that code (it never calls process.exit, so tests run it in-process).
 */
import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
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

type Register = (program: Command, io: CliIo) => void;

/**
 * Every subcommand, in the order `--help` lists them, loaded on demand: a command's module imports what it runs
 * (the local workflow engine, the SDK clients, the synthesizer), so a process loads only the command it was given
 * (docs/architecture.md "Cold starts": the CLI's start is most of its time).
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  check: async () => (await import('./commands/check.js')).registerCheck,
  'local-setup': async () => (await import('./commands/local-setup.js')).registerLocalSetup,
  replay: async () => (await import('./commands/replay.js')).registerReplay,
  remediate: async () => (await import('./commands/remediate.js')).registerRemediate,
  sweep: async () => (await import('./commands/sweep.js')).registerSweep,
  audit: async () => (await import('./commands/audit.js')).registerAudit,
  selftest: async () => (await import('./commands/selftest.js')).registerSelftest,
  spokes: async () => (await import('./commands/spokes.js')).registerSpokes,
  uninstall: async () => (await import('./commands/uninstall.js')).registerUninstall,
};

/** The commands to load for `argv`: the one it names, or all (help, --version, a mistyped command's suggestion). */
export function commandsFor(argv: readonly string[]): string[] {
  const first = argv[0];
  return first !== undefined && Object.hasOwn(COMMANDS, first) ? [first] : Object.keys(COMMANDS);
}

/** Commander's error text ("error: unknown option '--x'\n(Did you mean --y?)") as our one stderr line. */
function usageLine(text: string): string {
  return `trailguard: ${oneLine(text).replace(/^error: /, '')}; see 'trailguard --help'`;
}

export async function buildProgram(
  io: CliIo,
  commands: readonly string[] = Object.keys(COMMANDS),
): Promise<Command> {
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

  const registers = await Promise.all(
    Object.keys(COMMANDS)
      .filter((name) => commands.includes(name))
      .map((name) => (COMMANDS[name] as () => Promise<Register>)()),
  );
  for (const register of registers) register(program, io);
  // ── More commands register in COMMANDS above, one file each under ./commands/, same shape:
  //      xxx: async () => (await import('./commands/xxx.js')).registerXxx,
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
  const program = await buildProgram(io, commandsFor(argv));
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
