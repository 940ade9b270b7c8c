import { AddTagsCommand } from '@aws-sdk/client-cloudtrail';
import { beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../services/domain/errors.js';
import { RunContextSchema } from '../../../services/domain/run-context.js';
import { checkStep } from '../../../services/handlers/check.js';
import { ACCOUNT, REGION, resetEmulator } from '../../support/aws.js';
import {
  CLOUDTRAIL_TRUST,
  checkContext,
  createBucket,
  createLogGroup,
  createRole,
  createTrail,
  execution,
  grantFor,
  logGroupArnOf,
  makeDeps,
  roleArnOf,
  stopLoggingEvent,
  trailArnOf,
} from '../../support/seed-remediation.js';

describe('Check', () => {
  beforeEach(async () => {
    await resetEmulator();
    await createBucket();
  });

  it('sends a broken trail to remediation with the state it read', async () => {
    const deps = await makeDeps();
    await createTrail(deps.clients, 'management-events');
    const ctx = await checkContext(deps, 'management-events');
    expect(ctx).toMatchObject({
      decision: 'remediate',
      trailArn: trailArnOf('management-events'),
      account: ACCOUNT,
      trailRef: { id: 'management-events', region: REGION },
      trigger: { kind: 'event', eventName: 'StopLogging', sourceIp: '203.0.113.7' },
      actions: [],
      execution: execution(1),
    });
    expect(ctx.outcome).toBeUndefined();
    expect(ctx.before?.assessment.verdict).toBe('non-compliant');
    expect(ctx.before?.assessment.target.logGroupArn).toBe(logGroupArnOf('CloudTrail/management-events'));
  });

  it('ends quietly for a compliant trail', async () => {
    const deps = await makeDeps();
    await createLogGroup(deps.clients, 'good/group');
    await createRole(deps.clients, 'good-role', {
      trust: CLOUDTRAIL_TRUST,
      policies: { g: grantFor('good/group') },
    });
    await createTrail(deps.clients, 'good-trail', {
      logGroupArn: logGroupArnOf('good/group'),
      roleArn: roleArnOf('good-role'),
      logging: true,
    });
    expect(await checkContext(deps, 'good-trail')).toMatchObject({
      decision: 'compliant',
      outcome: 'compliant',
    });
  });

  it('skips a trail that no longer exists, or is exempt', async () => {
    const deps = await makeDeps();
    const gone = await checkContext(deps, 'gone-trail');
    expect(gone).toMatchObject({ decision: 'skip', outcome: 'skipped', reason: 'trail no longer exists' });
    expect(gone.trailArn).toBeUndefined();
    expect(gone.before).toBeUndefined();

    await createTrail(deps.clients, 'exempt-trail');
    await deps.clients.cloudTrail(REGION).send(
      new AddTagsCommand({
        ResourceId: trailArnOf('exempt-trail'),
        TagsList: [{ Key: 'trailguard:exempt', Value: 'true' }],
      }),
    );
    expect(await checkContext(deps, 'exempt-trail', 2)).toMatchObject({
      decision: 'skip',
      outcome: 'skipped',
      reason: 'tagged trailguard:exempt=true',
    });
  });

  it('only notifies in notify-only mode', async () => {
    const deps = await makeDeps({ config: { mode: 'notify-only' } });
    await createTrail(deps.clients, 'watched-trail');
    expect(await checkContext(deps, 'watched-trail')).toMatchObject({
      decision: 'notify',
      outcome: 'notified',
    });
  });

  it('accepts a direct request by ARN and asks STS for the account when nobody says it', async () => {
    const deps = { ...(await makeDeps()), accountId: undefined };
    await createTrail(deps.clients, 'arn-trail');
    const out = RunContextSchema.parse(
      await checkStep(deps)({
        input: { source: 'trailguard', kind: 'manual', trail: trailArnOf('arn-trail'), region: REGION },
        execution: execution(3),
      }),
    );
    expect(out).toMatchObject({
      decision: 'remediate',
      account: ACCOUNT,
      trigger: { kind: 'manual' },
      trailRef: { id: trailArnOf('arn-trail'), region: REGION },
    });
  });

  it('throws InvalidInputError on input it cannot use', async () => {
    const deps = await makeDeps();
    await expect(
      checkStep(deps)({ input: { hello: 'world' }, execution: execution() }),
    ).rejects.toBeInstanceOf(InvalidInputError);
    await expect(checkStep(deps)({ input: stopLoggingEvent('x') })).rejects.toBeInstanceOf(InvalidInputError);
  });
});
