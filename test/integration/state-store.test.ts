/**
 * The state table (services/aws/state-store.ts) against moto's DynamoDB: log group snapshots (the newest one per
 * trail wins) and delivery error sightings (the earliest sighting of the same error is kept), and damaged items
 * rejected with the table and key named.
 */
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  clearDeliveryErrorSighting,
  ensureStateTable,
  getDeliveryErrorSighting,
  getLogGroupSnapshot,
  localStateTableName,
  putLogGroupSnapshot,
  recordDeliveryErrorSighting,
  STATE_PARTITION_KEY,
  STATE_SORT_KEY,
} from '../../services/aws/state-store.js';
import { partitionOf } from '../../services/domain/arns.js';
import { AwsReadError } from '../../services/domain/errors.js';
import type { LogGroupSnapshot } from '../../services/domain/log-group-snapshot.js';
import { ACCOUNT, REGION, resetEmulator, testClients } from '../support/aws.js';

const TABLE = 'trailguard-test-audit-state';
const PARTITION = partitionOf(REGION);
const TRAIL_ARN = `arn:${PARTITION}:cloudtrail:${REGION}:${ACCOUNT}:trail/management-events`;
const OTHER_TRAIL_ARN = `arn:${PARTITION}:cloudtrail:${REGION}:${ACCOUNT}:trail/data-events`;
const ERROR = 'CloudTrail cannot assume the role arn:aws:iam::000000000000:role/gone';

function snapshot(takenAt: string, overrides: Partial<LogGroupSnapshot> = {}): LogGroupSnapshot {
  return {
    trailArn: TRAIL_ARN,
    logGroupName: 'CloudTrail/management-events',
    takenAt,
    retentionInDays: 400,
    kmsKeyId: `arn:${PARTITION}:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
    tags: { team: 'security', 'trailguard:managed': 'true', empty: '' },
    metricFilters: [
      {
        filterName: 'RootAccountUsage',
        filterPattern: '{ $.userIdentity.type = "Root" }',
        metricTransformations: [
          {
            metricName: 'RootAccountUsage',
            metricNamespace: 'CISBenchmark',
            metricValue: '1',
            defaultValue: 0,
          },
        ],
      },
      {
        filterName: 'Everything',
        filterPattern: '',
        metricTransformations: [
          {
            metricName: 'Events',
            metricNamespace: 'Trail',
            metricValue: '1',
            unit: 'Count',
            dimensions: { source: '$.eventSource' },
          },
        ],
      },
    ],
    subscriptionFilters: [
      {
        filterName: 'to-siem',
        filterPattern: '',
        destinationArn: `arn:${PARTITION}:kinesis:${REGION}:${ACCOUNT}:stream/siem`,
        roleArn: `arn:${PARTITION}:iam::${ACCOUNT}:role/cwl-to-siem`,
        distribution: 'ByLogStream',
      },
    ],
    dataProtectionPolicy: '{"Name":"p","Version":"2021-06-01","Statement":[]}',
    unreadable: [],
    ...overrides,
  };
}

/** Writes an item as it is, past the module's validation (what a person or another tool might leave). */
async function putRaw(item: Record<string, unknown>): Promise<void> {
  await DynamoDBDocumentClient.from(testClients().dynamo()).send(
    new PutCommand({ TableName: TABLE, Item: item }),
  );
}

describe('state table', () => {
  beforeEach(async () => {
    await resetEmulator();
    await ensureStateTable(testClients(), TABLE);
  });

  it("is named after the audit table, within DynamoDB's 255 characters", () => {
    expect(localStateTableName({ auditTableName: 'trailguard-audit' })).toBe('trailguard-audit-state');
    const long = localStateTableName({ auditTableName: 'a'.repeat(300) });
    expect(long).toHaveLength(255);
    expect(long.endsWith('-state')).toBe(true);
  });

  it('is created once, with the keys trail and kind', async () => {
    expect(await ensureStateTable(testClients(), TABLE)).toEqual({ tableName: TABLE, created: false });
    expect(STATE_PARTITION_KEY).toBe('trail');
    expect(STATE_SORT_KEY).toBe('kind');
    expect(await ensureStateTable(testClients(), `${TABLE}-2`)).toEqual({
      tableName: `${TABLE}-2`,
      created: true,
    });
  });

  describe('log group snapshots', () => {
    it('stores and reads back a snapshot exactly; none for a trail without one', async () => {
      const s = snapshot('2025-06-01T12:00:00.000Z');
      await putLogGroupSnapshot(testClients(), TABLE, s);
      expect(await getLogGroupSnapshot(testClients(), TABLE, TRAIL_ARN)).toEqual(s);
      expect(await getLogGroupSnapshot(testClients(), TABLE, OTHER_TRAIL_ARN)).toBeUndefined();
    });

    it("replaces the trail's previous snapshot, but never with an older one", async () => {
      await putLogGroupSnapshot(testClients(), TABLE, snapshot('2025-06-01T12:00:00.000Z'));
      const newer = snapshot('2025-06-01T13:00:00.000Z', {
        retentionInDays: 731,
        tags: {},
        metricFilters: [],
      });
      delete newer.dataProtectionPolicy;
      await putLogGroupSnapshot(testClients(), TABLE, newer);
      expect(await getLogGroupSnapshot(testClients(), TABLE, TRAIL_ARN)).toEqual(newer);

      await putLogGroupSnapshot(testClients(), TABLE, snapshot('2025-06-01T12:30:00.000Z'));
      expect(await getLogGroupSnapshot(testClients(), TABLE, TRAIL_ARN)).toEqual(newer);
    });

    it('keeps one snapshot per trail', async () => {
      await putLogGroupSnapshot(testClients(), TABLE, snapshot('2025-06-01T12:00:00.000Z'));
      await putLogGroupSnapshot(
        testClients(),
        TABLE,
        snapshot('2025-06-01T12:00:00.000Z', { trailArn: OTHER_TRAIL_ARN, logGroupName: 'shared' }),
      );
      expect((await getLogGroupSnapshot(testClients(), TABLE, TRAIL_ARN))?.logGroupName).toBe(
        'CloudTrail/management-events',
      );
      expect((await getLogGroupSnapshot(testClients(), TABLE, OTHER_TRAIL_ARN))?.logGroupName).toBe('shared');
    });

    it('rejects a damaged item, naming the table and the key', async () => {
      await putRaw({
        trail: TRAIL_ARN,
        kind: 'log-group-snapshot',
        snapshot: { trailArn: TRAIL_ARN, tags: 'x' },
      });
      const error = await getLogGroupSnapshot(testClients(), TABLE, TRAIL_ARN).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AwsReadError);
      expect((error as Error).message).toContain(
        `state item ${TABLE} (trail=${TRAIL_ARN}, kind=log-group-snapshot) is damaged`,
      );

      await putRaw({
        trail: TRAIL_ARN,
        kind: 'log-group-snapshot',
        snapshot: snapshot('2025-06-01T12:00:00.000Z', { trailArn: OTHER_TRAIL_ARN }),
      });
      await expect(getLogGroupSnapshot(testClients(), TABLE, TRAIL_ARN)).rejects.toThrow(
        /holds the snapshot of another trail/,
      );
    });

    it('replaces a damaged item with a good snapshot', async () => {
      await putRaw({ trail: TRAIL_ARN, kind: 'log-group-snapshot', snapshot: { takenAt: 42 } });
      const s = snapshot('2025-06-01T12:00:00.000Z');
      await putLogGroupSnapshot(testClients(), TABLE, s);
      expect(await getLogGroupSnapshot(testClients(), TABLE, TRAIL_ARN)).toEqual(s);
    });
  });

  describe('delivery error sightings', () => {
    const at = (time: string) => ({ trailArn: TRAIL_ARN, error: ERROR, firstSeenAt: time });

    it('keeps the earliest sighting of the same error', async () => {
      expect(await getDeliveryErrorSighting(testClients(), TABLE, TRAIL_ARN)).toBeUndefined();
      expect(await recordDeliveryErrorSighting(testClients(), TABLE, at('2025-06-01T12:00:00.000Z'))).toEqual(
        at('2025-06-01T12:00:00.000Z'),
      );
      // Seen again later: the first sighting stands.
      expect(await recordDeliveryErrorSighting(testClients(), TABLE, at('2025-06-01T13:00:00.000Z'))).toEqual(
        at('2025-06-01T12:00:00.000Z'),
      );
      // Reported late by a slower run that saw it earlier: the earlier time wins (any ISO form).
      expect(await recordDeliveryErrorSighting(testClients(), TABLE, at('2025-06-01T11:30:00Z'))).toEqual(
        at('2025-06-01T11:30:00.000Z'),
      );
      expect(await getDeliveryErrorSighting(testClients(), TABLE, TRAIL_ARN)).toEqual(
        at('2025-06-01T11:30:00.000Z'),
      );
    });

    it('starts a new sighting for a different error', async () => {
      await recordDeliveryErrorSighting(testClients(), TABLE, at('2025-06-01T12:00:00.000Z'));
      const other = { trailArn: TRAIL_ARN, error: 'AccessDenied', firstSeenAt: '2025-06-02T08:00:00.000Z' };
      expect(await recordDeliveryErrorSighting(testClients(), TABLE, other)).toEqual(other);
      expect(await getDeliveryErrorSighting(testClients(), TABLE, TRAIL_ARN)).toEqual(other);
      // Back to the first error: it is new again from now on.
      expect(await recordDeliveryErrorSighting(testClients(), TABLE, at('2025-06-03T08:00:00.000Z'))).toEqual(
        at('2025-06-03T08:00:00.000Z'),
      );
    });

    // Runs that record at once agree because DynamoDB checks a condition and writes the item as one operation
    // (DynamoDB Developer Guide, "Condition expressions"). moto 5.2.1 does not: its server handles requests in
    // threads and checks the condition, then writes, without a lock, so concurrent writes to moto may lose the
    // earlier time. What the condition decides is therefore tested with the writes in several orders, one after
    // another.
    it('keeps the earliest sighting whatever order the runs write in (one after another: moto checks and writes without a lock)', async () => {
      const times = Array.from(
        { length: 10 },
        (_, i) => `2025-06-01T12:${String(50 - i * 3).padStart(2, '0')}:00.000Z`,
      );
      const earliest = [...times].sort()[0] as string;
      const orders = [
        times,
        [...times].reverse(),
        times.map((_, i) => times[(i * 7) % times.length] as string),
      ];
      for (const order of orders) {
        await clearDeliveryErrorSighting(testClients(), TABLE, TRAIL_ARN);
        const results = [];
        for (const t of order) results.push(await recordDeliveryErrorSighting(testClients(), TABLE, at(t)));
        expect(await getDeliveryErrorSighting(testClients(), TABLE, TRAIL_ARN)).toEqual(at(earliest));
        // Each run got a sighting no later than its own: its own time, or the earlier one stored before it.
        for (const [i, r] of results.entries()) {
          const seenSoFar = [...order.slice(0, i + 1)].sort()[0] as string;
          expect(r).toEqual(at(seenSoFar));
        }
      }
    });

    it('lives beside the snapshot of the same trail, and can be cleared', async () => {
      await putLogGroupSnapshot(testClients(), TABLE, snapshot('2025-06-01T12:00:00.000Z'));
      await recordDeliveryErrorSighting(testClients(), TABLE, at('2025-06-01T12:00:00.000Z'));
      await clearDeliveryErrorSighting(testClients(), TABLE, TRAIL_ARN);
      expect(await getDeliveryErrorSighting(testClients(), TABLE, TRAIL_ARN)).toBeUndefined();
      expect(await getLogGroupSnapshot(testClients(), TABLE, TRAIL_ARN)).toBeDefined();
    });

    it('rejects a damaged sighting and replaces it on the next record', async () => {
      await putRaw({ trail: TRAIL_ARN, kind: 'delivery-error', error: ERROR, firstSeenAt: 'last tuesday' });
      await expect(getDeliveryErrorSighting(testClients(), TABLE, TRAIL_ARN)).rejects.toThrow(
        `state item ${TABLE} (trail=${TRAIL_ARN}, kind=delivery-error) is damaged`,
      );
      await putRaw({
        trail: TRAIL_ARN,
        kind: 'delivery-error',
        error: 7,
        firstSeenAt: '2025-06-01T12:00:00.000Z',
      });
      expect(await recordDeliveryErrorSighting(testClients(), TABLE, at('2025-06-02T12:00:00.000Z'))).toEqual(
        at('2025-06-02T12:00:00.000Z'),
      );
    });

    it('refuses to record what is not a sighting', async () => {
      await expect(
        recordDeliveryErrorSighting(testClients(), TABLE, {
          trailArn: TRAIL_ARN,
          error: '',
          firstSeenAt: 'now',
        }),
      ).rejects.toThrow();
      expect(await getDeliveryErrorSighting(testClients(), TABLE, TRAIL_ARN)).toBeUndefined();
    });
  });
});
