import { defineConfig } from 'vitest/config';
import LongestFirstSequencer from './test/support/sequencer.js';
import { TEST_WORKERS } from './test/support/workers.js';

/**
 * Tests against the emulator run twice: in moto's default account and us-east-1, and in a second account and
 * region reached with sts:AssumeRole credentials (test/support/aws.ts), so no account id, region or ARN can be a
 * constant that happens to match.
 *
 * All three projects run at once, as one group: one pool of TEST_WORKERS workers takes their files longest
 * first, whichever the project (test/support/sequencer.ts), so the unit project's CPU-bound syntheses overlap
 * the emulator files' waits on moto. Each worker slot has its own moto server, picked by VITEST_POOL_ID, so two
 * files running at once never share one (test/support/workers.ts, global-setup.ts). The projects must keep one
 * sequence.groupOrder and one maxWorkers (inherited from here): otherwise vitest runs them one after the other.
 */
const emulatorTests = ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'];

export default defineConfig({
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/env.ts'],
    maxWorkers: TEST_WORKERS,
    sequence: { sequencer: LongestFirstSequencer },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    provide: { testAccount: '123456789012', testRegion: 'us-east-1' },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/infra/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'aws',
          include: emulatorTests,
        },
      },
      {
        extends: true,
        test: {
          name: 'aws-member',
          include: emulatorTests,
          provide: { testAccount: '111122223333', testRegion: 'eu-west-2' },
        },
      },
    ],
  },
});
