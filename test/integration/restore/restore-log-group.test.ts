import {
  DescribeLogGroupsCommand,
  ListTagsForResourceCommand,
  TagResourceCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../services/domain/errors.js';
import { type RunContext, RunContextSchema } from '../../../services/domain/run-context.js';
import { restoreLogGroupStep } from '../../../services/handlers/restore-log-group.js';
import { ACCOUNT, REGION, resetEmulator, testClients } from '../../support/aws.js';
import {
  checkContext,
  createBucket,
  createLogGroup,
  createRole,
  createTrail,
  grantFor,
  logGroupArnOf,
  makeDeps,
  roleArnOf,
} from '../../support/seed-remediation.js';

const KMS = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

async function groups(prefix: string) {
  const out = await testClients()
    .logs(REGION)
    .send(new DescribeLogGroupsCommand({ logGroupNamePrefix: prefix }));
  return out.logGroups ?? [];
}

async function tagsOf(name: string) {
  const out = await testClients()
    .logs(REGION)
    .send(
      new ListTagsForResourceCommand({ resourceArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${name}` }),
    );
  return out.tags ?? {};
}

describe('RestoreLogGroup', () => {
  beforeEach(async () => {
    await resetEmulator();
    await createBucket();
  });

  it('creates the missing log group with the configured retention, KMS key and managed tag', async () => {
    const deps = await makeDeps({ config: { retentionDays: 90, kmsKeyArn: KMS } });
    await createTrail(deps.clients, 'management-events');
    const ctx = await checkContext(deps, 'management-events');
    expect(ctx.before?.assessment.target.logGroupName).toBe('CloudTrail/management-events');

    const out = RunContextSchema.parse(await restoreLogGroupStep(deps)(ctx));

    const [group, ...others] = await groups('CloudTrail/management-events');
    expect(others).toHaveLength(0);
    expect(group?.logGroupName).toBe('CloudTrail/management-events');
    expect(group?.retentionInDays).toBe(90);
    expect(group?.kmsKeyId).toBe(KMS);
    expect(await tagsOf('CloudTrail/management-events')).toEqual({ 'trailguard:managed': 'true' });
    expect(out.actions.map((a) => [a.step, a.api, a.resource])).toEqual([
      ['RestoreLogGroup', 'CreateLogGroup', 'CloudTrail/management-events'],
      ['RestoreLogGroup', 'PutRetentionPolicy', 'CloudTrail/management-events'],
    ]);
    // Everything else of the context passes through unchanged.
    expect({ ...out, actions: [] }).toEqual({ ...ctx, actions: [] });
  });

  it('keeps an existing log group as its owner set it, and writes nothing', async () => {
    const deps = await makeDeps({ config: { retentionDays: 365 } });
    await createLogGroup(deps.clients, 'team/audit', { retentionDays: 30 });
    await createTrail(deps.clients, 'team-trail', { logGroupArn: logGroupArnOf('team/audit') });
    const ctx = await checkContext(deps, 'team-trail');
    expect(ctx.decision).toBe('remediate');
    expect(ctx.before?.assessment.target.logGroupName).toBe('team/audit');

    const out = RunContextSchema.parse(await restoreLogGroupStep(deps)(ctx));

    expect(out.actions).toEqual([]);
    const [group] = await groups('team/audit');
    expect(group?.retentionInDays).toBe(30);
    expect(group?.kmsKeyId).toBeUndefined();
    expect(await tagsOf('team/audit')).toEqual({});
  });

  it('leaves an unmanaged group without retention alone but completes a managed one', async () => {
    const deps = await makeDeps({ config: { retentionDays: 180 } });
    await createLogGroup(deps.clients, 'theirs');
    await createLogGroup(deps.clients, 'CloudTrail/ours');
    await testClients()
      .logs(REGION)
      .send(
        new TagResourceCommand({
          resourceArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:CloudTrail/ours`,
          tags: { 'trailguard:managed': 'true' },
        }),
      );
    await createTrail(deps.clients, 'trail-theirs', { logGroupArn: logGroupArnOf('theirs') });
    await createTrail(deps.clients, 'trail-ours', { logGroupArn: logGroupArnOf('CloudTrail/ours') });

    const theirs = RunContextSchema.parse(
      await restoreLogGroupStep(deps)(await checkContext(deps, 'trail-theirs')),
    );
    const ours = RunContextSchema.parse(
      await restoreLogGroupStep(deps)(await checkContext(deps, 'trail-ours', 2)),
    );

    expect(theirs.actions).toEqual([]);
    expect((await groups('theirs'))[0]?.retentionInDays).toBeUndefined();
    expect(ours.actions.map((a) => a.api)).toEqual(['PutRetentionPolicy']);
    expect((await groups('CloudTrail/ours'))[0]?.retentionInDays).toBe(180);
  });

  it('is a no-op the second time', async () => {
    const deps = await makeDeps();
    await createTrail(deps.clients, 'twice-trail');
    const ctx = await checkContext(deps, 'twice-trail');
    const first = RunContextSchema.parse(await restoreLogGroupStep(deps)(ctx));
    const second = RunContextSchema.parse(await restoreLogGroupStep(deps)(ctx));
    expect(first.actions).toHaveLength(2);
    expect(second.actions).toEqual([]);
  });

  it('survives 20 concurrent runs on one target: one group, one creation, no failure', async () => {
    const deps = await makeDeps({ config: { retentionDays: 14 } });
    await createTrail(deps.clients, 'busy-trail');
    const ctx = await checkContext(deps, 'busy-trail');

    const results = await Promise.all(
      Array.from({ length: 20 }, () => restoreLogGroupStep(deps)(ctx).then((o) => RunContextSchema.parse(o))),
    );

    const created = results.flatMap((r) => r.actions).filter((a) => a.api === 'CreateLogGroup');
    expect(created).toHaveLength(1);
    const all = await groups('CloudTrail/busy-trail');
    expect(all.map((g) => g.logGroupName)).toEqual(['CloudTrail/busy-trail']);
    expect(all[0]?.retentionInDays).toBe(14);
  });

  it('lets different trails share one log group concurrently', async () => {
    const deps = await makeDeps();
    await createRole(deps.clients, 'shared-role', {
      policies: { grant: grantFor('CloudTrail/shared-group') },
    });
    const names = ['share-a', 'share-b', 'share-c'];
    for (const name of names) {
      await createTrail(deps.clients, name, {
        logGroupArn: logGroupArnOf('CloudTrail/shared-group'),
        roleArn: roleArnOf('shared-role'),
        logging: true,
      });
    }
    const contexts: RunContext[] = [];
    for (const [i, name] of names.entries()) contexts.push(await checkContext(deps, name, i + 1));
    expect(contexts.every((c) => c.decision === 'remediate')).toBe(true);

    const results = await Promise.all(contexts.map((c) => restoreLogGroupStep(deps)(c)));

    expect(
      results.flatMap((r) => RunContextSchema.parse(r).actions).filter((a) => a.api === 'CreateLogGroup'),
    ).toHaveLength(1);
    expect((await groups('CloudTrail/shared-group')).map((g) => g.logGroupName)).toEqual([
      'CloudTrail/shared-group',
    ]);
  });

  it('refuses a context Check did not send to remediation', async () => {
    const deps = await makeDeps({ config: { mode: 'notify-only' } });
    await createTrail(deps.clients, 'watched-trail');
    const ctx = await checkContext(deps, 'watched-trail');
    expect(ctx.decision).toBe('notify');
    await expect(restoreLogGroupStep(deps)(ctx)).rejects.toBeInstanceOf(InvalidInputError);
    await expect(restoreLogGroupStep(deps)({ nonsense: true })).rejects.toBeInstanceOf(InvalidInputError);
    expect(await groups('CloudTrail/watched-trail')).toEqual([]);
  });
});
