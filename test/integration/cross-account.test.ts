/**
 * The hub's runtime acting in the event's account, against moto in several accounts and regions: the steps of
 * the synthesized workflow (run locally with `accounts`, the hub's AccountAccess) and the sweep function's core
 * read and repair a member's trails through the member's remediation role (moto acts in the account of the
 * assumed role's credentials), while the email goes to the hub's topic and the record to the hub's table.
 * Everything a member ends up with is read back with that member's own clients.
 *
 * ACCOUNT / REGION are the hub under test (the project's); the members are other accounts in both projects.
 */
import {
  DescribeTrailsCommand,
  type DescribeTrailsCommandOutput,
  GetTrailCommand,
  GetTrailStatusCommand,
  type Trail as SdkTrail,
} from '@aws-sdk/client-cloudtrail';
import { DeleteRolePolicyCommand, GetRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateAccountCommand, CreateOrganizationCommand } from '@aws-sdk/client-organizations';
import type { InitializeMiddleware, MetadataBearer, MiddlewareStack } from '@smithy/types';
import { beforeEach, describe, expect, it } from 'vitest';
import { type ConfigInput, parseConfig } from '../../policies/config.js';
import { type AccountAccess, accountAccess } from '../../services/aws/accounts.js';
import { ensureAuditTable, listAuditRecords } from '../../services/aws/audit-store.js';
import type { AwsClients, SdkClient } from '../../services/aws/clients.js';
import type { ExecutionRequest, StartExecution } from '../../services/aws/execution-starter.js';
import { ensureTopic } from '../../services/aws/notifier.js';
import {
  ensureStateTable,
  getLogGroupSnapshot,
  localStateTableName,
} from '../../services/aws/state-store.js';
import { sweepStep } from '../../services/aws/sweep.js';
import { decodePolicy, readTrailState } from '../../services/aws/trail-reader.js';
import { assess, notOursReason } from '../../services/domain/assess.js';
import { executionName, type SweepResult, sweepTargetsOf } from '../../services/domain/sweep.js';
import { createDeliveryRole, seedTrailIn } from '../../services/local/organization-seed.js';
import { type ReplayResult, resultOf } from '../../services/local/replay.js';
import { localWorkflow, runWorkflow } from '../../services/local/workflow-runner.js';
import { ACCOUNT, emulatorNotifications, REGION, resetEmulator, testClients } from '../support/aws.js';
import { FaultInjector } from '../support/faults.js';
import { cli, eventIn } from '../support/organization.js';

/** A member account, and a second one (neither is the hub's, in either project). */
const MEMBER = '444455556666';
const OTHER_MEMBER = '777788889999';
/** An account no configuration here guards. */
const STRANGER = '999988887777';
/** The second guarded region (us-east-1 whenever the hub is elsewhere: where IAM events arrive). */
const SECOND_REGION = REGION === 'us-east-1' ? 'eu-west-1' : 'us-east-1';
const REGIONS = [REGION, SECOND_REGION];
const TOPIC = 'trailguard-notifications';
const TABLE = 'trailguard-audit';
const STATE_TABLE = localStateTableName({ auditTableName: TABLE });
const HUB_TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:${TOPIC}`;
const ROLE_NAME = 'trailguard-remediation';
const HUB: ConfigInput = { accounts: [MEMBER], regions: REGIONS };

/** Made again after every reset (moto forgets assumed credentials). */
let hub: AwsClients = testClients();

/** The hub's access to its members, as the deployed functions build it (one AssumeRole per account). */
function access(clients: AwsClients = hub, onCreate?: (client: SdkClient) => void): AccountAccess {
  return accountAccess(clients, {
    hubAccount: ACCOUNT,
    roleName: ROLE_NAME,
    sessionName: 'trailguard-test',
    ...(onCreate ? { onCreate } : {}),
  });
}

beforeEach(async () => {
  await resetEmulator();
  hub = testClients();
  await ensureTopic(hub, TOPIC);
  await ensureAuditTable(hub, TABLE);
  await ensureStateTable(hub, STATE_TABLE);
});

// ---------------------------------------------------------------------------------------------------------
// A member's trails: seeded (services/local/organization-seed.ts), read back with the member's own clients.

/** The product's own verdict on a trail, read with the given (the member's) clients. */
async function verdictIn(clients: AwsClients, account: string, trailArn: string) {
  const region = trailArn.split(':')[3] ?? REGION;
  const state = await readTrailState(clients, { id: trailArn, region }, account);
  return assess(state, parseConfig(HUB));
}

/** A start function that runs the synthesized workflow in process for each execution, as the hub would. */
function workflowStarter(config: ConfigInput, accounts: AccountAccess) {
  const runs: ReplayResult[] = [];
  const requests: ExecutionRequest[] = [];
  const start: StartExecution = async (request) => {
    requests.push(request);
    const run = await runWorkflow(request.input, {
      clients: hub,
      config,
      accounts,
      executionName: request.name,
    });
    runs.push(resultOf(run, request.input.trail));
    return { name: request.name, executionArn: run.executionId, started: true };
  };
  return { runs, requests, start };
}

/** The sweep function's core with the settings the hub's sweep function gets from its environment. */
async function hubSweep(config: ConfigInput, accounts: AccountAccess, start: StartExecution) {
  const local = await localWorkflow({ region: REGION, clients: hub, config });
  return sweepStep({ ...local.sweep.settings, clients: hub, accounts }, start);
}

// ---------------------------------------------------------------------------------------------------------

describe('the workflow acts in the event account', () => {
  it("a member's broken trail: remediated in the member account, email on the hub topic, record in the hub table", async () => {
    const accounts = access();
    const member = await accounts.clientsFor(MEMBER);
    const trailArn = await seedTrailIn(member, MEMBER, REGION, 'member-trail');
    expect((await verdictIn(member, MEMBER, trailArn)).verdict).toBe('non-compliant');

    const event = eventIn(MEMBER, REGION, 'StopLogging', 'member-trail');
    const run = await runWorkflow(event, { clients: hub, config: HUB, accounts });
    const result = resultOf(run, 'member-trail');
    expect(result.outcome, result.reason).toBe('remediated');
    expect(result.trail).toBe(trailArn);
    expect(result.context?.account).toBe(MEMBER);

    // The member's trail, read back with the member's own clients: integrated with the member's log group
    // through the member's role, and logging.
    const { Trail } = await member.cloudTrail(REGION).send(new GetTrailCommand({ Name: 'member-trail' }));
    expect(Trail?.CloudWatchLogsLogGroupArn).toBe(
      `arn:aws:logs:${REGION}:${MEMBER}:log-group:CloudTrail/member-trail:*`,
    );
    expect(Trail?.CloudWatchLogsRoleArn).toBe(`arn:aws:iam::${MEMBER}:role/trailguard-cloudtrail-delivery`);
    const status = await member.cloudTrail(REGION).send(new GetTrailStatusCommand({ Name: 'member-trail' }));
    expect(status.IsLogging).toBe(true);
    expect(await verdictIn(member, MEMBER, trailArn)).toMatchObject({ verdict: 'compliant', findings: [] });
    // Nothing was created in the hub's account.
    const hubTrails = await hub.cloudTrail(REGION).send(new DescribeTrailsCommand({}));
    expect(hubTrails.trailList ?? []).toEqual([]);

    const mails = await emulatorNotifications();
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatchObject({ topicArn: HUB_TOPIC_ARN });
    expect(mails[0]?.subject).toContain('REMEDIATED');
    expect(mails[0]?.message).toContain(MEMBER);

    const records = await listAuditRecords(hub, TABLE, { trail: trailArn });
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ outcome: 'remediated', account: MEMBER, region: REGION });
    // One AssumeRole per member role the run used: read-only (Check, Verify), one per restore step, findings.
    expect(accounts.assumed.get(MEMBER)).toBe(5);
  });

  it('an event from an account the hub does not guard: skipped with the reason, nothing assumed or changed', async () => {
    const stranger = await access().clientsFor(STRANGER);
    const trailArn = await seedTrailIn(stranger, STRANGER, REGION, 'stranger-trail');
    const recorder = new FaultInjector();
    const clients = recorder.clients();
    const accounts = access(clients);

    const run = await runWorkflow(eventIn(STRANGER, REGION, 'StopLogging', 'stranger-trail'), {
      clients,
      config: HUB,
      accounts,
    });
    const result = resultOf(run, 'stranger-trail');
    expect(result.outcome).toBe('skipped');
    expect(result.reason).toBe(
      `account ${STRANGER} is not guarded by this hub (it guards accounts ${MEMBER})`,
    );
    expect(result.actions).toEqual([]);
    expect(recorder.callsOf('AssumeRole')).toEqual([]);
    expect(accounts.assumed.size).toBe(0);
    // The stranger's trail is as it was.
    const { Trail } = await stranger.cloudTrail(REGION).send(new GetTrailCommand({ Name: 'stranger-trail' }));
    expect(Trail?.CloudWatchLogsLogGroupArn).toBeUndefined();
    expect((await verdictIn(stranger, STRANGER, trailArn)).verdict).toBe('non-compliant');
  });

  it("the member's role cannot be assumed (AccessDenied injected on sts:AssumeRole at the SDK layer): failed with the reason, not retried", async () => {
    const member = await access().clientsFor(MEMBER);
    await seedTrailIn(member, MEMBER, REGION, 'member-trail');
    const denied = () =>
      Object.assign(
        new Error(
          `User: arn:aws:sts::${ACCOUNT}:assumed-role/trailguard-check/x is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::${MEMBER}:role/${ROLE_NAME}`,
        ),
        { name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 } },
      );
    const injector = new FaultInjector([
      { operation: 'AssumeRole', service: 'STS', mode: 'fail', error: denied, label: 'AccessDenied' },
    ]);
    const clients = injector.clients();

    const run = await runWorkflow(eventIn(MEMBER, REGION, 'StopLogging', 'member-trail'), {
      clients,
      config: HUB,
      accounts: access(clients),
    });
    expect(run.status).toBe('FAILED');
    const result = resultOf(run, 'member-trail');
    expect(result.outcome).toBe('failed');
    // AssumeRole's AccessDenied: the account is not enrolled; for a run (an event from it) still a failure.
    expect(result.failure).toMatchObject({ step: 'Check', name: 'AccountNotEnrolledError' });
    expect(result.failure?.message).toContain(`account ${MEMBER} is not enrolled`);
    expect(result.failure?.message).toContain('AccessDenied');
    // A permanent error: Check ran once, the workflow retried nothing.
    expect(run.history.filter((h) => h.type === 'StateRetried')).toEqual([]);
    expect(run.states.filter((s) => s === 'Check')).toHaveLength(1);
    // Nothing was written in the member account.
    expect(injector.sentWrites().filter((c) => !['SNS', 'DynamoDB'].includes(c.service))).toEqual([]);

    const mails = await emulatorNotifications();
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatchObject({ topicArn: HUB_TOPIC_ARN });
    expect(mails[0]?.subject).toContain('FAILED');
    expect(mails[0]?.message).toContain('AccountNotEnrolledError');
    const records = await listAuditRecords(clients, TABLE, { account: MEMBER });
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      outcome: 'failed',
      account: MEMBER,
      error: { name: 'AccountNotEnrolledError' },
    });
  });
});

describe('IAM fan-out across regions', () => {
  it("a role change in the member (an IAM event, us-east-1) reaches the member's trails in both regions", async () => {
    const accounts = access();
    const member = await accounts.clientsFor(MEMBER);
    await createDeliveryRole(member, MEMBER, 'shared-delivery', REGIONS);
    const first = await seedTrailIn(member, MEMBER, REGION, 'trail-first', { role: 'shared-delivery' });
    const second = await seedTrailIn(member, MEMBER, SECOND_REGION, 'trail-second', {
      role: 'shared-delivery',
    });
    // Another account's trail with a role of the same name is not the member's: it is not touched.
    const other = await accounts.clientsFor(OTHER_MEMBER);
    await createDeliveryRole(other, OTHER_MEMBER, 'shared-delivery', [REGION]);
    await seedTrailIn(other, OTHER_MEMBER, REGION, 'other-trail', { role: 'shared-delivery' });
    await member
      .iam()
      .send(new DeleteRolePolicyCommand({ RoleName: 'shared-delivery', PolicyName: 'cloudtrail-delivery' }));
    for (const trail of [first, second]) {
      expect((await verdictIn(member, MEMBER, trail)).findings.map((f) => f.code)).toEqual([
        'ROLE_PERMISSIONS_INSUFFICIENT',
      ]);
    }

    const config = { accounts: [MEMBER, OTHER_MEMBER], regions: REGIONS };
    const event = eventIn(MEMBER, 'us-east-1', 'DeleteRolePolicy', 'unused', {
      source: 'aws.iam',
      detail: {
        eventSource: 'iam.amazonaws.com',
        requestParameters: { roleName: 'shared-delivery', policyName: 'cloudtrail-delivery' },
      },
    });
    const { runs, requests, start } = workflowStarter(config, accounts);
    const result = await (await hubSweep(config, accounts, start))(event);

    expect(result).toMatchObject({
      kind: 'dependency',
      account: MEMBER,
      region: 'us-east-1',
      regions: REGIONS,
      started: 2,
      change: { resource: 'role', name: 'shared-delivery', eventName: 'DeleteRolePolicy' },
    });
    expect(result.reason).toBe(`2 trail(s) of account ${MEMBER} use role shared-delivery: 2 run(s) started`);
    expect(requests.map((r) => [r.input.trail, r.input.region, r.input.account])).toEqual([
      [first, REGION, MEMBER],
      [second, SECOND_REGION, MEMBER],
    ]);
    const eventId = (event.detail as { eventID: string }).eventID;
    expect(requests.map((r) => r.name)).toEqual([
      executionName('dependency', eventId, first),
      executionName('dependency', eventId, second),
    ]);
    // The role is not one trailguard manages: each trail is pointed at the guardrail's delivery role.
    expect(runs.map((r) => [r.trail, r.outcome])).toEqual([
      [first, 'remediated'],
      [second, 'remediated'],
    ]);
    // Read back in the member: both trails deliver through a role that grants both regions again.
    for (const trail of [first, second]) {
      expect((await verdictIn(member, MEMBER, trail)).verdict, trail).toBe('compliant');
    }
    const records = await listAuditRecords(hub, TABLE, { account: MEMBER });
    expect(records.map((r) => [r.trailArn, r.region, r.outcome, r.eventName]).sort()).toEqual(
      [
        [first, REGION, 'remediated', 'DeleteRolePolicy'],
        [second, SECOND_REGION, 'remediated', 'DeleteRolePolicy'],
      ].sort(),
    );
    expect(await listAuditRecords(hub, TABLE, { account: OTHER_MEMBER })).toEqual([]);
  });

  it('a log group deletion stays regional: only the trails of that region', async () => {
    const accounts = access();
    const member = await accounts.clientsFor(MEMBER);
    await createDeliveryRole(member, MEMBER, 'shared-delivery', REGIONS);
    const first = await seedTrailIn(member, MEMBER, REGION, 'same-name', { role: 'shared-delivery' });
    await seedTrailIn(member, MEMBER, SECOND_REGION, 'same-name', { role: 'shared-delivery' });
    const event = eventIn(MEMBER, REGION, 'DeleteLogGroup', 'unused', {
      source: 'aws.logs',
      detail: {
        eventSource: 'logs.amazonaws.com',
        requestParameters: { logGroupName: 'CloudTrail/same-name' },
      },
    });
    const requests: ExecutionRequest[] = [];
    const result = await (
      await hubSweep(HUB, accounts, async (r) => {
        requests.push(r);
        return { name: r.name, executionArn: `exec:${r.name}`, started: true };
      })
    )(event);
    expect(requests.map((r) => r.input.trail)).toEqual([first]);
    expect(result.regions).toBeUndefined();
    expect(result.reason).toBe(
      `1 trail(s) in ${REGION} use log group CloudTrail/same-name: 1 run(s) started`,
    );
  });
});

/**
 * What a member of an organization sees of the management account's organization trail: AWS lists the trail
 * (DescribeTrails) and answers GetTrail by its ARN in every member account. moto does not model these copies,
 * so the member's CloudTrail answers are completed here, at the SDK layer.
 */
function organizationTrailCopy(trail: SdkTrail) {
  return (client: SdkClient): void => {
    if (client.constructor.name !== 'CloudTrailClient') return;
    const stack = client.middlewareStack as unknown as MiddlewareStack<object, MetadataBearer>;
    const middleware: InitializeMiddleware<object, MetadataBearer> = (next, context) => async (args) => {
      const input = args.input as { Name?: string };
      if (context.commandName === 'GetTrailCommand' && input.Name === trail.TrailARN) {
        return { output: { Trail: trail, $metadata: {} }, response: {} } as never;
      }
      const out = await next(args);
      if (context.commandName === 'DescribeTrailsCommand') {
        const listed = out.output as DescribeTrailsCommandOutput;
        listed.trailList = [...(listed.trailList ?? []), trail];
      }
      return out;
    };
    stack.add(middleware, { step: 'initialize', name: 'organizationTrailCopy', override: true });
  };
}

describe('organization trails', () => {
  it("the management account's organization trail is repaired from the management account; a member's copy is not ours", async () => {
    // The management account is a member of the hub (the hub is a security account), as in most organizations.
    const management = await access().clientsFor(MEMBER);
    const { Organization } = await management
      .organizations()
      .send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
    const organizationId = Organization?.Id ?? '';
    expect(organizationId).toMatch(/^o-[a-z0-9]{10,32}$/);
    const orgTrail = await seedTrailIn(management, MEMBER, REGION, 'org-trail', { organization: true });
    const { Trail: copy } = await management.cloudTrail(REGION).send(new GetTrailCommand({ Name: orgTrail }));
    expect(copy?.IsOrganizationTrail).toBe(true);

    const config = { accounts: [MEMBER, OTHER_MEMBER], regions: REGIONS };
    // The other member sees the management account's trail (an organization trail's copy).
    const plain = access();
    const withCopy = access(hub, organizationTrailCopy(copy ?? {}));
    const accounts: AccountAccess = {
      hubAccount: ACCOUNT,
      assumed: plain.assumed,
      clientsFor: (account) => (account === OTHER_MEMBER ? withCopy : plain).clientsFor(account),
    };

    // The copy, from the member: skipped, nothing changed or assumed in the management account.
    const fromMember = await runWorkflow(
      { source: 'trailguard', kind: 'manual', trail: orgTrail, region: REGION, account: OTHER_MEMBER },
      { clients: hub, config, accounts },
    );
    const skipped = resultOf(fromMember, orgTrail);
    expect(skipped.outcome).toBe('skipped');
    const seen = skipped.context?.before?.state.trail;
    expect(seen?.isOrganizationTrail).toBe(true);
    expect(seen && notOursReason({ trail: seen, region: REGION, accountId: OTHER_MEMBER })).toBe(
      skipped.reason,
    );
    expect(skipped.reason).toBe(
      `organization trail owned by account ${MEMBER}; it can only be changed from that account`,
    );
    expect(accounts.assumed.get(MEMBER)).toBeUndefined();

    // The member's sweep lists the copy as not ours and starts nothing.
    const requests: ExecutionRequest[] = [];
    const recordStart: StartExecution = async (r) => {
      requests.push(r);
      return { name: r.name, executionArn: `exec:${r.name}`, started: true };
    };
    const swept = await (await hubSweep(config, accounts, recordStart))({
      kind: 'target',
      account: OTHER_MEMBER,
      region: REGION,
      id: 'org-sweep',
    });
    expect(swept.trails).toEqual([
      {
        trail: orgTrail,
        verdict: 'not-ours',
        reason: `organization trail owned by account ${MEMBER}; it can only be changed from that account`,
      },
    ]);
    expect(requests).toEqual([]);

    // The management account's event: repaired there, through its own remediation role.
    const event = eventIn(MEMBER, REGION, 'StopLogging', orgTrail);
    const result = resultOf(await runWorkflow(event, { clients: hub, config, accounts }), orgTrail);
    expect(result.outcome, result.reason).toBe('remediated');
    const { PolicyDocument } = await management.iam().send(
      new GetRolePolicyCommand({
        RoleName: 'trailguard-cloudtrail-delivery',
        PolicyName: 'trailguard-cloudtrail-delivery',
      }),
    );
    const grant = decodePolicy(PolicyDocument) as { Statement: { Resource: string[] }[] };
    expect(grant.Statement[0]?.Resource).toEqual([
      `arn:aws:logs:*:${MEMBER}:log-group:CloudTrail/*:log-stream:${MEMBER}_CloudTrail_*`,
      `arn:aws:logs:*:${MEMBER}:log-group:CloudTrail/*:log-stream:${organizationId}_*`,
    ]);
    expect((await verdictIn(management, MEMBER, orgTrail)).verdict).toBe('compliant');
  });
});

describe("the hub's sweep over accounts x regions", () => {
  it('targets: 2 accounts x 2 regions; each target sweeps its account and region and runs the workflow there', async () => {
    const accounts = access();
    const member = await accounts.clientsFor(MEMBER);
    // The hub: broken in REGION. The member: compliant in REGION, broken in the second region.
    const hubBroken = await seedTrailIn(hub, ACCOUNT, REGION, 'hub-broken');
    await createDeliveryRole(member, MEMBER, 'member-delivery', REGIONS);
    const memberGood = await seedTrailIn(member, MEMBER, REGION, 'member-good', { role: 'member-delivery' });
    const memberBroken = await seedTrailIn(member, MEMBER, SECOND_REGION, 'member-broken');

    const { runs, requests, start } = workflowStarter(HUB, accounts);
    const sweep = await hubSweep(HUB, accounts, start);
    const planned = await sweep({
      kind: 'targets',
      id: 'sweep-42',
      requestedBy: 'arn:aws:events:rule/sweep',
    });
    expect(sweepTargetsOf(planned)).toEqual(
      [ACCOUNT, MEMBER].flatMap((account) =>
        REGIONS.map((region) => ({
          kind: 'target',
          account,
          region,
          id: 'sweep-42',
          requestedBy: 'arn:aws:events:rule/sweep',
        })),
      ),
    );

    const results: SweepResult[] = [];
    for (const target of sweepTargetsOf(planned)) results.push(await sweep(target));
    expect(
      results.map((r) => [r.kind, r.account, r.region, r.trails.map((t) => t.verdict), r.started]),
    ).toEqual([
      ['target', ACCOUNT, REGION, ['non-compliant'], 1],
      ['target', ACCOUNT, SECOND_REGION, [], 0],
      ['target', MEMBER, REGION, ['compliant'], 0],
      ['target', MEMBER, SECOND_REGION, ['non-compliant'], 1],
    ]);
    expect(results[3]?.reason).toBe(
      `swept 1 trail(s) of account ${MEMBER} in ${SECOND_REGION}: 1 run(s) started`,
    );
    expect(requests.map((r) => [r.name, r.input])).toEqual([
      [
        executionName('sweep', 'sweep-42', hubBroken),
        {
          source: 'trailguard',
          kind: 'sweep',
          trail: hubBroken,
          region: REGION,
          account: ACCOUNT,
          requestedBy: 'arn:aws:events:rule/sweep',
        },
      ],
      [
        executionName('sweep', 'sweep-42', memberBroken),
        {
          source: 'trailguard',
          kind: 'sweep',
          trail: memberBroken,
          region: SECOND_REGION,
          account: MEMBER,
          requestedBy: 'arn:aws:events:rule/sweep',
        },
      ],
    ]);
    expect(runs.map((r) => [r.trail, r.outcome])).toEqual([
      [hubBroken, 'remediated'],
      [memberBroken, 'remediated'],
    ]);
    expect((await verdictIn(member, MEMBER, memberBroken)).verdict).toBe('compliant');
    expect((await verdictIn(hub, ACCOUNT, hubBroken)).verdict).toBe('compliant');
    // One AssumeRole per member role across the member's targets and runs (the read-only role for the sweep,
    // Check and Verify; one per restore step; UpdateFindings' own).
    expect(accounts.assumed.get(MEMBER)).toBe(5);

    // The member's log group was snapshotted into the hub's state table.
    const snapshot = await getLogGroupSnapshot(hub, STATE_TABLE, memberGood);
    expect(snapshot?.logGroupName).toBe('CloudTrail/member-good');
    // One table, filtered by account.
    expect((await listAuditRecords(hub, TABLE, { account: MEMBER })).map((r) => r.trailArn)).toEqual([
      memberBroken,
    ]);
    expect((await listAuditRecords(hub, TABLE, { account: ACCOUNT })).map((r) => r.trailArn)).toEqual([
      hubBroken,
    ]);
    const mails = await emulatorNotifications();
    expect(mails.map((m) => m.topicArn)).toEqual([HUB_TOPIC_ARN, HUB_TOPIC_ARN]);

    // `trailguard audit --account ID` reads the same filter from the hub's table.
    const audit = await cli(['audit', '--account', MEMBER, '--region', REGION, '--json']);
    expect(audit.code, audit.stderr).toBe(0);
    expect((JSON.parse(audit.stdout) as { trailArn?: string }[]).map((r) => r.trailArn)).toEqual([
      memberBroken,
    ]);
    const bad = await cli(['audit', '--account', '4444', '--region', REGION]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--account must be a 12-digit account id, not "4444"');
  });

  it('"organization": the ACTIVE accounts Organizations lists, the hub always; regions: every enabled one', async () => {
    const organizations = hub.organizations();
    await organizations.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
    for (const name of ['dev', 'prod']) {
      await organizations.send(new CreateAccountCommand({ AccountName: name, Email: `${name}@example.com` }));
    }
    const sweep = await hubSweep({ accounts: 'organization' }, access(), async () => {
      throw new Error('nothing is started by the targets');
    });
    const planned = await sweep({ kind: 'targets' });
    expect(planned.accounts?.[0]).toBe(ACCOUNT);
    expect(planned.accounts).toHaveLength(3);
    expect(planned.regions).toContain(REGION);
    expect(planned.regions).toContain(SECOND_REGION);
    expect(sweepTargetsOf(planned)).toHaveLength(3 * (planned.regions?.length ?? 0));
    const ids = new Set(sweepTargetsOf(planned).map((t) => t.id));
    expect(ids.size).toBe(1);
  });

  /** The hub's sweep core with AssumeRole failing as `error()` says (SDK-level injection: moto grants any role). */
  async function sweepWithAssumeRoleFailing(error: () => Error) {
    const injector = new FaultInjector([{ operation: 'AssumeRole', mode: 'fail', error }]);
    const clients = injector.clients();
    const local = await localWorkflow({ region: REGION, clients, config: HUB });
    return sweepStep({ ...local.sweep.settings, clients, accounts: access(clients) }, async () => {
      throw new Error('nothing is started');
    });
  }

  it("a target whose role AssumeRole refuses with AccessDenied (injected at the SDK layer: moto grants any role) is not-enrolled, a coverage gap told by AssumeRole's AccessDenied, not a failure", async () => {
    const sweep = await sweepWithAssumeRoleFailing(() =>
      Object.assign(new Error('User is not authorized to perform: sts:AssumeRole'), {
        name: 'AccessDenied',
        $metadata: { httpStatusCode: 403 },
      }),
    );
    const result = await sweep({ kind: 'target', account: MEMBER, region: REGION });
    expect(result).toMatchObject({ kind: 'target', account: MEMBER, region: REGION, status: 'not-enrolled' });
    expect(result.reason).toContain("told by STS AssumeRole's AccessDenied");
    expect(result.reason).toContain(`account ${MEMBER} is not enrolled`);
    expect(result.trails).toEqual([]);
    expect(result.started).toBe(0);
  });

  it('a target whose AssumeRole fails otherwise (RegionDisabledException injected at the SDK layer) is an error: AccountAccessError is thrown', async () => {
    const sweep = await sweepWithAssumeRoleFailing(() =>
      Object.assign(new Error('STS is not activated in this region for account'), {
        name: 'RegionDisabledException',
        $metadata: { httpStatusCode: 403 },
      }),
    );
    await expect(sweep({ kind: 'target', account: MEMBER, region: REGION })).rejects.toMatchObject({
      name: 'AccountAccessError',
    });
  });

  it("a region not enabled in the member (an opt-in region moto lists as not-opted-in) is not-enabled, told by DescribeRegions in that account; the member's enabled regions are swept", async () => {
    const optIn = 'ap-east-1';
    const config: ConfigInput = { accounts: [MEMBER, OTHER_MEMBER], regions: [...REGIONS, optIn] };
    const accounts = access();
    for (const account of [MEMBER, OTHER_MEMBER]) {
      await seedTrailIn(await accounts.clientsFor(account), account, SECOND_REGION, `${account}-trail`);
    }
    const { runs, start } = workflowStarter(config, accounts);
    const sweep = await hubSweep(config, accounts, start);
    const planned = await sweep({ kind: 'targets' });
    const results: SweepResult[] = [];
    for (const target of sweepTargetsOf(planned)) results.push(await sweep(target));
    const status = (account: string, region: string) =>
      results.find((r) => r.account === account && r.region === region)?.status;
    for (const account of [ACCOUNT, MEMBER, OTHER_MEMBER]) {
      expect(status(account, optIn), account).toBe('not-enabled');
      expect(status(account, REGION), account).toBe('swept');
      expect(status(account, SECOND_REGION), account).toBe('swept');
    }
    const gap = results.find((r) => r.account === MEMBER && r.region === optIn);
    expect(gap?.reason).toContain(`region ${optIn} is not enabled in account ${MEMBER}`);
    expect(gap?.trails).toEqual([]);
    // Both members' broken trails were remediated in their enabled region.
    expect(runs.map((r) => [r.trail?.split(':')[4], r.outcome]).sort()).toEqual([
      [MEMBER, 'remediated'],
      [OTHER_MEMBER, 'remediated'],
    ]);
  });
});
