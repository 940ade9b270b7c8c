import { defineConfig } from 'vitest/config';
import { EMULATOR_WORKERS } from './test/support/workers.js';

/**
 * Tests against the emulator run twice: in moto's default account and us-east-1, and in a second account and
 * region reached with sts:AssumeRole credentials (test/support/aws.ts), so no account id, region or ARN can be a
 * constant that happens to match. Each emulator project has its own moto server, which each file resets
 * (test/support/global-setup.ts, workers.ts): the two emulator projects run at the same time, after the unit
 * tests, each one file at a time. The unit project keeps vitest's default (on 2 cores, one
 * worker): two were measured no faster, its syntheses already run esbuild beside the worker.
 */
const emulatorTests = ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'];

export default defineConfig({
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/env.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    provide: { testAccount: '123456789012', testRegion: 'us-east-1' },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/infra/**/*.test.ts'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'aws',
          include: emulatorTests,
          maxWorkers: EMULATOR_WORKERS,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: 'aws-member',
          include: emulatorTests,
          maxWorkers: EMULATOR_WORKERS,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
          provide: { testAccount: '111122223333', testRegion: 'eu-west-2' },
        },
      },
    ],
  },
});
