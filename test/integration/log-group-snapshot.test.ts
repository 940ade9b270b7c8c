/**
 * A log group restored whole (services/aws/log-group-snapshot.ts) against moto: a trail's log group with
 * retention, a KMS key, tags, two metric filters and a subscription filter to a Kinesis stream is recorded, deleted,
 * recreated by a plain CreateLogGroup, and restored; every item is read back with the SDK directly.
 *
 * What moto 5.2.1 cannot do, and how these tests deal with it:
 * - It has no AssociateKmsKey, GetDataProtectionPolicy or PutDataProtectionPolicy: it answers them with HTTP 500
 *   and an HTML page. Tests whose names say so put a stand-in for those three APIs at the SDK layer (below the
 *   FaultInjector of test/support/faults.ts, which records every call and injects AWS's refusals); the others
 *   show what the product does with moto's real answer (`unreadable`, `notRestored`).
 * - DeleteLogGroup leaves the group's metric filters and tags behind (they are kept apart from the group and
 *   come back with a group of the same name); AWS deletes them with the group. `deleteLogGroup` below removes
 *   the leftovers, and each test checks that the recreated group starts bare.
 * - It answers every list in one page: paging is checked with SDK mocks at the end.
 */
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  DeleteLogGroupCommand,
  DeleteMetricFilterCommand,
  DescribeLogGroupsCommand,
  DescribeMetricFiltersCommand,
  DescribeSubscriptionFiltersCommand,
  GetDataProtectionPolicyCommand,
  ListTagsForResourceCommand,
  PutDataProtectionPolicyCommand,
  PutMetricFilterCommand,
  PutRetentionPolicyCommand,
  PutSubscriptionFilterCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { CreateRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import type { InitializeMiddleware, MetadataBearer, MiddlewareStack } from '@smithy/types';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { type AwsClients, createClients, type SdkClient } from '../../services/aws/clients.js';
import {
  restoreLogGroupSnapshot,
  setEmulatorUnsupportedApi,
  takeLogGroupSnapshot,
  unsupportedApiReason,
} from '../../services/aws/log-group-snapshot.js';
import { partitionOf } from '../../services/domain/arns.js';
import { AwsReadError, RemediationError, TransientAwsError } from '../../services/domain/errors.js';
import { type LogGroupSnapshot, snapshotItems } from '../../services/domain/log-group-snapshot.js';
import { motoUnsupportedApiReason, tolerateEmulator } from '../../services/local/emulator-tolerance.js';
import { ACCOUNT, currentCredentials, REGION, resetEmulator, testClients } from '../support/aws.js';
import { errors, FaultInjector, failing } from '../support/faults.js';
import { createStream, deleteStream } from '../support/kinesis.js';

const NOW = new Date('2025-06-01T12:00:00.000Z');
const PARTITION = partitionOf(REGION);
const GROUP = 'CloudTrail/management-events';
const TRAIL_ARN = `arn:${PARTITION}:cloudtrail:${REGION}:${ACCOUNT}:trail/management-events`;
const spec = (logGroupName = GROUP) => ({
  region: REGION,
  account: ACCOUNT,
  partition: PARTITION,
  logGroupName,
});
const tagArn = (name: string) => `arn:${PARTITION}:logs:${REGION}:${ACCOUNT}:log-group:${name}`;

/** A data protection policy in the documented shape: an Audit statement, then a Deidentify one. */
const POLICY = JSON.stringify({
  Name: 'mask-credentials',
  Description: '',
  Version: '2021-06-01',
  Statement: [
    {
      Sid: 'audit',
      DataIdentifier: ['arn:aws:dataprotection::aws:data-identifier/AwsSecretKey'],
      Operation: { Audit: { FindingsDestination: {} } },
    },
    {
      Sid: 'redact',
      DataIdentifier: ['arn:aws:dataprotection::aws:data-identifier/AwsSecretKey'],
      Operation: { Deidentify: { MaskConfig: {} } },
    },
  ],
});

const METRIC_FILTERS = [
  {
    filterName: 'RootAccountUsage',
    filterPattern:
      '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }',
    metricTransformations: [
      { metricName: 'RootAccountUsage', metricNamespace: 'CISBenchmark', metricValue: '1', defaultValue: 0 },
    ],
  },
  {
    filterName: 'UnauthorizedAPICalls',
    filterPattern: '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }',
    metricTransformations: [
      {
        metricName: 'UnauthorizedAPICalls',
        metricNamespace: 'CISBenchmark',
        metricValue: '1',
        unit: 'Count' as const,
        dimensions: { source: '$.eventSource' },
      },
    ],
  },
];

// --- emulator helpers --------------------------------------------------------------------------------------

/**
 * A symmetric KMS key in moto whose key policy lets CloudWatch Logs in REGION use it for this account's log groups
 * (the policy AssociateKmsKey needs).
 */
async function createKmsKey(): Promise<string> {
  const policy = {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'account',
        Effect: 'Allow',
        Principal: { AWS: `arn:${PARTITION}:iam::${ACCOUNT}:root` },
        Action: 'kms:*',
        Resource: '*',
      },
      {
        Sid: 'cloudwatch-logs',
        Effect: 'Allow',
        Principal: { Service: `logs.${REGION}.amazonaws.com` },
        Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        Resource: '*',
        Condition: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': `arn:${PARTITION}:logs:${REGION}:${ACCOUNT}:log-group:*`,
          },
        },
      },
    ],
  };
  const kms = new KMSClient({ region: REGION, credentials: currentCredentials, maxAttempts: 1 });
  const out = await kms.send(
    new CreateKeyCommand({
      Description: 'trailguard test: log group encryption',
      KeyUsage: 'ENCRYPT_DECRYPT',
      KeySpec: 'SYMMETRIC_DEFAULT',
      Policy: JSON.stringify(policy),
    }),
  );
  if (!out.KeyMetadata?.Arn) throw new Error('KMS CreateKey returned no key ARN');
  return out.KeyMetadata.Arn;
}

/** The role CloudWatch Logs assumes to put records into the stream. */
async function createSubscriptionRole(name: string): Promise<string> {
  const iam = testClients().iam();
  const out = await iam.send(
    new CreateRoleCommand({
      RoleName: name,
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'logs.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ],
      }),
    }),
  );
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: name,
      PolicyName: 'put-records',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 'kinesis:PutRecord', Resource: '*' }],
      }),
    }),
  );
  if (!out.Role?.Arn) throw new Error('CreateRole returned no ARN');
  return out.Role.Arn;
}

interface Seeded {
  kmsKeyArn: string;
  streamArn: string;
  roleArn: string;
}

/** The trail's log group as a team set it up: retention, KMS key, tags, two metric filters, a subscription. */
async function seedGroup(name = GROUP): Promise<Seeded> {
  const logs = testClients().logs(REGION);
  const kmsKeyArn = await createKmsKey();
  const streamArn = await createStream('siem-intake');
  const roleArn = await createSubscriptionRole('cwl-to-siem');
  await logs.send(new CreateLogGroupCommand({ logGroupName: name, kmsKeyId: kmsKeyArn }));
  await logs.send(new PutRetentionPolicyCommand({ logGroupName: name, retentionInDays: 400 }));
  await logs.send(
    new TagResourceCommand({
      resourceArn: tagArn(name),
      tags: { team: 'security', 'cost-centre': '4711', 'trailguard:managed': 'true' },
    }),
  );
  for (const filter of METRIC_FILTERS)
    await logs.send(new PutMetricFilterCommand({ logGroupName: name, ...filter }));
  await logs.send(
    new PutSubscriptionFilterCommand({
      logGroupName: name,
      filterName: 'to-siem',
      filterPattern: '',
      destinationArn: streamArn,
      roleArn,
    }),
  );
  return { kmsKeyArn, streamArn, roleArn };
}

/** Deletes the group the way AWS does: moto keeps its metric filters and tags, which are removed here. */
async function deleteLogGroup(name: string, clients: AwsClients = testClients()): Promise<void> {
  await clients.logs(REGION).send(new DeleteLogGroupCommand({ logGroupName: name }));
  const logs = testClients().logs(REGION);
  const filters = await logs.send(new DescribeMetricFiltersCommand({ logGroupName: name }));
  for (const f of filters.metricFilters ?? []) {
    await logs.send(new DeleteMetricFilterCommand({ logGroupName: name, filterName: f.filterName }));
  }
  const tags = await logs.send(new ListTagsForResourceCommand({ resourceArn: tagArn(name) }));
  const keys = Object.keys(tags.tags ?? {});
  if (keys.length > 0)
    await logs.send(new UntagResourceCommand({ resourceArn: tagArn(name), tagKeys: keys }));
}

/** What the group holds now, read with the SDK directly (not through the module under test). */
async function readBack(name: string, clients: AwsClients = testClients()) {
  const logs = clients.logs(REGION);
  const groups = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name }));
  const group = groups.logGroups?.find((g) => g.logGroupName === name);
  if (!group) return { exists: false };
  const tags = await logs.send(new ListTagsForResourceCommand({ resourceArn: tagArn(name) }));
  const metric = await logs.send(new DescribeMetricFiltersCommand({ logGroupName: name }));
  const subscription = await logs.send(new DescribeSubscriptionFiltersCommand({ logGroupName: name }));
  return {
    exists: true,
    retentionInDays: group.retentionInDays,
    kmsKeyId: group.kmsKeyId,
    tags: tags.tags ?? {},
    metricFilters: (metric.metricFilters ?? []).map((f) => ({
      filterName: f.filterName,
      filterPattern: f.filterPattern,
      metricTransformations: f.metricTransformations,
    })),
    subscriptionFilters: (subscription.subscriptionFilters ?? []).map((f) => ({
      filterName: f.filterName,
      filterPattern: f.filterPattern,
      destinationArn: f.destinationArn,
      roleArn: f.roleArn,
    })),
  };
}

async function recreate(name = GROUP): Promise<void> {
  await testClients()
    .logs(REGION)
    .send(new CreateLogGroupCommand({ logGroupName: name }));
  expect(await readBack(name)).toEqual({
    exists: true,
    retentionInDays: undefined,
    kmsKeyId: undefined,
    tags: {},
    metricFilters: [],
    subscriptionFilters: [],
  });
}

/**
 * A stand-in, at the SDK layer, for the three CloudWatch Logs APIs moto 5.2.1 does not implement: AssociateKmsKey
 * (the key then shows in DescribeLogGroups), GetDataProtectionPolicy and PutDataProtectionPolicy. DeleteLogGroup
 * forgets both, as AWS does. Every other call goes to moto.
 */
class MissingLogsApis {
  readonly kmsKeys = new Map<string, string>();
  readonly policies = new Map<string, string>();

  readonly onCreate = (client: SdkClient): void => {
    const stack = client.middlewareStack as unknown as MiddlewareStack<object, MetadataBearer>;
    stack.add(this.middleware(), { step: 'initialize', name: 'motoMissingLogsApis', priority: 'high' });
  };

  private middleware(): InitializeMiddleware<object, MetadataBearer> {
    const ok = (output: Record<string, unknown> = {}) =>
      ({ output: { $metadata: { httpStatusCode: 200 }, ...output }, response: {} }) as never;
    const nameOf = (identifier: unknown) =>
      String(identifier)
        .replace(/^arn:[^:]+:logs:[^:]*:\d*:log-group:/, '')
        .replace(/:\*$/, '');
    return (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      switch (context.commandName) {
        case 'AssociateKmsKeyCommand':
          this.kmsKeys.set(nameOf(input.logGroupName), String(input.kmsKeyId));
          return ok();
        case 'PutDataProtectionPolicyCommand':
          this.policies.set(nameOf(input.logGroupIdentifier), String(input.policyDocument));
          return ok({ logGroupIdentifier: input.logGroupIdentifier, policyDocument: input.policyDocument });
        case 'GetDataProtectionPolicyCommand': {
          const policy = this.policies.get(nameOf(input.logGroupIdentifier));
          return ok({
            logGroupIdentifier: input.logGroupIdentifier,
            ...(policy ? { policyDocument: policy } : {}),
          });
        }
        case 'DeleteLogGroupCommand': {
          const out = await next(args);
          this.kmsKeys.delete(nameOf(input.logGroupName));
          this.policies.delete(nameOf(input.logGroupName));
          return out;
        }
        case 'DescribeLogGroupsCommand': {
          const out = await next(args);
          const groups = (out.output as { logGroups?: { logGroupName?: string; kmsKeyId?: string }[] })
            .logGroups;
          for (const g of groups ?? []) {
            const key = g.logGroupName ? this.kmsKeys.get(g.logGroupName) : undefined;
            if (key) g.kmsKeyId = key;
          }
          return out;
        }
        default:
          return next(args);
      }
    };
  }
}

/** Clients through a FaultInjector (records calls, injects refusals) and then the stand-in, then moto. */
function standInClients(injector: FaultInjector, standIn: MissingLogsApis): AwsClients {
  return createClients({
    defaultRegion: REGION,
    maxAttempts: 1,
    credentials: currentCredentials,
    onCreate: (client) => {
      injector.onCreate(client);
      standIn.onCreate(client);
    },
  });
}

/** An error as the SDK throws AWS's refusal of a request. */
function refusal(name: string, message: string): () => Error {
  return () =>
    Object.assign(new Error(message), {
      name,
      $fault: 'client',
      $metadata: { httpStatusCode: 400, requestId: 'req-1', attempts: 1, totalRetryDelay: 0 },
    });
}

const sorted = (items: string[]) => [...items].sort();

// --- tests -------------------------------------------------------------------------------------------------

describe('takeLogGroupSnapshot', () => {
  beforeEach(resetEmulator);

  it("records retention, KMS key, tags, metric and subscription filters; moto's answer to GetDataProtectionPolicy goes to `unreadable`", async () => {
    const seeded = await seedGroup();

    const snapshot = await takeLogGroupSnapshot(testClients(), { ...spec(), trailArn: TRAIL_ARN }, NOW);

    expect(snapshot).toEqual({
      trailArn: TRAIL_ARN,
      logGroupName: GROUP,
      takenAt: NOW.toISOString(),
      retentionInDays: 400,
      kmsKeyId: seeded.kmsKeyArn,
      tags: { team: 'security', 'cost-centre': '4711', 'trailguard:managed': 'true' },
      metricFilters: METRIC_FILTERS,
      subscriptionFilters: [
        {
          filterName: 'to-siem',
          filterPattern: '',
          destinationArn: seeded.streamArn,
          roleArn: seeded.roleArn,
          distribution: 'ByLogStream',
        },
      ],
      unreadable: [
        {
          item: 'data protection policy',
          reason: expect.stringMatching(
            /does not implement GetDataProtectionPolicy: it answered HTTP 500 with an HTML page/,
          ),
        },
      ],
    });
    expect(snapshotItems(snapshot as LogGroupSnapshot)).toEqual([
      'retention 400 days',
      `KMS key ${seeded.kmsKeyArn}`,
      'tag cost-centre=4711',
      'tag team=security',
      'tag trailguard:managed=true',
      'metric filter RootAccountUsage',
      'metric filter UnauthorizedAPICalls',
      `subscription filter to-siem -> ${seeded.streamArn}`,
    ]);
  });

  it('records the data protection policy (GetDataProtectionPolicy stood in at the SDK layer: moto 5.2.1 lacks it)', async () => {
    await seedGroup();
    const injector = new FaultInjector();
    const clients = standInClients(injector, new MissingLogsApis());
    await clients
      .logs(REGION)
      .send(new PutDataProtectionPolicyCommand({ logGroupIdentifier: GROUP, policyDocument: POLICY }));

    const snapshot = await takeLogGroupSnapshot(clients, { ...spec(), trailArn: TRAIL_ARN }, NOW);

    expect(snapshot?.dataProtectionPolicy).toBe(POLICY);
    expect(snapshot?.unreadable).toEqual([]);
    expect(injector.callsOf('GetDataProtectionPolicy').map((c) => c.input)).toEqual([
      { logGroupIdentifier: GROUP },
    ]);
    expect(injector.callsOf('ListTagsForResource').map((c) => c.input)).toEqual([
      { resourceArn: tagArn(GROUP) },
    ]);
  });

  it('is undefined for a group that does not exist, even when a longer name shares its prefix', async () => {
    await testClients()
      .logs(REGION)
      .send(new CreateLogGroupCommand({ logGroupName: `${GROUP}-archive` }));
    expect(
      await takeLogGroupSnapshot(testClients(), { ...spec(), trailArn: TRAIL_ARN }, NOW),
    ).toBeUndefined();
  });

  it('throws a real 500 from AWS as transient and a refusal as a read error, never as `unreadable`', async () => {
    await seedGroup();
    const internal = new FaultInjector([failing('GetDataProtectionPolicy', 'internalError')]);
    await expect(
      takeLogGroupSnapshot(
        internal.clients({ credentials: currentCredentials }),
        { ...spec(), trailArn: TRAIL_ARN },
        NOW,
      ),
    ).rejects.toBeInstanceOf(TransientAwsError);
    const denied = new FaultInjector([failing('GetDataProtectionPolicy', 'accessDenied')]);
    await expect(
      takeLogGroupSnapshot(
        denied.clients({ credentials: currentCredentials }),
        { ...spec(), trailArn: TRAIL_ARN },
        NOW,
      ),
    ).rejects.toBeInstanceOf(AwsReadError);
    const throttled = new FaultInjector([failing('DescribeMetricFilters', 'throttling')]);
    await expect(
      takeLogGroupSnapshot(
        throttled.clients({ credentials: currentCredentials }),
        { ...spec(), trailArn: TRAIL_ARN },
        NOW,
      ),
    ).rejects.toBeInstanceOf(TransientAwsError);
  });
});

describe('restoreLogGroupSnapshot', () => {
  beforeEach(resetEmulator);

  it('puts every item back on the recreated group, and a second restore writes nothing (AssociateKmsKey and data protection policies stood in at the SDK layer: moto 5.2.1 lacks them)', async () => {
    const seeded = await seedGroup();
    const standIn = new MissingLogsApis();
    const clients = standInClients(new FaultInjector(), standIn);
    await clients
      .logs(REGION)
      .send(new PutDataProtectionPolicyCommand({ logGroupIdentifier: GROUP, policyDocument: POLICY }));
    const snapshot = await takeLogGroupSnapshot(clients, { ...spec(), trailArn: TRAIL_ARN }, NOW);
    if (!snapshot) throw new Error('no snapshot');
    expect(snapshot.dataProtectionPolicy).toBe(POLICY);

    await deleteLogGroup(GROUP, clients);
    expect(standIn.policies.size).toBe(0);
    await recreate();

    const injector = new FaultInjector();
    const restoring = standInClients(injector, standIn);
    const result = await restoreLogGroupSnapshot(restoring, spec(), snapshot);

    expect(result.notRestored).toEqual([]);
    expect(sorted(result.restored)).toEqual(sorted(snapshotItems(snapshot)));
    expect(result.writes.map((w) => [w.api, w.resource])).toEqual([
      ['AssociateKmsKey', GROUP],
      ['PutDataProtectionPolicy', GROUP],
      ['PutRetentionPolicy', GROUP],
      ['PutMetricFilter', GROUP],
      ['PutMetricFilter', GROUP],
      ['PutSubscriptionFilter', GROUP],
      ['TagResource', GROUP],
    ]);
    expect(result.writes.every((w) => w.detail.includes(NOW.toISOString()))).toBe(true);

    // Read back from moto directly.
    const back = await readBack(GROUP);
    expect(back.retentionInDays).toBe(400);
    expect(back.tags).toEqual({ team: 'security', 'cost-centre': '4711', 'trailguard:managed': 'true' });
    expect(back.metricFilters).toEqual(METRIC_FILTERS);
    expect(back.subscriptionFilters).toEqual([
      { filterName: 'to-siem', filterPattern: '', destinationArn: seeded.streamArn, roleArn: seeded.roleArn },
    ]);
    // The stood-in APIs: the calls made, and what the stand-in now answers.
    expect(injector.callsOf('AssociateKmsKey').map((c) => c.input)).toEqual([
      { logGroupName: GROUP, kmsKeyId: seeded.kmsKeyArn },
    ]);
    expect(injector.callsOf('PutDataProtectionPolicy').map((c) => c.input)).toEqual([
      { logGroupIdentifier: GROUP, policyDocument: POLICY },
    ]);
    expect((await readBack(GROUP, restoring)).kmsKeyId).toBe(seeded.kmsKeyArn);
    const policy = await restoring
      .logs(REGION)
      .send(new GetDataProtectionPolicyCommand({ logGroupIdentifier: GROUP }));
    expect(policy.policyDocument).toBe(POLICY);

    // Harmless the second time: nothing written, everything reported in place, nothing doubled.
    const again = await restoreLogGroupSnapshot(restoring, spec(), snapshot);
    expect(again.writes).toEqual([]);
    expect(again.notRestored).toEqual([]);
    expect(sorted(again.restored)).toEqual(sorted(snapshotItems(snapshot)));
    expect(await readBack(GROUP)).toEqual(back);
  });

  it("with moto's real answers: the KMS key (no AssociateKmsKey in moto) and the unread data protection policy end in notRestored, every other item is restored", async () => {
    const seeded = await seedGroup();
    const snapshot = await takeLogGroupSnapshot(testClients(), { ...spec(), trailArn: TRAIL_ARN }, NOW);
    if (!snapshot) throw new Error('no snapshot');
    await deleteLogGroup(GROUP);
    await recreate();

    const result = await restoreLogGroupSnapshot(testClients(), spec(), snapshot);

    expect(result.notRestored).toEqual([
      {
        item: `KMS key ${seeded.kmsKeyArn}`,
        reason: expect.stringMatching(
          /^the endpoint does not implement AssociateKmsKey: it answered HTTP 500/,
        ),
      },
      {
        item: 'data protection policy',
        reason: expect.stringMatching(
          /^not recorded when the snapshot was taken \(2025-06-01T12:00:00.000Z\): the endpoint does not implement GetDataProtectionPolicy/,
        ),
      },
    ]);
    expect(sorted(result.restored)).toEqual(
      sorted(snapshotItems(snapshot).filter((item) => item !== `KMS key ${seeded.kmsKeyArn}`)),
    );
    const back = await readBack(GROUP);
    expect(back.retentionInDays).toBe(400);
    expect(back.tags).toEqual(snapshot.tags);
    expect(back.metricFilters).toEqual(METRIC_FILTERS);
    expect(back.subscriptionFilters?.map((f) => f.destinationArn)).toEqual([seeded.streamArn]);
  });

  it('restores onto a group of another name; a key given to CreateLogGroup already counts as restored', async () => {
    const seeded = await seedGroup();
    const snapshot = await takeLogGroupSnapshot(testClients(), { ...spec(), trailArn: TRAIL_ARN }, NOW);
    if (!snapshot) throw new Error('no snapshot');
    await deleteLogGroup(GROUP);
    const other = 'CloudTrail/management-events-restored';
    await testClients()
      .logs(REGION)
      .send(new CreateLogGroupCommand({ logGroupName: other, kmsKeyId: seeded.kmsKeyArn }));

    const injector = new FaultInjector();
    const result = await restoreLogGroupSnapshot(
      injector.clients({ credentials: currentCredentials }),
      spec(other),
      snapshot,
    );

    expect(injector.callsOf('AssociateKmsKey')).toEqual([]);
    expect(result.restored).toContain(`KMS key ${seeded.kmsKeyArn}`);
    expect(result.notRestored.map((n) => n.item)).toEqual(['data protection policy']);
    expect(new Set(result.writes.map((w) => w.resource))).toEqual(new Set([other]));
    const back = await readBack(other);
    expect(back).toMatchObject({ retentionInDays: 400, kmsKeyId: seeded.kmsKeyArn, tags: snapshot.tags });
    expect(back.metricFilters).toEqual(METRIC_FILTERS);
    expect(await readBack(GROUP)).toMatchObject({ exists: false });
  });

  it("reports a subscription filter whose destination is gone with AWS's reason and restores the others; a second run changes nothing", async () => {
    const seeded = await seedGroup();
    const archive = await createStream('archive-intake');
    await testClients()
      .logs(REGION)
      .send(
        new PutSubscriptionFilterCommand({
          logGroupName: GROUP,
          filterName: 'to-archive',
          filterPattern: '{ $.eventSource = "iam.amazonaws.com" }',
          destinationArn: archive,
          roleArn: seeded.roleArn,
        }),
      );
    const standIn = new MissingLogsApis();
    const snapshot = await takeLogGroupSnapshot(
      standInClients(new FaultInjector(), standIn),
      { ...spec(), trailArn: TRAIL_ARN },
      NOW,
    );
    if (!snapshot) throw new Error('no snapshot');
    expect(sorted(snapshot.subscriptionFilters.map((f) => f.destinationArn))).toEqual(
      sorted([archive, seeded.streamArn]),
    );
    await deleteStream('archive-intake');
    await deleteLogGroup(GROUP);
    await recreate();

    const clients = standInClients(new FaultInjector(), standIn);
    const result = await restoreLogGroupSnapshot(clients, spec(), snapshot);

    expect(result.notRestored).toEqual([
      {
        item: `subscription filter to-archive -> ${archive}`,
        reason: expect.stringMatching(
          /^PutSubscriptionFilter refused: InvalidParameterException: Could not deliver test message to specified Kinesis stream/,
        ),
      },
    ]);
    expect(sorted(result.restored)).toEqual(
      sorted(snapshotItems(snapshot).filter((item) => !item.includes('to-archive'))),
    );
    expect(result.writes.filter((w) => w.api === 'PutSubscriptionFilter').map((w) => w.detail)).toEqual([
      expect.stringMatching(/^put subscription filter to-siem to /),
    ]);
    expect((await readBack(GROUP)).subscriptionFilters).toEqual([
      { filterName: 'to-siem', filterPattern: '', destinationArn: seeded.streamArn, roleArn: seeded.roleArn },
    ]);

    const again = await restoreLogGroupSnapshot(clients, spec(), snapshot);
    expect(again.writes).toEqual([]);
    expect(again.notRestored).toEqual(result.notRestored);
    expect(sorted(again.restored)).toEqual(sorted(result.restored));
  });

  it('reports items AWS refuses (access denied, invalid policy, a reserved tag) and still restores the rest (refusals injected with the FaultInjector)', async () => {
    await seedGroup();
    await testClients()
      .logs(REGION)
      .send(
        new TagResourceCommand({
          resourceArn: tagArn(GROUP),
          tags: { 'aws:cloudformation:stack-name': 'audit' },
        }),
      );
    const standIn = new MissingLogsApis();
    await standInClients(new FaultInjector(), standIn)
      .logs(REGION)
      .send(new PutDataProtectionPolicyCommand({ logGroupIdentifier: GROUP, policyDocument: POLICY }));
    const snapshot = await takeLogGroupSnapshot(
      standInClients(new FaultInjector(), standIn),
      { ...spec(), trailArn: TRAIL_ARN },
      NOW,
    );
    if (!snapshot) throw new Error('no snapshot');
    await deleteLogGroup(GROUP, standInClients(new FaultInjector(), standIn));
    await recreate();

    const injector = new FaultInjector([
      {
        operation: 'TagResource',
        error: refusal('AccessDeniedException', 'User is not authorized to perform: logs:TagResource'),
      },
      {
        operation: 'PutDataProtectionPolicy',
        error: refusal('InvalidParameterException', 'The FindingsDestination log group does not exist'),
      },
    ]);
    const result = await restoreLogGroupSnapshot(standInClients(injector, standIn), spec(), snapshot);

    expect(result.notRestored).toEqual([
      {
        item: 'data protection policy',
        reason:
          'PutDataProtectionPolicy refused: InvalidParameterException: The FindingsDestination log group does not exist',
      },
      {
        item: 'tag aws:cloudformation:stack-name=audit',
        reason: 'tag keys with the aws: prefix are set by AWS itself and cannot be set with TagResource',
      },
      ...['cost-centre=4711', 'team=security', 'trailguard:managed=true'].map((tag) => ({
        item: `tag ${tag}`,
        reason:
          'TagResource refused: AccessDeniedException: User is not authorized to perform: logs:TagResource',
      })),
    ]);
    expect(result.restored).toContain('retention 400 days');
    expect(result.restored).toContain('metric filter RootAccountUsage');
    // One TagResource for all tags, then one per tag after the refusal.
    expect(
      injector.callsOf('TagResource').map((c) => Object.keys((c.input as { tags: object }).tags)),
    ).toEqual([
      ['cost-centre', 'team', 'trailguard:managed'],
      ['cost-centre'],
      ['team'],
      ['trailguard:managed'],
    ]);
    expect((await readBack(GROUP)).retentionInDays).toBe(400);
  });

  it('throws a transient failure for the workflow to retry; the retry completes what the first attempt began', async () => {
    await seedGroup();
    const snapshot = await takeLogGroupSnapshot(testClients(), { ...spec(), trailArn: TRAIL_ARN }, NOW);
    if (!snapshot) throw new Error('no snapshot');
    await deleteLogGroup(GROUP);
    await recreate();

    const injector = new FaultInjector([failing('PutMetricFilter', 'throttling', 1)]);
    const clients = injector.clients({ credentials: currentCredentials });
    await expect(restoreLogGroupSnapshot(clients, spec(), snapshot)).rejects.toBeInstanceOf(
      TransientAwsError,
    );
    expect((await readBack(GROUP)).retentionInDays).toBe(400);

    const retry = await restoreLogGroupSnapshot(clients, spec(), snapshot);
    expect(retry.restored).toContain('retention 400 days');
    expect(retry.writes.map((w) => w.api)).not.toContain('PutRetentionPolicy');
    expect((await readBack(GROUP)).metricFilters).toEqual(METRIC_FILTERS);
  });

  it('refuses to restore onto a group that does not exist', async () => {
    await seedGroup();
    const snapshot = await takeLogGroupSnapshot(testClients(), { ...spec(), trailArn: TRAIL_ARN }, NOW);
    if (!snapshot) throw new Error('no snapshot');
    await deleteLogGroup(GROUP);
    await expect(restoreLogGroupSnapshot(testClients(), spec(), snapshot)).rejects.toBeInstanceOf(
      RemediationError,
    );
  });
});

describe('unsupportedApiReason', () => {
  // moto's answer as the SDK reports it, and the same answer from something that is AWS.
  const html500 = (headers: Record<string, string>) =>
    Object.assign(new SyntaxError('Unexpected token \'<\', "<!doctype "... is not valid JSON'), {
      $metadata: { httpStatusCode: 500 },
      $response: { statusCode: 500, headers: { 'content-type': 'text/html; charset=utf-8', ...headers } },
    });
  const moto500 = () => html500({ server: 'Werkzeug/3.1.8 Python/3.11.7' });

  /** Runs `body` as a Lambda runs: no emulator recognizer installed (test/support/env.ts installs moto's). */
  async function asInProduction<T>(body: () => Promise<T> | T): Promise<T> {
    const previous = setEmulatorUnsupportedApi(undefined);
    try {
      return await body();
    } finally {
      setEmulatorUnsupportedApi(previous);
    }
  }

  it("tells an endpoint without the API from AWS's own transient errors", () => {
    expect(unsupportedApiReason('X', errors.internalError())).toBeUndefined();
    expect(unsupportedApiReason('X', errors.badGateway())).toBeUndefined();
    expect(unsupportedApiReason('X', errors.throttling())).toBeUndefined();
    expect(unsupportedApiReason('X', refusal('UnknownOperationException', 'Unknown operation X')())).toMatch(
      /does not support X/,
    );
    expect(unsupportedApiReason('X', html500({ 'x-amzn-RequestId': 'b7c5e0d2' }))).toBeUndefined();
  });

  it('production (no emulator recognizer) treats an HTML HTTP 500 without a request id as what it is on AWS: not "unsupported"', async () => {
    await asInProduction(() => expect(unsupportedApiReason('X', moto500())).toBeUndefined());
  });

  it("only the local layer recognizes moto's HTML 500, and only with an emulator endpoint", () => {
    expect(motoUnsupportedApiReason('X', moto500())).toMatch(/^the endpoint does not implement X/);
    expect(motoUnsupportedApiReason('X', html500({ 'x-amzn-RequestId': 'b7c5e0d2' }))).toBeUndefined();
    expect(motoUnsupportedApiReason('X', errors.internalError())).toBeUndefined();
    expect(unsupportedApiReason('X', moto500())).toMatch(/^the endpoint does not implement X/);
    // Without AWS_ENDPOINT_URL (real AWS) nothing is installed.
    const previous = setEmulatorUnsupportedApi(undefined);
    try {
      expect(tolerateEmulator({})).toBe(false);
      expect(unsupportedApiReason('X', moto500())).toBeUndefined();
    } finally {
      setEmulatorUnsupportedApi(previous);
    }
  });

  it("as in production, moto's HTTP 500 to GetDataProtectionPolicy fails the snapshot as a transient error (retried), not 'unreadable'", async () => {
    await resetEmulator();
    await seedGroup();
    await asInProduction(() =>
      expect(
        takeLogGroupSnapshot(testClients(), { ...spec(), trailArn: TRAIL_ARN }, NOW),
      ).rejects.toBeInstanceOf(TransientAwsError),
    );
  });
});

describe('paging (SDK mocks: moto answers these lists in one page)', () => {
  it('follows every page of the group list, metric filters and subscription filters', async () => {
    const logs = new CloudWatchLogsClient({ region: REGION, credentials: currentCredentials });
    const mock = mockClient(logs);
    mock
      .on(DescribeLogGroupsCommand)
      .resolvesOnce({ logGroups: [{ logGroupName: `${GROUP}-a` }], nextToken: 'g2' })
      .resolvesOnce({ logGroups: [{ logGroupName: GROUP, retentionInDays: 30 }] });
    mock.on(ListTagsForResourceCommand).resolves({ tags: {} });
    const [first, second] = METRIC_FILTERS;
    mock
      .on(DescribeMetricFiltersCommand)
      .resolvesOnce({ metricFilters: [{ ...first, logGroupName: GROUP }], nextToken: 'm2' })
      .resolvesOnce({ metricFilters: [{ ...second, logGroupName: GROUP }] });
    const sub = (name: string) => ({
      filterName: name,
      filterPattern: '',
      destinationArn: `arn:${PARTITION}:kinesis:${REGION}:${ACCOUNT}:stream/${name}`,
    });
    mock
      .on(DescribeSubscriptionFiltersCommand)
      .resolvesOnce({ subscriptionFilters: [sub('one')], nextToken: 's2' })
      .resolvesOnce({ subscriptionFilters: [sub('two')] });
    mock.on(GetDataProtectionPolicyCommand).resolves({});
    const clients = { logs: () => logs } as unknown as AwsClients;

    const snapshot = await takeLogGroupSnapshot(clients, { ...spec(), trailArn: TRAIL_ARN }, NOW);

    expect(snapshot?.retentionInDays).toBe(30);
    expect(snapshot?.metricFilters.map((f) => f.filterName)).toEqual([
      'RootAccountUsage',
      'UnauthorizedAPICalls',
    ]);
    expect(snapshot?.subscriptionFilters.map((f) => f.filterName)).toEqual(['one', 'two']);
    expect(snapshot?.dataProtectionPolicy).toBeUndefined();
    expect(snapshot?.unreadable).toEqual([]);
    // (The paginators reuse their input object, so the calls are counted rather than their tokens compared.)
    expect(mock.commandCalls(DescribeLogGroupsCommand)).toHaveLength(2);
    expect(mock.commandCalls(DescribeMetricFiltersCommand)).toHaveLength(2);
    expect(mock.commandCalls(DescribeSubscriptionFiltersCommand)).toHaveLength(2);
  });
});
