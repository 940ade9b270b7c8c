/** The canary function's core on the emulator: its dependencies, its bucket, and the break events it causes. */
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { type CanaryState, canaryFromState, s3ClientFor } from '../../services/aws/canary.js';
import type { CanaryDeps } from '../../services/aws/canary-steps.js';
import type { AwsClients } from '../../services/aws/clients.js';
import { readAccountId } from '../../services/aws/trail-reader.js';
import { actorOf, type Break, breakEvent } from '../../services/domain/canary.js';
import { emulateCloudTrailDelivery } from '../../services/local/emulator-tolerance.js';
import { createBucketIn } from '../../services/local/organization-seed.js';
import { ACCOUNT, currentCredentials, REGION, resetEmulator } from './aws.js';
import { cli } from './organization.js';

/** One CanaryFixed metric the function emitted. */
export interface FixedMetric {
  account: string;
  region: string;
  fixed: boolean;
  seconds: number | null;
}

/**
 * The canary function's dependencies in ACCOUNT and REGION, writing to `bucket`, with `clients` (the emulator's
 * own credentials stand in for the canary role's); each CanaryFixed metric goes to `fixed`.
 */
export async function canaryTestDeps(
  clients: AwsClients,
  bucket: string,
  now: () => Date,
  fixed: FixedMetric[],
): Promise<CanaryDeps> {
  return {
    env: {
      TRAILGUARD_CANARY_ROLE_ARN: `arn:aws:iam::${ACCOUNT}:role/canary`,
      TRAILGUARD_CANARY_BUCKET: bucket,
      TRAILGUARD_AUDIT_TABLE: 'trailguard-audit',
      TRAILGUARD_TOPIC_ARN: `arn:aws:sns:${REGION}:${ACCOUNT}:trailguard-notifications`,
      TRAILGUARD_CANARY_TIMEOUT_MINUTES: 15,
      TRAILGUARD_DELIVERY_ROLE_NAME: 'trailguard-cloudtrail-delivery',
      TRAILGUARD_CANARY_CIS_ALARMS: false,
    },
    clients,
    canaryClients: async () => clients,
    account: await readAccountId(clients),
    now,
    metrics: { fixed: (account, region, ok, seconds) => fixed.push({ account, region, fixed: ok, seconds }) },
  };
}

/** A wiped emulator with the guardrail set up locally and the canary's `bucket` in REGION. */
export async function resetWithCanaryBucket(bucket: string): Promise<void> {
  await resetEmulator();
  expect((await cli(['local-setup'])).code).toBe(0);
  await createBucketIn(bucket, REGION, { credentials: currentCredentials });
}

/** The CloudTrail event a canary break by `callerArn` produces, as the local engine replays it. */
export function canaryBreakEvent(
  kind: Break,
  canary: { trailArn: string; logGroup: string; role: string },
  brokenAt: string,
  callerArn: string,
  where: { account: string; region: string; partition?: string },
): Record<string, unknown> {
  return breakEvent({
    break: kind,
    id: randomUUID(),
    account: where.account,
    region: where.region,
    partition: where.partition ?? 'aws',
    time: new Date(brokenAt),
    actor: actorOf(callerArn),
    trailArn: canary.trailArn,
    logGroup: canary.logGroup,
    role: canary.role,
  });
}

/**
 * moto delivers nothing: CloudTrail's stand-in (services/local/emulator-tolerance.ts) delivers the data event of the
 * canary's probe object `key`, written at `writtenAt`, acting with `clients` in `where`. Whether it delivered.
 */
export async function deliverCanaryProbe(
  clients: AwsClients,
  where: { account: string; region: string; partition?: string },
  canary: CanaryState,
  probe: { key: string; writtenAt: string },
): Promise<boolean> {
  const s3 = s3ClientFor(clients, where.region);
  try {
    const target = { ...where, partition: where.partition ?? 'aws', clients, s3 };
    return await emulateCloudTrailDelivery(
      target,
      canaryFromState(canary),
      probe.key,
      new Date(probe.writtenAt),
    );
  } finally {
    s3.destroy();
  }
}
