import { describe, expect, it } from 'vitest';
import { auditRow } from '../../../services/cli/commands/audit.js';
import { AuditRecordSchema } from '../../../services/domain/audit-record.js';

const run = AuditRecordSchema.parse({
  trail: 'arn:aws:cloudtrail:eu-west-2:111122223333:trail/main',
  run: '2026-11-29T10:00:00.000Z#exec',
  executionId: 'exec',
  triggerKind: 'event',
  eventName: 'StopLogging',
  actor: { arn: 'arn:aws:sts::111122223333:assumed-role/Admin/alice' },
  trailArn: 'arn:aws:cloudtrail:eu-west-2:111122223333:trail/main',
  trailName: 'main',
  region: 'eu-west-2',
  decision: 'remediate',
  outcome: 'remediated',
  severity: 'CRITICAL',
  reason: 'findings to remediate: LOGGING_STOPPED',
  findingsBefore: [{ code: 'LOGGING_STOPPED', message: 'not logging' }],
  actions: [{ step: 'RestoreTrail', api: 'StartLogging', resource: 'main', detail: 'start logging' }],
  startedAt: '2026-11-29T10:00:00.000Z',
  recordedAt: '2026-11-29T10:00:05.000Z',
});

describe('trailguard audit rows', () => {
  it("a run shows its outcome, findings and changes; its delivery check shows the check's status", () => {
    expect(auditRow(run)).toEqual([
      '2026-11-29T10:00:00.000Z',
      'remediated',
      'arn:aws:cloudtrail:eu-west-2:111122223333:trail/main',
      'StopLogging',
      'arn:aws:sts::111122223333:assumed-role/Admin/alice',
      'LOGGING_STOPPED',
      '1',
      '-',
    ]);
    const check = AuditRecordSchema.parse({
      ...run,
      run: `${run.run}#delivery-check`,
      kind: 'delivery-check',
      linkedRun: run.run,
      findingsBefore: [],
      actions: [],
      deliveryCheck: {
        status: 'no-delivery',
        fixedAt: '2026-11-29T10:00:04.000Z',
        checkedAt: '2026-11-29T10:15:04.000Z',
        waitedMinutes: 15,
        summary: 'nothing delivered',
      },
    });
    expect(auditRow(check).slice(1, 2)).toEqual(['delivery: no-delivery']);
    expect(auditRow(check).slice(-3)).toEqual(['-', '0', '-']);
  });

  it('a remediated run shows its time to remediate, and says when it counts from the run start', () => {
    const fromEvent = AuditRecordSchema.parse({
      ...run,
      timeToRemediate: {
        seconds: 42,
        from: 'event',
        since: '2026-11-29T09:59:27.000Z',
        verifiedAt: '2026-11-29T10:00:09.000Z',
      },
    });
    expect(auditRow(fromEvent).at(-1)).toBe('42s');
    const fromSweep = AuditRecordSchema.parse({
      ...run,
      triggerKind: 'sweep',
      timeToRemediate: {
        seconds: 9,
        from: 'run-start',
        since: run.startedAt,
        verifiedAt: '2026-11-29T10:00:09.000Z',
      },
    });
    expect(auditRow(fromSweep).at(-1)).toBe('9s since run start');
  });
});
