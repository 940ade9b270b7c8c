/**
 * What the guardrail reads about one trail: the input of the pure assessment. Zod schemas, because this
 * state crosses task boundaries in the workflow.
 */
import * as z from 'zod';

/** An IAM policy document as JSON; interpreted by policy-eval. */
export const PolicyDocumentSchema = z.record(z.string(), z.unknown());
export type PolicyDocument = z.infer<typeof PolicyDocumentSchema>;

export const TrailSchema = z.object({
  name: z.string(),
  trailArn: z.string(),
  homeRegion: z.string(),
  isMultiRegionTrail: z.boolean().default(false),
  isOrganizationTrail: z.boolean().default(false),
  s3BucketName: z.string().optional(),
  cloudWatchLogsLogGroupArn: z.string().optional(),
  cloudWatchLogsRoleArn: z.string().optional(),
});
export type Trail = z.infer<typeof TrailSchema>;

export const TrailStatusSchema = z.object({
  isLogging: z.boolean(),
  latestCloudWatchLogsDeliveryError: z.string().optional(),
  /** ISO 8601. */
  latestCloudWatchLogsDeliveryTime: z.string().optional(),
  /** ISO 8601: when logging was last started (StartLoggingTime). */
  startLoggingTime: z.string().optional(),
  /**
   * ISO 8601: when the guardrail first saw this delivery error (its state table); a delivery after that makes
   * the error stale. Absent: unknown, the error counts as current.
   */
  deliveryErrorFirstSeenAt: z.string().optional(),
});
export type TrailStatus = z.infer<typeof TrailStatusSchema>;

export const LogGroupStateSchema = z.object({
  name: z.string(),
  exists: z.boolean(),
  retentionInDays: z.number().optional(),
  kmsKeyId: z.string().optional(),
  /**
   * DescribeLogGroups' `deletionProtectionEnabled` (CloudWatch Logs, "Protecting log groups from deletion"):
   * absent when the endpoint does not report it (read as not protected).
   */
  deletionProtectionEnabled: z.boolean().optional(),
});
export type LogGroupState = z.infer<typeof LogGroupStateSchema>;

export const RoleStateSchema = z.object({
  name: z.string(),
  arn: z.string(),
  exists: z.boolean(),
  trustPolicy: PolicyDocumentSchema.optional(),
  /** Inline and attached (default version) permission policies, by name. */
  permissionPolicies: z
    .array(
      z.object({
        name: z.string(),
        /** Inline (counts toward the role's 10,240-character inline quota) or an attached managed policy. */
        kind: z.enum(['inline', 'managed']).optional(),
        document: PolicyDocumentSchema,
      }),
    )
    .default([]),
  /** The role's permissions boundary (default version), when it has one: it caps what the policies grant. */
  permissionsBoundary: z.object({ arn: z.string(), document: PolicyDocumentSchema }).optional(),
});
export type RoleState = z.infer<typeof RoleStateSchema>;

/** A metric filter on the trail's log group, as DescribeMetricFilters returns it (the first transformation). */
export const MetricFilterStateSchema = z.object({
  filterName: z.string(),
  filterPattern: z.string(),
  metricName: z.string().optional(),
  metricNamespace: z.string().optional(),
  metricValue: z.string().optional(),
});
export type MetricFilterState = z.infer<typeof MetricFilterStateSchema>;

/** A CloudWatch alarm trailguard expects for a CIS metric, as DescribeAlarms returns it. */
export const AlarmStateSchema = z.object({
  alarmName: z.string(),
  metricName: z.string().optional(),
  namespace: z.string().optional(),
  statistic: z.string().optional(),
  period: z.number().optional(),
  evaluationPeriods: z.number().optional(),
  threshold: z.number().optional(),
  comparisonOperator: z.string().optional(),
  /** How the alarm treats missing data (absent: CloudWatch's default, `missing`). */
  treatMissingData: z.string().optional(),
  alarmActions: z.array(z.string()).default([]),
  actionsEnabled: z.boolean().optional(),
});
export type AlarmState = z.infer<typeof AlarmStateSchema>;

/**
 * The CIS monitoring on the trail's log group (config.cisMonitoring): every metric filter of the group and the
 * alarms named after the CIS controls for it. Read only when cisMonitoring is on, the trail is multi-region and
 * its log group exists.
 */
export const MonitoringStateSchema = z.object({
  logGroupName: z.string(),
  metricFilters: z.array(MetricFilterStateSchema).default([]),
  alarms: z.array(AlarmStateSchema).default([]),
});
export type MonitoringState = z.infer<typeof MonitoringStateSchema>;

export const TrailStateSchema = z.object({
  /** The region whose endpoint was asked. */
  region: z.string(),
  /** The account the guardrail runs in. */
  accountId: z.string(),
  partition: z.string(),
  trail: TrailSchema,
  /**
   * The AWS Organizations id (o-...) of an organization trail owned here: its member accounts' streams are
   * `o-ORGID_*`. Read with DescribeOrganization; absent for other trails.
   */
  organizationId: z
    .string()
    .regex(/^o-[a-z0-9]{10,32}$/, 'must be an AWS Organizations id (o-...)')
    .optional(),
  /** Absent for a trail that is not ours: its status and resources are not read. */
  status: TrailStatusSchema.optional(),
  tags: z.record(z.string(), z.string()).default({}),
  /** Absent when the trail names no log group, or one that cannot be parsed or is not in this account/region. */
  logGroup: LogGroupStateSchema.optional(),
  /** Absent when the trail names no role, or one that cannot be parsed or is not in this account. */
  role: RoleStateSchema.optional(),
  /** config.cisMonitoring only: the CIS metric filters and alarms of the trail's log group. */
  monitoring: MonitoringStateSchema.optional(),
});
export type TrailState = z.infer<typeof TrailStateSchema>;
