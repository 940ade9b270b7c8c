/**
 * The benchmark's local AWS: one moto server started for the run (and stopped by pid), the SDK pointed at it
 * with dummy credentials, and a fresh account (reset, topic, audit table) per scenario.
 */
import { localIdempotencyTableName, parseConfig } from '../policies/config.js';
import { ensureAuditTable } from '../services/aws/audit-store.js';
import { type AwsClients, createClients } from '../services/aws/clients.js';
import { ensureTopic } from '../services/aws/notifier.js';
import { ensureIdempotencyTable } from '../services/aws/notify-once.js';
import { ensureStateTable, localStateTableName } from '../services/aws/state-store.js';
import { tolerateEmulator } from '../services/local/emulator-tolerance.js';
import { type MotoServer, resetMoto, startMoto } from '../services/local/moto.js';

export const REGION = 'us-east-1';
export const ACCOUNT = '123456789012';

/** Starts moto and points every SDK client of this process (and of `independentProblems`) at it. */
export async function startEmulator(): Promise<MotoServer> {
  const moto = await startMoto();
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(moto.endpoint)) {
    await moto.stop();
    throw new Error(`refusing to run: emulator endpoint ${moto.endpoint} is not on loopback`);
  }
  for (const key of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_ROLE_ARN', 'AWS_WEB_IDENTITY_TOKEN_FILE'])
    delete process.env[key];
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_EC2_METADATA_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  tolerateEmulator();
  return moto;
}

/** Clients for seeding and setup: not counted. moto occasionally answers 500 under concurrency: retried. */
export function setupClients(): AwsClients {
  return createClients({ defaultRegion: REGION, maxAttempts: 3 });
}

/** Wipes moto and creates the topic, the audit table and the idempotency table the workflow's functions use. */
export async function freshAccount(endpoint: string, clients: AwsClients): Promise<void> {
  await resetMoto(endpoint);
  const config = parseConfig({});
  await ensureTopic(clients, config.notificationTopicName);
  await ensureAuditTable(clients, config.auditTableName);
  await ensureIdempotencyTable(clients, localIdempotencyTableName(config));
  await ensureStateTable(clients, localStateTableName(config));
}
