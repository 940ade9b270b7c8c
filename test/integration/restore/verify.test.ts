import { DeleteLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { beforeEach, describe, expect, it } from 'vitest';
import { NotCompliantError } from '../../../services/domain/errors.js';
import { type RunContext, RunContextSchema } from '../../../services/domain/run-context.js';
import type { HandlerDeps } from '../../../services/handlers/deps.js';
import { restoreLogGroupStep } from '../../../services/handlers/restore-log-group.js';
import { restoreRoleStep } from '../../../services/handlers/restore-role.js';
import { restoreTrailStep } from '../../../services/handlers/restore-trail.js';
import { verifyStep } from '../../../services/handlers/verify.js';
import { ACCOUNT, REGION, resetEmulator, testClients } from '../../support/aws.js';
import {
  checkContext,
  createBucket,
  createLogGroup,
  createRole,
  createTrail,
  logGroupArnOf,
  makeDeps,
  roleArnOf,
} from '../../support/seed-remediation.js';

async function restoreAll(deps: HandlerDeps, ctx: RunContext): Promise<RunContext> {
  let out: unknown = ctx;
  for (const step of [restoreLogGroupStep, restoreRoleStep, restoreTrailStep]) out = await step(deps)(out);
  return RunContextSchema.parse(out);
}

describe('Verify', () => {
  beforeEach(async () => {
    await resetEmulator();
    await createBucket();
  });

  it('throws NotCompliantError naming what is still wrong', async () => {
    const deps = await makeDeps();
    await createRole(deps.clients, 'empty-role');
    await createTrail(deps.clients, 'broken-trail', {
      logGroupArn: logGroupArnOf('CloudTrail/broken'),
      roleArn: roleArnOf('empty-role'),
    });
    const ctx = await checkContext(deps, 'broken-trail');

    const error = await verifyStep(deps)(ctx).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NotCompliantError);
    const message = (error as Error).message;
    for (const code of ['LOG_GROUP_MISSING', 'ROLE_PERMISSIONS_INSUFFICIENT', 'LOGGING_STOPPED'])
      expect(message).toContain(code);
  });

  it('throws when the state broke again after the restore steps', async () => {
    const deps = await makeDeps();
    await createTrail(deps.clients, 'fragile-trail');
    const ctx = await restoreAll(deps, await checkContext(deps, 'fragile-trail'));
    await testClients()
      .logs(REGION)
      .send(new DeleteLogGroupCommand({ logGroupName: 'CloudTrail/fragile-trail' }));

    await expect(verifyStep(deps)(ctx)).rejects.toThrow(/LOG_GROUP_MISSING/);
  });

  it('sets the verified state after and outcome remediated when the trail is fixed', async () => {
    const deps = await makeDeps();
    await createLogGroup(deps.clients, 'CloudTrail/kept');
    await createTrail(deps.clients, 'fixed-trail', { logGroupArn: logGroupArnOf('CloudTrail/kept') });
    const ctx = await restoreAll(deps, await checkContext(deps, 'fixed-trail'));

    const out = RunContextSchema.parse(await verifyStep(deps)(ctx));

    expect(out.outcome).toBe('remediated');
    expect(out.after?.findings).toEqual([]);
    expect(out.after?.state.trail).toMatchObject({
      cloudWatchLogsLogGroupArn: logGroupArnOf('CloudTrail/kept'),
      cloudWatchLogsRoleArn: `arn:aws:iam::${ACCOUNT}:role/trailguard-cloudtrail-delivery`,
    });
    expect(out.after?.state.status?.isLogging).toBe(true);
    expect(out.before).toEqual(ctx.before);
    expect(out.actions).toEqual(ctx.actions);
  });
});
