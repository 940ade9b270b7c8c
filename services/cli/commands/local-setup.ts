/**
 * `trailguard local-setup`: creates, idempotently, the notification topic and the tables (audit, Notify's
 * idempotency, state: log group snapshots and delivery-error sightings) under the
 * names the other commands use by default, on whatever AWS_ENDPOINT_URL points to (the local emulator).
 */
import type { Command } from 'commander';
import { localIdempotencyTableName, parseConfig } from '../../../policies/config.js';
import { ensureAuditTable } from '../../aws/audit-store.js';
import { createClients, resolveDefaultRegion } from '../../aws/clients.js';
import { ensureTopic } from '../../aws/notifier.js';
import { ensureIdempotencyTable } from '../../aws/notify-once.js';
import { ensureStateTable, localStateTableName } from '../../aws/state-store.js';
import { type CliIo, UsageError } from '../output.js';
import { loadConfigFile } from './check.js';

export function registerLocalSetup(program: Command, io: CliIo): void {
  program
    .command('local-setup')
    .description('Create the notification topic and audit table on the local emulator (idempotent).')
    .option('--region <region>', "region (default: the SDK's region)")
    .option('--config <file>', 'JSON configuration file (topic and table names)')
    .option(
      '--allow-real-aws',
      'allow running without AWS_ENDPOINT_URL (creates resources in a real account)',
    )
    .action(async (options: { region?: string; config?: string; allowRealAws?: boolean }) => {
      const env = io.env ?? process.env;
      if (!env.AWS_ENDPOINT_URL && !options.allowRealAws) {
        throw new UsageError(
          'local-setup is for an emulator: set AWS_ENDPOINT_URL (e.g. http://127.0.0.1:5000), or pass --allow-real-aws',
        );
      }
      const config = options.config ? await loadConfigFile(options.config) : parseConfig({});
      const clients = createClients({
        defaultRegion: resolveDefaultRegion(options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION),
      });
      const topic = await ensureTopic(clients, config.notificationTopicName);
      const table = await ensureAuditTable(clients, config.auditTableName);
      const idempotency = await ensureIdempotencyTable(clients, localIdempotencyTableName(config));
      const state = await ensureStateTable(clients, localStateTableName(config));
      io.stdout.write(
        `${topic.created ? 'created' : 'exists '}  SNS topic       ${topic.topicArn}\n` +
          `${table.created ? 'created' : 'exists '}  DynamoDB table  ${table.tableName}\n` +
          `${idempotency.created ? 'created' : 'exists '}  DynamoDB table  ${idempotency.tableName}\n` +
          `${state.created ? 'created' : 'exists '}  DynamoDB table  ${state.tableName}\n`,
      );
    });
}
