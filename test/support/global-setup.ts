/**
 * Vitest global setup: starts one moto server on a free loopback port for the whole run and stops exactly
 * that process afterwards. Tests that touch AWS reset it (see test/support/aws.ts) and run one file at a time.
 */
import type { TestProject } from 'vitest/node';
import { type MotoServer, MotoUnavailableError, startMoto } from '../../services/local/moto.js';

let moto: MotoServer | undefined;

export async function setup(project: TestProject): Promise<void> {
  try {
    moto = await startMoto();
  } catch (error) {
    // One clear line (what is missing and what to do), not a stack trace from the test runner.
    if (!(error instanceof MotoUnavailableError)) throw error;
    process.stderr.write(`trailguard tests: ${error.message}\n`);
    process.exit(1);
  }
  project.provide('motoEndpoint', moto.endpoint);
}

export async function teardown(): Promise<void> {
  await moto?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    motoEndpoint: string;
    /** The account the project's tests act in (test/support/aws.ts); set per project in vitest.config.ts. */
    testAccount: string;
    /** The region the project's tests act in. */
    testRegion: string;
  }
}
