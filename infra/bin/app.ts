/**
 * The CDK app entry (`cdk.json`: `npx tsx infra/bin/app.ts`).
 *
 * Context: `notificationEmail` (optional) and the configuration (optional; see policies/config.ts), either
 * `configFile` (the path of a JSON file: the same file the CLI's `--config` takes) or `config` (a JSON object,
 * or a string on the command line; a `-c config=...` override replaces the whole configuration), e.g.
 *   npx cdk deploy -c notificationEmail=security@example.com -c configFile=trailguard.json
 * With `accounts` in the configuration the app has two stacks, the hub (`Trailguard`) and the spoke
 * (`TrailguardSpoke`, for the management account); `-c spokeStackSet=false` leaves the hub's StackSet out
 * (docs/deploy.md).
 *
 * Before synthesizing, the deployed stack of the same name is looked up: a deploy that would remove a hub's
 * StackSet refuses unless `allowSpokeRemoval` (infra/spoke-removal-guard.ts).
 */
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { ConfigError } from '../../policies/config.js';
import { createClients } from '../../services/aws/clients.js';
import { buildApp } from '../app.js';
import {
  cloudFormationOutputs,
  guardSpokeRemoval,
  SpokeRemovalError,
  StackLookupUnavailableError,
} from '../spoke-removal-guard.js';

function contextConfig(value: unknown): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  const parsed = typeof value === 'string' ? safeJson(value) : value;
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(['context "config": must be a JSON object']);
  }
  return parsed as Record<string, unknown>;
}

/** The configuration from `config` or `configFile` (not both: which one would win is not obvious). */
function configOf(inline: unknown, file: unknown): Record<string, unknown> | undefined {
  if (file === undefined) return contextConfig(inline);
  if (inline !== undefined) {
    throw new ConfigError(['context: give "config" or "configFile", not both']);
  }
  if (typeof file !== 'string' || file === '') {
    throw new ConfigError(['context "configFile": must be the path of a JSON file']);
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`context "configFile": cannot read ${file} (${(error as Error).message})`], {
      cause: error,
    });
  }
  return contextConfig(text);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError([`context "config": not valid JSON (${(error as Error).message})`], {
      cause: error,
    });
  }
}

function contextBoolean(name: string, value: unknown): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new ConfigError([`context "${name}": must be true or false`]);
}

/** Builds the app from the CDK context, checks the deployed stack, synthesizes. */
async function run(): Promise<void> {
  // Context given on the command line reaches the app through the environment; read it with a throwaway App
  // (that must not synthesize itself at exit, or its empty assembly would replace the real one).
  const probe = new App({ autoSynth: false });
  const email = probe.node.tryGetContext('notificationEmail') as unknown;
  const config = configOf(probe.node.tryGetContext('config'), probe.node.tryGetContext('configFile'));
  if (email !== undefined && typeof email !== 'string') {
    throw new ConfigError(['context "notificationEmail": must be a string']);
  }
  const spokeStackSet = contextBoolean('spokeStackSet', probe.node.tryGetContext('spokeStackSet'));

  const built = buildApp({
    ...(config ? { config } : {}),
    ...(email ? { notificationEmail: email } : {}),
    ...(spokeStackSet !== undefined ? { spokeStackSet } : {}),
  });
  try {
    // CDK_DEFAULT_REGION: the region the CDK CLI resolved (profile, AWS_REGION), where an unpinned stack deploys.
    await guardSpokeRemoval(
      built,
      cloudFormationOutputs((region) => createClients({ defaultRegion: region })),
      process.env.CDK_DEFAULT_REGION ?? process.env.AWS_REGION,
    );
  } catch (error) {
    if (!(error instanceof StackLookupUnavailableError)) throw error;
    process.stderr.write(
      `trailguard: ${error.message}; the check that this deploy keeps a deployed hub's StackSet is skipped (the StackSet is retained anyway)\n`,
    );
  }
  built.app.synth();
}

// A configuration problem or a refused deploy: its lines on stderr, no stack trace, and synth fails.
try {
  await run();
} catch (error) {
  if (!(error instanceof ConfigError || error instanceof SpokeRemovalError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exitCode = 1;
}
