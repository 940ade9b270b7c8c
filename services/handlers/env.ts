/**
 * The Lambda functions' environment: one zod schema, parsed by every handler at cold start and used by the CDK
 * construct to build the environment, so a missing or bad variable fails at synth time, not in production.
 * The sweep function gets the same variables plus the state machine it starts (sweepEnvSchema).
 */

import { type Config, ConfigSchema, formatIssues } from '../../policies/config.js';
import * as z from '../../policies/zod.js';

/** `config.managedRoleNames` as one variable: a JSON array (role names may contain commas). */
const roleNameList = z.string().check(
  z.superRefine((text, ctx) => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON array of role names' });
      return;
    }
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON array of role names' });
    }
  }),
);

/**
 * A variable holding JSON (a string in the schema, so the environment stays strings); parseEnv parses it and the
 * configuration schema checks the value.
 */
function json(what: string) {
  return z.string().check(
    z.superRefine((text, ctx) => {
      try {
        JSON.parse(text);
      } catch {
        ctx.addIssue({ code: 'custom', message: `must be ${what} in JSON` });
      }
    }),
  );
}

export const HandlerEnvSchema = z.object({
  TRAILGUARD_MODE: ConfigSchema.shape.mode.def.innerType,
  TRAILGUARD_LOG_GROUP_NAME_TEMPLATE: z.string().check(z.minLength(1)),
  TRAILGUARD_RETENTION_DAYS: z.coerce.number().check(z.int()),
  TRAILGUARD_KMS_KEY_ARN: z.optional(z.string()),
  TRAILGUARD_KMS_KEYS: z.optional(json('an object of region (or account) to KMS key ARN')),
  /** config.logGroupDeletionProtection and config.protectExistingLogGroups (absent: their defaults). */
  TRAILGUARD_LOG_GROUP_DELETION_PROTECTION: z.optional(z.enum(['true', 'false'])),
  TRAILGUARD_PROTECT_EXISTING_LOG_GROUPS: z.optional(z.enum(['true', 'false'])),
  TRAILGUARD_DELIVERY_ROLE_NAME: z.string().check(z.minLength(1)),
  /** The other roles trailguard may repair in place (config.managedRoleNames), as a JSON array. */
  TRAILGUARD_MANAGED_ROLE_NAMES: z.optional(roleNameList),
  TRAILGUARD_EXEMPT_TAG_KEY: z.string().check(z.minLength(1)),
  TRAILGUARD_EXEMPT_TAG_VALUE: z.string(),
  TRAILGUARD_TOPIC_ARN: z
    .string()
    .check(z.regex(/^arn:aws[\w-]*:sns:[a-z0-9-]+:\d{12}:[\w-]+$/, 'must be an SNS topic ARN')),
  TRAILGUARD_AUDIT_TABLE: z.string().check(z.minLength(3)),
  /**
   * Notify's idempotency table (Powertools idempotency: one email per run and outcome). Absent: Notify
   * publishes without de-duplication (only hand-built settings in tests lack it; the stack always sets it).
   */
  TRAILGUARD_IDEMPOTENCY_TABLE: z.optional(z.string().check(z.minLength(3))),
  /** config.securityHub: update the trail's CloudTrail.5 findings in Security Hub (default true). */
  TRAILGUARD_SECURITY_HUB: z.optional(z.enum(['true', 'false'])),
  /** config.deliveryCheckMinutes: 0 turns the delivery check off. */
  TRAILGUARD_DELIVERY_CHECK_MINUTES: z.optional(z.coerce.number().check(z.int())),
  /** config.cisMonitoring. */
  TRAILGUARD_CIS_MONITORING: z.optional(z.enum(['true', 'false'])),
  /** config.cisAlarmTopicArn: where the CIS alarms notify (default: TRAILGUARD_TOPIC_ARN). */
  TRAILGUARD_CIS_ALARM_TOPIC_ARN: z.optional(z.string()),
  /**
   * The guardrail's state table: log group snapshots and when each delivery error was first seen. Absent:
   * no snapshot is taken or restored and every delivery error counts as current (hand-built test settings).
   */
  TRAILGUARD_STATE_TABLE: z.optional(z.string().check(z.minLength(3))),
  /**
   * `true`: Powertools Tracer records every AWS call of the function as an X-Ray subsegment, with the trail,
   * step, execution and outcome as annotations (services/handlers/lambda.ts). Off by default: loading the X-Ray
   * SDK would more than double a function's cold start; Lambda's and Step Functions' own traces stay on.
   */
  TRAILGUARD_SDK_TRACING: z.optional(z.enum(['true', 'false'])),
  /** The account the guardrail runs in; saves an STS call per run. */
  TRAILGUARD_ACCOUNT_ID: z.optional(z.string().check(z.regex(/^\d{12}$/))),
  /** config.accounts as JSON: `"organization"` or an array of account ids. Absent: the hub's own account. */
  TRAILGUARD_ACCOUNTS: z.optional(json('"organization" or an array of account ids')),
  /** config.regions as a JSON array. Absent: every region enabled in the account. */
  TRAILGUARD_REGIONS: z.optional(json('an array of region names')),
  /** config.hubRegion. */
  TRAILGUARD_HUB_REGION: z.optional(z.string()),
  /** config.remediationRoleName: the base name of the member roles the hub assumes in each guarded account. */
  TRAILGUARD_REMEDIATION_ROLE_NAME: z.optional(z.string()),
});
export type HandlerEnv = z.infer<typeof HandlerEnvSchema>;

/** The sweep function's environment: the handlers' variables and the workflow it starts executions of. */
export const sweepEnvSchema = z.lazily(() =>
  z.extend(HandlerEnvSchema, {
    TRAILGUARD_STATE_MACHINE_ARN: z
      .string()
      .check(
        z.regex(
          /^arn:aws[\w-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[\w-]+$/,
          'must be a Step Functions state machine ARN',
        ),
      ),
  }),
);
export type SweepEnv = z.infer<ReturnType<typeof sweepEnvSchema>>;

export interface Settings {
  config: Config;
  topicArn: string;
  auditTableName: string;
  /** Notify's idempotency table; without it Notify publishes without de-duplication. */
  idempotencyTableName?: string;
  /** The state table (log group snapshots, delivery-error sightings); without it neither is kept. */
  stateTableName?: string;
  accountId?: string;
}

/** Where the CIS alarms notify: the configured topic, else the guardrail's own. */
export function cisAlarmTopicArn(settings: Pick<Settings, 'config' | 'topicArn'>): string {
  return settings.config.cisAlarmTopicArn ?? settings.topicArn;
}

export interface SweepSettings extends Settings {
  stateMachineArn: string;
}

export class EnvironmentError extends Error {
  override name = 'EnvironmentError';
}

function invalid(error: z.core.$ZodError): EnvironmentError {
  return new EnvironmentError(`invalid Lambda environment: ${formatIssues(error).join('; ')}`, {
    cause: error,
  });
}

/** Parses the environment (all problems at once) into validated settings. */
export function parseEnv(env: Record<string, string | undefined>): Settings {
  const result = HandlerEnvSchema.safeParse(env);
  if (!result.success) throw invalid(result.error);
  const e = result.data;
  const config = ConfigSchema.safeParse({
    mode: e.TRAILGUARD_MODE,
    logGroupNameTemplate: e.TRAILGUARD_LOG_GROUP_NAME_TEMPLATE,
    retentionDays: e.TRAILGUARD_RETENTION_DAYS,
    kmsKeyArn: e.TRAILGUARD_KMS_KEY_ARN || undefined,
    ...(e.TRAILGUARD_KMS_KEYS ? { kmsKeys: JSON.parse(e.TRAILGUARD_KMS_KEYS) as unknown } : {}),
    ...(e.TRAILGUARD_LOG_GROUP_DELETION_PROTECTION
      ? { logGroupDeletionProtection: e.TRAILGUARD_LOG_GROUP_DELETION_PROTECTION === 'true' }
      : {}),
    ...(e.TRAILGUARD_PROTECT_EXISTING_LOG_GROUPS
      ? { protectExistingLogGroups: e.TRAILGUARD_PROTECT_EXISTING_LOG_GROUPS === 'true' }
      : {}),
    deliveryRoleName: e.TRAILGUARD_DELIVERY_ROLE_NAME,
    ...(e.TRAILGUARD_MANAGED_ROLE_NAMES
      ? { managedRoleNames: JSON.parse(e.TRAILGUARD_MANAGED_ROLE_NAMES) as unknown }
      : {}),
    exemptTagKey: e.TRAILGUARD_EXEMPT_TAG_KEY,
    exemptTagValue: e.TRAILGUARD_EXEMPT_TAG_VALUE,
    ...(e.TRAILGUARD_SECURITY_HUB ? { securityHub: e.TRAILGUARD_SECURITY_HUB === 'true' } : {}),
    ...(e.TRAILGUARD_DELIVERY_CHECK_MINUTES !== undefined
      ? { deliveryCheckMinutes: e.TRAILGUARD_DELIVERY_CHECK_MINUTES }
      : {}),
    ...(e.TRAILGUARD_CIS_MONITORING ? { cisMonitoring: e.TRAILGUARD_CIS_MONITORING === 'true' } : {}),
    ...(e.TRAILGUARD_CIS_ALARM_TOPIC_ARN ? { cisAlarmTopicArn: e.TRAILGUARD_CIS_ALARM_TOPIC_ARN } : {}),
    ...(e.TRAILGUARD_ACCOUNTS ? { accounts: JSON.parse(e.TRAILGUARD_ACCOUNTS) as unknown } : {}),
    ...(e.TRAILGUARD_REGIONS ? { regions: JSON.parse(e.TRAILGUARD_REGIONS) as unknown } : {}),
    ...(e.TRAILGUARD_HUB_REGION ? { hubRegion: e.TRAILGUARD_HUB_REGION } : {}),
    ...(e.TRAILGUARD_REMEDIATION_ROLE_NAME
      ? { remediationRoleName: e.TRAILGUARD_REMEDIATION_ROLE_NAME }
      : {}),
  });
  if (!config.success) throw invalid(config.error);
  return {
    config: config.data,
    topicArn: e.TRAILGUARD_TOPIC_ARN,
    auditTableName: e.TRAILGUARD_AUDIT_TABLE,
    ...(e.TRAILGUARD_IDEMPOTENCY_TABLE ? { idempotencyTableName: e.TRAILGUARD_IDEMPOTENCY_TABLE } : {}),
    ...(e.TRAILGUARD_STATE_TABLE ? { stateTableName: e.TRAILGUARD_STATE_TABLE } : {}),
    ...(e.TRAILGUARD_ACCOUNT_ID ? { accountId: e.TRAILGUARD_ACCOUNT_ID } : {}),
  };
}

/** Parses the sweep function's environment: the handlers' settings and the state machine ARN. */
export function parseSweepEnv(env: Record<string, string | undefined>): SweepSettings {
  const result = sweepEnvSchema().safeParse(env);
  if (!result.success) throw invalid(result.error);
  return { ...parseEnv(env), stateMachineArn: result.data.TRAILGUARD_STATE_MACHINE_ARN };
}

/** The deployed resources a function's environment names (values may be CDK tokens). */
export interface EnvResources {
  topicArn: string;
  auditTableName: string;
  idempotencyTableName?: string;
  stateTableName?: string;
  accountId?: string;
}

/** Builds the environment for the functions; the values may be CDK tokens (topic ARN, table name). */
export function envFor(config: Config, resources: EnvResources): HandlerEnv {
  return {
    TRAILGUARD_MODE: config.mode,
    TRAILGUARD_LOG_GROUP_NAME_TEMPLATE: config.logGroupNameTemplate,
    TRAILGUARD_RETENTION_DAYS: config.retentionDays,
    ...(config.kmsKeyArn ? { TRAILGUARD_KMS_KEY_ARN: config.kmsKeyArn } : {}),
    ...(config.kmsKeys ? { TRAILGUARD_KMS_KEYS: JSON.stringify(config.kmsKeys) } : {}),
    TRAILGUARD_LOG_GROUP_DELETION_PROTECTION: config.logGroupDeletionProtection ? 'true' : 'false',
    TRAILGUARD_PROTECT_EXISTING_LOG_GROUPS: config.protectExistingLogGroups ? 'true' : 'false',
    TRAILGUARD_DELIVERY_ROLE_NAME: config.deliveryRoleName,
    ...(config.managedRoleNames.length > 0
      ? { TRAILGUARD_MANAGED_ROLE_NAMES: JSON.stringify(config.managedRoleNames) }
      : {}),
    TRAILGUARD_EXEMPT_TAG_KEY: config.exemptTagKey,
    TRAILGUARD_EXEMPT_TAG_VALUE: config.exemptTagValue,
    TRAILGUARD_TOPIC_ARN: resources.topicArn,
    TRAILGUARD_AUDIT_TABLE: resources.auditTableName,
    ...(resources.idempotencyTableName
      ? { TRAILGUARD_IDEMPOTENCY_TABLE: resources.idempotencyTableName }
      : {}),
    TRAILGUARD_SECURITY_HUB: config.securityHub ? 'true' : 'false',
    TRAILGUARD_DELIVERY_CHECK_MINUTES: config.deliveryCheckMinutes,
    TRAILGUARD_CIS_MONITORING: config.cisMonitoring ? 'true' : 'false',
    ...(config.cisAlarmTopicArn ? { TRAILGUARD_CIS_ALARM_TOPIC_ARN: config.cisAlarmTopicArn } : {}),
    ...(resources.stateTableName ? { TRAILGUARD_STATE_TABLE: resources.stateTableName } : {}),
    ...(resources.accountId ? { TRAILGUARD_ACCOUNT_ID: resources.accountId } : {}),
    ...(config.accounts ? { TRAILGUARD_ACCOUNTS: JSON.stringify(config.accounts) } : {}),
    ...(config.regions ? { TRAILGUARD_REGIONS: JSON.stringify(config.regions) } : {}),
    ...(config.hubRegion ? { TRAILGUARD_HUB_REGION: config.hubRegion } : {}),
    TRAILGUARD_REMEDIATION_ROLE_NAME: config.remediationRoleName,
  };
}

/** The sweep function's environment: the handlers' and the state machine ARN (a token at synth time). */
export function sweepEnvFor(config: Config, resources: EnvResources & { stateMachineArn: string }): SweepEnv {
  return { ...envFor(config, resources), TRAILGUARD_STATE_MACHINE_ARN: resources.stateMachineArn };
}
