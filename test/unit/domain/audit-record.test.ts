import { describe, expect, it } from 'vitest';
import {
  AuditRecordSchema,
  auditKey,
  buildAuditRecord,
  buildDeliveryAuditRecord,
  deliveryAuditKey,
  UNKNOWN_TRAIL,
} from '../../../services/domain/audit-record.js';
import { judgeDelivery } from '../../../services/domain/delivery.js';
import { InvalidInputError } from '../../../services/domain/errors.js';
import { failureToRunContext } from '../../../services/domain/failure.js';
import { buildDeliveryNotification } from '../../../services/domain/notification.js';
import { type RunContext, RunContextSchema } from '../../../services/domain/run-context.js';
import {
  ACCOUNT,
  EXECUTION,
  GROUP_ARN,
  REGION,
  ROLE_ARN,
  remediateContext,
  remediatedContext,
  TRAIL_ARN,
} from '../../support/run-contexts.js';

const NOW = new Date('2025-06-01T12:00:00.000Z');

describe('buildAuditRecord', () => {
  it('records a remediated run', () => {
    const record = buildAuditRecord(remediatedContext(), NOW);
    expect(record).toEqual({
      trail: TRAIL_ARN,
      run: `${EXECUTION.startTime}#${EXECUTION.id}`,
      executionId: EXECUTION.id,
      triggerKind: 'event',
      eventId: 'evt-1',
      eventName: 'StopLogging',
      eventTime: '2025-06-01T11:58:00Z',
      actor: {
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/alice`,
        type: 'AssumedRole',
        sourceIp: '203.0.113.7',
        userAgent: 'aws-cli/2.15.0',
      },
      trailArn: TRAIL_ARN,
      trailName: 'management-events',
      region: REGION,
      account: ACCOUNT,
      decision: 'remediate',
      outcome: 'remediated',
      severity: 'CRITICAL',
      reason: remediatedContext().reason,
      findingsBefore: remediatedContext().before?.assessment.findings.map(({ code, message }) => ({
        code,
        message,
      })),
      actions: remediatedContext().actions,
      stateAfter: {
        logGroupArn: GROUP_ARN,
        roleArn: ROLE_ARN,
        logging: true,
        remainingFindings: [],
        verified: true,
      },
      notification: { messageId: 'msg-1', subject: remediatedContext().notification?.subject },
      startedAt: EXECUTION.startTime,
      recordedAt: NOW.toISOString(),
    });
    expect(AuditRecordSchema.parse(record)).toEqual(record);
  });

  it('keys a run the same way however often it is built', () => {
    expect(auditKey(remediatedContext())).toEqual(auditKey(remediateContext()));
    expect(buildAuditRecord(remediatedContext(), NOW).run).toBe(
      buildAuditRecord(remediatedContext(), new Date(0)).run,
    );
  });

  it('uses the trail id as given when the ARN is unknown', () => {
    const ctx: RunContext = {
      ...remediateContext(),
      trailArn: undefined,
      before: undefined,
      trailRef: { id: 'gone-trail', region: REGION },
      decision: 'skip',
      outcome: 'skipped',
      reason: 'trail no longer exists',
    };
    const record = buildAuditRecord(ctx, NOW);
    expect(record.trail).toBe('gone-trail');
    expect(record.trailArn).toBeUndefined();
    expect(record.trailName).toBe('gone-trail');
    expect(record.findingsBefore).toEqual([]);
    expect(record.stateAfter).toBeUndefined();
  });

  it('a damaged context on the failure path with an empty trail ARN (found by the property test): keyed by the trail as given, or marked unknown', () => {
    const failed = (trailArn: string, id: string) =>
      failureToRunContext(
        {
          failed: {
            ...remediateContext(),
            trailArn,
            trailRef: { id, region: REGION },
            error: { Error: 'RoleTrustError', Cause: '{"errorType":"","errorMessage":"","trace":[]}' },
          },
          execution: EXECUTION,
        },
        REGION,
      );
    expect(buildAuditRecord(failed('', 'management-events'), NOW).trail).toBe('management-events');
    expect(buildAuditRecord(failed('', ''), NOW).trail).toBe(UNKNOWN_TRAIL);
  });

  it('records the state read before as the (unverified) state after when nothing was written', () => {
    const ctx: RunContext = { ...remediateContext(), decision: 'notify', outcome: 'notified' };
    const record = buildAuditRecord(ctx, NOW);
    expect(record.stateAfter).toEqual({
      logging: false,
      remainingFindings: record.findingsBefore,
      verified: false,
    });
  });

  it('records a failure with its error and the failed notification', () => {
    const ctx = failureToRunContext(
      {
        failed: {
          ...remediateContext(),
          actions: remediatedContext().actions,
          error: { Error: 'NotCompliantError', Cause: '{"errorMessage":"still broken"}' },
        },
        execution: EXECUTION,
        notificationError: { Error: 'NotificationError', Cause: 'Publish failed' },
      },
      REGION,
    );
    const record = buildAuditRecord(ctx, NOW);
    expect(record.outcome).toBe('failed');
    expect(record.error).toEqual({ name: 'NotCompliantError', message: 'still broken' });
    expect(record.notification).toEqual({ error: { name: 'NotificationError', message: 'Publish failed' } });
    // Writes were made and not verified: the state after is unknown.
    expect(record.stateAfter).toBeUndefined();
    expect(record.actions).toHaveLength(2);
  });
});

describe('buildAuditRecord: restoration', () => {
  it('carries what RestoreLogGroup put back from the snapshot, and what it could not', () => {
    const restoration = {
      snapshotTakenAt: '2025-06-01T11:00:00.000Z',
      snapshotLogGroupName: 'CloudTrail/management-events',
      restored: ['retention 400 days'],
      notRestored: [{ item: 'subscription filter ToSiem', reason: 'its destination no longer exists' }],
    };
    const record = buildAuditRecord(RunContextSchema.parse({ ...remediatedContext(), restoration }), NOW);
    expect(record.restoration).toEqual(restoration);
    expect(record.kind).toBeUndefined();
    expect(AuditRecordSchema.parse(record)).toEqual(record);
    expect(buildAuditRecord(remediatedContext(), NOW).restoration).toBeUndefined();
  });
});

describe('buildDeliveryAuditRecord', () => {
  const FIXED = '2025-06-01T12:00:30.000Z';
  const checked = (status: { error?: string; time?: string }): RunContext =>
    RunContextSchema.parse({
      ...remediatedContext(),
      deliveryCheck: judgeDelivery({
        status: {
          isLogging: true,
          ...(status.error ? { latestCloudWatchLogsDeliveryError: status.error } : {}),
          ...(status.time ? { latestCloudWatchLogsDeliveryTime: status.time } : {}),
        },
        fixedAt: FIXED,
        checkedAt: '2025-06-01T12:15:31.000Z',
        waitedMinutes: 15,
        region: REGION,
      }),
    });

  it("keys the check under the run, right after the run's own record", () => {
    const ctx = checked({ time: '2025-06-01T12:03:00.000Z' });
    expect(deliveryAuditKey(ctx)).toEqual({
      trail: TRAIL_ARN,
      run: `${EXECUTION.startTime}#${EXECUTION.id}#delivery-check`,
    });
    expect(deliveryAuditKey(ctx).trail).toBe(auditKey(ctx).trail);
    expect(deliveryAuditKey(ctx).run > auditKey(ctx).run).toBe(true);
  });

  it('records a confirmed delivery, linked to the run, with no email', () => {
    const ctx = checked({ time: '2025-06-01T12:03:00.000Z' });
    const record = buildDeliveryAuditRecord(ctx, NOW);
    expect(record).toEqual({
      trail: TRAIL_ARN,
      run: `${EXECUTION.startTime}#${EXECUTION.id}#delivery-check`,
      kind: 'delivery-check',
      linkedRun: `${EXECUTION.startTime}#${EXECUTION.id}`,
      executionId: EXECUTION.id,
      triggerKind: 'event',
      eventId: 'evt-1',
      eventName: 'StopLogging',
      eventTime: '2025-06-01T11:58:00Z',
      actor: {
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/alice`,
        type: 'AssumedRole',
        sourceIp: '203.0.113.7',
        userAgent: 'aws-cli/2.15.0',
      },
      trailArn: TRAIL_ARN,
      trailName: 'management-events',
      region: REGION,
      account: ACCOUNT,
      decision: 'remediate',
      outcome: 'remediated',
      severity: 'INFO',
      reason: ctx.deliveryCheck?.summary,
      findingsBefore: [],
      actions: [],
      deliveryCheck: ctx.deliveryCheck,
      startedAt: EXECUTION.startTime,
      recordedAt: NOW.toISOString(),
    });
    // The context's notification is the run's REMEDIATED email, not a delivery email: not recorded here.
    expect(ctx.notification?.messageId).toBe('msg-1');
    expect(AuditRecordSchema.parse(record)).toEqual(record);
  });

  it('records a delivery error with its finding and the DELIVERY NOT CONFIRMED email', () => {
    const base = checked({ error: 'ResourceNotFoundException: The specified log group does not exist.' });
    const subject = buildDeliveryNotification(base).subject;
    const ctx: RunContext = {
      ...base,
      notification: { messageId: 'msg-2', subject, deduplication: 'deduplicated' },
    };
    const record = buildDeliveryAuditRecord(ctx, NOW);
    expect(record.severity).toBe('HIGH');
    expect(record.deliveryCheck?.status).toBe('error');
    expect(record.deliveryCheck?.finding?.code).toBe('DELIVERY_LOG_GROUP_MISSING');
    expect(record.reason).toBe(base.deliveryCheck?.summary);
    expect(record.notification).toEqual({ messageId: 'msg-2', subject, deduplication: 'deduplicated' });
    expect(AuditRecordSchema.parse(record)).toEqual(record);
  });

  it("leaves the run's own record as it was", () => {
    const ctx = checked({});
    const { recordedAt: _a, ...run } = buildAuditRecord(ctx, NOW);
    const { recordedAt: _b, ...before } = buildAuditRecord(remediatedContext(), new Date(0));
    expect(run).toEqual(before);
    expect(buildDeliveryAuditRecord(ctx, NOW).run).not.toBe(run.run);
  });

  it('parses old run records without kind, and refuses a run without a check or not remediated', () => {
    const old = buildAuditRecord(remediatedContext(), NOW);
    expect(AuditRecordSchema.parse(old).kind).toBeUndefined();
    expect(() => buildDeliveryAuditRecord(remediatedContext(), NOW)).toThrow(InvalidInputError);
    expect(() => buildDeliveryAuditRecord({ ...checked({}), outcome: 'failed' }, NOW)).toThrow(
      InvalidInputError,
    );
  });
});
