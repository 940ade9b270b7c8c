/**
 * Runs the workflow locally: the definition CDK synthesizes (not a second orchestration), executed with
 * aws-local-stepfunctions, each Lambda task mapped to the in-process step of the function it invokes.
 *
 * The app is synthesized in process (asset bundling skipped, cached per configuration). The CloudFormation
 * tokens in the definition and in each function's environment are resolved to local values:
 *   - a function (Fn::GetAtt Arn / Ref)  -> arn:aws:lambda:REGION:ACCOUNT:function:<Step> (by its
 *     `trailguard:step` metadata) / <Step>
 *   - the notification topic (Ref)        -> arn:aws:sns:REGION:ACCOUNT:<config.notificationTopicName>
 *   - the audit table (Ref)               -> <config.auditTableName>
 *   - the idempotency table (Ref)         -> <config.auditTableName>-idempotency (by `trailguard:table`)
 *   - the state table (Ref)               -> <config.auditTableName>-state (by `trailguard:table`)
 *   - the state machine (Ref)             -> arn:aws:states:REGION:ACCOUNT:stateMachine:trailguard
 *   - a hub's organization sweep (Ref)    -> arn:aws:states:REGION:ACCOUNT:stateMachine:trailguard-organization-sweep
 *     (by its `trailguard:state-machine` metadata; `runOrganizationSweep` runs its definition, each task
 *     handled by the sweep function's core)
 *   - AWS::AccountId / Region / Partition -> the caller's account (STS, unless given) / region / its partition
 * and each function's environment is parsed with parseEnv (the sweep's with parseSweepEnv), so the in-process
 * steps get exactly the settings the deployed functions would. Anything that cannot be resolved is an error,
 * never left as a token. The EventBridge rules' patterns are read the same way (`rulePatterns`).
 *
 * A hub (config.accounts, regions or hubRegion set): the workflow, topic and tables are the hub's, in the hub
 * region, and with `accounts` every step acts in the run's account through an AccountAccess (`accounts`,
 * built from the hub's clients unless given): the hub's clients for its own account, the account's
 * remediation role for any other.
 */

import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ExecutionError,
  ExecutionTimeoutError,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import {
  type Config,
  type ConfigInput,
  configuredHubRegion,
  localIdempotencyTableName,
  parseConfig,
} from '../../policies/config.js';
import type { AccountAccess } from '../aws/accounts.js';
import { type AwsClients, createClients, resolveDefaultRegion } from '../aws/clients.js';
import { localStateTableName } from '../aws/state-store.js';
import { readAccountId } from '../aws/trail-reader.js';
import { partitionOf } from '../domain/arns.js';
import type { EventPattern } from '../domain/event-pattern.js';
import type { HandlerDeps, StepFunction } from '../handlers/deps.js';
import { parseEnv, parseSweepEnv, type Settings, type SweepSettings } from '../handlers/env.js';
import { STEPS, type StepName } from '../handlers/registry.js';
import { tolerateEmulator } from './emulator-tolerance.js';
import { intrinsicResolver } from './intrinsics.js';
import { guardsOtherAccounts, isHubConfig, localAccountAccess } from './organization.js';
import { cachedSynthesis, validationRecord } from './synth-cache.js';

/** The role name the local runner gives the guardrail's own functions (excluded by the rules). */
export const LOCAL_OWN_ROLE_NAME = 'trailguard-remediator';
const LOCAL_STATE_MACHINE = 'trailguard';
const STEP_METADATA_KEY = 'trailguard:step';
const FUNCTION_METADATA_KEY = 'trailguard:function';
/** The canary function's `trailguard:function` metadata (infra/constructs/canary.ts). */
const CANARY_FUNCTION_METADATA = 'Canary';
const RULE_METADATA_KEY = 'trailguard:rule';
const TABLE_METADATA_KEY = 'trailguard:table';
/**
 * A state machine other than the workflow carries this metadata (the organization sweep of a hub:
 * infra/constructs/organization-sweep.ts); the workflow's has none.
 */
const STATE_MACHINE_METADATA_KEY = 'trailguard:state-machine';
const LOCAL_ORGANIZATION_SWEEP = 'trailguard-organization-sweep';
const LOCAL_CANARY = 'trailguard-canary';
/** The canary state machine's `trailguard:state-machine` metadata (infra/constructs/canary.ts). */
const CANARY_STATE_MACHINE_METADATA = 'canary';
/** That metadata's value on the organization sweep. */
const ORGANIZATION_SWEEP_METADATA = 'OrganizationSweep';
/** The sweep function's name in its `trailguard:function` metadata. */
const SWEEP_FUNCTION = 'Sweep';
/** Step Functions' limit on a state's input or output. */
const MAX_PAYLOAD_BYTES = 256 * 1024;

export type StepFactory = (deps: HandlerDeps) => StepFunction;

export class WorkflowRunnerError extends Error {
  override name = 'WorkflowRunnerError';
}

// ---------------------------------------------------------------------------------------------------------
// Synthesis (in process, cached)

interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
}
export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
}

interface Synthesized {
  template: CfnTemplate;
  config: Config;
  stackName: string;
}

const synthCache = new Map<string, Promise<Synthesized>>();

/** How the runner synthesizes: no bundling, no cdk-nag (the same template, faster). Part of the cache key. */
const SYNTH_OPTIONS = { bundling: false, nag: false, pinHubRegion: false } as const;

/**
 * Synthesizes the app once per configuration and process (no bundling, no cdk-nag: same template), and across
 * processes through the on-disk cache (services/local/synth-cache.ts): a process whose configuration and code
 * are unchanged loads the template as JSON and never imports the CDK.
 */
export function synthesizeApp(config: ConfigInput = {}): Promise<Synthesized> {
  const parsed = parseConfig(config);
  const key = JSON.stringify(parsed);
  let cached = synthCache.get(key);
  if (!cached) {
    cached = cachedSynthesis({
      key: { config: parsed, options: SYNTH_OPTIONS },
      produce: () => synthesize(config),
      validate: synthesizedFromCache,
    }).then((result) => result.value);
    synthCache.set(key, cached);
    cached.catch(() => synthCache.delete(key));
  }
  return cached;
}

async function synthesize(config: ConfigInput): Promise<Synthesized> {
  // Loaded lazily: the CDK is only needed when a workflow is actually run or inspected.
  const { buildApp } = await import('../../infra/app.js');
  const outdir = mkdtempSync(join(tmpdir(), 'trailguard-synth-'));
  try {
    const { app, stack } = buildApp({ config, ...SYNTH_OPTIONS, outdir });
    const template = app.synth().getStackByName(stack.stackName).template as CfnTemplate;
    return { template, config: stack.config, stackName: stack.stackName };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** A cache entry's value, checked to be a Synthesized (a template with resources, a valid configuration). */
function synthesizedFromCache(value: unknown): Synthesized {
  const v = value as Partial<Record<keyof Synthesized, unknown>> | null;
  const resources = (v?.template as { Resources?: unknown } | undefined)?.Resources;
  if (!isObject(resources) || !isObject(v?.config) || typeof v?.stackName !== 'string' || !v.stackName) {
    throw new WorkflowRunnerError('not a synthesized template (template.Resources, config, stackName)');
  }
  return { template: v.template as CfnTemplate, config: parseConfig(v.config), stackName: v.stackName };
}

// ---------------------------------------------------------------------------------------------------------
// Token resolution

export interface LocalTarget {
  /** Default: the clients' default region, else AWS_REGION. */
  region?: string;
  /** Default: the caller's account (STS GetCallerIdentity with the given or default clients). */
  accountId?: string;
  /** Used to learn the caller's account when `accountId` is not given. */
  clients?: AwsClients;
  /** Configuration overrides (validated; defaults apply). */
  config?: ConfigInput;
}

interface Resolution {
  region: string;
  account: string;
  /** Fn::GetAtt [role, Arn] of an IAM role; default: a local ARN named after the logical id. */
  roleArn?: (logicalId: string) => string;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v);

function stepOf(template: CfnTemplate, logicalId: string): StepName {
  const step = template.Resources[logicalId]?.Metadata?.[STEP_METADATA_KEY];
  if (typeof step !== 'string' || !(step in STEPS)) {
    throw new WorkflowRunnerError(`function ${logicalId} has no valid "${STEP_METADATA_KEY}" metadata`);
  }
  return step as StepName;
}

/** The local ARN of the workflow's state machine (what the sweep function's environment names). */
export function localStateMachineArn(region: string, account: string): string {
  return `arn:${partitionOf(region)}:states:${region}:${account}:stateMachine:${LOCAL_STATE_MACHINE}`;
}

function isSweepFunction(template: CfnTemplate, logicalId: string): boolean {
  const resource = template.Resources[logicalId];
  return (
    resource?.Type === 'AWS::Lambda::Function' &&
    resource.Metadata?.[FUNCTION_METADATA_KEY] === SWEEP_FUNCTION &&
    resource.Metadata?.[STEP_METADATA_KEY] === undefined
  );
}

function makeResolver(synth: Synthesized, r: Resolution) {
  const { template, config } = synth;
  const partition = partitionOf(r.region);
  const functionArn = (step: string) => `arn:${partition}:lambda:${r.region}:${r.account}:function:${step}`;
  const topicArn = `arn:${partition}:sns:${r.region}:${r.account}:${config.notificationTopicName}`;
  const stateMachineArn = localStateMachineArn(r.region, r.account);
  const pseudo: Record<string, string> = {
    'AWS::AccountId': r.account,
    'AWS::Region': r.region,
    'AWS::Partition': partition,
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': synth.stackName,
  };
  const tableName = (id: string) => {
    const role = template.Resources[id]?.Metadata?.[TABLE_METADATA_KEY];
    if (role === 'idempotency') return localIdempotencyTableName(config);
    if (role === 'state') return localStateTableName(config);
    return config.auditTableName;
  };
  const unresolvable = (what: string) =>
    new WorkflowRunnerError(
      `cannot resolve ${what} to a local value (not a function, topic, table, state machine or role)`,
    );

  const ref = (id: string): string => {
    if (id in pseudo) return pseudo[id] as string;
    const type = template.Resources[id]?.Type;
    if (type === 'AWS::Lambda::Function') return stepOf(template, id);
    if (type === 'AWS::SNS::Topic') return topicArn;
    if (type === 'AWS::DynamoDB::Table') return tableName(id);
    if (type === 'AWS::StepFunctions::StateMachine') {
      return isWorkflowMachine(template.Resources[id])
        ? stateMachineArn
        : stateMachineArn.replace(/stateMachine:.*$/, `stateMachine:${LOCAL_ORGANIZATION_SWEEP}`);
    }
    throw unresolvable(`{"Ref": "${id}"} (${type ?? 'unknown resource'})`);
  };
  const getAtt = (id: string, attribute: string): string => {
    const type = template.Resources[id]?.Type;
    if (type === 'AWS::Lambda::Function' && attribute === 'Arn') {
      if (template.Resources[id]?.Metadata?.[FUNCTION_METADATA_KEY] === CANARY_FUNCTION_METADATA)
        return functionArn(CANARY_FUNCTION_METADATA);
      return functionArn(isSweepFunction(template, id) ? SWEEP_FUNCTION : stepOf(template, id));
    }
    if (type === 'AWS::SNS::Topic' && attribute === 'TopicArn') return topicArn;
    if (type === 'AWS::SNS::Topic' && attribute === 'TopicName') return config.notificationTopicName;
    if (type === 'AWS::DynamoDB::Table' && attribute === 'Arn')
      return `arn:${partition}:dynamodb:${r.region}:${r.account}:table/${tableName(id)}`;
    if (type === 'AWS::IAM::Role' && attribute === 'Arn')
      return r.roleArn ? r.roleArn(id) : `arn:${partition}:iam::${r.account}:role/${id}`;
    throw unresolvable(`{"Fn::GetAtt": ["${id}", "${attribute}"]} (${type ?? 'unknown resource'})`);
  };

  return intrinsicResolver({
    ref,
    getAtt,
    unsupported: (fn) => new WorkflowRunnerError(`unsupported intrinsic ${fn} in the template`),
  });
}

/** Throws if a value still holds a CDK token or a CloudFormation intrinsic. */
function assertResolved(value: unknown, where: string): void {
  const text = JSON.stringify(value);
  const leftover = /\$\{Token\[|"Ref"\s*:|"Fn::[A-Za-z]+"\s*:/.exec(text);
  if (leftover)
    throw new WorkflowRunnerError(`${where} still holds an unresolved token near "${leftover[0]}"`);
}

/** The caller's account per clients object: one GetCallerIdentity per process and credentials. */
const callerAccounts = new WeakMap<AwsClients, Promise<string>>();
function callerAccount(clients: AwsClients): Promise<string> {
  let account = callerAccounts.get(clients);
  if (!account) {
    account = readAccountId(clients);
    callerAccounts.set(clients, account);
    account.catch(() => callerAccounts.delete(clients));
  }
  return account;
}

/**
 * Where the local run acts: the given region and account, else the clients' region and the account of the
 * caller's credentials (never a constant: the same code runs in any account).
 */
export async function resolveTarget(options: LocalTarget): Promise<{ region: string; account: string }> {
  const region = options.region ?? options.clients?.defaultRegion ?? resolveDefaultRegion();
  if (options.accountId) return { region, account: options.accountId };
  const clients = options.clients ?? createClients({ defaultRegion: region });
  return { region, account: await callerAccount(clients) };
}

/** The local ARN of the guardrail's own role in an account (what the rules exclude by default). */
export function localOwnRoleArn(account: string, region: string): string {
  return `arn:${partitionOf(region)}:iam::${account}:role/${LOCAL_OWN_ROLE_NAME}`;
}

/** The remediation workflow's state machine (not the organization sweep's). */
function isWorkflowMachine(resource: CfnResource | undefined): boolean {
  return (
    resource?.Type === 'AWS::StepFunctions::StateMachine' &&
    resource.Metadata?.[STATE_MACHINE_METADATA_KEY] === undefined
  );
}

function single(template: CfnTemplate, type: string): [string, CfnResource] {
  const found = Object.entries(template.Resources).filter(
    ([, r]) => r.Type === type && (type !== 'AWS::StepFunctions::StateMachine' || isWorkflowMachine(r)),
  );
  if (found.length !== 1 || !found[0]) {
    throw new WorkflowRunnerError(`expected exactly one ${type} in the template, found ${found.length}`);
  }
  return found[0];
}

export interface LocalWorkflow {
  definition: StateMachineDefinition;
  /** Each step's settings, parsed with parseEnv from its function's resolved environment. */
  settings: Record<StepName, Settings>;
  /** Each step's resolved environment, as the deployed function would see it. */
  environments: Record<StepName, Record<string, string>>;
  /** Task state name -> the step whose function it invokes. */
  tasks: Record<string, StepName>;
  /** The sweep function's settings (with the local state machine ARN) and resolved environment. */
  sweep: { settings: SweepSettings; environment: Record<string, string> };
  /**
   * A hub's organization sweep (config.accounts set): its synthesized state machine, tokens resolved, and the
   * names of its Task states (nested ones too), each invoking the sweep function.
   */
  organizationSweep?: { definition: StateMachineDefinition; tasks: string[] };
  /** config.canary: the canary's synthesized state machine, tokens resolved, and its Task states. */
  canary?: { definition: StateMachineDefinition; tasks: string[] };
  region: string;
  account: string;
}

const localCache = new Map<string, Promise<LocalWorkflow>>();

/**
 * The synthesized state machine, tokens resolved, and each step's settings from its function's environment.
 * Cached per configuration, region and account (treat the result as read-only).
 */
export async function localWorkflow(options: LocalTarget = {}): Promise<LocalWorkflow> {
  // Locally, against an emulator, its missing APIs are tolerated (services/local/emulator-tolerance.ts).
  tolerateEmulator();
  const { region, account } = await resolveTarget(options);
  const key = JSON.stringify([parseConfig(options.config ?? {}), region, account]);
  let cached = localCache.get(key);
  if (!cached) {
    cached = resolveWorkflow(options.config ?? {}, region, account);
    localCache.set(key, cached);
    cached.catch(() => localCache.delete(key));
  }
  return cached;
}

async function resolveWorkflow(config: ConfigInput, region: string, account: string): Promise<LocalWorkflow> {
  const synth = await synthesizeApp(config);
  const resolve = makeResolver(synth, { region, account });

  const [, machine] = single(synth.template, 'AWS::StepFunctions::StateMachine');
  const raw = resolve(machine.Properties?.DefinitionString);
  const definition = (typeof raw === 'string' ? JSON.parse(raw) : raw) as StateMachineDefinition;
  assertResolved(definition, 'the state machine definition');

  const settings: Partial<Record<StepName, Settings>> = {};
  const environments: Partial<Record<StepName, Record<string, string>>> = {};
  let sweep: LocalWorkflow['sweep'] | undefined;
  for (const [id, resource] of Object.entries(synth.template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    // The deployed canary's function is not a step of the workflow (it runs its own state machine).
    if (resource.Metadata?.[FUNCTION_METADATA_KEY] === CANARY_FUNCTION_METADATA) continue;
    const env = resolve(
      (resource.Properties?.Environment as { Variables?: unknown } | undefined)?.Variables ?? {},
    );
    if (isSweepFunction(synth.template, id)) {
      if (sweep) throw new WorkflowRunnerError('the template has more than one sweep function');
      assertResolved(env, 'the environment of the sweep function');
      const environment = env as Record<string, string>;
      sweep = { settings: parseSweepEnv(environment), environment };
      continue;
    }
    const step = stepOf(synth.template, id);
    assertResolved(env, `the environment of ${step}`);
    environments[step] = env as Record<string, string>;
    settings[step] = parseEnv(env as Record<string, string>);
  }

  const tasks: Record<string, StepName> = {};
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type !== 'Task') continue;
    const functionName = invokedFunction(state.Resource, (state as { Parameters?: unknown }).Parameters);
    if (!functionName || !(functionName in STEPS) || !settings[functionName as StepName]) {
      throw new WorkflowRunnerError(`task ${name} invokes ${state.Resource}, not one of the step functions`);
    }
    tasks[name] = functionName as StepName;
  }
  const invoked = new Set(Object.values(tasks));
  for (const step of Object.keys(STEPS) as StepName[]) {
    // CheckDelivery's function exists only with a delivery check (config.deliveryCheckMinutes > 0).
    const optional = step === 'CheckDelivery' && !invoked.has(step);
    if (!settings[step] && !optional) {
      throw new WorkflowRunnerError(`the template has no function for step ${step}`);
    }
  }
  if (!sweep) throw new WorkflowRunnerError('the template has no sweep function');
  const organizationSweep = resolveMarkedStateMachine(
    synth.template,
    resolve,
    ORGANIZATION_SWEEP_METADATA,
    SWEEP_FUNCTION,
    'organization sweep',
  );
  const canary = resolveMarkedStateMachine(
    synth.template,
    resolve,
    CANARY_STATE_MACHINE_METADATA,
    CANARY_FUNCTION_METADATA,
    'canary',
  );
  return {
    definition,
    settings: settings as Record<StepName, Settings>,
    environments: environments as Record<StepName, Record<string, string>>,
    tasks,
    sweep,
    ...(organizationSweep ? { organizationSweep } : {}),
    ...(canary ? { canary } : {}),
    region,
    account,
  };
}

/**
 * A state machine of the template other than the remediation workflow, found by its metadata marker and resolved
 * (undefined when the template has none), whose every task must invoke `fn`: the organization sweep (Sweep), the
 * deployed canary (Canary).
 */
function resolveMarkedStateMachine(
  template: CfnTemplate,
  resolve: ReturnType<typeof makeResolver>,
  marker: string,
  fn: string,
  what: string,
): { definition: StateMachineDefinition; tasks: string[] } | undefined {
  const found = Object.values(template.Resources).filter(
    (r) =>
      r.Type === 'AWS::StepFunctions::StateMachine' && r.Metadata?.[STATE_MACHINE_METADATA_KEY] === marker,
  );
  if (found.length === 0) return undefined;
  if (found.length > 1) throw new WorkflowRunnerError(`the template has more than one ${what}`);
  const raw = resolve(found[0]?.Properties?.DefinitionString);
  const definition = (typeof raw === 'string' ? JSON.parse(raw) : raw) as StateMachineDefinition;
  assertResolved(definition, `the ${what} definition`);
  const tasks: string[] = [];
  for (const [name, state] of Object.entries(allStates(definition))) {
    if (state.Type !== 'Task') continue;
    if (invokedFunction(String(state.Resource), state.Parameters) !== fn) {
      throw new WorkflowRunnerError(
        `${what} task ${name} invokes ${String(state.Resource)}, not the ${fn} function`,
      );
    }
    tasks.push(name);
  }
  return { definition, tasks };
}

/** The resolved local workflow of a run's configuration (localRunConfig), with the given or default clients. */
function localRunWorkflow(
  options: Pick<RunWorkflowOptions, 'config' | 'clients' | 'region' | 'accountId'>,
): Promise<LocalWorkflow> {
  const clients = options.clients ?? createClients({ defaultRegion: options.region });
  return localWorkflow({
    ...options,
    config: localRunConfig({ config: options.config }),
    clients,
    region: options.region ?? clients.defaultRegion,
  });
}

/**
 * Runs the deployed canary's state machine as CDK synthesizes it (config.canary), every task handled by `step`
 * (the canary function's core, services/aws/canary-steps.ts canaryStep, in process), its Wait states shortened
 * to `waitMs` (default 0). Undefined when the configuration has no canary.
 */
export async function runCanary(
  step: (payload: unknown) => Promise<unknown>,
  input: unknown,
  options: Pick<RunWorkflowOptions, 'config' | 'clients' | 'region' | 'accountId'> & {
    executionName?: string;
    waitMs?: number;
  } = {},
): Promise<WorkflowRun | undefined> {
  const local = await localRunWorkflow(options);
  const canary = local.canary;
  if (!canary) return undefined;
  const waits = Object.entries(allStates(canary.definition as unknown as { States: Record<string, unknown> }))
    .filter(([, state]) => isObject(state) && state.Type === 'Wait')
    .map(([name]) => [name, options.waitMs ?? 0]);
  return execute(
    machineFor(canary),
    canary.definition,
    Object.fromEntries(canary.tasks.map((name) => [name, step])),
    input,
    {
      region: local.region,
      account: local.account,
      machineName: LOCAL_CANARY,
      executionName: options.executionName ?? `local-${randomUUID()}`,
      realRetryWaits: false,
      waitTimeOverrides: Object.fromEntries(waits),
    },
  );
}

/** Every state of a definition by name, those of Map item processors and Parallel branches included. */
function allStates(definition: { States: Record<string, unknown> }): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [name, state] of Object.entries(definition.States)) {
    if (!isObject(state)) continue;
    out[name] = state;
    const processor = state.ItemProcessor ?? state.Iterator;
    if (isObject(processor) && isObject(processor.States)) {
      Object.assign(out, allStates(processor as { States: Record<string, unknown> }));
    }
    if (Array.isArray(state.Branches)) {
      for (const branch of state.Branches) {
        if (isObject(branch) && isObject(branch.States))
          Object.assign(out, allStates(branch as { States: Record<string, unknown> }));
      }
    }
  }
  return out;
}

const LAMBDA_INVOKE = /^arn:aws[\w-]*:states:::lambda:invoke$/;
const FUNCTION_ARN = /^arn:aws[\w-]*:lambda:[a-z0-9-]+:\d{12}:function:([\w-]+)(:[\w$-]+)?$/;

/** The function name a task invokes: its Resource (payloadResponseOnly) or Parameters.FunctionName. */
function invokedFunction(resource: string, parameters: unknown): string | undefined {
  const target = LAMBDA_INVOKE.test(resource)
    ? isObject(parameters) && typeof parameters.FunctionName === 'string'
      ? parameters.FunctionName
      : undefined
    : resource;
  return target ? (FUNCTION_ARN.exec(target)?.[1] ?? target) : undefined;
}

/** The resolved state machine definition (for tests and the CLI). */
export async function workflowDefinition(options: LocalTarget = {}): Promise<StateMachineDefinition> {
  return structuredClone((await localWorkflow(options)).definition);
}

/** What a rule's target is: the workflow (state machine) or the fan-out (the sweep function). */
/** What a rule's one target is: the workflow, the sweep function (fan-out) or the team's topic (an email). */
export type RuleTarget = 'workflow' | 'fanout' | 'topic';

export interface RulePattern {
  /** The rule's `trailguard:rule` metadata: `Trigger`, `DependencyTrigger` or `FindingsTrigger`. */
  rule: string;
  target: RuleTarget;
  pattern: EventPattern;
  /** The target's input transformer, if any (the topic's email text): EventBridge's InputPathsMap and template. */
  input?: { paths: Record<string, string>; template: string };
}

function ruleTarget(template: CfnTemplate, rule: CfnResource, name: string): RuleTarget {
  const targets = (rule.Properties?.Targets ?? []) as { Arn?: unknown }[];
  if (targets.length !== 1) {
    throw new WorkflowRunnerError(`rule ${name} has ${targets.length} targets; expected one`);
  }
  const arn = targets[0]?.Arn;
  if (isObject(arn) && typeof arn.Ref === 'string') {
    if (isWorkflowMachine(template.Resources[arn.Ref])) return 'workflow';
    if (template.Resources[arn.Ref]?.Type === 'AWS::SNS::Topic') return 'topic';
  }
  if (isObject(arn) && Array.isArray(arn['Fn::GetAtt'])) {
    const [id] = arn['Fn::GetAtt'] as [string, string];
    if (isSweepFunction(template, id)) return 'fanout';
  }
  throw new WorkflowRunnerError(
    `rule ${name} targets ${JSON.stringify(arn)}: neither the workflow, the sweep nor the topic`,
  );
}

/**
 * The event patterns of the stack's EventBridge rules (not the schedule) from the synthesized template, each
 * with the kind of target it has, in template order with the trail rule first. The excluded roles (GetAtt of
 * the functions' roles) are resolved to `ownRoleArn`.
 */
export async function rulePatterns(ownRoleArn?: string, options: LocalTarget = {}): Promise<RulePattern[]> {
  const synth = await synthesizeApp(options.config);
  const { region, account } = await resolveTarget(options);
  const own = ownRoleArn ?? localOwnRoleArn(account, region);
  const resolve = makeResolver(synth, { region, account, roleArn: () => own });
  const out: RulePattern[] = [];
  for (const [id, resource] of Object.entries(synth.template.Resources)) {
    if (resource.Type !== 'AWS::Events::Rule' || resource.Properties?.EventPattern === undefined) continue;
    const name = resource.Metadata?.[RULE_METADATA_KEY];
    if (typeof name !== 'string') {
      throw new WorkflowRunnerError(`rule ${id} has no "${RULE_METADATA_KEY}" metadata`);
    }
    const pattern = dedupeAnythingBut(resolve(resource.Properties.EventPattern));
    assertResolved(pattern, `the event pattern of rule ${name}`);
    if (!isObject(pattern)) throw new WorkflowRunnerError(`rule ${name} has no event pattern`);
    const transformer = ((resource.Properties.Targets ?? []) as { InputTransformer?: unknown }[])[0]
      ?.InputTransformer as { InputPathsMap?: Record<string, string>; InputTemplate?: string } | undefined;
    out.push({
      rule: name,
      target: ruleTarget(synth.template, resource, name),
      pattern,
      ...(transformer?.InputTemplate
        ? { input: { paths: transformer.InputPathsMap ?? {}, template: transformer.InputTemplate } }
        : {}),
    });
  }
  if (!out.some((r) => r.target === 'workflow')) {
    throw new WorkflowRunnerError('the template has no rule that starts the workflow');
  }
  return out.sort((a, b) => (a.target === b.target ? 0 : a.target === 'workflow' ? -1 : 1));
}

/** The trail rule's event pattern (the rule that starts the workflow), own roles resolved to `ownRoleArn`. */
export async function ruleEventPattern(
  ownRoleArn?: string,
  options: LocalTarget = {},
): Promise<EventPattern> {
  const rules = (await rulePatterns(ownRoleArn, options)).filter((r) => r.target === 'workflow');
  if (rules.length !== 1 || !rules[0]) {
    throw new WorkflowRunnerError(
      `expected exactly one rule that starts the workflow, found ${rules.length}`,
    );
  }
  return rules[0].pattern;
}

/** The excluded roles all resolve to one local ARN: list it once. */
function dedupeAnythingBut(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dedupeAnythingBut);
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      k === 'anything-but' && Array.isArray(v) ? [...new Set(v)] : dedupeAnythingBut(v),
    ]),
  );
}

// ---------------------------------------------------------------------------------------------------------
// Execution

export interface RunWorkflowOptions extends LocalTarget {
  /** SDK clients for the steps. Default: createClients() for the region (honours AWS_ENDPOINT_URL). */
  clients?: AwsClients;
  /** Replace step implementations (tests). Default: the registry's STEPS. */
  steps?: Partial<Record<StepName, StepFactory>>;
  /** Keep the definition's retry intervals (default: retries happen at once). */
  realRetryWaits?: boolean;
  /**
   * Run the delivery check (config.deliveryCheckMinutes) locally too. Default false: a local run is a replay
   * or a manual fix that a person waits for, and the check is worth something only after CloudTrail has had
   * minutes to deliver (an emulator never delivers), so the local engine synthesizes the workflow with
   * deliveryCheckMinutes 0 unless asked. The deployed state machine always has it as configured.
   */
  deliveryCheck?: boolean;
  /**
   * With `deliveryCheck`: how long the Wait state (WaitForDelivery) pauses locally, in milliseconds.
   * Default 0: the check reads the status right after the fix.
   */
  deliveryWaitMs?: number;
  now?: () => Date;
  /** The execution's name (default: a random one). */
  executionName?: string;
  /**
   * Acting in the guarded accounts (services/aws/accounts.ts), passed to every step. Default: when the
   * configuration guards other accounts (`config.accounts`), one built from the hub's clients (the caller's
   * account, the hub region) that assumes `config.remediationRoleName` in each; otherwise none (every call
   * acts with `clients`).
   */
  accounts?: AccountAccess;
}

/**
 * Where the workflow, topic and tables live. A hub configuration (accounts, regions or hubRegion set): the hub
 * region, config.hubRegion or the clients' region (not the event's: one topic and one table for every
 * region). Otherwise, as before: the given region, else the clients'.
 */
export function workflowRegion(
  config: Pick<Config, 'accounts' | 'regions' | 'hubRegion'>,
  options: Pick<RunWorkflowOptions, 'region' | 'clients'>,
): string | undefined {
  const configured = configuredHubRegion(config);
  if (configured) return configured;
  if (isHubConfig(config)) return options.clients?.defaultRegion ?? options.region;
  return options.region ?? options.clients?.defaultRegion;
}

export type ExecutionStatus = 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT';

export interface HistoryEntry {
  type: string;
  state?: string;
  error?: string;
  cause?: string;
  /** For StateRetried: the retrier's ErrorEquals and how many retries it had made before this one. */
  retry?: { errors: string[]; attempt: number };
}

export interface WorkflowRun {
  executionId: string;
  status: ExecutionStatus;
  /**
   * SUCCEEDED: the execution's output (the final RunContext). FAILED / TIMED_OUT: the input of the last state
   * entered (for a failure, what reached the Fail state: the RunContext after AuditFailure).
   */
  output: unknown;
  /** The execution's error (FAILED: the Fail state's error and cause). */
  error?: { Error: string; Cause?: string };
  /** Number of states entered (retries are not transitions). */
  transitions: number;
  /** Names of the states entered, in order. */
  states: string[];
  history: HistoryEntry[];
  /**
   * The deployed execution is still running, waiting for its delivery check (config.deliveryCheckMinutes): the
   * run itself is over (output is what entered the wait), the check's result will go to the audit table.
   */
  deliveryCheckPending?: boolean;
}

/** An error a Lambda function returned, as Step Functions reports it: Error = errorType, Cause = JSON. */
class LambdaFunctionError extends Error {
  constructor(errorType: string, cause: string) {
    super(cause);
    this.name = errorType;
  }
}

/** Step Functions' payload size limit: fails the execution (not retried, not caught by States.ALL). */
class DataLimitExceededError extends Error {
  override name = 'States.DataLimitExceeded';
  get isRetryable(): boolean {
    return false;
  }
  get isCatchable(): boolean {
    return false;
  }
}

function asLambdaError(error: unknown): LambdaFunctionError {
  const e = error instanceof Error ? error : new Error(String(error));
  const errorType = e.name || 'Error';
  const payload = { errorType, errorMessage: e.message, trace: (e.stack ?? '').split('\n') };
  return new LambdaFunctionError(errorType, JSON.stringify(payload));
}

/** What crosses the Lambda boundary is JSON: round-trip it (Dates become strings, undefined disappears). */
function throughJson(value: unknown, what: string): unknown {
  const text = JSON.stringify(value === undefined ? null : value);
  if (Buffer.byteLength(text) > MAX_PAYLOAD_BYTES) {
    throw new DataLimitExceededError(`${what} is larger than ${MAX_PAYLOAD_BYTES} bytes`);
  }
  return JSON.parse(text);
}

type LocalHandler = (input: never) => Promise<never>;

/**
 * Validating a definition takes a few hundred milliseconds: one StateMachine per resolved workflow, and a
 * definition that passed validation before with the same packages (recorded in the synthesis cache) is not
 * validated again.
 */
const machines = new WeakMap<object, StateMachine>();
function machineFor(resolved: { definition: StateMachineDefinition }): StateMachine {
  let machine = machines.get(resolved);
  if (!machine) {
    machine = validatedMachine(resolved.definition);
    machines.set(resolved, machine);
  }
  return machine;
}

function validatedMachine(definition: StateMachineDefinition): StateMachine {
  const validationOptions = { checkArn: true, checkPaths: true };
  const validation = validationRecord({ definition, validationOptions });
  // A copy: the validator fills in defaults (QueryLanguage), and the definition must not depend on whether
  // validation ran in this process.
  const machine = new StateMachine(structuredClone(definition), {
    validationOptions: validation.known ? { noValidate: true } : validationOptions,
  });
  if (!validation.known) validation.record();
  return machine;
}

/**
 * The configuration a local run synthesizes: the given one, with the delivery check left out unless asked
 * (`deliveryCheck`). Every local use of one run's workflow (the run, the sweep or fan-out that starts it) goes
 * through it, so they share one synthesis.
 */
export function localRunConfig(options: Pick<RunWorkflowOptions, 'config' | 'deliveryCheck'>): ConfigInput {
  return options.deliveryCheck
    ? (options.config ?? {})
    : { ...(options.config ?? {}), deliveryCheckMinutes: 0 };
}

/**
 * Runs one execution of the synthesized workflow with the given input. A failed execution comes back as
 * status FAILED with its error; only a problem with the runner itself throws.
 */
export async function runWorkflow(input: unknown, options: RunWorkflowOptions = {}): Promise<WorkflowRun> {
  const parsed = parseConfig(options.config ?? {});
  const region = workflowRegion(parsed, options);
  const clients = options.clients ?? createClients({ defaultRegion: region });
  if (isHubConfig(parsed) && clients.defaultRegion !== (region ?? clients.defaultRegion)) {
    throw new WorkflowRunnerError(
      `the hub's clients act in ${clients.defaultRegion}, but the hub region is ${region}: pass clients created for the hub region`,
    );
  }
  const local = await localWorkflow({
    ...options,
    config: localRunConfig(options),
    clients,
    region: region ?? clients.defaultRegion,
  });
  const now = options.now ?? (() => new Date());
  const accounts =
    options.accounts ??
    (guardsOtherAccounts(parsed)
      ? localAccountAccess({ clients, account: local.account }, parsed)
      : undefined);

  const cores = new Map<StepName, StepFunction>();
  const coreFor = (step: StepName): StepFunction => {
    let core = cores.get(step);
    if (!core) {
      const factory: StepFactory = options.steps?.[step] ?? STEPS[step];
      core = factory({ ...local.settings[step], clients, now, ...(accounts ? { accounts } : {}) });
      cores.set(step, core);
    }
    return core;
  };

  const steps = Object.fromEntries(
    Object.entries(local.tasks).map(([name, step]) => [name, (payload: unknown) => coreFor(step)(payload)]),
  );
  return execute(machineFor(local), local.definition, steps, input, {
    region: local.region,
    account: local.account,
    machineName: LOCAL_STATE_MACHINE,
    executionName: options.executionName ?? `local-${randomUUID()}`,
    realRetryWaits: options.realRetryWaits ?? false,
    waitTimeOverrides: { WaitForDelivery: options.deliveryWaitMs ?? 0 },
  });
}

/**
 * Runs a hub's organization sweep: the state machine CDK synthesizes for it (ListTargets, then a Map of
 * SweepTarget over every guarded account x region), each of its tasks handled by `sweep` (the sweep
 * function's core, in process). Undefined when the template has none (config.accounts not set).
 */
export async function runOrganizationSweep(
  sweep: (payload: unknown) => Promise<unknown>,
  options: Pick<RunWorkflowOptions, 'config' | 'clients' | 'region' | 'accountId' | 'realRetryWaits'> & {
    executionName?: string;
  } = {},
): Promise<WorkflowRun | undefined> {
  const local = await localRunWorkflow(options);
  const organizationSweep = local.organizationSweep;
  if (!organizationSweep) return undefined;
  const handlers = Object.fromEntries(organizationSweep.tasks.map((name) => [name, sweep]));
  return execute(
    machineFor(organizationSweep),
    organizationSweep.definition,
    handlers,
    {},
    {
      region: local.region,
      account: local.account,
      machineName: LOCAL_ORGANIZATION_SWEEP,
      executionName: options.executionName ?? `local-${randomUUID()}`,
      realRetryWaits: options.realRetryWaits ?? false,
    },
  );
}

interface ExecuteOptions {
  region: string;
  account: string;
  /** The state machine's local name (its ARN's last part). */
  machineName: string;
  executionName: string;
  realRetryWaits: boolean;
  waitTimeOverrides?: Record<string, number>;
}

/**
 * One execution of a state machine whose Task states are handled in process (`handlers`, by state name, nested
 * states too): each gets the task's payload and returns the function's result, both through JSON as across
 * the Lambda boundary; an error is what Lambda reports (Error = its name). A failed execution comes back as
 * status FAILED with its error; only a problem with the runner itself throws.
 */
async function execute(
  machine: StateMachine,
  definition: StateMachineDefinition,
  handlers: Record<string, (payload: unknown) => Promise<unknown>>,
  input: unknown,
  o: ExecuteOptions,
): Promise<WorkflowRun> {
  const byName = allStates(definition as unknown as { States: Record<string, unknown> });
  const localHandlers: Record<string, LocalHandler> = {};
  const retryOverrides: Record<string, number> = {};
  for (const [name, handle] of Object.entries(handlers)) {
    const state = byName[name] as { Resource: string; Retry?: unknown[] } | undefined;
    if (!state) throw new WorkflowRunnerError(`no state ${name} in the definition`);
    const invokeApi = LAMBDA_INVOKE.test(state.Resource);
    localHandlers[name] = (async (taskInput: unknown) => {
      const payload = throughJson(
        invokeApi && isObject(taskInput) ? taskInput.Payload : taskInput,
        `the input of ${name}`,
      );
      let result: unknown;
      try {
        result = await handle(payload);
      } catch (error) {
        throw asLambdaError(error);
      }
      const out = throughJson(result, `the result of ${name}`);
      return (invokeApi ? { Payload: out, StatusCode: 200 } : out) as never;
    }) as LocalHandler;
    if (!o.realRetryWaits && state.Retry) retryOverrides[name] = 0;
  }

  const { executionName } = o;
  const partition = partitionOf(o.region);
  const stateMachineArn = `arn:${partition}:states:${o.region}:${o.account}:stateMachine:${o.machineName}`;
  const executionId = `arn:${partition}:states:${o.region}:${o.account}:execution:${o.machineName}:${executionName}`;

  const execution = machine.run(throughJson(input, 'the execution input') as never, {
    overrides: {
      taskResourceLocalHandlers: localHandlers as never,
      retryIntervalOverrides: retryOverrides,
      ...(o.waitTimeOverrides ? { waitTimeOverrides: o.waitTimeOverrides } : {}),
    },
    context: {
      Execution: { Id: executionId, Name: executionName },
      StateMachine: { Id: stateMachineArn, Name: o.machineName },
    },
  });

  const history: HistoryEntry[] = [];
  const states: string[] = [];
  let lastInput: unknown;
  const collecting = (async () => {
    for await (const event of execution.eventLogs) {
      const entry: HistoryEntry = { type: event.type };
      if ('state' in event) entry.state = event.state.name;
      if ('Error' in event) {
        entry.error = event.Error;
        entry.cause = typeof event.Cause === 'string' ? event.Cause : errorMessage(event.Cause);
      }
      if (event.type === 'StateRetried') {
        entry.retry = { errors: event.retry.retrier.ErrorEquals, attempt: event.retry.attempt };
      }
      if (event.type === 'StateEntered') {
        states.push(event.state.name);
        lastInput = event.state.input;
      }
      history.push(entry);
    }
  })();

  let status: ExecutionStatus;
  let output: unknown;
  let error: WorkflowRun['error'];
  try {
    output = await execution.result;
    status = 'SUCCEEDED';
  } catch (e) {
    if (e instanceof ExecutionError) {
      const cause = e.cause as { name?: string; message?: string } | undefined;
      status = 'FAILED';
      error = { Error: cause?.name ?? 'States.Runtime', ...(cause?.message ? { Cause: cause.message } : {}) };
    } else if (e instanceof ExecutionTimeoutError) {
      status = 'TIMED_OUT';
      error = { Error: 'States.Timeout', Cause: 'the execution timed out' };
    } else {
      throw e;
    }
  }
  await collecting;
  if (status !== 'SUCCEEDED') output = lastInput;
  return {
    executionId,
    status,
    output,
    ...(error ? { error } : {}),
    transitions: states.length,
    states,
    history,
  };
}

function errorMessage(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (value instanceof Error) return value.message;
  return String(value);
}
