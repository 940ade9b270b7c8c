/**
 * A single account guarding several regions from one stack (config.regions without config.accounts): the
 * guardrail's stack pinned to the hub region, a forwarding stack in each other region (infra/stacks/region-stack.ts),
 * all in one app, so that one `cdk deploy --all` guards every configured region. What each template holds, what
 * its rules forward, who may do what, and cdk-nag on all of them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { type BuildAppOptions, buildApp, regionStackName } from '../../infra/app.js';
import { TrailguardStack } from '../../infra/stacks/trailguard-stack.js';
import { ConfigError, type ConfigInput, configuredHubRegion, parseConfig } from '../../policies/config.js';
import { type EventPattern, matchesEventPattern } from '../../services/domain/event-pattern.js';
import { type CfnResource, idsOfType, renderDeep, ruleIds, statementsOfRole } from './template.js';

type Template = { Resources: Record<string, CfnResource>; Outputs?: Record<string, unknown> };

const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

function synthAll(config: ConfigInput, options: Partial<BuildAppOptions> = {}) {
  const outdir = mkdtempSync(join(tmpdir(), 'trailguard-regions-'));
  outdirs.push(outdir);
  const built = buildApp({ bundling: false, nag: false, config, outdir, ...options });
  const assembly = built.app.synth();
  const template = (name: string) => assembly.getStackByName(name).template as Template;
  return {
    ...built,
    hub: template(built.stack.stackName),
    regions: Object.fromEntries(built.regionStacks.map((s) => [s.region, template(s.stackName)])),
  };
}

const CONFIG = { regions: ['eu-west-1', 'us-east-1', 'ap-southeast-2'] } satisfies ConfigInput;
const all = synthAll(CONFIG);

const props = (r: CfnResource | undefined) => (r?.Properties ?? {}) as Record<string, unknown>;
const ofType = (t: Template, type: string) => Object.values(t.Resources).filter((r) => r.Type === type);
const rule = (t: Template, name: string) => props(t.Resources[ruleIds(t.Resources)[name] ?? '']);
/** The ARN of the hub region's default bus as CloudFormation renders it in a region stack. */
const defaultBusOf = (hubRegion: string) => ({
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      `:events:${hubRegion}:`,
      { Ref: 'AWS::AccountId' },
      ':event-bus/default',
    ],
  ],
});

describe('a single account with regions: one app, the guardrail in the hub region, a forwarding stack in each other region', () => {
  it('the hub region is hubRegion, else the first region listed; the guardrail stack is pinned to it', () => {
    expect(configuredHubRegion(parseConfig(CONFIG))).toBe('eu-west-1');
    expect(configuredHubRegion(parseConfig({ ...CONFIG, hubRegion: 'us-east-1' }))).toBe('us-east-1');
    expect(configuredHubRegion(parseConfig({}))).toBeUndefined();
    // A hub of an organization is not pinned: its region is where it is deployed (one of the regions).
    expect(
      configuredHubRegion(parseConfig({ accounts: ['111122223333'], regions: ['eu-west-1'] })),
    ).toBeUndefined();
    expect(all.stack.region).toBe('eu-west-1');
    expect(all.regionStacks.map((s) => [s.stackName, s.region])).toEqual([
      [regionStackName(all.stack.stackName, 'us-east-1'), 'us-east-1'],
      [regionStackName(all.stack.stackName, 'ap-southeast-2'), 'ap-southeast-2'],
    ]);
    const named = synthAll({ ...CONFIG, hubRegion: 'ap-southeast-2' });
    expect(named.stack.region).toBe('ap-southeast-2');
    expect(named.regionStacks.map((s) => s.region)).toEqual(['eu-west-1', 'us-east-1']);
  });

  it('without regions nothing changes: one stack, deployed wherever it is deployed', () => {
    const { stack, regionStacks } = buildApp({ bundling: false, nag: false });
    expect(regionStacks).toEqual([]);
    expect(stack.region).toMatch(/^\$\{Token/);
  });

  it('a region stack forwards the hub rules’ events, unfiltered by role, to the hub region’s default bus, each rule with its own dead-letter queue', () => {
    for (const [region, t] of Object.entries(all.regions)) {
      expect(Object.keys(ruleIds(t.Resources)).sort(), region).toEqual([
        'DependencyTrigger',
        'FindingsTrigger',
        'Trigger',
      ]);
      const roleId = idsOfType(t.Resources, 'AWS::IAM::Role')[0] ?? '';
      const queues = new Set<string>();
      for (const name of ['Trigger', 'DependencyTrigger', 'FindingsTrigger']) {
        const hubPattern = rule(all.hub, name).EventPattern as { detail?: Record<string, unknown> };
        const { $or: _excluded, ...hubDetail } = hubPattern.detail ?? {};
        // The same pattern as the hub's rule, without the own-role exclusion (the hub's rule applies it).
        expect(rule(t, name).EventPattern, `${region} ${name}`).toEqual({
          ...hubPattern,
          ...(hubPattern.detail ? { detail: hubDetail } : {}),
        });
        const targets = rule(t, name).Targets as Record<string, unknown>[];
        expect(targets).toHaveLength(1);
        expect(targets[0]?.Arn).toEqual(defaultBusOf('eu-west-1'));
        expect(targets[0]?.RoleArn).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
        queues.add(JSON.stringify((targets[0]?.DeadLetterConfig as { Arn: unknown } | undefined)?.Arn));
      }
      expect(queues.size).toBe(3);
      for (const queue of ofType(t, 'AWS::SQS::Queue')) expect(props(queue).SqsManagedSseEnabled).toBe(true);
      expect(Object.keys(t.Outputs ?? {}).sort()).toEqual([
        'DependencyTriggerDeadLetterQueueUrl',
        'FindingsTriggerDeadLetterQueueUrl',
        'TriggerDeadLetterQueueUrl',
      ]);
      // Nothing else: no function, key, table, topic, alarm or remediation role.
      expect([...new Set(Object.values(t.Resources).map((r) => r.Type))].sort()).toEqual([
        'AWS::Events::Rule',
        'AWS::IAM::Policy',
        'AWS::IAM::Role',
        'AWS::SQS::Queue',
        'AWS::SQS::QueuePolicy',
      ]);
    }
  });

  it('the forwarding role: EventBridge of this account may assume it; it may put events on the hub region’s default bus only', () => {
    for (const t of Object.values(all.regions)) {
      const [roleId] = idsOfType(t.Resources, 'AWS::IAM::Role');
      const role = props(t.Resources[roleId ?? '']);
      expect(role.AssumeRolePolicyDocument).toEqual({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sts:AssumeRole',
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          },
        ],
      });
      expect(statementsOfRole(t.Resources, roleId ?? '')).toEqual([
        {
          Action: ['events:PutEvents'],
          Resource: ['arn:<AWS::Partition>:events:eu-west-1:<AWS::AccountId>:event-bus/default'],
        },
      ]);
    }
  });

  it("an event of the guardrail's own role is forwarded and dropped by the hub's rule; anyone else's reaches the workflow", () => {
    const hubRoleArn = 'arn:aws:iam::111122223333:role/Trailguard-RestoreTrailServiceRole-ABC';
    const resolve = (value: unknown): unknown =>
      JSON.parse(
        JSON.stringify(renderDeep(value)).replaceAll(/"<[A-Za-z0-9]+\.Arn>"/g, JSON.stringify(hubRoleArn)),
      );
    const event = (userIdentity: Record<string, unknown>) => ({
      source: 'aws.cloudtrail',
      'detail-type': 'AWS API Call via CloudTrail',
      region: 'us-east-1',
      detail: { eventSource: 'cloudtrail.amazonaws.com', eventName: 'StopLogging', userIdentity },
    });
    const assumed = (arn: string) =>
      event({ type: 'AssumedRole', sessionContext: { sessionIssuer: { arn } } });
    const forwarded = rule(all.regions['us-east-1'] as Template, 'Trigger').EventPattern as EventPattern;
    const hubRule = resolve(rule(all.hub, 'Trigger').EventPattern) as EventPattern;
    const own = assumed(hubRoleArn);
    const someone = assumed('arn:aws:iam::111122223333:role/Admin');
    expect(matchesEventPattern(forwarded, own)).toBe(true);
    expect(matchesEventPattern(hubRule, own)).toBe(false);
    for (const e of [someone, event({ type: 'Root' }), event({ type: 'IAMUser' })]) {
      expect(matchesEventPattern(forwarded, e)).toBe(true);
      expect(matchesEventPattern(hubRule, e)).toBe(true);
    }
  });

  it('IAM role events (us-east-1 only) are forwarded by the us-east-1 stack; with the hub in us-east-1 its own rule takes them', () => {
    const iamEvent = {
      source: 'aws.iam',
      'detail-type': 'AWS API Call via CloudTrail',
      region: 'us-east-1',
      detail: {
        eventSource: 'iam.amazonaws.com',
        eventName: 'DeleteRolePolicy',
        userIdentity: { type: 'Root' },
      },
    };
    const forwarded = rule(all.regions['us-east-1'] as Template, 'DependencyTrigger')
      .EventPattern as EventPattern;
    expect(matchesEventPattern(forwarded, iamEvent)).toBe(true);
    const inUsEast1 = synthAll({ regions: ['us-east-1', 'eu-west-1'] });
    expect(inUsEast1.stack.region).toBe('us-east-1');
    expect(Object.keys(inUsEast1.regions)).toEqual(['eu-west-1']);
  });

  it('the guardrail stack: its rules on the default bus (own roles excluded); the schedule starts the organization sweep over its regions; no hub bus, StackSet or remediation role', () => {
    const rules = ofType(all.hub, 'AWS::Events::Rule').map(props);
    for (const r of rules) expect(r.EventBusName).toBeUndefined();
    const trigger = rule(all.hub, 'Trigger').EventPattern as { detail: { $or?: unknown } };
    expect(trigger.detail.$or).toBeDefined();
    expect(ofType(all.hub, 'AWS::Events::EventBus')).toEqual([]);
    expect(ofType(all.hub, 'AWS::CloudFormation::StackSet')).toEqual([]);
    expect(all.stack.sweep.organizationSweep).toBeDefined();
    const schedule = rule(all.hub, 'Sweep');
    expect((schedule.Targets as { Arn: unknown }[])[0]?.Arn).toEqual({
      Ref: all.stack.getLogicalId(all.stack.sweep.organizationSweep?.stateMachine.node.defaultChild as never),
    });
    // No AssumeRole: the functions act with their own roles in the configured regions. Only the sweep lists the
    // regions enabled in the account (a configured region not enabled there is a coverage gap, `not-enabled`).
    const policies = ofType(all.hub, 'AWS::IAM::Policy').map((p) => JSON.stringify(props(p).PolicyDocument));
    expect(policies.join()).not.toContain('sts:AssumeRole');
    const listing = policies.filter((p) => p.includes('ec2:DescribeRegions'));
    expect(listing).toHaveLength(1);
    expect(listing[0]).toContain('"Sid":"ListEnabledRegions"');
    expect(listing[0]).toContain('"Sid":"StartWorkflow"');
  });

  it('a guardrail stack deployed outside the hub region is a configuration error', () => {
    const app = new App();
    expect(
      () => new TrailguardStack(app, 'Elsewhere', { config: CONFIG, env: { region: 'us-east-1' } }),
    ).toThrow(ConfigError);
    expect(
      () => new TrailguardStack(new App(), 'Elsewhere', { config: CONFIG, env: { region: 'us-east-1' } }),
    ).toThrow(
      /runs in eu-west-1 \(hubRegion, else the first of the regions\), but this stack is in us-east-1/,
    );
  });

  it('cdk-nag AwsSolutions passes on the guardrail stack and every region stack (with CIS monitoring and without Security Hub too)', () => {
    for (const config of [CONFIG, { ...CONFIG, cisMonitoring: true, securityHub: false }]) {
      const outdir = mkdtempSync(join(tmpdir(), 'trailguard-regions-nag-'));
      outdirs.push(outdir);
      const { app, regionStacks } = buildApp({ bundling: false, nag: true, config, outdir });
      expect(() => app.synth()).not.toThrow();
      expect(regionStacks).toHaveLength(2);
    }
  });
});
