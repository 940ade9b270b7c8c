/**
 * How the emulator tests run in parallel (vitest.config.ts, test/support/global-setup.ts): the two emulator
 * projects (the default account and region, and the second ones) run at the same time, each one file at a time
 * against its own moto server, which each file resets (test/support/aws.ts).
 *
 * One file at a time per project, not more: a file resets its server, so two files of a project running at once
 * would need a server each, and vitest's VITEST_POOL_ID numbers the workers of the whole run, not of a project,
 * so it cannot tell a project's workers apart (a run that mapped it to two servers per project had files of one
 * project resetting each other's server).
 */
export const EMULATOR_PROJECTS: readonly string[] = ['aws', 'aws-member'];
export const EMULATOR_WORKERS = 1;

/** The moto server of this project's worker (global-setup provides exactly one per project). */
export function workerEndpoint(endpoints: readonly string[]): string {
  const [endpoint] = endpoints;
  if (!endpoint || endpoints.length !== 1) {
    throw new Error(
      'expected exactly one moto endpoint for this test project (test/support/global-setup.ts)',
    );
  }
  return endpoint;
}
