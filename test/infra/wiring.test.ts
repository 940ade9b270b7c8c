/**
 * The wiring of an organization deployment, read from the synthesized templates (the hub, the StackSet's spoke
 * template and the management account's own spoke stack), with every CloudFormation reference resolved as it
 * would be deployed (the hub in HUB's HUB_REGION, spokes in MEMBER and MANAGEMENT in each guarded region, the
 * StackSet's parameters and the hub's outputs as the hub passes them). Each cross-account or cross-region edge
 * is evaluated with the IAM evaluator (@cloud-copilot/iam-simulate, as test/infra/iam.test.ts) and the full
 * request context: the intended caller is allowed; a principal of another organization, another account, or a
 * hub function that should not have the access is denied.
 *
 * Edges:
 * - a spoke's forwarding rule -> the hub's bus (the rule's target, cross-account and cross-region);
 * - the spoke's forwarding role -> events:PutEvents on the hub's bus (its identity policy AND the bus policy);
 * - each hub function -> each member role (sts:AssumeRole: the function's policy AND the member role's trust);
 * - the hub canary function -> the member canary role `trailguard-canary-access` (config.canary.accounts);
 * - an organization trail -> only the management account's trail repair role may change it;
 * - CloudWatch (the hub's alarms) -> the hub topic, and its KMS key;
 * - KMS keys -> their users: the hub's data key (CloudWatch for the hub's alarms, the hub functions through the
 *   hub region's services), and the log group key policy docs/deploy.md documents for a key in another account
 *   (CloudWatch Logs of the key's region, for the guarded accounts' log groups of that region);
 * - a member's CIS alarm (multi-region CIS organization) -> a topic of its own region that admits its account,
 *   or no action; and its state change -> the hub bus through each spoke's AlarmNotification rule.
 *
 * AWS rules no policy shows, each checked as a rule with its page:
 * - alarm actions only in the alarm's own region (Amazon CloudWatch API Reference, PutMetricAlarm: AlarmActions):
 *   the hub's alarms, and the topics a member role may give the CIS alarms it creates at run time;
 * - a trail's log group in the trail's own account (CloudTrail User Guide, "Creating a trail for an
 *   organization" and "Sending events to CloudWatch Logs");
 * - KMS keys are regional (AWS KMS Developer Guide, "AWS KMS keys": a key is created in and used from one
 *   Region);
 * - a Distributed Map's Express children last at most 5 minutes (Step Functions Developer Guide, "Standard and
 *   Express workflow types", quotas).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app.js';
import type { ConfigInput } from '../../policies/config.js';
import { FUNCTION_NAMES, type FunctionName, MEMBER_ROLES, type MemberRole } from '../../policies/iam.js';
import { alarmEventPattern } from '../../services/domain/alarm-events.js';
import { CIS_CONTROLS, cisAlarmName, cisAlarmTopic } from '../../services/domain/cis-monitoring.js';
import { EXPECTED_MEMBER_ROLE_SUFFIX, EXPECTED_MEMBER_ROLE_TRUST } from '../support/member-roles.js';
import type { CfnResource } from './template.js';
import { roleIdOf } from './template.js';

const ORG = 'o-abcdef1234';
const OTHER_ORG = 'o-zyxwvu9876';
const HUB = '999999999999';
const HUB_REGION = 'eu-west-1';
const REGIONS = ['us-east-1', HUB_REGION];
const MEMBER = '111122223333';
const MANAGEMENT = '222233334444';
/** An account of another organization. */
const STRANGER = '555566667777';
const CONFIG = {
  accounts: 'organization',
  organizationId: ORG,
  regions: REGIONS,
  hubRegion: HUB_REGION,
} satisfies ConfigInput;

interface Template {
  Resources: Record<string, CfnResource & { Condition?: string }>;
  Parameters?: Record<string, { Type: string; Default?: string }>;
  Outputs?: Record<string, { Value: unknown }>;
  Conditions?: Record<string, unknown>;
}

/** Where a template is deployed, and how its own references resolve. */
interface Place {
  account: string;
  region: string;
  template: Template;
  parameters: Record<string, string | string[]>;
}

const NO_VALUE = Symbol('AWS::NoValue');

/** The deployed ARN of a resource of `place` (its logical id stands for its physical name). */
function arnOf(place: Place, id: string): string {
  const { account, region } = place;
  const type = place.template.Resources[id]?.Type;
  switch (type) {
    case 'AWS::IAM::Role':
      return `arn:aws:iam::${account}:role/${id}`;
    case 'AWS::Events::EventBus':
      return `arn:aws:events:${region}:${account}:event-bus/${id}`;
    case 'AWS::KMS::Key':
      return `arn:aws:kms:${region}:${account}:key/${id}`;
    case 'AWS::SNS::Topic':
      return `arn:aws:sns:${region}:${account}:${id}`;
    default:
      return `arn:aws:${String(type).split('::')[1]?.toLowerCase()}:${region}:${account}:${id}`;
  }
}

/** CloudFormation's evaluation of a condition of the spoke (the only ones used in policies). */
function condition(place: Place, name: string): boolean {
  const p = place.parameters;
  if (name === 'CreateRemediationRole') return place.region === p.RemediationRoleRegion;
  if (name === 'WithinOrganization') return p.OrganizationId !== '';
  throw new Error(`condition ${name} not modelled`);
}

/** Resolves every intrinsic of `value` as CloudFormation would deploy it at `place`. */
function resolve(place: Place, value: unknown): unknown {
  const go = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(go).filter((x) => x !== NO_VALUE);
    if (!v || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    const [key, ...more] = Object.keys(o);
    if (key && more.length === 0) {
      const arg = o[key];
      if (key === 'Ref') {
        const name = String(arg);
        if (name === 'AWS::Partition') return 'aws';
        if (name === 'AWS::AccountId') return place.account;
        if (name === 'AWS::Region') return place.region;
        if (name === 'AWS::URLSuffix') return 'amazonaws.com';
        if (name === 'AWS::StackName') return 'Trailguard';
        if (name === 'AWS::NoValue') return NO_VALUE;
        const parameter = place.parameters[name];
        if (parameter !== undefined) return parameter;
        const type = place.template.Resources[name]?.Type;
        if (!type) throw new Error(`no value for Ref ${name}`);
        return type === 'AWS::SNS::Topic' ? arnOf(place, name) : name;
      }
      if (key === 'Fn::GetAtt') {
        const [id, attribute] = arg as [string, string];
        if (attribute !== 'Arn') return `${id}.${attribute}`;
        return arnOf(place, id);
      }
      if (key === 'Fn::Join') {
        const [separator, parts] = arg as [string, unknown[]];
        return (go(parts) as unknown[]).flat().join(separator);
      }
      if (key === 'Fn::Split') {
        const [separator, text] = arg as [string, unknown];
        return String(go(text)).split(separator);
      }
      if (key === 'Fn::Select') {
        const [index, list] = arg as [number, unknown];
        return (go(list) as unknown[])[Number(index)];
      }
      if (key === 'Fn::If') {
        const [name, yes, no] = arg as [string, unknown, unknown];
        return go(condition(place, name) ? yes : no);
      }
      if (key.startsWith('Fn::')) throw new Error(`${key} not modelled`);
    }
    return Object.fromEntries(
      Object.entries(o)
        .map(([k, x]) => [k, go(x)] as const)
        .filter(([, x]) => x !== NO_VALUE),
    );
  };
  return go(value);
}

interface Deployment {
  hub: Place;
  /** The StackSet's spoke template in MEMBER (and the management account's own spoke stack), by region. */
  member: (region: string) => Place;
  management: (region: string) => Place;
  /** The same template in an account of another organization (a stranger deploying it). */
  stranger: (region: string) => Place;
}

function deploy(config: ConfigInput): Deployment {
  const { app, stack, spoke } = buildApp({ bundling: false, nag: false, config });
  if (!spoke || !stack.spokeStackSet) throw new Error('an organization hub has spokes');
  const assembly = app.synth();
  const hubTemplate = assembly.getStackByName(stack.stackName).template as Template;
  // The StackSet's template is a file asset of the hub, synthesized next to it.
  const stackSetTemplate = JSON.parse(
    readFileSync(join(assembly.directory, stack.spokeStackSet.spoke.templateFile), 'utf8'),
  ) as Template;
  const managementTemplate = assembly.getStackByName(spoke.stackName).template as Template;
  const hub: Place = { account: HUB, region: HUB_REGION, template: hubTemplate, parameters: {} };
  const list = (value: unknown, declared?: string) =>
    declared === 'CommaDelimitedList' ? String(value).split(',') : String(value);
  // What the hub passes to the StackSet, resolved in the hub.
  const stackSet = Object.values(hubTemplate.Resources).find(
    (r) => r.Type === 'AWS::CloudFormation::StackSet',
  );
  if (!stackSet) throw new Error('an organization hub has a StackSet');
  const passed = Object.fromEntries(
    (stackSet.Properties.Parameters as { ParameterKey: string; ParameterValue: unknown }[]).map((p) => [
      p.ParameterKey,
      list(resolve(hub, p.ParameterValue), stackSetTemplate.Parameters?.[p.ParameterKey]?.Type),
    ]),
  );
  // What the management account passes to its own spoke: the hub's outputs (docs/deploy.md).
  const outputs = Object.fromEntries(
    Object.entries(hubTemplate.Outputs ?? {}).map(([name, o]) => [name, resolve(hub, o.Value)]),
  );
  const direct = Object.fromEntries(
    Object.entries(managementTemplate.Parameters ?? {})
      .filter(([name]) => !name.startsWith('BootstrapVersion'))
      .map(([name, p]) => {
        // CisAlarmTopicArn: the hub's NotificationTopicArn (the spoke parameter's description says so).
        const output =
          outputs[`Spoke${name}`] ??
          outputs[name] ??
          (name === 'CisAlarmTopicArn' ? outputs.NotificationTopicArn : undefined) ??
          p.Default;
        if (output === undefined) throw new Error(`no hub output for the spoke parameter ${name}`);
        return [name, list(output, p.Type)];
      }),
  );
  return {
    hub,
    member: (region) => ({ account: MEMBER, region, template: stackSetTemplate, parameters: passed }),
    management: (region) => ({
      account: MANAGEMENT,
      region,
      template: managementTemplate,
      parameters: direct,
    }),
    stranger: (region) => ({ account: STRANGER, region, template: stackSetTemplate, parameters: passed }),
  };
}

type Document = { Version: string; Statement: unknown[] };

/** The identity policies attached to a role of `place`: its AWS::IAM::Policy documents and managed policies. */
function policiesOfRole(place: Place, roleId: string): Document[] {
  const resources = place.template.Resources;
  const inline = Object.values(resources)
    .filter(
      (r) =>
        r.Type === 'AWS::IAM::Policy' &&
        (r.Properties.Roles as { Ref: string }[]).some((ref) => ref.Ref === roleId),
    )
    .map((r) => resolve(place, r.Properties.PolicyDocument) as Document);
  const managed = ((resources[roleId]?.Properties.ManagedPolicyArns ?? []) as { Ref: string }[]).map(
    (ref) => resolve(place, resources[ref.Ref]?.Properties.PolicyDocument) as Document,
  );
  return [...inline, ...managed];
}

/** The member role `role` of a spoke place: its id, ARN, trust and policies. */
function memberRole(place: Place, role: MemberRole) {
  const found = Object.entries(place.template.Resources).find(
    ([, r]) =>
      r.Type === 'AWS::IAM::Role' &&
      String(r.Properties.RoleName ?? '').endsWith(EXPECTED_MEMBER_ROLE_SUFFIX[role]),
  );
  if (!found) throw new Error(`no ${role} member role`);
  const [id, r] = found;
  const name = String(r.Properties.RoleName);
  return {
    id,
    arn: `arn:aws:iam::${place.account}:role/${name}`,
    trust: resolve(place, r.Properties.AssumeRolePolicyDocument) as Document,
    policies: policiesOfRole(place, id),
  };
}

/** The IAM decision for one request: the caller's identity policies and the resource's policy, if any. */
async function decide(request: {
  identity: Document[];
  resourcePolicy?: Document;
  action: string;
  principal: string;
  resource: string;
  resourceAccount: string;
  context?: Record<string, string | string[]>;
}): Promise<boolean> {
  const result = await runSimulation(
    {
      identityPolicies: request.identity.map((policy, i) => ({ name: `policy-${i}`, policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(request.resourcePolicy ? { resourcePolicy: request.resourcePolicy } : {}),
      request: {
        action: request.action,
        principal: request.principal,
        resource: { accountId: request.resourceAccount, resource: request.resource },
        contextVariables: request.context ?? {},
      },
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(`iam-simulate: ${JSON.stringify(result.errors)}`);
  return result.overallResult === 'Allowed';
}

/** Whether `caller` may assume `target` in `account`, with the caller's and the resource's organization ids. */
function decideAssumeRole(
  caller: { arn: string; identity: Document[] },
  target: { arn: string; trust: Document },
  account: string,
  orgs: { principal: string; resource: string },
): Promise<boolean> {
  return decide({
    identity: caller.identity,
    resourcePolicy: target.trust,
    action: 'sts:AssumeRole',
    principal: caller.arn,
    resource: target.arn,
    resourceAccount: account,
    context: { 'aws:PrincipalOrgID': orgs.principal, 'aws:ResourceOrgID': orgs.resource },
  });
}

let d: Deployment;
beforeAll(() => {
  d = deploy(CONFIG);
});

const hubResources = () => d.hub.template.Resources;
const onlyOfType = (place: Place, type: string): [string, CfnResource] => {
  const found = Object.entries(place.template.Resources).filter(([, r]) => r.Type === type);
  expect(found, type).toHaveLength(1);
  return found[0] as [string, CfnResource];
};

describe('edge: a spoke’s forwarding rules -> the hub’s bus (cross-account, cross-region)', () => {
  it('every forwarding rule of every spoke, in every region, targets the hub’s bus through the spoke’s forwarding role', () => {
    const [busId] = onlyOfType(d.hub, 'AWS::Events::EventBus');
    const bus = arnOf(d.hub, busId);
    for (const region of REGIONS) {
      for (const place of [d.member(region), d.management(region)]) {
        const [roleId] =
          Object.entries(place.template.Resources).find(([id]) => id.startsWith('ForwardingRole')) ?? [];
        const rules = Object.values(place.template.Resources).filter((r) => r.Type === 'AWS::Events::Rule');
        expect(rules.length).toBeGreaterThan(0);
        for (const rule of rules) {
          const targets = resolve(place, rule.Properties.Targets) as { Arn: string; RoleArn: string }[];
          expect(targets.map((t) => [t.Arn, t.RoleArn])).toEqual([[bus, arnOf(place, roleId ?? '')]]);
        }
      }
    }
  });

  it('events:PutEvents on the hub bus: the forwarding role of an organization account is allowed; another organization’s, or any other bus, denied', async () => {
    const [busId, busPolicyResource] = onlyOfType(d.hub, 'AWS::Events::EventBusPolicy');
    expect(busId).toBeDefined();
    const statement = resolve(d.hub, busPolicyResource.Properties.Statement);
    const busPolicy: Document = { Version: '2012-10-17', Statement: [statement] };
    const [hubBusId] = onlyOfType(d.hub, 'AWS::Events::EventBus');
    const bus = arnOf(d.hub, hubBusId);
    const put = async (place: Place, resource: string, principalOrg: string) => {
      const [roleId] =
        Object.entries(place.template.Resources).find(([id]) => id.startsWith('ForwardingRole')) ?? [];
      return decide({
        identity: policiesOfRole(place, roleId ?? ''),
        resourcePolicy: busPolicy,
        action: 'events:PutEvents',
        principal: arnOf(place, roleId ?? ''),
        resource,
        resourceAccount: HUB,
        context: { 'aws:PrincipalOrgID': principalOrg, 'aws:ResourceOrgID': ORG },
      });
    };
    for (const region of REGIONS) {
      expect(await put(d.member(region), bus, ORG), region).toBe(true);
      expect(await put(d.management(region), bus, ORG), region).toBe(true);
      expect(await put(d.stranger(region), bus, OTHER_ORG), region).toBe(false);
      expect(await put(d.member(region), `arn:aws:events:${HUB_REGION}:${HUB}:event-bus/default`, ORG)).toBe(
        false,
      );
    }
  });
});

describe('edge: each hub function -> each member role (sts:AssumeRole across accounts)', () => {
  const hubFunction = (fn: FunctionName) => {
    const roleId = roleIdOf(hubResources(), fn);
    return { arn: arnOf(d.hub, roleId), identity: policiesOfRole(d.hub, roleId) };
  };
  const assume = (
    fn: FunctionName,
    target: { arn: string; trust: Document },
    account: string,
    orgs: { principal: string; resource: string },
  ) => decideAssumeRole(hubFunction(fn), target, account, orgs);

  it('the member roles exist once per account (in RemediationRoleRegion only), in the StackSet spoke and the management account’s spoke alike', () => {
    for (const place of [d.member(HUB_REGION), d.management(HUB_REGION)]) {
      for (const role of MEMBER_ROLES) {
        const { id } = memberRole(place, role);
        expect(place.template.Resources[id]?.Condition).toBe('CreateRemediationRole');
        expect(condition(place, 'CreateRemediationRole')).toBe(true);
      }
    }
    expect(condition(d.member('us-east-1'), 'CreateRemediationRole')).toBe(false);
  });

  it('intended caller allowed; every other hub function denied; in a member and in the management account', async () => {
    for (const place of [d.member(HUB_REGION), d.management(HUB_REGION)]) {
      for (const role of MEMBER_ROLES) {
        const target = memberRole(place, role);
        for (const fn of FUNCTION_NAMES) {
          const allowed = await assume(fn, target, place.account, { principal: ORG, resource: ORG });
          expect(allowed, `${fn} -> ${place.account} ${role}`).toBe(
            EXPECTED_MEMBER_ROLE_TRUST[role].includes(fn),
          );
        }
      }
    }
  });

  it('another organization: its principals cannot assume a member role, and no hub function can assume a role in its accounts', async () => {
    for (const role of MEMBER_ROLES) {
      const [fn] = EXPECTED_MEMBER_ROLE_TRUST[role];
      if (!fn) throw new Error(role);
      const target = memberRole(d.member(HUB_REGION), role);
      // The hub function as if it were outside the organization (aws:PrincipalOrgID another's).
      expect(await assume(fn, target, MEMBER, { principal: OTHER_ORG, resource: ORG }), role).toBe(false);
      // The same template deployed in another organization's account: the hub's statement does not reach it.
      const theirs = memberRole(d.stranger(HUB_REGION), role);
      expect(await assume(fn, theirs, STRANGER, { principal: ORG, resource: OTHER_ORG }), role).toBe(false);
    }
    // A principal of another account, even one the trust policy would name by mistake, has no grant here.
    const read = memberRole(d.member(HUB_REGION), 'read');
    expect(
      await decide({
        identity: [
          {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }],
          },
        ],
        resourcePolicy: read.trust,
        action: 'sts:AssumeRole',
        principal: `arn:aws:iam::${STRANGER}:role/Admin`,
        resource: read.arn,
        resourceAccount: MEMBER,
        context: { 'aws:PrincipalOrgID': ORG },
      }),
    ).toBe(false);
  });
});

describe('edge: the hub canary function -> the member canary role (config.canary.accounts)', () => {
  let c: Deployment;
  beforeAll(() => {
    c = deploy({ ...CONFIG, canary: { accounts: [MEMBER, MANAGEMENT] } });
  });
  const canaryRoleOf = (place: Place) => {
    const found = Object.entries(place.template.Resources).find(
      ([, r]) => r.Type === 'AWS::IAM::Role' && r.Properties.RoleName === 'trailguard-canary-access',
    );
    if (!found) throw new Error('no canary role');
    const [id, r] = found;
    return {
      id,
      condition: r.Condition,
      arn: `arn:aws:iam::${place.account}:role/trailguard-canary-access`,
      trust: resolve(place, r.Properties.AssumeRolePolicyDocument) as Document,
      policies: (resolve(place, r.Properties.Policies) as { PolicyDocument: Document }[]).map(
        (p) => p.PolicyDocument,
      ),
    };
  };
  const hubRole = (idPrefix: string) => {
    const [id] =
      Object.entries(c.hub.template.Resources).find(
        ([rid, r]) => r.Type === 'AWS::IAM::Role' && rid.startsWith(idPrefix),
      ) ?? [];
    if (!id) throw new Error(`no hub role ${idPrefix}`);
    return { arn: arnOf(c.hub, id), identity: policiesOfRole(c.hub, id) };
  };
  const assume = decideAssumeRole;
  const inOrg = { principal: ORG, resource: ORG };

  it('once per account (RemediationRoleRegion), in the StackSet spoke and the management account’s spoke; none without canary.accounts', () => {
    for (const place of [c.member(HUB_REGION), c.management(HUB_REGION)]) {
      expect(canaryRoleOf(place).condition).toBe('CreateRemediationRole');
    }
    expect(
      Object.values(d.member(HUB_REGION).template.Resources).some(
        (r) => r.Properties.RoleName === 'trailguard-canary-access',
      ),
    ).toBe(false);
  });

  it('intended caller (the hub canary function) allowed in a member and in the management account; every other hub function, and the hub canary role itself, denied', async () => {
    const canaryFunction = hubRole('CanaryFunctionRole');
    for (const place of [c.member(HUB_REGION), c.management(HUB_REGION)]) {
      const target = canaryRoleOf(place);
      expect(await assume(canaryFunction, target, place.account, inOrg), place.account).toBe(true);
      for (const fn of FUNCTION_NAMES) {
        const roleId = roleIdOf(c.hub.template.Resources, fn);
        const other = { arn: arnOf(c.hub, roleId), identity: policiesOfRole(c.hub, roleId) };
        expect(await assume(other, target, place.account, inOrg), `${fn} -> ${place.account}`).toBe(false);
      }
      expect(await assume(hubRole('CanaryCanaryRole'), target, place.account, inOrg)).toBe(false);
    }
  });

  it('another organization or account: denied; the hub canary function may assume no other role in a member', async () => {
    const canaryFunction = hubRole('CanaryFunctionRole');
    const target = canaryRoleOf(c.member(HUB_REGION));
    expect(await assume(canaryFunction, target, MEMBER, { principal: OTHER_ORG, resource: ORG })).toBe(false);
    const theirs = canaryRoleOf(c.stranger(HUB_REGION));
    expect(await assume(canaryFunction, theirs, STRANGER, { principal: ORG, resource: OTHER_ORG })).toBe(
      false,
    );
    const admin = {
      arn: `arn:aws:iam::${STRANGER}:role/Admin`,
      identity: [
        { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }] },
      ],
    };
    expect(await assume(admin, target, MEMBER, inOrg)).toBe(false);
    // Its own policy names only the canary roles of canary.accounts.
    const read = memberRole(c.member(HUB_REGION), 'read');
    expect(await assume(canaryFunction, read, MEMBER, inOrg)).toBe(false);
  });

  it('the member canary role: every write scoped to trailguard-canary-*, and no IAM action on itself', async () => {
    const place = c.member(HUB_REGION);
    const role = canaryRoleOf(place);
    const can = (action: string, resource: string) =>
      decide({ identity: role.policies, action, principal: role.arn, resource, resourceAccount: MEMBER });
    const arn = (service: string, rest: string) => `arn:aws:${service}:${HUB_REGION}:${MEMBER}:${rest}`;
    expect(
      await can('cloudtrail:StopLogging', arn('cloudtrail', 'trail/trailguard-canary-0a1b2c3d4e-x')),
    ).toBe(true);
    expect(await can('cloudtrail:StopLogging', arn('cloudtrail', 'trail/management-events'))).toBe(false);
    expect(await can('logs:DeleteLogGroup', arn('logs', 'log-group:trailguard-canary-0a1b2c3d4e-x'))).toBe(
      true,
    );
    expect(await can('logs:DeleteLogGroup', arn('logs', 'log-group:CloudTrail/management-events'))).toBe(
      false,
    );
    expect(await can('iam:DeleteRole', `arn:aws:iam::${MEMBER}:role/trailguard-canary-0a1b2c3d4e-x`)).toBe(
      true,
    );
    expect(await can('iam:DeleteRole', `arn:aws:iam::${MEMBER}:role/trailguard-remediation-read`)).toBe(
      false,
    );
    for (const action of ['iam:PutRolePolicy', 'iam:DeleteRole', 'iam:UpdateAssumeRolePolicy']) {
      expect(await can(action, role.arn), action).toBe(false);
    }
    expect(
      await can('s3:CreateBucket', `arn:aws:s3:::trailguard-canary-${MEMBER}-${HUB_REGION}-0a1b2c3d4e`),
    ).toBe(true);
    expect(await can('s3:CreateBucket', `arn:aws:s3:::trailguard-canary-${STRANGER}-${HUB_REGION}-x`)).toBe(
      false,
    );
    expect(await can('s3:PutObject', 'arn:aws:s3:::workload-bucket/key')).toBe(false);
  });
});

describe('edge: organization trails are repaired only through the management account’s trail repair role', () => {
  // CloudTrail User Guide, "Creating a trail for an organization": member accounts see the organization trail
  // but cannot change it; only the management account can (its log group must be in that account).
  const orgTrail = `arn:aws:cloudtrail:${HUB_REGION}:${MANAGEMENT}:trail/org-trail`;
  const repair = async (place: Place, role: MemberRole, action: string, resource: string) => {
    const target = memberRole(place, role);
    return decide({
      identity: target.policies,
      action,
      principal: target.arn,
      resource,
      resourceAccount: resource.split(':')[4] ?? '',
    });
  };

  it('UpdateTrail and StartLogging on the organization trail: the management account’s trail role only', async () => {
    for (const action of ['cloudtrail:UpdateTrail', 'cloudtrail:StartLogging']) {
      expect(await repair(d.management(HUB_REGION), 'restore-trail', action, orgTrail), action).toBe(true);
      expect(await repair(d.member(HUB_REGION), 'restore-trail', action, orgTrail), action).toBe(false);
      for (const role of MEMBER_ROLES.filter((r) => r !== 'restore-trail')) {
        expect(await repair(d.management(HUB_REGION), role, action, orgTrail), `${role} ${action}`).toBe(
          false,
        );
      }
    }
  });

  it('no Organizations write action anywhere: every organizations: action any policy of any template allows is a read', () => {
    const actions = new Set<string>();
    for (const place of [d.hub, d.member(HUB_REGION), d.management(HUB_REGION)]) {
      for (const r of Object.values(place.template.Resources)) {
        const documents = [
          r.Properties.PolicyDocument,
          ...((r.Properties.Policies as { PolicyDocument: unknown }[] | undefined) ?? []).map(
            (p) => p.PolicyDocument,
          ),
        ];
        for (const document of documents) {
          for (const st of ((document as Document | undefined)?.Statement ?? []) as Record<
            string,
            unknown
          >[]) {
            if (st.Effect !== 'Allow') continue;
            for (const a of [st.Action].flat())
              if (String(a).toLowerCase().startsWith('organizations:')) actions.add(String(a));
          }
        }
      }
    }
    expect(actions.size).toBeGreaterThan(0);
    for (const action of actions) expect(action).toMatch(/^organizations:(Describe|List)\w+$/);
  });
});

describe('edge: CloudWatch (the hub’s alarms) -> the hub topic and its key', () => {
  it('the topic policy admits CloudWatch only for alarms of the hub’s account and region; the key policy likewise', async () => {
    const [, topicPolicy] = onlyOfType(d.hub, 'AWS::SNS::TopicPolicy');
    const [topicId] = onlyOfType(d.hub, 'AWS::SNS::Topic');
    const topic = arnOf(d.hub, topicId);
    const policy = resolve(d.hub, topicPolicy.Properties.PolicyDocument) as Document;
    const publish = (account: string, region: string) =>
      decide({
        identity: [],
        resourcePolicy: policy,
        action: 'sns:Publish',
        principal: 'cloudwatch.amazonaws.com',
        resource: topic,
        resourceAccount: HUB,
        context: {
          'aws:SourceAccount': account,
          'aws:SourceArn': `arn:aws:cloudwatch:${region}:${account}:alarm:trailguard-x`,
          'aws:SecureTransport': 'true',
        },
      });
    expect(await publish(HUB, HUB_REGION)).toBe(true);
    expect(await publish(STRANGER, HUB_REGION)).toBe(false);
    expect(await publish(HUB, 'us-east-1')).toBe(false);
  });
});

describe('edge: KMS keys -> their users', () => {
  /** The hub's one customer managed key (the topic's and the tables'): its resolved key policy and ARN. */
  const dataKey = () => {
    const [id, key] = onlyOfType(d.hub, 'AWS::KMS::Key');
    return {
      arn: `arn:aws:kms:${HUB_REGION}:${HUB}:key/${id}`,
      policy: resolve(d.hub, key.Properties.KeyPolicy) as Document,
    };
  };

  it('the hub’s data key: CloudWatch may use it for the hub’s alarms (of the hub’s account and region) only', async () => {
    const key = dataKey();
    const use = (account: string, region: string, action = 'kms:GenerateDataKey') =>
      decide({
        identity: [],
        resourcePolicy: key.policy,
        action,
        principal: 'cloudwatch.amazonaws.com',
        resource: key.arn,
        resourceAccount: HUB,
        context: {
          'aws:SourceAccount': account,
          'aws:SourceArn': `arn:aws:cloudwatch:${region}:${account}:alarm:trailguard-x`,
        },
      });
    expect(await use(HUB, HUB_REGION)).toBe(true);
    expect(await use(HUB, HUB_REGION, 'kms:Decrypt')).toBe(true);
    expect(await use(MEMBER, HUB_REGION)).toBe(false);
    expect(await use(STRANGER, HUB_REGION)).toBe(false);
    expect(await use(HUB, 'us-east-1')).toBe(false);
    // CloudWatch may not do anything else with it.
    expect(await use(HUB, HUB_REGION, 'kms:ScheduleKeyDeletion')).toBe(false);
  });

  it('the hub’s data key: Notify may use it through SNS of the hub region; not through another region’s, not from another account', async () => {
    const key = dataKey();
    const roleId = roleIdOf(hubResources(), 'Notify');
    const use = (principal: string, identity: Document[], via: string) =>
      decide({
        identity,
        resourcePolicy: key.policy,
        action: 'kms:GenerateDataKey',
        principal,
        resource: key.arn,
        resourceAccount: HUB,
        context: { 'kms:ViaService': via, 'aws:PrincipalAccount': principal.split(':')[4] ?? '' },
      });
    const notify = arnOf(d.hub, roleId);
    expect(await use(notify, policiesOfRole(d.hub, roleId), `sns.${HUB_REGION}.amazonaws.com`)).toBe(true);
    expect(await use(notify, policiesOfRole(d.hub, roleId), 'sns.us-east-1.amazonaws.com')).toBe(false);
    // A principal of another account, even with an identity policy allowing every key: the key policy admits
    // only the hub account.
    const anyKey: Document = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }],
    };
    expect(
      await use(`arn:aws:iam::${STRANGER}:role/anything`, [anyKey], `sns.${HUB_REGION}.amazonaws.com`),
    ).toBe(false);
  });

  /**
   * The log group key statement docs/deploy.md ("Log group encryption (KMS)") documents for a key in account
   * 111122223333 serving members' log groups in eu-west-1, read from the document itself so the two stay one.
   */
  function documentedLogGroupKeyPolicy(): Document {
    const deployMd = readFileSync(join(import.meta.dirname, '../../docs/deploy.md'), 'utf8');
    const block = [...deployMd.matchAll(/```json\n([\s\S]*?)```/g)]
      .map((m) => m[1] ?? '')
      .find((text) => text.includes('CloudWatchLogsOfTheGuardedAccounts'));
    if (!block) throw new Error('docs/deploy.md documents no log group key statement');
    return { Version: '2012-10-17', Statement: [JSON.parse(block)] };
  }

  /**
   * The simulator does not model KMS's encryption context keys (`kms:EncryptionContext:<key>`: it matches a
   * variable key only after a `/`, and ignores this one; the first assertion below shows it). So the condition is
   * evaluated under the global ARN key `aws:SourceArn`, renamed on both sides (the policy's condition and the
   * request's context): the same operator (ArnLike) on the same values, the only change.
   */
  const ENCRYPTION_CONTEXT = 'kms:EncryptionContext:aws:logs:arn';
  const renamedForSimulator = (policy: Document): Document =>
    JSON.parse(JSON.stringify(policy).replaceAll(ENCRYPTION_CONTEXT, 'aws:SourceArn')) as Document;

  it('a log group key of another account (the key policy docs/deploy.md documents): CloudWatch Logs of the key’s region, for a guarded account’s log group of that region, only', async () => {
    const documented = documentedLogGroupKeyPolicy();
    expect(JSON.stringify(documented)).toContain(ENCRYPTION_CONTEXT);
    const key = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    // The simulator ignores the key as written: even the intended request is not allowed (see above).
    expect(
      await decide({
        identity: [],
        resourcePolicy: documented,
        action: 'kms:GenerateDataKey',
        principal: 'logs.eu-west-1.amazonaws.com',
        resource: key,
        resourceAccount: '111122223333',
        context: {
          [ENCRYPTION_CONTEXT]: 'arn:aws:logs:eu-west-1:444455556666:log-group:CloudTrail/org-trail',
        },
      }),
    ).toBe(false);
    const policy = renamedForSimulator(documented);
    const use = (service: string, logGroup: string, action = 'kms:GenerateDataKey') =>
      decide({
        identity: [],
        resourcePolicy: policy,
        action,
        principal: service,
        resource: key,
        resourceAccount: '111122223333',
        context: { 'aws:SourceArn': logGroup },
      });
    const group = (region: string, account: string) =>
      `arn:aws:logs:${region}:${account}:log-group:CloudTrail/org-trail`;
    // The intended use: CloudWatch Logs of eu-west-1, for a guarded member's log group there.
    expect(await use('logs.eu-west-1.amazonaws.com', group('eu-west-1', '444455556666'))).toBe(true);
    expect(await use('logs.eu-west-1.amazonaws.com', group('eu-west-1', '777788889999'), 'kms:Decrypt')).toBe(
      true,
    );
    // Another account's log group, a log group of another region, another region's CloudWatch Logs: denied.
    expect(await use('logs.eu-west-1.amazonaws.com', group('eu-west-1', STRANGER))).toBe(false);
    expect(await use('logs.eu-west-1.amazonaws.com', group('us-east-1', '444455556666'))).toBe(false);
    expect(await use('logs.us-east-1.amazonaws.com', group('eu-west-1', '444455556666'))).toBe(false);
    // Without the encryption context (a request that names no log group): denied, not vacuously allowed.
    expect(
      await decide({
        identity: [],
        resourcePolicy: policy,
        action: 'kms:GenerateDataKey',
        principal: 'logs.eu-west-1.amazonaws.com',
        resource: key,
        resourceAccount: '111122223333',
      }),
    ).toBe(false);
  });
});

describe('edge: a member’s CIS alarm -> a topic (multi-region CIS organization) and its state change -> the hub bus', () => {
  let cis: Deployment;
  beforeAll(() => {
    cis = deploy({ ...CONFIG, cisMonitoring: true });
  });

  /** Every place a CIS alarm can be created (its account and region): the hub's own account, a member, the management account. */
  const places = () => REGIONS.flatMap((region) => [cis.member(region), cis.management(region)]);

  it('every CIS alarm trailguard would create has actions only in its own region, on a topic whose policy admits the alarm’s account, or none', async () => {
    const [topicId] = onlyOfType(cis.hub, 'AWS::SNS::Topic');
    const hubTopic = arnOf(cis.hub, topicId);
    const [, topicPolicy] = onlyOfType(cis.hub, 'AWS::SNS::TopicPolicy');
    const policy = resolve(cis.hub, topicPolicy.Properties.PolicyDocument) as Document;
    const admits = (account: string, region: string) =>
      decide({
        identity: [],
        resourcePolicy: policy,
        action: 'sns:Publish',
        principal: 'cloudwatch.amazonaws.com',
        resource: hubTopic,
        resourceAccount: HUB,
        context: {
          'aws:SourceAccount': account,
          'aws:SourceArn': `arn:aws:cloudwatch:${region}:${account}:alarm:${cisAlarmName(CIS_CONTROLS[0] as never, 'CloudTrail/t')}`,
          'aws:SecureTransport': 'true',
        },
      });
    const hubPlaces = REGIONS.map((region) => ({ account: HUB, region }));
    let withAction = 0;
    for (const where of [...places(), ...hubPlaces]) {
      // What RestoreLogGroup gives the alarm (services/domain/cis-monitoring.ts cisAlarmTopic), for each place.
      const action = cisAlarmTopic(hubTopic, where);
      if (action === undefined) continue;
      withAction++;
      expect(action.split(':')[3], `${where.account} ${where.region}`).toBe(where.region);
      expect(await admits(where.account, where.region), `${where.account} ${where.region}`).toBe(true);
    }
    // The hub's own alarms in the hub region notify its topic; no other place gets an action.
    expect(withAction).toBe(1);
    // And the topic admits no member's or other region's alarm, so an action there could not notify anyway.
    expect(await admits(MEMBER, HUB_REGION)).toBe(false);
    expect(await admits(HUB, 'us-east-1')).toBe(false);
  });

  it('a member role may create a CIS alarm with no action, or with the hub topic only (cloudwatch:AlarmActions), never another topic', async () => {
    const [topicId] = onlyOfType(cis.hub, 'AWS::SNS::Topic');
    const hubTopic = arnOf(cis.hub, topicId);
    for (const place of places()) {
      const role = memberRole(place, 'restore-log-group');
      const put = (actions: string[]) =>
        decide({
          identity: role.policies,
          action: 'cloudwatch:PutMetricAlarm',
          principal: role.arn,
          resource: `arn:aws:cloudwatch:${place.region}:${place.account}:alarm:${cisAlarmName(CIS_CONTROLS[0] as never, 'CloudTrail/t')}`,
          resourceAccount: place.account,
          context: actions.length > 0 ? { 'cloudwatch:AlarmActions': actions } : {},
        });
      expect(await put([]), `${place.account} ${place.region}`).toBe(true);
      expect(await put([`arn:aws:sns:${place.region}:${STRANGER}:elsewhere`])).toBe(false);
      // The hub topic is what the condition names; cisAlarmTopic never gives it outside the hub's account and
      // region (the previous test), so a member's alarm gets no action and its state change is forwarded.
      expect(await put([hubTopic])).toBe(true);
    }
  });

  it('each spoke, in every region, forwards trailguard’s CIS alarm state changes to the hub bus', () => {
    const [busId] = onlyOfType(cis.hub, 'AWS::Events::EventBus');
    const bus = arnOf(cis.hub, busId);
    for (const place of places()) {
      const forwarding = Object.values(place.template.Resources).filter(
        (r) =>
          r.Type === 'AWS::Events::Rule' &&
          JSON.stringify(resolve(place, r.Properties.EventPattern)) === JSON.stringify(alarmEventPattern()),
      );
      expect(forwarding, `${place.account} ${place.region}`).toHaveLength(1);
      const targets = resolve(place, forwarding[0]?.Properties.Targets) as { Arn: string }[];
      expect(targets.map((t) => t.Arn)).toEqual([bus]);
      // The pattern matches the names trailguard gives its CIS alarms.
      const prefix = alarmEventPattern().detail.alarmName[0]?.prefix ?? '';
      for (const control of CIS_CONTROLS)
        expect(cisAlarmName(control, 'CloudTrail/t').startsWith(prefix)).toBe(true);
    }
  });
});

describe('rules AWS enforces that no policy shows', () => {
  /** Every alarm action's region differs from the alarm's: a violation each (CloudWatch API Reference, PutMetricAlarm). */
  const alarmRegionViolations = (place: Place) =>
    Object.entries(place.template.Resources)
      .filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm')
      .flatMap(([id, r]) =>
        ((resolve(place, r.Properties.AlarmActions) as string[] | undefined) ?? [])
          .filter((arn) => arn.split(':')[3] !== place.region)
          .map((arn) => `${id} in ${place.region} -> ${arn}`),
      );

  it('alarm actions only in the alarm’s own region (Amazon CloudWatch API Reference, PutMetricAlarm: AlarmActions)', () => {
    expect(Object.values(hubResources()).some((r) => r.Type === 'AWS::CloudWatch::Alarm')).toBe(true);
    expect(alarmRegionViolations(d.hub)).toEqual([]);
    for (const region of REGIONS) {
      expect(alarmRegionViolations(d.member(region))).toEqual([]);
      expect(alarmRegionViolations(d.management(region))).toEqual([]);
    }
  });

  /**
   * The CIS alarms a member role may create (RestoreLogGroup, at run time) may only have actions its
   * `cloudwatch:AlarmActions` condition names: each such topic must be in the region of the alarm, which is the
   * trail's home region, i.e. any region the spoke guards. A violation each (topic, region).
   */
  const cisAlarmTopicViolations = (place: Place, regions: readonly string[]) =>
    memberRole(place, 'restore-log-group')
      .policies.flatMap(
        (p) => p.Statement as { Sid?: string; Condition?: Record<string, Record<string, string[]>> }[],
      )
      .filter((st) => st.Sid === 'WriteCisAlarms')
      .flatMap((st) => st.Condition?.['ForAllValues:StringEquals']?.['cloudwatch:AlarmActions'] ?? [])
      .flatMap((topic) =>
        regions.filter((r) => topic.split(':')[3] !== r).map((r) => `${topic} for alarms in ${r}`),
      );

  it('the CIS alarms a member may create notify only a topic of their own region: the rule on a single-region organization, and on a topic in another region', () => {
    const single = deploy({ ...CONFIG, regions: [HUB_REGION], cisMonitoring: true });
    for (const place of [single.member(HUB_REGION), single.management(HUB_REGION)]) {
      const topics = memberRole(place, 'restore-log-group').policies.flatMap((p) =>
        (p.Statement as { Sid?: string }[]).filter((st) => st.Sid === 'WriteCisAlarms'),
      );
      expect(topics).toHaveLength(1);
      expect(cisAlarmTopicViolations(place, [HUB_REGION])).toEqual([]);
    }
    // The same role used for trails of another region: its topic is the hub's, in HUB_REGION.
    expect(cisAlarmTopicViolations(single.member(HUB_REGION), ['us-east-1'])).toEqual([
      `arn:aws:sns:${HUB_REGION}:${HUB}:${onlyOfType(single.hub, 'AWS::SNS::Topic')[0]} for alarms in us-east-1`,
    ]);
  });

  it('a trail’s log group in the trail’s own account (CloudTrail User Guide, "Creating a trail for an organization"): each member role creates log groups in its own account only', () => {
    for (const place of [d.member(HUB_REGION), d.management(HUB_REGION)]) {
      const statements = memberRole(place, 'restore-log-group').policies.flatMap(
        (p) => p.Statement as { Sid?: string; Resource: string[] }[],
      );
      const create = statements.find((st) => st.Sid === 'CreateManagedLogGroups');
      expect(create?.Resource.length).toBeGreaterThan(0);
      for (const arn of create?.Resource ?? []) expect(arn.split(':')[4], arn).toBe(place.account);
    }
  });

  it('KMS keys are regional (AWS KMS Developer Guide, "AWS KMS keys"): the hub’s key is used only through services of the hub region', () => {
    const keyUses = FUNCTION_NAMES.flatMap((fn) => policiesOfRole(d.hub, roleIdOf(hubResources(), fn)))
      .flatMap(
        (p) =>
          p.Statement as { Action: string[] | string; Condition?: Record<string, Record<string, string>> }[],
      )
      .filter((st) => [st.Action].flat().some((a) => a.startsWith('kms:')));
    expect(keyUses.length).toBeGreaterThan(0);
    for (const st of keyUses) {
      const via = st.Condition?.StringEquals?.['kms:ViaService'];
      expect(via, JSON.stringify(st)).toMatch(new RegExp(`^\\w+\\.${HUB_REGION}\\.amazonaws\\.com$`));
    }
    // No member role uses a KMS key without a configured one.
    for (const role of MEMBER_ROLES) {
      const actions = memberRole(d.member(HUB_REGION), role).policies.flatMap((p) =>
        (p.Statement as { Action: string[] }[]).flatMap((st) => st.Action),
      );
      expect(
        actions.filter((a) => a.startsWith('kms:')),
        role,
      ).toEqual([]);
    }
  });

  /**
   * The worst case, in seconds, of each Express child of a definition (Distributed Map with ExecutionType
   * EXPRESS): every task runs to its timeout on every attempt its retriers allow, with each retry's longest wait;
   * an inline Map runs its items `MaxConcurrency` at a time (`items` of them). `timeoutOf` gives a task's
   * timeout when the state has none (its Lambda function's).
   */
  function expressChildWorstCases(
    definition: { States: Record<string, unknown> },
    timeoutOf: (state: Record<string, unknown>) => number,
    items: number,
  ): number[] {
    type Retrier = {
      MaxAttempts?: number;
      IntervalSeconds?: number;
      BackoffRate?: number;
      MaxDelaySeconds?: number;
    };
    const task = (state: Record<string, unknown>) => {
      const timeout = Number(state.TimeoutSeconds ?? timeoutOf(state));
      let attempts = 1;
      let waits = 0;
      for (const r of (state.Retry as Retrier[] | undefined) ?? []) {
        for (let i = 0; i < (r.MaxAttempts ?? 3); i++) {
          attempts += 1;
          const wait = (r.IntervalSeconds ?? 1) * (r.BackoffRate ?? 2) ** i;
          waits += Math.min(wait, r.MaxDelaySeconds ?? wait);
        }
      }
      return attempts * timeout + waits;
    };
    // The states of one machine or processor, as a sum along its longest path (here: every state once).
    const duration = (states: Record<string, unknown>): number =>
      (Object.values(states) as Record<string, unknown>[]).reduce((sum, state) => {
        if (state.Type === 'Task') return sum + task(state);
        const processor = state.ItemProcessor as { States: Record<string, unknown> } | undefined;
        if (state.Type === 'Map' && processor) {
          const rounds = Math.ceil(items / Number(state.MaxConcurrency ?? items));
          return sum + rounds * duration(processor.States);
        }
        return sum;
      }, 0);
    const out: number[] = [];
    const visit = (states: Record<string, unknown>) => {
      for (const state of Object.values(states) as Record<string, unknown>[]) {
        const processor = state.ItemProcessor as
          | { ProcessorConfig?: { ExecutionType?: string }; States: Record<string, unknown> }
          | undefined;
        if (!processor) continue;
        if (processor.ProcessorConfig?.ExecutionType === 'EXPRESS') out.push(duration(processor.States));
        visit(processor.States);
      }
    };
    visit(definition.States);
    return out;
  }

  it('the 5-minute Express limit (Step Functions Developer Guide, "Standard and Express workflow types"): the rule, one compliant and one non-compliant child', () => {
    const child = (task: Record<string, unknown>, regions: Record<string, unknown> = {}) => ({
      States: {
        Accounts: {
          Type: 'Map',
          ItemProcessor: {
            ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'EXPRESS' },
            States: {
              Regions: {
                Type: 'Map',
                MaxConcurrency: 5,
                ...regions,
                ItemProcessor: { States: { T: { Type: 'Task', ...task } } },
              },
            },
          },
        },
      },
    });
    // 17 regions, 5 at a time: 4 rounds of a 60 s task, no retry: 240 s.
    expect(expressChildWorstCases(child({ TimeoutSeconds: 60 }), () => 900, 17)).toEqual([240]);
    // The same with a retrier (3 more attempts, waits 2+4+8): 4 x (4 x 60 + 14) = 1016 s.
    const retried = child({
      TimeoutSeconds: 60,
      Retry: [{ MaxAttempts: 3, IntervalSeconds: 2, BackoffRate: 2 }],
    });
    expect(expressChildWorstCases(retried, () => 900, 17)).toEqual([1016]);
    expect(expressChildWorstCases(retried, () => 900, 17)[0]).toBeGreaterThan(300);
    // A task without its own timeout: its function's.
    expect(expressChildWorstCases(child({}), () => 30, 5)).toEqual([30]);
  });

  it('the organization sweep’s Express child: its worst case within 5 minutes, for the configured regions and for 17', () => {
    const machines = Object.values(hubResources()).filter(
      (r) => r.Type === 'AWS::StepFunctions::StateMachine',
    );
    const definitions = machines.map(
      (m) =>
        JSON.parse(String(resolve(d.hub, m.Properties.DefinitionString))) as {
          States: Record<string, unknown>;
        },
    );
    const timeoutOf = (state: Record<string, unknown>) => {
      const fn = Object.entries(hubResources()).find(
        ([id, r]) => r.Type === 'AWS::Lambda::Function' && arnOf(d.hub, id) === state.Resource,
      );
      const timeout = fn?.[1].Properties.Timeout;
      if (typeof timeout !== 'number') throw new Error(`no function timeout for ${String(state.Resource)}`);
      return timeout;
    };
    // The configured regions, and 17 (every default-enabled commercial region): within the 5 minutes.
    for (const regions of [REGIONS.length, 17]) {
      const worst = definitions.flatMap((definition) =>
        expressChildWorstCases(definition, timeoutOf, regions),
      );
      expect(worst).toHaveLength(1);
      expect(worst[0], `${regions} regions`).toBeGreaterThan(0);
      expect(worst[0], `${regions} regions`).toBeLessThanOrEqual(300);
    }
  });
});
