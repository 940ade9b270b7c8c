/**
 * The selftest's canary, pure: its names, its event selectors, the four ways it is broken, the CloudTrail
 * event each break produces, and the verdict of each case (fixed, or where it went missing). No AWS calls:
 * services/aws/canary.ts creates, breaks, re-reads and removes the canary; services/local/selftest.ts runs the
 * cases.
 *
 * The canary is a trail `trailguard-canary-<run>-<region>` with its own log group and delivery role (same
 * name) that delivers to its own bucket under the prefix `trailguard-canary/<run>/<region>/logs`. It costs nothing to keep:
 * - no management events: its only event selector is an advanced one for data events
 *   (`eventCategory` Equals `Data`; trails and event data stores "do not log data events by default", and
 *   "additional charges apply for data events": AWS CloudTrail User Guide, "Logging data events",
 *   https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-data-events-with-cloudtrail.html;
 *   CloudTrail pricing bills each data event delivered, https://aws.amazon.com/cloudtrail/pricing/);
 * - those data events only for the canary's own objects: `resources.type` Equals `AWS::S3::Object` and
 *   `resources.ARN` StartsWith `arn:P:s3:::BUCKET/trailguard-canary/<run>/<region>/objects/` (the required and optional
 *   fields of "Filtering data events by using advanced event selectors",
 *   https://docs.aws.amazon.com/awscloudtrail/latest/userguide/filtering-data-events.html). One PutObject per
 *   run is one billed data event, delivered to CloudWatch Logs: delivery end to end.
 * The objects prefix must not cover the trail's own delivery prefix, or CloudTrail logs the PutObject of
 * every log file it delivers, in a loop (the same page advises excluding the trail's own bucket);
 * `assertNotRecursive` refuses such a pair.
 */
import { randomBytes } from 'node:crypto';
import { InvalidInputError } from './errors.js';

/** Every canary trail, log group and role is named with this prefix; the canary role is scoped to it. */
export const CANARY_PREFIX = 'trailguard-canary-';
/** The S3 key prefix of everything a canary writes to its bucket. */
export const CANARY_KEY_PREFIX = 'trailguard-canary';
/** CloudTrail's quota of trails per region per account (AWS CloudTrail User Guide, "Quotas in AWS CloudTrail"). */
export const TRAILS_PER_REGION = 5;

/** The breaks, in the order selftest applies them. */
export const BREAKS = ['UpdateTrail', 'StopLogging', 'DeleteLogGroup', 'DeleteRolePolicy'] as const;
export type Break = (typeof BREAKS)[number];

/**
 * The role the deployed canary's function assumes in an account other than the hub's (the spoke creates it when
 * the canary is on). Named with the canary prefix (an SCP exempting `trailguard-canary-*` covers it); its own
 * policy denies it any IAM action on itself, since its role statements cover `role/trailguard-canary-*`.
 */
export const CANARY_MEMBER_ROLE_NAME = 'trailguard-canary-access';

/** The inline policy of the canary's delivery role (what DeleteRolePolicy removes). */
export const CANARY_POLICY_NAME = 'trailguard-canary-delivery';

/** Whether a trail (name or ARN) is a canary: its audit records say `canary: true`. */
export function isCanaryTrail(nameOrArn: string | undefined): boolean {
  if (!nameOrArn) return false;
  const name = nameOrArn.includes(':trail/') ? nameOrArn.slice(nameOrArn.indexOf(':trail/') + 7) : nameOrArn;
  return name.startsWith(CANARY_PREFIX);
}

/** A new run id: 10 lowercase hex digits (names stay short and valid for trails, log groups, roles, keys). */
export function newCanaryRunId(): string {
  return randomBytes(5).toString('hex');
}

export interface CanaryNames {
  run: string;
  trail: string;
  logGroup: string;
  role: string;
  /** The trail's S3KeyPrefix: CloudTrail delivers under `<prefix>/AWSLogs/...`. */
  deliveryPrefix: string;
  /** Where the canary writes the objects its data events are about (ends with `/`). */
  objectPrefix: string;
}

/**
 * The names of a run's canary in one region: IAM roles are global, so the region is part of every name (one
 * run covers several regions of an account).
 */
export function canaryNames(run: string, region: string): CanaryNames {
  if (!/^[a-z0-9]{1,20}$/.test(run)) {
    throw new InvalidInputError(`canary run id "${run}" must be 1-20 lowercase letters or digits`);
  }
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) throw new InvalidInputError(`"${region}" is not a region`);
  const name = `${CANARY_PREFIX}${run}-${region}`;
  return {
    run,
    trail: name,
    logGroup: name,
    role: name.slice(0, 64),
    deliveryPrefix: `${CANARY_KEY_PREFIX}/${run}/${region}/logs`,
    objectPrefix: `${CANARY_KEY_PREFIX}/${run}/${region}/objects/`,
  };
}

/**
 * The bucket of one run's canary in an account and region (S3 names: lowercase letters, digits and hyphens,
 * at most 63 characters; the account and region keep it apart from other accounts' runs).
 */
export function canaryBucketName(account: string, region: string, run: string): string {
  return `${CANARY_PREFIX}${account}-${region}-${run}`.slice(0, 63);
}

/** An advanced field selector, as PutEventSelectors takes it. */
export interface FieldSelector {
  Field: string;
  Equals?: string[];
  StartsWith?: string[];
}
export interface AdvancedSelector {
  Name: string;
  FieldSelectors: FieldSelector[];
}

/** The object ARN prefix the selector covers. */
export function objectArnPrefix(partition: string, bucket: string, objectPrefix: string): string {
  return `arn:${partition}:s3:::${bucket}/${objectPrefix}`;
}

/**
 * Refuses a selector prefix that covers (or is covered by) the trail's own delivery prefix: CloudTrail would
 * log its own deliveries, each delivery a new data event, in a loop.
 */
export function assertNotRecursive(
  objectArn: string,
  partition: string,
  bucket: string,
  deliveryPrefix: string,
) {
  const delivery = `arn:${partition}:s3:::${bucket}/${deliveryPrefix}`;
  if (delivery.startsWith(objectArn) || objectArn.startsWith(delivery)) {
    throw new InvalidInputError(
      `the canary's data-event selector (${objectArn}) would cover its own log delivery (${delivery}/): recursive logging`,
    );
  }
}

/** The canary's one advanced event selector: S3 data events on its own objects only, no management events. */
export function canarySelectors(
  partition: string,
  bucket: string,
  names: Pick<CanaryNames, 'objectPrefix' | 'deliveryPrefix'>,
): AdvancedSelector[] {
  const prefix = objectArnPrefix(partition, bucket, names.objectPrefix);
  assertNotRecursive(prefix, partition, bucket, names.deliveryPrefix);
  return [
    {
      Name: 'trailguard canary: data events on its own objects only',
      FieldSelectors: [
        { Field: 'eventCategory', Equals: ['Data'] },
        { Field: 'resources.type', Equals: ['AWS::S3::Object'] },
        { Field: 'resources.ARN', StartsWith: [prefix] },
      ],
    },
  ];
}

/**
 * Whether selectors read back (GetEventSelectors) are exactly the canary's shape: no basic selectors, one
 * advanced selector for S3 object data events under an object prefix that does not cover the delivery prefix.
 * Returns the problems (empty when right).
 */
export function selectorProblems(
  read: { EventSelectors?: unknown[]; AdvancedEventSelectors?: AdvancedSelector[] },
  partition: string,
  bucket: string,
  names: Pick<CanaryNames, 'objectPrefix' | 'deliveryPrefix'>,
): string[] {
  const problems: string[] = [];
  if ((read.EventSelectors ?? []).length > 0) problems.push('basic event selectors are set');
  const advanced = read.AdvancedEventSelectors ?? [];
  if (advanced.length !== 1) problems.push(`${advanced.length} advanced event selectors, not 1`);
  const fields = advanced[0]?.FieldSelectors ?? [];
  const field = (name: string) => fields.find((f) => f.Field === name);
  if (JSON.stringify(field('eventCategory')?.Equals) !== '["Data"]')
    problems.push('eventCategory is not Equals Data');
  if (JSON.stringify(field('resources.type')?.Equals) !== '["AWS::S3::Object"]') {
    problems.push('resources.type is not Equals AWS::S3::Object');
  }
  const starts = field('resources.ARN')?.StartsWith ?? [];
  const expected = objectArnPrefix(partition, bucket, names.objectPrefix);
  if (starts.length !== 1 || starts[0] !== expected)
    problems.push(`resources.ARN is not StartsWith ${expected}`);
  for (const prefix of starts) {
    try {
      assertNotRecursive(prefix, partition, bucket, names.deliveryPrefix);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  return problems;
}

/** Who broke the canary, as CloudTrail records it (the caller's identity). */
export interface CanaryActor {
  /** The caller's ARN (an assumed-role session, an IAM user, root). */
  arn: string;
  type: 'AssumedRole' | 'IAMUser' | 'Root';
  /** The role of an assumed-role session: what a rule's own-role exclusion compares. */
  sessionIssuerArn?: string;
}

/** The actor of a caller ARN from sts:GetCallerIdentity. */
export function actorOf(callerArn: string): CanaryActor {
  const assumed = /^arn:([\w-]+):sts::(\d{12}):assumed-role\/(.+)\/[^/]+$/.exec(callerArn);
  if (assumed) {
    const [, partition, account, role] = assumed;
    return {
      arn: callerArn,
      type: 'AssumedRole',
      sessionIssuerArn: `arn:${partition}:iam::${account}:role/${role}`,
    };
  }
  return { arn: callerArn, type: callerArn.endsWith(':root') ? 'Root' : 'IAMUser' };
}

export interface BreakEventInput {
  break: Break;
  id: string;
  account: string;
  region: string;
  partition: string;
  time: Date;
  actor: CanaryActor;
  trailArn: string;
  logGroup: string;
  role: string;
}

/** IAM is global: its API calls are CloudTrail events of us-east-1 (the partition's global region). */
function iamEventRegion(partition: string): string {
  if (partition === 'aws-cn') return 'cn-north-1';
  if (partition === 'aws-us-gov') return 'us-gov-west-1';
  return 'us-east-1';
}

/**
 * The CloudTrail event (EventBridge's "AWS API Call via CloudTrail" shape) a break produces: what the local
 * engine replays through the stack's rules, as EventBridge would deliver it.
 */
export function breakEvent(input: BreakEventInput): Record<string, unknown> {
  const call = {
    UpdateTrail: {
      source: 'aws.cloudtrail',
      eventSource: 'cloudtrail.amazonaws.com',
      region: input.region,
      requestParameters: { name: input.trailArn, cloudWatchLogsLogGroupArn: '', cloudWatchLogsRoleArn: '' },
    },
    StopLogging: {
      source: 'aws.cloudtrail',
      eventSource: 'cloudtrail.amazonaws.com',
      region: input.region,
      requestParameters: { name: input.trailArn },
    },
    DeleteLogGroup: {
      source: 'aws.logs',
      eventSource: 'logs.amazonaws.com',
      region: input.region,
      requestParameters: { logGroupName: input.logGroup },
    },
    DeleteRolePolicy: {
      source: 'aws.iam',
      eventSource: 'iam.amazonaws.com',
      region: iamEventRegion(input.partition),
      requestParameters: { roleName: input.role, policyName: CANARY_POLICY_NAME },
    },
  }[input.break];
  const time = input.time.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const account = input.account;
  return {
    version: '0',
    id: input.id,
    'detail-type': 'AWS API Call via CloudTrail',
    source: call.source,
    account,
    time,
    region: call.region,
    resources: [],
    detail: {
      eventVersion: '1.09',
      userIdentity: {
        type: input.actor.type,
        arn: input.actor.arn,
        accountId: account,
        ...(input.actor.sessionIssuerArn
          ? {
              sessionContext: {
                sessionIssuer: { type: 'Role', arn: input.actor.sessionIssuerArn, accountId: account },
              },
            }
          : {}),
      },
      eventTime: time,
      eventSource: call.eventSource,
      eventName: input.break,
      awsRegion: call.region,
      sourceIPAddress: 'trailguard-selftest',
      userAgent: 'trailguard-selftest',
      requestParameters: call.requestParameters,
      responseElements: null,
      eventID: input.id,
      readOnly: false,
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: account,
      eventCategory: 'Management',
    },
  };
}

/**
 * CloudTrail "typically delivers logs within an average of about 5 minutes of an API call. This time is not
 * guaranteed" (AWS CloudTrail User Guide, "Getting and viewing your CloudTrail log files",
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/get-and-view-cloudtrail-log-files.html). A case
 * (the fix and then the delivery of one data event) therefore gets 15 minutes by default: three times the average.
 */
export const DEFAULT_CASE_TIMEOUT_SECONDS = 900;

/**
 * The CloudWatch Logs filter pattern that finds the canary object's data event: the key as one quoted term
 * (terms with characters other than letters, digits and underscores must be quoted: CloudWatch Logs User Guide,
 * "Filter pattern syntax for metric filters, subscription filters, filter log events, and Live Tail").
 */
export function deliveryFilterPattern(key: string): string {
  return `"${key.replace(/["\\]/g, '')}"`;
}

/** The stream prefix CloudTrail delivers a trail's events of `region` to in its log group. */
export function cloudTrailStreamPrefix(account: string, region: string): string {
  return `${account}_CloudTrail_${region}`;
}

/**
 * Whether a log event is the data event of the canary's object: a CloudTrail record (JSON) of PutObject on
 * `bucket`/`key`. The filter pattern only narrows the search; this decides.
 */
export function isDeliveredObjectEvent(message: string | undefined, bucket: string, key: string): boolean {
  if (!message) return false;
  try {
    const record = JSON.parse(message) as {
      eventName?: unknown;
      requestParameters?: { bucketName?: unknown; key?: unknown } | null;
    };
    return (
      record.eventName === 'PutObject' &&
      record.requestParameters?.bucketName === bucket &&
      record.requestParameters?.key === key
    );
  } catch {
    return false;
  }
}

/** Why a fixed canary's delivery was not confirmed: the object's data event did not arrive in time. */
export function deliveryNotConfirmed(at: {
  bucket: string;
  key: string;
  logGroup: string | undefined;
  within: string;
  break: Break;
}): string {
  const where = at.logGroup ? `log group ${at.logGroup}` : 'any log group (the trail names none)';
  return `the data event of s3://${at.bucket}/${at.key} did not arrive in ${where} within ${at.within} of the ${at.break}`;
}

/** A case found fixed whose delivery was then not confirmed: not fixed, "delivery not confirmed: ...". */
export function undelivered(result: CaseResult, detail: string): CaseResult {
  return {
    ...result,
    fixed: false,
    seconds: null,
    missing: missingText({ at: 'not-delivered', detail }),
  };
}

/** Where a case went missing, when the canary was not fixed. */
export type Missing =
  | { at: 'not-runnable'; detail: string }
  | { at: 'no-event'; detail: string }
  | { at: 'run-failed'; step: string | null; error: string; detail: string }
  | { at: 'not-verified'; detail: string }
  | { at: 'not-delivered'; detail: string };

/** The one line `--json` and the text report give for `missing`. */
export function missingText(m: Missing): string {
  switch (m.at) {
    case 'not-runnable':
      return `not runnable: ${m.detail}`;
    case 'no-event':
      return `no event arrived (rule, forwarding or bus policy): ${m.detail}`;
    case 'run-failed':
      return `the run failed at step ${m.step ?? '(unknown)'} with ${m.error}: ${m.detail}`;
    case 'not-verified':
      return `the fix was not verified: ${m.detail}`;
    case 'not-delivered':
      return `delivery not confirmed: ${m.detail}`;
  }
}

/** What the engine reported for one break (the local replay, or the deployed stack's execution). */
export interface EngineReport {
  /** No run of the workflow reached the canary's trail: why (the rule did not match, the hub skipped it). */
  noRun?: string;
  /** The run's outcome, execution and failure (outcome `failed`). */
  outcome?: string;
  executionId?: string;
  failure?: { step: string | null; name: string; message: string };
  reason?: string;
}

/** CloudTrail's eventTime and the workflow's start may precede the break's recorded time by this much. */
export const CLOCK_SKEW_MS = 5_000;

/** The fields of an audit record a case is judged by (services/domain/audit-record.ts AuditRecord). */
export interface RunRecord {
  kind?: string;
  startedAt: string;
  outcome: string;
  executionId: string;
  reason?: string;
  canary?: boolean;
  error?: { step?: string | null; name: string; message: string };
}

/**
 * The run a break started: the earliest run record (not a delivery check's) that started at the break or after it,
 * less CLOCK_SKEW_MS. Used by the deployed engine of `trailguard selftest` and by the deployed canary alike.
 */
export function firstRunAfter<R extends RunRecord>(records: readonly R[], brokenAtMs: number): R | undefined {
  return records
    .filter((r) => r.kind !== 'delivery-check' && Date.parse(r.startedAt) >= brokenAtMs - CLOCK_SKEW_MS)
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt))[0];
}

/** What a run's audit record says about it, as an engine reports it. */
export function reportOfRecord(record: RunRecord): EngineReport {
  return {
    outcome: record.outcome,
    executionId: record.executionId,
    ...(record.reason !== undefined ? { reason: record.reason } : {}),
    ...(record.outcome === 'failed' && record.error
      ? {
          failure: {
            step: record.error.step ?? null,
            name: record.error.name,
            message: record.error.message,
          },
        }
      : {}),
  };
}

/** The canary re-read by selftest itself after the run, and the run's audit record, if found. */
export interface CaseEvidence {
  /** What is still wrong with the canary (empty: integrated with CloudWatch Logs, logging, delivery granted). */
  problems: string[];
  /** The run's audit record was found in the audit table (and says canary: true). */
  auditRecord: 'found' | 'missing' | 'not-canary';
  /**
   * Proof of delivery after the fix: the data event of the object written once the canary was fixed, found in the
   * log group the trail delivers to (`confirmed`), or why not. Absent: not looked for yet (the fix is judged alone).
   */
  delivery?: { confirmed: true } | { confirmed: false; detail: string };
}

/**
 * The verdict of one case. The canary's own re-read decides `fixed`; the engine's report only says where it
 * went missing. A run that says remediated while the canary is still broken, or with no audit record, is not
 * fixed ("the fix was not verified").
 */
export function judgeCase(
  report: EngineReport,
  evidence: CaseEvidence,
): { fixed: true } | { fixed: false; missing: Missing } {
  if (report.noRun !== undefined) return { fixed: false, missing: { at: 'no-event', detail: report.noRun } };
  if (report.outcome === 'failed') {
    const f = report.failure ?? { step: null, name: 'UnknownError', message: report.reason ?? '' };
    return { fixed: false, missing: { at: 'run-failed', step: f.step, error: f.name, detail: f.message } };
  }
  if (evidence.problems.length > 0) {
    return {
      fixed: false,
      missing: {
        at: 'not-verified',
        detail: `the run ended ${report.outcome ?? 'without an outcome'}${report.reason ? ` (${report.reason})` : ''}, but the canary re-read shows: ${evidence.problems.join('; ')}`,
      },
    };
  }
  if (evidence.auditRecord !== 'found') {
    return {
      fixed: false,
      missing: {
        at: 'not-verified',
        detail:
          evidence.auditRecord === 'missing'
            ? `no audit record of execution ${report.executionId ?? '(unknown)'} in the audit table`
            : `the audit record of execution ${report.executionId ?? '(unknown)'} does not say canary: true`,
      },
    };
  }
  if (evidence.delivery && !evidence.delivery.confirmed) {
    return { fixed: false, missing: { at: 'not-delivered', detail: evidence.delivery.detail } };
  }
  return { fixed: true };
}

export interface CaseResult {
  account: string;
  region: string;
  break: Break;
  fixed: boolean;
  /** Seconds from the break to selftest's own re-read finding the canary fixed (null when not fixed). */
  seconds: number | null;
  execution: string | null;
  /** Only when not fixed. */
  missing?: string;
}

export interface SelftestReport {
  outcome: 'passed' | 'failed';
  cases: CaseResult[];
}

/**
 * One case as judged: fixed, with the seconds from the break to the canary's own re-read that found it fixed, or
 * not, with where it went missing. The local selftest and the deployed canary's Check step both report this way.
 */
export function caseResult(
  at: { account: string; region: string; break: Break; brokenAt: number; checkedAt: number },
  verdict: ReturnType<typeof judgeCase>,
  executionId: string | undefined,
): CaseResult {
  return {
    account: at.account,
    region: at.region,
    break: at.break,
    fixed: verdict.fixed,
    seconds: verdict.fixed ? Math.max(0, Math.round((at.checkedAt - at.brokenAt) / 1000)) : null,
    execution: executionId ?? null,
    ...(verdict.fixed ? {} : { missing: missingText(verdict.missing) }),
  };
}

/** A case for each of `breaks` that never ran, each saying why (`missing`). */
export function casesNotRun(
  account: string,
  region: string,
  breaks: readonly Break[],
  missing: string,
): CaseResult[] {
  return breaks.map((kind) => ({
    account,
    region,
    break: kind,
    fixed: false,
    seconds: null,
    execution: null,
    missing,
  }));
}

/** The email of a canary run that was not all fixed (or whose cleanup did not finish). */
export function canaryEmail(
  at: { account: string; region: string; timeoutMinutes: number },
  cases: readonly CaseResult[],
  cleanupError?: string,
): string {
  const lines = cases
    .filter((c) => !c.fixed)
    .map(
      (c) =>
        `trailguard did not fix its canary in ${at.account}/${at.region} within ${at.timeoutMinutes} minutes: ${c.break}: ${c.missing ?? 'not fixed'}`,
    );
  const fixed = cases
    .filter((c) => c.fixed)
    .map((c) => `fixed: ${c.break} in ${c.seconds} s (${c.execution})`);
  return [
    ...lines,
    ...(fixed.length ? ['', ...fixed] : []),
    ...(cleanupError ? ['', `cleanup did not finish: ${cleanupError}`] : []),
    '',
    'See docs/operations.md, "After deploying: run trailguard selftest --engine deployed", for what each means and what to do.',
  ].join('\n');
}

/** The report: passed only when there is at least one case and every case was fixed. */
export function selftestReport(cases: CaseResult[]): SelftestReport {
  return { outcome: cases.length > 0 && cases.every((c) => c.fixed) ? 'passed' : 'failed', cases };
}
