import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTrailsCommand } from '@aws-sdk/client-cloudtrail';
import { DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { GetRoleCommand } from '@aws-sdk/client-iam';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, it } from 'vitest';
import { clientsAssumingRole } from '../../services/aws/accounts.js';
import { s3ClientFor } from '../../services/aws/canary.js';
import { canaryStep } from '../../services/aws/canary-steps.js';
import { CANARY_MEMBER_ROLE_NAME, type CaseResult } from '../../services/domain/canary.js';
import { localEngine } from '../../services/local/selftest.js';
import { ACCOUNT, currentCredentials, REGION, testClients } from '../support/aws.js';
import {
  canaryBreakEvent,
  canaryTestDeps,
  deliverCanaryProbe,
  type FixedMetric,
  resetWithCanaryBucket,
} from '../support/canary.js';
import { FaultInjector } from '../support/faults.js';
import { cli } from '../support/organization.js';

const BUCKET = `trailguard-canary-bucket-${ACCOUNT}`;
/** Records every call of the canary function's clients (no fault): the emails it publishes. */
let recorder = new FaultInjector();
const emails = () =>
  recorder.callsOf('Publish').map((c) => c.input as { Subject?: string; Message?: string });

const deps = (now: () => Date, fixed: FixedMetric[]) =>
  canaryTestDeps(recorder.clients({ credentials: currentCredentials }), BUCKET, now, fixed);

beforeEach(async () => {
  recorder = new FaultInjector();
  await resetWithCanaryBucket(BUCKET);
});

describe('the canary function, step by step', () => {
  it('setup, StopLogging broken and fixed by the workflow, checked, finished: metrics 1, nothing left, no email', async () => {
    let t = Date.now();
    const metrics: { account: string; region: string; fixed: boolean; seconds: number | null }[] = [];
    const step = canaryStep(await deps(() => new Date(t), metrics));
    const { canary } = (await step({ action: 'setup', region: REGION })) as {
      canary: { trail: string; trailArn: string; logGroup: string; role: string };
    };
    expect(canary.trail).toMatch(/^trailguard-canary-/);

    const { brokenAt } = (await step({ action: 'break', canary, break: 'StopLogging', first: true })) as {
      brokenAt: string;
    };
    // Before the guardrail acted: not done yet (within the timeout).
    expect(await step({ action: 'check', canary, break: 'StopLogging', brokenAt })).toMatchObject({
      done: false,
    });

    const clients = testClients();
    const callerArn = `arn:aws:sts::${ACCOUNT}:assumed-role/canary/trailguard-canary`;
    const event = canaryBreakEvent('StopLogging', canary, brokenAt, callerArn, {
      account: ACCOUNT,
      region: REGION,
    });
    await localEngine({ clients, region: REGION }).handle({ event } as never);
    t += 42_000;
    const checked = (await step({ action: 'check', canary, break: 'StopLogging', brokenAt })) as {
      done: boolean;
      case: CaseResult;
      seen: unknown;
    };
    expect(checked.done).toBe(true);
    expect(checked.case).toMatchObject({
      account: ACCOUNT,
      region: REGION,
      break: 'StopLogging',
      fixed: true,
    });

    // Fixed: one object, and its data event looked for in the trail's log group.
    const probe = (await step({ action: 'probe', canary, break: 'StopLogging' })) as {
      key: string;
      writtenAt: string;
    };
    const delivery = {
      action: 'delivery',
      canary,
      break: 'StopLogging',
      brokenAt,
      ...probe,
      case: checked.case,
    };
    // Not delivered yet (within the timeout): not done.
    expect(await step(delivery)).toMatchObject({ done: false });
    // moto delivers nothing: the stand-in for CloudTrail delivers the object's data event (at the test's clock).
    expect(
      await deliverCanaryProbe(clients, { account: ACCOUNT, region: REGION }, canary as never, probe),
    ).toBe(true);
    const confirmed = (await step(delivery)) as { done: boolean; case: CaseResult; seen: unknown };
    expect(confirmed).toMatchObject({ done: true, case: checked.case });

    const report = await step({
      action: 'finish',
      region: REGION,
      canary,
      cases: [{ case: confirmed.case, seen: confirmed.seen }],
    });
    expect(report).toMatchObject({ outcome: 'passed', passed: true });
    expect(metrics).toEqual([
      { account: ACCOUNT, region: REGION, fixed: true, seconds: checked.case.seconds },
    ]);
    const { trailList = [] } = await clients.cloudTrail(REGION).send(new DescribeTrailsCommand({}));
    expect(trailList).toEqual([]);
  });

  it('fixed, but the data event of the object written after the fix never reaches CloudWatch Logs (moto delivers nothing): at the timeout the case is not fixed, "delivery not confirmed"', async () => {
    let t = Date.now();
    const step = canaryStep(await deps(() => new Date(t), []));
    const { canary } = (await step({ action: 'setup', region: REGION })) as {
      canary: { trail: string; trailArn: string; logGroup: string; role: string };
    };
    const { brokenAt } = (await step({ action: 'break', canary, break: 'StopLogging', first: true })) as {
      brokenAt: string;
    };
    const event = canaryBreakEvent(
      'StopLogging',
      canary,
      brokenAt,
      `arn:aws:sts::${ACCOUNT}:assumed-role/canary/trailguard-canary`,
      { account: ACCOUNT, region: REGION },
    );
    await localEngine({ clients: testClients(), region: REGION }).handle({ event } as never);
    const checked = (await step({ action: 'check', canary, break: 'StopLogging', brokenAt })) as {
      case: CaseResult;
    };
    expect(checked.case.fixed).toBe(true);
    const probe = (await step({ action: 'probe', canary, break: 'StopLogging' })) as object;
    t += 15 * 60_000;
    const late = (await step({
      action: 'delivery',
      canary,
      break: 'StopLogging',
      brokenAt,
      ...probe,
      case: checked.case,
    })) as { done: boolean; case: CaseResult };
    expect(late.done).toBe(true);
    expect(late.case).toMatchObject({ break: 'StopLogging', fixed: false, seconds: null });
    expect(late.case.missing).toMatch(
      new RegExp(
        `^delivery not confirmed: the data event of s3://${BUCKET}/trailguard-canary/.*/objects/StopLogging-\\d+ did not arrive in log group ${canary.logGroup} within 15 minutes of the StopLogging$`,
      ),
    );
    await step({ action: 'finish', region: REGION, canary, cases: [{ case: late.case }] });
    expect(emails()[0]?.Message).toMatch(/StopLogging: delivery not confirmed/);
  });

  it('not fixed within the timeout: the case says no event arrived; finish reports failed, emits 0 and emails the team', async () => {
    let t = Date.now();
    const metrics: { account: string; region: string; fixed: boolean; seconds: number | null }[] = [];
    const step = canaryStep(await deps(() => new Date(t), metrics));
    const { canary } = (await step({ action: 'setup', region: REGION })) as {
      canary: Record<string, unknown>;
    };
    const { brokenAt } = (await step({ action: 'break', canary, break: 'UpdateTrail', first: true })) as {
      brokenAt: string;
    };
    t += 15 * 60_000;
    const checked = (await step({ action: 'check', canary, break: 'UpdateTrail', brokenAt })) as {
      done: boolean;
      case: CaseResult;
    };
    expect(checked.done).toBe(true);
    expect(checked.case.missing).toMatch(
      /^no event arrived \(rule, forwarding or bus policy\): no run of the workflow/,
    );
    const report = await step({ action: 'finish', region: REGION, canary, cases: [{ case: checked.case }] });
    expect(report).toMatchObject({ outcome: 'failed', passed: false });
    expect(metrics).toEqual([{ account: ACCOUNT, region: REGION, fixed: false, seconds: null }]);
    expect(emails()).toEqual([
      expect.objectContaining({
        Subject: `trailguard did not fix its canary in ${ACCOUNT}/${REGION}`,
        Message: expect.stringMatching(
          new RegExp(
            `^trailguard did not fix its canary in ${ACCOUNT}/${REGION} within 15 minutes: UpdateTrail: no event arrived`,
          ),
        ),
      }),
    ]);
  });

  it("UpdateTrail fixed onto the guardrail's delivery role, created for the canary alone: cleanup keeps that role (the canary role may not delete it), removes the rest, passes, no email", async () => {
    let t = Date.now();
    const step = canaryStep(await deps(() => new Date(t), []));
    const { canary } = (await step({ action: 'setup', region: REGION })) as {
      canary: { trail: string; trailArn: string; logGroup: string; role: string };
    };
    const clients = testClients();
    // No other trail uses the guardrail's delivery role: the fix creates it for the canary.
    await expect(
      clients.iam().send(new GetRoleCommand({ RoleName: 'trailguard-cloudtrail-delivery' })),
    ).rejects.toThrow();
    const { brokenAt } = (await step({ action: 'break', canary, break: 'UpdateTrail', first: true })) as {
      brokenAt: string;
    };
    const event = canaryBreakEvent(
      'UpdateTrail',
      canary,
      brokenAt,
      `arn:aws:sts::${ACCOUNT}:assumed-role/canary/trailguard-canary`,
      { account: ACCOUNT, region: REGION },
    );
    await localEngine({ clients, region: REGION }).handle({ event } as never);
    t += 30_000;
    const checked = (await step({ action: 'check', canary, break: 'UpdateTrail', brokenAt })) as {
      done: boolean;
      case: CaseResult;
      seen: unknown;
    };
    expect(checked.case).toMatchObject({ break: 'UpdateTrail', fixed: true });

    const report = await step({
      action: 'finish',
      region: REGION,
      canary,
      cases: [{ case: checked.case, seen: checked.seen }],
    });
    expect(report).toMatchObject({ outcome: 'passed', passed: true });
    expect(report).not.toHaveProperty('cleanupError');
    expect(emails()).toEqual([]);
    // Kept: the guardrail's own role. Gone: the trail, the canary's role and every log group made for it.
    const kept = await clients.iam().send(new GetRoleCommand({ RoleName: 'trailguard-cloudtrail-delivery' }));
    expect(kept.Role?.RoleName).toBe('trailguard-cloudtrail-delivery');
    await expect(clients.iam().send(new GetRoleCommand({ RoleName: canary.role }))).rejects.toThrow();
    const { trailList = [] } = await clients.cloudTrail(REGION).send(new DescribeTrailsCommand({}));
    expect(trailList).toEqual([]);
    const { logGroups = [] } = await clients.logs(REGION).send(new DescribeLogGroupsCommand({}));
    expect(logGroups.filter((g) => g.logGroupName?.includes(canary.trail))).toEqual([]);
  });

  it('canary.accounts: in two member accounts x two regions, through each member’s trailguard-canary-access, each canary in a bucket of its own run there, fixed by the hub, delivered, removed; metrics per account and region', async () => {
    const members = ['444455556666', '777788889999'];
    const second = REGION === 'eu-west-1' ? 'us-west-2' : 'eu-west-1';
    const regions = [REGION, second];
    const config = { accounts: members, regions, hubRegion: REGION, canary: { accounts: members, regions } };
    const dir = await mkdtemp(join(tmpdir(), 'trailguard-canary-'));
    const file = join(dir, 'config.json');
    await writeFile(file, JSON.stringify(config));
    expect((await cli(['local-setup', '--config', file])).code).toBe(0);
    await rm(dir, { recursive: true, force: true });
    const metrics: { account: string; region: string; fixed: boolean; seconds: number | null }[] = [];
    const base = await deps(() => new Date(), metrics);
    const assumed: string[] = [];
    const step = canaryStep({
      ...base,
      // As the handler does: the spoke's canary role in an account other than the function's.
      canaryClients: async (region, account) => {
        const arn = `arn:aws:iam::${account}:role/${CANARY_MEMBER_ROLE_NAME}`;
        assumed.push(`${account}/${region}`);
        return (await clientsAssumingRole(base.clients, arn, { sessionName: 'trailguard-canary', region }))
          .clients;
      },
    });
    const hub = testClients();
    for (const account of members) {
      for (const region of regions) {
        const { canary } = (await step({ action: 'setup', region, account })) as {
          canary: {
            account: string;
            bucket: string;
            trail: string;
            trailArn: string;
            logGroup: string;
            role: string;
          };
        };
        expect(canary.account).toBe(account);
        // Not the hub's canary bucket: a bucket of the run's own in the member.
        expect(canary.bucket).toMatch(new RegExp(`^trailguard-canary-${account}-${region}-`));
        const { brokenAt } = (await step({ action: 'break', canary, break: 'StopLogging', first: true })) as {
          brokenAt: string;
        };
        const event = canaryBreakEvent(
          'StopLogging',
          canary,
          brokenAt,
          `arn:aws:sts::${account}:assumed-role/${CANARY_MEMBER_ROLE_NAME}/trailguard-canary`,
          { account, region },
        );
        await localEngine({ clients: hub, config, region: REGION }).handle({ event } as never);
        const checked = (await step({ action: 'check', canary, break: 'StopLogging', brokenAt })) as {
          case: CaseResult;
        };
        expect(checked.case, `${account}/${region}`).toMatchObject({ account, region, fixed: true });
        const probe = (await step({ action: 'probe', canary, break: 'StopLogging' })) as {
          key: string;
          writtenAt: string;
        };
        // Acting in the member as CloudTrail's stand-in (moto delivers nothing).
        const member = (
          await clientsAssumingRole(hub, `arn:aws:iam::${account}:role/${CANARY_MEMBER_ROLE_NAME}`, {
            sessionName: 'delivery',
            region,
          })
        ).clients;
        expect(await deliverCanaryProbe(member, { account, region }, canary as never, probe)).toBe(true);
        const delivered = (await step({
          action: 'delivery',
          canary,
          break: 'StopLogging',
          brokenAt,
          ...probe,
          case: checked.case,
        })) as { done: boolean; case: CaseResult; seen: unknown };
        expect(delivered).toMatchObject({ done: true, case: { fixed: true } });
        const report = await step({
          action: 'finish',
          region,
          account,
          canary,
          cases: [{ case: delivered.case, seen: delivered.seen }],
        });
        expect(report, `${account}/${region}`).toMatchObject({ outcome: 'passed', passed: true });
        // Nothing of the canary left in the member: trail, bucket.
        const { trailList = [] } = await member.cloudTrail(region).send(new DescribeTrailsCommand({}));
        expect(trailList).toEqual([]);
        const s3 = s3ClientFor(member, region);
        const { Buckets = [] } = await s3.send(new ListBucketsCommand({}));
        s3.destroy();
        expect(Buckets.map((b) => b.Name)).not.toContain(canary.bucket);
      }
    }
    expect(metrics.map((m) => `${m.account}/${m.region}/${m.fixed}`)).toEqual(
      members.flatMap((a) => regions.map((r) => `${a}/${r}/true`)),
    );
    expect(new Set(assumed)).toEqual(new Set(members.flatMap((a) => regions.map((r) => `${a}/${r}`))));
    expect(emails()).toEqual([]);
  });

  it('bad input is refused with a clear error', async () => {
    const step = canaryStep(await deps(() => new Date(), []));
    await expect(step({ action: 'explode' })).rejects.toThrow(/invalid canary step input/);
  });
});
