/**
 * selftest's deployed engine: after a break, the real event path (CloudTrail -> EventBridge -> the stack's rule
 * -> the workflow) must fix the canary by itself. It waits, up to `timeoutSeconds` per case, for the run's audit
 * record in the stack's audit table (a remediated run's record is written after Verify; a failed run's by the
 * failure path), and reports that run. selftest re-reads the canary itself afterwards; this engine only says
 * which run it was and where it went missing.
 *
 * Runs that found the canary compliant (selftest putting it back between cases) write no audit record, so the
 * first record of the canary's trail started after the break is the break's run.
 */
import type { Config } from '../../policies/config.js';
import { listAuditRecords } from '../aws/audit-store.js';
import type { AwsClients } from '../aws/clients.js';
import { firstRunAfter, reportOfRecord } from '../domain/canary.js';
import type { SelftestEngine } from './selftest.js';

export interface DeployedEngineOptions {
  /** The hub's (or the single account's) clients: the audit table is read with them. */
  clients: AwsClients;
  config: Pick<Config, 'auditTableName'>;
  timeoutSeconds: number;
  /** Seconds between two looks at the audit table (default 15). */
  pollSeconds?: number;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
}

export function deployedEngine(options: DeployedEngineOptions): SelftestEngine {
  const now = options.now ?? (() => new Date());
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const poll = (options.pollSeconds ?? 15) * 1000;
  return {
    async handle(run) {
      const deadline = run.brokenAt.getTime() + options.timeoutSeconds * 1000;
      for (;;) {
        const records = await listAuditRecords(options.clients, options.config.auditTableName, {
          trail: run.canary.trailArn,
        });
        const record = firstRunAfter(records, run.brokenAt.getTime());
        if (record) return reportOfRecord(record);
        if (now().getTime() >= deadline || run.signal?.aborted) {
          return {
            noRun: `no run of the workflow for ${run.canary.trail} was recorded within ${options.timeoutSeconds} s of the ${run.break}`,
          };
        }
        await sleep(Math.min(poll, Math.max(0, deadline - now().getTime())));
      }
    },
  };
}
