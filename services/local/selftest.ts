/**
 * `trailguard selftest`: proves, in each account and region it covers, that the guardrail fixes real breaks.
 * For each target it creates a canary (services/aws/canary.ts), then for each break in turn: puts the canary
 * back to its own configuration, breaks it, hands the break to an engine, re-reads the canary itself and looks
 * the run's audit record up; once fixed, it writes one object (one data event) and waits, within the case's
 * timeout, for that event in the trail's CloudWatch Logs log group: a case is fixed only when it arrived
 * (delivery end to end), else `missing` says "delivery not confirmed". The verdict of each case is
 * services/domain/canary.ts judgeCase: the canary's own re-read decides "fixed", never the workflow's verdict.
 *
 * Engines: `localEngine` replays the CloudTrail event each break produces through the stack's rules and the
 * synthesized workflow in process (services/local/replay.ts), as EventBridge would deliver it. The deployed
 * engine (waiting for the real event path) plugs in through the same `SelftestEngine` interface.
 *
 * Everything created is removed at the end unless `keep`, also when a case or the run fails or is aborted
 * (`signal`, e.g. SIGINT): cleanup runs in `finally` for every canary created so far.
 */
import { randomUUID } from 'node:crypto';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { type ConfigInput, parseConfig } from '../../policies/config.js';
import { clientsAssumingRole } from '../aws/accounts.js';
import { listAuditRecords } from '../aws/audit-store.js';
import {
  applyBreak,
  type Canary,
  CanaryError,
  CanaryNotRunnableError,
  type CanaryTarget,
  cleanupCanary,
  createCanary,
  findDelivery,
  readCanarySelectors,
  rereadCanary,
  restoreBaseline,
  s3ClientFor,
  writeCanaryObject,
} from '../aws/canary.js';
import type { AwsClients } from '../aws/clients.js';
import { readAccountId } from '../aws/trail-reader.js';
import { partitionOf, roleArn } from '../domain/arns.js';
import {
  actorOf,
  BREAKS,
  type Break,
  breakEvent,
  type CanaryActor,
  type CaseEvidence,
  type CaseResult,
  canaryNames,
  caseResult,
  casesNotRun,
  DEFAULT_CASE_TIMEOUT_SECONDS,
  deliveryNotConfirmed,
  type EngineReport,
  judgeCase,
  missingText,
  newCanaryRunId,
  type SelftestReport,
  selectorProblems,
  selftestReport,
} from '../domain/canary.js';
import { awsErrorName, TrailguardError } from '../domain/errors.js';
import type { ReplayResult } from './replay.js';

/** selftest was interrupted (SIGINT): the canaries were cleaned up; the remaining cases were not run. */
export class SelftestInterruptedError extends TrailguardError {
  override name = 'SelftestInterruptedError';
}

/** One break handed to an engine. */
export interface BreakRun {
  canary: Canary;
  /** Where the canary lives, and the clients acting there. */
  target: CanaryTarget;
  break: Break;
  /** The event the break produces, in EventBridge's shape (what the local engine replays). */
  event: Record<string, unknown>;
  brokenAt: Date;
  /** Aborted when selftest is interrupted: an engine that waits stops waiting. */
  signal?: AbortSignal;
}

export interface SelftestEngine {
  /** Reports what the guardrail did about a break (the canary is re-read afterwards by selftest itself). */
  handle(run: BreakRun): Promise<EngineReport>;
}

export interface SelftestTarget {
  account: string;
  region: string;
}

export interface SelftestOptions {
  /** The caller's clients (the hub's, with a hub configuration): the audit table is read with them. */
  clients: AwsClients;
  config?: ConfigInput;
  targets: SelftestTarget[];
  /** The caller's account (read with STS when absent). */
  callerAccount?: string;
  /** The role selftest assumes in an account other than the caller's to create and break its canary. */
  memberRole: string;
  engine: SelftestEngine;
  breaks?: readonly Break[];
  keep?: boolean;
  /** An existing bucket (same in every target) whose policy admits the canary trails; default: one per run. */
  bucket?: string;
  runId?: string;
  signal?: AbortSignal;
  now?: () => Date;
  /** Progress lines for a person (stderr). */
  log?: (line: string) => void;
  /**
   * Seconds per case, from the break to the fix and the delivery of the canary object's data event to CloudWatch
   * Logs (default DEFAULT_CASE_TIMEOUT_SECONDS); `pollSeconds` between two looks for the event (default 15).
   */
  timeoutSeconds?: number;
  pollSeconds?: number;
  sleep?: (ms: number) => Promise<void>;
  /**
   * Called after the canary object is written: on an emulator, the stand-in for CloudTrail's delivery
   * (services/local/emulator-tolerance.ts emulatedDelivery); on AWS, none (CloudTrail delivers).
   */
  deliver?: (target: CanaryTarget, canary: Canary, key: string) => Promise<unknown>;
  /** Makes the S3 client of a target (tests add fault injection); default s3ClientFor. */
  s3For?: typeof s3ClientFor;
}

export interface SelftestRun {
  report: SelftestReport;
  /** What cleanup removed per canary (empty with `keep`). */
  removed: string[];
  /** The canaries kept (`keep`): trail ARNs. */
  kept: string[];
}

/** The local engine: the break's event through the stack's rules and the synthesized workflow, in process. */
export function localEngine(options: {
  clients: AwsClients;
  config?: ConfigInput;
  ownRoleArn?: string;
  region: string;
}): SelftestEngine {
  return {
    async handle(run) {
      const { replayEvent } = await import('./replay.js');
      const result = await replayEvent(run.event, {
        clients: options.clients,
        region: options.region,
        ...(options.config ? { config: options.config } : {}),
        ...(options.ownRoleArn ? { ownRoleArn: options.ownRoleArn } : {}),
      });
      return engineReportOf(result, run.canary);
    },
  };
}

/** What a replay did for the canary's trail (a fan-out lists several runs: the canary's is the one). */
export function engineReportOf(result: ReplayResult, canary: Canary): EngineReport {
  if (result.outcome === 'ignored') return { noRun: result.reason };
  const isCanary = (r: ReplayResult) =>
    r.trail === canary.trailArn || r.trail === canary.trail || r.context?.trailArn === canary.trailArn;
  const run = result.runs ? result.runs.find(isCanary) : result;
  if (!run) {
    return {
      noRun:
        result.outcome === 'failed' && result.failure
          ? `the fan-out failed before a run for the canary started: ${result.failure.name}: ${result.failure.message}`
          : `no run for ${canary.trail} was started (${result.reason})`,
    };
  }
  // The hub skipped an account it does not guard before anything ran: the event never reached a run.
  if (run.outcome === 'skipped' && !run.executionId) return { noRun: run.reason };
  return {
    outcome: run.outcome,
    ...(run.executionId ? { executionId: run.executionId } : {}),
    ...(run.failure ? { failure: run.failure } : {}),
    reason: run.reason,
  };
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted)
    throw new SelftestInterruptedError('selftest was interrupted; the canaries were removed');
}

/** The clients acting in `account`: the caller's own, or the member role's (one AssumeRole per account). */
async function clientsIn(
  options: SelftestOptions,
  caller: string,
  account: string,
  region: string,
): Promise<AwsClients> {
  if (account === caller) return options.clients;
  try {
    const { clients } = await clientsAssumingRole(
      options.clients,
      roleArn({ partition: partitionOf(region), account, name: options.memberRole }),
      { sessionName: 'trailguard-selftest', region },
    );
    return clients;
  } catch (error) {
    throw new CanaryError(
      `cannot act in ${account} through ${options.memberRole}: ${awsErrorName(error) ?? 'Error'}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

async function actorIn(clients: AwsClients): Promise<CanaryActor> {
  try {
    const out = await clients.sts().send(new GetCallerIdentityCommand({}));
    if (!out.Arn) throw new Error('GetCallerIdentity returned no ARN');
    return actorOf(out.Arn);
  } catch (error) {
    throw new CanaryError(`GetCallerIdentity: ${(error as Error).message}`, { cause: error });
  }
}

/** The run's audit record in the (hub's) audit table: found (and canary: true), missing, or not marked. */
async function auditEvidence(
  options: SelftestOptions,
  tableName: string,
  canary: Canary,
  executionId: string | undefined,
): Promise<CaseEvidence['auditRecord']> {
  if (!executionId) return 'missing';
  try {
    const records = await listAuditRecords(options.clients, tableName, { trail: canary.trailArn });
    const record = records.find((r) => r.executionId === executionId && r.kind !== 'delivery-check');
    if (!record) return 'missing';
    return record.canary === true ? 'found' : 'not-canary';
  } catch (error) {
    // The table itself is gone: the run could not have written its record (the verdict says where).
    if (inChain(error, (e) => awsErrorName(e) === 'ResourceNotFoundException')) return 'missing';
    throw new CanaryError(`reading the audit table ${tableName}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Whether the error or one of its causes satisfies `test`. */
function inChain(error: unknown, test: (e: unknown) => boolean): boolean {
  let current: unknown = error;
  for (let i = 0; current && i < 10; i += 1) {
    if (test(current)) return true;
    current = current instanceof Error ? current.cause : undefined;
  }
  return false;
}

/** Runs the cases of one canary. Cases after a not-runnable canary are reported not runnable too. */
async function runCases(
  options: SelftestOptions,
  target: CanaryTarget,
  canary: Canary,
  actor: CanaryActor,
  tableName: string,
): Promise<CaseResult[]> {
  const now = options.now ?? (() => new Date());
  const results: CaseResult[] = [];
  const breaks = options.breaks ?? BREAKS;
  // The selectors as CloudTrail holds them: the shape AWS documents, or the run stops (own-call failure).
  const selectors = await readCanarySelectors(target, canary);
  const wrong = selectorProblems(
    {
      EventSelectors: selectors.EventSelectors ?? [],
      AdvancedEventSelectors: (selectors.AdvancedEventSelectors ?? []) as never,
    },
    canary.partition,
    canary.bucket,
    canary,
  );
  if (wrong.length > 0)
    throw new CanaryError(`the canary's event selectors read back wrong: ${wrong.join('; ')}`);
  for (const [i, kind] of breaks.entries()) {
    checkAborted(options.signal);
    if (i > 0) await restoreBaseline(target, canary);
    const brokenAt = now();
    await applyBreak(target, canary, kind);
    options.log?.(`${canary.account}/${canary.region}: ${kind} applied to ${canary.trail}`);
    const event = breakEvent({
      break: kind,
      id: randomUUID(),
      account: canary.account,
      region: canary.region,
      partition: canary.partition,
      time: brokenAt,
      actor,
      trailArn: canary.trailArn,
      logGroup: canary.logGroup,
      role: canary.role,
    });
    const report = await options.engine.handle({
      canary,
      target,
      break: kind,
      event,
      brokenAt,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    checkAborted(options.signal);
    const problems = await rereadCanary(target, canary);
    const fixedAt = now();
    const auditRecord = await auditEvidence(options, tableName, canary, report.executionId);
    let verdict = judgeCase(report, { problems, auditRecord });
    // Fixed as re-read: now the proof that CloudTrail delivers to CloudWatch Logs again, within the case's time.
    if (verdict.fixed) {
      const delivery = await confirmDelivery(options, target, canary, kind, brokenAt);
      verdict = judgeCase(report, { problems, auditRecord, delivery });
    }
    const result = caseResult(
      {
        account: canary.account,
        region: canary.region,
        break: kind,
        brokenAt: brokenAt.getTime(),
        checkedAt: fixedAt.getTime(),
      },
      verdict,
      report.executionId,
    );
    options.log?.(
      `${canary.account}/${canary.region} ${kind}: ${result.fixed ? `fixed in ${result.seconds}s` : `NOT FIXED: ${result.missing}`}`,
    );
    results.push(result);
  }
  return results;
}

/**
 * Writes one object under the canary's object prefix (one data event) and waits, until the case's deadline
 * (`timeoutSeconds` from the break), for that event in the log group the trail delivers to, looking every
 * `pollSeconds`. `deliver` stands in for CloudTrail on an emulator (services/local/emulator-tolerance.ts).
 */
async function confirmDelivery(
  options: SelftestOptions,
  target: CanaryTarget,
  canary: Canary,
  kind: Break,
  brokenAt: Date,
): Promise<NonNullable<CaseEvidence['delivery']>> {
  const now = options.now ?? (() => new Date());
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const timeoutSeconds = options.timeoutSeconds ?? DEFAULT_CASE_TIMEOUT_SECONDS;
  const deadline = brokenAt.getTime() + timeoutSeconds * 1000;
  const writtenAt = now();
  const key = await writeCanaryObject(target, canary, `${kind}-${writtenAt.getTime()}`);
  if (options.deliver) await options.deliver(target, canary, key);
  for (;;) {
    const look = await findDelivery(target, canary, key, writtenAt);
    if (look.found) return { confirmed: true };
    const left = deadline - now().getTime();
    if (left <= 0 || options.signal?.aborted) {
      return {
        confirmed: false,
        detail: deliveryNotConfirmed({
          bucket: canary.bucket,
          key,
          logGroup: look.logGroup,
          within: `${timeoutSeconds} s`,
          break: kind,
        }),
      };
    }
    await sleep(Math.min((options.pollSeconds ?? 15) * 1000, left));
  }
}

function notRunnable(target: SelftestTarget, breaks: readonly Break[], detail: string): CaseResult[] {
  return casesNotRun(target.account, target.region, breaks, missingText({ at: 'not-runnable', detail }));
}

/**
 * Runs selftest over every target, one after the other. Throws CanaryError when one of selftest's own AWS calls
 * failed (after cleaning up), SelftestInterruptedError when aborted (after cleaning up).
 */
export async function runSelftest(options: SelftestOptions): Promise<SelftestRun> {
  const config = parseConfig(options.config ?? {});
  const breaks = options.breaks ?? BREAKS;
  const run = options.runId ?? newCanaryRunId();
  const caller: string = options.callerAccount ?? (await readAccountId(options.clients));
  const created: { target: CanaryTarget; canary: Canary }[] = [];
  const cases: CaseResult[] = [];
  const removed: string[] = [];
  let failure: unknown;
  try {
    for (const where of options.targets) {
      checkAborted(options.signal);
      const clients = await clientsIn(options, caller, where.account, where.region);
      const partition = partitionOf(where.region);
      const target: CanaryTarget = {
        account: where.account,
        region: where.region,
        partition,
        clients,
        s3: (options.s3For ?? s3ClientFor)(clients, where.region),
        ...(options.bucket ? { bucket: options.bucket } : {}),
        ...(config.cisMonitoring ? { cisAlarms: true } : {}),
      };
      // One run id per selftest; the region is part of each name (IAM roles are global).
      const names = canaryNames(run, where.region);
      let canary: Canary;
      try {
        canary = await createCanary(target, names, (c) => created.push({ target, canary: c }));
      } catch (error) {
        if (error instanceof CanaryNotRunnableError) {
          options.log?.(`${where.account}/${where.region}: not runnable: ${error.message}`);
          cases.push(...notRunnable(where, breaks, error.message));
          continue;
        }
        throw error;
      }
      options.log?.(`${where.account}/${where.region}: canary ${canary.trail} created`);
      const actor = await actorIn(clients);
      cases.push(...(await runCases(options, target, canary, actor, config.auditTableName)));
    }
  } catch (error) {
    failure = error;
  } finally {
    if (!options.keep) {
      const problems: string[] = [];
      for (const { target, canary } of created) {
        try {
          removed.push(...(await cleanupCanary(target, canary)));
        } catch (error) {
          problems.push((error as Error).message);
        } finally {
          target.s3.destroy();
        }
      }
      if (problems.length > 0 && !failure) {
        failure = new CanaryError(`cleanup did not finish: ${problems.join('; ')}`);
      } else if (problems.length > 0) {
        options.log?.(`cleanup did not finish: ${problems.join('; ')}`);
      }
    }
  }
  if (failure) throw failure;
  return {
    report: selftestReport(cases),
    removed,
    kept: options.keep ? created.map((c) => c.canary.trailArn) : [],
  };
}
