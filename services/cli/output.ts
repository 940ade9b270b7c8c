/**
 * What the `trailguard` command writes and how it ends: the io it writes to, the exit codes, the one line an
 * error becomes on stderr, and plain-text tables. Shared by every command under ./commands/.
 */
import type { Command } from 'commander';
import { ConfigError } from '../../policies/config.js';
import { MissingRegionError } from '../aws/clients.js';
import { awsErrorName, InvalidInputError, TrailNotFoundError } from '../domain/errors.js';

/** Anything with `write`, e.g. process.stdout or a test's collector. */
export interface Output {
  write(chunk: string): unknown;
}

export interface CliIo {
  stdout: Output;
  stderr: Output;
  /** The environment to read settings from (AWS_REGION, AWS_DEFAULT_REGION, TRAILGUARD_DEBUG); default process.env. */
  env?: Record<string, string | undefined>;
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}

export const EXIT = {
  /** Everything checked is fine (compliant, exempt or not ours). */
  OK: 0,
  /** At least one trail owned here is not compliant. */
  NOT_COMPLIANT: 1,
  /** Usage, configuration, missing region or credentials, or a trail that does not exist. */
  USAGE: 2,
  /** The command could not finish: an AWS call failed for another reason. */
  FAILED: 3,
} as const;

export const EXIT_CODES_HELP = `
Exit codes:
  0  every trail owned here is compliant (exempt and not-ours trails count as fine)
  1  at least one trail is not compliant
  2  usage or configuration error, no region, no usable credentials, or no such trail
  3  the check could not be completed (an AWS call failed)`;

/** A command line that cannot be carried out as given. Exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

const exitCodes = new WeakMap<Command, number>();

function rootOf(command: Command): Command {
  let root = command;
  while (root.parent) root = root.parent;
  return root;
}

/** Records a command's exit code; main() returns the highest one recorded. */
export function setExitCode(command: Command, code: number): void {
  const root = rootOf(command);
  exitCodes.set(root, Math.max(exitCodes.get(root) ?? EXIT.OK, code));
}

export function exitCodeOf(program: Command): number {
  return exitCodes.get(program) ?? EXIT.OK;
}

/** AWS error names that mean "these credentials cannot be used here": fix the credentials, not the trail. */
const CREDENTIAL_ERRORS = new Set([
  'CredentialsProviderError',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'InvalidSignatureException',
  'TokenRefreshRequired',
]);
const ACCESS_DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation']);

/** The error and its causes, outermost first. */
function chainOf(error: unknown): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = error;
  while (current && chain.length < 10 && !chain.includes(current)) {
    chain.push(current);
    current = current instanceof Error ? current.cause : undefined;
  }
  return chain;
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

/** Collapses a message to one line. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** The exit code and the single stderr line for an error that ended a command. */
export function describeFailure(error: unknown): { exitCode: number; line: string } {
  const chain = chainOf(error);
  const named = (names: ReadonlySet<string>) =>
    chain.find((e) => {
      const name = awsErrorName(e);
      return name !== undefined && names.has(name);
    });
  const fail = (exitCode: number, text: string) => ({ exitCode, line: `trailguard: ${oneLine(text)}` });

  if (error instanceof ConfigError)
    return fail(EXIT.USAGE, `invalid configuration: ${error.problems.join('; ')}`);
  if (
    error instanceof UsageError ||
    error instanceof InvalidInputError ||
    error instanceof MissingRegionError ||
    error instanceof TrailNotFoundError
  )
    return fail(EXIT.USAGE, messageOf(error));
  const credential = named(CREDENTIAL_ERRORS);
  if (credential) {
    const detail = `${awsErrorName(credential)}: ${messageOf(credential)}`;
    return awsErrorName(credential) === 'CredentialsProviderError'
      ? fail(
          EXIT.USAGE,
          `no AWS credentials found (${detail}); configure them, e.g. AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`,
        )
      : fail(EXIT.USAGE, `AWS rejected the credentials (${detail}); refresh or replace them`);
  }
  const denied = named(ACCESS_DENIED);
  if (denied) return fail(EXIT.USAGE, `access denied: ${messageOf(error)}`);
  return fail(EXIT.FAILED, messageOf(error));
}

/** A plain-text table: columns padded to their widest cell, two spaces apart, the last column unpadded. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    headers
      .map((_, i) => {
        const cell = cells[i] ?? '';
        return i === headers.length - 1 ? cell : cell.padEnd(widths[i] ?? 0);
      })
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}
