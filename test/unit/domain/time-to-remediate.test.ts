import { describe, expect, it } from 'vitest';
import { buildAuditRecord } from '../../../services/domain/audit-record.js';
import { type RunContext, RunContextSchema } from '../../../services/domain/run-context.js';
import { timeToRemediate } from '../../../services/domain/time-to-remediate.js';
import { EXECUTION, remediateContext, remediatedContext } from '../../support/run-contexts.js';

const VERIFIED_AT = '2025-06-01T11:59:07.400Z';

function verified(ctx: RunContext = remediatedContext(), verifiedAt = VERIFIED_AT): RunContext {
  const after = ctx.after;
  if (!after) throw new Error('the fixture must be a remediated run');
  return RunContextSchema.parse({ ...ctx, after: { ...after, verifiedAt } });
}

describe('timeToRemediate', () => {
  it("an event's run counts from the CloudTrail eventTime to Verify's confirmation", () => {
    // eventTime 11:58:00Z, verified 11:59:07.4Z: 67.4 s, rounded to whole seconds.
    expect(timeToRemediate(verified())).toEqual({
      seconds: 67,
      from: 'event',
      since: '2025-06-01T11:58:00Z',
      verifiedAt: VERIFIED_AT,
    });
  });

  it("a sweep or manual run (no event) counts from the execution's start", () => {
    for (const kind of ['sweep', 'manual'] as const) {
      const ctx = verified(RunContextSchema.parse({ ...remediatedContext(), trigger: { kind } }));
      expect(timeToRemediate(ctx)).toEqual({
        seconds: 7,
        from: 'run-start',
        since: EXECUTION.startTime,
        verifiedAt: VERIFIED_AT,
      });
    }
  });

  it('a run that did not remediate, or whose fix was not confirmed by Verify, has none', () => {
    expect(timeToRemediate(remediateContext())).toBeUndefined();
    expect(timeToRemediate(remediatedContext())).toBeUndefined(); // no verifiedAt
    expect(timeToRemediate(RunContextSchema.parse({ ...verified(), outcome: 'failed' }))).toBeUndefined();
  });

  it('a clock skew that puts Verify before the event gives 0, never a negative time', () => {
    expect(timeToRemediate(verified(remediatedContext(), '2025-06-01T11:57:59.000Z'))?.seconds).toBe(0);
  });

  it('an unreadable eventTime falls back to the run start', () => {
    const ctx = verified(
      RunContextSchema.parse({
        ...remediatedContext(),
        trigger: { ...remediatedContext().trigger, eventTime: 'yesterday' },
      }),
    );
    expect(timeToRemediate(ctx)).toMatchObject({ from: 'run-start', seconds: 7 });
  });

  it("is written into the run's audit record", () => {
    expect(buildAuditRecord(verified(), new Date(VERIFIED_AT)).timeToRemediate).toEqual({
      seconds: 67,
      from: 'event',
      since: '2025-06-01T11:58:00Z',
      verifiedAt: VERIFIED_AT,
    });
    expect(buildAuditRecord(remediateContext(), new Date(VERIFIED_AT)).timeToRemediate).toBeUndefined();
  });
});
