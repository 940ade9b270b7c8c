import { DescribeTrailsCommand } from '@aws-sdk/client-cloudtrail';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { type CanaryState, canaryFromState } from '../../services/aws/canary.js';
import { canaryStep } from '../../services/aws/canary-steps.js';
import type { Break } from '../../services/domain/canary.js';
import { localEngine } from '../../services/local/selftest.js';
import { runCanary } from '../../services/local/workflow-runner.js';
import { ACCOUNT, currentCredentials, REGION, testClients } from '../support/aws.js';
import {
  canaryBreakEvent,
  canaryTestDeps,
  deliverCanaryProbe,
  type FixedMetric,
  resetWithCanaryBucket,
} from '../support/canary.js';
import { FaultInjector } from '../support/faults.js';

const CONFIG = { canary: { schedule: 'rate(1 day)', timeoutMinutes: 15 } };
const BUCKET = `trailguard-canary-e2e-${ACCOUNT}`;

beforeEach(() => resetWithCanaryBucket(BUCKET));

/**
 * The canary function's core with the emulator's clients, and the task binding that plays the event path and
 * CloudTrail's delivery around it (see the file's comment). Returns the recorded metrics and emails.
 */
async function canaryTasks() {
  const recorder = new FaultInjector();
  const clients = recorder.clients({ credentials: currentCredentials });
  const metrics: FixedMetric[] = [];
  // The real clock: the guardrail's runs (and their audit records) are timed by it too. Each fix happens in the
  // Break task's binding, so every re-read finds it done (the Wait states, shortened to 0, loop no further).
  const deps = await canaryTestDeps(clients, BUCKET, () => new Date(), metrics);
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
        event: canaryBreakEvent(
          input.break,
          canary,
          brokenAt,
          `arn:aws:sts::${canary.account}:assumed-role/canary/trailguard-canary`,
          canary,
        ),
      } as never);
    }
    if (input.action === 'probe' && canary) {
      await deliverCanaryProbe(clients, canary, canary, out as { key: string; writtenAt: string });
    }
    return out;
  };
  const emails = () =>
    recorder.callsOf('Publish').map((c) => c.input as { Subject?: string; Message?: string });
  return { task, metrics, emails, clients };
}

/** One execution of the synthesized canary state machine over ACCOUNT and REGION, its tasks bound to `task`. */
const runCanaryHere = (task: (payload: unknown) => Promise<unknown>) =>
  runCanary(
    task,
    { targets: [{ account: ACCOUNT, region: REGION }] },
    { config: CONFIG, clients: testClients(), region: REGION },
  );

describe('the deployed canary’s state machine, executed end to end', () => {
  it('a passing run: all four breaks fixed by the local guardrail and delivered; CanaryFixed 1 for each, no email, nothing left', async () => {
    const { task, metrics, emails, clients } = await canaryTasks();

    const run = await runCanaryHere(task);

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

    const run = await runCanaryHere(task);

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
