/** Helpers for tests that talk to the emulator. */
import { inject } from 'vitest';
import { createClients } from '../../services/aws/clients.js';
import { resetMoto, sentNotifications } from '../../services/local/moto.js';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';

export function motoEndpoint(): string {
  return inject('motoEndpoint');
}

export async function resetEmulator(): Promise<void> {
  await resetMoto(motoEndpoint());
}

export function emulatorNotifications() {
  return sentNotifications(motoEndpoint());
}

/** Fresh clients for a test (the SDK reads AWS_ENDPOINT_URL set by test/support/env.ts). */
export function testClients() {
  return createClients({ defaultRegion: REGION, maxAttempts: 1 });
}
