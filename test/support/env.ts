/**
 * Runs in every test worker before the tests: points the SDK at the emulator, in this project's account and
 * region (test/support/aws.ts), and refuses to run if anything could reach real AWS.
 */
import { tolerateEmulator } from '../../services/local/emulator-tolerance.js';
import { enterTestAccount, motoEndpoint, REGION } from './aws.js';

const endpoint = motoEndpoint();
if (!endpoint || !/^http:\/\/127\.0\.0\.1:\d+$/.test(endpoint)) {
  throw new Error(`refusing to run tests: emulator endpoint "${endpoint}" is not on loopback`);
}
for (const key of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_ROLE_ARN', 'AWS_WEB_IDENTITY_TOKEN_FILE'])
  delete process.env[key];
process.env.AWS_ENDPOINT_URL = endpoint;
// moto's missing CloudWatch Logs APIs are tolerated here, as the local runner tolerates them; never in production.
tolerateEmulator();
process.env.AWS_REGION = REGION;
process.env.AWS_DEFAULT_REGION = REGION;
process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.POWERTOOLS_DEV = 'false';
process.env.POWERTOOLS_LOG_LEVEL = process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
await enterTestAccount();
