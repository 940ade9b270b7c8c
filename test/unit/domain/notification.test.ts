import { describe, expect, it } from 'vitest';
import {
  buildNotification,
  buildSubject,
  clean,
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
