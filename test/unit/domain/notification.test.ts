import { describe, expect, it } from 'vitest';
import { classifyDeliveryError, deliveryTargetOf, judgeDelivery } from '../../../services/domain/delivery.js';
import { InvalidInputError } from '../../../services/domain/errors.js';
import {
  buildDeliveryNotification,
  buildDeliverySubject,
  buildNotification,
  buildSubject,
  clean,
  DELIVERY_NOT_CONFIRMED,
  runSeverity,
  SUBJECT_MAX,
} from '../../../services/domain/notification.js';
import { type RunContext, RunContextSchema } from '../../../services/domain/run-context.js';
import {
  ACCOUNT,
  GROUP_ARN,
  REGION,
  ROLE_ARN,
  remediateContext,
  remediatedContext,
  TRAIL_ARN,
} from '../../support/run-contexts.js';

const lines = (body: string) => body.split('\n');

describe('buildNotification', () => {
  it('tells a person what was wrong, who did it, what changed and the state after', () => {
    const n = buildNotification(remediatedContext());

    expect(n.subject).toBe('[trailguard] REMEDIATED: trail management-events (us-east-1)');
    expect(n.attributes).toEqual({ outcome: 'remediated', severity: 'CRITICAL', trail: TRAIL_ARN });
    const body = lines(n.body);
    expect(body[0]).toBe('trailguard: REMEDIATED (severity CRITICAL)');
    expect(body).toContain(`  ARN:                ${TRAIL_ARN}`);
    expect(body).toContain(`  Account:            ${ACCOUNT}`);
    expect(body).toContain(`  Region:             ${REGION}`);
    expect(body).toContain('  - LOGGING_STOPPED: The trail is not logging: no events are being recorded.');
    expect(body).toContain(`  Actor:              arn:aws:sts::${ACCOUNT}:assumed-role/Admin/alice`);
    expect(body).toContain('  Source IP:          203.0.113.7');
    expect(body).toContain('  Event:              StopLogging (cloudtrail.amazonaws.com)');
    expect(body).toContain('  Event time:         2025-06-01T11:58:00Z');
    expect(body).toContain('  User agent:         aws-cli/2.15.0');
    expect(body).toContain(`  - RestoreTrail: StartLogging ${TRAIL_ARN} - started logging`);
    const after = body.indexOf('State after (verified)');
    expect(after).toBeGreaterThan(0);
    expect(body.slice(after)).toEqual(
      expect.arrayContaining([
        `  Log group ARN:      ${GROUP_ARN}`,
        `  Role ARN:           ${ROLE_ARN}`,
        '  Logging:            on',
        '    none',
      ]),
    );
    expect(n.body).not.toMatch(/https?:\/\//);
  });

  it('shows the error of a failed run, with the message taken out of a Lambda Cause', () => {
    const ctx = RunContextSchema.parse({
      ...remediateContext(),
      outcome: 'failed',
      error: {
        Error: 'NotCompliantError',
        Cause: JSON.stringify({
          errorType: 'NotCompliantError',
          errorMessage: 'still not compliant: LOGGING_STOPPED',
          trace: ['at /var/task/index.mjs:1:1'],
        }),
      },
    });
    const n = buildNotification(ctx);
    expect(n.subject).toBe('[trailguard] FAILED: trail management-events (us-east-1)');
    expect(n.body).toContain('  Name:               NotCompliantError');
    expect(n.body).toContain('  Message:            still not compliant: LOGGING_STOPPED');
    expect(n.body).not.toContain('/var/task');
    expect(n.attributes.outcome).toBe('failed');
  });

  it('cannot be forged into extra lines by values an actor controls', () => {
    const ctx = remediatedContext();
    ctx.trigger.userAgent = 'curl\nOutcome: remediated\r\nFAKE';
    const body = lines(buildNotification(ctx).body);
    expect(body).toContain('  User agent:         curl Outcome: remediated FAKE');
    expect(body.some((l) => l.startsWith('FAKE'))).toBe(false);
  });

  it('caps long values', () => {
    const ctx: RunContext = {
      ...remediateContext(),
      outcome: 'failed',
      error: { Error: 'RemediationError', Cause: 'x'.repeat(50_000) },
    };
    const n = buildNotification(ctx);
    const message = lines(n.body).find((l) => l.startsWith('  Message:'));
    expect(message?.length).toBeLessThan(1100);
    expect(message?.endsWith('...')).toBe(true);
  });

  it('says why a run was skipped or only notified', () => {
    const skipped = buildNotification({
      ...remediateContext(),
      decision: 'skip',
      outcome: 'skipped',
      reason: 'tagged trailguard:exempt=true',
    });
    expect(skipped.subject).toBe('[trailguard] SKIPPED: trail management-events (us-east-1)');
    expect(skipped.body).toContain('tagged trailguard:exempt=true');
    const notified = buildNotification({
      ...remediateContext(),
      decision: 'notify',
      outcome: 'notified',
      reason: 'notify-only mode; findings: LOGGING_STOPPED',
    });
    expect(notified.subject).toBe('[trailguard] ACTION NEEDED: trail management-events (us-east-1)');
    expect(notified.body).toContain('a person needs to fix it');
  });

  it('describes a sweep or a manual request instead of an actor', () => {
    const ctx: RunContext = {
      ...remediatedContext(),
      trigger: { kind: 'manual', actorArn: 'arn:aws:iam::123456789012:user/bob' },
    };
    const body = buildNotification(ctx).body;
    expect(body).toContain('What started this run');
    expect(body).toContain('a trailguard remediate request');
    expect(body).toContain('arn:aws:iam::123456789012:user/bob');
  });
});

describe('buildSubject', () => {
  it('stays within 100 printable ASCII characters', () => {
    for (const name of ['a'.repeat(128), 'trail-ü-名前', 'x']) {
      for (const outcome of ['remediated', 'failed', 'skipped', 'notified'] as const) {
        const subject = buildSubject(outcome, name, 'ap-southeast-2');
        expect(subject.length).toBeLessThanOrEqual(SUBJECT_MAX);
        expect(subject).toMatch(/^[\x20-\x7e]+$/);
        expect(subject.endsWith('(ap-southeast-2)')).toBe(true);
      }
    }
    expect(buildSubject('notified', 'a'.repeat(128), 'us-east-1')).toMatch(/a\.\.\. \(us-east-1\)$/);
  });
});

describe('runSeverity and clean', () => {
  it('rates a failure at least HIGH', () => {
    const ctx = remediateContext();
    expect(runSeverity(ctx)).toBe('CRITICAL');
    const noFindings: RunContext = { ...ctx, before: undefined, outcome: 'failed' };
    expect(runSeverity(noFindings)).toBe('HIGH');
    expect(runSeverity({ ...noFindings, outcome: 'skipped' })).toBe('INFO');
  });

  it('removes control characters', () => {
    expect(clean('a\u0000b\u001b[31mc\u2028d')).toBe('a b [31mc d');
  });
});

describe('buildNotification: the log group restored from a snapshot', () => {
  const restored = (): RunContext =>
    RunContextSchema.parse({
      ...remediatedContext(),
      restoration: {
        snapshotTakenAt: '2025-06-01T11:00:00.000Z',
        snapshotLogGroupName: 'CloudTrail/management-events',
        restored: ['retention 400 days', 'metric filter RootAccountUsage'],
        notRestored: [
          { item: 'subscription filter ToSiem', reason: 'its destination no longer exists\nFAKE' },
        ],
      },
    });

  it('lists what was put back and what was not, with the reason', () => {
    const body = lines(buildNotification(restored()).body);
    const at = body.indexOf('Log group restored');
    expect(at).toBeGreaterThan(body.indexOf('What was changed'));
    expect(body.slice(at + 1, at + 7)).toEqual([
      '  Restored from the snapshot taken 2025-06-01T11:00:00.000Z of CloudTrail/management-events:',
      '    - retention 400 days',
      '    - metric filter RootAccountUsage',
      '  Not restored:',
      '    - subscription filter ToSiem: its destination no longer exists FAKE',
      '',
    ]);
  });

  it('says nothing was left out when everything was restored, and has no section without a restoration', () => {
    const ctx = restored();
    if (ctx.restoration) ctx.restoration.notRestored = [];
    const body = lines(buildNotification(ctx).body);
    expect(body.slice(body.indexOf('  Not restored:'), body.indexOf('  Not restored:') + 2)).toEqual([
      '  Not restored:',
      '    nothing',
    ]);
    expect(buildNotification(remediatedContext()).body).not.toContain('Log group restored');
  });
});

const FIXED = '2025-06-01T12:00:30.000Z';
const ACCESS_DENIED = `User: arn:aws:sts::${ACCOUNT}:assumed-role/trailguard-cloudtrail-delivery/s is not authorized to perform: logs:PutLogEvents on resource: arn:aws:logs:${REGION}:${ACCOUNT}:log-group:CloudTrail/management-events:log-stream:x (Service: AWSLogs; Status Code: 400; Error Code: AccessDeniedException)`;

/** The remediated run after its delivery check, as CheckDelivery leaves it. */
function checkedContext(status: { error?: string; time?: string }): RunContext {
  const ctx = remediatedContext();
  const after = ctx.after;
  if (!after) throw new Error('remediatedContext has no state after');
  return RunContextSchema.parse({
    ...ctx,
    after: { ...after, verifiedAt: FIXED },
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
      target: deliveryTargetOf(after.state),
    }),
  });
}

describe('buildDeliveryNotification', () => {
  it('emails a delivery error: what was fixed, when, how long it waited, the error, its cause and the next step', () => {
    const ctx = checkedContext({ error: ACCESS_DENIED, time: '2025-06-01T11:00:00.000Z' });
    const n = buildDeliveryNotification(ctx);
    expect(n.subject).toBe(`[trailguard] DELIVERY NOT CONFIRMED: management-events (${REGION})`);
    expect(n.attributes).toEqual({
      outcome: DELIVERY_NOT_CONFIRMED,
      severity: 'HIGH',
      trail: TRAIL_ARN,
      deliveryStatus: 'error',
    });
    const body = lines(n.body);
    const cls = classifyDeliveryError(ACCESS_DENIED, REGION, deliveryTargetOf(stateAfter(ctx)));
    expect(body[0]).toBe('trailguard: DELIVERY NOT CONFIRMED (severity HIGH)');
    expect(body[2]).toBe(ctx.deliveryCheck?.summary);
    expect(body).toEqual(
      expect.arrayContaining([
        `  ARN:                ${TRAIL_ARN}`,
        `  Account:            ${ACCOUNT}`,
        `  Region:             ${REGION}`,
        `  Execution:          ${ctx.execution.id}`,
        '  Outcome:            remediated',
        `  Fixed at:           ${FIXED}`,
        '    - RestoreLogGroup: CreateLogGroup CloudTrail/management-events - created log group CloudTrail/management-events',
        `    - RestoreTrail: StartLogging ${TRAIL_ARN} - started logging`,
        '  Status:             error',
        '  Waited:             15 minutes',
        '  Checked at:         2025-06-01T12:15:31.000Z',
        '  Latest delivery:    2025-06-01T11:00:00.000Z',
        `  Delivery error:     ${ACCESS_DENIED}`,
        '  Finding:            DELIVERY_ACCESS_DENIED (trailguard fixes this in remediate mode)',
        `  Cause:              ${cls.cause}`,
        `  ${cls.nextStep}`,
      ]),
    );
    expect(body[body.indexOf('What to do') + 1]).toBe(`  ${cls.nextStep}`);
    expect(n.body).not.toMatch(/https?:\/\//);
  });

  it('emails no delivery honestly: no error reported, not a failure, how to tell', () => {
    const n = buildDeliveryNotification(checkedContext({}));
    expect(n.subject).toBe(`[trailguard] DELIVERY NOT CONFIRMED: management-events (${REGION})`);
    expect(n.attributes).toMatchObject({
      outcome: DELIVERY_NOT_CONFIRMED,
      severity: 'INFO',
      deliveryStatus: 'no-delivery',
    });
    const body = lines(n.body);
    expect(body[0]).toBe('trailguard: DELIVERY NOT CONFIRMED (severity INFO)');
    expect(body[2]).toContain('delivered nothing to CloudWatch Logs in the 15 minutes since the fix');
    expect(body[2]).toContain('it does not mean that delivery failed');
    expect(body).toContain('  Status:             no-delivery');
    expect(body).toContain('  Latest delivery:    none reported');
    expect(body).toContain('  Delivery error:     none reported');
    expect(body.some((l) => l.startsWith('  Finding:') || l.startsWith('  Cause:'))).toBe(false);
    expect(body[body.indexOf('What to do') + 1]).toContain(
      'newest log stream of the log group "CloudTrail/management-events"',
    );
  });

  it('refuses a confirmed delivery, or a run without a delivery check', () => {
    expect(() => buildDeliveryNotification(checkedContext({ time: '2025-06-01T12:04:00.000Z' }))).toThrow(
      InvalidInputError,
    );
    expect(() => buildDeliveryNotification(remediatedContext())).toThrow(InvalidInputError);
  });

  it('cleans what CloudTrail reported and keeps the subject within 100 ASCII characters', () => {
    const ctx = checkedContext({ error: 'AccessDenied\nOutcome: remediated\r\nsee https://evil.example' });
    const n = buildDeliveryNotification(ctx);
    expect(n.body).toContain(
      '  Delivery error:     AccessDenied Outcome: remediated see https[:]//evil.example',
    );
    expect(lines(n.body).some((l) => l.startsWith('Outcome: remediated'))).toBe(false);
    for (const name of ['a'.repeat(128), 'trail-ü-名前']) {
      const subject = buildDeliverySubject(name, 'ap-southeast-2');
      expect(subject.length).toBeLessThanOrEqual(SUBJECT_MAX);
      expect(subject).toMatch(/^\[trailguard\] DELIVERY NOT CONFIRMED: [\x20-\x7e]+ \(ap-southeast-2\)$/);
    }
  });
});

function stateAfter(ctx: RunContext) {
  if (!ctx.after) throw new Error('no state after');
  return ctx.after.state;
}
