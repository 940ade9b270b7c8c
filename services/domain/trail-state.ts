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
  latestCloudWatchLogsDeliveryTime: z.string().optional(),
});

export const LogGroupStateSchema = z.object({
  name: z.string(),
  exists: z.boolean(),
  retentionInDays: z.number().optional(),
  kmsKeyId: z.string().optional(),
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
});
export type TrailState = z.infer<typeof TrailStateSchema>;
