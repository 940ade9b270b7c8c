/**
 * The CDK app entry (`cdk.json`: `npx tsx infra/bin/app.ts`).
 *
 * Context: `notificationEmail` (optional) and `config` (optional, a JSON object or string with the
 * configuration; see policies/config.ts), e.g.
 *   npx cdk deploy -c notificationEmail=security@example.com -c config='{"mode":"notify-only"}'
 * With `accounts` in the configuration the app has two stacks, the hub (`Trailguard`) and the spoke
 * (`TrailguardSpoke`, for the management account); `-c spokeStackSet=false` leaves the hub's StackSet out
 * (docs/deploy.md).
 */
import { App } from 'aws-cdk-lib';
import { ConfigError } from '../../policies/config.js';
import { buildApp } from '../app.js';

function contextConfig(value: unknown): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  const parsed = typeof value === 'string' ? safeJson(value) : value;
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(['context "config": must be a JSON object']);
  }
  return parsed as Record<string, unknown>;
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

// Context given on the command line reaches the app through the environment; read it with a throwaway App
// (that must not synthesize itself at exit, or its empty assembly would replace the real one).
const probe = new App({ autoSynth: false });
const email = probe.node.tryGetContext('notificationEmail') as unknown;
const config = contextConfig(probe.node.tryGetContext('config'));
if (email !== undefined && typeof email !== 'string') {
  throw new ConfigError(['context "notificationEmail": must be a string']);
}
const spokeStackSet = contextBoolean('spokeStackSet', probe.node.tryGetContext('spokeStackSet'));

const { app } = buildApp({
  ...(config ? { config } : {}),
  ...(email ? { notificationEmail: email } : {}),
  ...(spokeStackSet !== undefined ? { spokeStackSet } : {}),
});
app.synth();
