/**
 * End to end: the deployed canary's Standard state machine, as CDK synthesizes it (infra/constructs/canary.ts),
 * executed locally with aws-local-stepfunctions (services/local/workflow-runner.ts runCanary), every Lambda task
 * bound to the canary function's real core (services/aws/canary-steps.ts canaryStep) against moto, its Wait
 * states shortened by the runner's overrides.
 *
 * What the emulator cannot do is played around the real core, in the test's task binding: after each Break task,
 * the break's CloudTrail event goes through the stack's rules and the synthesized remediation workflow (the local
 * engine, as EventBridge would deliver it); after each Probe task, CloudTrail's delivery of the object's data event
 * is stood in for (services/local/emulator-tolerance.ts). No real waiting: every Wait state is overridden to 0.
 */
import { randomUUID } from 'node:crypto';
import { DescribeTrailsCommand } from '@aws-sdk/client-cloudtrail';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { type BucketLocationConstraint, CreateBucketCommand } from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, it } from 'vitest';
import { type CanaryState, canaryFromState, s3ClientFor } from '../../services/aws/canary.js';
import { type CanaryDeps, canaryStep } from '../../services/aws/canary-steps.js';
import { readAccountId } from '../../services/aws/trail-reader.js';
import { actorOf, type Break, breakEvent } from '../../services/domain/canary.js';
import { emulateCloudTrailDelivery } from '../../services/local/emulator-tolerance.js';
import { localEngine } from '../../services/local/selftest.js';
import { runCanary } from '../../services/local/workflow-runner.js';
import { ACCOUNT, currentCredentials, REGION, resetEmulator, testClients } from '../support/aws.js';
import { FaultInjector } from '../support/faults.js';
import { cli } from '../support/organization.js';

const CONFIG = { canary: { schedule: 'rate(1 day)', timeoutMinutes: 15 } };
const BUCKET = `trailguard-canary-e2e-${ACCOUNT}`;

interface Fixed {
  account: string;
  region: string;
  fixed: boolean;
  seconds: number | null;
}

beforeEach(async () => {
  await resetEmulator();
  expect((await cli(['local-setup'])).code).toBe(0);
  const s3 = s3ClientFor(testClients(), REGION);
  await s3.send(
    new CreateBucketCommand({
      Bucket: BUCKET,
      ...(REGION === 'us-east-1'
        ? {}
        : { CreateBucketConfiguration: { LocationConstraint: REGION as BucketLocationConstraint } }),
    }),
  );
  s3.destroy();
});

/**
 * The canary function's core with the emulator's clients, and the task binding that plays the event path and
 * CloudTrail's delivery around it (see the file's comment). Returns the recorded metrics and emails.
 */
async function canaryTasks() {
  const recorder = new FaultInjector();
  const clients = recorder.clients({ credentials: currentCredentials });
  const metrics: Fixed[] = [];
  const deps: CanaryDeps = {
    env: {
      TRAILGUARD_CANARY_ROLE_ARN: `arn:aws:iam::${ACCOUNT}:role/canary`,
      TRAILGUARD_CANARY_BUCKET: BUCKET,
      TRAILGUARD_AUDIT_TABLE: 'trailguard-audit',
      TRAILGUARD_TOPIC_ARN: `arn:aws:sns:${REGION}:${ACCOUNT}:trailguard-notifications`,
      TRAILGUARD_CANARY_TIMEOUT_MINUTES: 15,
      TRAILGUARD_DELIVERY_ROLE_NAME: 'trailguard-cloudtrail-delivery',
      TRAILGUARD_CANARY_CIS_ALARMS: false,
    },
    clients,
    // The emulator's own credentials stand in for the canary role's.
    canaryClients: async () => clients,
    account: await readAccountId(clients),
    // The real clock: the guardrail's runs (and their audit records) are timed by it too. Each fix happens in the
    // Break task's binding, so every re-read finds it done (the Wait states, shortened to 0, loop no further).
    now: () => new Date(),
    metrics: {
      fixed: (account, region, fixed, seconds) => metrics.push({ account, region, fixed, seconds }),
    },
  };
  const core = canaryStep(deps);
  const engine = localEngine({ clients: testClients(), region: REGION });
  const task = async (payload: unknown) => {
    const input = payload as { action: string; canary?: CanaryState; break?: Break };
    const out = await core(payload);
    const canary = input.canary;
    if (input.action === 'break' && canary && input.break) {
      const { brokenAt } = out as { brokenAt: string };
      await engine.handle({
        canary: canaryFromState(canary),
        event: breakEvent({
          break: input.break,
          id: randomUUID(),
          account: canary.account,
          region: canary.region,
          partition: canary.partition,
          time: new Date(brokenAt),
          actor: actorOf(`arn:aws:sts::${canary.account}:assumed-role/canary/trailguard-canary`),
          trailArn: canary.trailArn,
          logGroup: canary.logGroup,
          role: canary.role,
        }),
      } as never);
    }
    if (input.action === 'probe' && canary) {
      const { key, writtenAt } = out as { key: string; writtenAt: string };
      const s3 = s3ClientFor(clients, canary.region);
      const target = {
        account: canary.account,
        region: canary.region,
        partition: canary.partition,
        clients,
        s3,
      };
      await emulateCloudTrailDelivery(target, canaryFromState(canary), key, new Date(writtenAt));
      s3.destroy();
    }
    return out;
  };
  const emails = () =>
    recorder.callsOf('Publish').map((c) => c.input as { Subject?: string; Message?: string });
  return { task, metrics, emails, clients };
}

describe('the deployed canary’s state machine, executed end to end', () => {
  it('a passing run: all four breaks fixed by the local guardrail and delivered; CanaryFixed 1 for each, no email, nothing left', async () => {
    const { task, metrics, emails, clients } = await canaryTasks();

    const run = await runCanary(
      task,
      { targets: [{ account: ACCOUNT, region: REGION }] },
      {
        config: CONFIG,
        clients: testClients(),
        region: REGION,
      },
    );

    expect(run?.status, JSON.stringify(run?.error)).toBe('SUCCEEDED');
    // Each break went through its re-read, the probe and the delivery check.
    for (const state of [
      'Setup',
      'Break',
      'WaitForFix',
      'Check',
      'Probe',
      'WaitForDelivery',
      'ConfirmDelivery',
      'Finish',
    ])
      expect(run?.states, state).toContain(state);
    expect(run?.states).toContain('CanaryPassed');
    expect(metrics).toEqual(
      ['UpdateTrail', 'StopLogging', 'DeleteLogGroup', 'DeleteRolePolicy'].map(() => ({
        account: ACCOUNT,
        region: REGION,
        fixed: true,
        seconds: expect.any(Number),
      })),
    );
    expect(emails()).toEqual([]);
    const { trailList = [] } = await clients.cloudTrail(REGION).send(new DescribeTrailsCommand({}));
    expect(trailList).toEqual([]);
  });

  it('a failing run (the guardrail’s audit table removed): CanaryFixed 0, the team emailed, the execution fails with TrailguardCanaryNotFixed, nothing left', async () => {
    const { task, metrics, emails, clients } = await canaryTasks();
    await testClients()
      .dynamo()
      .send(new DeleteTableCommand({ TableName: 'trailguard-audit' }));

    const run = await runCanary(
      task,
      { targets: [{ account: ACCOUNT, region: REGION }] },
      {
        config: CONFIG,
        clients: testClients(),
        region: REGION,
      },
    );

    expect(run?.status).toBe('FAILED');
    expect(run?.error).toMatchObject({ Error: 'TrailguardCanaryNotFixed' });
    expect(metrics.length).toBeGreaterThan(0);
    expect(metrics.every((m) => m.fixed === false && m.account === ACCOUNT && m.region === REGION)).toBe(
      true,
    );
    const [mail, ...more] = emails();
    expect(more).toEqual([]);
    expect(mail?.Subject).toBe(`trailguard did not fix its canary in ${ACCOUNT}/${REGION}`);
    expect(mail?.Message).toMatch(
      new RegExp(
        `^trailguard did not fix its canary in ${ACCOUNT}/${REGION} within 15 minutes: UpdateTrail: `,
      ),
    );
    const { trailList = [] } = await clients.cloudTrail(REGION).send(new DescribeTrailsCommand({}));
    expect(trailList).toEqual([]);
  });
});
