/**
 * A log group restored whole: what deleting a trail's log group would lose, recorded while the group is healthy
 * (retention, KMS key, tags, metric filters, subscription filters, data protection policy), so that trailguard can
 * put all of it back when it recreates the group, and say item by item what it restored and what it could not.
 *
 * Pure: the schema, the item names people read in the email and the audit record, and comparisons. Reading a
 * snapshot from AWS and restoring one: services/aws/log-group-snapshot.ts; storing it: services/aws/state-store.ts.
 *
 * Nothing recorded is secret: names, ARNs, filter patterns, tags and the data protection policy document (which
 * names data identifiers and audit destinations, never the data). `takenAt` says when the record was taken.
 */
import * as z from 'zod';

/** One metric a metric filter publishes (CloudWatch Logs `MetricTransformation`). */
export const MetricTransformationSnapshotSchema = z.object({
  metricName: z.string().min(1),
  metricNamespace: z.string().min(1),
  metricValue: z.string().min(1),
  defaultValue: z.number().optional(),
  /** A CloudWatch `StandardUnit` (`Count`, `Bytes`, ...), kept as AWS returned it. */
  unit: z.string().optional(),
  dimensions: z.record(z.string(), z.string()).optional(),
});

export const MetricFilterSnapshotSchema = z.object({
  filterName: z.string().min(1),
  /** May be empty: an empty pattern matches every event. */
  filterPattern: z.string(),
  metricTransformations: z.array(MetricTransformationSnapshotSchema).min(1),
  applyOnTransformedLogs: z.boolean().optional(),
  fieldSelectionCriteria: z.string().optional(),
  emitSystemFieldDimensions: z.array(z.string()).optional(),
});

export const SubscriptionFilterSnapshotSchema = z.object({
  filterName: z.string().min(1),
  filterPattern: z.string(),
  destinationArn: z.string().min(1),
  /** The role CloudWatch Logs assumes to deliver (Kinesis, Firehose); absent for Lambda and logical destinations. */
  roleArn: z.string().min(1).optional(),
  /** `ByLogStream` (AWS's default) or `Random`. */
  distribution: z.string().optional(),
  applyOnTransformedLogs: z.boolean().optional(),
  fieldSelectionCriteria: z.string().optional(),
  emitSystemFields: z.array(z.string()).optional(),
});

/** Something the snapshot could not read (e.g. an endpoint without data protection support), and why. */
export const UnreadableItemSchema = z.object({ item: z.string().min(1), reason: z.string().min(1) });

export const LogGroupSnapshotSchema = z.object({
  trailArn: z.string().min(1),
  logGroupName: z.string().min(1),
  /** When the snapshot was taken (ISO 8601, UTC). */
  takenAt: z.iso.datetime(),
  /** Absent: the group's events never expire. */
  retentionInDays: z.number().int().positive().optional(),
  kmsKeyId: z.string().min(1).optional(),
  /**
   * `STANDARD`, `INFREQUENT_ACCESS`, ...: chosen at creation only, so a restore can report but not change it.
   * Absent where the endpoint does not return it.
   */
  logGroupClass: z.string().optional(),
  /**
   * DescribeLogGroups' `deletionProtectionEnabled` (CloudWatch Logs, "Protecting log groups from deletion"): true
   * when the group was protected. Absent where the endpoint does not report it.
   */
  deletionProtectionEnabled: z.boolean().optional(),
  tags: z.record(z.string(), z.string()),
  metricFilters: z.array(MetricFilterSnapshotSchema),
  subscriptionFilters: z.array(SubscriptionFilterSnapshotSchema),
  /** The data protection policy document (JSON text), as GetDataProtectionPolicy returned it. */
  dataProtectionPolicy: z.string().min(1).optional(),
  unreadable: z.array(UnreadableItemSchema),
});

export type LogGroupSnapshot = z.infer<typeof LogGroupSnapshotSchema>;
export type MetricFilterSnapshot = z.infer<typeof MetricFilterSnapshotSchema>;
export type SubscriptionFilterSnapshot = z.infer<typeof SubscriptionFilterSnapshotSchema>;
export type UnreadableItem = z.infer<typeof UnreadableItemSchema>;

/** The default subscription filter distribution (PutSubscriptionFilter: "the default is ByLogStream"). */
export const DEFAULT_DISTRIBUTION = 'ByLogStream';

/**
 * The names people read, one per restorable item. The restore reports its items under the same names, so the
 * email can set "recorded" against "restored" line by line.
 */
export const snapshotItem = {
  retention: (days: number | undefined): string =>
    days === undefined ? 'retention never expire' : `retention ${days} days`,
  kmsKey: (kmsKeyId: string): string => `KMS key ${kmsKeyId}`,
  logGroupClass: (logGroupClass: string): string => `log group class ${logGroupClass}`,
  tag: (key: string, value: string): string => `tag ${key}=${value}`,
  metricFilter: (filter: Pick<MetricFilterSnapshot, 'filterName'>): string =>
    `metric filter ${filter.filterName}`,
  subscriptionFilter: (filter: Pick<SubscriptionFilterSnapshot, 'filterName' | 'destinationArn'>): string =>
    `subscription filter ${filter.filterName} -> ${filter.destinationArn}`,
  dataProtectionPolicy: (): string => 'data protection policy',
  deletionProtection: (): string => 'deletion protection',
};

/** Tag keys in a stable order (the email and tests compare lists). */
export function sortedTagKeys(tags: Record<string, string>): string[] {
  return Object.keys(tags).sort();
}

/**
 * What the snapshot holds, for people: "retention 400 days" (or "retention never expire"), "KMS key arn:...",
 * "log group class INFREQUENT_ACCESS" (only when not STANDARD), "tag team=sec", "metric filter X",
 * "subscription filter Y -> arn", "data protection policy". Items the snapshot could not read are in
 * `unreadable`, not here.
 */
export function snapshotItems(s: LogGroupSnapshot): string[] {
  return [
    snapshotItem.retention(s.retentionInDays),
    ...(s.kmsKeyId ? [snapshotItem.kmsKey(s.kmsKeyId)] : []),
    ...(s.logGroupClass && s.logGroupClass !== 'STANDARD'
      ? [snapshotItem.logGroupClass(s.logGroupClass)]
      : []),
    ...sortedTagKeys(s.tags).map((key) => snapshotItem.tag(key, s.tags[key] ?? '')),
    ...s.metricFilters.map(snapshotItem.metricFilter),
    ...s.subscriptionFilters.map(snapshotItem.subscriptionFilter),
    ...(s.dataProtectionPolicy ? [snapshotItem.dataProtectionPolicy()] : []),
    ...(s.deletionProtectionEnabled ? [snapshotItem.deletionProtection()] : []),
  ];
}

/** JSON with object keys sorted and `undefined` dropped: equal for equal content whatever the key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>)
            .filter(([, inner]) => inner !== undefined)
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

/** Whether two metric filters are the same filter (name, pattern, metrics and options). */
export function sameMetricFilter(a: MetricFilterSnapshot, b: MetricFilterSnapshot): boolean {
  return canonical(a) === canonical(b);
}

/** Whether two subscription filters are the same (a missing distribution is AWS's default, ByLogStream). */
export function sameSubscriptionFilter(
  a: SubscriptionFilterSnapshot,
  b: SubscriptionFilterSnapshot,
): boolean {
  const norm = (f: SubscriptionFilterSnapshot) => ({
    ...f,
    distribution: f.distribution ?? DEFAULT_DISTRIBUTION,
  });
  return canonical(norm(a)) === canonical(norm(b));
}

/**
 * Whether two data protection policy documents say the same thing: compared as parsed JSON (key order and
 * whitespace do not count), as text when either is not JSON.
 */
export function samePolicyDocument(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  try {
    return canonical(JSON.parse(a)) === canonical(JSON.parse(b));
  } catch {
    return a === b;
  }
}

/**
 * Tag keys with the `aws:` prefix (any case) are AWS's own; nobody can set them with TagResource. "The aws:
 * prefix is reserved for use by AWS; you can't use it in any tag keys or values that you define. In addition,
 * you can't edit or remove tag keys or values that use this prefix."
 * (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_Tag.html; the same rule in every service's tag
 * restrictions.)
 */
export function isReservedTagKey(key: string): boolean {
  return key.toLowerCase().startsWith('aws:');
}
