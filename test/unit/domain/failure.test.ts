import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../services/domain/errors.js';
import {
  describeTaskError,
  failureToRunContext,
  isFailureEnvelope,
} from '../../../services/domain/failure.js';
import { RunContextSchema } from '../../../services/domain/run-context.js';
import { ACCOUNT, EXECUTION, REGION, remediateContext, TRAIL_ARN } from '../../support/run-contexts.js';

const error = { Error: 'RoleTrustError', Cause: '{"errorType":"RoleTrustError","errorMessage":"bad trust"}' };

const event = {
  version: '0',
  id: 'evt-outer',
  'detail-type': 'AWS API Call via CloudTrail',
  source: 'aws.cloudtrail',
  account: ACCOUNT,
  time: '2025-06-01T11:58:00Z',
  region: REGION,
  detail: {
    eventName: 'UpdateTrail',
    eventSource: 'cloudtrail.amazonaws.com',
    awsRegion: REGION,
    eventID: 'evt-1',
    sourceIPAddress: '198.51.100.1',
    userIdentity: { type: 'IAMUser', arn: `arn:aws:iam::${ACCOUNT}:user/bob` },
    requestParameters: { name: TRAIL_ARN },
  },
};

describe('failureToRunContext', () => {
  it('keeps a failed RunContext and marks it failed with the error', () => {
    const failed = { ...remediateContext(), error };
    const ctx = failureToRunContext({ failed, execution: EXECUTION }, 'eu-west-1');
    expect(ctx).toEqual(RunContextSchema.parse({ ...remediateContext(), outcome: 'failed', error }));
  });

  it('derives trigger and trail from the raw execution input when Check failed', () => {
    const ctx = failureToRunContext({ failed: { ...event, error }, execution: EXECUTION }, 'eu-west-1');
    expect(ctx).toMatchObject({
      outcome: 'failed',
      error,
      trailRef: { id: TRAIL_ARN, region: REGION },
      account: ACCOUNT,
      trigger: { kind: 'event', eventName: 'UpdateTrail', actorArn: `arn:aws:iam::${ACCOUNT}:user/bob` },
      actions: [],
    });
    expect(ctx.before).toBeUndefined();
  });

  it('derives them from a direct request too', () => {
    const request = { source: 'trailguard', kind: 'sweep', trail: 'org-trail', region: 'eu-central-1' };
    const ctx = failureToRunContext({ failed: { ...request, error }, execution: EXECUTION }, REGION);
    expect(ctx.trigger).toEqual({ kind: 'sweep' });
    expect(ctx.trailRef).toEqual({ id: 'org-trail', region: 'eu-central-1' });
  });

  it('never throws on malformed content, falling back to an unknown trail', () => {
    for (const failed of [{}, { error: 'not an object' }, { detail: 42 }, 'a string', null, [1, 2]]) {
      const ctx = failureToRunContext({ failed, execution: EXECUTION }, 'eu-west-1');
      expect(ctx.outcome).toBe('failed');
      expect(ctx.trailRef).toEqual({ id: 'unknown', region: 'eu-west-1' });
      expect(ctx.trigger).toEqual({ kind: 'event' });
      expect(ctx.error?.Error).toBe('UnknownError');
    }
  });

  it('salvages trail and trigger from a partly valid RunContext', () => {
    const { decision: _decision, ...broken } = remediateContext();
    const ctx = failureToRunContext(
      { failed: { ...broken, decision: 'bogus', error }, execution: EXECUTION },
      'x',
    );
    expect(ctx.trailRef).toEqual({ id: 'management-events', region: REGION });
    expect(ctx.trailArn).toBe(TRAIL_ARN);
    expect(ctx.trigger.eventName).toBe('StopLogging');
  });

  it('carries the notification error of a failed NotifyFailure', () => {
    const ctx = failureToRunContext(
      {
        failed: { ...event, error },
        execution: EXECUTION,
        notificationError: { Error: 'NotificationError' },
      },
      REGION,
    );
    expect(ctx.notificationError).toEqual({ Error: 'NotificationError' });
  });

  it('caps a huge Cause', () => {
    const ctx = failureToRunContext(
      { failed: { error: { Error: 'E', Cause: 'x'.repeat(100_000) } }, execution: EXECUTION },
      REGION,
    );
    expect(ctx.error?.Cause?.length).toBeLessThanOrEqual(8000);
  });

  it('needs the execution identity', () => {
    expect(() => failureToRunContext({ failed: {} }, REGION)).toThrow(InvalidInputError);
  });
});

describe('isFailureEnvelope', () => {
  it('tells the failure envelope from a RunContext', () => {
    expect(isFailureEnvelope({ failed: {}, execution: EXECUTION })).toBe(true);
    expect(isFailureEnvelope(remediateContext())).toBe(false);
    expect(isFailureEnvelope({ failed: {} })).toBe(false);
    expect(isFailureEnvelope(null)).toBe(false);
  });
});

describe('describeTaskError', () => {
  it('extracts errorMessage from a Lambda Cause and drops the trace', () => {
    expect(
      describeTaskError({
        Error: 'States.TaskFailed',
        Cause: JSON.stringify({ errorType: 'X', errorMessage: 'boom', trace: ['secret'] }),
      }),
    ).toEqual({ name: 'States.TaskFailed', message: 'boom' });
  });

  it('keeps a plain Cause and fills a missing name', () => {
    expect(describeTaskError({ Error: '', Cause: 'plain words' })).toEqual({
      name: 'UnknownError',
      message: 'plain words',
    });
    expect(
      describeTaskError({ Error: 'Error', Cause: '{"errorType":"TypeError","errorMessage":"m"}' }),
    ).toEqual({
      name: 'TypeError',
      message: 'm',
    });
    expect(describeTaskError({ Error: 'States.Timeout' })).toEqual({ name: 'States.Timeout', message: '' });
    expect(describeTaskError({ Error: 'E', Cause: '{not json' }).message).toBe('{not json');
  });
});
