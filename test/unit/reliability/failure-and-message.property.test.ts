/**
 * The failure path must report whatever reached it, and what people read must be safe:
 * - failureToRunContext turns ANY failed-state input (random, a damaged RunContext, a raw event) into a
 *   RunContext with outcome `failed`; the email and the audit record are built from it without throwing.
 * - The email (subject and body) holds no secrets or raw event data (access key ids, request and response
 *   elements, TLS details, session attributes), no links even when the caller put URLs in the fields
 *   CloudTrail takes from the request (user agent, session name, error messages), no control characters,
 *   and it stays bounded: subject at most 100 printable ASCII characters.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildAuditRecord } from '../../../services/domain/audit-record.js';
import { InvalidInputError } from '../../../services/domain/errors.js';
import { parseWorkflowInput } from '../../../services/domain/events.js';
import { failureToRunContext } from '../../../services/domain/failure.js';
import { buildNotification } from '../../../services/domain/notification.js';
import { RunContextSchema } from '../../../services/domain/run-context.js';
import { EXECUTION, remediateContext, remediatedContext } from '../../support/run-contexts.js';
import { ACCOUNT, mutationArb, validEventArb, wrongValueArb } from './arbitraries.js';

const RUNS = 150;
const NOW = new Date('2026-11-20T14:05:00Z');
/** A URL scheme's `://`: what email clients turn into a clickable link. */
const LINK = '://';

function controlCharacters(text: string): number[] {
  return [...text]
    .map((c) => c.codePointAt(0) ?? 0)
    .filter((code) => code !== 0x0a && (code < 0x20 || code === 0x7f || code === 0x2028 || code === 0x2029));
}

function checkMessage(ctx: ReturnType<typeof failureToRunContext>) {
  const n = buildNotification(ctx);
  expect(n.subject.length).toBeLessThanOrEqual(100);
  expect(n.subject).toMatch(/^[\x20-\x7e]+$/);
  // Plain text: only line breaks as control characters.
  expect(controlCharacters(n.body)).toEqual([]);
  expect(n.body.length).toBeLessThanOrEqual(61_000);
  const record = buildAuditRecord(ctx, NOW);
  expect(record.outcome).toBe(ctx.outcome);
  expect(JSON.parse(JSON.stringify(record))).toEqual(record);
  return n;
}

const taskError = fc.oneof(
  fc.record({ Error: fc.string(), Cause: fc.option(fc.string(), { nil: undefined }) }),
  fc.record({
    Error: fc.constantFrom('RoleTrustError', 'NotCompliantError', 'States.TaskFailed', 'Error'),
    Cause: fc
      .record({ errorType: fc.string(), errorMessage: fc.string(), trace: fc.array(fc.string()) })
      .map((c) => JSON.stringify(c)),
  }),
  wrongValueArb,
);

describe('the failure path accepts whatever the failed state held', () => {
  it('random failed-state content: a failed RunContext, an email and an audit record', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ maxLength: 12 }), fc.anything({ maxDepth: 3 }), { maxKeys: 8 }),
        taskError,
        fc.option(taskError, { nil: undefined }),
        (failed, error, notificationError) => {
          const envelope = {
            failed: { ...failed, error },
            execution: EXECUTION,
            ...(notificationError === undefined ? {} : { notificationError }),
          };
          const ctx = failureToRunContext(envelope, 'us-east-1');
          expect(ctx.outcome).toBe('failed');
          expect(RunContextSchema.safeParse(ctx).success).toBe(true);
          checkMessage(ctx);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('a damaged RunContext as failed state: still a failed RunContext and a message', () => {
    const damaged = fc.oneof(mutationArb(remediateContext()), mutationArb(remediatedContext()));
    fc.assert(
      fc.property(damaged, taskError, ({ mutated }, error) => {
        const failed = { ...(mutated as Record<string, unknown>), error };
        const ctx = failureToRunContext({ failed, execution: EXECUTION }, 'us-east-1');
        expect(ctx.outcome).toBe('failed');
        checkMessage(ctx);
      }),
      { numRuns: RUNS },
    );
  });

  it('a raw event as failed state (Check failed): the trail and actor are kept', () => {
    fc.assert(
      fc.property(validEventArb, taskError, ({ event, trail }, error) => {
        const ctx = failureToRunContext({ failed: { ...event, error }, execution: EXECUTION }, 'us-east-1');
        expect(ctx.trailRef.id).toBe(trail);
        expect(ctx.trigger.eventName).toBe(event.detail.eventName);
        checkMessage(ctx);
      }),
      { numRuns: RUNS },
    );
  });

  it('an envelope without an execution identity is InvalidInputError (nothing to key the record by)', () => {
    for (const execution of [undefined, null, {}, { id: '' }, { id: 'x' }, 'x'])
      expect(() => failureToRunContext({ failed: {}, execution }, 'us-east-1')).toThrow(InvalidInputError);
  });
});

/** A real StopLogging event as EventBridge delivers it, carrying a canary in every field not meant for people. */
function eventWithCanaries(overrides: { userAgent?: string; session?: string; errorMessage?: string } = {}) {
  const session = overrides.session ?? 'alice';
  return {
    version: '0',
    id: 'c0ffee00-0000-4000-8000-000000000001',
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'aws.cloudtrail',
    account: ACCOUNT,
    time: '2026-11-20T14:03:11Z',
    region: 'us-east-1',
    resources: [],
    detail: {
      eventVersion: '1.09',
      userIdentity: {
        type: 'AssumedRole',
        principalId: 'AROACANARYPRINCIPAL:alice',
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/${session}`,
        accountId: ACCOUNT,
        accessKeyId: 'ASIACANARYACCESSKEY1',
        sessionContext: {
          sessionIssuer: { type: 'Role', arn: `arn:aws:iam::${ACCOUNT}:role/Admin`, userName: 'Admin' },
          attributes: { creationDate: '2026-11-20T13:58:02Z', mfaAuthenticated: 'CANARY-MFA' },
        },
      },
      eventTime: '2026-11-20T14:03:11Z',
      eventSource: 'cloudtrail.amazonaws.com',
      eventName: 'StopLogging',
      awsRegion: 'us-east-1',
      sourceIPAddress: '203.0.113.7',
      userAgent: overrides.userAgent ?? 'aws-cli/2.15.0',
      requestParameters: { name: 'management-events', canarySecret: 'CANARY-REQUEST-PARAMETER' },
      responseElements: { canary: 'CANARY-RESPONSE-ELEMENT' },
      additionalEventData: { canary: 'CANARY-ADDITIONAL-DATA' },
      requestID: 'CANARY-REQUEST-ID',
      eventID: 'e0000000-0000-4000-8000-000000000001',
      tlsDetails: { clientProvidedHostHeader: 'CANARY-TLS-HOST' },
      ...(overrides.errorMessage ? { errorCode: 'AccessDenied', errorMessage: overrides.errorMessage } : {}),
    },
  };
}

const CANARIES = [
  'ASIACANARYACCESSKEY1',
  'AROACANARYPRINCIPAL',
  'CANARY-MFA',
  'CANARY-REQUEST-PARAMETER',
  'CANARY-RESPONSE-ELEMENT',
  'CANARY-ADDITIONAL-DATA',
  'CANARY-REQUEST-ID',
  'CANARY-TLS-HOST',
];

/** The RunContext a run of this event would carry, at each outcome the email can have. */
function contextsFor(event: unknown) {
  const parsed = parseWorkflowInput(event);
  const base = remediatedContext();
  const remediated = RunContextSchema.parse({ ...base, trigger: parsed.trigger });
  const failedFromCheck = failureToRunContext(
    {
      failed: {
        ...(event as Record<string, unknown>),
        error: { Error: 'AwsReadError', Cause: 'GetTrail failed' },
      },
      execution: EXECUTION,
    },
    'us-east-1',
  );
  const failedLater = failureToRunContext(
    {
      failed: { ...remediated, error: { Error: 'NotCompliantError', Cause: 'still broken' } },
      execution: EXECUTION,
    },
    'us-east-1',
  );
  return { remediated, failedFromCheck, failedLater };
}

describe('what the email says', () => {
  it('names the actor, source IP, time and event, and nothing from the raw event beyond that', () => {
    for (const [outcome, ctx] of Object.entries(contextsFor(eventWithCanaries()))) {
      const { subject, body } = buildNotification(ctx);
      expect(body, outcome).toContain(`arn:aws:sts::${ACCOUNT}:assumed-role/Admin/alice`);
      expect(body, outcome).toContain('203.0.113.7');
      expect(body, outcome).toContain('StopLogging');
      expect(body, outcome).toContain('2026-11-20T14:03:11Z');
      for (const canary of CANARIES) {
        expect(body, `${outcome}: ${canary}`).not.toContain(canary);
        expect(subject, `${outcome}: ${canary}`).not.toContain(canary);
      }
    }
  });

  it('has no link, whatever URLs the caller put in the user agent or session name', () => {
    const url = fc
      .tuple(
        fc.constantFrom('https', 'http', 'ftp', 'javascript', 'HTTPS', 'mailto+x'),
        fc.webAuthority(),
        fc.webPath(),
      )
      .map(([scheme, host, path]) => `${scheme}://${host}${path}`);
    fc.assert(
      fc.property(url, fc.string({ maxLength: 30 }), (link, text) => {
        const event = eventWithCanaries({ userAgent: `${text} please sign in at ${link} ${text}` });
        for (const ctx of Object.values(contextsFor(event))) {
          const { subject, body } = buildNotification(ctx);
          expect(body).not.toContain(LINK);
          expect(subject).not.toContain(LINK);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('has no link in an error message either (errors can quote what the caller sent)', () => {
    const ctx = failureToRunContext(
      {
        failed: {
          ...remediateContext(),
          error: {
            Error: 'RemediationError',
            Cause: JSON.stringify({
              errorType: 'RemediationError',
              errorMessage: 'see https://evil.example/x',
            }),
          },
        },
        execution: EXECUTION,
      },
      'us-east-1',
    );
    expect(buildNotification(ctx).body).not.toContain(LINK);
  });
});
