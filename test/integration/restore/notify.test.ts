import { beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError, NotificationError } from '../../../services/domain/errors.js';
import { type RunContext, RunContextSchema } from '../../../services/domain/run-context.js';
import type { HandlerDeps } from '../../../services/handlers/deps.js';
import { notifyStep } from '../../../services/handlers/notify.js';
import { restoreLogGroupStep } from '../../../services/handlers/restore-log-group.js';
import { restoreRoleStep } from '../../../services/handlers/restore-role.js';
import { restoreTrailStep } from '../../../services/handlers/restore-trail.js';
import { verifyStep } from '../../../services/handlers/verify.js';
import { ACCOUNT, emulatorNotifications, REGION, resetEmulator } from '../../support/aws.js';
import {
  checkContext,
  createBucket,
  createTrail,
  execution,
  makeDeps,
  stopLoggingEvent,
  trailArnOf,
} from '../../support/seed-remediation.js';

async function remediated(deps: HandlerDeps, trail: string): Promise<RunContext> {
  let out: unknown = await checkContext(deps, trail);
  for (const step of [restoreLogGroupStep, restoreRoleStep, restoreTrailStep, verifyStep])
    out = await step(deps)(out);
  return RunContextSchema.parse(out);
}

function attributeValues(attrs: Record<string, { StringValue?: string; Value?: string }>) {
  return Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, v.StringValue ?? v.Value]));
}

describe('Notify', () => {
  beforeEach(async () => {
    await resetEmulator();
    await createBucket();
  });

  it('publishes one readable message for a remediated run, with filterable attributes', async () => {
    const deps = await makeDeps();
    await createTrail(deps.clients, 'management-events');
    const ctx = await remediated(deps, 'management-events');

    const out = RunContextSchema.parse(await notifyStep(deps)(ctx));

    const sent = await emulatorNotifications();
    expect(sent).toHaveLength(1);
    const [message] = sent;
    expect(message?.topicArn).toBe(deps.topicArn);
    expect(message?.subject).toBe(`[trailguard] REMEDIATED: trail management-events (${REGION})`);
    expect(message?.subject?.length).toBeLessThanOrEqual(100);
    expect(attributeValues(message?.messageAttributes ?? {})).toEqual({
      outcome: 'remediated',
      severity: 'CRITICAL',
      trail: trailArnOf('management-events'),
    });
    const body = message?.message ?? '';
    for (const text of [
      trailArnOf('management-events'),
      ACCOUNT,
      'LOGGING_STOPPED',
      `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/alice`,
      '203.0.113.7',
      'StopLogging',
      '2025-06-01T11:58:00Z',
      'aws-cli/2.15.0',
      'CreateLogGroup',
      'PutRolePolicy',
      'UpdateTrail',
      'StartLogging',
      'State after (verified)',
    ])
      expect(body).toContain(text);
    expect(body).not.toMatch(/https?:\/\//);
    expect(body).not.toContain('requestParameters');
    expect(body).not.toContain('detail-type');
    expect(out.notification).toEqual({ messageId: message?.messageId, subject: message?.subject });
    expect(out.outcome).toBe('remediated');
  });

  it('notifies a failure from the failure path, with the error message taken from the Lambda Cause', async () => {
    const deps = await makeDeps();
    const cause = JSON.stringify({
      errorType: 'TransientAwsError',
      errorMessage: 'GetTrail management-events failed: Rate exceeded',
      trace: ['TransientAwsError: at secret/internal/path.js:1:1'],
    });
    const envelope = {
      failed: {
        ...stopLoggingEvent('management-events'),
        error: { Error: 'TransientAwsError', Cause: cause },
      },
      execution: execution(7),
    };

    const out = RunContextSchema.parse(await notifyStep(deps)(envelope));

    const [message] = await emulatorNotifications();
    expect(message?.subject).toBe(`[trailguard] FAILED: trail management-events (${REGION})`);
    expect(attributeValues(message?.messageAttributes ?? {})).toMatchObject({
      outcome: 'failed',
      severity: 'HIGH',
    });
    expect(message?.message).toContain('TransientAwsError');
    expect(message?.message).toContain('GetTrail management-events failed: Rate exceeded');
    expect(message?.message).not.toContain('secret/internal/path.js');
    expect(message?.message).toContain('203.0.113.7');
    expect(out).toMatchObject({
      outcome: 'failed',
      error: { Error: 'TransientAwsError' },
      trailRef: { id: 'management-events', region: REGION },
      execution: execution(7),
    });
  });

  it('still sends the failure email when the failed state held nothing usable', async () => {
    const deps = await makeDeps();
    const out = RunContextSchema.parse(
      await notifyStep(deps)({ failed: { garbage: [1, 2, 3] }, execution: execution(8) }),
    );
    const [message] = await emulatorNotifications();
    expect(message?.subject).toBe(`[trailguard] FAILED: trail unknown (${REGION})`);
    expect(out.outcome).toBe('failed');
    expect(out.trailRef).toEqual({ id: 'unknown', region: REGION });
  });

  it('notifies notify-only and skipped runs with their reason', async () => {
    const deps = await makeDeps({ config: { mode: 'notify-only' } });
    await createTrail(deps.clients, 'watched-trail');
    await notifyStep(deps)(await checkContext(deps, 'watched-trail', 1));
    await notifyStep(deps)(await checkContext(deps, 'gone-trail', 2));

    const [notified, skipped] = await emulatorNotifications();
    expect(notified?.subject).toBe(`[trailguard] ACTION NEEDED: trail watched-trail (${REGION})`);
    expect(notified?.message).toContain('notify-only mode');
    expect(skipped?.subject).toBe(`[trailguard] SKIPPED: trail gone-trail (${REGION})`);
    expect(skipped?.message).toContain('trail no longer exists');
  });

  it('keeps the subject within 100 characters for the longest trail names', async () => {
    const deps = await makeDeps({ config: { mode: 'notify-only' } });
    const name = `t${'x'.repeat(126)}z`;
    await createTrail(deps.clients, name);
    await notifyStep(deps)(await checkContext(deps, name));
    const [message] = await emulatorNotifications();
    expect(message?.subject?.length).toBeLessThanOrEqual(100);
    expect(message?.subject).toMatch(
      new RegExp(`^\\[trailguard\\] ACTION NEEDED: trail tx+\\.\\.\\. \\(${REGION}\\)$`),
    );
    expect(message?.message).toContain(name);
  });

  it('throws NotificationError when the topic cannot be published to', async () => {
    const deps = await makeDeps();
    const ctx = await checkContext(deps, 'gone-trail');
    const broken = { ...deps, topicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:no-such-topic` };
    const error = await notifyStep(broken)(ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotificationError);
    expect((error as Error).cause).toBeDefined();
  });

  it('refuses runs that need no notification', async () => {
    const deps = await makeDeps();
    await createTrail(deps.clients, 'some-trail');
    const ctx = await checkContext(deps, 'some-trail');
    expect(ctx.decision).toBe('remediate');
    await expect(notifyStep(deps)(ctx)).rejects.toBeInstanceOf(InvalidInputError);
    expect(await emulatorNotifications()).toEqual([]);
  });
});
