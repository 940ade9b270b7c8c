import { describe, expect, it } from 'vitest';
import { findingsEventPattern } from '../../../infra/constructs/trigger.js';
import { InvalidInputError } from '../../../services/domain/errors.js';
import { matchesEventPattern } from '../../../services/domain/event-pattern.js';
import type { RunContext } from '../../../services/domain/run-context.js';
import {
  asffFindingSchema,
  assertFindingsInScope,
  FindingOutOfScopeError,
  findingNote,
  findingsUpdatePlan,
  findingTargets,
  NOTE_MAX,
  outOfScopeReason,
  parseFindingsEvent,
  reopenNote,
  reopensResolvedFindings,
  resolvedByTrailguard,
} from '../../../services/domain/security-hub.js';
import { remediatedContext } from '../../support/run-contexts.js';

const ACCOUNT = '123456789012';
const TRAIL = `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/main`;

function finding(overrides: Record<string, unknown> = {}) {
  return {
    Id: `arn:aws:securityhub:us-east-1:${ACCOUNT}:security-control/CloudTrail.5/finding/1`,
    ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/securityhub',
    AwsAccountId: ACCOUNT,
    UpdatedAt: '2026-11-29T10:00:00.000Z',
    RecordState: 'ACTIVE',
    Compliance: { Status: 'FAILED', SecurityControlId: 'CloudTrail.5' },
    Workflow: { Status: 'NEW' },
    Resources: [{ Type: 'AwsCloudTrailTrail', Id: TRAIL }],
    ...overrides,
  };
}

function event(...findings: unknown[]) {
  return {
    version: '0',
    id: 'e1',
    'detail-type': 'Security Hub Findings - Imported',
    source: 'aws.securityhub',
    account: ACCOUNT,
    time: '2026-11-29T10:00:05Z',
    region: 'us-east-1',
    resources: [],
    detail: { findings },
  };
}

/** The rule's pattern as the template has it (CDK writes `detailType` as `detail-type`). */
const pattern = (() => {
  const { detailType, ...rest } = findingsEventPattern() as Record<string, unknown>;
  return { ...rest, 'detail-type': detailType };
})();

describe('the findings rule pattern (local matcher, arrays of objects as EventBridge matches them)', () => {
  it('matches a failed, active, open CloudTrail.5 finding; not PASSED, RESOLVED or another control', () => {
    expect(matchesEventPattern(pattern, event(finding()))).toBe(true);
    expect(matchesEventPattern(pattern, event(finding({ Workflow: { Status: 'NOTIFIED' } })))).toBe(true);
    expect(
      matchesEventPattern(
        pattern,
        event(finding({ Compliance: { Status: 'PASSED', SecurityControlId: 'CloudTrail.5' } })),
      ),
    ).toBe(false);
    expect(matchesEventPattern(pattern, event(finding({ Workflow: { Status: 'RESOLVED' } })))).toBe(false);
    expect(
      matchesEventPattern(
        pattern,
        event(finding({ Compliance: { Status: 'FAILED', SecurityControlId: 'CloudTrail.4' } })),
      ),
    ).toBe(false);
    expect(matchesEventPattern(pattern, event(finding({ RecordState: 'ARCHIVED' })))).toBe(false);
    expect(
      matchesEventPattern(
        pattern,
        event(finding({ Resources: [{ Type: 'AwsS3Bucket', Id: 'arn:aws:s3:::b' }] })),
      ),
    ).toBe(false);
  });
});

describe('parsing a findings event', () => {
  it('the trails the open, failed CloudTrail.5 findings name, with the finding id', () => {
    expect(findingTargets(parseFindingsEvent(event(finding())))).toEqual([
      {
        findingId: finding().Id,
        productArn: finding().ProductArn,
        updatedAt: '2026-11-29T10:00:00.000Z',
        trailArn: TRAIL,
      },
    ]);
    // A resolved finding names nothing to fix.
    expect(findingTargets(parseFindingsEvent(event(finding({ Workflow: { Status: 'RESOLVED' } }))))).toEqual(
      [],
    );
  });

  it('anything else is InvalidInputError', () => {
    for (const bad of [
      {},
      { ...event(finding()), source: 'aws.cloudtrail' },
      event(),
      event({ Id: 'x' }),
      { ...event(finding()), region: 'nowhere' },
    ]) {
      expect(() => parseFindingsEvent(bad)).toThrow(InvalidInputError);
    }
    expect(() =>
      findingTargets(
        parseFindingsEvent(event(finding({ Resources: [{ Type: 'AwsCloudTrailTrail', Id: 'main' }] }))),
      ),
    ).toThrow(InvalidInputError);
  });
});

describe('findings out: the plan and the note', () => {
  it('remediated without a delivery check (deliveryCheckMinutes 0): RESOLVED after Verify, a note naming the execution and the actions', () => {
    const ctx = remediatedContext();
    const plan = findingsUpdatePlan(ctx, { deliveryCheckMinutes: 0 });
    expect(plan?.workflowStatus).toBe('RESOLVED');
    expect(plan?.note).toMatch(
      /^trailguard remediated: CloudWatch Logs integration restored and verified \(no delivery check configured\) \(execution run-1; actions: /,
    );
    for (const action of ctx.actions) expect(plan?.note).toContain(action.api);
  });

  it('remediated with a delivery check to come: a note only (not RESOLVED before delivery is confirmed)', () => {
    const plan = findingsUpdatePlan(remediatedContext(), { deliveryCheckMinutes: 15 });
    expect(plan?.workflowStatus).toBeUndefined();
    expect(plan?.note).toMatch(
      /resolved only once the delivery check confirms logs arrive \(in 15 minutes\)/,
    );
  });

  it('after the delivery check: RESOLVED when confirmed; NOTIFIED with the check’s reason otherwise', () => {
    const check = {
      fixedAt: '2026-11-29T10:00:00Z',
      checkedAt: '2026-11-29T10:15:00Z',
      waitedMinutes: 15,
    };
    const confirmed = findingsUpdatePlan(
      {
        ...remediatedContext(),
        deliveryCheck: { ...check, status: 'confirmed', summary: 'delivered at 10:07, after the fix' },
      },
      { deliveryCheckMinutes: 15 },
    );
    expect(confirmed?.workflowStatus).toBe('RESOLVED');
    expect(confirmed?.note).toMatch(/delivery confirmed: delivered at 10:07, after the fix/);
    for (const status of ['no-delivery', 'error'] as const) {
      const plan = findingsUpdatePlan(
        {
          ...remediatedContext(),
          deliveryCheck: { ...check, status, summary: 'no delivery since the fix in 15 minutes' },
        },
        { deliveryCheckMinutes: 15 },
      );
      expect(plan?.workflowStatus, status).toBe('NOTIFIED');
      expect(plan?.note, status).toMatch(
        new RegExp(`delivery is not confirmed \\(${status}\\): no delivery since the fix in 15 minutes`),
      );
    }
  });

  it('re-opening: only a run that found the trail failing, never the delivery check’s update; only findings trailguard resolved', () => {
    const ctx = remediatedContext();
    expect((ctx.before?.assessment.findings.length ?? 0) > 0).toBe(true);
    expect(reopensResolvedFindings(ctx)).toBe(true);
    expect(reopensResolvedFindings({ ...ctx, before: undefined })).toBe(false);
    expect(
      reopensResolvedFindings({
        ...ctx,
        deliveryCheck: {
          status: 'confirmed',
          fixedAt: 'x',
          checkedAt: 'x',
          waitedMinutes: 15,
          summary: 'ok',
        },
      }),
    ).toBe(false);
    const parsed = (overrides: Record<string, unknown>) => asffFindingSchema().parse(finding(overrides));
    expect(
      resolvedByTrailguard(
        parsed({ Workflow: { Status: 'RESOLVED' }, Note: { UpdatedBy: 'trailguard', Text: 't' } }),
      ),
    ).toBe(true);
    expect(
      resolvedByTrailguard(
        parsed({ Workflow: { Status: 'RESOLVED' }, Note: { UpdatedBy: 'alice', Text: 't' } }),
      ),
    ).toBe(false);
    expect(resolvedByTrailguard(parsed({ Workflow: { Status: 'RESOLVED' } }))).toBe(false);
    expect(
      resolvedByTrailguard(
        parsed({ Workflow: { Status: 'NOTIFIED' }, Note: { UpdatedBy: 'trailguard', Text: 't' } }),
      ),
    ).toBe(false);
    const note = reopenNote({ note: 'x'.repeat(600) });
    expect(note).toMatch(/^trailguard re-opened: the trail failed again/);
    expect(note.length).toBeLessThanOrEqual(NOTE_MAX);
  });

  it('notified and failed: a note, no status; compliant and skipped: nothing', () => {
    const base = remediatedContext();
    const notified: RunContext = { ...base, outcome: 'notified', reason: 'notify-only mode', actions: [] };
    expect(findingsUpdatePlan(notified)).toEqual({
      note: 'trailguard notified: not fixed automatically, a person must act: notify-only mode (execution run-1; actions: none)',
    });
    const failed: RunContext = {
      ...base,
      outcome: 'failed',
      error: { Error: 'RemediationError', Cause: '{}', step: 'RestoreRole' },
    };
    expect(findingsUpdatePlan(failed)?.workflowStatus).toBeUndefined();
    expect(findingsUpdatePlan(failed)?.note).toMatch(
      /^trailguard failed: the run failed \(RestoreRole: RemediationError\)/,
    );
    expect(findingsUpdatePlan({ ...base, outcome: 'compliant' })).toBeUndefined();
    expect(findingsUpdatePlan({ ...base, outcome: 'skipped' })).toBeUndefined();
  });

  it('the note fits Security Hub’s 512 characters', () => {
    const ctx = remediatedContext();
    const long = { ...ctx, outcome: 'notified' as const, reason: 'x'.repeat(2000) };
    expect(findingNote(long).length).toBeLessThanOrEqual(NOTE_MAX);
  });
});

describe('findings out: only a CloudTrail.5 finding of the run’s trail is ever updated', () => {
  const parsed = (overrides: Record<string, unknown> = {}) => asffFindingSchema().parse(finding(overrides));

  it('a CloudTrail.5 finding naming the trail, in its account, whatever its workflow status, is in scope', () => {
    for (const status of ['NEW', 'NOTIFIED', 'RESOLVED']) {
      expect(outOfScopeReason(parsed({ Workflow: { Status: status } }), TRAIL)).toBeUndefined();
    }
    expect(() => assertFindingsInScope([parsed()], TRAIL)).not.toThrow();
  });

  it('another control, another trail, another account, or a finding naming no trail: refused with the reason', () => {
    const other = `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/other`;
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ Compliance: { Status: 'FAILED', SecurityControlId: 'CloudTrail.1' } }, /control is CloudTrail\.1/],
      [{ Compliance: { Status: 'FAILED' }, ProductFields: { ControlId: 'IAM.1' } }, /control is IAM\.1/],
      [{ Compliance: undefined }, /control is unknown/],
      [{ Resources: [{ Type: 'AwsCloudTrailTrail', Id: other }] }, /does not name the trail/],
      [{ Resources: [{ Type: 'AwsS3Bucket', Id: TRAIL }] }, /does not name the trail/],
      [{ AwsAccountId: '999999999999' }, /account 999999999999, not of the trail's account/],
    ];
    for (const [overrides, reason] of cases) {
      const f = parsed(overrides);
      expect(outOfScopeReason(f, TRAIL), JSON.stringify(overrides)).toMatch(reason);
      // One bad finding among good ones refuses the whole update.
      expect(() => assertFindingsInScope([parsed(), f], TRAIL)).toThrow(FindingOutOfScopeError);
    }
    expect(outOfScopeReason(parsed(), 'not-an-arn')).toMatch(/not a trail ARN/);
  });
});
