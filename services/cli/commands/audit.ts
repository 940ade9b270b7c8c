/**
 * `trailguard audit`: lists the audit records, newest first. The table: `--table`; else, against AWS (no
 * AWS_ENDPOINT_URL) or with `--stack`, the deployed stack's `AuditTableName` output (`--stack`, default
 * `Trailguard`: CloudFormation names the table), as `replay` finds the state machine; else (an emulator) the
 * configuration's `auditTableName`, the name `local-setup` creates.
 */
import type { Command } from 'commander';
import { DEFAULT_STACK_NAME } from '../../../infra/stack-name.js';
import { parseConfig } from '../../../policies/config.js';
import { listAuditRecords } from '../../aws/audit-store.js';
import { type AwsClients, createClients, resolveDefaultRegion } from '../../aws/clients.js';
import { DeployedStackError } from '../../aws/deployed-workflow.js';
import { readStackOutput } from '../../aws/stack-outputs.js';
import type { AuditRecord } from '../../domain/audit-record.js';
import { type CliIo, formatTable, UsageError } from '../output.js';
import { loadConfigFile } from './check.js';

export function registerAudit(program: Command, io: CliIo): void {
  program
    .command('audit')
    .description('List audit records of the remediation workflow, newest first.')
    .option('--trail <name-or-arn>', 'only this trail')
    .option(
      '--account <id>',
      "only this account's records (a hub's table holds every guarded account's)",
      (v) => {
        if (!/^\d{12}$/.test(v)) throw new UsageError(`--account must be a 12-digit account id, not "${v}"`);
        return v;
      },
    )
    .option('--limit <n>', 'at most this many records', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1)
        throw new UsageError(`--limit must be a positive whole number, not "${v}"`);
      return n;
    })
    .option(
      '--table <name>',
      "the audit table (default: the stack's AuditTableName output; with AWS_ENDPOINT_URL, the configuration's auditTableName)",
    )
    .option(
      '--stack <name>',
      `the deployed stack whose AuditTableName output names the table (default ${DEFAULT_STACK_NAME} when AWS_ENDPOINT_URL is not set)`,
    )
    .option(
      '--region <region>',
      "the table's region (default: the configuration's hubRegion, else the SDK's region)",
    )
    .option('--config <file>', 'JSON configuration file')
    .option('--json', 'print the records as one JSON array')
    .action(
      async (options: {
        trail?: string;
        account?: string;
        limit?: number;
        table?: string;
        stack?: string;
        region?: string;
        config?: string;
        json?: boolean;
      }) => {
        if (options.table !== undefined && options.stack !== undefined) {
          throw new UsageError('--table and --stack name the same table: give one');
        }
        const env = io.env ?? process.env;
        const config = options.config ? await loadConfigFile(options.config) : parseConfig({});
        const clients = createClients({
          defaultRegion: resolveDefaultRegion(
            options.region ?? config.hubRegion ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
          ),
        });
        const stack = options.stack ?? (env.AWS_ENDPOINT_URL ? undefined : DEFAULT_STACK_NAME);
        const table = options.table ?? (stack ? await auditTableOf(clients, stack) : config.auditTableName);
        const records = await listAuditRecords(clients, table, {
          trail: options.trail,
          account: options.account,
          limit: options.limit,
        });
        if (options.json) {
          io.stdout.write(`${JSON.stringify(records)}\n`);
          return;
        }
        if (records.length === 0) {
          io.stdout.write('no audit records\n');
          return;
        }
        const rows = records.map(auditRow);
        io.stdout.write(
          `${formatTable(['started', 'outcome', 'trail', 'event', 'actor', 'findings', 'changes', 'fixed in'], rows)}\n`,
        );
      },
    );
}

/** The deployed stack's audit table (its AuditTableName output); a missing stack or output is a usage error. */
async function auditTableOf(clients: AwsClients, stackName: string): Promise<string> {
  try {
    return await readStackOutput(clients, stackName, 'AuditTableName');
  } catch (error) {
    if (error instanceof DeployedStackError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}

/**
 * One line of `trailguard audit`. A delivery check's record (after a remediated run) shows as
 * `delivery: <status>`: its outcome field is the run's, and its findings and changes are the run's record's.
 */
export function auditRow(r: AuditRecord): string[] {
  return [
    r.startedAt,
    r.kind === 'delivery-check' && r.deliveryCheck ? `delivery: ${r.deliveryCheck.status}` : r.outcome,
    r.trailArn ?? r.trail,
    r.eventName ?? r.triggerKind ?? '-',
    r.actor?.arn ?? '-',
    r.findingsBefore.map((f) => f.code).join(',') || '-',
    String(r.actions.length),
    timeToRemediateCell(r),
  ];
}

/**
 * The `fixed in` column: seconds from the event (or, marked `since run start`, from a sweep or manual run's
 * start) to Verify's confirmation; `-` for a run that fixed nothing.
 */
function timeToRemediateCell(r: AuditRecord): string {
  const t = r.timeToRemediate;
  if (!t || r.kind === 'delivery-check') return '-';
  return t.from === 'event' ? `${t.seconds}s` : `${t.seconds}s since run start`;
}
