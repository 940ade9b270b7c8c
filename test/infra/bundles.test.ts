/**
 * What each step function loads at init (issue 19): its bundle, built with the options functions.ts gives
 * NodejsFunction, imports statically only the SDK packages its step always calls (others are required where they
 * are called, services/aws/sdk.ts), holds no X-Ray SDK (Tracer comes from the Powertools layer) and stays under
 * 250 KB.
 */
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { LAYER_EXTERNALS, REPO_ROOT } from '../../infra/constructs/functions.js';
import { STEP_ENTRIES, type StepName } from '../../services/handlers/registry.js';

const STATIC_SDK: Record<StepName, string[]> = {
  Check: ['@aws-sdk/client-cloudtrail', '@aws-sdk/client-cloudwatch-logs'],
  RestoreLogGroup: ['@aws-sdk/client-cloudwatch-logs'],
  RestoreRole: ['@aws-sdk/client-iam'],
  RestoreTrail: ['@aws-sdk/client-cloudtrail'],
  Verify: ['@aws-sdk/client-cloudtrail', '@aws-sdk/client-cloudwatch-logs'],
  Notify: ['@aws-sdk/client-dynamodb', '@aws-sdk/client-sns', '@aws-sdk/util-dynamodb'],
  // Security Hub is loaded at the call (services/aws/security-hub.ts): a run with securityHub off never loads it.
  UpdateFindings: [],
  Audit: ['@aws-sdk/lib-dynamodb'],
  CheckDelivery: ['@aws-sdk/client-cloudtrail'],
};

describe('step bundles', () => {
  for (const step of Object.keys(STEP_ENTRIES) as StepName[]) {
    it(`${step}: only its own SDK packages at init, no X-Ray SDK, <= 250 KB`, async () => {
      const result = await build({
        entryPoints: [join(REPO_ROOT, STEP_ENTRIES[step])],
        bundle: true,
        write: false,
        target: 'node24',
        platform: 'node',
        format: 'esm',
        outfile: 'index.mjs',
        minify: true,
        external: ['@aws-sdk/*', ...LAYER_EXTERNALS],
        mainFields: ['module', 'main'],
        absWorkingDir: REPO_ROOT,
        logLevel: 'silent',
        metafile: true,
      });
      const output = Object.values(result.metafile.outputs)[0];
      const sdk = new Set(
        (output?.imports ?? [])
          .filter((i) => i.external && i.kind === 'import-statement' && i.path.startsWith('@aws-sdk/'))
          .map((i) => i.path),
      );
      expect([...sdk].sort()).toEqual(STATIC_SDK[step]);
      expect(
        Object.keys(output?.inputs ?? {}).filter((p) => /aws-xray-sdk|powertools\/tracer/.test(p)),
      ).toEqual([]);
      expect(output?.bytes).toBeLessThanOrEqual(250 * 1024);
    });
  }
});
