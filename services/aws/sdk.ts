/**
 * SDK packages loaded on first use, not when a module that may need them is imported. A bundled ESM module's
 * static imports of external packages are all loaded at init, even those in code the step never runs (the CIS
 * monitoring of Check when cisMonitoring is off, its delivery-error sighting, RestoreTrail's role diagnosis);
 * `require` at the call keeps each function's cold start to the packages its run really calls. The packages come
 * from the Lambda runtime (CDK leaves `@aws-sdk/*` external) or node_modules, once per process.
 * `require`, not `import()`: the SDK's packages are CommonJS with no "type" in their package.json, and Node's ESM
 * loader first reads such a file's source to detect its module format, which `require` skips (measured about
 * 10 ms of CPU for @aws-sdk/client-securityhub, fresh processes interleaved).
 */
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

export const sdk = {
  cloudWatch: () => load('@aws-sdk/client-cloudwatch') as typeof import('@aws-sdk/client-cloudwatch'),
  logs: () => load('@aws-sdk/client-cloudwatch-logs') as typeof import('@aws-sdk/client-cloudwatch-logs'),
  iam: () => load('@aws-sdk/client-iam') as typeof import('@aws-sdk/client-iam'),
  dynamodb: () => load('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb'),
  libDynamodb: () => load('@aws-sdk/lib-dynamodb') as typeof import('@aws-sdk/lib-dynamodb'),
  securityHub: () => load('@aws-sdk/client-securityhub') as typeof import('@aws-sdk/client-securityhub'),
};
