/**
 * Vitest global setup, once per project: starts the project's moto server on a free loopback port and stops
 * exactly that process afterwards. Each project has its own server: the two emulator projects run at once
 * (vitest.config.ts), each one file at a time, and each file resets its project's server (test/support/aws.ts,
 * workers.ts).
 */
import type { TestProject } from 'vitest/node';
import { type MotoServer, MotoUnavailableError, startMoto } from '../../services/local/moto.js';
import { EMULATOR_PROJECTS, EMULATOR_WORKERS } from './workers.js';

const servers: MotoServer[] = [];

export async function setup(project: TestProject): Promise<void> {
  const count = EMULATOR_PROJECTS.includes(project.name) ? EMULATOR_WORKERS : 1;
  try {
    servers.push(...(await Promise.all(Array.from({ length: count }, () => startMoto()))));
  } catch (error) {
    // One clear line (what is missing and what to do), not a stack trace from the test runner.
    if (!(error instanceof MotoUnavailableError)) throw error;
    process.stderr.write(`trailguard tests: ${error.message}\n`);
    process.exit(1);
  }
  const endpoints = servers.slice(-count).map((s) => s.endpoint);
  project.provide('motoEndpoints', endpoints);
}

export async function teardown(): Promise<void> {
  await Promise.all(servers.map((s) => s.stop()));
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The project's moto servers: a test worker uses the one of its VITEST_POOL_ID (test/support/aws.ts). */
    motoEndpoints: string[];
    /** The account the project's tests act in (test/support/aws.ts); set per project in vitest.config.ts. */
    testAccount: string;
    /** The region the project's tests act in. */
    testRegion: string;
  }
}
