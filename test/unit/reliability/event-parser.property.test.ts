/**
 * Bad input at the front door: the event parser (parseCloudTrailEvent, parseWorkflowInput, parseEventText)
 * either returns a parsed input or throws InvalidInputError with a bounded message, whatever it is given:
 * random values, events with any field removed or of the wrong type, truncated JSON text, huge strings,
 * unknown event names, missing or null requestParameters / responseElements. Odd but valid trail names and
 * trail ARNs of every partition are accepted and resolved to the right region.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../services/domain/errors.js';
import { parseCloudTrailEvent, parseWorkflowInput } from '../../../services/domain/events.js';
import { parseEventText } from '../../../services/local/replay.js';
import {
  ACCOUNT,
  invalidTrailNameArb,
  mutationArb,
  REGIONS,
  trailArnArb,
  trailNameArb,
  truncateObject,
  validEventArb,
  withPath,
  wrongValueArb,
} from './arbitraries.js';

const RUNS = 150;
/** The longest message an InvalidInputError may carry: it must never echo a huge input back. */
const MAX_MESSAGE = 4000;

/** Runs `fn`; returns its result, or the error it threw if that is an InvalidInputError; fails otherwise. */
function parsedOrInvalid<T>(fn: () => T): T | InvalidInputError {
  try {
    return fn();
  } catch (error) {
    if (!(error instanceof InvalidInputError)) {
      throw new Error(
        `expected InvalidInputError, got ${(error as Error)?.name}: ${(error as Error)?.message}`,
        {
          cause: error,
        },
      );
    }
    expect(error.message.length).toBeLessThan(MAX_MESSAGE);
    return error;
  }
}

function expectInvalid(fn: () => unknown): InvalidInputError {
  const result = parsedOrInvalid(fn);
  expect(result, 'expected the input to be rejected').toBeInstanceOf(InvalidInputError);
  return result as InvalidInputError;
}

function baseEvent(): Record<string, unknown> & { detail: Record<string, unknown> } {
  return {
    version: '0',
    id: 'a1b2c3d4-0003-4c1e-9d2a-000000000003',
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'aws.cloudtrail',
    account: ACCOUNT,
    time: '2026-11-20T14:03:11Z',
    region: 'us-east-1',
    detail: {
      eventSource: 'cloudtrail.amazonaws.com',
      eventName: 'StopLogging',
      awsRegion: 'us-east-1',
      userIdentity: { type: 'Root', arn: `arn:aws:iam::${ACCOUNT}:root` },
      requestParameters: { name: 'management-events' },
    },
  };
}

describe('random input never crashes the parser', () => {
  it('anything at all: parsed or InvalidInputError', () => {
    fc.assert(
      fc.property(fc.anything({ withNullPrototype: true, withBoxedValues: true, maxDepth: 4 }), (input) => {
        parsedOrInvalid(() => parseCloudTrailEvent(input));
        parsedOrInvalid(() => parseWorkflowInput(input));
      }),
      { numRuns: RUNS },
    );
  });

  it('JSON objects that look a little like events or requests: parsed or InvalidInputError', () => {
    const lookalike = fc.record(
      {
        source: fc.oneof(
          fc.constantFrom('aws.cloudtrail', 'trailguard', 'custom.app', 'aws.'),
          wrongValueArb,
        ),
        'detail-type': fc.oneof(fc.constant('AWS API Call via CloudTrail'), wrongValueArb),
        account: fc.oneof(fc.constant(ACCOUNT), wrongValueArb),
        region: fc.oneof(fc.constantFrom(...REGIONS), wrongValueArb),
        id: fc.oneof(fc.uuid(), wrongValueArb),
        time: fc.oneof(fc.constant('2026-11-20T14:03:11Z'), wrongValueArb),
        kind: fc.oneof(fc.constantFrom('manual', 'sweep', 'event'), wrongValueArb),
        trail: fc.oneof(trailNameArb, wrongValueArb),
        detail: fc.oneof(fc.jsonValue({ maxDepth: 3 }), wrongValueArb),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(lookalike, (input) => {
        parsedOrInvalid(() => parseWorkflowInput(input));
      }),
      { numRuns: RUNS },
    );
  });

  it('a valid event with any one field removed or given a wrong value: parsed or InvalidInputError', () => {
    const damaged = validEventArb.chain(({ event }) => mutationArb(event));
    fc.assert(
      fc.property(damaged, ({ mutated }) => {
        parsedOrInvalid(() => parseCloudTrailEvent(mutated));
        parsedOrInvalid(() => parseWorkflowInput(mutated));
      }),
      { numRuns: RUNS },
    );
  });

  it('a valid event with two or three fields damaged: parsed or InvalidInputError', () => {
    const damaged = validEventArb
      .chain(({ event }) => mutationArb(event))
      .chain(({ mutated }) => mutationArb(mutated))
      .chain(({ mutated }) => mutationArb(mutated));
    fc.assert(
      fc.property(damaged, ({ mutated }) => {
        parsedOrInvalid(() => parseWorkflowInput(mutated));
      }),
      { numRuns: RUNS },
    );
  });

  it('objects cut short (only the first keys at every level kept): parsed or InvalidInputError', () => {
    fc.assert(
      fc.property(validEventArb, fc.nat({ max: 9 }), ({ event }, keep) => {
        parsedOrInvalid(() => parseWorkflowInput(truncateObject(event, keep)));
      }),
      { numRuns: RUNS },
    );
  });

  it('truncated JSON text is always InvalidInputError ("not JSON")', () => {
    fc.assert(
      fc.property(
        validEventArb,
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        ({ event }, f) => {
          const text = JSON.stringify(event);
          const cut = text.slice(0, Math.floor(text.length * f));
          const error = expectInvalid(() => parseEventText(cut, 'event.json'));
          expect(error.message).toMatch(/^event\.json is not JSON/);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('required fields and types', () => {
  const required: (string | number)[][] = [
    ['id'],
    ['detail-type'],
    ['source'],
    ['account'],
    ['time'],
    ['region'],
    ['detail'],
    ['detail', 'eventName'],
    ['detail', 'eventSource'],
    ['detail', 'awsRegion'],
  ];

  it.each(required.map((p) => [p.join('.'), p] as const))(
    'without %s: InvalidInputError naming it',
    (label, path) => {
      const error = expectInvalid(() => parseWorkflowInput(withPath(baseEvent(), path, undefined, true)));
      expect(error.message).toContain(label);
    },
  );

  it('every required field with a wrong value: InvalidInputError', () => {
    const wrong = fc.oneof(
      fc.constant(null),
      fc.integer(),
      fc.boolean(),
      fc.constant([]),
      fc.constant({}),
      fc.constant('x'.repeat(5000)),
    );
    fc.assert(
      fc.property(fc.constantFrom(...required), wrong, (path, value) => {
        expectInvalid(() => parseWorkflowInput(withPath(baseEvent(), path, value)));
      }),
      { numRuns: RUNS },
    );
  });

  it('empty identifiers are rejected', () => {
    for (const path of [['id'], ['account'], ['region'], ['detail', 'eventName'], ['detail', 'eventSource']])
      expectInvalid(() => parseWorkflowInput(withPath(baseEvent(), path, '')));
  });

  it('optional string fields of the wrong type are rejected, not coerced', () => {
    const optional: (string | number)[][] = [
      ['detail', 'eventID'],
      ['detail', 'sourceIPAddress'],
      ['detail', 'userAgent'],
      ['detail', 'errorCode'],
      ['detail', 'userIdentity', 'arn'],
      ['detail', 'userIdentity', 'type'],
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...optional),
        fc.oneof(fc.integer(), fc.boolean(), fc.constant([]), fc.constant({})),
        (path, value) => {
          expectInvalid(() => parseWorkflowInput(withPath(baseEvent(), path, value)));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('source must be an aws.* source and detail-type the CloudTrail one', () => {
    for (const source of [
      'custom.cloudtrail',
      'aws',
      'AWS.cloudtrail',
      'aws.cloudtrail ',
      'trailguard.events',
    ])
      expectInvalid(() => parseCloudTrailEvent({ ...baseEvent(), source }));
    for (const detailType of ['AWS Console Sign In via CloudTrail', 'Scheduled Event', ''])
      expectInvalid(() => parseCloudTrailEvent({ ...baseEvent(), 'detail-type': detailType }));
  });
});

describe('huge strings', () => {
  const sizes = fc.constantFrom(2049, 65_536, 1_000_000);
  const bounded: (string | number)[][] = [
    ['id'],
    ['time'],
    ['detail', 'eventName'],
    ['detail', 'eventSource'],
    ['detail', 'userAgent'],
    ['detail', 'sourceIPAddress'],
    ['detail', 'userIdentity', 'arn'],
  ];

  it('in a bounded field: InvalidInputError whose message does not echo the string', () => {
    fc.assert(
      fc.property(fc.constantFrom(...bounded), sizes, (path, size) => {
        const error = expectInvalid(() => parseWorkflowInput(withPath(baseEvent(), path, 'A'.repeat(size))));
        expect(error.message).not.toContain('A'.repeat(300));
      }),
      { numRuns: 30 },
    );
  });

  it('as the trail name or ARN: InvalidInputError with at most 200 characters of it', () => {
    fc.assert(
      fc.property(sizes, fc.constantFrom('name', 'trailName'), (size, key) => {
        const event = withPath(baseEvent(), ['detail', 'requestParameters'], { [key]: 'a'.repeat(size) });
        const error = expectInvalid(() => parseWorkflowInput(event));
        expect(error.message).not.toContain('a'.repeat(201));
      }),
      { numRuns: 12 },
    );
    const response = withPath(baseEvent(), ['detail', 'responseElements'], {
      trailARN: `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/${'b'.repeat(100_000)}`,
    });
    expect(expectInvalid(() => parseWorkflowInput(response)).message).not.toContain('b'.repeat(201));
  });

  it('in a direct request: InvalidInputError', () => {
    expectInvalid(() =>
      parseWorkflowInput({
        source: 'trailguard',
        kind: 'manual',
        trail: 't'.repeat(3000),
        region: 'us-east-1',
      }),
    );
    expectInvalid(() =>
      parseWorkflowInput({
        source: 'trailguard',
        kind: 'manual',
        trail: 'main',
        region: 'us-east-1',
        requestedBy: 'r'.repeat(3000),
      }),
    );
  });
});

describe('requestParameters and responseElements', () => {
  it.each([
    ['both missing', undefined, undefined],
    ['both null', null, null],
    ['empty', {}, {}],
    ['name of the wrong type', { name: 42 }, null],
    ['name null', { name: null }, null],
    ['name empty', { name: '' }, null],
    ['name an object', { name: { value: 'main' } }, null],
    ['name a list', { name: ['main'] }, null],
    ['trailARN a number', null, { trailARN: 7 }],
  ])('%s: InvalidInputError saying the event names no trail', (_label, request, response) => {
    let event = withPath(baseEvent(), ['detail', 'requestParameters'], request, request === undefined);
    event = withPath(event, ['detail', 'responseElements'], response, response === undefined);
    const error = expectInvalid(() => parseWorkflowInput(event));
    expect(error.message).toMatch(/names no trail/);
  });

  it('requestParameters that is not an object: InvalidInputError', () => {
    for (const value of ['main', 7, true, ['main']]) {
      expectInvalid(() => parseWorkflowInput(withPath(baseEvent(), ['detail', 'requestParameters'], value)));
    }
  });

  it('a trail name CloudTrail would reject: InvalidInputError', () => {
    fc.assert(
      fc.property(invalidTrailNameArb, fc.constantFrom('name', 'trailName'), (name, key) => {
        const event = withPath(baseEvent(), ['detail', 'requestParameters'], { [key]: name });
        const error = expectInvalid(() => parseWorkflowInput(event));
        expect(error.message).toMatch(/names no trail|neither a CloudTrail trail name nor a trail ARN/);
      }),
      { numRuns: 80 },
    );
  });
});

describe('valid events', () => {
  it('any event name, any identity shape, trail by odd name or by ARN: parsed, trail and region right', () => {
    fc.assert(
      fc.property(validEventArb, ({ event, trail, region }) => {
        const parsed = parseWorkflowInput(event);
        expect(parsed.trail).toEqual({ id: trail, region });
        expect(parsed.trigger.kind).toBe('event');
        expect(parsed.trigger.eventName).toBe(event.detail.eventName);
        expect(parsed.account).toBe(ACCOUNT);
        // The parsed input is plain JSON: it can cross the Lambda boundary unchanged.
        expect(JSON.parse(JSON.stringify(parsed))).toEqual(parsed);
      }),
      { numRuns: RUNS },
    );
  });

  it('a trail ARN wins over the event region: reads go to the home region the ARN names', () => {
    fc.assert(
      fc.property(trailArnArb, fc.constantFrom(...REGIONS), ({ arn, region }, eventRegion) => {
        const event = withPath(
          withPath(baseEvent(), ['detail', 'awsRegion'], eventRegion),
          ['detail', 'requestParameters'],
          { name: arn },
        );
        expect(parseWorkflowInput(event).trail).toEqual({ id: arn, region });
      }),
      { numRuns: 60 },
    );
  });

  it('direct requests (remediate, sweep) with odd names and ARNs', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          trailNameArb.map((name) => ({ id: name, region: 'eu-west-3' })),
          trailArnArb.map(({ arn, region }) => ({ id: arn, region })),
        ),
        fc.constantFrom('manual', 'sweep'),
        (expected, kind) => {
          const parsed = parseWorkflowInput({
            source: 'trailguard',
            kind,
            trail: expected.id,
            region: 'eu-west-3',
          });
          expect(parsed.trail).toEqual(expected);
          expect(parsed.trigger.kind).toBe(kind);
        },
      ),
      { numRuns: 60 },
    );
  });
});
