/**
 * `trailguard selftest` on the emulator through the local engine: a canary created, broken four ways, each
 * break's event replayed through the stack's rules and the synthesized workflow, the canary re-read by
 * selftest itself, and everything made for it removed, touching nothing else. Single account, and a hub
 * configuration with two member accounts in two regions. A guardrail broken on purpose makes selftest exit 1
 * and say where the fix went missing.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateTrailCommand,
  DescribeTrailsCommand,
  GetEventSelectorsCommand,
  GetTrailStatusCommand,
} from '@aws-sdk/client-cloudtrail';
import { DescribeAlarmsCommand, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { ListRolePoliciesCommand, ListRolesCommand } from '@aws-sdk/client-iam';
import { ListBucketsCommand, type S3Client } from '@aws-sdk/client-s3';
import { SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { remediationRoleArn } from '../../services/aws/accounts.js';
import { listAuditRecords } from '../../services/aws/audit-store.js';
import {
  type CanaryTarget,
  cleanupCanary,
  createCanary,
  readCanarySelectors,
  s3ClientFor,
} from '../../services/aws/canary.js';
import type { AwsClients } from '../../services/aws/clients.js';
import { canaryNames, type SelftestReport, selectorProblems } from '../../services/domain/canary.js';
import { CIS_CONTROLS, cisAlarmName } from '../../services/domain/cis-monitoring.js';
import { emulateCloudTrailDelivery } from '../../services/local/emulator-tolerance.js';
import {
  adminClientsIn,
  createDeliveryRole,
  seedTrailIn,
  trailBucketIn,
} from '../../services/local/organization-seed.js';
import { localEngine, runSelftest, SelftestInterruptedError } from '../../services/local/selftest.js';
import { ACCOUNT, currentCredentials, REGION, resetEmulator, testClients } from '../support/aws.js';
import { FaultInjector, failing } from '../support/faults.js';
import { type CliRun, cli } from '../support/organization.js';

const MEMBER = '444455556666';
const OTHER_MEMBER = '777788889999';
const SECOND_REGION = REGION === 'eu-west-1' ? 'us-west-2' : 'eu-west-1';
const MEMBER_ROLE = 'test-admin';
const BREAKS = ['UpdateTrail', 'StopLogging', 'DeleteLogGroup', 'DeleteRolePolicy'];

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trailguard-selftest-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  await resetEmulator();
});

async function configFile(config: Record<string, unknown>): Promise<string> {
  const file = join(dir, `config-${Math.random().toString(16).slice(2)}.json`);
  await writeFile(file, JSON.stringify(config));
  return file;
}

function lastJson(run: CliRun): SelftestReport {
  return JSON.parse(run.stdout.trimEnd().split('\n').at(-1) ?? '{}') as SelftestReport;
}

/**
 * The notification topic's messages, read from an SQS queue subscribed to it (moto delivers SNS to SQS; its
 * data.json cannot be read after a bucket with objects was deleted, which every selftest run does).
 */
async function mailbox(): Promise<{ subjects: () => Promise<string[]> }> {
  const sqs = new SQSClient({ region: REGION, credentials: currentCredentials, maxAttempts: 1 });
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `mails-${Date.now()}` }));
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  await testClients()
    .sns()
    .send(
      new SubscribeCommand({
        TopicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:trailguard-notifications`,
        Protocol: 'sqs',
        Endpoint: Attributes?.QueueArn,
      }),
    );
  return {
    subjects: async () => {
      const out: string[] = [];
      for (;;) {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
        );
        if (Messages.length === 0) return out;
        for (const m of Messages)
          out.push((JSON.parse(m.Body ?? '{}') as { Subject?: string }).Subject ?? '');
      }
    },
  };
}

function s3Of(clients: AwsClients, region: string): S3Client {
  return s3ClientFor(clients, region);
}

/**
 * Everything selftest must leave as it was, in `account`: each trail (its configuration and whether it logs),
 * each role with its inline policies, each log group, each bucket, in every region given.
 */
async function snapshot(clients: AwsClients, regions: string[]): Promise<unknown> {
  const trails: unknown[] = [];
  const groups: string[] = [];
  for (const region of regions) {
    const { trailList = [] } = await clients
      .cloudTrail(region)
      .send(new DescribeTrailsCommand({ includeShadowTrails: false }));
    for (const t of trailList) {
      const status = await clients.cloudTrail(region).send(new GetTrailStatusCommand({ Name: t.Name }));
      trails.push({ ...t, logging: status.IsLogging });
    }
    const { logGroups = [] } = await clients.logs(region).send(new DescribeLogGroupsCommand({}));
    groups.push(...logGroups.map((g) => `${region}:${g.logGroupName}:${g.retentionInDays ?? '-'}`));
  }
  const { Roles = [] } = await clients.iam().send(new ListRolesCommand({}));
  const roles: unknown[] = [];
  for (const r of Roles) {
    const inline = await clients.iam().send(new ListRolePoliciesCommand({ RoleName: r.RoleName }));
    roles.push({ name: r.RoleName, trust: r.AssumeRolePolicyDocument, inline: inline.PolicyNames });
  }
  const s3 = s3Of(clients, regions[0] ?? REGION);
  const { Buckets = [] } = await s3.send(new ListBucketsCommand({}));
  s3.destroy();
  return {
    trails: trails.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    groups: groups.sort(),
    roles: roles.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    buckets: Buckets.map((b) => b.Name).sort(),
  };
}

/** Another trail of the account, delivering through the guardrail's shared role: selftest must leave it be. */
async function otherTrail(clients: AwsClients, account: string): Promise<void> {
  await createDeliveryRole(clients, account, 'trailguard-cloudtrail-delivery', [REGION]);
  await seedTrailIn(clients, account, REGION, 'workload-trail', { role: 'trailguard-cloudtrail-delivery' });
}

describe('trailguard selftest (local engine, one account)', () => {
  it('fixes each of the four breaks, reports them, sends no email, marks the records, and leaves everything else as it was', async () => {
    expect((await cli(['local-setup'])).code).toBe(0);
    const clients = testClients();
    await otherTrail(clients, ACCOUNT);
    const before = await snapshot(clients, [REGION]);
    const mails = await mailbox();

    const run = await cli(['selftest', '--json']);

    expect(run.code, run.stderr).toBe(0);
    const report = lastJson(run);
    expect(report.outcome).toBe('passed');
    expect(report.cases.map((c) => [c.account, c.region, c.break, c.fixed])).toEqual(
      BREAKS.map((b) => [ACCOUNT, REGION, b, true]),
    );
    for (const c of report.cases) {
      expect(c.seconds).toBeTypeOf('number');
      // IAM's events are delivered in us-east-1 only: a single account's replay of DeleteRolePolicy runs there.
      const where = c.break === 'DeleteRolePolicy' ? 'us-east-1' : REGION;
      expect(c.execution).toMatch(new RegExp(`^arn:aws:states:${where}:${ACCOUNT}:execution:`));
      expect(c).not.toHaveProperty('missing');
    }
    // Each run's record is in the audit table, marked as the canary's; a fixed canary emails nobody.
    const records = await listAuditRecords(clients, 'trailguard-audit');
    const canary = records.filter((r) => r.trailName.startsWith('trailguard-canary-'));
    expect(canary.map((r) => r.executionId).sort()).toEqual(report.cases.map((c) => c.execution).sort());
    expect(canary.every((r) => r.canary === true && r.outcome === 'remediated')).toBe(true);
    expect(await mails.subjects()).toEqual([]);
    expect(await snapshot(clients, [REGION])).toEqual(before);
  });

  it("the canary's event selector: the shape AWS documents, as moto's GetEventSelectors returns it; removed by cleanup", async () => {
    const clients = testClients();
    const s3 = s3Of(clients, REGION);
    const target: CanaryTarget = { account: ACCOUNT, region: REGION, partition: 'aws', clients, s3 };
    const names = canaryNames('selectors1', REGION);
    const canary = await createCanary(target, names, () => undefined);
    const read = await clients
      .cloudTrail(REGION)
      .send(new GetEventSelectorsCommand({ TrailName: names.trail }));
    expect(read.EventSelectors ?? []).toEqual([]);
    expect(read.AdvancedEventSelectors).toEqual([
      {
        Name: 'trailguard canary: data events on its own objects only',
        FieldSelectors: [
          { Field: 'eventCategory', Equals: ['Data'] },
          { Field: 'resources.type', Equals: ['AWS::S3::Object'] },
          {
            Field: 'resources.ARN',
            StartsWith: [`arn:aws:s3:::${canary.bucket}/trailguard-canary/selectors1/${REGION}/objects/`],
          },
        ],
      },
    ]);
    // The delivery prefix (the trail's S3KeyPrefix) is outside the selector's prefix: no recursive logging.
    expect(canary.deliveryPrefix).toBe(`trailguard-canary/selectors1/${REGION}/logs`);
    const again = await readCanarySelectors(target, canary);
    expect(
      selectorProblems(
        {
          EventSelectors: again.EventSelectors ?? [],
          AdvancedEventSelectors: again.AdvancedEventSelectors as never,
        },
        'aws',
        canary.bucket,
        canary,
      ),
    ).toEqual([]);

    const removed = await cleanupCanary(target, canary);
    expect(removed).toEqual(
      expect.arrayContaining([
        `trail ${names.trail}`,
        `log group ${names.logGroup}`,
        `role ${names.role}`,
        `bucket ${canary.bucket}`,
      ]),
    );
    expect(await snapshot(clients, [REGION])).toEqual({ trails: [], groups: [], roles: [], buckets: [] });
    s3.destroy();
  });

  it('a region already holding 5 trails: every case not runnable (not a pass), exit 1, nothing created', async () => {
    expect((await cli(['local-setup'])).code).toBe(0);
    const clients = testClients();
    for (const n of [1, 2, 3, 4, 5]) await seedTrailIn(clients, ACCOUNT, REGION, `existing-${n}`);
    const before = await snapshot(clients, [REGION]);

    const run = await cli(['selftest', '--json']);

    expect(run.code, run.stderr).toBe(1);
    const report = lastJson(run);
    expect(report.outcome).toBe('failed');
    expect(report.cases).toHaveLength(4);
    for (const c of report.cases) {
      expect(c).toMatchObject({ fixed: false, seconds: null, execution: null });
      expect(c.missing).toMatch(/^not runnable: .*5 trails/);
    }
    expect(await snapshot(clients, [REGION])).toEqual(before);
  });

  it('its audit table removed: exit 1, each case failed at step Audit, a failure email, cleanup done', async () => {
    expect((await cli(['local-setup'])).code).toBe(0);
    const clients = testClients();
    await clients.dynamo().send(new DeleteTableCommand({ TableName: 'trailguard-audit' }));
    const before = await snapshot(clients, [REGION]);
    const mailbox0 = await mailbox();

    const run = await cli(['selftest', '--json']);

    expect(run.code, run.stderr).toBe(1);
    const report = lastJson(run);
    expect(report.outcome).toBe('failed');
    for (const c of report.cases) {
      expect(c.fixed).toBe(false);
      expect(c.missing).toMatch(/^the run failed at step Audit with AuditWriteError/);
    }
    // A failed canary run emails the team like any other failure.
    const subjects = await mailbox0.subjects();
    // One per break; outside us-east-1 the IAM break's run is in us-east-1 (its events' region), whose topic
    // this test does not read.
    expect(subjects.length).toBe(REGION === 'us-east-1' ? 4 : 3);
    expect(subjects.every((s) => /FAILED.*trailguard-canary-/.test(s))).toBe(true);
    expect(await snapshot(clients, [REGION])).toEqual(before);
  });

  it('an injected failure of one of selftest’s own calls mid-run (the StopLogging break): CanaryError (the CLI exits 3), everything removed', async () => {
    expect((await cli(['local-setup'])).code).toBe(0);
    const clients = testClients();
    await otherTrail(clients, ACCOUNT);
    const before = await snapshot(clients, [REGION]);
    // SDK-level injection: the emulator cannot be made to refuse one call of selftest's own.
    const injector = new FaultInjector([
      { ...failing('StopLogging', 'internalError'), service: 'CloudTrail' },
    ]);
    const hub = injector.clients({ credentials: currentCredentials });

    const outcome = await runSelftest({
      clients: hub,
      targets: [{ account: ACCOUNT, region: REGION }],
      callerAccount: ACCOUNT,
      memberRole: MEMBER_ROLE,
      engine: localEngine({ clients: hub, region: REGION }),
      deliver: (target, canary, key) => emulateCloudTrailDelivery(target, canary, key),
    }).catch((error: unknown) => error);

    expect(outcome).toMatchObject({ name: 'CanaryError', message: expect.stringMatching(/StopLogging/) });
    expect(injector.callsOf('DeleteTrail')).toHaveLength(1);
    expect(await snapshot(clients, [REGION])).toEqual(before);
  });

  it('interrupted (SIGINT aborts the run) after the first case: the canary is removed', async () => {
    expect((await cli(['local-setup'])).code).toBe(0);
    const clients = testClients();
    const before = await snapshot(clients, [REGION]);
    const controller = new AbortController();
    const local = localEngine({ clients, region: REGION });

    const outcome = await runSelftest({
      clients,
      targets: [{ account: ACCOUNT, region: REGION }],
      callerAccount: ACCOUNT,
      memberRole: MEMBER_ROLE,
      signal: controller.signal,
      engine: {
        handle: async (run) => {
          const report = await local.handle(run);
          controller.abort();
          return report;
        },
      },
    }).catch((error: unknown) => error);

    expect(outcome).toBeInstanceOf(SelftestInterruptedError);
    expect(await snapshot(clients, [REGION])).toEqual(before);
  });

  it('fixed but its data event never delivered to CloudWatch Logs (no stand-in for CloudTrail on moto; a clock that moves only when selftest waits): not fixed, "delivery not confirmed", canary removed', async () => {
    expect((await cli(['local-setup'])).code).toBe(0);
    const clients = testClients();
    const before = await snapshot(clients, [REGION]);
    let offset = 0;
    const start = Date.now();
    const waits: number[] = [];

    const { report } = await runSelftest({
      clients,
      targets: [{ account: ACCOUNT, region: REGION }],
      callerAccount: ACCOUNT,
      memberRole: MEMBER_ROLE,
      engine: localEngine({ clients, region: REGION }),
      breaks: ['StopLogging'],
      timeoutSeconds: 600,
      pollSeconds: 240,
      now: () => new Date(start + offset),
      sleep: async (ms) => {
        waits.push(ms);
        offset += ms;
      },
    });

    expect(report.outcome).toBe('failed');
    const [only] = report.cases;
    expect(only).toMatchObject({ break: 'StopLogging', fixed: false, seconds: null });
    expect(only?.execution).toMatch(/^arn:aws:states:/);
    expect(only?.missing).toMatch(
      new RegExp(
        `^delivery not confirmed: the data event of s3://trailguard-canary-${ACCOUNT}-${REGION}-[a-z0-9]+/trailguard-canary/[a-z0-9]+/${REGION}/objects/StopLogging-\\d+ did not arrive in log group trailguard-canary-[a-z0-9]+-${REGION} within 600 s of the StopLogging$`,
      ),
    );
    // It looked until the case's deadline, every pollSeconds, the last wait cut to what was left.
    expect(waits).toEqual([240_000, 240_000, 120_000]);
    expect(await snapshot(clients, [REGION])).toEqual(before);
  });

  it('the stand-in for CloudTrail delivers only what CloudTrail would: nothing while the canary is broken, the PutObject record once fixed', async () => {
    const clients = testClients();
    const s3 = s3Of(clients, REGION);
    const target: CanaryTarget = { account: ACCOUNT, region: REGION, partition: 'aws', clients, s3 };
    const canary = await createCanary(target, canaryNames('delivery1', REGION), () => undefined);
    const { StopLoggingCommand, StartLoggingCommand } = await import('@aws-sdk/client-cloudtrail');
    const { findDelivery, writeCanaryObject } = await import('../../services/aws/canary.js');
    await clients.cloudTrail(REGION).send(new StopLoggingCommand({ Name: canary.trail }));
    const writtenAt = new Date();
    const key = await writeCanaryObject(target, canary, 'probe');
    expect(await emulateCloudTrailDelivery(target, canary, key)).toBe(false);
    expect(await findDelivery(target, canary, key, writtenAt)).toEqual({
      found: false,
      logGroup: canary.logGroup,
    });
    await clients.cloudTrail(REGION).send(new StartLoggingCommand({ Name: canary.trail }));
    expect(await emulateCloudTrailDelivery(target, canary, key)).toBe(true);
    expect(await findDelivery(target, canary, key, writtenAt)).toEqual({
      found: true,
      logGroup: canary.logGroup,
    });
    // Another object's event is not this one's.
    expect((await findDelivery(target, canary, `${key}-other`, writtenAt)).found).toBe(false);
    await cleanupCanary(target, canary);
    s3.destroy();
  });

  it('with cisMonitoring: CIS alarms of the canary’s log group (put by the test as the guardrail names them: its fixes make none for the single-region canary) are removed at cleanup; the CIS alarms of another log group stay', async () => {
    const config = { cisMonitoring: true };
    const file = await configFile(config);
    expect((await cli(['local-setup', '--config', file])).code).toBe(0);
    const clients = testClients();
    await otherTrail(clients, ACCOUNT);
    const cw = clients.cloudWatch(REGION);
    const putCisAlarms = async (logGroup: string) => {
      for (const control of CIS_CONTROLS) {
        await cw.send(
          new PutMetricAlarmCommand({
            AlarmName: cisAlarmName(control, logGroup),
            MetricName: control.metricName,
            Namespace: `CISBenchmark/${logGroup}`,
            Statistic: 'Sum',
            Period: 300,
            EvaluationPeriods: 1,
            Threshold: 1,
            ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          }),
        );
      }
    };
    const alarmNames = async () =>
      ((await cw.send(new DescribeAlarmsCommand({}))).MetricAlarms ?? [])
        .map((a) => a.AlarmName ?? '')
        .sort();
    // The CIS alarms of another log group: not the canary's.
    await putCisAlarms('workload-trail-logs');
    const teamAlarms = await alarmNames();
    const before = await snapshot(clients, [REGION]);
    let madeByFix: string[] = [];
    let canaryGroup = '';
    const local = localEngine({ clients, config, region: REGION });

    const { report, removed } = await runSelftest({
      clients,
      config,
      targets: [{ account: ACCOUNT, region: REGION }],
      callerAccount: ACCOUNT,
      memberRole: MEMBER_ROLE,
      breaks: ['DeleteLogGroup'],
      engine: {
        handle: async (run) => {
          const out = await local.handle(run);
          canaryGroup = run.canary.logGroup;
          madeByFix = (await alarmNames()).filter((n) => n.includes(canaryGroup));
          await putCisAlarms(canaryGroup);
          return out;
        },
      },
      deliver: (target, canary, key) => emulateCloudTrailDelivery(target, canary, key),
    });

    expect(report.outcome, JSON.stringify(report)).toBe('passed');
    // CIS monitoring applies to multi-region trails only (services/domain/assess.ts monitored): none by the fix.
    expect(madeByFix).toEqual([]);
    expect(removed.filter((r) => r.startsWith('alarm ')).sort()).toEqual(
      CIS_CONTROLS.map((c) => `alarm ${cisAlarmName(c, canaryGroup)}`).sort(),
    );
    expect(await alarmNames()).toEqual(teamAlarms);
    expect(await snapshot(clients, [REGION])).toEqual(before);
  });

  it('usage errors exit 2 and create nothing', async () => {
    const clients = testClients();
    const before = await snapshot(clients, [REGION]);
    expect((await cli(['selftest', '--account', '12345'])).code).toBe(2);
    expect((await cli(['selftest', '--timeout', '0'])).code).toBe(2);
    expect((await cli(['selftest', '--region', 'nowhere'])).code).toBe(2);
    expect((await cli(['selftest', '--config', join(dir, 'missing.json')])).code).toBe(2);
    expect((await cli(['selftest', '--engine', 'local', '--stack', 'x'])).code).toBe(2);
    // The deployed engine reads the stack's audit table from its outputs: no such stack, a usage error.
    const missing = await cli(['selftest', '--engine', 'deployed', '--stack', 'NoSuchTrailguard']);
    expect(missing.code, missing.stderr).toBe(2);
    expect(missing.stderr).toMatch(/NoSuchTrailguard/);
    expect(await snapshot(clients, [REGION])).toEqual(before);
  });
});

describe('trailguard selftest --config (a hub, two member accounts x two regions)', () => {
  const orgConfig = { accounts: [MEMBER, OTHER_MEMBER], regions: [REGION, SECOND_REGION], hubRegion: REGION };

  const memberClients = (account: string) =>
    adminClientsIn(testClients(), account, MEMBER_ROLE, REGION, {
      sessionName: 'test-admin',
      maxAttempts: 1,
    });

  it('fixes every break in every member account and region through the hub; nothing else changes', async () => {
    const file = await configFile(orgConfig);
    expect((await cli(['local-setup', '--config', file])).code).toBe(0);
    const member = await memberClients(MEMBER);
    await seedTrailIn(member, MEMBER, SECOND_REGION, 'workload-trail', {
      role: 'workload-delivery',
      grantRegions: [SECOND_REGION],
    });
    const before = await Promise.all(
      [MEMBER, OTHER_MEMBER].map(async (a) => snapshot(await memberClients(a), [REGION, SECOND_REGION])),
    );

    const run = await cli(['selftest', '--config', file, '--member-role', MEMBER_ROLE, '--json']);

    expect(run.code, run.stderr).toBe(0);
    const report = lastJson(run);
    expect(report.outcome).toBe('passed');
    expect(report.cases.map((c) => `${c.account}/${c.region}/${c.break}/${c.fixed}`)).toEqual(
      [MEMBER, OTHER_MEMBER].flatMap((a) =>
        [REGION, SECOND_REGION].flatMap((r) => BREAKS.map((b) => `${a}/${r}/${b}/true`)),
      ),
    );
    // The hub's workflow ran each case (the hub's region and account), acting in the member.
    for (const c of report.cases)
      expect(c.execution).toMatch(new RegExp(`^arn:aws:states:${REGION}:${ACCOUNT}:`));
    const records = await listAuditRecords(testClients(), 'trailguard-audit');
    expect(
      records
        .filter((r) => r.canary === true)
        .map((r) => r.account)
        .sort(),
    ).toEqual([...Array(8).fill(MEMBER), ...Array(8).fill(OTHER_MEMBER)].sort());
    const after = await Promise.all(
      [MEMBER, OTHER_MEMBER].map(async (a) => snapshot(await memberClients(a), [REGION, SECOND_REGION])),
    );
    expect(after).toEqual(before);
  });

  it("its remediation role removed in a member (AssumeRole refused: moto does not check that a role exists): that member's cases fail at Check or the fan-out (not enrolled)", async () => {
    const file = await configFile({ ...orgConfig, regions: [REGION] });
    expect((await cli(['local-setup', '--config', file])).code).toBe(0);
    // SDK-level injection on the hub's clients: AssumeRole into any of MEMBER's remediation roles is refused.
    const refused = remediationRoleArn(MEMBER, 'trailguard-remediation', REGION);
    const injector = new FaultInjector([
      {
        ...failing('AssumeRole', 'accessDenied'),
        when: (call) => ((call.input as { RoleArn?: string }).RoleArn ?? '').startsWith(refused),
      },
    ]);
    const hub = injector.clients({ credentials: currentCredentials });
    const config = { ...orgConfig, regions: [REGION] };

    const { report } = await runSelftest({
      clients: hub,
      config,
      targets: [MEMBER, OTHER_MEMBER].map((account) => ({ account, region: REGION })),
      callerAccount: ACCOUNT,
      memberRole: MEMBER_ROLE,
      engine: localEngine({ clients: hub, config, region: REGION }),
      // moto delivers nothing: the stand-in for CloudTrail's delivery, as the CLI uses against an emulator.
      deliver: (target, canary, key) => emulateCloudTrailDelivery(target, canary, key),
    });

    expect(report.outcome).toBe('failed');
    for (const c of report.cases.filter((x) => x.account === MEMBER)) {
      expect(c.fixed).toBe(false);
      // Check for the trail's events; the fan-out (the sweep function's step) for the log group's and role's.
      const step = c.break.startsWith('Delete') ? 'Sweep' : 'Check';
      expect(c.missing).toMatch(
        new RegExp(
          `^the run failed at step ${step} with AccountNotEnrolledError: account ${MEMBER} is not enrolled`,
        ),
      );
    }
    expect(report.cases.filter((x) => x.account === OTHER_MEMBER).every((c) => c.fixed)).toBe(true);
    expect(injector.callsOf('AssumeRole').some((c) => c.fault)).toBe(true);
  });

  it("the rules' own-role exclusion wrongly covering the canary (selftest acts as the guardrail's trail repair role, which the rules exclude): no event arrived, exit 1", async () => {
    const config = { accounts: [MEMBER], regions: [REGION], hubRegion: REGION };
    const file = await configFile(config);
    expect((await cli(['local-setup', '--config', file])).code).toBe(0);

    const run = await cli([
      'selftest',
      '--config',
      file,
      '--member-role',
      'trailguard-remediation-trail',
      '--json',
    ]);

    expect(run.code, run.stderr).toBe(1);
    const report = lastJson(run);
    expect(report.cases).toHaveLength(4);
    for (const c of report.cases) {
      expect(c).toMatchObject({ account: MEMBER, fixed: false, execution: null });
      expect(c.missing).toMatch(
        /^no event arrived \(rule, forwarding or bus policy\): the stack's rules do not match/,
      );
    }
    const member = await memberClients(MEMBER);
    const { trailList = [] } = await member.cloudTrail(REGION).send(new DescribeTrailsCommand({}));
    expect(trailList).toEqual([]);
  });
});

describe('the canary is not mistaken for the trail used to test it', () => {
  it('a trail someone else named like a canary is left alone by cleanup (created before the run)', async () => {
    const clients = testClients();
    const bucket = await trailBucketIn(clients, ACCOUNT, REGION);
    await clients
      .cloudTrail(REGION)
      .send(new CreateTrailCommand({ Name: 'trailguard-canary-someone', S3BucketName: bucket }));
    expect((await cli(['local-setup'])).code).toBe(0);
    const before = await snapshot(clients, [REGION]);
    const run = await cli(['selftest', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(await snapshot(clients, [REGION])).toEqual(before);
  });
});
