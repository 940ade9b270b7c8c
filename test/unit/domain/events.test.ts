import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../services/domain/errors.js';
import {
  type ParsedInput,
  parseCloudTrailEvent,
  parseWorkflowInput,
  trailRef,
} from '../../../services/domain/events.js';

/** Copies of the shared sample events (shared/events), kept in the repo so tests do not depend on ../shared. */
const EVENTS_DIR = fileURLToPath(new URL('../../fixtures/events/', import.meta.url));
const TRAIL_ARN = 'arn:aws:cloudtrail:us-east-1:123456789012:trail/management-events';

type Json = Record<string, unknown>;

function sample(name: string): Json {
  return JSON.parse(readFileSync(join(EVENTS_DIR, `${name}.json`), 'utf8')) as Json;
}

function detailOf(event: Json): Json {
  return event.detail as Json;
}

function invalid(input: unknown): InvalidInputError {
  try {
    parseWorkflowInput(input);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return error as InvalidInputError;
  }
  throw new Error('expected InvalidInputError, but the input parsed');
}

describe('the sample events', () => {
  it('are all here', () => {
    // The CloudTrail events, and a CloudWatch alarm state change (a CIS alarm of trailguard's going to ALARM).
    expect(readdirSync(EVENTS_DIR).sort()).toEqual([
      'cis-alarm-state-change.json',
      'create-trail.json',
      'own-update-trail.json',
      'stop-logging.json',
      'update-trail-remove-cloudwatch.json',
    ]);
  });

  it('CreateTrail: the trail from the response, the actor and where they came from', () => {
    expect(parseWorkflowInput(sample('create-trail'))).toEqual<ParsedInput>({
      trigger: {
        kind: 'event',
        eventId: 'bc45a9eb-1736-5cda-97b3-6a879896e38d',
        eventName: 'CreateTrail',
        eventSource: 'cloudtrail.amazonaws.com',
        eventTime: '2026-11-20T14:03:11Z',
        actorArn: 'arn:aws:sts::123456789012:assumed-role/Admin/alice',
        actorType: 'AssumedRole',
        sourceIp: '203.0.113.10',
        userAgent:
          'aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.1 md/arch#x86_64 lang/python#3.12.6 command/cloudtrail.createtrail',
      },
      trail: { id: TRAIL_ARN, region: 'us-east-1' },
      account: '123456789012',
    });
  });

  it('UpdateTrail removing the integration (empty strings) parses', () => {
    const parsed = parseWorkflowInput(sample('update-trail-remove-cloudwatch'));
    expect(parsed.trail).toEqual({ id: TRAIL_ARN, region: 'us-east-1' });
    expect(parsed.trigger).toMatchObject({
      eventName: 'UpdateTrail',
      eventId: '663f6b99-fb00-5f98-8c99-ea75f1c883f0',
    });
    const event = parseCloudTrailEvent(sample('update-trail-remove-cloudwatch'));
    expect(event.detail.requestParameters).toMatchObject({
      cloudWatchLogsLogGroupArn: '',
      cloudWatchLogsRoleArn: '',
    });
  });

  it('StopLogging names the trail by ARN, and the region comes from the ARN', () => {
    const parsed = parseWorkflowInput(sample('stop-logging'));
    expect(parsed.trail).toEqual({ id: TRAIL_ARN, region: 'us-east-1' });
    expect(parsed.trigger.eventName).toBe('StopLogging');

    // Received in another region (e.g. through a multi-region trail): the ARN still decides.
    const elsewhere = sample('stop-logging');
    detailOf(elsewhere).awsRegion = 'eu-west-1';
    elsewhere.region = 'eu-west-1';
    expect(parseWorkflowInput(elsewhere).trail).toEqual({ id: TRAIL_ARN, region: 'us-east-1' });
  });

  it("the remediator's own UpdateTrail parses (the rule, not the parser, excludes it)", () => {
    const parsed = parseWorkflowInput(sample('own-update-trail'));
    expect(parsed.trail).toEqual({ id: TRAIL_ARN, region: 'us-east-1' });
    expect(parsed.trigger.actorArn).toBe(
      'arn:aws:sts::123456789012:assumed-role/trailguard-remediator/trailguard-restore-trail',
    );
  });

  it('parseCloudTrailEvent keeps the identity issuer', () => {
    expect(
      parseCloudTrailEvent(sample('own-update-trail')).detail.userIdentity?.sessionContext,
    ).toMatchObject({
      sessionIssuer: { arn: 'arn:aws:iam::123456789012:role/trailguard-remediator' },
    });
  });
});

describe('events naming the trail in other ways', () => {
  it('by name in requestParameters: the event region is used', () => {
    const event = sample('stop-logging');
    const detail = detailOf(event);
    detail.requestParameters = { name: 'management-events' };
    detail.awsRegion = 'eu-west-1';
    expect(parseWorkflowInput(event).trail).toEqual({ id: 'management-events', region: 'eu-west-1' });
  });

  it('by trailName, without userIdentity or optional fields', () => {
    const event = sample('create-trail');
    const detail = detailOf(event);
    detail.requestParameters = { trailName: 'other-trail' };
    detail.responseElements = null;
    delete detail.userIdentity;
    delete detail.sourceIPAddress;
    delete detail.userAgent;
    delete detail.eventID;
    const parsed = parseWorkflowInput(event);
    expect(parsed.trail).toEqual({ id: 'other-trail', region: 'us-east-1' });
    // The event envelope id stands in for the missing CloudTrail event id.
    expect(parsed.trigger).toEqual({
      kind: 'event',
      eventId: 'a1b2c3d4-0001-4c1e-9d2a-000000000001',
      eventName: 'CreateTrail',
      eventSource: 'cloudtrail.amazonaws.com',
      eventTime: '2026-11-20T14:03:11Z',
    });
  });

  it('keeps the error code of a failed call', () => {
    const event = sample('stop-logging');
    detailOf(event).errorCode = 'AccessDenied';
    expect(parseWorkflowInput(event).trigger.errorCode).toBe('AccessDenied');
  });
});

describe('direct requests', () => {
  it('a manual request by trail name', () => {
    expect(
      parseWorkflowInput({
        source: 'trailguard',
        kind: 'manual',
        trail: 'main-trail',
        region: 'us-west-2',
        requestedBy: 'arn:aws:iam::123456789012:user/bob',
      }),
    ).toEqual({
      trigger: { kind: 'manual', actorArn: 'arn:aws:iam::123456789012:user/bob' },
      trail: { id: 'main-trail', region: 'us-west-2' },
    });
  });

  it('a sweep request by ARN takes the region from the ARN', () => {
    expect(
      parseWorkflowInput({
        source: 'trailguard',
        kind: 'sweep',
        trail: TRAIL_ARN,
        region: 'eu-west-1',
        account: '123456789012',
      }),
    ).toEqual({
      trigger: { kind: 'sweep' },
      trail: { id: TRAIL_ARN, region: 'us-east-1' },
      account: '123456789012',
    });
  });
});

describe('malformed input gives InvalidInputError', () => {
  it.each([
    ['null', null],
    ['a string', 'CreateTrail'],
    ['an empty object', {}],
    ['an array', []],
  ])('%s', (_, input) => {
    expect(invalid(input).message).toMatch(/^not a CloudTrail event in EventBridge's shape: /);
  });

  it('another detail-type', () => {
    const event = sample('create-trail');
    event['detail-type'] = 'Scheduled Event';
    expect(invalid(event).message).toContain('detail-type');
  });

  it('a bad account and a missing detail are both reported', () => {
    const event = sample('create-trail');
    event.account = '1234';
    delete event.detail;
    const error = invalid(event);
    expect(error.message).toContain('account: must be a 12-digit account id');
    expect(error.message).toContain('detail:');
    expect(error.cause).toBeDefined();
  });

  it('a bad region', () => {
    const event = sample('create-trail');
    detailOf(event).awsRegion = 'mars';
    expect(invalid(event).message).toContain('detail.awsRegion: must be an AWS region');
  });

  it('an oversized field', () => {
    const event = sample('create-trail');
    detailOf(event).eventName = 'x'.repeat(5000);
    expect(invalid(event).message).toContain('detail.eventName');
  });

  it('an event that names no trail', () => {
    const event = sample('stop-logging');
    detailOf(event).requestParameters = { name: '' };
    expect(invalid(event).message).toBe(
      'the StopLogging event names no trail (requestParameters.name or responseElements.trailARN)',
    );
  });

  it('an event naming something that is neither a trail name nor a trail ARN', () => {
    const event = sample('stop-logging');
    detailOf(event).requestParameters = { name: 'not a trail!' };
    expect(invalid(event).message).toBe('"not a trail!" is neither a CloudTrail trail name nor a trail ARN');
  });

  it('an invalid direct request reports every problem', () => {
    const error = invalid({ source: 'trailguard', kind: 'later', trail: '', region: 'nowhere' });
    expect(error.message).toMatch(/^invalid trailguard request: /);
    expect(error.message).toContain('kind:');
    expect(error.message).toContain('trail:');
    expect(error.message).toContain('region: must be an AWS region');
  });
});

describe('trailRef', () => {
  it('a name is looked up in the default region, an ARN in its own', () => {
    expect(trailRef('main-trail', 'eu-west-1')).toEqual({ id: 'main-trail', region: 'eu-west-1' });
    expect(trailRef(TRAIL_ARN, 'eu-west-1')).toEqual({ id: TRAIL_ARN, region: 'us-east-1' });
  });

  it('anything else is InvalidInputError, quoted and cut short', () => {
    expect(() => trailRef('a b', 'us-east-1')).toThrow(InvalidInputError);
    expect(() => trailRef('x'.repeat(300), 'us-east-1')).toThrow(`"${'x'.repeat(200)}" is neither`);
  });
});
