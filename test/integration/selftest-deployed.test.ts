/**
 * selftest's deployed engine: it waits for the run's audit record in the stack's audit table (written here the
 * way the deployed Audit step writes it), on a fake clock: the record of a run started after the break is the
 * break's run; none within the timeout is "no event arrived".
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { ensureAuditTable, putAuditRecord } from '../../services/aws/audit-store.js';
import type { Canary } from '../../services/aws/canary.js';
import { AuditRecordSchema } from '../../services/domain/audit-record.js';
import { canaryNames } from '../../services/domain/canary.js';
import type { BreakRun } from '../../services/local/selftest.js';
import { deployedEngine } from '../../services/local/selftest-deployed.js';
import { ACCOUNT, REGION, resetEmulator, testClients } from '../support/aws.js';

const TABLE = 'trailguard-audit';
const names = canaryNames('deployed1', REGION);
const TRAIL_ARN = `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/${names.trail}`;
const BROKEN_AT = new Date('2026-12-07T10:00:00.000Z');

const canary = { ...names, account: ACCOUNT, region: REGION, trailArn: TRAIL_ARN } as unknown as Canary;
const run = (signal?: AbortSignal): BreakRun =>
  ({
    canary,
    break: 'StopLogging',
    event: {},
    brokenAt: BROKEN_AT,
    ...(signal ? { signal } : {}),
  }) as unknown as BreakRun;

function record(startedAt: string, execution: string, extra: Record<string, unknown> = {}) {
  return AuditRecordSchema.parse({
    trail: TRAIL_ARN,
    run: `${startedAt}#${execution}`,
    executionId: execution,
    triggerKind: 'event',
    eventName: 'StopLogging',
    actor: {},
    trailArn: TRAIL_ARN,
    trailName: names.trail,
    canary: true,
    region: REGION,
    decision: 'remediate',
    outcome: 'remediated',
    severity: 'CRITICAL',
    reason: 'findings to remediate: LOGGING_STOPPED',
    findingsBefore: [],
    actions: [],
    startedAt,
    recordedAt: startedAt,
    ...extra,
  });
}

/** A clock that moves on only when the engine sleeps. */
function fakeClock(start: Date) {
  let t = start.getTime();
  const slept: number[] = [];
  return {
    now: () => new Date(t),
    sleep: async (ms: number) => {
      slept.push(ms);
      t += ms;
    },
    slept,
  };
}

beforeEach(async () => {
  await resetEmulator();
  await ensureAuditTable(testClients(), TABLE);
});

describe('deployed engine', () => {
  it("reports the first run of the canary's trail started after the break (an earlier run is not it)", async () => {
    const clients = testClients();
    await putAuditRecord(clients, TABLE, record('2026-12-07T09:00:00.000Z', 'exec-old'));
    await putAuditRecord(clients, TABLE, record('2026-12-07T10:00:40.000Z', 'exec-break'));
    await putAuditRecord(clients, TABLE, record('2026-12-07T10:05:00.000Z', 'exec-later'));
    const clock = fakeClock(BROKEN_AT);
    const engine = deployedEngine({
      clients,
      config: { auditTableName: TABLE },
      timeoutSeconds: 900,
      ...clock,
    });
    expect(await engine.handle(run())).toEqual({
      outcome: 'remediated',
      executionId: 'exec-break',
      reason: 'findings to remediate: LOGGING_STOPPED',
    });
    expect(clock.slept).toEqual([]);
  });

  it('a failed run: its step and error, from the record', async () => {
    const clients = testClients();
    await putAuditRecord(
      clients,
      TABLE,
      record('2026-12-07T10:00:30.000Z', 'exec-failed', {
        outcome: 'failed',
        error: { step: 'RestoreTrail', name: 'RemediationError', message: 'AccessDenied by an SCP' },
      }),
    );
    const engine = deployedEngine({
      clients,
      config: { auditTableName: TABLE },
      timeoutSeconds: 900,
      ...fakeClock(BROKEN_AT),
    });
    expect(await engine.handle(run())).toMatchObject({
      outcome: 'failed',
      executionId: 'exec-failed',
      failure: { step: 'RestoreTrail', name: 'RemediationError', message: 'AccessDenied by an SCP' },
    });
  });

  it('no record within the timeout: no run arrived; it looked every poll interval until the deadline', async () => {
    const clock = fakeClock(BROKEN_AT);
    const engine = deployedEngine({
      clients: testClients(),
      config: { auditTableName: TABLE },
      timeoutSeconds: 60,
      pollSeconds: 15,
      ...clock,
    });
    expect(await engine.handle(run())).toEqual({
      noRun: `no run of the workflow for ${names.trail} was recorded within 60 s of the StopLogging`,
    });
    expect(clock.slept).toEqual([15_000, 15_000, 15_000, 15_000]);
  });

  it('stops waiting when selftest is interrupted', async () => {
    const controller = new AbortController();
    controller.abort();
    const engine = deployedEngine({
      clients: testClients(),
      config: { auditTableName: TABLE },
      timeoutSeconds: 900,
      ...fakeClock(BROKEN_AT),
    });
    expect(await engine.handle(run(controller.signal))).toHaveProperty('noRun');
  });
});
