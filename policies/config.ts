/**
 * The guardrail's configuration: one zod schema, with defaults, shared by the Lambda handlers (parsed from
 * their environment at cold start), the CDK stack (so a bad value fails at synth time) and the CLI.
 */
import * as z from './zod.js';

/** The only values CloudWatch Logs accepts for `retentionInDays` (PutRetentionPolicy). */
export const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

export const MODES = ['remediate', 'notify-only'] as const;

/** Bounds of `sweepIntervalMinutes`: often enough to be a backstop, rarely enough not to hammer the APIs. */
export const SWEEP_INTERVAL_MINUTES = { min: 5, max: 1440 } as const;
export type Mode = (typeof MODES)[number];

/** Upper bound of `deliveryCheckMinutes` (a day). */
export const DELIVERY_CHECK_MINUTES_MAX = 1440;

const LOG_GROUP_NAME = /^[\w\-./#]{1,512}$/;
const ACCOUNT_ID = /^\d{12}$/;
/** An AWS Organizations organization id (Organizations API reference, `Organization.Id`). */
export const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;
/** An AWS region name (commercial, GovCloud, China, ISO partitions), e.g. `eu-west-2`, `us-gov-west-1`. */
export const REGION_NAME = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const IAM_ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
/** A KMS key ARN (not an alias): `arn:PARTITION:kms:REGION:ACCOUNT:key/KEY-ID`. */
const KMS_KEY_ARN = /^arn:aws[\w-]*:kms:([a-z0-9-]+):\d{12}:key\/[\w-]+$/;
const KMS_KEY_ARN_VALUE = z
  .string()
  .check(z.regex(KMS_KEY_ARN, 'must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)'));
/** The canary's schedule: an EventBridge rate expression (singular unit for 1, plural otherwise). */
export const CANARY_RATE = /^rate\((1 (minute|hour|day)|([2-9]|[1-9]\d+) (minutes|hours|days))\)$/;

/** A canary schedule's interval in minutes (the schedule must match CANARY_RATE). */
export function canaryIntervalMinutes(schedule: string): number {
  const m = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(schedule);
  if (!m) throw new ConfigError([`canary.schedule: "${schedule}" is not a rate expression`]);
  const n = Number(m[1]);
  return m[2] === 'day' ? n * 1440 : m[2] === 'hour' ? n * 60 : n;
}
const TEMPLATE_VARIABLE = /\{([^}]*)\}/g;
export const LOG_GROUP_TEMPLATE_VARIABLES = ['trail', 'account', 'region'] as const;

const logGroupNameTemplate = z.string().check(
  z.minLength(1),
  z.superRefine((template, ctx) => {
    for (const match of template.matchAll(TEMPLATE_VARIABLE)) {
      const name = match[1] ?? '';
      if (!(LOG_GROUP_TEMPLATE_VARIABLES as readonly string[]).includes(name)) {
        ctx.addIssue({
          code: 'custom',
          message: `unknown variable {${name}}; use ${LOG_GROUP_TEMPLATE_VARIABLES.map((v) => `{${v}}`).join(', ')}`,
        });
      }
    }
    const sample = renderTemplate(template, { trail: 'trail', account: '123456789012', region: 'us-east-1' });
    if (!LOG_GROUP_NAME.test(sample)) {
      ctx.addIssue({
        code: 'custom',
        message: 'must render to a valid log group name (letters, digits, _ - . / #; at most 512 characters)',
      });
    }
  }),
);

/**
 * Organizations' id formats (API reference, AttachPolicy `TargetId`): a root `r-` and 4 to 32 lowercase letters
 * or digits; an OU `ou-`, 4 to 32, `-`, 8 to 32.
 */
export const ROOT_ID = /^r-[0-9a-z]{4,32}$/;
export const OU_ID = /^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/;
/** At most this many break-glass role ARNs, each at most this long: what keeps the SCP provably within its quota. */
export const BREAK_GLASS_MAX = { roles: 10, length: 200 } as const;
/**
 * A break-glass role ARN: a role of one account or of every account (`*`), at any path; `*` wildcards allowed
 * in the name (e.g. an IAM Identity Center permission set's `AWSReservedSSO_BreakGlass_*`), but the path and name
 * must not start with one (`role/*` would exempt every role).
 */
const BREAK_GLASS_ROLE_ARN = /^arn:aws[\w-]*:iam::(\d{12}|\*):role\/[\w+=,.@-][\w+=,.@/*-]*$/;

/**
 * `preventive`: the optional service control policy of an organization hub (policies/scp.ts): `scp` on, the roots
 * or OUs it is attached to, and the break-glass roles it never binds.
 */
const preventiveSchema = z.strictObject({
  scp: z._default(z.boolean(), false),
  targets: z._default(
    z
      .array(
        z
          .string()
          .check(
            z.refine(
              (id) => ROOT_ID.test(id) || OU_ID.test(id),
              'must be a root id (r-...) or an organizational unit id (ou-...-...)',
            ),
          ),
      )
      .check(z.maxLength(100)),
    [],
  ),
  breakGlassRoleArns: z._default(
    z
      .array(
        z
          .string()
          .check(
            z.maxLength(BREAK_GLASS_MAX.length, `at most ${BREAK_GLASS_MAX.length} characters`),
            z.regex(
              BREAK_GLASS_ROLE_ARN,
              'must be an IAM role ARN (arn:PARTITION:iam::ACCOUNT-or-*:role/NAME); the name must not start with *',
            ),
          ),
      )
      .check(
        z.maxLength(BREAK_GLASS_MAX.roles, `at most ${BREAK_GLASS_MAX.roles} roles (the SCP's size quota)`),
      ),
    [],
  ),
});
export type PreventiveConfig = z.infer<typeof preventiveSchema>;

/** Strict: an unknown key (a typo such as `retentionDay`) is an error, not silently ignored. */
export const ConfigSchema = z
  .strictObject({
    mode: z._default(z.enum(MODES), 'remediate'),
    logGroupNameTemplate: z._default(logGroupNameTemplate, 'CloudTrail/{trail}'),
    retentionDays: z._default(
      z.int().check(
        z.refine((d) => (RETENTION_DAYS as readonly number[]).includes(d), {
          message: `must be one of ${RETENTION_DAYS.join(', ')}`,
        }),
      ),
      365,
    ),
    /**
     * The KMS key of the log groups trailguard creates, for one region. A key ARN, never an alias: CreateLogGroup's
     * `kmsKeyId` is "the Amazon Resource Name (ARN) of the KMS key" (CloudWatch Logs API Reference), and an IAM
     * statement naming an alias ARN authorizes nothing on the key ("Use aliases to control access to KMS keys").
     */
    kmsKeyArn: z.optional(KMS_KEY_ARN_VALUE),
    /**
     * Deletion protection (CloudWatch Logs PutLogGroupDeletionProtection, "Protecting log groups from deletion")
     * on every log group trailguard creates or restores: nobody can delete it until protection is turned off.
     * Default on.
     */
    logGroupDeletionProtection: z._default(z.boolean(), true),
    /**
     * Also turn deletion protection on for existing log groups that teams own (a trail's group trailguard did not
     * create), when it repairs or checks their trail. Default off: `check` reports such a group as advice
     * (LOG_GROUP_UNPROTECTED) instead.
     */
    protectExistingLogGroups: z._default(z.boolean(), false),
    /**
     * KMS keys for the log groups trailguard creates, one per region (KMS keys are regional), and, where an
     * account's keys differ, per account: `{ "<region>": "<key arn>", "<account>": { "<region>": "<key arn>" } }`.
     * A group gets its account's key for its region, else the region's key. Key ARNs only (CreateLogGroup's
     * `kmsKeyId` is "the ARN of the KMS key"). Not with kmsKeyArn; needs `regions`, each of which it must cover.
     */
    kmsKeys: z.optional(
      z.record(z.string(), z.union([KMS_KEY_ARN_VALUE, z.record(z.string(), KMS_KEY_ARN_VALUE)])),
    ),
    deliveryRoleName: z._default(
      z
        .string()
        .check(z.regex(IAM_ROLE_NAME, 'must be a valid IAM role name (1-64 of letters, digits, +=,.@_-)')),
      'trailguard-cloudtrail-delivery',
    ),
    /**
     * Existing delivery roles, besides deliveryRoleName, that trailguard may repair or recreate in place (the
     * stack grants role writes on exactly these names). A broken role not listed here is not touched: the trail
     * is pointed at deliveryRoleName instead.
     */
    managedRoleNames: z._default(
      z
        .array(
          z
            .string()
            .check(
              z.regex(IAM_ROLE_NAME, 'must be a valid IAM role name (1-64 of letters, digits, +=,.@_-)'),
            ),
        )
        .check(z.maxLength(20)),
      [],
    ),
    exemptTagKey: z._default(z.string().check(z.minLength(1), z.maxLength(128)), 'trailguard:exempt'),
    exemptTagValue: z._default(z.string().check(z.maxLength(256)), 'true'),
    notificationTopicName: z._default(
      z.string().check(z.regex(/^[\w-]{1,256}$/, 'must be a valid SNS topic name')),
      'trailguard-notifications',
    ),
    auditTableName: z._default(
      z.string().check(z.regex(/^[\w.-]{3,255}$/, 'must be a valid DynamoDB table name')),
      'trailguard-audit',
    ),
    /**
     * How often the sweep assesses every trail of the stack's region and starts the workflow for each one that
     * is not compliant: the backstop for CloudTrail events EventBridge did not deliver (best effort) and, outside
     * us-east-1, for IAM changes to a delivery role. In minutes, 5 to 1440 (once a day).
     */
    sweepIntervalMinutes: z._default(
      z
        .int('must be a whole number of minutes')
        .check(
          z.gte(SWEEP_INTERVAL_MINUTES.min, `must be at least ${SWEEP_INTERVAL_MINUTES.min} minutes`),
          z.lte(
            SWEEP_INTERVAL_MINUTES.max,
            `must be at most ${SWEEP_INTERVAL_MINUTES.max} minutes (once a day)`,
          ),
        ),
      60,
    ),
    /**
     * Security Hub integration (default on): a third trigger (Security Hub's own failed CloudTrail.5 findings
     * start the workflow for the trail they name) and, after each run that needed a person or changed something,
     * the trail's active CloudTrail.5 findings updated (RESOLVED after a verified fix, a note otherwise). Off:
     * no rule, no Security Hub call, no Security Hub permission.
     */
    securityHub: z._default(z.boolean(), true),
    /**
     * Minutes the workflow waits after a remediated run before it re-reads the trail's status to confirm that
     * CloudTrail delivers to CloudWatch Logs again (a Step Functions Wait; CloudTrail delivers about every 5
     * minutes when there is activity). 0 turns the delivery check off. At most 1440 (a day).
     */
    deliveryCheckMinutes: z._default(
      z
        .int('must be a whole number of minutes')
        .check(
          z.gte(0, 'must be 0 (off) or more'),
          z.lte(DELIVERY_CHECK_MINUTES_MAX, `must be at most ${DELIVERY_CHECK_MINUTES_MAX} minutes (a day)`),
        ),
      15,
    ),
    /**
     * CIS AWS Foundations monitoring (Security Hub CloudWatch.1-14) on the log group of every guarded multi-region
     * trail: the metric filters with the exact patterns Security Hub checks, and an alarm per metric. Off by
     * default.
     */
    cisMonitoring: z._default(z.boolean(), false),
    /** Where the CIS alarms notify; default: the guardrail's notification topic. Only with cisMonitoring. */
    cisAlarmTopicArn: z.optional(
      z
        .string()
        .check(z.regex(/^arn:aws[\w-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/, 'must be an SNS topic ARN')),
    ),
    /**
     * The accounts one hub guards: `"organization"` (every account of the caller's AWS Organization) or a list
     * of account ids. Absent: the caller's own account only (a single-account deployment, as before).
     */
    accounts: z.optional(
      z.union([
        z.literal('organization'),
        z
          .array(z.string().check(z.regex(ACCOUNT_ID, 'must be a 12-digit account id')))
          .check(
            z.minLength(1, 'must list at least one account (or be "organization")'),
            z.maxLength(10_000),
          ),
      ]),
    ),
    /**
     * The organization's id (`o-` and 10 to 32 lowercase letters or digits, as Organizations DescribeOrganization
     * returns it). With `accounts: "organization"` the hub's event bus admits events only from it
     * (aws:PrincipalOrgID), its functions assume remediation roles only in it (aws:ResourceOrgID), and each
     * remediation role trusts the hub only from it. A deployed hub needs it: when it is not set here, the hub
     * stack takes it as the `OrganizationId` parameter at deploy time (local runs on an emulator do not need it).
     */
    organizationId: z.optional(
      z
        .string()
        .check(
          z.regex(ORGANIZATION_ID, 'must be an organization id: o- and 10 to 32 lowercase letters or digits'),
        ),
    ),
    /**
     * The regions guarded in every account. Absent: every region enabled in the hub's account (a hub, `accounts`
     * set), or the region the stack is deployed in (a single account). A single account with `regions` is guarded
     * from one stack in `hubRegion` (default: the first region listed), with a small forwarding stack in each
     * other region (infra/stacks/region-stack.ts), all deployed by one `cdk deploy --all`.
     */
    regions: z.optional(
      z
        .array(z.string().check(z.regex(REGION_NAME, 'must be an AWS region name, e.g. eu-west-2')))
        .check(z.minLength(1, 'must list at least one region'), z.maxLength(40)),
    ),
    /**
     * Where the hub (workflow, topic, audit table) lives. Absent: the first of `regions` for a single account
     * with `regions` (`hubRegionOf`), else the region the stack or CLI runs in.
     */
    hubRegion: z.optional(
      z.string().check(z.regex(REGION_NAME, 'must be an AWS region name, e.g. eu-west-2')),
    ),
    /**
     * The base name of the roles the hub's functions assume in each guarded account (created there by the spoke,
     * or by `trailguard local-setup` on an emulator): `<name>-read` (Check, Verify, CheckDelivery, the sweep),
     * `<name>-log-group`, `<name>-role`, `<name>-trail` (the restore steps) and `<name>-findings`
     * (UpdateFindings); policies/iam.ts MEMBER_ROLES. At most 54 characters: IAM role names have at most 64,
     * and the longest suffix adds 10.
     */
    remediationRoleName: z._default(
      z
        .string()
        .check(
          z.regex(IAM_ROLE_NAME, 'must be a valid IAM role name (1-64 of letters, digits, +=,.@_-)'),
          z.maxLength(
            54,
            'at most 54 characters: the member roles add a suffix of up to 10 (e.g. "-log-group") and IAM role names have at most 64',
          ),
        ),
      'trailguard-remediation',
    ),
    /**
     * A hub only: whether a deploy or a destroy may delete the StackSet, and with it every account's spoke and
     * remediation role. Default false: the StackSet is retained (CloudFormation `DeletionPolicy: Retain`) when it
     * leaves the template or the stack is deleted, and `cdk deploy` refuses to replace a deployed hub by a
     * stack without its StackSet (infra/spoke-removal-guard.ts). Set it true only to remove the organization's
     * spokes on purpose (docs/operations.md, "Uninstall").
     */
    allowSpokeRemoval: z._default(z.boolean(), false),
    /**
     * The deployed canary (off when absent; docs/deploy.md recommends it): on `schedule` (a `rate(...)`
     * expression), a Standard Step Functions workflow runs selftest's core in the stack's account: it creates a
     * canary trail in each of `regions` (default: the stack's region), breaks it four ways, waits up to
     * `timeoutMinutes` per break for the guardrail to fix it, then removes it (infra/constructs/canary.ts).
     */
    /**
     * An organization hub only: a service control policy that denies the breaking calls (trails, the managed log
     * groups, the delivery roles) to everyone but trailguard's own roles and the break-glass roles, attached to
     * `targets` (policies/scp.ts; docs/security.md). Off unless `scp` is true.
     */
    preventive: z.optional(preventiveSchema),
    canary: z.optional(
      z.strictObject({
        schedule: z._default(
          z
            .string()
            .check(
              z.regex(
                CANARY_RATE,
                'must be a rate expression: rate(N minutes|hours|days), e.g. "rate(1 day)"',
              ),
            ),
          'rate(1 day)',
        ),
        timeoutMinutes: z._default(
          z
            .int('must be a whole number of minutes')
            .check(
              z.gte(1, 'must be at least 1 minute'),
              z.lte(60, 'must be at most 60 minutes (four breaks must fit in the schedule)'),
            ),
          15,
        ),
        regions: z.optional(
          z
            .array(z.string().check(z.regex(REGION_NAME, 'must be an AWS region name, e.g. eu-west-2')))
            .check(z.minLength(1), z.maxLength(40)),
        ),
        /**
         * The accounts the canary runs in (default: the hub's own). An organization hub only: in every other
         * account it acts through the spoke's canary role `trailguard-canary-access` (infra/stacks/spoke-stack.ts).
         */
        accounts: z.optional(
          z
            .array(z.string().check(z.regex(ACCOUNT_ID, 'must be a 12-digit account id')))
            .check(z.minLength(1), z.maxLength(50)),
        ),
      }),
    ),
  })
  .check(
    z.superRefine((config, ctx) => {
      const twice = (values: readonly string[]) =>
        [...new Set(values.filter((v, i) => values.indexOf(v) !== i))].join(', ');
      if (Array.isArray(config.accounts) && twice(config.accounts)) {
        ctx.addIssue({
          code: 'custom',
          path: ['accounts'],
          message: `lists ${twice(config.accounts)} twice`,
        });
      }
      if (config.regions && twice(config.regions)) {
        ctx.addIssue({ code: 'custom', path: ['regions'], message: `lists ${twice(config.regions)} twice` });
      }
      if (config.hubRegion && config.regions && !config.regions.includes(config.hubRegion)) {
        ctx.addIssue({
          code: 'custom',
          path: ['hubRegion'],
          message: `${config.hubRegion} is not one of the guarded regions (${config.regions.join(', ')})`,
        });
      }
      if (config.organizationId && config.accounts === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['organizationId'],
          message:
            'is only used with accounts ("organization" or a list): set accounts, or remove organizationId',
        });
      }
      // KMS keys are regional: a log group can use only a key of its own region, and another account's key only when
      // that key's policy admits logs.<region>.amazonaws.com for the group's account (CloudWatch Logs, "Encrypt log
      // data in CloudWatch Logs using AWS KMS",
      // https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html). One key ARN for guarded
      // regions it cannot serve would make CreateLogGroup fail there: refused here, before anything runs.
      const keyRegion = config.kmsKeyArn?.split(':')[3];
      if (config.kmsKeyArn && keyRegion) {
        const uncovered = config.regions?.filter((r) => r !== keyRegion) ?? [];
        if (uncovered.length > 0) {
          ctx.addIssue({
            code: 'custom',
            path: ['kmsKeyArn'],
            message: `is a key of ${keyRegion}, and KMS keys are regional: it cannot encrypt log groups in ${uncovered.join(', ')} (in \`regions\`). Guard ${keyRegion} only with it, or leave kmsKeyArn out`,
          });
        } else if (!config.regions && config.accounts !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['kmsKeyArn'],
            message: `is a key of ${keyRegion}, and KMS keys are regional: without \`regions\` the hub guards every region enabled in its account, which it cannot serve. Set regions to ["${keyRegion}"], or leave kmsKeyArn out`,
          });
        }
      }
      if (config.kmsKeys) {
        for (const problem of kmsKeysProblems(config, config.kmsKeys)) {
          ctx.addIssue({ code: 'custom', path: ['kmsKeys', ...problem.path], message: problem.message });
        }
      }
      if (config.canary?.accounts) {
        const accounts = config.canary.accounts;
        if (twice(accounts)) {
          ctx.addIssue({
            code: 'custom',
            path: ['canary', 'accounts'],
            message: `lists ${twice(accounts)} twice`,
          });
        }
        if (config.accounts === undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['canary', 'accounts'],
            message:
              'needs an organization hub (accounts): a single-account stack runs its canary in its own account only',
          });
        }
      }
      if (config.canary) {
        const interval = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(config.canary.schedule);
        const minutes = interval
          ? Number(interval[1]) * (interval[2] === 'day' ? 1440 : interval[2] === 'hour' ? 60 : 1)
          : 0;
        // One canary after the other: every account x region takes four breaks and its setup.
        const targets = (config.canary.accounts?.length ?? 1) * (config.canary.regions?.length ?? 1);
        if (interval && minutes < targets * (4 * config.canary.timeoutMinutes + 10)) {
          ctx.addIssue({
            code: 'custom',
            path: ['canary', 'schedule'],
            message: `runs every ${minutes} minutes, less than ${targets > 1 ? `${targets} canaries (accounts x regions), each of ` : ''}four breaks of up to ${config.canary.timeoutMinutes} minutes and the setup take; make it longer or timeoutMinutes shorter`,
          });
        }
      }
      if (config.preventive) {
        const { preventive } = config;
        if (config.accounts === undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['preventive'],
            message:
              'is only used by an organization hub (set accounts: "organization" or a list), where the hub stack can create a service control policy; remove preventive',
          });
        }
        if (preventive.scp && preventive.targets.length === 0) {
          ctx.addIssue({
            code: 'custom',
            path: ['preventive', 'targets'],
            message: 'must list at least one root (r-...) or OU (ou-...) id to attach the SCP to',
          });
        }
        if (twice(preventive.targets)) {
          ctx.addIssue({
            code: 'custom',
            path: ['preventive', 'targets'],
            message: `lists ${twice(preventive.targets)} twice`,
          });
        }
        if (twice(preventive.breakGlassRoleArns)) {
          ctx.addIssue({
            code: 'custom',
            path: ['preventive', 'breakGlassRoleArns'],
            message: `lists ${twice(preventive.breakGlassRoleArns)} twice`,
          });
        }
      }
      if (config.cisAlarmTopicArn && !config.cisMonitoring) {
        ctx.addIssue({
          code: 'custom',
          path: ['cisAlarmTopicArn'],
          message: 'is only used with cisMonitoring: true (set it, or remove cisAlarmTopicArn)',
        });
      }
    }),
  );

/** kmsKeys as the configuration gives it: region -> key ARN, or account -> (region -> key ARN). */
type KmsKeysInput = Record<string, string | Record<string, string>>;

/**
 * What is wrong with a `kmsKeys` (each with its path under kmsKeys): with kmsKeyArn; without `regions`; an entry
 * that is neither a region with a key ARN nor an account with a region map; a key given for another region than
 * its own (KMS keys are regional: CloudWatch Logs, "Encrypt log data in CloudWatch Logs using AWS KMS",
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html); an account the hub does not
 * guard; and the guarded regions (and, for listed accounts, the accounts) left without a key, all named.
 */
function kmsKeysProblems(
  config: {
    kmsKeyArn?: string | undefined;
    regions?: string[] | undefined;
    accounts?: 'organization' | string[] | undefined;
  },
  keys: KmsKeysInput,
): { path: string[]; message: string }[] {
  const out: { path: string[]; message: string }[] = [];
  if (config.kmsKeyArn) {
    out.push({
      path: [],
      message: 'use either kmsKeyArn (one region) or kmsKeys (a key per region), not both',
    });
  }
  const keyRegion = (arn: string) => KMS_KEY_ARN.exec(arn)?.[1];
  const checkKey = (path: string[], region: string, arn: string) => {
    const own = keyRegion(arn);
    if (own && own !== region) {
      out.push({
        path,
        message: `is a key of ${own}, given for ${region}: KMS keys are regional, and CloudWatch Logs uses a key only for log groups of its own region`,
      });
    }
  };
  const accountEntries: [string, Record<string, string>][] = [];
  for (const [entry, value] of Object.entries(keys)) {
    if (REGION_NAME.test(entry)) {
      if (typeof value !== 'string') {
        out.push({ path: [entry], message: 'a region takes one key ARN' });
      } else checkKey([entry], entry, value);
    } else if (ACCOUNT_ID.test(entry)) {
      if (typeof value === 'string') {
        out.push({
          path: [entry],
          message:
            'an account takes a map of region to key ARN, e.g. { "eu-west-1": "arn:aws:kms:eu-west-1:..." }',
        });
        continue;
      }
      accountEntries.push([entry, value]);
      if (config.accounts === undefined) {
        out.push({
          path: [entry],
          message: 'per-account keys need `accounts` (a hub); a single account names its keys per region',
        });
      } else if (Array.isArray(config.accounts) && !config.accounts.includes(entry)) {
        out.push({
          path: [entry],
          message: `is not one of the guarded accounts (${config.accounts.join(', ')})`,
        });
      }
      for (const [region, arn] of Object.entries(value)) {
        if (!REGION_NAME.test(region)) {
          out.push({ path: [entry, region], message: 'must be an AWS region name, e.g. eu-west-2' });
        } else checkKey([entry, region], region, arn);
      }
    } else {
      out.push({
        path: [entry],
        message:
          'must be a region name (with a key ARN) or a 12-digit account id (with a map of region to key ARN)',
      });
    }
  }
  if (!config.regions) {
    out.push({
      path: [],
      message:
        "needs `regions`: the regions it must cover (without it, the guarded regions are known only at run time). For the stack's one region, use kmsKeyArn",
    });
    return out;
  }
  const listed = Array.isArray(config.accounts) ? config.accounts : undefined;
  const uncovered: string[] = [];
  for (const region of config.regions) {
    if (typeof keys[region] === 'string') continue;
    const without = listed
      ? listed.filter((account) => {
          const own = keys[account];
          return typeof own !== 'object' || own[region] === undefined;
        })
      : undefined;
    if (without?.length === 0) continue;
    uncovered.push(
      without && accountEntries.length > 0 ? `${region} (accounts ${without.join(', ')})` : region,
    );
  }
  if (uncovered.length > 0) {
    out.push({
      path: [],
      message: `leaves guarded regions without a key: ${uncovered.join(', ')}. Give each region in \`regions\` a key ("<region>": "<key arn>")${config.accounts === 'organization' ? '; with accounts "organization" every region needs a key of its own, as accounts not listed use it' : ', or each guarded account one for it'}`,
    });
  }
  return out;
}

/** Every key ARN the configuration names for log groups (kmsKeyArn, kmsKeys): what IAM must let RestoreLogGroup use. */
export function logGroupKeyArns(config: Pick<Config, 'kmsKeyArn' | 'kmsKeys'>): string[] {
  const keys = Object.values(config.kmsKeys ?? {}).flatMap((v) =>
    typeof v === 'string' ? [v] : Object.values(v),
  );
  return [...new Set([...(config.kmsKeyArn ? [config.kmsKeyArn] : []), ...keys])];
}

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly problems: string[],
    options?: ErrorOptions,
  ) {
    super(`invalid trailguard configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`, options);
  }
}

/** Formats every zod issue as `path: message` so that all problems are reported at once. */
/**
 * Where the hub runs, when the configuration says: `hubRegion`, else, for a single account with `regions`, the
 * first of them. Undefined: the region the stack is deployed in (or the CLI runs in).
 */
export function configuredHubRegion(
  config: Pick<Config, 'accounts' | 'regions' | 'hubRegion'>,
): string | undefined {
  return config.hubRegion ?? (config.accounts === undefined ? config.regions?.[0] : undefined);
}

/**
 * Whether one stack guards several account-regions: a hub (`accounts`), or a single account with `regions`. Its
 * schedule then starts the organization sweep over the guarded accounts x regions.
 */
export function guardsSeveralRegionsOrAccounts(config: Pick<Config, 'accounts' | 'regions'>): boolean {
  return config.accounts !== undefined || config.regions !== undefined;
}

/**
 * The region an organization hub (`accounts` set) is deployed in: `hubRegion`, else the first of `regions`. The
 * StackSet's spokes create the remediation role in this region, so it must be one of the regions the spokes go
 * to (the schema checks `hubRegion` against `regions`; without `regions` the hub's template checks it against
 * its `SpokeRegions` parameter). Neither set: ConfigError with one line naming the key to set. Undefined for a
 * configuration that is not a hub.
 */
export function organizationHubRegion(
  config: Pick<Config, 'accounts' | 'regions' | 'hubRegion'>,
): string | undefined {
  if (config.accounts === undefined) return undefined;
  const region = config.hubRegion ?? config.regions?.[0];
  if (!region) {
    throw new ConfigError([
      'hubRegion: an organization hub must name its region: set hubRegion (or regions, whose first region is then the hub region)',
    ]);
  }
  return region;
}

export function formatIssues(error: z.core.$ZodError): string[] {
  return error.issues.map(
    (issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`,
  );
}

export function parseConfig(input: unknown): Config {
  const result = ConfigSchema.safeParse(input ?? {});
  if (!result.success) throw new ConfigError(formatIssues(result.error), { cause: result.error });
  return result.data;
}

export function renderTemplate(
  template: string,
  vars: Record<(typeof LOG_GROUP_TEMPLATE_VARIABLES)[number], string>,
): string {
  return template.replace(TEMPLATE_VARIABLE, (_, name: string) => vars[name as keyof typeof vars] ?? '');
}

/** The log group a trail gets when it has none: the template, rendered and made a valid name. */
export function defaultLogGroupName(
  config: Config,
  vars: { trail: string; account: string; region: string },
): string {
  return renderTemplate(config.logGroupNameTemplate, vars)
    .replace(/[^\w\-./#]/g, '-')
    .slice(0, 512);
}

/** The log group names trailguard may create: the template with each variable as a wildcard, e.g. `CloudTrail/*`. */
export function managedLogGroupPattern(config: Pick<Config, 'logGroupNameTemplate'>): string {
  return config.logGroupNameTemplate.replace(TEMPLATE_VARIABLE, '*');
}

export function isManagedLogGroupName(config: Pick<Config, 'logGroupNameTemplate'>, name: string): boolean {
  const source = managedLogGroupPattern(config)
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`, 's').test(name);
}

/**
 * The name of Notify's idempotency table where the guardrail does not get it from CloudFormation (the local
 * runner, `trailguard local-setup`): the audit table's name with `-idempotency`.
 */
export function localIdempotencyTableName(config: Pick<Config, 'auditTableName'>): string {
  return `${config.auditTableName.slice(0, 243)}-idempotency`;
}

/** The delivery role names trailguard may create or change. */
export function managedRoleNames(config: Pick<Config, 'deliveryRoleName' | 'managedRoleNames'>): string[] {
  return [...new Set([config.deliveryRoleName, ...config.managedRoleNames])];
}
