/**
 * A delivery role shared by many trails, through the synthesized workflow against moto:
 * - 60 trails delivering through the guardrail's role, the role deleted, its one DeleteRole event replayed:
 *   every trail ends compliant (read back independently), the role holds one grant well within IAM's
 *   10,240-character inline quota (moto does not enforce it: the size is measured here), and the AWS calls per
 *   trail do not grow with the number of trails (compared with 3 trails);
 * - grants left by an earlier version (one inline policy per log group) are consolidated on the next repair;
 * - IAM's quota error (which moto never returns: injected at the SDK layer) fails the run at once, not retried,
 *   with the quota named.
 */
import { CreateTrailCommand, StartLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateRoleCommand,
  GetRolePolicyCommand,
  LimitExceededException,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../../services/aws/clients.js';
import { type ReplayResult, replayEvent } from '../../../services/local/replay.js';
import { ACCOUNT, REGION, testClients } from '../../support/aws.js';
import { FaultInjector } from '../../support/faults.js';
import { independentProblems } from '../../support/independent-check.js';
import { createBucket, trustPolicy } from '../../support/seed.js';
import { cloudTrailEvent, freshGuardrail, OWN_ROLE } from './harness.js';

const ROLE = 'trailguard-cloudtrail-delivery';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/${ROLE}`;
/** IAM's quota on the inline policies of one role, whitespace not counted (IAM User Guide, IAM quotas). */
const INLINE_QUOTA = 10_240;
const clients = testClients();

beforeEach(freshGuardrail);

const names = (n: number) => Array.from({ length: n }, (_, i) => `team-${String(i).padStart(2, '0')}`);

/** Trails delivering to their own template log group (CloudTrail/NAME) through the shared role, logging. */
async function seedTrailsOnSharedRole(c: AwsClients, trails: string[]): Promise<void> {
  const bucket = await createBucket();
  for (const name of trails) {
    await c.logs(REGION).send(new CreateLogGroupCommand({ logGroupName: `CloudTrail/${name}` }));
    await c.cloudTrail(REGION).send(
      new CreateTrailCommand({
        Name: name,
        S3BucketName: bucket,
        CloudWatchLogsLogGroupArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:CloudTrail/${name}:*`,
        CloudWatchLogsRoleArn: ROLE_ARN,
      }),
    );
    await c.cloudTrail(REGION).send(new StartLoggingCommand({ Name: name }));
  }
}

/** The inline policies of the role, with IAM's size of each (JSON without whitespace). */
async function inlineSizes(): Promise<Record<string, number>> {
  const iam = clients.iam();
  const out: Record<string, number> = {};
  for (const name of (await iam.send(new ListRolePoliciesCommand({ RoleName: ROLE }))).PolicyNames ?? []) {
    const text =
      (await iam.send(new GetRolePolicyCommand({ RoleName: ROLE, PolicyName: name }))).PolicyDocument ?? '';
    const doc = text.startsWith('{') ? text : decodeURIComponent(text);
    out[name] = JSON.stringify(JSON.parse(doc)).replace(/\s/g, '').length;
  }
  return out;
}

const deleteRoleEvent = () =>
  cloudTrailEvent('DeleteRole', ROLE, { service: 'iam', requestParameters: { roleName: ROLE } });

/** Replays the role's DeleteRole event with n trails using it; returns the result and the AWS calls made. */
async function deleteRoleWith(n: number): Promise<{ result: ReplayResult; calls: number }> {
  await freshGuardrail();
  await seedTrailsOnSharedRole(clients, names(n));
  const recorder = new FaultInjector();
  const result = await replayEvent(deleteRoleEvent(), { clients: recorder.clients(), ownRoleArn: OWN_ROLE });
  return { result, calls: recorder.calls.length };
}

describe('a delivery role shared by many trails', () => {
  it('60 trails, role deleted, one DeleteRole event: all compliant, one grant within the quota, calls per trail constant', async () => {
    const small = await deleteRoleWith(3);
    const { result, calls } = await deleteRoleWith(60);

    expect(result.runs).toHaveLength(60);
    const counts: Record<string, number> = {};
    for (const run of result.runs ?? []) counts[run.outcome] = (counts[run.outcome] ?? 0) + 1;
    // The first run recreates the role with the shared grant; every other trail is then already compliant.
    expect(counts).toEqual({ remediated: 1, compliant: 59 });

    const sizes = await inlineSizes();
    expect(Object.keys(sizes)).toEqual([ROLE]);
    const total = Object.values(sizes).reduce((a, b) => a + b, 0);
    expect(total).toBeLessThan(INLINE_QUOTA / 20);

    for (const name of names(60)) expect(await independentProblems(name), name).toEqual([]);

    const perTrail = (c: number, n: number) => c / n;
    expect(perTrail(calls, 60)).toBeLessThanOrEqual(perTrail(small.calls, 3));
  });

  it("an earlier version's per-log-group grants are consolidated on the next repair", async () => {
    const trails = names(30);
    await seedTrailsOnSharedRole(clients, trails);
    const iam = clients.iam();
    // The role as an earlier trailguard left it: a SourceAccount-conditioned trust (which AWS does not
    // support for this role) and one inline grant per trail's log group.
    await iam.send(
      new CreateRoleCommand({
        RoleName: ROLE,
        AssumeRolePolicyDocument: JSON.stringify(trustPolicy('source-account')),
      }),
    );
    for (const name of trails) {
      await iam.send(
        new PutRolePolicyCommand({
          RoleName: ROLE,
          PolicyName: `trailguard-delivery-CloudTrail-${name}-0123456789ab`,
          PolicyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              {
                Sid: 'TrailguardCloudTrailDelivery',
                Effect: 'Allow',
                Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
                Resource: [
                  `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:CloudTrail/${name}:log-stream:${ACCOUNT}_CloudTrail_${REGION}*`,
                ],
              },
            ],
          }),
        }),
      );
    }
    const before = await inlineSizes();
    expect(Object.keys(before)).toHaveLength(30);

    const result = await replayEvent(
      cloudTrailEvent('UpdateAssumeRolePolicy', ROLE, {
        service: 'iam',
        requestParameters: { roleName: ROLE },
      }),
      { clients: testClients(), ownRoleArn: OWN_ROLE },
    );
    expect(result.runs?.[0]?.outcome, result.runs?.[0]?.reason).toBe('remediated');
    const actions = result.runs?.[0]?.actions.map((a) => a.api) ?? [];
    expect(actions.filter((a) => a === 'DeleteRolePolicy')).toHaveLength(30);

    expect(Object.keys(await inlineSizes())).toEqual([ROLE]);
    for (const name of trails) expect(await independentProblems(name), name).toEqual([]);
  });

  it("IAM's quota error (injected at the SDK layer: moto has no IAM quotas) fails the run at once and names the quota", async () => {
    await seedTrailsOnSharedRole(clients, ['quota']);
    const faults = new FaultInjector([
      {
        operation: 'PutRolePolicy',
        error: () =>
          new LimitExceededException({
            message: 'Cannot exceed quota for PolicySize: 10240',
            $metadata: { httpStatusCode: 409 },
          }),
      },
    ]);
    const result = await replayEvent(deleteRoleEvent(), { clients: faults.clients(), ownRoleArn: OWN_ROLE });
    const run = result.runs?.[0];
    expect(run?.outcome).toBe('failed');
    expect(run?.reason).toContain('QuotaExceededError');
    expect(run?.reason).toContain("a role's inline policies may total at most 10,240 characters");
    // Permanent: one attempt, no workflow retry.
    expect(faults.callsOf('PutRolePolicy')).toHaveLength(1);
  });
});
