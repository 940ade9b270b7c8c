/**
 * Races, duplicates, loops and tampering, through the real synthesized workflow against moto:
 * - races: 20+ simultaneous runs on one trail, and on trails sharing a log group or the delivery role, end
 *   compliant (read back independently) with no duplicate resources, no run failing on "already exists",
 *   and no trail losing a grant another trail's fix (or its administrator) added;
 * - duplicates: the same event delivered twice fixes once; the second run is `compliant`, writes nothing and
 *   adds no audit record;
 * - loops: the guardrail's own UpdateTrail / StartLogging events (built from the actions a run really made,
 *   made by the guardrail's role) do not match the rule, and even if they did, the chain fix -> own events ->
 *   run ends within two steps; an administrator's events after a fix start only a quiet `compliant` run;
 *   someone stopping logging again and again gets it restarted and named in an email each time;
 * - tampering with the delivery role or the log group: the events of the change start a fix (fan-out to the
 *   trails that use them), and when an event is lost the scheduled sweep is the backstop.
 */
import { GetTrailCommand, StopLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { DeleteLogGroupCommand, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateRoleCommand,
  DeleteRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { beforeEach, describe, expect, it } from 'vitest';
import { matchesEventPattern } from '../../../services/domain/event-pattern.js';
import { parseCloudTrailEvent } from '../../../services/domain/events.js';
import {
  type ReplayResult,
  remediateTrail,
  replayEvent,
  sweepLocally,
} from '../../../services/local/replay.js';
import { ruleEventPattern, synthesizeApp } from '../../../services/local/workflow-runner.js';
import { ACCOUNT, REGION, testClients } from '../../support/aws.js';
import { FaultInjector } from '../../support/faults.js';
import { independentProblems } from '../../support/independent-check.js';
import { seedBrokenTrail, seedCompliantTrail, seedTrail } from '../../support/seed.js';
import {
  ADMIN_ROLE,
  auditItems,
  cloudTrailEvent,
  freshGuardrail,
  mails,
  OWN_ROLE,
  ownEvents,
} from './harness.js';

const DELIVERY_ROLE = 'trailguard-cloudtrail-delivery';
const clients = testClients();

beforeEach(freshGuardrail);

function replay(event: unknown, options: Parameters<typeof replayEvent>[1] = {}): Promise<ReplayResult> {
  return replayEvent(event, { clients: testClients(), ownRoleArn: OWN_ROLE, ...options });
}

async function logGroupNames(prefix = ''): Promise<string[]> {
  const out = await clients
    .logs(REGION)
    .send(new DescribeLogGroupsCommand({ logGroupNamePrefix: prefix || undefined }));
  return (out.logGroups ?? []).map((g) => g.logGroupName ?? '').sort();
}

async function roleNames(): Promise<string[]> {
  const out = await clients.iam().send(new ListRolesCommand({}));
  return (out.Roles ?? []).map((r) => r.RoleName ?? '').sort();
}

async function inlinePolicies(role: string): Promise<Record<string, unknown>> {
  const iam = clients.iam();
  const names = (await iam.send(new ListRolePoliciesCommand({ RoleName: role }))).PolicyNames ?? [];
  const out: Record<string, unknown> = {};
  for (const name of names) {
    const doc =
      (await iam.send(new GetRolePolicyCommand({ RoleName: role, PolicyName: name }))).PolicyDocument ?? '';
    out[name] = JSON.parse(doc.startsWith('{') ? doc : decodeURIComponent(doc));
  }
  return out;
}

async function trustStatements(
  role: string,
): Promise<{ Sid?: string; Principal?: unknown; Condition?: unknown }[]> {
  const doc =
    (await clients.iam().send(new GetRoleCommand({ RoleName: role }))).Role?.AssumeRolePolicyDocument ?? '';
  return (
    JSON.parse(doc.startsWith('{') ? doc : decodeURIComponent(doc)) as { Statement: { Sid?: string }[] }
  ).Statement;
}

function outcomes(results: ReplayResult[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of results) counts[r.outcome] = (counts[r.outcome] ?? 0) + 1;
  return counts;
}

function expectNoFailures(results: ReplayResult[]) {
  for (const r of results)
    expect(['remediated', 'compliant'], `${r.outcome}: ${r.reason}`).toContain(r.outcome);
  expect(results.some((r) => r.outcome === 'remediated')).toBe(true);
}

describe('races', () => {
  it('24 simultaneous runs on one broken trail (events and manual requests): compliant, one of everything', async () => {
    await seedBrokenTrail(clients, 'main');
    const results = await Promise.all([
      ...Array.from({ length: 16 }, (_, i) =>
        replay(cloudTrailEvent(i % 2 ? 'StopLogging' : 'UpdateTrail', 'main')),
      ),
      ...Array.from({ length: 8 }, () =>
        remediateTrail('main', REGION, { clients: testClients(), requestedBy: ADMIN_ROLE }),
      ),
    ]);
    expectNoFailures(results);
    expect(await independentProblems('main')).toEqual([]);
    expect(await logGroupNames('CloudTrail/')).toEqual(['CloudTrail/main']);
    expect((await roleNames()).filter((r) => r.startsWith('trailguard'))).toEqual([DELIVERY_ROLE]);
    expect(Object.keys(await inlinePolicies(DELIVERY_ROLE))).toHaveLength(1);
    expect(await trustStatements(DELIVERY_ROLE)).toHaveLength(1);
    // Every run that said "remediated" emailed and audited once; the others ended quietly.
    const remediated = outcomes(results).remediated ?? 0;
    expect((await mails()).map((m) => m.subject)).toEqual(
      Array.from({ length: remediated }, () => `[trailguard] REMEDIATED: trail main (${REGION})`),
    );
    const items = await auditItems();
    expect(items.map((i) => i.outcome)).toEqual(Array.from({ length: remediated }, () => 'remediated'));
    expect(new Set(items.map((i) => i.executionId)).size).toBe(items.length);
  });

  it('6 trails sharing the delivery role, 3 runs each at once: one shared grant serves them all', async () => {
    const trails = Array.from({ length: 6 }, (_, i) => `trail-${i}`);
    for (const t of trails) await seedBrokenTrail(clients, t);
    const results = await Promise.all(
      trails.flatMap((t) => [0, 1, 2].map(() => replay(cloudTrailEvent('StopLogging', t)))),
    );
    expectNoFailures(results);
    for (const t of trails) expect(await independentProblems(t), t).toEqual([]);
    expect((await roleNames()).filter((r) => r.startsWith('trailguard'))).toEqual([DELIVERY_ROLE]);
    // One grant whatever the number of trails: CloudTrail's streams of the template's log groups.
    expect(await inlinePolicies(DELIVERY_ROLE)).toEqual({
      [DELIVERY_ROLE]: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'TrailguardCloudTrailDelivery',
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: [`arn:aws:logs:*:${ACCOUNT}:log-group:CloudTrail/*:log-stream:${ACCOUNT}_CloudTrail_*`],
          },
        ],
      },
    });
    // One trust statement for every trail, with no condition: AWS does not support aws:SourceArn or
    // aws:SourceAccount on a CloudWatch Logs delivery role (CloudTrail does not send them).
    const trust = await trustStatements(DELIVERY_ROLE);
    expect(trust).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: 'sts:AssumeRole',
      }),
    ]);
    expect(trust[0]?.Condition).toBeUndefined();
    expect(await logGroupNames('CloudTrail/')).toEqual(trails.map((t) => `CloudTrail/${t}`).sort());
  });

  it('5 trails sharing one log group (configured template without {trail}), 3 runs each at once', async () => {
    const config = { logGroupNameTemplate: 'CloudTrail/shared' };
    const trails = Array.from({ length: 5 }, (_, i) => `shared-${i}`);
    for (const t of trails) await seedBrokenTrail(clients, t);
    const results = await Promise.all(
      trails.flatMap((t) => [0, 1, 2].map(() => replay(cloudTrailEvent('UpdateTrail', t), { config }))),
    );
    expectNoFailures(results);
    for (const t of trails) expect(await independentProblems(t), t).toEqual([]);
    expect(await logGroupNames('CloudTrail/')).toEqual(['CloudTrail/shared']);
    expect(Object.keys(await inlinePolicies(DELIVERY_ROLE))).toHaveLength(1);
    for (const t of trails) {
      const { Trail } = await clients.cloudTrail(REGION).send(new GetTrailCommand({ Name: t }));
      expect(Trail?.CloudWatchLogsLogGroupArn).toBe(
        `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:CloudTrail/shared:*`,
      );
    }
  });

  it("a shared role with an administrator's grant and statements, and a trust AWS would refuse: the fix keeps every statement", async () => {
    // The administrator's trail uses the guardrail's role name with their own inline grant and trust statement.
    const admins = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'Ec2ForSomethingElse',
          Effect: 'Allow',
          Principal: { Service: 'ec2.amazonaws.com' },
          Action: 'sts:AssumeRole',
        },
        {
          // Pinned to one trail: CloudTrail does not send aws:SourceArn for delivery, so this never matches.
          Sid: 'PinnedToAlpha',
          Effect: 'Allow',
          Principal: { Service: 'cloudtrail.amazonaws.com' },
          Action: 'sts:AssumeRole',
          Condition: {
            ArnEquals: { 'aws:SourceArn': `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/alpha` },
          },
        },
      ],
    });
    await clients
      .iam()
      .send(new CreateRoleCommand({ RoleName: DELIVERY_ROLE, AssumeRolePolicyDocument: admins }));
    await seedTrail(clients, 'alpha', { roleName: DELIVERY_ROLE, breaks: { roleMissing: true } });
    // roleMissing only skips creating the role in the seed: give alpha the administrator's grant by hand.
    await clients.iam().send(
      new PutRolePolicyCommand({
        RoleName: DELIVERY_ROLE,
        PolicyName: 'admin-grant-alpha',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              Resource: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:CloudTrail/alpha:log-stream:*`,
            },
          ],
        }),
      }),
    );
    await seedBrokenTrail(clients, 'beta');
    const results = await Promise.all([
      ...Array.from({ length: 6 }, () => replay(cloudTrailEvent('StopLogging', 'beta'))),
      ...Array.from({ length: 6 }, () => replay(cloudTrailEvent('UpdateTrail', 'alpha'))),
    ]);
    expectNoFailures(results);
    expect(await independentProblems('alpha')).toEqual([]);
    expect(await independentProblems('beta')).toEqual([]);
    const policies = await inlinePolicies(DELIVERY_ROLE);
    expect(Object.keys(policies)).toContain('admin-grant-alpha');
    const trust = await trustStatements(DELIVERY_ROLE);
    // Every statement of the administrator's kept, exactly one guardrail statement added.
    expect(trust.map((s) => s.Sid).sort()).toEqual([
      'Ec2ForSomethingElse',
      'PinnedToAlpha',
      'TrailguardAllowCloudTrail',
    ]);
  });
});

describe('duplicates', () => {
  it('the same event delivered twice: one fix, the second run compliant and silent, one audit record', async () => {
    await seedBrokenTrail(clients, 'main');
    const event = cloudTrailEvent('StopLogging', 'main');
    const first = await replay(event);
    const injector = new FaultInjector();
    const second = await replay(structuredClone(event), { clients: injector.clients() });
    expect(first.outcome).toBe('remediated');
    expect(second.outcome).toBe('compliant');
    expect(second.actions).toEqual([]);
    expect(injector.writes()).toEqual([]);
    expect(await auditItems()).toHaveLength(1);
    expect(await mails()).toHaveLength(1);
    expect(await independentProblems('main')).toEqual([]);
  });

  it('a duplicate delivered while the first run is still going: still one set of resources, no failure', async () => {
    await seedBrokenTrail(clients, 'main');
    const event = cloudTrailEvent('StopLogging', 'main');
    const results = await Promise.all([replay(event), replay(structuredClone(event))]);
    expectNoFailures(results);
    expect(await independentProblems('main')).toEqual([]);
    expect(Object.keys(await inlinePolicies(DELIVERY_ROLE))).toHaveLength(1);
    const items = await auditItems();
    expect(items.length).toBe(outcomes(results).remediated ?? 0);
  });
});

describe('loops', () => {
  it("the guardrail's own UpdateTrail and StartLogging events do not match the rule", async () => {
    await seedBrokenTrail(clients, 'main');
    const fix = await replay(cloudTrailEvent('StopLogging', 'main'));
    expect(fix.outcome).toBe('remediated');
    const own = ownEvents(fix.actions, OWN_ROLE);
    expect(own.map((e) => e.detail.eventName)).toEqual(['UpdateTrail', 'StartLogging']);
    const pattern = await ruleEventPattern(OWN_ROLE);
    for (const event of own) {
      expect(matchesEventPattern(pattern, parseCloudTrailEvent(event))).toBe(false);
      const injector = new FaultInjector();
      const result = await replay(event, { clients: injector.clients() });
      expect(result.outcome).toBe('ignored');
      expect(injector.calls).toEqual([]);
    }
    expect(await mails()).toHaveLength(1);
  });

  it('fix, then replay its own events, repeatedly: the chain ends within two steps even without the exclusion', async () => {
    for (const excluded of [true, false]) {
      await freshGuardrail();
      await seedBrokenTrail(clients, 'main');
      // Without the exclusion, the rule is told the guardrail's role is some other role.
      const ownRoleArn = excluded ? OWN_ROLE : `arn:aws:iam::${ACCOUNT}:role/not-the-guardrail`;
      let pending: unknown[] = [cloudTrailEvent('StopLogging', 'main')];
      const byStep: string[][] = [];
      while (pending.length > 0) {
        expect(byStep.length, 'the chain must end').toBeLessThan(3);
        const next: unknown[] = [];
        const seen: string[] = [];
        for (const event of pending) {
          const result = await replay(event, { ownRoleArn });
          seen.push(result.outcome);
          next.push(...ownEvents(result.actions, OWN_ROLE));
        }
        byStep.push(seen);
        pending = next;
      }
      // Step 1 fixes; step 2 is the fix's own events: ignored by the rule, or (without the exclusion) runs that
      // find the trail compliant and change nothing, so there is no step 3.
      expect(byStep).toHaveLength(2);
      expect(byStep[0]).toEqual(['remediated']);
      expect(byStep[1]).toHaveLength(2);
      if (excluded) expect(byStep[1]).toEqual(['ignored', 'ignored']);
      else {
        expect(byStep[1]?.every((o) => o === 'compliant' || o === 'ignored')).toBe(true);
        expect(byStep[1]).toContain('compliant');
      }
      expect(await independentProblems('main')).toEqual([]);
      expect(await mails(), 'one email per real fix').toHaveLength(1);
      expect(await auditItems()).toHaveLength(1);
    }
  });

  it('spoofing: every rule of the stack matches only aws.* sources, which custom PutEvents cannot use', async () => {
    const { template } = await synthesizeApp();
    const patterns = Object.values(template.Resources)
      .filter((r) => r.Type === 'AWS::Events::Rule' && r.Properties?.EventPattern !== undefined)
      .map((r) => r.Properties?.EventPattern as { source?: unknown });
    expect(patterns.length).toBeGreaterThan(0);
    for (const pattern of patterns) {
      expect(Array.isArray(pattern.source) && pattern.source.length > 0).toBe(true);
      for (const source of pattern.source as unknown[]) expect(String(source)).toMatch(/^aws\.[a-z0-9-]+$/);
    }
    // A look-alike from a custom source is refused by the parser even if it reached the workflow.
    const spoofed = { ...cloudTrailEvent('StopLogging', 'main'), source: 'aws-cloudtrail.custom' };
    await expect(replay(spoofed)).rejects.toThrow(/aws\.\* event source/);
  });

  it("an administrator's harmless events after a fix start only a quiet compliant run", async () => {
    await seedBrokenTrail(clients, 'main');
    await replay(cloudTrailEvent('StopLogging', 'main'));
    for (const name of ['UpdateTrail', 'CreateTrail', 'StopLogging', 'StartLogging']) {
      const injector = new FaultInjector();
      const result = await replay(cloudTrailEvent(name, 'main'), { clients: injector.clients() });
      // StartLogging cannot break the integration: the rule may ignore it.
      expect(name === 'StartLogging' ? ['compliant', 'ignored'] : ['compliant'], name).toContain(
        result.outcome,
      );
      expect(injector.writes(), name).toEqual([]);
    }
    expect(await mails()).toHaveLength(1);
    expect(await auditItems()).toHaveLength(1);
  });

  it('someone stopping logging again and again: restarted each time, named in each email, each run bounded', async () => {
    await seedCompliantTrail(clients, 'main');
    for (let i = 1; i <= 5; i++) {
      await clients.cloudTrail(REGION).send(new StopLoggingCommand({ Name: 'main' }));
      const result = await replay(
        cloudTrailEvent('StopLogging', 'main', { session: `mallory-${i}`, sourceIp: `198.51.100.${i}` }),
      );
      expect(result.outcome).toBe('remediated');
      expect(result.actions.map((a) => a.api)).toEqual(['StartLogging']);
      expect(result.transitions ?? 0).toBeLessThanOrEqual(12);
      expect(await independentProblems('main')).toEqual([]);
      const mail = (await mails()).at(-1);
      expect(mail?.message).toContain(`arn:aws:sts::${ACCOUNT}:assumed-role/Admin/mallory-${i}`);
      expect(mail?.message).toContain(`198.51.100.${i}`);
    }
    expect(await mails()).toHaveLength(5);
    expect(await auditItems()).toHaveLength(5);
  });
});

describe('tampering with the delivery role or the log group', () => {
  async function fixed(trail = 'main') {
    await seedBrokenTrail(clients, trail);
    expect((await replay(cloudTrailEvent('StopLogging', trail))).outcome).toBe('remediated');
    expect(await independentProblems(trail)).toEqual([]);
  }

  it('the log group deleted: its DeleteLogGroup event starts a fix that names the actor', async () => {
    await fixed();
    await clients.logs(REGION).send(new DeleteLogGroupCommand({ logGroupName: 'CloudTrail/main' }));
    expect(await independentProblems('main')).not.toEqual([]);
    const event = cloudTrailEvent('DeleteLogGroup', 'main', {
      service: 'logs',
      session: 'mallory',
      requestParameters: { logGroupName: 'CloudTrail/main' },
    });
    const result = await replay(event);
    expect(result.outcome, result.reason).toBe('remediated');
    expect(await independentProblems('main')).toEqual([]);
    expect((await mails()).at(-1)?.message).toContain(`arn:aws:sts::${ACCOUNT}:assumed-role/Admin/mallory`);
  });

  it("the delivery role's grant deleted: its DeleteRolePolicy event starts a fix", async () => {
    await fixed();
    const [policyName] = Object.keys(await inlinePolicies(DELIVERY_ROLE));
    await clients
      .iam()
      .send(new DeleteRolePolicyCommand({ RoleName: DELIVERY_ROLE, PolicyName: policyName }));
    expect(await independentProblems('main')).not.toEqual([]);
    const event = cloudTrailEvent('DeleteRolePolicy', 'main', {
      service: 'iam',
      requestParameters: { roleName: DELIVERY_ROLE, policyName },
    });
    const result = await replay(event);
    expect(result.outcome, result.reason).toBe('remediated');
    expect(await independentProblems('main')).toEqual([]);
  });

  it('a change whose event never arrives (EventBridge delivery is best effort): the sweep repairs it', async () => {
    await fixed('main');
    await fixed('other');
    await clients.iam().send(
      new UpdateAssumeRolePolicyCommand({
        RoleName: DELIVERY_ROLE,
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' },
          ],
        }),
      }),
    );
    await clients.cloudTrail(REGION).send(new StopLoggingCommand({ Name: 'other' }));
    expect(await independentProblems('main')).not.toEqual([]);
    const result = await sweepLocally({ clients: testClients(), region: REGION });
    expect(result.outcome, result.reason).toBe('remediated');
    expect(await independentProblems('main')).toEqual([]);
    expect(await independentProblems('other')).toEqual([]);
  });
});
