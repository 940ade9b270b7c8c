import {
  CloudTrailClient,
  GetTrailCommand,
  GetTrailStatusCommand,
  InvalidCloudWatchLogsLogGroupArnException,
  InvalidCloudWatchLogsRoleArnException,
  ListTagsCommand,
  StartLoggingCommand,
  StopLoggingCommand,
  ThrottlingException,
  TrailNotProvidedException,
  UpdateTrailCommand,
} from '@aws-sdk/client-cloudtrail';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../../services/aws/clients.js';
import {
  IamPropagationPendingError,
  RemediationError,
  RoleTrustError,
  TransientAwsError,
} from '../../../services/domain/errors.js';
import { type RunContext, RunContextSchema } from '../../../services/domain/run-context.js';
import type { HandlerDeps } from '../../../services/handlers/deps.js';
import { restoreLogGroupStep } from '../../../services/handlers/restore-log-group.js';
import { restoreRoleStep } from '../../../services/handlers/restore-role.js';
import { restoreTrailStep } from '../../../services/handlers/restore-trail.js';
import { ACCOUNT, REGION, resetEmulator, testClients } from '../../support/aws.js';
import {
  checkContext,
  createBucket,
  createRole,
  createTrail,
  makeDeps,
  roleArnOf,
} from '../../support/seed-remediation.js';

const DEFAULT_ROLE = 'trailguard-cloudtrail-delivery';

async function trailOf(name: string) {
  const ct = testClients().cloudTrail(REGION);
  const { Trail } = await ct.send(new GetTrailCommand({ Name: name }));
  const status = await ct.send(new GetTrailStatusCommand({ Name: name }));
  return {
    logGroupArn: Trail?.CloudWatchLogsLogGroupArn,
    roleArn: Trail?.CloudWatchLogsRoleArn,
    logging: status.IsLogging,
  };
}

/**
 * Clients whose CloudTrail UpdateTrail fails with the given error (a fault moto cannot produce); every other
 * CloudTrail call, and every other service, goes to the emulator.
 */
function clientsFailingUpdateTrail(error: Error): AwsClients {
  const real = testClients();
  const through = real.cloudTrail(REGION);
  const faulty = new CloudTrailClient({ region: REGION, maxAttempts: 1 });
  const mock = mockClient(faulty);
  mock.on(GetTrailCommand).callsFake((input) => through.send(new GetTrailCommand(input)));
  mock.on(GetTrailStatusCommand).callsFake((input) => through.send(new GetTrailStatusCommand(input)));
  mock.on(ListTagsCommand).callsFake((input) => through.send(new ListTagsCommand(input)));
  mock.on(StartLoggingCommand).callsFake((input) => through.send(new StartLoggingCommand(input)));
  mock.on(UpdateTrailCommand).rejects(error);
  return { ...real, cloudTrail: () => faulty };
}

const accessDenied = () =>
  new InvalidCloudWatchLogsRoleArnException({
    message: 'Access denied.',
    $metadata: { httpStatusCode: 400 },
  });

async function restored(deps: HandlerDeps, ctx: RunContext): Promise<RunContext> {
  const afterGroup = await restoreLogGroupStep(deps)(ctx);
  return RunContextSchema.parse(await restoreRoleStep(deps)(afterGroup));
}

describe('RestoreTrail', () => {
  beforeEach(async () => {
    await resetEmulator();
    await createBucket();
  });

  it('sets both ARNs and starts logging; a retry repeats only idempotent writes; a new run has nothing to do', async () => {
    const deps = await makeDeps();
    await createTrail(deps.clients, 'management-events');
    const ctx = await restored(deps, await checkContext(deps, 'management-events'));

    const out = RunContextSchema.parse(await restoreTrailStep(deps)(ctx));

    expect(await trailOf('management-events')).toEqual({
      logGroupArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:CloudTrail/management-events:*`,
      roleArn: roleArnOf(DEFAULT_ROLE),
      logging: true,
    });
    const own = out.actions.filter((a) => a.step === 'RestoreTrail');
    expect(own.map((a) => a.api)).toEqual(['UpdateTrail', 'StartLogging']);
    expect(own[0]?.resource).toBe(`arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/management-events`);

    // A retry of the step (same input) sets the same ARNs and starts a logging trail again: harmless.
    await restoreTrailStep(deps)(ctx);
    expect((await trailOf('management-events')).logging).toBe(true);

    // A new run reads the fixed trail: compliant, so no restore step runs at all.
    expect((await checkContext(deps, 'management-events', 2)).decision).toBe('compliant');
  });

  it('only starts logging when the ARNs are already right', async () => {
    const deps = await makeDeps();
    await createTrail(deps.clients, 'quiet-trail');
    const ctx = await restored(deps, await checkContext(deps, 'quiet-trail'));
    await restoreTrailStep(deps)(ctx);
    await testClients()
      .cloudTrail(REGION)
      .send(new StopLoggingCommand({ Name: 'quiet-trail' }));

    const stopped = await checkContext(deps, 'quiet-trail', 2);
    const out = RunContextSchema.parse(await restoreTrailStep(deps)(stopped));

    expect(out.actions.filter((a) => a.step === 'RestoreTrail').map((a) => a.api)).toEqual(['StartLogging']);
    expect((await trailOf('quiet-trail')).logging).toBe(true);
  });

  it('reports IAM propagation when CloudTrail rejects a role whose trust is right', async () => {
    const deps = await makeDeps();
    await createTrail(deps.clients, 'fresh-trail');
    const ctx = await restored(deps, await checkContext(deps, 'fresh-trail'));
    const faulty = { ...deps, clients: clientsFailingUpdateTrail(accessDenied()) };

    const error = await restoreTrailStep(faulty)(ctx).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(IamPropagationPendingError);
    expect((error as Error).cause).toBeInstanceOf(InvalidCloudWatchLogsRoleArnException);
    expect((await trailOf('fresh-trail')).logGroupArn).toBeUndefined();
  });

  it('reports a permanent RoleTrustError when the trust really is wrong', async () => {
    const deps = await makeDeps();
    await createRole(deps.clients, DEFAULT_ROLE, {
      trust: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ],
      },
    });
    await createTrail(deps.clients, 'wrong-trail');
    const ctx = await checkContext(deps, 'wrong-trail');
    const faulty = { ...deps, clients: clientsFailingUpdateTrail(accessDenied()) };

    await expect(restoreTrailStep(faulty)(ctx)).rejects.toBeInstanceOf(RoleTrustError);
  });

  it('treats a log group ARN rejection about access like a role rejection', async () => {
    const deps = await makeDeps();
    await createTrail(deps.clients, 'group-trail');
    const ctx = await restored(deps, await checkContext(deps, 'group-trail'));
    const rejection = new InvalidCloudWatchLogsLogGroupArnException({
      message: 'Access denied. Verify in IAM that the role has adequate permissions.',
      $metadata: { httpStatusCode: 400 },
    });

    await expect(
      restoreTrailStep({ ...deps, clients: clientsFailingUpdateTrail(rejection) })(ctx),
    ).rejects.toBeInstanceOf(IamPropagationPendingError);
  });

  it('classifies other UpdateTrail failures: transient or permanent', async () => {
    const deps = await makeDeps();
    await createTrail(deps.clients, 'flaky-trail');
    const ctx = await restored(deps, await checkContext(deps, 'flaky-trail'));
    const throttled = new ThrottlingException({
      message: 'Rate exceeded',
      $metadata: { httpStatusCode: 400 },
    });
    const invalid = new TrailNotProvidedException({
      message: 'no trail',
      $metadata: { httpStatusCode: 400 },
    });

    const transient = await restoreTrailStep({ ...deps, clients: clientsFailingUpdateTrail(throttled) })(
      ctx,
    ).catch((e: unknown) => e);
    const permanent = await restoreTrailStep({ ...deps, clients: clientsFailingUpdateTrail(invalid) })(
      ctx,
    ).catch((e: unknown) => e);

    expect(transient).toBeInstanceOf(TransientAwsError);
    expect((transient as Error).cause).toBe(throttled);
    expect(permanent).toBeInstanceOf(RemediationError);
    expect((permanent as Error).message).toContain('UpdateTrail flaky-trail failed');
  });
});
