/**
 * At the scale of an Organization (config.accounts set): the hub stack (its bus and the bus policy in both
 * forms, its rules on that bus, the AssumeRemediationRole statements, the organization sweep, the StackSet) and
 * the spoke stack (forwarding rules with their role and dead-letter queues, the remediation role: trust, region
 * condition, permissions), cdk-nag on both, and the single-account stack left as it was.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { StateMachine } from 'aws-local-stepfunctions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BuildAppOptions, buildApp } from '../../infra/app.js';
import { nagFlatten, wildcardFindings } from '../../infra/constructs/functions.js';
import {
  ORGANIZATION_SWEEP_CONCURRENCY,
  REGION_SWEEP_CONCURRENCY,
  STATE_MACHINE_METADATA_KEY,
  SWEEP_INCOMPLETE_ERROR,
} from '../../infra/constructs/organization-sweep.js';
import { REMEDIATION_TRUST_SID } from '../../infra/constructs/remediation-role.js';
import { memberRoleId, type TrailguardSpokeStack } from '../../infra/stacks/spoke-stack.js';
import { TrailguardStack } from '../../infra/stacks/trailguard-stack.js';
import { ConfigError, type ConfigInput, parseConfig } from '../../policies/config.js';
import {
  FUNCTION_NAMES,
  type FunctionName,
  findingUpdateDenials,
  functionPolicy,
  HUB_ONLY_STATEMENTS,
  IAM_POLICY_QUOTAS,
  MEMBER_FUNCTIONS,
  MEMBER_ROLES,
  type MemberRole,
  memberStatementIds,
  type PolicyContext,
  policySize,
  remediationRolePolicy,
  remediationRolePolicyDocument,
  remediationRolePolicyDocuments,
  worstCaseMemberContext,
} from '../../policies/iam.js';
import { type EventPattern, matchesEventPattern } from '../../services/domain/event-pattern.js';
import { EXPECTED_MEMBER_ROLE_SUFFIX, EXPECTED_MEMBER_ROLE_TRUST } from '../support/member-roles.js';
import {
  type CfnResource,
  functionIds,
  idsOfType,
  onlyIdOfType,
  renderDeep,
  roleIdOf,
  ruleIds,
  sortStatements,
  statementsOfFunction,
  statementsOfRole,
  synth,
} from './template.js';

const ORG = 'o-abcdef1234';
const KEY = 'arn:aws:kms:us-east-1:123456789012:key/abcd-1234';
const ORG_CONFIG = {
  accounts: 'organization',
  organizationId: ORG,
  regions: ['us-east-1', 'eu-west-1'],
  hubRegion: 'eu-west-1',
} satisfies ConfigInput;
const MEMBERS = ['111122223333', '444455556666'];
const TRUST_PARAMETER: Record<MemberRole, string> = {
  read: 'HubReadRoleArns',
  'restore-log-group': 'HubRestoreLogGroupRoleArns',
  'restore-role': 'HubRestoreRoleRoleArns',
  'restore-trail': 'HubRestoreTrailRoleArns',
  'update-findings': 'HubUpdateFindingsRoleArns',
};
const roleOfFunction = (fn: FunctionName): MemberRole | undefined =>
  MEMBER_ROLES.find((role) => EXPECTED_MEMBER_ROLE_TRUST[role].includes(fn));
const LIST_CONFIG = {
  accounts: MEMBERS,
  regions: ['us-east-1'],
  hubRegion: 'us-east-1',
} satisfies ConfigInput;

const P = '<AWS::Partition>';
const getAtt = (id: string | undefined, attribute = 'Arn') => ({ 'Fn::GetAtt': [id, attribute] });
type Template = {
  Resources: Record<string, CfnResource>;
  Parameters?: Record<string, Record<string, unknown>>;
} & Record<string, unknown>;

interface OrgSynth {
  hub: Template;
  spoke: Template;
  /** The template the StackSet deploys (the hub's file asset). */
  stackSetTemplate: Template;
  hubStack: TrailguardStack;
  spokeStack: TrailguardSpokeStack;
  /** The hub's asset manifest. */
  assets: { files: Record<string, { source: { path: string; packaging: string } }> };
}

const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

/** Synthesizes the app (no bundling; cdk-nag off unless asked) and reads the templates from the assembly. */
function synthOrg(config: ConfigInput, options: Partial<BuildAppOptions> = {}): OrgSynth {
  const outdir = mkdtempSync(join(tmpdir(), 'trailguard-org-'));
  outdirs.push(outdir);
  const { app, stack, spoke } = buildApp({ bundling: false, nag: false, config, outdir, ...options });
  if (!spoke) throw new Error('a hub app has a spoke stack');
  const assembly = app.synth();
  const read = <T>(file: string) => JSON.parse(readFileSync(join(assembly.directory, file), 'utf8')) as T;
  const nested = stack.spokeStackSet?.spoke;
  return {
    hub: assembly.getStackByName(stack.stackName).template as Template,
    spoke: assembly.getStackByName(spoke.stackName).template as Template,
    stackSetTemplate: nested ? read<Template>(nested.templateFile) : ({ Resources: {} } as Template),
    hubStack: stack,
    spokeStack: spoke,
    assets: read(`${stack.artifactId}.assets.json`),
  };
}

const props = (r: CfnResource | undefined) => (r?.Properties ?? {}) as Record<string, unknown>;
const resourcesOfType = (t: Template, type: string) =>
  Object.entries(t.Resources).filter(([, r]) => r.Type === type);
/** The hub's one StackSet's properties. */
const stackSetOf = (s: OrgSynth) => {
  const sets = resourcesOfType(s.hub, 'AWS::CloudFormation::StackSet');
  expect(sets).toHaveLength(1);
  return props(sets[0]?.[1]);
};

/**
 * Resolves CloudFormation intrinsics as CloudFormation would with these parameter values (lists for
 * CommaDelimitedList parameters) and pseudo parameters.
 */
function resolveWith(value: unknown, refs: Record<string, string | string[]>): unknown {
  const resolve = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(resolve);
    if (!v || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === 'Ref') {
      const ref = refs[String(o.Ref)];
      if (ref === undefined) throw new Error(`no value for Ref ${String(o.Ref)}`);
      return ref;
    }
    if (keys.length === 1 && keys[0] === 'Fn::Join') {
      const [sep, parts] = o['Fn::Join'] as [string, unknown];
      return (resolve(parts) as unknown[]).join(sep);
    }
    if (keys.length === 1 && keys[0] === 'Fn::Split') {
      const [sep, text] = o['Fn::Split'] as [string, unknown];
      return String(resolve(text)).split(sep);
    }
    if (keys.length === 1 && keys[0]?.startsWith('Fn::')) throw new Error(`unsupported ${keys[0]}`);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, resolve(x)]));
  };
  return resolve(value);
}

let org: OrgSynth;
let list: OrgSynth;
beforeAll(() => {
  org = synthOrg(ORG_CONFIG);
  list = synthOrg(LIST_CONFIG);
});

/** A Map state of a synthesized definition. */
type MapLike = Record<string, unknown> & {
  ItemProcessor: {
    ProcessorConfig?: unknown;
    StartAt: string;
    States: Record<string, Record<string, unknown>>;
  };
};

describe('configuration', () => {
  it('organizationId: an organization id, and only with accounts', () => {
    expect(parseConfig(ORG_CONFIG).organizationId).toBe(ORG);
    expect(() => parseConfig({ accounts: 'organization', organizationId: 'org-1' })).toThrow(
      /organizationId: must be an organization id/,
    );
    expect(() => parseConfig({ organizationId: ORG })).toThrow(/organizationId: is only used with accounts/);
  });

  it('an organization whose id is not configured: the hub takes it as the OrganizationId parameter', () => {
    const noId = synthOrg({ accounts: 'organization', regions: ['us-east-1'] });
    expect(noId.hub.Parameters?.OrganizationId).toMatchObject({
      Type: 'String',
      AllowedPattern: '^o-[a-z0-9]{10,32}$',
    });
    expect(org.hub.Parameters?.OrganizationId).toBeUndefined();
    expect(list.hub.Parameters?.OrganizationId).toBeUndefined();
    const [, policy] = resourcesOfType(noId.hub, 'AWS::Events::EventBusPolicy')[0] ?? [];
    expect(props(policy).Statement).toMatchObject({
      Condition: { StringEquals: { 'aws:PrincipalOrgID': { Ref: 'OrganizationId' } } },
    });
    expect(
      statementsOfFunction(noId.hub.Resources, 'Check').find((s) => s.Sid === 'AssumeRemediationRole')
        ?.Condition,
    ).toEqual({ StringEquals: { 'aws:ResourceOrgID': '<OrganizationId>' } });
    const stackSet = resourcesOfType(noId.hub, 'AWS::CloudFormation::StackSet')[0]?.[1];
    expect(props(stackSet).Parameters).toContainEqual({
      ParameterKey: 'OrganizationId',
      ParameterValue: { Ref: 'OrganizationId' },
    });
  });

  it('the hub must be in hubRegion, and in one of the regions, when its region is known', () => {
    const hubIn = (region: string, config: ConfigInput) => () =>
      new TrailguardStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Hub', {
        env: { account: '123456789012', region },
        config,
      });
    expect(hubIn('us-east-1', ORG_CONFIG)).toThrow(/hubRegion: eu-west-1, but the hub stack is in us-east-1/);
    const { hubRegion: _, ...withoutHubRegion } = ORG_CONFIG;
    expect(hubIn('ap-south-1', withoutHubRegion)).toThrow(ConfigError);
    expect(hubIn('eu-west-1', withoutHubRegion)).not.toThrow();
  });

  it('a single-account app has one stack, no bus, no StackSet, no parameter of ours', () => {
    const { app, stack, spoke } = buildApp({ bundling: false, nag: false });
    expect(spoke).toBeUndefined();
    expect(stack.hubBus).toBeUndefined();
    expect(app.node.children.filter((c) => c instanceof Stack)).toHaveLength(1);
    const single = synth();
    expect(idsOfType(single.resources, 'AWS::Events::EventBus')).toEqual([]);
    expect(idsOfType(single.resources, 'AWS::CloudFormation::StackSet')).toEqual([]);
    expect(idsOfType(single.resources, 'AWS::StepFunctions::StateMachine')).toHaveLength(1);
    expect(Object.keys(single.template.toJSON().Parameters ?? {})).toEqual(['BootstrapVersion']);
    for (const fn of FUNCTION_NAMES) {
      expect(
        statementsOfFunction(single.resources, fn).flatMap((s) => s.Action),
        fn,
      ).not.toContain('sts:AssumeRole');
    }
  });
});

describe('hub bus', () => {
  const busOf = (t: Template) => {
    const [id] = resourcesOfType(t, 'AWS::Events::EventBus').map(([i]) => i);
    return id;
  };

  it('organization: one bus; its policy admits events:PutEvents from any principal of the organization only', () => {
    expect(resourcesOfType(org.hub, 'AWS::Events::EventBus')).toHaveLength(1);
    const policies = resourcesOfType(org.hub, 'AWS::Events::EventBusPolicy');
    expect(policies).toHaveLength(1);
    expect(props(policies[0]?.[1])).toEqual({
      EventBusName: { Ref: busOf(org.hub) },
      StatementId: 'AllowPutEventsFromTheOrganization',
      Statement: {
        Sid: 'AllowPutEventsFromTheOrganization',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: 'events:PutEvents',
        Resource: getAtt(busOf(org.hub)),
        Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG } },
      },
    });
  });

  it('account list: the policy admits exactly the listed accounts, no wildcard principal', () => {
    const policies = resourcesOfType(list.hub, 'AWS::Events::EventBusPolicy');
    expect(policies).toHaveLength(1);
    const statement = props(policies[0]?.[1]).Statement as Record<string, unknown>;
    expect(statement).toMatchObject({
      Effect: 'Allow',
      Action: 'events:PutEvents',
      Resource: getAtt(busOf(list.hub)),
    });
    expect(statement.Condition).toBeUndefined();
    const principals = (statement.Principal as { AWS: unknown[] }).AWS.map(nagFlatten);
    expect(principals.sort()).toEqual(MEMBERS.map((a) => `arn:${P}:iam::${a}:root`).sort());
  });

  it('the three rules are on the hub bus, with the single-account patterns and targets; nothing on the default bus but the schedule', () => {
    const single = synth();
    for (const hub of [org, list]) {
      const hubRules = ruleIds(hub.hub.Resources);
      expect(Object.keys(hubRules).sort()).toEqual([
        'DependencyTrigger',
        'FindingsTrigger',
        'Sweep',
        'Trigger',
      ]);
      for (const name of ['Trigger', 'DependencyTrigger', 'FindingsTrigger']) {
        const rule = props(hub.hub.Resources[hubRules[name] ?? '']);
        const before = props(single.resources[ruleIds(single.resources)[name] ?? '']);
        expect(rule.EventBusName, name).toEqual({ Ref: busOf(hub.hub) });
        expect(rule.EventPattern, name).toEqual(before.EventPattern);
        expect(rule.Targets, name).toEqual(before.Targets);
      }
      expect(props(hub.hub.Resources[hubRules.Sweep ?? '']).EventBusName).toBeUndefined();
    }
  });

  it('the sweep schedule starts the organization sweep, not the function', () => {
    const schedule = props(org.hub.Resources[ruleIds(org.hub.Resources).Sweep ?? '']);
    const machine = resourcesOfType(org.hub, 'AWS::StepFunctions::StateMachine').find(
      ([, r]) => r.Metadata?.[STATE_MACHINE_METADATA_KEY] === 'OrganizationSweep',
    )?.[0];
    expect(schedule.ScheduleExpression).toBe('rate(1 hour)');
    expect(schedule.Targets).toEqual([
      expect.objectContaining({
        Arn: { Ref: machine },
        RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 21600 },
        DeadLetterConfig: { Arn: getAtt(expect.stringMatching(/^SweepScheduleDeadLetterQueue/)) },
      }),
    ]);
    // EventBridge may invoke the sweep function for the dependency and findings rules only.
    const sources = resourcesOfType(org.hub, 'AWS::Lambda::Permission').map(([, r]) =>
      nagFlatten(props(r).SourceArn),
    );
    const rules = ruleIds(org.hub.Resources);
    expect(sources.sort()).toEqual(
      [`<${rules.DependencyTrigger}.Arn>`, `<${rules.FindingsTrigger}.Arn>`].sort(),
    );
  });

  it('outputs: the bus and what a directly deployed spoke needs', () => {
    const outputs = org.hub.Outputs as Record<string, { Value: unknown }>;
    expect(outputs.HubEventBusArn?.Value).toEqual(getAtt(busOf(org.hub)));
    const roles = (fns: readonly string[]) =>
      fns.map((fn) => `<${roleIdOf(org.hub.Resources, fn)}.Arn>`).join(',');
    for (const role of MEMBER_ROLES) {
      expect(nagFlatten(outputs[`Spoke${TRUST_PARAMETER[role]}`]?.Value), role).toBe(
        roles(EXPECTED_MEMBER_ROLE_TRUST[role]),
      );
    }
    expect(outputs.SpokeHubFunctionRoleArns).toBeUndefined();
    expect(nagFlatten(outputs.SpokeHubMutatingRoleArns?.Value)).toBe(
      roles(['RestoreLogGroup', 'RestoreRole', 'RestoreTrail']),
    );
    expect(outputs.OrganizationSweepStateMachineArn).toBeDefined();
    expect(outputs.SpokeStackSetId).toBeDefined();
  });
});

describe('AssumeRemediationRole and the other hub statements', () => {
  const assume = (s: OrgSynth, fn: FunctionName) =>
    statementsOfFunction(s.hub.Resources, fn).filter((st) => st.Action.includes('sts:AssumeRole'));

  it('organization: each function that acts in members may assume only its own member role, in any account of the organization only', () => {
    for (const fn of FUNCTION_NAMES) {
      const role = roleOfFunction(fn);
      const expected = role
        ? [
            {
              Sid: 'AssumeRemediationRole',
              Action: ['sts:AssumeRole'],
              Resource: [`arn:${P}:iam::*:role/trailguard-remediation${EXPECTED_MEMBER_ROLE_SUFFIX[role]}`],
              Condition: { StringEquals: { 'aws:ResourceOrgID': ORG } },
            },
          ]
        : [];
      expect(assume(org, fn), fn).toEqual(expected);
    }
  });

  it('account list: exactly the listed accounts’ member role of the function (named from the configured name)', () => {
    const named = synthOrg({ ...LIST_CONFIG, remediationRoleName: 'sec-trailguard' });
    for (const fn of FUNCTION_NAMES) {
      const role = roleOfFunction(fn);
      const expected = role
        ? [
            {
              Sid: 'AssumeRemediationRole',
              Action: ['sts:AssumeRole'],
              Resource: MEMBERS.map(
                (a) => `arn:${P}:iam::${a}:role/sec-trailguard${EXPECTED_MEMBER_ROLE_SUFFIX[role]}`,
              ),
            },
          ]
        : [];
      expect(assume(named, fn), fn).toEqual(expected);
    }
  });

  it('the sweep lists the organization’s accounts (organization only) and the enabled regions (each target checks its own account’s; and without configured regions, the list)', () => {
    const sids = (s: OrgSynth) => statementsOfFunction(s.hub.Resources, 'Sweep').map((st) => st.Sid);
    expect(sids(org)).toContain('ListOrganizationAccounts');
    expect(sids(org)).toContain('ListEnabledRegions');
    // Only the sweep lists regions; no workflow step does.
    for (const fn of ['Check', 'Verify', 'RestoreTrail'] as const) {
      expect(statementsOfFunction(org.hub.Resources, fn).map((st) => st.Sid)).not.toContain(
        'ListEnabledRegions',
      );
    }
    expect(sids(list)).not.toContain('ListOrganizationAccounts');
    const noRegions = synthOrg({ accounts: MEMBERS, hubRegion: 'eu-west-1' }, { spokeStackSet: false });
    expect(sids(noRegions)).toContain('ListEnabledRegions');
    expect(statementsOfFunction(org.hub.Resources, 'Sweep')).toContainEqual({
      Sid: 'ListOrganizationAccounts',
      Action: ['organizations:ListAccounts'],
      Resource: ['*'],
    });
  });

  it('each function role carries exactly functionPolicy(fn, ctx) with the hub context', () => {
    const s = org.hubStack;
    const stack = Stack.of(s);
    const ctx: PolicyContext = {
      partition: stack.partition,
      account: stack.account,
      region: stack.region,
      urlSuffix: stack.urlSuffix,
      config: s.config,
      topicArn: s.topic.topicArn,
      topicKeyArn: s.dataKey.keyArn,
      tableArn: s.auditTable.tableArn,
      tableKeyArn: s.dataKey.keyArn,
      idempotencyTableArn: s.idempotencyTable.tableArn,
      stateTableArn: s.stateTable.tableArn,
      stateMachineArn: s.workflow.stateMachine.stateMachineArn,
      hub: { remediationRoleName: 'trailguard-remediation', accounts: 'organization', organizationId: ORG },
      listsEnabledRegions: true,
    };
    for (const fn of FUNCTION_NAMES) {
      const fromDocs = functionPolicy(fn, ctx).map((st) => {
        const resolved = stack.resolve(st) as { Resource: unknown[]; Condition?: unknown };
        return {
          Sid: st.Sid,
          ...(st.Effect === 'Deny' ? { Effect: 'Deny' as const } : {}),
          Action: st.Action,
          Resource: resolved.Resource.map(nagFlatten),
          ...(st.Condition ? { Condition: renderDeep(resolved.Condition) } : {}),
        };
      });
      const inTemplate = statementsOfFunction(org.hub.Resources, fn).filter((st) => st.Sid !== undefined);
      expect(inTemplate, fn).toEqual(sortStatements(fromDocs));
    }
  });

  it('IAM evaluation: the organization statement allows only the function’s own member role in the organization', async () => {
    const ctx = (accounts: 'organization' | string[]): PolicyContext => ({
      partition: 'aws',
      account: '999999999999',
      region: 'eu-west-1',
      config: parseConfig({}),
      topicArn: 'arn:aws:sns:eu-west-1:999999999999:t',
      tableArn: 'arn:aws:dynamodb:eu-west-1:999999999999:table/t',
      stateMachineArn: 'arn:aws:states:eu-west-1:999999999999:stateMachine:w',
      hub: { remediationRoleName: 'trailguard-remediation', accounts, organizationId: ORG },
    });
    const allowed = async (
      accounts: 'organization' | string[],
      role: string,
      orgId?: string,
      fn: FunctionName = 'Check',
    ) => {
      const account = role.split(':')[4] ?? '';
      const result = await runSimulation(
        {
          identityPolicies: [
            {
              name: fn,
              policy: { Version: '2012-10-17', Statement: functionPolicy(fn, ctx(accounts)) },
            },
          ],
          serviceControlPolicies: [],
          resourceControlPolicies: [],
          // The role's trust admits the hub role: what is tested here is the hub's own statement.
          resourcePolicy: {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { AWS: 'arn:aws:iam::999999999999:role/hub-check' },
                Action: 'sts:AssumeRole',
              },
            ],
          },
          request: {
            action: 'sts:AssumeRole',
            principal: 'arn:aws:iam::999999999999:role/hub-check',
            resource: { accountId: account, resource: role },
            contextVariables: orgId ? { 'aws:ResourceOrgID': orgId } : {},
          },
        },
        {},
      );
      if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
      return result.overallResult === 'Allowed';
    };
    const member = (role: MemberRole, account = '111122223333') =>
      `arn:aws:iam::${account}:role/trailguard-remediation${EXPECTED_MEMBER_ROLE_SUFFIX[role]}`;
    expect(await allowed('organization', member('read'), ORG)).toBe(true);
    expect(await allowed('organization', member('read'), 'o-otherorg123')).toBe(false);
    expect(await allowed('organization', 'arn:aws:iam::111122223333:role/Admin', ORG)).toBe(false);
    expect(await allowed('organization', 'arn:aws:iam::111122223333:role/trailguard-remediation', ORG)).toBe(
      false,
    );
    expect(await allowed(MEMBERS, member('read'))).toBe(true);
    expect(await allowed(MEMBERS, member('read', '777777777777'))).toBe(false);
    // Each function: its own member role only, never another's (Check never reaches a repair role).
    for (const fn of MEMBER_FUNCTIONS) {
      for (const role of MEMBER_ROLES) {
        const own = EXPECTED_MEMBER_ROLE_TRUST[role].includes(fn);
        expect(await allowed('organization', member(role), ORG, fn), `${fn} ${role}`).toBe(own);
        expect(await allowed(MEMBERS, member(role, MEMBERS[1]), undefined, fn), `${fn} ${role}`).toBe(own);
      }
    }
  });
});

describe('organization sweep', () => {
  const machineOf = (t: Template) => {
    const found = resourcesOfType(t, 'AWS::StepFunctions::StateMachine').find(
      ([, r]) => r.Metadata?.[STATE_MACHINE_METADATA_KEY] === 'OrganizationSweep',
    );
    if (!found) throw new Error('no organization sweep');
    return found;
  };
  const SWEEP_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:sweep';
  type Definition = { StartAt: string; States: Record<string, Record<string, unknown>> };
  const definition = (t: Template): Definition => {
    const [, machine] = machineOf(t);
    const parts = (props(machine).DefinitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
    const sweep = functionIds(t.Resources).Sweep;
    return JSON.parse(
      parts
        .map((p) => {
          if (typeof p === 'string') return p;
          expect(p).toEqual(getAtt(sweep));
          return SWEEP_ARN;
        })
        .join(''),
    ) as Definition;
  };

  it('a hub has two state machines: the workflow (no metadata) and the organization sweep', () => {
    const machines = resourcesOfType(org.hub, 'AWS::StepFunctions::StateMachine');
    expect(machines.map(([, r]) => r.Metadata?.[STATE_MACHINE_METADATA_KEY] ?? 'workflow').sort()).toEqual([
      'OrganizationSweep',
      'workflow',
    ]);
  });

  it('ListTargets ({kind: targets}), then a Distributed Map over the accounts (at most 10 at once), each child an inline Map over its regions (at most 14 at once), each region ({kind: target, account, region, id}) the input of one sweep', () => {
    const d = definition(org.hub);
    expect(d.StartAt).toBe('ListTargets');
    expect(d.States.ListTargets).toMatchObject({
      Type: 'Task',
      Resource: SWEEP_ARN,
      Parameters: { kind: 'targets' },
      ResultPath: '$.listed',
      Next: 'AnyTargets',
    });
    const accounts = d.States.SweepAccounts as MapLike;
    expect(accounts).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.listed.accounts',
      ItemSelector: {
        'account.$': '$$.Map.Item.Value',
        'regions.$': '$.listed.regions',
        'id.$': '$.listed.id',
      },
      MaxConcurrency: ORGANIZATION_SWEEP_CONCURRENCY,
      ToleratedFailurePercentage: 100,
      ResultPath: '$.results',
    });
    expect(ORGANIZATION_SWEEP_CONCURRENCY).toBe(10);
    expect(accounts.ItemProcessor.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'EXPRESS' });
    expect(accounts.ItemProcessor.StartAt).toBe('SweepRegions');
    const regions = accounts.ItemProcessor.States.SweepRegions as MapLike;
    expect(regions).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.regions',
      ItemSelector: {
        kind: 'target',
        'account.$': '$.account',
        'region.$': '$$.Map.Item.Value',
        'id.$': '$.id',
      },
      MaxConcurrency: REGION_SWEEP_CONCURRENCY,
      ResultPath: '$.swept',
      Next: 'SweepAccountDone',
    });
    expect(REGION_SWEEP_CONCURRENCY).toBe(14);
    expect(regions.ItemProcessor.StartAt).toBe('SweepTarget');
    const target = regions.ItemProcessor.States.SweepTarget;
    expect(target).toMatchObject({
      Type: 'Task',
      Resource: SWEEP_ARN,
      // Of the function's answer only its status is kept (the state stays small); a Choice turns it into a letter.
      ResultSelector: { 'status.$': '$.status' },
      ResultPath: '$.result',
      Next: 'SweepTargetStatus',
    });
    expect(target?.Parameters).toBeUndefined(); // the item itself is the input
    expect(target?.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'SweepTargetFailed' },
    ]);
  });

  async function run(
    listed: { accounts: string[]; regions: string[] },
    failing: string[] = [],
    gaps: Record<string, 'not-enrolled' | 'not-enabled'> = {},
  ) {
    const statusOf = (account: string, region: string) => gaps[`${account}/${region}`] ?? 'swept';
    const sweeps: unknown[] = [];
    const machine = new StateMachine(definition(org.hub) as never, {
      validationOptions: { checkArn: true, checkPaths: true },
    });
    const execution = machine.run(
      { 'detail-type': 'Scheduled Event', source: 'aws.events', id: 'sweep-1' },
      {
        overrides: {
          taskResourceLocalHandlers: {
            ListTargets: async (input: unknown) => {
              expect(input).toEqual({ kind: 'targets' });
              // The sweep function's answer to {kind: 'targets'} (services/handlers/sweep.ts).
              return { kind: 'targets', ...listed, id: 'sweep-1', trails: [], started: 0 };
            },
            SweepTarget: async (input) => {
              sweeps.push(input);
              const { account, region } = input as { account: string; region: string };
              if (failing.includes(`${account}/${region}`)) {
                const error = new Error(`cannot act in account ${account}`);
                error.name = 'AccountAccessError';
                throw error;
              }
              // The sweep function's answer to a target (services/aws/sweep.ts): its status, and more.
              return {
                kind: 'target',
                account,
                region,
                status: statusOf(account, region),
                trails: [],
                started: 1,
              };
            },
          },
          retryIntervalOverrides: { ListTargets: 0, SweepTarget: 0 },
        },
      },
    );
    try {
      return { output: (await execution.result) as Record<string, unknown>, sweeps };
    } catch (error) {
      return { error: error as Error, sweeps };
    }
  }

  const LISTED = { accounts: ['111122223333', '444455556666'], regions: ['us-east-1', 'eu-west-1'] };
  const EVERY_TARGET = LISTED.accounts.flatMap((account) =>
    LISTED.regions.map((region) => ({ kind: 'target', account, region, id: 'sweep-1' })),
  );
  const byAccountRegion = (a: unknown, b: unknown) => JSON.stringify(a).localeCompare(JSON.stringify(b));

  it('runs (aws-local-stepfunctions, the synthesized definition): every account-region swept once, with the sweep id', async () => {
    const { output, sweeps, error } = await run(LISTED);
    expect(error).toBeUndefined();
    expect([...sweeps].sort(byAccountRegion)).toEqual([...EVERY_TARGET].sort(byAccountRegion));
    expect(output).toEqual({
      accounts: 2,
      regions: 2,
      reported: 2,
      anyFailed: false,
      results: [
        { account: '111122223333', failed: false },
        { account: '444455556666', failed: false },
      ],
    });
  });

  it('one account-region failing does not stop the others; the execution then fails, naming the account and region', async () => {
    const { error, sweeps } = await run(LISTED, ['444455556666/eu-west-1']);
    expect(sweeps).toHaveLength(4);
    expect(error?.message).toMatch(/some guarded account-regions/);
    const d = definition(org.hub);
    expect(d.States.SweepIncomplete).toMatchObject({ Type: 'Fail', Error: SWEEP_INCOMPLETE_ERROR });
  });

  /** Some states of the synthesized definition, run on their own (aws-local-stepfunctions) with `input`. */
  function runStates(states: Record<string, unknown>, startAt: string, input: Record<string, unknown>) {
    return new StateMachine({ StartAt: startAt, States: states } as never).run(input as never).result;
  }

  it('an account whose regions all swept ends {failed: false}; one with failed regions: how many, and the first error', async () => {
    const { output } = await run(LISTED);
    expect(output?.results).toEqual([
      { account: '111122223333', failed: false },
      { account: '444455556666', failed: false },
    ]);
    const child = (
      definition(org.hub).States.SweepAccounts as { ItemProcessor: { States: Record<string, unknown> } }
    ).ItemProcessor.States;
    const { SweepRegions: _regions, ...tail } = child;
    const ended = (swept: unknown[]) =>
      runStates(tail, 'SweepAccountDone', {
        account: '444455556666',
        regions: LISTED.regions,
        id: 'sweep-1',
        swept,
      });
    const swept = { failed: false, gap: false, s: 's' };
    expect(await ended([swept, swept])).toEqual({ account: '444455556666', failed: false });
    expect(
      await ended([
        { failed: true, gap: false, s: 'x', error: 'us-east-1: AccountAccessError' },
        { failed: false, gap: true, s: 'd' },
        { failed: true, gap: false, s: 'x', error: 'eu-west-1: AccountAccessError' },
      ]),
    ).toEqual({
      account: '444455556666',
      failed: true,
      failedRegions: 2,
      error: 'us-east-1: AccountAccessError',
      statuses: ['x', 'd', 'x'],
    });
    // A coverage gap alone: the account's statuses, not a failure.
    expect(await ended([swept, { failed: false, gap: true, s: 'n' }])).toEqual({
      account: '444455556666',
      failed: false,
      statuses: ['s', 'n'],
    });
  });

  it('coverage gaps (not-enrolled, not-enabled) are listed per account and region, and are not failures: the sweep succeeds', async () => {
    const { output, error } = await run(LISTED, [], {
      '444455556666/us-east-1': 'not-enrolled',
      '444455556666/eu-west-1': 'not-enrolled',
      '111122223333/eu-west-1': 'not-enabled',
    });
    expect(error).toBeUndefined();
    expect(output).toEqual({
      accounts: 2,
      regions: 2,
      reported: 2,
      anyFailed: false,
      results: [
        { account: '111122223333', failed: false, statuses: ['s', 'd'] },
        { account: '444455556666', failed: false, statuses: ['n', 'n'] },
      ],
    });
    // With an error besides a gap, the sweep fails (SweepIncomplete: only on `error`), and keeps the gap.
    const failing = await run(LISTED, ['111122223333/us-east-1'], {
      '111122223333/eu-west-1': 'not-enabled',
    });
    expect(failing.error?.message).toMatch(/some guarded account-regions/);
  });

  it("a region's failure is reported as '<region>: <error name>'", async () => {
    const regions = (
      definition(org.hub).States.SweepAccounts as { ItemProcessor: { States: Record<string, MapLike> } }
    ).ItemProcessor.States.SweepRegions as MapLike;
    const failed = await runStates(
      { SweepTargetFailed: regions.ItemProcessor.States.SweepTargetFailed },
      'SweepTargetFailed',
      {
        kind: 'target',
        account: '444455556666',
        region: 'eu-west-1',
        id: 'sweep-1',
        error: { Error: 'AccountAccessError', Cause: 'cannot assume' },
      },
    );
    expect(failed).toEqual({ failed: true, gap: false, s: 'x', error: 'eu-west-1: AccountAccessError' });
  });

  it('a child execution that failed as a whole (no result: an Express child past 5 minutes) fails the sweep: fewer accounts reported than listed', async () => {
    const { Summarize, AnyTargetFailed, SweepIncomplete, SweepComplete } = definition(org.hub).States;
    const states = { Summarize, AnyTargetFailed, SweepIncomplete, SweepComplete };
    const summary = (results: unknown[]) =>
      runStates(states, 'Summarize', { listed: { ...LISTED, id: 'sweep-1' }, results });
    await expect(summary([{ failed: false }, { failed: false }])).resolves.toEqual({
      accounts: 2,
      regions: 2,
      reported: 2,
      anyFailed: false,
      results: [{ failed: false }, { failed: false }],
    });
    await expect(
      summary([{ failed: false }, { Error: 'States.Timeout', Cause: 'the child execution timed out' }]),
    ).rejects.toThrow(/some guarded account-regions/);
    await expect(
      summary([
        { failed: false },
        { account: '444455556666', failed: true, failedRegions: 1, error: 'eu-west-1: X' },
      ]),
    ).rejects.toThrow(/some guarded account-regions/);
  });

  it('no accounts or no regions: nothing swept, success', async () => {
    for (const listed of [
      { accounts: [], regions: LISTED.regions },
      { accounts: LISTED.accounts, regions: [] },
    ]) {
      const { error, sweeps } = await run(listed);
      expect(error).toBeUndefined();
      expect(sweeps).toEqual([]);
    }
  });

  it('its role may invoke the sweep function only (and run its own child executions); alarms on failure and timeout', () => {
    const [id, machine] = machineOf(org.hub);
    const roleId = (props(machine).RoleArn as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    const statements = statementsOfRole(org.hub.Resources, roleId);
    const sweep = functionIds(org.hub.Resources).Sweep;
    expect(statements.filter((s) => s.Action.includes('lambda:InvokeFunction'))).toEqual([
      { Action: ['lambda:InvokeFunction'], Resource: [`<${sweep}.Arn>`, `<${sweep}.Arn>:*`] },
    ]);
    expect(statements.find((s) => s.Action.includes('states:StartExecution'))?.Resource).toEqual([`<${id}>`]);
    const alarms = resourcesOfType(org.hub, 'AWS::CloudWatch::Alarm').map(([, r]) => props(r));
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut']) {
      expect(alarms).toContainEqual(
        expect.objectContaining({
          Namespace: 'AWS/States',
          MetricName: metric,
          Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: id } }],
        }),
      );
    }
    // The heartbeat counts the organization sweep's succeeded executions, two intervals, missing data breaching.
    expect(alarms).toContainEqual(
      expect.objectContaining({
        Namespace: 'AWS/States',
        MetricName: 'ExecutionsSucceeded',
        Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: id } }],
        EvaluationPeriods: 2,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching',
      }),
    );
  });
});

describe('StackSet', () => {
  it('service-managed, auto-deployment on, the configured regions, OU targets from the SpokeOrganizationalUnitIds parameter', () => {
    const set = stackSetOf(org);
    expect(set).toMatchObject({
      PermissionModel: 'SERVICE_MANAGED',
      AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
      CallAs: { Ref: 'StackSetCallAs' },
      Capabilities: ['CAPABILITY_NAMED_IAM'],
      ManagedExecution: { Active: true },
      OperationPreferences: {
        RegionConcurrencyType: 'PARALLEL',
        ConcurrencyMode: 'SOFT_FAILURE_TOLERANCE',
        MaxConcurrentPercentage: 25,
        FailureTolerancePercentage: 100,
      },
      StackInstancesGroup: [
        {
          Regions: ['us-east-1', 'eu-west-1'],
          DeploymentTargets: { OrganizationalUnitIds: { Ref: 'SpokeOrganizationalUnitIds' } },
        },
      ],
    });
    expect(nagFlatten(set.StackSetName)).toBe('<AWS::StackName>-spoke');
    expect(org.hub.Parameters?.SpokeOrganizationalUnitIds).toMatchObject({ Type: 'CommaDelimitedList' });
    expect(org.hub.Parameters?.SpokeOrganizationalUnitIds?.Default).toBeUndefined();
    expect(org.hub.Parameters?.StackSetCallAs).toMatchObject({
      Default: 'DELEGATED_ADMIN',
      AllowedValues: ['DELEGATED_ADMIN', 'SELF'],
    });
  });

  it('account list: only the listed accounts of the target OUs (INTERSECTION)', () => {
    expect(stackSetOf(list).StackInstancesGroup).toEqual([
      {
        Regions: ['us-east-1'],
        DeploymentTargets: {
          OrganizationalUnitIds: { Ref: 'SpokeOrganizationalUnitIds' },
          Accounts: MEMBERS,
          AccountFilterType: 'INTERSECTION',
        },
      },
    ]);
  });

  it('no configured regions: the SpokeRegions parameter; spokeStackSet false: no StackSet and no StackSet parameter', () => {
    const noRegions = synthOrg({ accounts: 'organization', organizationId: ORG, hubRegion: 'eu-west-1' });
    expect(noRegions.hub.Parameters?.SpokeRegions).toMatchObject({ Type: 'CommaDelimitedList' });
    expect((stackSetOf(noRegions).StackInstancesGroup as { Regions: unknown }[])[0]?.Regions).toEqual({
      Ref: 'SpokeRegions',
    });
    const without = synthOrg(ORG_CONFIG, { spokeStackSet: false });
    expect(resourcesOfType(without.hub, 'AWS::CloudFormation::StackSet')).toEqual([]);
    expect(Object.keys(without.hub.Parameters ?? {})).toEqual(['BootstrapVersion']);
    expect(without.hubStack.hubBus).toBeDefined();
  });

  it('the template is the spoke, published as a file asset of the hub; it needs no CDK bootstrap', () => {
    const url = nagFlatten(stackSetOf(org).TemplateURL);
    const match =
      /^https:\/\/s3\.eu-west-1\.<AWS::URLSuffix>\/cdk-hnb659fds-assets-<AWS::AccountId>-eu-west-1\/([0-9a-f]{64})\.json$/.exec(
        url,
      );
    expect(match, url).not.toBeNull();
    const asset = org.assets.files[match?.[1] ?? ''];
    expect(asset?.source).toEqual({
      path: org.hubStack.spokeStackSet?.spoke.templateFile,
      packaging: 'file',
    });
    // The same template as the TrailguardSpoke stack (only the DLQ policy Sids, made from construct paths, differ).
    const withoutSids = (t: Template) =>
      JSON.parse(
        JSON.stringify(t).replace(/"AllowEventRuleTrailguardSpoke[A-Za-z0-9]*"/g, '"Sid"'),
      ) as Template;
    expect(withoutSids(org.stackSetTemplate)).toEqual(withoutSids(org.spoke));
    expect(org.stackSetTemplate.Parameters?.BootstrapVersion).toBeUndefined();
    expect(org.stackSetTemplate.Rules).toBeUndefined();
    // Its content changes the asset: another configuration, another hash.
    const otherUrl = nagFlatten(stackSetOf(list).TemplateURL);
    expect(otherUrl).not.toBe(url);
  });

  it('parameters: the hub bus, the exact function roles, the mutating roles, the hub region, the organization', () => {
    const parameters = Object.fromEntries(
      (stackSetOf(org).Parameters as { ParameterKey: string; ParameterValue: unknown }[]).map((p) => [
        p.ParameterKey,
        nagFlatten(p.ParameterValue),
      ]),
    );
    const bus = resourcesOfType(org.hub, 'AWS::Events::EventBus')[0]?.[0];
    const roles = (fns: readonly string[]) =>
      fns.map((fn) => `<${roleIdOf(org.hub.Resources, fn)}.Arn>`).join(',');
    expect(parameters).toEqual({
      HubEventBusArn: `<${bus}.Arn>`,
      ...Object.fromEntries(
        MEMBER_ROLES.map((role) => [TRUST_PARAMETER[role], roles(EXPECTED_MEMBER_ROLE_TRUST[role])]),
      ),
      HubMutatingRoleArns: roles(['RestoreLogGroup', 'RestoreRole', 'RestoreTrail']),
      RemediationRoleRegion: 'eu-west-1',
      OrganizationId: ORG,
    });
    // Every parameter the spoke declares (but CDK's) is given, and nothing else.
    expect(Object.keys(parameters).sort()).toEqual(Object.keys(org.stackSetTemplate.Parameters ?? {}).sort());
    // Without the delivery check there is no CheckDelivery role to trust.
    const noDelivery = synthOrg({ ...ORG_CONFIG, deliveryCheckMinutes: 0 });
    const trusted = (
      stackSetOf(noDelivery).Parameters as { ParameterKey: string; ParameterValue: unknown }[]
    ).find((p) => p.ParameterKey === 'HubReadRoleArns');
    expect(nagFlatten(trusted?.ParameterValue)).toBe(roles(['Check', 'Verify', 'Sweep']));
  });
});

describe('spoke', () => {
  const rule = (t: Template, name: string) => props(t.Resources[ruleIds(t.Resources)[name] ?? '']);
  const forwardingRoleId = (t: Template) =>
    resourcesOfType(t, 'AWS::IAM::Role').find(([id]) => id.startsWith('ForwardingRole'))?.[0] ?? '';

  it('parameters: the hub bus, the hub roles, the role region (default the hub region), the organization id', () => {
    expect(org.spoke.Parameters).toMatchObject({
      HubEventBusArn: { Type: 'String' },
      ...Object.fromEntries(
        MEMBER_ROLES.map((role) => [TRUST_PARAMETER[role], { Type: 'CommaDelimitedList' }]),
      ),
      HubMutatingRoleArns: { Type: 'CommaDelimitedList' },
      RemediationRoleRegion: { Type: 'String', Default: 'eu-west-1' },
      OrganizationId: { Type: 'String', Default: ORG },
    });
    expect(list.spoke.Parameters?.OrganizationId?.Default).toBe('');
  });

  it('three rules on the default bus, the hub patterns with this account’s remediation role excluded, each forwarding to the hub bus through the forwarding role with its own DLQ', () => {
    const single = synth();
    const role = forwardingRoleId(org.spoke);
    const dlqs = new Set<unknown>();
    expect(Object.keys(ruleIds(org.spoke.Resources)).sort()).toEqual([
      'DependencyTrigger',
      'FindingsTrigger',
      'Trigger',
    ]);
    for (const name of ['Trigger', 'DependencyTrigger', 'FindingsTrigger']) {
      const r = rule(org.spoke, name);
      expect(r.EventBusName, name).toBeUndefined();
      expect(r.State).toBe('ENABLED');
      const targets = r.Targets as Record<string, unknown>[];
      expect(targets, name).toEqual([
        {
          Id: 'Target0',
          Arn: { Ref: 'HubEventBusArn' },
          RoleArn: getAtt(role),
          DeadLetterConfig: { Arn: getAtt(expect.stringMatching(new RegExp(`^${name}DeadLetterQueue`))) },
        },
      ]);
      dlqs.add(JSON.stringify(targets[0]?.DeadLetterConfig));
      // The hub's pattern, but for the excluded roles.
      const strip = (p: unknown) =>
        JSON.parse(JSON.stringify(p, (k, v) => (k === 'anything-but' ? 'EXCLUDED' : v))) as unknown;
      const hubPattern = props(single.resources[ruleIds(single.resources)[name] ?? '']).EventPattern;
      expect(strip(r.EventPattern), name).toEqual(strip(hubPattern));
    }
    expect(dlqs.size).toBe(3);
    expect(
      Object.keys(ruleIds(synthOrg({ ...ORG_CONFIG, securityHub: false }).spoke.Resources)).sort(),
    ).toEqual(['DependencyTrigger', 'Trigger']);
  });

  it('excluded: the member roles by name and the hub’s mutating roles; root, users and other roles still forwarded', () => {
    const refs = {
      'AWS::Partition': 'aws',
      'AWS::AccountId': '111122223333',
      'AWS::Region': 'eu-west-1',
      HubMutatingRoleArns: [
        'arn:aws:iam::999999999999:role/hub-restore-trail',
        'arn:aws:iam::999999999999:role/hub-restore-role',
      ],
    };
    const pattern = resolveWith(rule(org.spoke, 'Trigger').EventPattern, refs) as EventPattern;
    const event = (userIdentity: Record<string, unknown>) => ({
      source: 'aws.cloudtrail',
      'detail-type': 'AWS API Call via CloudTrail',
      detail: { eventSource: 'cloudtrail.amazonaws.com', eventName: 'StopLogging', userIdentity },
    });
    const assumed = (arn: string) =>
      event({ type: 'AssumedRole', sessionContext: { sessionIssuer: { arn } } });
    for (const role of MEMBER_ROLES) {
      expect(
        matchesEventPattern(
          pattern,
          assumed(
            `arn:aws:iam::111122223333:role/trailguard-remediation${EXPECTED_MEMBER_ROLE_SUFFIX[role]}`,
          ),
        ),
        role,
      ).toBe(false);
    }
    expect(matchesEventPattern(pattern, assumed('arn:aws:iam::999999999999:role/hub-restore-trail'))).toBe(
      false,
    );
    expect(matchesEventPattern(pattern, assumed('arn:aws:iam::111122223333:role/Admin'))).toBe(true);
    expect(matchesEventPattern(pattern, event({ type: 'Root' }))).toBe(true);
    expect(matchesEventPattern(pattern, event({ type: 'IAMUser' }))).toBe(true);
    // A renamed remediation role is excluded by its name.
    const named = synthOrg({ ...ORG_CONFIG, remediationRoleName: 'sec-trailguard' });
    const renamed = resolveWith(rule(named.spoke, 'DependencyTrigger').EventPattern, refs) as {
      detail: {
        $or: {
          userIdentity: { sessionContext: { sessionIssuer: { arn: [{ 'anything-but': string[] }] } } };
        }[];
      };
    };
    expect(renamed.detail.$or[1]?.userIdentity.sessionContext.sessionIssuer.arn[0]['anything-but']).toEqual([
      ...MEMBER_ROLES.map(
        (role) => `arn:aws:iam::111122223333:role/sec-trailguard${EXPECTED_MEMBER_ROLE_SUFFIX[role]}`,
      ),
      ...refs.HubMutatingRoleArns,
    ]);
  });

  it('IAM events: the dependency rule matches IAM role changes in every region (EventBridge has them in us-east-1 only)', () => {
    const pattern = rule(org.spoke, 'DependencyTrigger').EventPattern as {
      source: string[];
      region?: unknown;
    };
    expect(pattern.source).toContain('aws.iam');
    expect(pattern.region).toBeUndefined();
    expect(org.spoke.Conditions).not.toHaveProperty('IsUsEast1');
    expect(rule(org.spoke, 'DependencyTrigger').Condition).toBeUndefined();
  });

  it('the forwarding role: events.amazonaws.com of this account only; events:PutEvents on the hub bus only', () => {
    const id = forwardingRoleId(org.spoke);
    expect(props(org.spoke.Resources[id]).AssumeRolePolicyDocument).toEqual({
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
    expect(statementsOfRole(org.spoke.Resources, id)).toEqual([
      { Action: ['events:PutEvents'], Resource: ['<HubEventBusArn>'] },
    ]);
  });

  it('dead-letter queues: encrypted, kept 14 days, TLS only, EventBridge may send only for its own rule', () => {
    const queues = idsOfType(org.spoke.Resources, 'AWS::SQS::Queue');
    expect(queues).toHaveLength(3);
    for (const q of queues) {
      expect(props(org.spoke.Resources[q])).toEqual({
        MessageRetentionPeriod: 1209600,
        SqsManagedSseEnabled: true,
      });
      const policy = Object.values(org.spoke.Resources).find(
        (r) =>
          r.Type === 'AWS::SQS::QueuePolicy' &&
          (props(r).Queues as { Ref: string }[]).some((ref) => ref.Ref === q),
      );
      const statements = (props(policy).PolicyDocument as { Statement: unknown[] }).Statement;
      expect(statements).toContainEqual({
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'sqs:*',
        Resource: getAtt(q),
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      });
      const name = q.replace(/DeadLetterQueue.*$/, '');
      expect(statements).toContainEqual(
        expect.objectContaining({
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Condition: { ArnEquals: { 'aws:SourceArn': getAtt(ruleIds(org.spoke.Resources)[name]) } },
        }),
      );
    }
  });

  describe('the member roles', () => {
    const roleOf = (t: Template, role: MemberRole) => {
      const [id, r] =
        resourcesOfType(t, 'AWS::IAM::Role').find(([, r]) =>
          String(props(r).RoleName ?? '').endsWith(EXPECTED_MEMBER_ROLE_SUFFIX[role]),
        ) ?? [];
      if (!id || !r) throw new Error(`no ${role} member role`);
      return { id, r, p: props(r) };
    };
    /** A role's managed policies (ManagedPolicyArns: Refs), in order. */
    const policiesOf = (t: Template, role: MemberRole) =>
      ((roleOf(t, role).p.ManagedPolicyArns ?? []) as { Ref: string }[]).map((ref) => {
        const policy = t.Resources[ref.Ref] as CfnResource & { Condition?: string };
        expect(policy?.Type).toBe('AWS::IAM::ManagedPolicy');
        return {
          id: ref.Ref,
          policy,
          document: props(policy).PolicyDocument as { Statement: Record<string, unknown>[] },
        };
      });
    const statementsOf = (t: Template, role: MemberRole) =>
      policiesOf(t, role).flatMap((x) => x.document.Statement);

    it('one role per kind, named remediationRoleName plus its suffix, created only by the stack in RemediationRoleRegion (IAM is global)', () => {
      for (const role of MEMBER_ROLES) {
        const { r, p } = roleOf(org.spoke, role);
        expect(p.RoleName, role).toBe(`trailguard-remediation${EXPECTED_MEMBER_ROLE_SUFFIX[role]}`);
        expect((r as CfnResource & { Condition?: string }).Condition).toBe('CreateRemediationRole');
        expect(org.spoke.Outputs).toMatchObject({
          [`${memberRoleId(role)}Arn`]: { Condition: 'CreateRemediationRole' },
        });
        for (const { policy } of policiesOf(org.spoke, role))
          expect(policy.Condition).toBe('CreateRemediationRole');
      }
      expect((org.spoke.Conditions as Record<string, unknown>).CreateRemediationRole).toEqual({
        'Fn::Equals': [{ Ref: 'AWS::Region' }, { Ref: 'RemediationRoleRegion' }],
      });
      expect(resourcesOfType(org.spoke, 'AWS::IAM::Role').filter(([, r]) => props(r).RoleName)).toHaveLength(
        MEMBER_ROLES.length,
      );
      // Their policies too, and nothing else of the spoke.
      const conditional = Object.entries(org.spoke.Resources)
        .filter(([, r]) => (r as { Condition?: string }).Condition !== undefined)
        .map(([id]) => id);
      expect(conditional.sort()).toEqual(
        MEMBER_ROLES.flatMap((role) => [
          roleOf(org.spoke, role).id,
          ...policiesOf(org.spoke, role).map((x) => x.id),
        ]).sort(),
      );
      const renamed = synthOrg({ ...ORG_CONFIG, remediationRoleName: 'sec-tg' }).spoke;
      expect(props(roleOf(renamed, 'restore-trail').r).RoleName).toBe('sec-tg-trail');
    });

    it('each trusted only by its own hub function roles (exact ARNs from its parameter), within the organization when its id is known', () => {
      for (const role of MEMBER_ROLES) {
        expect(roleOf(org.spoke, role).p.AssumeRolePolicyDocument, role).toEqual({
          Version: '2012-10-17',
          Statement: [
            {
              Sid: REMEDIATION_TRUST_SID,
              Effect: 'Allow',
              Principal: { AWS: { Ref: TRUST_PARAMETER[role] } },
              Action: 'sts:AssumeRole',
              Condition: {
                'Fn::If': [
                  'WithinOrganization',
                  { StringEquals: { 'aws:PrincipalOrgID': { Ref: 'OrganizationId' } } },
                  { Ref: 'AWS::NoValue' },
                ],
              },
            },
          ],
        });
      }
      expect((org.spoke.Conditions as Record<string, unknown>).WithinOrganization).toEqual({
        'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'OrganizationId' }, ''] }],
      });
    });

    it('IAM evaluation of the trusts: each role only by its listed hub roles, only from the organization', async () => {
      // The hub roles as the StackSet passes them: one per function.
      const hubRole = (fn: FunctionName) => `arn:aws:iam::999999999999:role/hub-${fn}`;
      const parameters = Object.fromEntries(
        MEMBER_ROLES.map((role) => [TRUST_PARAMETER[role], EXPECTED_MEMBER_ROLE_TRUST[role].map(hubRole)]),
      );
      const trust = (role: MemberRole, orgId: string) => {
        const template = structuredClone(roleOf(org.spoke, role).p.AssumeRolePolicyDocument) as {
          Statement: Record<string, unknown>[];
        };
        // Fn::If resolved as CloudFormation does for WithinOrganization (OrganizationId not empty).
        for (const st of template.Statement) {
          const [, yes] = (st.Condition as { 'Fn::If': [string, unknown, unknown] })['Fn::If'];
          if (orgId) st.Condition = yes;
          else delete st.Condition;
        }
        return resolveWith(template, { ...parameters, OrganizationId: orgId }) as {
          Statement: Record<string, unknown>[];
        };
      };
      const allowed = async (role: MemberRole, principal: string, principalOrg: string, orgId = ORG) => {
        const result = await runSimulation(
          {
            identityPolicies: [
              {
                name: 'any',
                policy: {
                  Version: '2012-10-17',
                  Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }],
                },
              },
            ],
            serviceControlPolicies: [],
            resourceControlPolicies: [],
            resourcePolicy: trust(role, orgId),
            request: {
              action: 'sts:AssumeRole',
              principal,
              resource: {
                accountId: '111122223333',
                resource: `arn:aws:iam::111122223333:role/trailguard-remediation${EXPECTED_MEMBER_ROLE_SUFFIX[role]}`,
              },
              contextVariables: { 'aws:PrincipalOrgID': principalOrg },
            },
          },
          {},
        );
        if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
        return result.overallResult === 'Allowed';
      };
      for (const role of MEMBER_ROLES) {
        for (const fn of FUNCTION_NAMES) {
          const own = EXPECTED_MEMBER_ROLE_TRUST[role].includes(fn);
          expect(await allowed(role, hubRole(fn), ORG), `${role} ${fn}`).toBe(own);
        }
        const [first] = EXPECTED_MEMBER_ROLE_TRUST[role];
        if (!first) throw new Error(`no function for ${role}`);
        expect(await allowed(role, hubRole(first), 'o-otherorg123'), role).toBe(false);
        expect(await allowed(role, hubRole(first), 'o-otherorg123', ''), role).toBe(true);
      }
    });

    it('permissions: exactly remediationRolePolicy(role) for this account; none of the hub’s topic, table, state machine or STS', () => {
      for (const s of [org, list]) {
        const stack = s.spokeStack;
        for (const role of MEMBER_ROLES) {
          const expected = stack.resolve(
            remediationRolePolicyDocument(
              {
                partition: stack.partition,
                account: stack.account,
                region: stack.region,
                urlSuffix: stack.urlSuffix,
                config: stack.config,
              },
              role,
            ),
          );
          // One customer managed policy of its own for the default configuration; no inline policy.
          expect(
            policiesOf(s.spoke, role).map((x) => x.document),
            role,
          ).toEqual([expected]);
          expect(roleOf(s.spoke, role).p.Policies).toBeUndefined();
          const actions = (expected as { Statement: { Action: string[] }[] }).Statement.flatMap(
            (st) => st.Action,
          );
          for (const prefix of [
            'sns:',
            'dynamodb:',
            'states:',
            'sts:',
            'kms:Decrypt',
            'organizations:List',
          ]) {
            expect(
              actions.filter((a) => a.startsWith(prefix)),
              `${role} ${prefix}`,
            ).toEqual([]);
          }
        }
      }
    });

    it('the read-only role reads only: every action it allows is a Get, List or Describe', () => {
      // A log group key serves its own region only (KMS keys are regional): one region with it.
      for (const config of [
        ORG_CONFIG,
        {
          ...ORG_CONFIG,
          cisMonitoring: true,
          kmsKeyArn: KEY,
          regions: ['us-east-1'],
          hubRegion: 'us-east-1',
        },
      ]) {
        const allowedActions = statementsOf(synthOrg(config).spoke, 'read')
          .filter((st) => st.Effect === 'Allow')
          .flatMap((st) => st.Action as string[]);
        expect(allowedActions.length).toBeGreaterThan(0);
        for (const action of allowedActions) expect(action).toMatch(/^[a-z0-9-]+:(Get|List|Describe)\w*$/);
      }
    });

    it('each role holds exactly the member-side statements of the hub functions that assume it; together, those of every function acting in members', () => {
      const hubOnly: readonly string[] = HUB_ONLY_STATEMENTS;
      const hubSids = (fns: readonly FunctionName[]) =>
        new Set(
          fns
            .flatMap((fn) => statementsOfFunction(org.hub.Resources, fn).map((st) => st.Sid ?? ''))
            .filter((sid) => sid && !hubOnly.includes(sid)),
        );
      const all = new Set<string>();
      for (const role of MEMBER_ROLES) {
        const sids = statementsOf(org.spoke, role).map((st) => String(st.Sid));
        expect(new Set(sids), role).toEqual(hubSids(EXPECTED_MEMBER_ROLE_TRUST[role]));
        for (const sid of sids) all.add(sid);
      }
      expect(all).toEqual(hubSids(MEMBER_FUNCTIONS));
      expect(statementsOf(org.spoke, 'restore-trail').map((st) => st.Sid)).toEqual([
        'ReadTrails',
        'ReadRoles',
        'ReadManagedPolicies',
        'RepairTrails',
        'PassDeliveryRolesToCloudTrail',
      ]);
      // Deletion protection (logs:PutLogGroupDeletionProtection) in the -log-group role only, on the managed groups.
      const protect = statementsOf(org.spoke, 'restore-log-group').find(
        (st) => st.Sid === 'ProtectLogGroups',
      );
      expect(protect?.Action).toEqual(['logs:PutLogGroupDeletionProtection']);
      expect(JSON.stringify(protect?.Resource)).toContain('log-group:CloudTrail/*');
      for (const role of MEMBER_ROLES.filter((r) => r !== 'restore-log-group')) {
        expect(
          statementsOf(org.spoke, role).flatMap((st) => st.Action as string[]),
          role,
        ).not.toContain('logs:PutLogGroupDeletionProtection');
      }
      expect(statementsOf(org.spoke, 'update-findings').map((st) => st.Sid)).toEqual([
        'ReadSecurityHubFindings',
        'UpdateSecurityHubFindings',
        ...findingUpdateDenials().map((st) => st.Sid),
      ]);
      expect([...all].sort()).toEqual(
        [
          'ListTrails',
          'ListEnabledRegions',
          'ReadTrails',
          'ReadLogGroups',
          'ReadLogGroupTags',
          'ReadRoles',
          'ReadManagedPolicies',
          'ReadOrganization',
          'CreateManagedLogGroups',
          'SetManagedLogGroupRetention',
          // logGroupDeletionProtection (default on): RestoreLogGroup protects the groups it creates.
          'ProtectLogGroups',
          'ReadLogGroupSnapshots',
          'RestoreLogGroupSnapshots',
          'PassSubscriptionRolesToCloudWatchLogs',
          'CreateDeliveryRoles',
          'RepairDeliveryRoles',
          'RepairTrails',
          'PassDeliveryRolesToCloudTrail',
          'ReadSecurityHubFindings',
          'UpdateSecurityHubFindings',
          ...findingUpdateDenials().map((st) => st.Sid),
        ].sort(),
      );
    });

    it('the configuration shapes them: Security Hub off, a log group KMS key, CIS monitoring (alarms notify the hub topic, passed by the StackSet)', () => {
      const config = parseConfig({ securityHub: false, kmsKeyArn: KEY, cisMonitoring: true });
      const ids = memberStatementIds({ config });
      expect(ids).not.toContain('UpdateSecurityHubFindings');
      expect(memberStatementIds({ config }, 'update-findings')).toEqual([]);
      expect(memberStatementIds({ config }, 'restore-log-group')).toEqual(
        expect.arrayContaining([
          'DescribeLogGroupKey',
          'ReadCisMonitoring',
          'WriteCisMonitoring',
          'WriteCisAlarms',
        ]),
      );
      expect(memberStatementIds({ config }, 'read')).toContain('ReadCisMonitoring');
      expect(memberStatementIds({ config }, 'read')).not.toContain('WriteCisAlarms');
      expect(() =>
        remediationRolePolicy({ partition: 'aws', account: '1', region: 'r', config }, 'restore-log-group'),
      ).toThrow(/CIS alarm topic/);

      const cis = synthOrg({ ...ORG_CONFIG, cisMonitoring: true });
      expect(cis.spoke.Parameters?.CisAlarmTopicArn).toMatchObject({ Type: 'String' });
      const statements = statementsOf(cis.spoke, 'restore-log-group');
      expect(statements.find((st) => st.Sid === 'WriteCisAlarms')?.Condition).toEqual({
        'ForAllValues:StringEquals': { 'cloudwatch:AlarmActions': [{ Ref: 'CisAlarmTopicArn' }] },
      });
      const passed = (stackSetOf(cis).Parameters as { ParameterKey: string; ParameterValue: unknown }[]).find(
        (x) => x.ParameterKey === 'CisAlarmTopicArn',
      );
      expect(passed?.ParameterValue).toEqual({ Ref: onlyIdOfType(cis.hub.Resources, 'AWS::SNS::Topic') });
    });

    it('a key per region (kmsKeys): the hub RestoreLogGroup and the member -log-group role may describe exactly those keys, and no other role any', () => {
      const keys = {
        'us-east-1': 'arn:aws:kms:us-east-1:123456789012:key/1111aaaa-1234',
        'eu-west-1': 'arn:aws:kms:eu-west-1:123456789012:key/2222bbbb-1234',
        [MEMBERS[0] ?? '']: { 'eu-west-1': `arn:aws:kms:eu-west-1:${MEMBERS[0]}:key/3333cccc-1234` },
      };
      const perRegion = synthOrg({ ...ORG_CONFIG, kmsKeys: keys });
      const all = [
        keys['us-east-1'],
        keys['eu-west-1'],
        `arn:aws:kms:eu-west-1:${MEMBERS[0]}:key/3333cccc-1234`,
      ];
      const describe = (statements: { Sid?: string; Action?: unknown; Resource?: unknown }[]) =>
        statements.find((st) => st.Sid === 'DescribeLogGroupKey');
      expect(describe(statementsOfFunction(perRegion.hub.Resources, 'RestoreLogGroup'))).toMatchObject({
        Action: ['kms:DescribeKey'],
        Resource: all,
      });
      expect(describe(statementsOf(perRegion.spoke, 'restore-log-group'))).toMatchObject({
        Action: ['kms:DescribeKey'],
        Resource: all,
      });
      expect(
        statementsOf(perRegion.spoke, 'restore-log-group').find(
          (st) => st.Sid === 'SetManagedLogGroupRetention',
        )?.Action,
      ).toEqual(['logs:PutRetentionPolicy', 'logs:AssociateKmsKey']);
      for (const role of MEMBER_ROLES.filter((r) => r !== 'restore-log-group')) {
        const kms = statementsOf(perRegion.spoke, role).flatMap((st) =>
          (st.Action as string[]).filter((a) => a.startsWith('kms:')),
        );
        expect(kms, role).toEqual([]);
      }
    });

    it('fit IAM’s quotas: each role as many managed policies (6,144 characters each) as the configuration needs, at most 10', () => {
      const config = parseConfig({
        managedRoleNames: Array.from({ length: 20 }, (_, i) => `existing-cloudtrail-delivery-role-${i}`),
        kmsKeyArn: KEY,
        cisMonitoring: true,
        logGroupNameTemplate: 'aws/cloudtrail/{account}/{trail}/events',
      });
      const worst = worstCaseMemberContext(config);
      const long = synthOrg({
        ...ORG_CONFIG,
        ...config,
        kmsKeyArn: KEY,
        regions: ['us-east-1'],
        hubRegion: 'us-east-1',
      });
      for (const role of MEMBER_ROLES) {
        const documents = remediationRolePolicyDocuments(worst, role);
        expect(documents.length, role).toBeLessThanOrEqual(10);
        for (const d of documents) expect(policySize(d)).toBeLessThanOrEqual(IAM_POLICY_QUOTAS.managedPolicy);
        expect(documents.flatMap((d) => d.Statement)).toEqual(remediationRolePolicy(worst, role));
        const policies = policiesOf(long.spoke, role);
        expect(policies, role).toHaveLength(documents.length);
        expect(policies.flatMap((x) => x.document.Statement.map((st) => st.Sid))).toEqual(
          remediationRolePolicy(worst, role).map((st) => st.Sid),
        );
        // The default configuration: one policy each.
        expect(remediationRolePolicyDocuments(worstCaseMemberContext(parseConfig({})), role)).toHaveLength(1);
      }
      // Twenty delivery role names outgrow one managed policy of the role repair role.
      expect(remediationRolePolicyDocuments(worst, 'restore-role').length).toBeGreaterThan(1);
    });
  });
});

describe('cdk-nag', () => {
  const nagSynth = (config: ConfigInput, options: Partial<BuildAppOptions> = {}) => {
    const { app } = buildApp({ bundling: false, nag: true, config, ...options });
    return () => app.synth();
  };

  it('AwsSolutions pass on the hub and the spoke (both forms of accounts, without organization id or regions, CIS and a KMS key)', () => {
    for (const config of [
      ORG_CONFIG,
      LIST_CONFIG,
      { accounts: 'organization', hubRegion: 'us-east-1' },
      {
        ...ORG_CONFIG,
        cisMonitoring: true,
        kmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/abcd-1234',
        regions: ['us-east-1'],
        hubRegion: 'us-east-1',
        managedRoleNames: ['ct-delivery'],
        deliveryCheckMinutes: 0,
      },
    ] satisfies ConfigInput[]) {
      expect(nagSynth(config), JSON.stringify(config)).not.toThrow();
    }
    expect(nagSynth(LIST_CONFIG, { spokeStackSet: false })).not.toThrow();
  });

  it('is really on in both spoke stacks: an unacknowledged wildcard fails synth', () => {
    for (const which of ['TrailguardSpoke', 'StackSet template'] as const) {
      const { app, stack, spoke } = buildApp({ bundling: false, nag: true, config: ORG_CONFIG });
      const scope = which === 'TrailguardSpoke' ? spoke : stack.spokeStackSet?.spoke;
      if (!scope) throw new Error('no spoke');
      const role = new iam.Role(scope, 'Unreviewed', {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      });
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }));
      expect(() => app.synth(), which).toThrow(/AwsSolutions-IAM5\[Resource::\*\]/);
    }
  });

  it('the member roles’ policies acknowledge exactly the wildcard findings their statements produce, with their reasons', () => {
    for (const role of Object.values(org.spokeStack.memberRoles)) {
      expect(role.policies.length).toBeGreaterThan(0);
      let offset = 0;
      for (const policy of role.policies) {
        const acks: Record<string, string> = {};
        for (const m of policy.node.metadata) {
          if (m.type !== 'aws:cdk:acknowledged-rules') continue;
          for (const [id, reason] of Object.entries(m.data as Record<string, string>)) {
            acks[id.replace(/^annotation::/i, '')] = reason;
          }
        }
        const statements = (policy.policyDocument as { Statement: typeof role.statements }).Statement;
        expect(statements).toEqual(role.statements.slice(offset, offset + statements.length));
        offset += statements.length;
        const findings = new Set(statements.flatMap((st) => wildcardFindings(org.spokeStack, st)));
        expect(Object.keys(acks).sort()).toEqual([...findings].map((f) => `AwsSolutions-IAM5[${f}]`).sort());
        for (const reason of Object.values(acks)) {
          expect(reason).toMatch(/^trailguard remediation role policy .*: \w+: .{20,}/);
        }
      }
      expect(offset).toBe(role.statements.length);
    }
    // Nothing else of the spoke acknowledges anything but the DLQs having no DLQ.
    const policies = Object.values(org.spokeStack.memberRoles).flatMap((role) => role.policies);
    const others: string[] = [];
    for (const c of org.spokeStack.node.findAll()) {
      if (policies.some((policy) => policy === c)) continue;
      for (const m of c.node.metadata) {
        if (m.type !== 'aws:cdk:acknowledged-rules') continue;
        for (const id of Object.keys(m.data as Record<string, string>)) {
          others.push(`${c.node.path} ${id.replace(/^annotation::/i, '')}`);
        }
      }
    }
    expect(others.sort()).toEqual(
      ['Trigger', 'DependencyTrigger', 'FindingsTrigger']
        .map((name) => `TrailguardSpoke/${name}/DeadLetterQueue AwsSolutions-SQS3`)
        .sort(),
    );
  });

  it('acknowledgements in the hub beyond the single-account ones: the organization sweep’s CDK grants only', () => {
    const acks: string[] = [];
    for (const c of org.hubStack.node.findAll()) {
      if (!c.node.path.startsWith('Trailguard/Sweep/OrganizationSweep/')) continue;
      for (const m of c.node.metadata) {
        if (m.type !== 'aws:cdk:acknowledged-rules') continue;
        for (const id of Object.keys(m.data as Record<string, string>))
          acks.push(id.replace(/^annotation::/i, ''));
      }
    }
    const sweep = functionIds(org.hub.Resources).Sweep;
    const machine = Stack.of(org.hubStack).getLogicalId(
      org.hubStack.sweep.organizationSweep?.stateMachine.node.defaultChild as never,
    );
    const executions = `arn:<AWS::Partition>:states:${ORG_CONFIG.hubRegion}:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${machine}"}]}]}`;
    expect(acks.sort()).toEqual(
      [
        'AwsSolutions-IAM5[Resource::*]',
        `AwsSolutions-IAM5[Resource::<${sweep}.Arn>:*]`,
        `AwsSolutions-IAM5[Resource::${executions}:*]`,
        `AwsSolutions-IAM5[Resource::${executions}/*:*]`,
      ].sort(),
    );
  });
});

describe('policies/iam.ts for a hub', () => {
  it('the organization form needs the organization id', () => {
    const ctx: PolicyContext = {
      partition: 'aws',
      account: '999999999999',
      region: 'eu-west-1',
      config: parseConfig({}),
      topicArn: 't',
      tableArn: 't',
      hub: { remediationRoleName: 'trailguard-remediation', accounts: 'organization' },
    };
    expect(() => functionPolicy('Check', ctx)).toThrow(/organization id/);
  });

  it('the remediation role never gets a statement about the hub', () => {
    const ids = memberStatementIds({
      config: parseConfig({ cisMonitoring: true, kmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/k' }),
    });
    for (const id of HUB_ONLY_STATEMENTS) expect(ids).not.toContain(id);
  });
});
