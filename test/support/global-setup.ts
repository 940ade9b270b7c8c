/**
 * Vitest global setup (vitest calls it once per project, in one process): starts one moto server per worker
 * slot, on free loopback ports, shared by every project of the run, and stops exactly those processes after the
 * last project's teardown. A test file uses the server of its worker's VITEST_POOL_ID (test/support/workers.ts),
 * which no other file running at the same time holds, and resets it (test/support/aws.ts).
 */
import type { TestProject } from 'vitest/node';
import { type MotoServer, MotoUnavailableError, startMoto } from '../../services/local/moto.js';
import { TEST_WORKERS } from './workers.js';

/**
 * The run's servers and how many projects still use them. On globalThis, so that one pool serves every project
 * even if vitest evaluated this module once per project.
 */
const shared = globalThis as { trailguardMoto?: { pool?: Promise<MotoServer[]>; projects: number } };
shared.trailguardMoto ??= { projects: 0 };
const state = shared.trailguardMoto;

async function startPool(count: number): Promise<MotoServer[]> {
  try {
    return await Promise.all(Array.from({ length: count }, () => startMoto()));
  } catch (error) {
    // One clear line (what is missing and what to do), not a stack trace from the test runner.
    if (!(error instanceof MotoUnavailableError)) throw error;
    process.stderr.write(`trailguard tests: ${error.message}\n`);
    process.exit(1);
  }
}

export async function setup(project: TestProject): Promise<void> {
  state.projects += 1;
  // As many servers as the run has worker slots (a --maxWorkers on the command line included).
  const count = Math.max(TEST_WORKERS, project.config.maxWorkers ?? 0, project.vitest.config.maxWorkers ?? 0);
  state.pool ??= startPool(count);
  project.provide(
    'motoEndpoints',
    (await state.pool).map((s) => s.endpoint),
  );
}

export async function teardown(): Promise<void> {
  state.projects -= 1;
  if (state.projects > 0 || !state.pool) return;
  const servers = await state.pool;
  state.pool = undefined;
  await Promise.all(servers.map((s) => s.stop()));
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's moto servers, one per worker slot: a test worker uses the one of its VITEST_POOL_ID. */
    motoEndpoints: string[];
    /** The account the project's tests act in (test/support/aws.ts); set per project in vitest.config.ts. */
    testAccount: string;
    /** The region the project's tests act in. */
    testRegion: string;
  }
}
