/**
 * Reading the synthesized template in infrastructure tests: resources by type and metadata, IAM statements
 * per role with CloudFormation references rendered readably (`<AWS::AccountId>`, `<LogicalId.Arn>`, as
 * cdk-nag renders them), so assertions can name exact actions and resources.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { expect } from 'vitest';
import { type BuildAppOptions, buildApp } from '../../infra/app.js';
import {
  FUNCTION_METADATA_KEY,
  nagFlatten,
  POWERTOOLS_LAYER_PARAMETER_PREFIX,
  powertoolsVersion,
} from '../../infra/constructs/functions.js';
import { RULE_METADATA_KEY } from '../../infra/constructs/trigger.js';
import type { TrailguardStack } from '../../infra/stacks/trailguard-stack.js';

export interface CfnResource {
  Type: string;
  Properties: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

export interface Synth {
  template: Template;
  resources: Record<string, CfnResource>;
  stack: TrailguardStack;
}

/** Synthesizes the stack in process (no bundling; cdk-nag off unless asked). */
export function synth(options: BuildAppOptions = {}): Synth {
  const { stack } = buildApp({ bundling: false, nag: false, ...options });
  const template = Template.fromStack(stack);
  return { template, resources: template.toJSON().Resources as Record<string, CfnResource>, stack };
}

/**
 * The template parameter that resolves the Powertools layer's ARN at deploy: an SSM parameter value whose default
 * is AWS's public parameter for the installed release (infra/constructs/functions.ts powertoolsLayers).
 */
export function powertoolsParameterId(template: Template | { Parameters?: unknown }): string {
  const json = template instanceof Template ? template.toJSON() : template;
  const parameters = (json.Parameters ?? {}) as Record<string, { Type?: string; Default?: string }>;
  const ids = Object.entries(parameters)
    .filter(([, p]) => p.Default === `${POWERTOOLS_LAYER_PARAMETER_PREFIX}${powertoolsVersion()}`)
    .map(([id]) => id);
  if (ids.length !== 1 || !ids[0])
    throw new Error(`expected one Powertools layer parameter, found ${ids.length}`);
  expect(parameters[ids[0]]?.Type).toBe('AWS::SSM::Parameter::Value<String>');
  return ids[0];
}

export function idsOfType(resources: Record<string, CfnResource>, type: string): string[] {
  return Object.entries(resources)
    .filter(([, r]) => r.Type === type)
    .map(([id]) => id);
}

export function onlyIdOfType(resources: Record<string, CfnResource>, type: string): string {
  const ids = idsOfType(resources, type);
  if (ids.length !== 1 || !ids[0]) throw new Error(`expected one ${type}, found ${ids.length}`);
  return ids[0];
}

/** Logical id of the table with this `trailguard:table` metadata (`audit` or `idempotency`). */
export function tableId(
  resources: Record<string, CfnResource>,
  table: 'audit' | 'idempotency' | 'state',
): string {
  const ids = idsOfType(resources, 'AWS::DynamoDB::Table').filter(
    (id) => resources[id]?.Metadata?.['trailguard:table'] === table,
  );
  if (ids.length !== 1 || !ids[0]) throw new Error(`expected one ${table} table, found ${ids.length}`);
  return ids[0];
}

/** Logical id of each function, by its `trailguard:function` metadata (step name or Sweep). */
export function functionIds(resources: Record<string, CfnResource>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type === 'AWS::Lambda::Function') out[String(r.Metadata?.[FUNCTION_METADATA_KEY])] = id;
  }
  return out;
}

/** Logical id of each rule, by its `trailguard:rule` metadata. */
export function ruleIds(resources: Record<string, CfnResource>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type === 'AWS::Events::Rule') out[String(r.Metadata?.[RULE_METADATA_KEY])] = id;
  }
  return out;
}

/** The logical id of a function's role. */
export function roleIdOf(resources: Record<string, CfnResource>, fn: string): string {
  const role = resources[functionIds(resources)[fn] ?? '']?.Properties.Role as
    | { 'Fn::GetAtt': [string, string] }
    | undefined;
  if (!role) throw new Error(`no role for ${fn}`);
  return role['Fn::GetAtt'][0];
}

export interface RenderedStatement {
  Sid?: string;
  /** Present only for a Deny (an Allow is the rendering's default). */
  Effect?: 'Deny';
  Action: string[];
  Resource: string[];
  Condition?: unknown;
}

const arrayOf = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

/** Renders every CloudFormation reference inside a value as cdk-nag does (`<AWS::Region>`, `<Id.Arn>`). */
export function renderDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(renderDeep);
  if (value && typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 1 && (keys[0] === 'Ref' || keys[0]?.startsWith('Fn::'))) return nagFlatten(value);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderDeep(v)]));
  }
  return value;
}

/** Every statement of every policy attached to a role, rendered; `ManagedPolicyArns` must be absent. */
export function statementsOfRole(
  resources: Record<string, CfnResource>,
  roleId: string,
): RenderedStatement[] {
  if (resources[roleId]?.Properties.ManagedPolicyArns !== undefined) {
    throw new Error(`role ${roleId} has managed policies`);
  }
  return Object.values(resources)
    .filter(
      (r) =>
        r.Type === 'AWS::IAM::Policy' &&
        (r.Properties.Roles as { Ref: string }[]).some((ref) => ref.Ref === roleId),
    )
    .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement)
    .map((s) => {
      expect(['Allow', 'Deny']).toContain(s.Effect);
      return {
        ...(s.Sid ? { Sid: String(s.Sid) } : {}),
        ...(s.Effect === 'Deny' ? { Effect: 'Deny' as const } : {}),
        Action: arrayOf(s.Action as string | string[]),
        Resource: arrayOf(s.Resource).map(nagFlatten),
        ...(s.Condition ? { Condition: renderDeep(s.Condition) } : {}),
      };
    });
}

/** A function's statements, sorted (Sid first, then by content) for exact comparison. */
export function statementsOfFunction(
  resources: Record<string, CfnResource>,
  fn: string,
): RenderedStatement[] {
  return sortStatements(statementsOfRole(resources, roleIdOf(resources, fn)));
}

export function sortStatements(statements: RenderedStatement[]): RenderedStatement[] {
  const key = (s: RenderedStatement) => `${s.Sid ?? '~'}|${JSON.stringify(s)}`;
  return [...statements].sort((a, b) => key(a).localeCompare(key(b)));
}
