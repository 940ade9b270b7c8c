/**
 * How the emulator tests run in parallel (vitest.config.ts, test/support/global-setup.ts): each emulator
 * project runs up to EMULATOR_WORKERS files at once, each worker against its own moto server.
 */
export const EMULATOR_PROJECTS: readonly string[] = ['aws', 'aws-member'];
export const EMULATOR_WORKERS = 2;

/**
 * The moto server of this test worker: vitest numbers the workers that run at the same time 1..maxWorkers
 * (VITEST_POOL_ID), so two files running at once never share a server.
 */
export function workerEndpoint(endpoints: readonly string[], env: NodeJS.ProcessEnv = process.env): string {
  const slot = Number(env.VITEST_POOL_ID ?? '1');
  const endpoint = endpoints[(Number.isInteger(slot) && slot >= 1 ? slot - 1 : 0) % endpoints.length];
  if (!endpoint)
    throw new Error('no moto endpoint provided to this test worker (test/support/global-setup.ts)');
  return endpoint;
}
