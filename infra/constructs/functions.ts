/**
 * The Lambda functions: one per workflow step (TrailguardFunctions, from the handler registry) and the sweep
 * (TrailguardFunction, built by infra/constructs/sweep.ts). Each gets its environment from the same zod
 * schema the handler parses at runtime (checked here at synth time, so a missing or bad variable fails
 * `cdk synth`), its own log group with retention, its own role with exactly the statements of
 * policies/iam.ts for that function, JSON logs and active tracing.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Aws, type CfnResource, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import {
  type Config,
  ConfigError,
  formatIssues,
  guardsSeveralRegionsOrAccounts,
} from '../../policies/config.js';
import {
  FUNCTION_STATEMENTS,
  type FunctionName,
  functionPolicy,
  type PolicyContext,
  type PolicyStatement,
  STATEMENT_REASONS,
  type StatementId,
} from '../../policies/iam.js';
import type * as z from '../../policies/zod.js';
import { envFor, HandlerEnvSchema } from '../../services/handlers/env.js';
import { STEP_ENTRIES, type StepName } from '../../services/handlers/registry.js';

export type { StepName };

/** The repository root: handler entries in the registry are relative to it. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** CDK metadata key on each step function's CfnFunction naming its step (the local runner maps functions by it). */
export const STEP_METADATA_KEY = 'trailguard:step';
/** CDK metadata key on every function's CfnFunction naming the function (a step name or `Sweep`). */
export const FUNCTION_METADATA_KEY = 'trailguard:function';

const DEFAULT_TIMEOUT = Duration.seconds(30);

/**
 * Memory of the workflow's step functions: 1,769 MB, one full vCPU. "Lambda allocates CPU power in proportion to
 * the amount of memory configured ... At 1,769 MB, a function has the equivalent of one vCPU" (Lambda Developer
 * Guide, "Configure Lambda function memory"). A step's cold start is CPU-bound (loading its SDK clients and code),
 * so at 256 MB it took about 7x as long; a run starts up to nine functions cold, five before the fix is verified.
 * Node runs one thread, so more than one vCPU would not help. What it costs and saves: docs/architecture.md
 * "Cold starts" and docs/benchmarks.md. The sweep keeps the default: it waits on the network, not the CPU.
 */
export const STEP_MEMORY_MB = 1769;
const DEFAULT_MEMORY_MB = 256;
/** RestoreTrail waits on CloudTrail's validation of the delivery role; give it more room. */
const TIMEOUTS: Partial<Record<StepName, Duration>> = { RestoreTrail: Duration.seconds(60) };

/**
 * Checks a function environment against its zod schema at synth time. Concrete values are validated with
 * their schema; CDK tokens (the topic ARN, table name, account, state machine ARN, known only at deploy time)
 * must be present but are not pattern-checked. Unknown variables are rejected too. All problems at once.
 */
export function validateEnvironment(
  schema: z.ZodMiniObject,
  env: Record<string, string | undefined>,
  schemaName = 'the schema',
): void {
  const problems: string[] = [];
  const shape = schema.shape as Record<string, z.ZodMiniType>;
  for (const [key, fieldSchema] of Object.entries(shape)) {
    const value = env[key];
    if (value === undefined) {
      if (!fieldSchema.safeParse(undefined).success) problems.push(`${key}: missing`);
      continue;
    }
    if (Token.isUnresolved(value)) {
      if (value.length === 0) problems.push(`${key}: empty`);
      continue;
    }
    const result = fieldSchema.safeParse(value);
    if (!result.success) problems.push(...formatIssues(result.error).map((p) => `${key}: ${p}`));
  }
  for (const key of Object.keys(env)) {
    if (!(key in shape)) problems.push(`${key}: not a variable of ${schemaName}`);
  }
  if (problems.length > 0) throw new ConfigError(problems.map((p) => `Lambda environment ${p}`));
}

/** The step functions' check: `validateEnvironment` with `HandlerEnvSchema`. */
export function validateHandlerEnvironment(env: Record<string, string | undefined>): void {
  validateEnvironment(HandlerEnvSchema, env, 'HandlerEnvSchema');
}

/** Lambda environment values must be strings; `envFor` returns the retention as a number. */
export function stringifyEnvironment(
  env: Record<string, string | number | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) out[key] = String(value);
  return out;
}

/** The context policies/iam.ts builds statements from, for this stack (values are tokens). */
export function policyContext(
  scope: Construct,
  resources: {
    config: Config;
    topic: sns.ITopic;
    auditTable: dynamodb.ITable;
    idempotencyTable?: dynamodb.ITable;
    stateTable?: dynamodb.ITable;
    stateMachineArn?: string;
    /**
     * A hub's organization id when it is not in the configuration (the hub stack's `OrganizationId`
     * parameter). Default: config.organizationId.
     */
    organizationId?: string;
  },
): PolicyContext {
  const stack = Stack.of(scope);
  const { config } = resources;
  const organizationId = resources.organizationId ?? config.organizationId;
  return {
    partition: stack.partition,
    account: stack.account,
    region: stack.region,
    urlSuffix: Aws.URL_SUFFIX,
    config: resources.config,
    topicArn: resources.topic.topicArn,
    ...(resources.topic.masterKey ? { topicKeyArn: resources.topic.masterKey.keyArn } : {}),
    tableArn: resources.auditTable.tableArn,
    ...(resources.auditTable.encryptionKey ? { tableKeyArn: resources.auditTable.encryptionKey.keyArn } : {}),
    ...(resources.idempotencyTable ? { idempotencyTableArn: resources.idempotencyTable.tableArn } : {}),
    ...(resources.stateTable ? { stateTableArn: resources.stateTable.tableArn } : {}),
    ...(resources.stateMachineArn ? { stateMachineArn: resources.stateMachineArn } : {}),
    ...(resources.config.cisMonitoring
      ? { cisAlarmTopicArn: resources.config.cisAlarmTopicArn ?? resources.topic.topicArn }
      : {}),
    // A hub (config.accounts set) reaches the guarded accounts through their remediation role.
    ...(config.accounts !== undefined
      ? {
          hub: {
            remediationRoleName: config.remediationRoleName,
            accounts: config.accounts,
            ...(organizationId !== undefined ? { organizationId } : {}),
          },
        }
      : {}),
    listsEnabledRegions: guardsSeveralRegionsOrAccounts(config),
  };
}

/** cdk-nag's rendering of a policy value (its flattenCfnReference): Ref -> <Id>, GetAtt -> <Id.Attr>. */
export function nagFlatten(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (v['Fn::Join']) {
      const [delimiter, items] = v['Fn::Join'] as [string, unknown[]];
      return items.map(nagFlatten).join(delimiter);
    }
    if (v['Fn::Sub']) return nagFlatten(v['Fn::Sub']);
    if (v['Fn::GetAtt']) {
      const [id, attribute] = v['Fn::GetAtt'] as [unknown, unknown];
      return `<${nagFlatten(id)}.${nagFlatten(attribute)}>`;
    }
    if (v['Fn::ImportValue']) return nagFlatten(v['Fn::ImportValue']);
    if (v.Ref) return `<${nagFlatten(v.Ref)}>`;
  }
  return JSON.stringify(value);
}

/**
 * The cdk-nag AwsSolutions-IAM5 findings an Allow statement produces (`Action::...` / `Resource::...` as cdk-nag
 * renders them), resolved in the stack.
 */
export function wildcardFindings(stack: Stack, statement: PolicyStatement): string[] {
  // AwsSolutions-IAM5 is about what a policy grants: a Deny's wildcards grant nothing.
  if (statement.Effect !== 'Allow') return [];
  const actions = statement.Action.filter((a) => a.includes('*')).map((a) => `Action::${a}`);
  const resources = (stack.resolve(statement.Resource) as unknown[])
    .map(nagFlatten)
    .filter((r) => r.includes('*'))
    .map((r) => `Resource::${r}`);
  return [...actions, ...resources];
}

/**
 * Adds a function's statements from policies/iam.ts to its role and acknowledges exactly the wildcard findings
 * they produce there (plus X-Ray's, which CDK adds for active tracing), each with the statements' reasons.
 */
export function grantFunction(role: iam.Role, fn: FunctionName, ctx: PolicyContext): PolicyStatement[] {
  const stack = Stack.of(role);
  const statements = functionPolicy(fn, ctx);
  const reasons = new Map<string, string[]>([
    [
      'Resource::*',
      [
        'X-Ray: xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing, added by CDK) support no resource-level permissions',
      ],
    ],
  ]);
  for (const statement of statements) {
    role.addToPrincipalPolicy(iam.PolicyStatement.fromJson(statement));
    for (const finding of wildcardFindings(stack, statement)) {
      const why = `${statement.Sid}: ${STATEMENT_REASONS[statement.Sid as StatementId]}`;
      reasons.set(finding, [...(reasons.get(finding) ?? []), why]);
    }
  }
  for (const [finding, why] of reasons) {
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[${finding}]`,
      reason: `Role of the trailguard ${fn} function (${role.node.path}): ${[...new Set(why)].join('; ')}.`,
    });
  }
  return statements;
}

/**
 * AWS's managed Powertools for AWS Lambda (TypeScript) layer. Only Tracer is taken from it (it is not bundled,
 * so the X-Ray SDK is in no bundle); it is loaded only when a function's TRAILGUARD_SDK_TRACING is `true`
 * (services/handlers/lambda.ts). Logger, Metrics and Idempotency stay bundled: a minified bundle loads faster
 * than the layer's unbundled files.
 *
 * The layer's ARN is resolved at deploy, in the stack's own region and partition, from the public SSM parameter
 * Powertools publishes per release, `/aws/service/powertools/typescript/generic/all/<version>` (Powertools for AWS
 * Lambda (TypeScript) docs, "Lambda layers", "Lookup Layer ARN via AWS SSM Parameter Store":
 * https://docs.aws.amazon.com/powertools/typescript/latest/getting-started/lambda-layers), for the release of the
 * installed Tracer (the same release as the bundled Logger and Metrics). No publishing account is written in the
 * template, so GovCloud (US) resolves its own. AWS publishes the layer "in all commercial regions and AWS
 * GovCloud (US) regions", not in China: a stack pinned to a China region gets no layer, and SDK tracing is not
 * available there (docs/architecture.md "Cold starts").
 */
export const POWERTOOLS_LAYER_PARAMETER_PREFIX = '/aws/service/powertools/typescript/generic/all/';
/** Packages the bundles leave to the layer (and the X-Ray SDK that Tracer loads). */
export const LAYER_EXTERNALS = ['@aws-lambda-powertools/tracer', 'aws-xray-sdk-core'];

/** The installed Tracer's release, e.g. `2.36.0` (its package.json is not in the package's exports). */
export function powertoolsVersion(): string {
  const file = join(REPO_ROOT, 'node_modules', '@aws-lambda-powertools', 'tracer', 'package.json');
  const { version } = JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown };
  if (typeof version !== 'string' || !/^\d+\.\d+\.\d+$/.test(version))
    throw new Error(`cannot read the Powertools release from ${file}: version ${String(version)}`);
  return version;
}

/** Whether AWS publishes the Powertools layer where `scope`'s stack is deployed (unknown region: assumed so). */
export function powertoolsLayerAvailable(scope: Construct): boolean {
  const region = Stack.of(scope).region;
  return Token.isUnresolved(region) || !region.startsWith('cn-');
}

/** The Powertools layer for a function in `scope` (a per-stack SSM-resolved ARN); none where it is not published. */
export function powertoolsLayers(scope: Construct): lambda.ILayerVersion[] {
  if (!powertoolsLayerAvailable(scope)) return [];
  const arn = ssm.StringParameter.valueForStringParameter(
    Stack.of(scope),
    `${POWERTOOLS_LAYER_PARAMETER_PREFIX}${powertoolsVersion()}`,
  );
  return [lambda.LayerVersion.fromLayerVersionArn(scope, 'Powertools', arn)];
}

export interface TrailguardFunctionProps {
  name: FunctionName;
  /** Handler file relative to the repository root; its export `handler`. */
  entry: string;
  description: string;
  environment: Record<string, string>;
  policy: PolicyContext;
  timeout?: Duration;
  /** MB; default 256. */
  memorySize?: number;
  logRetention?: logs.RetentionDays;
  /** Asynchronous invocations (EventBridge targets): retries and where failed events go. */
  asyncInvoke?: { retryAttempts: number; maxEventAge: Duration; onFailure: lambda.IDestination };
}

/** One function: NodejsFunction bundled with the local esbuild, its log group, its role and statements. */
/** How every function of the stack is bundled (esbuild through NodejsFunction). */
export const FUNCTION_BUNDLING: nodejs.BundlingOptions = {
  format: nodejs.OutputFormat.ESM,
  // The AWS SDK comes from the runtime (CDK's default for Node 18+), Tracer from the Powertools layer.
  externalModules: ['@aws-sdk/*', ...LAYER_EXTERNALS],
  minify: true,
  sourceMap: false,
  mainFields: ['module', 'main'],
  // CommonJS dependencies bundled into an ESM file may still call require() for Node built-ins.
  banner: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
};

export class TrailguardFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  /** The statements from policies/iam.ts on the role. */
  readonly statements: PolicyStatement[];

  constructor(scope: Construct, id: string, props: TrailguardFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // An explicit role: no AWS managed policy; logging limited to the function's own log group.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `trailguard ${props.name} function`,
    });
    this.logGroup.grantWrite(this.role);
    this.statements = grantFunction(this.role, props.name, props.policy);

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      description: props.description,
      entry: join(REPO_ROOT, props.entry),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? DEFAULT_MEMORY_MB,
      timeout: props.timeout ?? DEFAULT_TIMEOUT,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      tracing: lambda.Tracing.ACTIVE,
      environment: props.environment,
      layers: powertoolsLayers(this),
      ...(props.asyncInvoke ?? {}),
      bundling: FUNCTION_BUNDLING,
    });
    (this.function.node.defaultChild as CfnResource).addMetadata(FUNCTION_METADATA_KEY, props.name);
  }
}

export interface TrailguardFunctionsProps {
  config: Config;
  topic: sns.ITopic;
  auditTable: dynamodb.ITable;
  /** Notify's idempotency table (Powertools idempotency: one email per run and outcome). */
  idempotencyTable?: dynamodb.ITable;
  /** The state table (log group snapshots, delivery-error sightings). */
  stateTable?: dynamodb.ITable;
  /** Handler files relative to the repository root, by step. Default: the registry's STEP_ENTRIES. */
  entries?: Record<StepName, string>;
  /** Retention of each function's log group. Default one year. */
  logRetention?: logs.RetentionDays;
  /** A hub's organization id when it is not in the configuration (see policyContext). */
  organizationId?: string;
}

/** Steps whose functions change trails, log groups or roles: their roles are excluded from every rule. */
export const MUTATING_STEPS = [
  'RestoreLogGroup',
  'RestoreRole',
  'RestoreTrail',
] as const satisfies readonly StepName[];

/** The workflow's step functions. */
export class TrailguardFunctions extends Construct {
  /** Every step's function (CheckDelivery's only when config.deliveryCheckMinutes > 0). */
  readonly functions: Record<StepName, nodejs.NodejsFunction>;
  readonly roles: Record<StepName, iam.Role>;
  readonly logGroups: Record<StepName, logs.LogGroup>;
  /** The environment every step function gets (values may be tokens). */
  readonly environment: Record<string, string>;

  constructor(scope: Construct, id: string, props: TrailguardFunctionsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const entries = props.entries ?? STEP_ENTRIES;
    const environment = stringifyEnvironment(
      envFor(props.config, {
        topicArn: props.topic.topicArn,
        auditTableName: props.auditTable.tableName,
        ...(props.idempotencyTable ? { idempotencyTableName: props.idempotencyTable.tableName } : {}),
        ...(props.stateTable ? { stateTableName: props.stateTable.tableName } : {}),
        accountId: stack.account,
      }),
    );
    validateHandlerEnvironment(environment);
    this.environment = environment;
    const policy = policyContext(this, props);

    const functions: Partial<Record<StepName, nodejs.NodejsFunction>> = {};
    const roles: Partial<Record<StepName, iam.Role>> = {};
    const logGroups: Partial<Record<StepName, logs.LogGroup>> = {};
    for (const step of Object.keys(entries) as StepName[]) {
      // The delivery check's function exists only when the workflow has a delivery check.
      if (step === 'CheckDelivery' && props.config.deliveryCheckMinutes === 0) continue;
      const built = new TrailguardFunction(this, step, {
        name: step,
        entry: entries[step],
        description: `trailguard workflow step ${step}`,
        environment,
        policy,
        timeout: TIMEOUTS[step] ?? DEFAULT_TIMEOUT,
        memorySize: STEP_MEMORY_MB,
        ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      });
      (built.function.node.defaultChild as CfnResource).addMetadata(STEP_METADATA_KEY, step);
      functions[step] = built.function;
      roles[step] = built.role;
      logGroups[step] = built.logGroup;
    }
    this.functions = functions as Record<StepName, nodejs.NodejsFunction>;
    this.roles = roles as Record<StepName, iam.Role>;
    this.logGroups = logGroups as Record<StepName, logs.LogGroup>;
  }

  /** The roles of the functions that make changes (excluded from every rule so fixes do not re-trigger). */
  get mutatingRoles(): iam.Role[] {
    return MUTATING_STEPS.map((step) => this.roles[step]);
  }
}

/** Re-exported for tests: which statements each function gets. */
export { FUNCTION_STATEMENTS };
