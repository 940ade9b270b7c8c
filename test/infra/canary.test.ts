/**
 * The deployed canary (config.canary): off by default; when on, a schedule starting a Standard state machine
 * with Wait states, a canary role scoped to trailguard-canary-* and trusted only by the canary function's role,
 * the metric names, and an alarm per region with missing data breaching. cdk-nag stays clean.
 */

import { Stack } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app.js';
import { canaryRoleStatements } from '../../infra/constructs/canary.js';
import { parseConfig } from '../../policies/config.js';
import { CIS_CONTROLS, cisAlarmName } from '../../services/domain/cis-monitoring.js';
import { type CfnResource, idsOfType, type Synth, synth } from './template.js';

const CANARY = { schedule: 'rate(1 day)', timeoutMinutes: 15 } as const;
let s: Synth;
let resources: Record<string, CfnResource>;
beforeAll(() => {
  s = synth({ config: { canary: CANARY } });
  resources = s.resources;
});

const canaryIds = (type: string) => idsOfType(resources, type).filter((id) => id.startsWith('Canary'));
const one = (type: string) => {
  const ids = canaryIds(type);
  expect(ids, type).toHaveLength(1);
  return { id: ids[0] as string, r: resources[ids[0] as string] as CfnResource };
};

/** The state machine's definition: its Fn::Join parts with every token as "X". */
function definition(): { States: Record<string, Record<string, unknown>>; TimeoutSeconds?: number } {
  const body = one('AWS::StepFunctions::StateMachine').r.Properties.DefinitionString as {
    'Fn::Join': [string, unknown[]];
  };
  return JSON.parse(body['Fn::Join'][1].map((p) => (typeof p === 'string' ? p : 'X')).join(''));
}

describe('deployed canary', () => {
  it('is off by default: no canary resource', () => {
    const plain = synth();
    expect(Object.keys(plain.resources).filter((id) => id.startsWith('Canary'))).toEqual([]);
  });

  it('the schedule starts the canary state machine with its targets (default: the stack’s account and region)', () => {
    const rule = one('AWS::Events::Rule').r.Properties as {
      ScheduleExpression: string;
      Targets: Record<string, unknown>[];
    };
    const machine = one('AWS::StepFunctions::StateMachine');
    expect(rule.ScheduleExpression).toBe('rate(1 day)');
    expect(rule.Targets).toHaveLength(1);
    expect(rule.Targets[0]).toMatchObject({ Arn: { Ref: machine.id } });
    // One target per account and region: the stack's own account and region by default.
    expect(JSON.stringify(rule.Targets[0]?.Input)).toMatch(/targets.*account.*region/);
  });

  it('a Standard workflow: a Map over the regions, each a Map over the four breaks, waiting between re-reads', () => {
    const machine = one('AWS::StepFunctions::StateMachine').r.Properties as { StateMachineType?: string };
    expect(machine.StateMachineType ?? 'STANDARD').toBe('STANDARD');
    const top = definition();
    const regions = top.States.Regions as {
      Type: string;
      MaxConcurrency: number;
      ItemProcessor: { StartAt: string; States: Record<string, Record<string, unknown>> };
    };
    expect(regions.Type).toBe('Map');
    expect(regions.ItemProcessor.StartAt).toBe('Setup');
    const breaks = regions.ItemProcessor.States.Breaks as {
      ItemProcessor: { States: Record<string, Record<string, unknown>> };
      MaxConcurrency: number;
    };
    expect(breaks.MaxConcurrency).toBe(1);
    const inner = breaks.ItemProcessor.States;
    expect(inner.WaitForFix).toMatchObject({ Type: 'Wait', Seconds: 30, Next: 'Check' });
    expect(inner.Check).toMatchObject({ Type: 'Task', Next: 'Fixed' });
    expect(inner.Fixed).toMatchObject({ Type: 'Choice', Default: 'WaitForFix' });
    // Found fixed: one object, then its data event looked for in CloudWatch Logs, waiting between looks.
    expect(inner.Verified).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.check.case.fixed', BooleanEquals: true, Next: 'Probe' }],
      Default: 'CaseDone',
    });
    expect(inner.Probe).toMatchObject({ Type: 'Task', Next: 'WaitForDelivery' });
    expect(inner.WaitForDelivery).toMatchObject({ Type: 'Wait', Seconds: 30, Next: 'ConfirmDelivery' });
    expect(inner.ConfirmDelivery).toMatchObject({ Type: 'Task', Next: 'Delivered' });
    expect(inner.Delivered).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.delivery.done', BooleanEquals: true, Next: 'CaseDelivered' }],
      Default: 'WaitForDelivery',
    });
    expect(inner.CaseDelivered).toMatchObject({ Type: 'Pass', End: true });
    expect(regions.ItemProcessor.States.Setup).toMatchObject({
      Catch: [expect.objectContaining({ Next: 'FinishSetupFailed' })],
    });
    expect(breaks).toMatchObject({ Catch: [expect.objectContaining({ Next: 'FinishAfterError' })] });
    expect(top.States.CanaryFailed).toMatchObject({ Type: 'Fail', Error: 'TrailguardCanaryNotFixed' });
    // The four breaks of up to 15 minutes and the setup fit in the execution's timeout.
    expect(Number(top.TimeoutSeconds ?? 0)).toBeGreaterThanOrEqual(4 * 15 * 60);
  });

  it('the canary role: trusted only by the canary function’s role; every write scoped to trailguard-canary-*', () => {
    const fnRole = canaryIds('AWS::IAM::Role').find((id) => id.startsWith('CanaryFunctionRole'));
    const role = canaryIds('AWS::IAM::Role').find((id) => id.startsWith('CanaryCanaryRole'));
    expect(resources[role as string]?.Properties.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { AWS: { 'Fn::GetAtt': [fnRole, 'Arn'] } } },
      ],
    });
    const policy = Object.values(resources).find(
      (r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(role as string),
    );
    if (!policy) throw new Error('no policy on the canary role');
    const statements = (
      policy.Properties.PolicyDocument as {
        Statement: { Sid: string; Action: string | string[]; Resource: unknown }[];
      }
    ).Statement;
    const flat = (v: unknown) => JSON.stringify(v);
    const writes = /:(Create|Update|Delete|Start|Stop|Put|Detach|Pass)/;
    for (const st of statements) {
      const actions = Array.isArray(st.Action) ? st.Action : [st.Action];
      if (!actions.some((a) => writes.test(a))) continue;
      if (st.Sid === 'DeliveryRoleCanaryGrant') {
        // The one write outside the prefix: removing the grant the fix put on the delivery role for the canary.
        expect(actions.filter((a) => writes.test(a))).toEqual(['iam:DeleteRolePolicy']);
        expect(flat(st.Resource)).toContain(':role/trailguard-cloudtrail-delivery');
        continue;
      }
      expect(flat(st.Resource), st.Sid).toMatch(/trailguard-canary/);
      expect(flat(st.Resource), st.Sid).not.toMatch(/:trail\/\*"|:role\/\*"|log-group:\*"/);
    }
    expect(statements.find((st) => st.Sid === 'CanaryLogGroups')?.Resource).toEqual([
      expect.objectContaining({ 'Fn::Join': expect.anything() }),
      expect.objectContaining({ 'Fn::Join': expect.anything() }),
    ]);
    expect(flat(statements.find((st) => st.Sid === 'CanaryLogGroups')?.Resource)).toContain(
      'log-group:CloudTrail/trailguard-canary-*',
    );
    // The spokes' canary role matches role/trailguard-canary-*: the hub's canary role may do no IAM action on it.
    expect(statements.find((st) => st.Sid === 'NotItself')).toMatchObject({
      Effect: 'Deny',
      Action: 'iam:*',
      Resource: expect.objectContaining({ 'Fn::Join': expect.anything() }),
    });
    expect(flat(statements.find((st) => st.Sid === 'NotItself')?.Resource)).toContain(
      ':role/trailguard-canary-access',
    );
    // The proof of delivery reads the canary's log groups only.
    expect(statements.find((st) => st.Sid === 'CanaryLogGroups')?.Action).toContain('logs:FilterLogEvents');
    expect(
      statements.filter((st) => flat(st.Action).includes('logs:FilterLogEvents')).map((st) => st.Sid),
    ).toEqual(['CanaryLogGroups']);
  });

  it("the canary's roles are not among the roles the stack's rules exclude as the guardrail's own", () => {
    const patterns = Object.values(resources)
      .filter((r) => r.Type === 'AWS::Events::Rule' && r.Properties.EventPattern !== undefined)
      .map((r) => JSON.stringify(r.Properties.EventPattern));
    expect(patterns.length).toBeGreaterThan(0);
    for (const pattern of patterns) {
      expect(pattern).not.toMatch(/CanaryCanaryRole|CanaryFunctionRole|trailguard-canary/);
    }
  });

  it('metrics CanaryFixed and TimeToRemediate; an alarm per region on CanaryFixed, missing data breaching, emailing the topic', () => {
    const alarms = canaryIds('AWS::CloudWatch::Alarm').map(
      (id) => resources[id]?.Properties as Record<string, unknown>,
    );
    expect(alarms).toHaveLength(1);
    const topic = idsOfType(resources, 'AWS::SNS::Topic')[0];
    expect(alarms[0]).toMatchObject({
      Namespace: 'Trailguard',
      MetricName: 'CanaryFixed',
      Statistic: 'Minimum',
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
      EvaluationPeriods: 1,
      // Two schedule intervals of a day.
      Period: 2 * 86_400,
      AlarmActions: [{ Ref: topic }],
    });
    expect(JSON.stringify(alarms[0]?.Dimensions)).toMatch(
      /"Name":"account".*"Name":"region".*"Name":"service"|"Name":"service"/,
    );
    expect(JSON.stringify(alarms[0]?.AlarmDescription)).toMatch(
      /trailguard did not fix its canary in .* within 15 minutes/,
    );
  });

  it('configuration: a rate expression; a schedule too short for four breaks is refused', () => {
    expect(parseConfig({ canary: {} }).canary).toEqual({ schedule: 'rate(1 day)', timeoutMinutes: 15 });
    expect(() => parseConfig({ canary: { schedule: 'cron(0 3 * * ? *)' } })).toThrow(/rate expression/);
    expect(() => parseConfig({ canary: { schedule: 'rate(30 minutes)', timeoutMinutes: 15 } })).toThrow(
      /less than four breaks/,
    );
    expect(() => parseConfig({ canary: { timeoutMinutes: 0 } })).toThrow(/at least 1 minute/);
    // Several regions run one after the other: the schedule must leave room for all.
    expect(() =>
      parseConfig({ canary: { schedule: 'rate(2 hours)', regions: ['us-east-1', 'eu-west-1'] } }),
    ).toThrow(/less than 2 canaries/);
    expect(
      parseConfig({ canary: { schedule: 'rate(3 hours)', regions: ['us-east-1', 'eu-west-1'] } }).canary
        ?.schedule,
    ).toBe('rate(3 hours)');
  });

  it('canary.accounts: an organization hub only, no account twice', () => {
    const hub = {
      accounts: ['111111111111', '222222222222'],
      regions: ['eu-west-1'],
      hubRegion: 'eu-west-1',
    };
    expect(parseConfig({ ...hub, canary: { accounts: ['111111111111'] } }).canary?.accounts).toEqual([
      '111111111111',
    ]);
    expect(() => parseConfig({ canary: { accounts: ['111111111111'] } })).toThrow(
      /needs an organization hub/,
    );
    expect(() => parseConfig({ ...hub, canary: { accounts: ['111111111111', '111111111111'] } })).toThrow(
      /twice/,
    );
    expect(() => parseConfig({ ...hub, canary: { accounts: ['1234'] } })).toThrow(/12-digit/);
  });

  it('canary.accounts in an organization: one canary per account x region, an alarm each, the function may assume only those accounts’ trailguard-canary-access; cdk-nag clean, spokes included', () => {
    const members = ['111111111111', '222222222222'];
    const regions = ['us-east-1', 'eu-west-1'];
    const config = {
      accounts: members,
      regions,
      hubRegion: 'eu-west-1',
      organizationId: 'o-abcdef1234',
      canary: { ...CANARY, accounts: members, regions },
    };
    const org = synth({ config });
    const rule = Object.entries(org.resources).find(
      ([id, r]) => id.startsWith('CanarySchedule') && r.Type === 'AWS::Events::Rule',
    )?.[1];
    const input = JSON.parse(
      String((rule?.Properties.Targets as { Input: string }[] | undefined)?.[0]?.Input ?? '{}'),
    ) as { targets: { account: string; region: string }[] };
    expect(input.targets).toEqual(
      members.flatMap((account) => regions.map((region) => ({ account, region }))),
    );
    const alarms = Object.entries(org.resources).filter(
      ([id, r]) => id.startsWith('Canary') && r.Type === 'AWS::CloudWatch::Alarm',
    );
    expect(alarms).toHaveLength(4);
    const fnRole = Object.keys(org.resources).find(
      (id) => id.startsWith('CanaryFunctionRole') && org.resources[id]?.Type === 'AWS::IAM::Role',
    );
    const statements = Object.values(org.resources)
      .filter(
        (r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(`"${fnRole}"`),
      )
      .flatMap(
        (r) =>
          (r.Properties.PolicyDocument as { Statement: { Sid?: string; Resource: unknown }[] }).Statement,
      );
    const assume = statements.find((st) => st.Sid === 'AssumeMemberCanaryRoles');
    expect(JSON.stringify(assume?.Resource)).toContain(':iam::111111111111:role/trailguard-canary-access');
    expect(JSON.stringify(assume?.Resource)).toContain(':iam::222222222222:role/trailguard-canary-access');
    expect(JSON.stringify(assume?.Resource)).not.toContain('*');
    const { app } = buildApp({ bundling: false, nag: true, config });
    expect(() => app.synth()).not.toThrow();
  });

  it('cdk-nag: AwsSolutions checks pass with the canary on', () => {
    const { app } = buildApp({ bundling: false, nag: true, config: { canary: CANARY } });
    expect(() => app.synth()).not.toThrow();
  });

  it('with cisMonitoring: the canary role may describe and delete only the CIS alarms of trailguard-canary-* log groups; the function is told to remove them; cdk-nag clean', () => {
    const statementsOf = (cisMonitoring: boolean) => {
      const stack = new Stack(undefined, 'S', { env: { account: '111122223333', region: 'eu-west-2' } });
      return canaryRoleStatements({
        partition: 'aws',
        account: '111122223333',
        bucketArn: 'arn:aws:s3:::canary-bucket',
        config: parseConfig({ cisMonitoring }),
      }).map(
        (st) => stack.resolve(st.toStatementJson()) as { Sid?: string; Action?: unknown; Resource?: unknown },
      );
    };
    const alarmStatements = (cis: boolean) =>
      statementsOf(cis).filter((st) => JSON.stringify(st.Action).includes('cloudwatch:'));
    expect(alarmStatements(false)).toEqual([]);
    expect(alarmStatements(true)).toEqual([
      {
        Sid: 'CanaryCisAlarms',
        Effect: 'Allow',
        Action: ['cloudwatch:DescribeAlarms', 'cloudwatch:DeleteAlarms'],
        Resource: 'arn:aws:cloudwatch:*:111122223333:alarm:trailguard-cis-*trailguard-canary-*',
      },
    ]);
    // The pattern covers the names the guardrail gives the canary's CIS alarms, and no other group's.
    const pattern = /^trailguard-cis-.*trailguard-canary-.*$/;
    const [control] = CIS_CONTROLS;
    if (!control) throw new Error('no CIS control');
    expect(cisAlarmName(control, 'trailguard-canary-0a1b2c3d4e-eu-west-2')).toMatch(pattern);
    expect(cisAlarmName(control, 'CloudTrail/trailguard-canary-0a1b2c3d4e-eu-west-2')).toMatch(pattern);
    expect(cisAlarmName(control, 'CloudTrail/management-events')).not.toMatch(pattern);

    const cis = synth({ config: { canary: CANARY, cisMonitoring: true } });
    const fn = Object.entries(cis.resources).find(
      ([id, r]) => id.startsWith('CanaryFunction') && r.Type === 'AWS::Lambda::Function',
    )?.[1];
    if (!fn) throw new Error('no canary function');
    expect(
      (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables
        .TRAILGUARD_CANARY_CIS_ALARMS,
    ).toBe('true');
    const { app } = buildApp({ bundling: false, nag: true, config: { canary: CANARY, cisMonitoring: true } });
    expect(() => app.synth()).not.toThrow();
  });
});
