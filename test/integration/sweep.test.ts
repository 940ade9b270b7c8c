/**
 * The sweep function's core against moto: the scheduled sweep (assess every trail, start the workflow only
 * for the non-compliant ones) and the dependency fan-out (find the trails using a deleted log group or a
 * changed role, start one run each with the event's actor), with a recording start function, with Step
 * Functions (moto) and with the in-process workflow (replay: runs the synthesized state machine per trail).
 */
import { DeleteLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DeleteRoleCommand, DeleteRolePolicyCommand } from '@aws-sdk/client-iam';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  ListExecutionsCommand,
} from '@aws-sdk/client-sfn';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../policies/config.js';
import { ensureAuditTable, listAuditRecords } from '../../services/aws/audit-store.js';
import {
  type ExecutionRequest,
  type StartExecution,
  sfnExecutionStarter,
} from '../../services/aws/execution-starter.js';
import { ensureTopic } from '../../services/aws/notifier.js';
import { ensureStateTable, localStateTableName } from '../../services/aws/state-store.js';
import { sweepStep } from '../../services/aws/sweep.js';
import { resultJson } from '../../services/cli/commands/workflow-output.js';
import { InvalidInputError } from '../../services/domain/errors.js';
import { parseWorkflowInput } from '../../services/domain/events.js';
import { executionName, parseSweepInput, SweepError } from '../../services/domain/sweep.js';
import { mostSevere, replayEvent, sweepLocally } from '../../services/local/replay.js';
import { ACCOUNT, emulatorNotifications, REGION, resetEmulator, testClients } from '../support/aws.js';
import { DeletionProtectionEmulation } from '../support/deletion-protection.js';
import { lambdaContext } from '../support/lambda-context.js';
import { seedBrokenTrail, seedCompliantTrail, seedTrail } from '../support/seed.js';

/**
 * Made again after every reset: an SDK client keeps the credentials it first resolved, and a reset makes moto
 * forget assumed ones (the client would then act in moto's default account).
 */
let clients = testClients();
const config = parseConfig({});
const arn = (name: string) => `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/${name}`;
const RULE_ARN = `arn:aws:events:${REGION}:${ACCOUNT}:rule/Trailguard-SweepSchedule`;
const ACTOR = `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/alice`;
const OWN = `arn:aws:iam::${ACCOUNT}:role/trailguard-remediator`;

function scheduled(id = 'b3f1c0de-0000-4000-8000-000000000001') {
  return {
    version: '0',
    id,
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: ACCOUNT,
    time: '2026-11-27T12:00:00Z',
    region: REGION,
    resources: [RULE_ARN],
    detail: {},
  };
}

let n = 0;
function dependencyEvent(
  eventSource: 'logs.amazonaws.com' | 'iam.amazonaws.com',
  eventName: string,
  requestParameters: Record<string, unknown>,
) {
  n += 1;
  const id = `dep00000-0000-4000-8000-${String(n).padStart(12, '0')}`;
  return {
    version: '0',
    id: `eb-${id}`,
    'detail-type': 'AWS API Call via CloudTrail',
    source: eventSource === 'logs.amazonaws.com' ? 'aws.logs' : 'aws.iam',
    account: ACCOUNT,
    time: '2026-11-27T12:01:00Z',
    region: REGION,
    resources: [],
    detail: {
      eventVersion: '1.09',
      userIdentity: {
        type: 'AssumedRole',
        arn: ACTOR,
        sessionContext: { sessionIssuer: { type: 'Role', arn: `arn:aws:iam::${ACCOUNT}:role/Admin` } },
      },
      eventTime: '2026-11-27T12:00:58Z',
      eventSource,
      eventName,
      awsRegion: REGION,
      sourceIPAddress: '203.0.113.10',
      userAgent: 'aws-cli/2.22.0',
      requestParameters,
      responseElements: null,
      eventID: id,
    },
  };
}
const deleteLogGroup = (name: string) =>
  dependencyEvent('logs.amazonaws.com', 'DeleteLogGroup', { logGroupName: name });
const roleEvent = (eventName: string, roleName: string) =>
  dependencyEvent('iam.amazonaws.com', eventName, { roleName, policyName: 'cloudtrail-delivery' });

/** A start function that records what it is asked to start. */
function recorder(failFor?: string) {
  const requests: ExecutionRequest[] = [];
  const start: StartExecution = async (request) => {
    if (request.input.trail === failFor) throw new Error('StartExecution throttled for good');
    requests.push(request);
    return { name: request.name, executionArn: `exec:${request.name}`, started: true };
  };
  return { requests, start };
}

const sweep = (start: StartExecution) => sweepStep({ config, clients, accountId: ACCOUNT }, start);

beforeEach(async () => {
  await resetEmulator();
  clients = testClients();
});

describe('input', () => {
  it('a scheduled event, or a dependency event naming a log group or a role', () => {
    expect(parseSweepInput(scheduled())).toMatchObject({ kind: 'sweep', event: { resources: [RULE_ARN] } });
    expect(parseSweepInput(deleteLogGroup('CloudTrail/x'))).toMatchObject({
      kind: 'dependency',
      change: { resource: 'log-group', name: 'CloudTrail/x' },
    });
    for (const name of [
      'DeleteRole',
      'DeleteRolePolicy',
      'PutRolePolicy',
      'AttachRolePolicy',
      'DetachRolePolicy',
      'UpdateAssumeRolePolicy',
    ]) {
      expect(parseSweepInput(roleEvent(name, 'r1')), name).toMatchObject({
        kind: 'dependency',
        change: { resource: 'role', name: 'r1' },
      });
    }
  });

  it.each([
    [
      'a trail event',
      {
        ...deleteLogGroup('x'),
        detail: {
          ...deleteLogGroup('x').detail,
          eventSource: 'cloudtrail.amazonaws.com',
          eventName: 'StopLogging',
        },
      },
      /not an event that can break/,
    ],
    ['a read', roleEvent('GetRole', 'r1'), /GetRole \(iam.amazonaws.com\) is not an event/],
    [
      'no role name',
      dependencyEvent('iam.amazonaws.com', 'DeleteRole', {}),
      /names no role \(requestParameters.roleName\)/,
    ],
    ['a bad scheduled event', { ...scheduled(), region: 'mars' }, /invalid scheduled event: region/],
    ['nothing', null, /not a CloudTrail event/],
  ])('rejects %s with InvalidInputError', (_, input, message) => {
    expect(() => parseSweepInput(input)).toThrow(InvalidInputError);
    expect(() => parseSweepInput(input)).toThrow(message);
  });

  it('execution names are deterministic, distinct per trail and input, and valid for Step Functions', () => {
    const a = executionName('sweep', scheduled().id, arn('a'));
    expect(executionName('sweep', scheduled().id, arn('a'))).toBe(a);
    expect(executionName('sweep', scheduled().id, arn('b'))).not.toBe(a);
    expect(executionName('sweep', 'another-id', arn('a'))).not.toBe(a);
    expect(executionName('dependency', scheduled().id, arn('a'))).not.toBe(a);
    const long = executionName('dependency', 'x:y/z'.repeat(40), arn('a'.repeat(128)));
    expect(long).toMatch(/^[\w-]{1,80}$/);
  });

  it('a dependency request becomes a run triggered by the event: the email and the audit say who did what', () => {
    expect(
      parseWorkflowInput({
        source: 'trailguard',
        kind: 'dependency',
        trail: arn('main'),
        region: REGION,
        account: ACCOUNT,
        requestedBy: ACTOR,
        actorType: 'AssumedRole',
        eventName: 'DeleteLogGroup',
        eventSource: 'logs.amazonaws.com',
        eventId: 'e-1',
        eventTime: '2026-11-27T12:00:58Z',
        sourceIp: '203.0.113.10',
      }),
    ).toEqual({
      trigger: {
        kind: 'event',
        eventId: 'e-1',
        eventName: 'DeleteLogGroup',
        eventSource: 'logs.amazonaws.com',
        eventTime: '2026-11-27T12:00:58Z',
        actorArn: ACTOR,
        actorType: 'AssumedRole',
        sourceIp: '203.0.113.10',
      },
      trail: { id: arn('main'), region: REGION },
      account: ACCOUNT,
    });
  });
});

describe('the scheduled sweep', () => {
  it('starts the workflow only for trails that are not compliant (not compliant, exempt ones)', async () => {
    await seedCompliantTrail(clients, 'good');
    await seedBrokenTrail(clients, 'bad');
    await seedBrokenTrail(clients, 'waived', { tags: { 'trailguard:exempt': 'true' } });
    await seedTrail(clients, 'no-role', { breaks: { roleArn: 'absent' } });
    const { requests, start } = recorder();
    const result = await sweep(start)(scheduled());

    expect(requests.map((r) => r.input.trail).sort()).toEqual([arn('bad'), arn('no-role')]);
    for (const r of requests) {
      expect(r.input).toEqual({
        source: 'trailguard',
        kind: 'sweep',
        trail: r.input.trail,
        region: REGION,
        account: ACCOUNT,
        requestedBy: RULE_ARN,
      });
      expect(r.name).toBe(executionName('sweep', scheduled().id, r.input.trail));
    }
    expect(result).toMatchObject({
      kind: 'sweep',
      region: REGION,
      account: ACCOUNT,
      started: 2,
      duplicates: 0,
    });
    expect(Object.fromEntries(result.trails.map((t) => [t.trail, t.verdict]))).toEqual({
      [arn('bad')]: 'non-compliant',
      [arn('good')]: 'compliant',
      [arn('no-role')]: 'non-compliant',
      [arn('waived')]: 'exempt',
    });
    expect(result.reason).toBe(`swept 4 trail(s) in ${REGION}: 2 run(s) started`);
  });

  it('the same scheduled event (a retried invocation) asks for the same executions', async () => {
    await seedBrokenTrail(clients, 'bad');
    const first = recorder();
    const second = recorder();
    await sweep(first.start)(scheduled());
    await sweep(second.start)(scheduled());
    expect(second.requests).toEqual(first.requests);
  });

  it('a trail whose run cannot be started does not stop the others, and the sweep then fails visibly', async () => {
    await seedBrokenTrail(clients, 'bad-1');
    await seedBrokenTrail(clients, 'bad-2');
    const { requests, start } = recorder(arn('bad-1'));
    const error = await sweep(start)(scheduled()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SweepError);
    expect((error as Error).message).toContain(`${arn('bad-1')}: Error: StartExecution throttled for good`);
    expect((error as Error).message).toContain('1 execution(s) started');
    expect(requests.map((r) => r.input.trail)).toEqual([arn('bad-2')]);
  });

  it('an empty region: nothing to do', async () => {
    const { requests, start } = recorder();
    const result = await sweep(start)(scheduled());
    expect(requests).toEqual([]);
    expect(result).toMatchObject({
      trails: [],
      started: 0,
      reason: `swept 0 trail(s) in ${REGION}: 0 run(s) started`,
    });
  });
});

describe('the dependency fan-out', () => {
  it('DeleteLogGroup: one run per trail delivering to that log group, with the actor of the event', async () => {
    await seedCompliantTrail(clients, 'shared-1', { logGroupName: 'CloudTrail/shared' });
    await seedTrail(clients, 'shared-2', {
      logGroupName: 'CloudTrail/shared',
      breaks: { logGroupMissing: true },
    });
    await seedCompliantTrail(clients, 'other');
    const event = deleteLogGroup('CloudTrail/shared');
    const { requests, start } = recorder();
    const result = await sweep(start)(event);

    expect(requests.map((r) => r.input.trail)).toEqual([arn('shared-1'), arn('shared-2')]);
    for (const r of requests) {
      expect(r.input).toEqual({
        source: 'trailguard',
        kind: 'dependency',
        trail: r.input.trail,
        region: REGION,
        account: ACCOUNT,
        requestedBy: ACTOR,
        actorType: 'AssumedRole',
        eventName: 'DeleteLogGroup',
        eventSource: 'logs.amazonaws.com',
        eventId: event.detail.eventID,
        eventTime: '2026-11-27T12:00:58Z',
        sourceIp: '203.0.113.10',
        userAgent: 'aws-cli/2.22.0',
      });
      expect(r.name).toBe(executionName('dependency', event.detail.eventID, r.input.trail));
    }
    expect(result).toMatchObject({
      kind: 'dependency',
      change: { resource: 'log-group', name: 'CloudTrail/shared', eventName: 'DeleteLogGroup' },
      started: 2,
      reason: `2 trail(s) in ${REGION} use log group CloudTrail/shared: 2 run(s) started`,
    });
  });

  it('IAM changes: the trails whose delivery role it is (by name, any path)', async () => {
    await seedCompliantTrail(clients, 'trail-a', { roleName: 'ct-role', rolePath: '/service-role/' });
    await seedCompliantTrail(clients, 'trail-b');
    for (const eventName of ['DeleteRole', 'PutRolePolicy', 'DetachRolePolicy', 'UpdateAssumeRolePolicy']) {
      const { requests, start } = recorder();
      await sweep(start)(roleEvent(eventName, 'ct-role'));
      expect(
        requests.map((r) => [r.input.trail, r.input.eventName]),
        eventName,
      ).toEqual([[arn('trail-a'), eventName]]);
    }
  });

  it('a log group or role no trail uses: nothing started', async () => {
    await seedCompliantTrail(clients, 'trail-a');
    const { requests, start } = recorder();
    expect((await sweep(start)(deleteLogGroup('/aws/lambda/unrelated'))).reason).toBe(
      `no trail in ${REGION} uses log group /aws/lambda/unrelated`,
    );
    // IAM is global, but a single account without `regions` guards only the region its stack runs in: a role
    // change is looked for there (with `regions`, or in a hub, in every guarded region: cross-account and
    // local-organization tests).
    const role = await sweep(start)(roleEvent('DeleteRole', 'unrelated'));
    expect(role.reason).toBe(`no trail in ${REGION} uses role unrelated`);
    expect(role.regions).toEqual([REGION]);
    expect(requests).toEqual([]);
  });
});

describe('starting executions on Step Functions (moto)', () => {
  async function stateMachine(): Promise<string> {
    const out = await clients.sfn().send(
      new CreateStateMachineCommand({
        name: 'trailguard',
        roleArn: `arn:aws:iam::${ACCOUNT}:role/sfn`,
        definition: JSON.stringify({
          StartAt: 'Wait',
          States: { Wait: { Type: 'Wait', Seconds: 3600, End: true } },
        }),
      }),
    );
    if (!out.stateMachineArn) throw new Error('no state machine');
    return out.stateMachineArn;
  }

  it('protectExistingLogGroups: also starts a compliant trail whose log group is unprotected, not a protected one (deletion protection emulated at the SDK layer: moto lacks it)', async () => {
    const protection = new DeletionProtectionEmulation();
    const withProtection = protection.clients();
    await seedCompliantTrail(withProtection, 'unprotected');
    await seedCompliantTrail(withProtection, 'protected');
    protection.protect(REGION, 'CloudTrail/protected');
    const on = parseConfig({ protectExistingLogGroups: true });
    const { requests, start } = recorder();
    await sweepStep({ config: on, clients: withProtection, accountId: ACCOUNT }, start)(scheduled());
    expect(requests.map((r) => r.input.trail)).toEqual([arn('unprotected')]);
    // Off (the default), or notify-only: neither is started.
    const off = recorder();
    await sweepStep({ config, clients: withProtection, accountId: ACCOUNT }, off.start)(scheduled());
    const notifyOnly = recorder();
    await sweepStep(
      {
        config: parseConfig({ protectExistingLogGroups: true, mode: 'notify-only' }),
        clients: withProtection,
        accountId: ACCOUNT,
      },
      notifyOnly.start,
    )(scheduled());
    expect([...off.requests, ...notifyOnly.requests]).toEqual([]);
  });

  it('starts one named execution per non-compliant trail with the request as input; a duplicate starts nothing', async () => {
    const sm = await stateMachine();
    await seedBrokenTrail(clients, 'bad');
    await seedCompliantTrail(clients, 'good');
    const start = sfnExecutionStarter(clients, sm);
    const first = await sweep(start)(scheduled());
    expect(first).toMatchObject({ started: 1, duplicates: 0 });

    const { executions = [] } = await clients.sfn().send(new ListExecutionsCommand({ stateMachineArn: sm }));
    expect(executions.map((e) => e.name)).toEqual([executionName('sweep', scheduled().id, arn('bad'))]);
    const described = await clients
      .sfn()
      .send(new DescribeExecutionCommand({ executionArn: executions[0]?.executionArn }));
    expect(JSON.parse(described.input ?? '{}')).toEqual({
      source: 'trailguard',
      kind: 'sweep',
      trail: arn('bad'),
      region: REGION,
      account: ACCOUNT,
      requestedBy: RULE_ARN,
    });
    expect(first.trails.find((t) => t.trail === arn('bad'))?.execution).toEqual({
      name: executions[0]?.name,
      executionArn: executions[0]?.executionArn,
      started: true,
    });

    // The same event again (Lambda's async retry): no second execution.
    await sweep(start)(scheduled());
    const again = await clients.sfn().send(new ListExecutionsCommand({ stateMachineArn: sm }));
    expect(again.executions).toHaveLength(1);
  });

  it('the Lambda entry reads the state machine from its environment and starts executions there', async () => {
    const sm = await stateMachine();
    await seedBrokenTrail(clients, 'bad');
    const env: Record<string, string> = {
      TRAILGUARD_MODE: 'remediate',
      TRAILGUARD_LOG_GROUP_NAME_TEMPLATE: 'CloudTrail/{trail}',
      TRAILGUARD_RETENTION_DAYS: '365',
      TRAILGUARD_DELIVERY_ROLE_NAME: 'trailguard-cloudtrail-delivery',
      TRAILGUARD_EXEMPT_TAG_KEY: 'trailguard:exempt',
      TRAILGUARD_EXEMPT_TAG_VALUE: 'true',
      TRAILGUARD_TOPIC_ARN: `arn:aws:sns:${REGION}:${ACCOUNT}:trailguard-notifications`,
      TRAILGUARD_AUDIT_TABLE: 'trailguard-audit',
      TRAILGUARD_ACCOUNT_ID: ACCOUNT,
      TRAILGUARD_STATE_MACHINE_ARN: sm,
    };
    for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
    try {
      const { handler } = await import('../../services/handlers/sweep.js');
      const context = lambdaContext('sweep', `arn:aws:lambda:${REGION}:${ACCOUNT}:function:sweep`, 120_000);
      const result = (await handler(scheduled(), context)) as { started: number };
      expect(result.started).toBe(1);
      const { executions = [] } = await clients
        .sfn()
        .send(new ListExecutionsCommand({ stateMachineArn: sm }));
      expect(executions.map((e) => e.name)).toEqual([executionName('sweep', scheduled().id, arn('bad'))]);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('an unknown state machine is a permanent ExecutionStartError, reported by the sweep', async () => {
    await seedBrokenTrail(clients, 'bad');
    const start = sfnExecutionStarter(clients, `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:missing`);
    await expect(sweep(start)(scheduled())).rejects.toThrow(/ExecutionStartError: StartExecution sweep-/);
  });
});

describe('in process: replay and the local sweep run the synthesized workflow per trail', () => {
  const TABLE = 'trailguard-audit';
  beforeEach(async () => {
    await ensureTopic(clients, 'trailguard-notifications');
    await ensureAuditTable(clients, TABLE);
    await ensureStateTable(clients, localStateTableName({ auditTableName: TABLE }));
  });

  it('replaying a DeleteLogGroup runs the workflow for every trail that delivered there', async () => {
    await seedCompliantTrail(clients, 'shared-1', { logGroupName: 'CloudTrail/shared' });
    await seedTrail(clients, 'shared-2', {
      logGroupName: 'CloudTrail/shared',
      breaks: { logGroupMissing: true },
    });
    await clients.logs(REGION).send(new DeleteLogGroupCommand({ logGroupName: 'CloudTrail/shared' }));

    const result = await replayEvent(deleteLogGroup('CloudTrail/shared'), { clients, ownRoleArn: OWN });
    expect(result.outcome, result.reason).toBe('remediated');
    expect(result.trail).toBe(arn('shared-1'));
    // Locally the runs are sequential: the first recreates the shared log group, so the second finds its trail
    // compliant and ends quietly (deployed, they run concurrently and both tolerate the other's creation).
    expect(result.runs?.map((r) => [r.trail, r.outcome])).toEqual([
      [arn('shared-1'), 'remediated'],
      [arn('shared-2'), 'compliant'],
    ]);
    expect(result.findings).toEqual(['LOG_GROUP_MISSING']);
    expect(result.actions.map((a) => a.api)).toEqual(['CreateLogGroup', 'PutRetentionPolicy']);
    expect(result.reason).toBe(`2 trail(s) in ${REGION} use log group CloudTrail/shared: 2 run(s) started`);

    const mails = await emulatorNotifications();
    expect(mails).toHaveLength(1);
    expect(mails[0]?.subject).toBe(`[trailguard] REMEDIATED: trail shared-1 (${REGION})`);
    expect(mails[0]?.message).toContain('DeleteLogGroup (logs.amazonaws.com)');
    expect(mails[0]?.message).toContain(ACTOR);
    expect(mails[0]?.message).toContain('203.0.113.10');
    const records = await listAuditRecords(clients, TABLE, { trail: arn('shared-1') });
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ outcome: 'remediated', actor: { arn: ACTOR } });

    const json = resultJson(result);
    expect(json.runs).toEqual(
      result.runs?.map((r) =>
        expect.objectContaining({
          outcome: r.outcome,
          trail: r.trail,
          findings: r.findings,
          actions: r.actions,
        }),
      ),
    );
  });

  it('replaying a DeleteRole of an unmanaged delivery role points the trail at the guardrail role', async () => {
    await seedCompliantTrail(clients, 'main');
    await clients
      .iam()
      .send(new DeleteRolePolicyCommand({ RoleName: 'main-delivery', PolicyName: 'cloudtrail-delivery' }));
    await clients.iam().send(new DeleteRoleCommand({ RoleName: 'main-delivery' }));

    const result = await replayEvent(roleEvent('DeleteRole', 'main-delivery'), { clients, ownRoleArn: OWN });
    expect(result.outcome, result.reason).toBe('remediated');
    expect(result.runs).toHaveLength(1);
    expect(result.findings).toEqual(['ROLE_MISSING']);
    expect(result.runs?.[0]?.context?.after?.state.trail.cloudWatchLogsRoleArn).toBe(
      `arn:aws:iam::${ACCOUNT}:role/trailguard-cloudtrail-delivery`,
    );
  });

  it('a change to a role no trail uses: compliant, nothing run, nothing sent', async () => {
    await seedCompliantTrail(clients, 'main');
    const result = await replayEvent(roleEvent('PutRolePolicy', 'unrelated'), { clients, ownRoleArn: OWN });
    expect(result).toMatchObject({
      outcome: 'compliant',
      trail: null,
      findings: [],
      actions: [],
      runs: [],
    });
    // A single account without `regions`: its own region only.
    expect(result.reason).toContain(`no trail in ${REGION} uses role unrelated`);
    expect(await emulatorNotifications()).toEqual([]);
  });

  it("the guardrail's own role change is ignored by the rule", async () => {
    const event = roleEvent('PutRolePolicy', 'main-delivery');
    event.detail.userIdentity.sessionContext.sessionIssuer.arn = OWN;
    expect((await replayEvent(event, { clients, ownRoleArn: OWN })).outcome).toBe('ignored');
  });

  it('the local sweep remediates the broken trail and leaves the compliant one alone', async () => {
    await seedCompliantTrail(clients, 'good');
    await seedBrokenTrail(clients, 'bad');
    const result = await sweepLocally({ clients });
    expect(result.outcome, result.reason).toBe('remediated');
    expect(result.runs?.map((r) => [r.trail, r.outcome])).toEqual([[arn('bad'), 'remediated']]);
    const mails = await emulatorNotifications();
    expect(mails).toHaveLength(1);
    expect(mails[0]?.message).toContain('the scheduled sweep');
  });

  it('the most severe outcome wins', () => {
    expect(mostSevere(['compliant', 'skipped', 'remediated'])).toBe('remediated');
    expect(mostSevere(['remediated', 'failed'])).toBe('failed');
    expect(mostSevere(['skipped', 'notified'])).toBe('notified');
    expect(mostSevere([])).toBe('compliant');
  });
});
