/**
 * Bad input through the whole local pipeline (replayEvent: the stack's rule, then the synthesized workflow)
 * against moto: a malformed event throws InvalidInputError before anything is touched (no AWS call through
 * the product's clients, no SNS message, no audit item, the trail as it was); events the rule does not
 * match are `ignored` without any call; well-formed events about trails with odd but valid names, named by
 * name or by ARN, are remediated; a trail that does not exist is a `skipped` run that writes nothing but its
 * email and audit record. The step cores against moto with valid-shaped but unexpected input write nothing.
 */
import { GetTrailStatusCommand } from '@aws-sdk/client-cloudtrail';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../services/domain/errors.js';
import { checkStep } from '../../../services/handlers/check.js';
import { replayEvent } from '../../../services/local/replay.js';
import { localWorkflow } from '../../../services/local/workflow-runner.js';
import { ACCOUNT, REGION, testClients } from '../../support/aws.js';
import { FaultInjector } from '../../support/faults.js';
import { independentProblems } from '../../support/independent-check.js';
import { seedBrokenTrail } from '../../support/seed.js';
import { mutationArb, trailNameArb, wrongValueArb } from '../../unit/reliability/arbitraries.js';
import { auditItems, cloudTrailEvent, freshGuardrail, mails } from './harness.js';

const TRAIL = 'main';

beforeEach(freshGuardrail);

/** The trail's state as moto holds it, read without the product's code. */
async function snapshot() {
  const status = await testClients()
    .cloudTrail(REGION)
    .send(new GetTrailStatusCommand({ Name: TRAIL }));
  return { logging: status.IsLogging, problems: await independentProblems(TRAIL) };
}

async function expectUntouched(injector: FaultInjector, before: Awaited<ReturnType<typeof snapshot>>) {
  expect(injector.calls).toEqual([]);
  expect(await mails()).toEqual([]);
  expect(await auditItems()).toEqual([]);
  expect(await snapshot()).toEqual(before);
}

describe('malformed events through replayEvent', () => {
  it('damaged events: InvalidInputError before anything is touched, or a run of the event as it still is', async () => {
    await seedBrokenTrail(testClients(), TRAIL);
    const before = await snapshot();
    const base = cloudTrailEvent('StopLogging', TRAIL);
    let rejected = 0;
    await fc.assert(
      fc.asyncProperty(mutationArb(base), async ({ mutated }) => {
        const injector = new FaultInjector();
        let error: unknown;
        try {
          const result = await replayEvent(mutated, { clients: injector.clients() });
          // Still a valid event (an optional field damaged): a defined outcome, never a crash.
          expect(['remediated', 'compliant', 'ignored', 'skipped', 'failed', 'notified']).toContain(
            result.outcome,
          );
          // Put the trail back as it was for the next case.
          await freshGuardrail();
          await seedBrokenTrail(testClients(), TRAIL);
        } catch (e) {
          error = e;
        }
        if (error !== undefined) {
          expect(error, (error as Error).message).toBeInstanceOf(InvalidInputError);
          rejected++;
          await expectUntouched(injector, before);
        }
      }),
      { numRuns: 15 },
    );
    expect(rejected).toBeGreaterThan(0);
  });

  it.each([
    ['not an object', 'StopLogging main'],
    ['null', null],
    ['an empty object', {}],
    ['no detail', { ...cloudTrailEvent('StopLogging', TRAIL), detail: undefined }],
    ['detail of the wrong type', { ...cloudTrailEvent('StopLogging', TRAIL), detail: 'StopLogging' }],
    ['a custom source', { ...cloudTrailEvent('StopLogging', TRAIL), source: 'my.app' }],
    ['another detail-type', { ...cloudTrailEvent('StopLogging', TRAIL), 'detail-type': 'Scheduled Event' }],
    [
      'no trail named',
      cloudTrailEvent('StopLogging', TRAIL, { requestParameters: null, responseElements: null }),
    ],
    [
      'a trail name of the wrong type',
      cloudTrailEvent('StopLogging', TRAIL, { requestParameters: { name: 7 } }),
    ],
    ['an invalid trail name', cloudTrailEvent('StopLogging', TRAIL, { requestParameters: { name: 'a..b' } })],
    [
      'a huge trail name',
      cloudTrailEvent('StopLogging', TRAIL, { requestParameters: { name: 'a'.repeat(200_000) } }),
    ],
    [
      'a huge user agent',
      {
        ...cloudTrailEvent('StopLogging', TRAIL),
        detail: { ...cloudTrailEvent('StopLogging', TRAIL).detail, userAgent: 'u'.repeat(100_000) },
      },
    ],
  ])('%s: InvalidInputError, nothing touched', async (_label, event) => {
    await seedBrokenTrail(testClients(), TRAIL);
    const before = await snapshot();
    const injector = new FaultInjector();
    await expect(replayEvent(event, { clients: injector.clients() })).rejects.toBeInstanceOf(
      InvalidInputError,
    );
    await expectUntouched(injector, before);
  });

  it('an event over EventBridge 256 KB limit is refused before anything is touched', async () => {
    await seedBrokenTrail(testClients(), TRAIL);
    const before = await snapshot();
    const event = cloudTrailEvent('StopLogging', TRAIL, {
      requestParameters: { name: TRAIL, x: 'x'.repeat(300_000) },
    });
    const injector = new FaultInjector();
    const error = await replayEvent(event, { clients: injector.clients() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toMatch(/EventBridge events are at most 262144 bytes/);
    await expectUntouched(injector, before);
  });

  it('well-formed events no rule matches (read-only calls, unknown names, other sources): ignored, no AWS call', async () => {
    await seedBrokenTrail(testClients(), TRAIL);
    const before = await snapshot();
    // Read-only calls and names no rule lists (the rule's list of names is the stack's to change).
    const eventName = fc.oneof(
      fc.constantFrom(
        'GetTrail',
        'GetTrailStatus',
        'DescribeTrails',
        'ListTags',
        'LookupEvents',
        'GetEventSelectors',
      ),
      fc.stringMatching(/^Zz[a-z]{2,10}[A-Z][a-z]{2,10}$/),
    );
    await fc.assert(
      fc.asyncProperty(eventName, async (name) => {
        const injector = new FaultInjector();
        const result = await replayEvent(cloudTrailEvent(name, TRAIL), { clients: injector.clients() });
        expect(result.outcome).toBe('ignored');
        await expectUntouched(injector, before);
      }),
      { numRuns: 25 },
    );
    const otherService = cloudTrailEvent('StopLogging', TRAIL);
    otherService.source = 'aws.s3';
    otherService.detail.eventSource = 's3.amazonaws.com';
    const injector = new FaultInjector();
    expect((await replayEvent(otherService, { clients: injector.clients() })).outcome).toBe('ignored');
    await expectUntouched(injector, before);
  });
});

describe('odd but valid trail names', () => {
  it('a trail with any valid name, named by name or by ARN in the event: remediated', async () => {
    await fc.assert(
      fc.asyncProperty(trailNameArb, fc.boolean(), async (name, byArn) => {
        await freshGuardrail();
        await seedBrokenTrail(testClients(), name);
        const arn = `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/${name}`;
        const event = cloudTrailEvent('UpdateTrail', name, {
          requestParameters: { name: byArn ? arn : name },
          responseElements: byArn ? { name, trailARN: arn } : null,
        });
        const result = await replayEvent(event, { clients: testClients() });
        expect(result.outcome, `${name}: ${result.reason}`).toBe('remediated');
        expect(result.trail).toBe(arn);
        expect(await independentProblems(name)).toEqual([]);
        const [mail] = await mails();
        expect(mail?.subject?.length).toBeLessThanOrEqual(100);
      }),
      { numRuns: 6 },
    );
  });

  it('a trail that does not exist: skipped, nothing written but the email (and its idempotency record) and the audit record', async () => {
    await fc.assert(
      fc.asyncProperty(trailNameArb, async (name) => {
        await freshGuardrail();
        const injector = new FaultInjector();
        const result = await replayEvent(cloudTrailEvent('StopLogging', name), {
          clients: injector.clients(),
        });
        expect(result.outcome).toBe('skipped');
        expect(
          injector
            .writes()
            .map((c) => c.operation)
            .sort(),
        ).toEqual(['Publish', 'PutItem', 'PutItem', 'UpdateItem']);
        expect((await auditItems()).map((i) => i.outcome)).toEqual(['skipped']);
      }),
      { numRuns: 4 },
    );
  });
});

describe('step cores against moto with unexpected input', () => {
  it('Check: damaged inputs never write, whatever they are', async () => {
    await seedBrokenTrail(testClients(), TRAIL);
    const local = await localWorkflow();
    const execution = {
      id: `arn:aws:states:${REGION}:${ACCOUNT}:execution:trailguard:x`,
      startTime: '2026-11-20T14:04:00Z',
    };
    const input = fc.oneof(
      mutationArb(cloudTrailEvent('StopLogging', TRAIL)).map((m) => m.mutated),
      mutationArb({ source: 'trailguard', kind: 'manual', trail: TRAIL, region: REGION }).map(
        (m) => m.mutated,
      ),
      wrongValueArb,
    );
    await fc.assert(
      fc.asyncProperty(input, async (value) => {
        const injector = new FaultInjector();
        const deps = { ...local.settings.Check, clients: injector.clients(), now: () => new Date() };
        try {
          await checkStep(deps)({ input: value, execution });
        } catch (error) {
          expect(error, (error as Error).message).toBeInstanceOf(Error);
          expect((error as Error).name).toMatch(/InvalidInputError|AwsReadError|TransientAwsError/);
        }
        expect(injector.writes()).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });
});
