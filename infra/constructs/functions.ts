/**
 * One Lambda function per workflow step, built from the handler registry. Every function gets the same
 * environment (built with `envFor` and checked against `HandlerEnvSchema` at synth time, so a missing or bad
 * variable fails `cdk synth`), its own log group and role, and only the permissions its step needs: see
 * `STEP_PERMISSIONS` and the `PERMISSIONS` capabilities below.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { z } from 'zod';
import { type Config, ConfigError, formatIssues } from '../../policies/config.js';
import { envFor, HandlerEnvSchema } from '../../services/handlers/env.js';
import { STEP_ENTRIES, type StepName } from '../../services/handlers/registry.js';

export type { StepName };

/** The repository root: handler entries in the registry are relative to it. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** CDK metadata key on each function's CfnFunction naming its step (the local runner maps functions by it). */
export const STEP_METADATA_KEY = 'trailguard:step';

const DEFAULT_TIMEOUT = Duration.seconds(30);
/** RestoreTrail waits on CloudTrail's validation of the delivery role; give it more room. */
const TIMEOUTS: Partial<Record<StepName, Duration>> = { RestoreTrail: Duration.seconds(60) };

/**
 * Checks a function environment against `HandlerEnvSchema` at synth time. Concrete values are validated with
 * their schema; CDK tokens (the topic ARN, table name and account, known only at deploy time) must be present
 * but are not pattern-checked. Unknown variables are rejected too. All problems are reported at once.
 */
export function validateHandlerEnvironment(env: Record<string, string | undefined>): void {
  const problems: string[] = [];
  const shape = HandlerEnvSchema.shape as Record<string, z.ZodType>;
  for (const [key, schema] of Object.entries(shape)) {
    const value = env[key];
    if (value === undefined) {
      if (!schema.safeParse(undefined).success) problems.push(`${key}: missing`);
      continue;
    }
    if (Token.isUnresolved(value)) {
      if (value.length === 0) problems.push(`${key}: empty`);
      continue;
    }
    const result = schema.safeParse(value);
    if (!result.success) problems.push(...formatIssues(result.error).map((p) => `${key}: ${p}`));
  }
  for (const key of Object.keys(env)) {
    if (!(key in shape)) problems.push(`${key}: not a variable of HandlerEnvSchema`);
  }
  if (problems.length > 0) throw new ConfigError(problems.map((p) => `Lambda environment ${p}`));
}

/** Lambda environment values must be strings; `envFor` returns the retention as a number. */
function stringify(env: Record<string, string | number | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) out[key] = String(value);
  return out;
}

/** Everything a capability needs to build its statements. */
interface GrantContext {
  config: Config;
  topic: sns.ITopic;
  auditTable: dynamodb.ITable;
  partition: string;
  account: string;
}

/**
 * A named set of permissions. The IAM review edits these and `STEP_PERMISSIONS`, nothing else.
 * `wildcards` are the cdk-nag AwsSolutions-IAM5 findings the statements produce (as cdk-nag renders the
 * resource or action), each with the reason it is accepted; they are acknowledged on the step's role only.
 */
interface Capability {
  statements(ctx: GrantContext): iam.PolicyStatement[];
  wildcards?: Record<string, string>;
}

const trailsOf = (c: GrantContext) => `arn:${c.partition}:cloudtrail:*:${c.account}:trail/*`;
const logGroupsOf = (c: GrantContext) => `arn:${c.partition}:logs:*:${c.account}:log-group:*`;
const rolesOf = (c: GrantContext) => `arn:${c.partition}:iam::${c.account}:role/*`;
const deliveryRoleOf = (c: GrantContext) =>
  `arn:${c.partition}:iam::${c.account}:role/${c.config.deliveryRoleName}`;

const ANY_TRAIL = 'Resource::arn:<AWS::Partition>:cloudtrail:*:<AWS::AccountId>:trail/*';
const ANY_LOG_GROUP = 'Resource::arn:<AWS::Partition>:logs:*:<AWS::AccountId>:log-group:*';
const ANY_ROLE = 'Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role/*';

export const PERMISSIONS = {
  /** Check / Verify / RestoreTrail: the trail, its status and tags (DescribeTrails has no resource type). */
  readTrails: {
    statements: (c) => [
      new iam.PolicyStatement({
        sid: 'ReadTrails',
        actions: ['cloudtrail:GetTrail', 'cloudtrail:GetTrailStatus', 'cloudtrail:ListTags'],
        resources: [trailsOf(c)],
      }),
      new iam.PolicyStatement({
        sid: 'DescribeTrails',
        actions: ['cloudtrail:DescribeTrails'],
        resources: ['*'],
      }),
    ],
    wildcards: {
      [ANY_TRAIL]: 'the trail an event or request names can be any trail of this account, in any region',
      'Resource::*': 'cloudtrail:DescribeTrails supports no resource-level permissions',
    },
  },
  readLogGroups: {
    statements: (c) => [
      new iam.PolicyStatement({
        sid: 'ReadLogGroups',
        actions: ['logs:DescribeLogGroups'],
        resources: [logGroupsOf(c)],
      }),
    ],
    wildcards: {
      [ANY_LOG_GROUP]: "a trail's log group can be any log group of this account, in any region",
    },
  },
  /** The trail's delivery role: trust policy, inline and attached permissions (any role a trail may use). */
  readRoles: {
    statements: (c) => [
      new iam.PolicyStatement({
        sid: 'ReadRoles',
        actions: ['iam:GetRole', 'iam:ListRolePolicies', 'iam:GetRolePolicy', 'iam:ListAttachedRolePolicies'],
        resources: [rolesOf(c)],
      }),
      new iam.PolicyStatement({
        sid: 'ReadManagedPolicies',
        actions: ['iam:GetPolicy', 'iam:GetPolicyVersion'],
        resources: [`arn:${c.partition}:iam::${c.account}:policy/*`, `arn:${c.partition}:iam::aws:policy/*`],
      }),
    ],
    wildcards: {
      [ANY_ROLE]: "a trail's delivery role can be any role of this account; only read actions",
      'Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:policy/*':
        "the delivery role's attached customer managed policies (read only)",
      'Resource::arn:<AWS::Partition>:iam::aws:policy/*':
        "the delivery role's attached AWS managed policies (read only)",
    },
  },
  /** RestoreLogGroup: create the trail's log group, set retention and tags (and its KMS key if configured). */
  writeLogGroups: {
    statements: (c) => [
      new iam.PolicyStatement({
        sid: 'WriteLogGroups',
        actions: [
          'logs:CreateLogGroup',
          'logs:PutRetentionPolicy',
          'logs:TagResource',
          'logs:TagLogGroup',
          'logs:ListTagsForResource',
          ...(c.config.kmsKeyArn ? ['logs:AssociateKmsKey'] : []),
        ],
        resources: [logGroupsOf(c)],
      }),
      ...(c.config.kmsKeyArn
        ? [
            new iam.PolicyStatement({
              sid: 'DescribeLogGroupKey',
              actions: ['kms:DescribeKey'],
              resources: [c.config.kmsKeyArn],
            }),
          ]
        : []),
    ],
    wildcards: {
      [ANY_LOG_GROUP]:
        'the log group to create is named by the trail (template or the ARN the trail already references), in the trail home region',
    },
  },
  /** RestoreRole: create or repair only the guardrail's own delivery role (config.deliveryRoleName). */
  writeDeliveryRole: {
    statements: (c) => [
      new iam.PolicyStatement({
        sid: 'WriteDeliveryRole',
        actions: [
          'iam:CreateRole',
          'iam:TagRole',
          'iam:UpdateAssumeRolePolicy',
          'iam:PutRolePolicy',
          'iam:GetRole',
          'iam:ListRolePolicies',
          'iam:GetRolePolicy',
          'iam:ListAttachedRolePolicies',
        ],
        resources: [deliveryRoleOf(c)],
      }),
    ],
  },
  /** RestoreTrail: point the trail at the log group and role, start logging; pass roles only to CloudTrail. */
  writeTrails: {
    statements: (c) => [
      new iam.PolicyStatement({
        sid: 'WriteTrails',
        actions: ['cloudtrail:UpdateTrail', 'cloudtrail:StartLogging'],
        resources: [trailsOf(c)],
      }),
      new iam.PolicyStatement({
        sid: 'PassDeliveryRoleToCloudTrail',
        actions: ['iam:PassRole'],
        resources: [rolesOf(c)],
        conditions: { StringEquals: { 'iam:PassedToService': 'cloudtrail.amazonaws.com' } },
      }),
    ],
    wildcards: {
      [ANY_TRAIL]: 'the trail to repair can be any trail of this account, in any region',
      [ANY_ROLE]:
        'UpdateTrail passes the delivery role the trail keeps (its own valid role, or the guardrail one); only to cloudtrail.amazonaws.com (iam:PassedToService)',
    },
  },
  publishNotifications: {
    statements: (c) => [
      new iam.PolicyStatement({ sid: 'Publish', actions: ['sns:Publish'], resources: [c.topic.topicArn] }),
      ...(c.topic.masterKey
        ? [
            new iam.PolicyStatement({
              sid: 'UseTopicKey',
              actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
              resources: [c.topic.masterKey.keyArn],
            }),
          ]
        : []),
    ],
  },
  writeAudit: {
    statements: (c) => [
      new iam.PolicyStatement({
        sid: 'WriteAuditRecords',
        actions: ['dynamodb:PutItem', 'dynamodb:GetItem'],
        resources: [c.auditTable.tableArn],
      }),
      ...(c.auditTable.encryptionKey
        ? [
            new iam.PolicyStatement({
              sid: 'UseAuditTableKey',
              actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
              resources: [c.auditTable.encryptionKey.keyArn],
            }),
          ]
        : []),
    ],
  },
} satisfies Record<string, Capability>;

export type CapabilityName = keyof typeof PERMISSIONS;

/** Every function traces to X-Ray (CDK adds the statement for `tracing: ACTIVE`). */
const TRACING_WILDCARD = {
  'Resource::*':
    'xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing) support no resource-level permissions',
};

/** What each step may do. */
export const STEP_PERMISSIONS: Record<StepName, readonly CapabilityName[]> = {
  Check: ['readTrails', 'readLogGroups', 'readRoles'],
  RestoreLogGroup: ['readLogGroups', 'writeLogGroups'],
  RestoreRole: ['readRoles', 'writeDeliveryRole'],
  RestoreTrail: ['readTrails', 'readLogGroups', 'readRoles', 'writeTrails'],
  Verify: ['readTrails', 'readLogGroups', 'readRoles'],
  Notify: ['publishNotifications'],
  Audit: ['writeAudit'],
};

/** Steps whose functions change trails, log groups or roles: their roles are excluded from the trigger. */
export const MUTATING_STEPS = [
  'RestoreLogGroup',
  'RestoreRole',
  'RestoreTrail',
] as const satisfies readonly StepName[];

export interface TrailguardFunctionsProps {
  config: Config;
  topic: sns.ITopic;
  auditTable: dynamodb.ITable;
  /** Handler files relative to the repository root, by step. Default: the registry's STEP_ENTRIES. */
  entries?: Record<StepName, string>;
  /** Retention of each function's log group. Default one year. */
  logRetention?: logs.RetentionDays;
}

export class TrailguardFunctions extends Construct {
  readonly functions: Record<StepName, nodejs.NodejsFunction>;
  readonly roles: Record<StepName, iam.Role>;
  /** The environment every function gets (values may be tokens). */
  readonly environment: Record<string, string>;

  constructor(scope: Construct, id: string, props: TrailguardFunctionsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const entries = props.entries ?? STEP_ENTRIES;
    const handlerEnv = stringify(
      envFor(props.config, {
        topicArn: props.topic.topicArn,
        auditTableName: props.auditTable.tableName,
        accountId: stack.account,
      }),
    );
    validateHandlerEnvironment(handlerEnv);
    this.environment = handlerEnv;
    const ctx: GrantContext = {
      config: props.config,
      topic: props.topic,
      auditTable: props.auditTable,
      partition: stack.partition,
      account: stack.account,
    };

    const functions: Partial<Record<StepName, nodejs.NodejsFunction>> = {};
    const roles: Partial<Record<StepName, iam.Role>> = {};
    for (const step of Object.keys(entries) as StepName[]) {
      const logGroup = new logs.LogGroup(this, `${step}Logs`, {
        retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      // An explicit role: no AWS managed policy; logging limited to the function's own log group.
      const role = new iam.Role(this, `${step}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `trailguard ${step} step`,
      });
      logGroup.grantWrite(role);
      this.grantStep(step, role, ctx);

      const fn = new nodejs.NodejsFunction(this, `${step}Function`, {
        description: `trailguard workflow step ${step}`,
        entry: join(REPO_ROOT, entries[step]),
        handler: 'handler',
        projectRoot: REPO_ROOT,
        depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: 256,
        timeout: TIMEOUTS[step] ?? DEFAULT_TIMEOUT,
        role,
        logGroup,
        loggingFormat: lambda.LoggingFormat.JSON,
        applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
        systemLogLevelV2: lambda.SystemLogLevel.WARN,
        tracing: lambda.Tracing.ACTIVE,
        environment: this.environment,
        bundling: {
          format: nodejs.OutputFormat.ESM,
          minify: true,
          sourceMap: false,
          mainFields: ['module', 'main'],
          // CommonJS dependencies bundled into an ESM file may still call require() for Node built-ins.
          banner:
            "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
        },
      });
      (fn.node.defaultChild as lambda.CfnFunction).addMetadata(STEP_METADATA_KEY, step);
      functions[step] = fn;
      roles[step] = role;
    }
    this.functions = functions as Record<StepName, nodejs.NodejsFunction>;
    this.roles = roles as Record<StepName, iam.Role>;
  }

  /** The roles of the functions that make changes (excluded from the trigger so fixes do not re-trigger). */
  get mutatingRoles(): iam.Role[] {
    return MUTATING_STEPS.map((step) => this.roles[step]);
  }

  /** Adds the step's capabilities to its role and acknowledges exactly their wildcard findings there. */
  private grantStep(step: StepName, role: iam.Role, ctx: GrantContext): void {
    const reasons = new Map<string, string[]>(Object.entries(TRACING_WILDCARD).map(([k, v]) => [k, [v]]));
    for (const name of STEP_PERMISSIONS[step]) {
      const capability: Capability = PERMISSIONS[name];
      for (const statement of capability.statements(ctx)) role.addToPrincipalPolicy(statement);
      for (const [finding, reason] of Object.entries(capability.wildcards ?? {})) {
        reasons.set(finding, [...(reasons.get(finding) ?? []), `${name}: ${reason}`]);
      }
    }
    for (const [finding, why] of reasons) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[${finding}]`,
        reason: `Role of the trailguard ${step} function (${role.node.path}): ${[...new Set(why)].join('; ')}.`,
      });
    }
  }
}
