import { defineConfig } from 'vitest/config';

/**
 * Tests against the emulator share one moto server and reset it: one file at a time. They run twice: in moto's
 * default account and us-east-1, and in a second account and region reached with sts:AssumeRole credentials
 * (test/support/aws.ts), so no account id, region or ARN can be a constant that happens to match.
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
        // The two emulator projects share the moto server: one after the other (groupOrder), never at once.
        test: { name: 'aws', include: emulatorTests, fileParallelism: false, sequence: { groupOrder: 1 } },
      },
      {
        extends: true,
        test: {
          name: 'aws-member',
          include: emulatorTests,
          fileParallelism: false,
          sequence: { groupOrder: 2 },
          provide: { testAccount: '111122223333', testRegion: 'eu-west-2' },
        },
      },
    ],
  },
});
