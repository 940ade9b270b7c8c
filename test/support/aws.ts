/**
 * Helpers for tests that talk to the emulator. The emulator tests run twice (vitest.config.ts): in moto's
 * default account, and in a second account and region reached the way a real deployment is, with
 * credentials from sts:AssumeRole into a role of that account (moto then acts in that account). Nothing may
 * assume either: use ACCOUNT and REGION.
 */
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { inject } from 'vitest';
import { createClients } from '../../services/aws/clients.js';
import { resetMoto, sentNotifications } from '../../services/local/moto.js';
import { workerEndpoint } from './workers.js';

/** moto's default account: what plain (non-assumed) credentials act in. */
export const DEFAULT_ACCOUNT = '123456789012';
/** A value the vitest project provides; the default outside vitest (the benchmark imports the seeds). */
function provided(key: 'testAccount' | 'testRegion', fallback: string): string {
  try {
    return inject(key) ?? fallback;
  } catch {
    return fallback;
  }
}

/** The account the tests of this project act in. */
export const ACCOUNT: string = provided('testAccount', DEFAULT_ACCOUNT);
/** The region the tests of this project act in. */
export const REGION: string = provided('testRegion', 'us-east-1');
/** The role assumed to act in ACCOUNT when it is not the default one. */
export const TEST_ROLE_NAME = 'trailguard-test-admin';

const BASE_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

/** This worker's moto server: no other file running at the same time uses it (test/support/workers.ts). */
export function motoEndpoint(): string {
  return workerEndpoint(inject('motoEndpoints'));
}

/**
 * Points the process's credentials (AWS_ACCESS_KEY_ID, ..., read by every client the product creates) at
 * ACCOUNT: the base credentials for the default account, else credentials from sts:AssumeRole into
 * TEST_ROLE_NAME of ACCOUNT. moto forgets assumed credentials on reset: call again after every reset.
 */
export async function enterTestAccount(): Promise<void> {
  process.env.AWS_ACCESS_KEY_ID = BASE_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = BASE_CREDENTIALS.secretAccessKey;
  delete process.env.AWS_SESSION_TOKEN;
  if (ACCOUNT === DEFAULT_ACCOUNT) return;
  const sts = new STSClient({ region: REGION, credentials: BASE_CREDENTIALS });
  const { Credentials: c } = await sts.send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${ACCOUNT}:role/${TEST_ROLE_NAME}`,
      RoleSessionName: 'trailguard-tests',
    }),
  );
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) {
    throw new Error(`sts:AssumeRole into account ${ACCOUNT} returned no credentials`);
  }
  process.env.AWS_ACCESS_KEY_ID = c.AccessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = c.SecretAccessKey;
  process.env.AWS_SESSION_TOKEN = c.SessionToken;
}

/** Wipes the emulator, then acts in ACCOUNT again (a reset forgets assumed credentials). */
export async function resetEmulator(): Promise<void> {
  await resetMoto(motoEndpoint());
  await enterTestAccount();
}

export function emulatorNotifications() {
  return sentNotifications(motoEndpoint());
}

/**
 * The credentials the process holds now, read at every request: a client made before a reset keeps working
 * after it (the SDK's default chain would keep credentials moto has forgotten).
 */
export const currentCredentials = async () => ({
  accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? '',
  secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? '',
  ...(process.env.AWS_SESSION_TOKEN ? { sessionToken: process.env.AWS_SESSION_TOKEN } : {}),
  // The SDK memoizes a credential provider until its identity expires: "expired now" makes it ask again.
  expiration: new Date(),
});

/** Fresh clients for a test (the SDK reads AWS_ENDPOINT_URL set by test/support/env.ts). */
export function testClients() {
  return createClients({ defaultRegion: REGION, maxAttempts: 1, credentials: currentCredentials });
}
