/**
 * The deployed canary's steps (the workflow in infra/constructs/canary.ts), each one call of selftest's core
 * (services/aws/canary.ts, services/domain/canary.ts) with the canary carried as JSON between them. They act
 * through the canary role's clients (CanaryDeps.canaryClients); the function (services/handlers/canary.ts) only
 * builds those and wraps `canaryStep` in middy.
 *
 * - `setup` {region}: creates the canary (not runnable when the region has no room for a trail);
 * - `break` {canary, break, first}: puts the canary back to its own configuration (not the first time),
 *   breaks it;
 * - `check` {canary, break, brokenAt}: re-reads the canary and looks for the break's run in the audit table;
 *   `done` when fixed, or when timeoutMinutes have passed since the break (then the case says where it went
 *   missing);
 * - `probe` {canary, break}: once the canary is found fixed, writes one object under its object prefix;
 * - `delivery` {canary, break, brokenAt, key, writtenAt, case}: looks for that object's data event in the log
 *   group the trail delivers to; `done` when it arrived (the case stands), or when timeoutMinutes have passed
 *   since the break (the case becomes not fixed: "delivery not confirmed"): proof of delivery end to end;
 * - `finish` {canary?, notRunnable?, cases, error?}: removes the canary, emits CanaryFixed (1/0) and
 *   TimeToRemediate (seconds) per case with the account and region, and emails the team when a case was not
 *   fixed: "trailguard did not fix its canary in <account>/<region> within N minutes: <where>".
 */
import { PublishCommand } from '@aws-sdk/client-sns';
import { formatIssues } from '../../policies/config.js';
import * as z from '../../policies/zod.js';
import { partitionOf } from '../domain/arns.js';
import {
  BREAKS,
  type CaseResult,
  canaryEmail,
  canaryNames,
  caseResult,
  casesNotRun,
  deliveryNotConfirmed,
  firstRunAfter,
  judgeCase,
  missingText,
  newCanaryRunId,
  reportOfRecord,
  selftestReport,
  undelivered,
} from '../domain/canary.js';
import { InvalidInputError } from '../domain/errors.js';
import { listAuditRecords } from './audit-store.js';
import {
  applyBreak,
  type Canary,
  CanaryNotRunnableError,
  type CanaryState,
  type CanaryTarget,
  canaryFromState,
  canaryToState,
  cleanupCanary,
  createCanary,
  findDelivery,
  rereadCanary,
  restoreBaseline,
  s3ClientFor,
  writeCanaryObject,
} from './canary.js';
import type { AwsClients } from './clients.js';

/** The canary function's environment (the construct builds it from this schema: a bad value fails synth). */
export const CanaryEnvSchema = z.object({
  TRAILGUARD_CANARY_ROLE_ARN: z
    .string()
    .check(z.regex(/^arn:aws[\w-]*:iam::\d{12}:role\/.+$/, 'must be a role ARN')),
  TRAILGUARD_CANARY_BUCKET: z.string().check(z.minLength(3), z.maxLength(63)),
  TRAILGUARD_AUDIT_TABLE: z.string().check(z.minLength(3)),
  TRAILGUARD_TOPIC_ARN: z
    .string()
    .check(z.regex(/^arn:aws[\w-]*:sns:[a-z0-9-]+:\d{12}:[\w-]+$/, 'must be an SNS topic ARN')),
  TRAILGUARD_CANARY_TIMEOUT_MINUTES: z.coerce.number().check(z.int(), z.gte(1), z.lte(60)),
  /** The guardrail's own delivery role (config.deliveryRoleName): cleanup keeps it (CanaryTarget.keepRoles). */
  TRAILGUARD_DELIVERY_ROLE_NAME: z.string().check(z.regex(/^[\w+=,.@-]{1,64}$/, 'must be an IAM role name')),
  /** config.cisMonitoring: the fixes made CIS alarms for the canary's log groups, which cleanup removes. */
  TRAILGUARD_CANARY_CIS_ALARMS: z.pipe(
    z._default(z.enum(['true', 'false']), 'false'),
    z.transform((v) => v === 'true'),
  ),
});
export type CanaryEnv = z.infer<typeof CanaryEnvSchema>;

export const CANARY_FIXED_METRIC = 'CanaryFixed';

const StateSchema = z.custom<CanaryState>(
  (v) => typeof v === 'object' && v !== null && typeof (v as { trail?: unknown }).trail === 'string',
);
const BreakSchema = z.enum(BREAKS);
const AccountSchema = z.string().check(z.regex(/^\d{12}$/, 'must be a 12-digit account id'));
const CaseSchema = z.custom<CaseResult>((v) => typeof v === 'object' && v !== null);

const InputSchema = z.discriminatedUnion('action', [
  z.object({
    action: z.literal('setup'),
    region: z.string().check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d+$/)),
    /** Default: the function's own account. */
    account: z.optional(AccountSchema),
  }),
  z.object({ action: z.literal('break'), canary: StateSchema, break: BreakSchema, first: z.boolean() }),
  z.object({ action: z.literal('check'), canary: StateSchema, break: BreakSchema, brokenAt: z.string() }),
  z.object({ action: z.literal('probe'), canary: StateSchema, break: BreakSchema }),
  z.object({
    action: z.literal('delivery'),
    canary: StateSchema,
    break: BreakSchema,
    brokenAt: z.string(),
    key: z.string().check(z.minLength(1)),
    writtenAt: z.string(),
    case: CaseSchema,
  }),
  z.object({
    action: z.literal('finish'),
    region: z.string(),
    account: z.optional(AccountSchema),
    canary: z.optional(StateSchema),
    notRunnable: z.optional(z.string()),
    cases: z._default(
      z.array(z.looseObject({ case: z.optional(CaseSchema), seen: z.optional(z.unknown()) })),
      [],
    ),
    error: z.optional(z.unknown()),
  }),
]);
export type CanaryInput = z.infer<typeof InputSchema>;

export interface CanaryDeps {
  env: CanaryEnv;
  /** The function's own clients (audit table, topic). */
  clients: AwsClients;
  /**
   * Clients acting through a canary role in `account`, in `region`: the hub's canary role in the function's own
   * account, the spoke's `trailguard-canary-access` in any other.
   */
  canaryClients: (region: string, account: string) => Promise<AwsClients>;
  account: string;
  now: () => Date;
  metrics?: { fixed(account: string, region: string, fixed: boolean, seconds: number | null): void };
}

/**
 * Where a canary runs. In the hub's own account the canary delivers to the stack's canary bucket; in another
 * account to a bucket of the run's own in that account, created and removed with the canary (a trail can deliver
 * to another account's bucket only when that bucket's policy admits it: CloudTrail User Guide, "Amazon S3 bucket
 * policy for CloudTrail", and "Setting bucket policy for multiple accounts"; a bucket per run keeps the hub's
 * bucket policy free of member accounts).
 */
function targetOf(deps: CanaryDeps, clients: AwsClients, region: string, account: string): CanaryTarget {
  return {
    account,
    region,
    partition: partitionOf(region),
    clients,
    s3: s3ClientFor(clients, region, process.env.AWS_ENDPOINT_URL),
    ...(account === deps.account ? { bucket: deps.env.TRAILGUARD_CANARY_BUCKET } : {}),
    keepRoles: [deps.env.TRAILGUARD_DELIVERY_ROLE_NAME],
    ...(deps.env.TRAILGUARD_CANARY_CIS_ALARMS ? { cisAlarms: true } : {}),
  };
}

/** Runs `use` with the canary's target (its clients in the canary's account and region), then lets its S3 client go. */
async function withTarget<T>(
  deps: CanaryDeps,
  canary: Canary,
  use: (target: CanaryTarget) => Promise<T>,
): Promise<T> {
  const target = targetOf(
    deps,
    await deps.canaryClients(canary.region, canary.account),
    canary.region,
    canary.account,
  );
  try {
    return await use(target);
  } finally {
    target.s3.destroy();
  }
}

/** The canary's steps, one function: pure of Lambda, so the tests call it with clients of the emulator. */
export function canaryStep(deps: CanaryDeps) {
  const timeoutMs = deps.env.TRAILGUARD_CANARY_TIMEOUT_MINUTES * 60_000;
  return async (payload: unknown): Promise<unknown> => {
    const parsed = InputSchema.safeParse(payload);
    if (!parsed.success) {
      throw new InvalidInputError(`invalid canary step input: ${formatIssues(parsed.error).join('; ')}`);
    }
    const input = parsed.data;
    switch (input.action) {
      case 'setup': {
        const account = input.account ?? deps.account;
        const target = targetOf(deps, await deps.canaryClients(input.region, account), input.region, account);
        let created: Canary | undefined;
        try {
          const canary = await createCanary(target, canaryNames(newCanaryRunId(), input.region), (c) => {
            created = c;
          });
          return { canary: canaryToState(canary) };
        } catch (error) {
          if (error instanceof CanaryNotRunnableError) return { notRunnable: error.message };
          // Whatever was made before the failure goes now: the workflow has no canary to clean up.
          if (created) await cleanupCanary(target, created).catch(() => undefined);
          throw error;
        } finally {
          target.s3.destroy();
        }
      }
      case 'break': {
        const canary = canaryFromState(input.canary);
        return withTarget(deps, canary, async (target) => {
          if (!input.first) await restoreBaseline(target, canary);
          const brokenAt = deps.now().toISOString();
          await applyBreak(target, canary, input.break);
          return { brokenAt };
        });
      }
      case 'check': {
        const canary = canaryFromState(input.canary);
        return withTarget(deps, canary, async (target) => {
          const brokenAt = Date.parse(input.brokenAt);
          const problems = await rereadCanary(target, canary);
          const records = await listAuditRecords(deps.clients, deps.env.TRAILGUARD_AUDIT_TABLE, {
            trail: canary.trailArn,
          });
          const record = firstRunAfter(records, brokenAt);
          const now = deps.now();
          const seen = canaryToState(canary).seen;
          const report = record
            ? reportOfRecord(record)
            : {
                noRun: `no run of the workflow for ${canary.trail} was recorded within ${deps.env.TRAILGUARD_CANARY_TIMEOUT_MINUTES} minutes of the ${input.break}`,
              };
          const verdict = judgeCase(report, {
            problems,
            auditRecord: !record ? 'missing' : record.canary === true ? 'found' : 'not-canary',
          });
          const timedOut = now.getTime() - brokenAt >= timeoutMs;
          // A failed run will not fix it later; anything else may still be on its way until the timeout.
          if (!verdict.fixed && !timedOut && record?.outcome !== 'failed') return { done: false, seen };
          const result = caseResult(
            {
              account: canary.account,
              region: canary.region,
              break: input.break,
              brokenAt,
              checkedAt: now.getTime(),
            },
            verdict,
            record?.executionId,
          );
          return { done: true, case: result, seen };
        });
      }
      case 'probe': {
        // The canary was found fixed: one object, whose data event must reach CloudWatch Logs.
        const canary = canaryFromState(input.canary);
        return withTarget(deps, canary, async (target) => {
          const writtenAt = deps.now();
          const key = await writeCanaryObject(target, canary, `${input.break}-${writtenAt.getTime()}`);
          return { key, writtenAt: writtenAt.toISOString() };
        });
      }
      case 'delivery': {
        const canary = canaryFromState(input.canary);
        return withTarget(deps, canary, async (target) => {
          const look = await findDelivery(target, canary, input.key, new Date(input.writtenAt));
          const seen = canaryToState(canary).seen;
          if (look.found) return { done: true, case: input.case, seen };
          const timedOut = deps.now().getTime() - Date.parse(input.brokenAt) >= timeoutMs;
          if (!timedOut) return { done: false, seen };
          const detail = deliveryNotConfirmed({
            bucket: canary.bucket,
            key: input.key,
            logGroup: look.logGroup,
            within: `${deps.env.TRAILGUARD_CANARY_TIMEOUT_MINUTES} minutes`,
            break: input.break,
          });
          return { done: true, case: undelivered(input.case, detail), seen };
        });
      }
      case 'finish': {
        const account = input.account ?? deps.account;
        const cases = input.cases.flatMap((c) => (c.case ? [c.case] : []));
        if (input.notRunnable) {
          const missing = missingText({ at: 'not-runnable', detail: input.notRunnable });
          cases.push(...casesNotRun(account, input.region, BREAKS, missing));
        }
        if (input.error !== undefined) {
          const err = input.error as { Error?: string; Cause?: string };
          const missing = `the canary workflow failed: ${err.Error ?? 'Error'}: ${String(err.Cause ?? '').slice(0, 300)}`;
          const notRun = BREAKS.filter((b) => !cases.some((c) => c.break === b));
          cases.push(...casesNotRun(account, input.region, notRun, missing));
        }
        let cleanupError: string | undefined;
        if (input.canary) {
          const canary = canaryFromState(input.canary);
          for (const c of input.cases) {
            const seen = c.seen as { logGroupArns?: string[]; roleArns?: string[] } | undefined;
            for (const arn of seen?.logGroupArns ?? []) canary.seen.logGroupArns.add(arn);
            for (const arn of seen?.roleArns ?? []) canary.seen.roleArns.add(arn);
          }
          try {
            await withTarget(deps, canary, (target) => cleanupCanary(target, canary));
          } catch (error) {
            cleanupError = (error as Error).message;
          }
        }
        for (const c of cases) deps.metrics?.fixed(c.account, c.region, c.fixed, c.seconds);
        const report = selftestReport(cases);
        if (report.outcome === 'failed' || cleanupError) {
          await deps.clients.sns().send(
            new PublishCommand({
              TopicArn: deps.env.TRAILGUARD_TOPIC_ARN,
              Subject: `trailguard did not fix its canary in ${account}/${input.region}`.slice(0, 100),
              Message: canaryEmail(
                {
                  account,
                  region: input.region,
                  timeoutMinutes: deps.env.TRAILGUARD_CANARY_TIMEOUT_MINUTES,
                },
                cases,
                cleanupError,
              ),
              MessageAttributes: { outcome: { DataType: 'String', StringValue: 'canary-failed' } },
            }),
          );
        }
        return {
          ...report,
          passed: report.outcome === 'passed' && !cleanupError,
          ...(cleanupError ? { cleanupError } : {}),
        };
      }
    }
  };
}
