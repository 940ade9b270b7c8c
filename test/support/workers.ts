/**
 * How the tests run in parallel (vitest.config.ts, test/support/global-setup.ts, sequencer.ts).
 *
 * All three projects (unit, and the two emulator projects: the default account and region, and the second ones)
 * form one vitest group, so one pool of TEST_WORKERS workers runs their files, longest first, whichever project
 * they belong to. Each emulator file resets its moto server (test/support/aws.ts), so two files running at the
 * same time must never share one: the global setup starts one server per worker slot, and a file uses the server
 * of its VITEST_POOL_ID.
 *
 * Why that is safe (vitest 4.1, node_modules/vitest/dist/chunks/cli-api.*.js, class Pool): every project of a
 * run shares one Pool; for each group it holds the ids 1..maxWorkers, takes a free one when it starts a file's
 * worker (getWorkerId) and gives it back only once that file has finished (freeWorkerId), and the worker sees it
 * as VITEST_POOL_ID. So the id is unique among the files running at any moment, across projects, and ranges
 * over 1..maxWorkers. (vitest frees the id once the file's tests and hooks are done, while the worker process
 * itself may still be exiting: nothing of a finished file talks to moto any more.)
 *
 * All projects must share one sequence.groupOrder and one maxWorkers: vitest runs groups one after the other,
 * and refuses two projects of one group with different maxWorkers. Earlier layouts got this wrong twice: two
 * workers per emulator project mapped onto the project's own two servers by VITEST_POOL_ID had files of one
 * project sharing a server (the id numbers the workers of the group, not of a project); and the two emulator
 * projects with maxWorkers 1 in one group (groupOrder 1) did not run at the same time, as meant, but one after
 * the other, after the unit project (group 0): the group held one worker in all.
 */
export const TEST_WORKERS = 3;

/** The moto server of this worker: the one of its VITEST_POOL_ID, among those global-setup started. */
export function workerEndpoint(
  endpoints: readonly string[],
  poolId: string | undefined = process.env.VITEST_POOL_ID,
): string {
  const slot = Number(poolId);
  const endpoint = Number.isInteger(slot) && slot >= 1 ? endpoints[slot - 1] : undefined;
  if (!endpoint) {
    throw new Error(
      `no moto server for worker VITEST_POOL_ID=${poolId} among ${endpoints.length} (test/support/global-setup.ts starts one per worker)`,
    );
  }
  return endpoint;
}
