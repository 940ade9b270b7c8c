/**
 * A log group restored whole, the AWS side: takes a snapshot of a healthy trail log group (what deleting it would
 * lose) and, once trailguard has recreated the group, puts every recorded item back, reporting each item it
 * restored and each it could not (with AWS's reason). The snapshot itself and the item names:
 * services/domain/log-group-snapshot.ts.
 *
 * Reads follow services/aws/trail-reader.ts: a transient failure is a TransientAwsError, anything else an
 * AwsReadError. Writes follow services/aws/write-errors.ts, except that a permanent refusal of one item (access
 * denied, KMS key disabled, destination gone, invalid parameter, quota) is reported in `notRestored` and the other
 * items are still restored; a transient failure is thrown so the workflow retries the step.
 */
import {
  AssociateKmsKeyCommand,
  type CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  type DescribeLogGroupsCommandOutput,
  type Distribution,
  GetDataProtectionPolicyCommand,
  ListTagsForResourceCommand,
  type LogGroup,
  type MetricTransformation,
  PutDataProtectionPolicyCommand,
  PutLogGroupDeletionProtectionCommand,
  PutMetricFilterCommand,
  PutRetentionPolicyCommand,
  PutSubscriptionFilterCommand,
  paginateDescribeMetricFilters,
  paginateDescribeSubscriptionFilters,
  type StandardUnit,
  TagResourceCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { refuseControlTowerWrite } from '../domain/control-tower.js';
import {
  AwsReadError,
  awsErrorName,
  isTransient,
  RemediationError,
  TrailguardError,
  TransientAwsError,
} from '../domain/errors.js';
import {
  isReservedTagKey,
  type LogGroupSnapshot,
  LogGroupSnapshotSchema,
  type MetricFilterSnapshot,
  type SubscriptionFilterSnapshot,
  sameMetricFilter,
  samePolicyDocument,
  sameSubscriptionFilter,
  snapshotItem,
  sortedTagKeys,
  type UnreadableItem,
} from '../domain/log-group-snapshot.js';
import type { AwsClients } from './clients.js';
import { type Write, writeError } from './write-errors.js';

export interface LogGroupSnapshotSpec {
  region: string;
  account: string;
  partition: string;
  trailArn: string;
  logGroupName: string;
}

export interface RestoreSpec {
  region: string;
  account: string;
  partition: string;
  /** The group trailguard just created; it may differ from the snapshot's `logGroupName`. */
  logGroupName: string;
}

export interface RestoreResult {
  /** One entry per write AWS accepted (a refused call changed nothing: it is in `notRestored`). */
  writes: Write[];
  /**
   * Every recorded item that is in place on the group after this call, in the words of `snapshotItems`: put back
   * now (see `writes`) or already there (e.g. by an earlier, interrupted attempt of the same step).
   */
  restored: string[];
  /** Every recorded item that is not in place, with AWS's reason (or why the snapshot could not record it). */
  notRestored: { item: string; reason: string }[];
}

/** The ARN that the tagging APIs take: no `:*` suffix (API_ListTagsForResource / API_TagResource, "ARN format"). */
function taggingArn(spec: {
  partition: string;
  region: string;
  account: string;
  logGroupName: string;
}): string {
  return `arn:${spec.partition}:logs:${spec.region}:${spec.account}:log-group:${spec.logGroupName}`;
}

/**
 * Recognizes an endpoint's own way of saying "I do not implement `api`" (a reason) beyond AWS's; undefined
 * otherwise. Production has none: on AWS only AWS's answers below mean that. The local layer
 * (services/local/emulator-tolerance.ts) installs moto's, and only when the SDK points at an emulator.
 */
export type UnsupportedApiRecognizer = (api: string, error: unknown) => string | undefined;

let emulatorRecognizer: UnsupportedApiRecognizer | undefined;

/**
 * Installs (or, with undefined, removes) the emulator's recognizer; returns the one it replaces. Called only
 * from services/local/ and test/support/: a Lambda never installs one, so an HTML HTTP 500 there stays a
 * transient error and is retried.
 */
export function setEmulatorUnsupportedApi(
  recognizer: UnsupportedApiRecognizer | undefined,
): UnsupportedApiRecognizer | undefined {
  const previous = emulatorRecognizer;
  emulatorRecognizer = recognizer;
  return previous;
}

/**
 * Why an error means "this endpoint does not implement `api`", or undefined when it means something else.
 *
 * - AWS answers an operation it does not know with `UnknownOperationException` (JSON protocols) or HTTP 501.
 * - Anything else, an HTTP 500 included (with or without an AWS error body or request id), is what it is: on
 *   AWS an InternalFailure/ServiceUnavailable is transient and retried
 *   (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/CommonErrors.html). An emulator's own
 *   way of answering an API it lacks is recognized only when the local layer installed it
 *   (setEmulatorUnsupportedApi).
 */
export function unsupportedApiReason(api: string, error: unknown): string | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const e = error as { message?: string; $metadata?: { httpStatusCode?: number } };
  const name = awsErrorName(error);
  const status = e.$metadata?.httpStatusCode;
  if (name === 'UnknownOperationException' || name === 'InvalidAction' || status === 501) {
    return `the endpoint does not support ${api} (${name ?? `HTTP ${status}`}: ${e.message ?? 'no message'})`;
  }
  return emulatorRecognizer?.(api, error);
}

/** The group disappeared while it was being read: the snapshot is "no group", not an error. */
class GroupVanished extends Error {}

/** One read, classified the way services/aws/trail-reader.ts classifies reads. */
async function read<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof GroupVanished || error instanceof TrailguardError) throw error;
    const name = awsErrorName(error);
    const message = `${what} failed: ${name && name !== 'Error' ? `${name}: ` : ''}${(error as Error).message ?? name}`;
    if (isTransient(error)) throw new TransientAwsError(message, { cause: error });
    throw new AwsReadError(message, { cause: error });
  }
}

/** Runs a read of the group's parts; ResourceNotFoundException means the group was deleted meanwhile. */
async function readPart<T>(what: string, call: () => Promise<T>): Promise<T> {
  return read(what, async () => {
    try {
      return await call();
    } catch (error) {
      if (awsErrorName(error) === 'ResourceNotFoundException') throw new GroupVanished(what);
      throw error;
    }
  });
}

/** DescribeLogGroups by prefix, every page, exact name match (a prefix also matches longer names). */
async function describeGroup(logs: CloudWatchLogsClient, name: string): Promise<LogGroup | undefined> {
  return read(`DescribeLogGroups ${name}`, async () => {
    let nextToken: string | undefined;
    do {
      const page: DescribeLogGroupsCommandOutput = await logs.send(
        new DescribeLogGroupsCommand({ logGroupNamePrefix: name, ...(nextToken ? { nextToken } : {}) }),
      );
      const group = page.logGroups?.find((g) => g.logGroupName === name);
      if (group) return group;
      nextToken = page.nextToken;
    } while (nextToken);
    return undefined;
  });
}

function toMetricFilter(filter: {
  filterName?: string | undefined;
  filterPattern?: string | undefined;
  metricTransformations?: MetricTransformation[] | undefined;
  applyOnTransformedLogs?: boolean | undefined;
  fieldSelectionCriteria?: string | undefined;
  emitSystemFieldDimensions?: string[] | undefined;
}): MetricFilterSnapshot {
  return {
    filterName: filter.filterName ?? '',
    filterPattern: filter.filterPattern ?? '',
    metricTransformations: (filter.metricTransformations ?? []).map((t) => ({
      metricName: t.metricName ?? '',
      metricNamespace: t.metricNamespace ?? '',
      metricValue: t.metricValue ?? '',
      ...(t.defaultValue !== undefined && t.defaultValue !== null ? { defaultValue: t.defaultValue } : {}),
      ...(t.unit ? { unit: t.unit } : {}),
      ...(t.dimensions && Object.keys(t.dimensions).length > 0 ? { dimensions: { ...t.dimensions } } : {}),
    })),
    ...(filter.applyOnTransformedLogs !== undefined && filter.applyOnTransformedLogs !== null
      ? { applyOnTransformedLogs: filter.applyOnTransformedLogs }
      : {}),
    ...(filter.fieldSelectionCriteria ? { fieldSelectionCriteria: filter.fieldSelectionCriteria } : {}),
    ...(filter.emitSystemFieldDimensions?.length
      ? { emitSystemFieldDimensions: [...filter.emitSystemFieldDimensions] }
      : {}),
  };
}

function toSubscriptionFilter(filter: {
  filterName?: string | undefined;
  filterPattern?: string | undefined;
  destinationArn?: string | undefined;
  roleArn?: string | undefined;
  distribution?: string | undefined;
  applyOnTransformedLogs?: boolean | undefined;
  fieldSelectionCriteria?: string | undefined;
  emitSystemFields?: string[] | undefined;
}): SubscriptionFilterSnapshot {
  return {
    filterName: filter.filterName ?? '',
    filterPattern: filter.filterPattern ?? '',
    destinationArn: filter.destinationArn ?? '',
    ...(filter.roleArn ? { roleArn: filter.roleArn } : {}),
    ...(filter.distribution ? { distribution: filter.distribution } : {}),
    ...(filter.applyOnTransformedLogs !== undefined && filter.applyOnTransformedLogs !== null
      ? { applyOnTransformedLogs: filter.applyOnTransformedLogs }
      : {}),
    ...(filter.fieldSelectionCriteria ? { fieldSelectionCriteria: filter.fieldSelectionCriteria } : {}),
    ...(filter.emitSystemFields?.length ? { emitSystemFields: [...filter.emitSystemFields] } : {}),
  };
}

/**
 * The group's data protection policy, or why it could not be read. A group without a policy: the API reference
 * (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetDataProtectionPolicy.html) lists
 * ResourceNotFoundException, and the response's `policyDocument` is optional; both mean "no policy" (as the
 * Terraform AWS provider reads them).
 */
async function readDataProtectionPolicy(
  logs: CloudWatchLogsClient,
  name: string,
): Promise<{ policy?: string; unreadable?: UnreadableItem }> {
  return read(`GetDataProtectionPolicy ${name}`, async () => {
    try {
      const out = await logs.send(new GetDataProtectionPolicyCommand({ logGroupIdentifier: name }));
      return out.policyDocument ? { policy: out.policyDocument } : {};
    } catch (error) {
      if (awsErrorName(error) === 'ResourceNotFoundException') return {};
      const unsupported = unsupportedApiReason('GetDataProtectionPolicy', error);
      if (unsupported)
        return { unreadable: { item: snapshotItem.dataProtectionPolicy(), reason: unsupported } };
      throw error;
    }
  });
}

/**
 * Records what deleting the group would lose. Undefined when the group does not exist (or is deleted while it is
 * being read). The managed tag `trailguard:managed` is recorded like any other tag.
 */
export async function takeLogGroupSnapshot(
  clients: AwsClients,
  spec: LogGroupSnapshotSpec,
  now: Date,
): Promise<LogGroupSnapshot | undefined> {
  const logs = clients.logs(spec.region);
  const name = spec.logGroupName;
  const group = await describeGroup(logs, name);
  if (!group) return undefined;
  const resourceArn = group.logGroupArn ?? taggingArn(spec);
  try {
    const [tags, metricFilters, subscriptionFilters, dataProtection] = await Promise.all([
      readPart(`ListTagsForResource ${resourceArn}`, async () => {
        const out = await logs.send(new ListTagsForResourceCommand({ resourceArn }));
        return out.tags ?? {};
      }),
      readPart(`DescribeMetricFilters ${name}`, async () => {
        const out: MetricFilterSnapshot[] = [];
        for await (const page of paginateDescribeMetricFilters({ client: logs }, { logGroupName: name })) {
          for (const f of page.metricFilters ?? []) {
            // The filter-name prefix and other filters are not used, so every filter here is this group's;
            // checked anyway, since the answer names its group.
            if (f.logGroupName === undefined || f.logGroupName === name) out.push(toMetricFilter(f));
          }
        }
        return out;
      }),
      readPart(`DescribeSubscriptionFilters ${name}`, async () => {
        const out: SubscriptionFilterSnapshot[] = [];
        for await (const page of paginateDescribeSubscriptionFilters(
          { client: logs },
          { logGroupName: name },
        )) {
          for (const f of page.subscriptionFilters ?? []) out.push(toSubscriptionFilter(f));
        }
        return out;
      }),
      readDataProtectionPolicy(logs, name),
    ]);
    return LogGroupSnapshotSchema.parse({
      trailArn: spec.trailArn,
      logGroupName: name,
      takenAt: now.toISOString(),
      ...(group.retentionInDays !== undefined && group.retentionInDays !== null
        ? { retentionInDays: group.retentionInDays }
        : {}),
      ...(group.kmsKeyId ? { kmsKeyId: group.kmsKeyId } : {}),
      ...(group.logGroupClass ? { logGroupClass: group.logGroupClass } : {}),
      ...(group.deletionProtectionEnabled !== undefined
        ? { deletionProtectionEnabled: group.deletionProtectionEnabled }
        : {}),
      tags,
      metricFilters,
      subscriptionFilters,
      ...(dataProtection.policy ? { dataProtectionPolicy: dataProtection.policy } : {}),
      unreadable: dataProtection.unreadable ? [dataProtection.unreadable] : [],
    });
  } catch (error) {
    if (error instanceof GroupVanished) return undefined;
    throw error;
  }
}

/** Whether an error is an answer from the service (an SDK service or protocol error), not a fault of ours. */
function isServiceAnswer(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const e = error as { $fault?: unknown; $metadata?: { httpStatusCode?: unknown } };
  return e.$fault !== undefined || typeof e.$metadata?.httpStatusCode === 'number';
}

/** Collects the outcome of each item of one restore. */
class Restore {
  readonly writes: Write[] = [];
  readonly restored: string[] = [];
  readonly notRestored: { item: string; reason: string }[] = [];

  constructor(private readonly resource: string) {}

  inPlace(item: string): void {
    this.restored.push(item);
  }

  refused(item: string, reason: string): void {
    this.notRestored.push({ item, reason });
  }

  /**
   * Makes one write. Accepted: records it in `writes` and returns undefined. Refused by AWS for a reason a
   * person must handle (or by an endpoint without the API): returns the reason and records nothing; the caller
   * says which items it concerns. Transient: throws TransientAwsError. Anything that is not an answer from the
   * service (a bug) is thrown as well.
   */
  async write(api: string, detail: string, call: () => Promise<unknown>): Promise<string | undefined> {
    try {
      await call();
    } catch (error) {
      const unsupported = unsupportedApiReason(api, error);
      if (unsupported) return unsupported;
      const classified = writeError(`${api} ${this.resource}`, error);
      if (classified instanceof TransientAwsError || !isServiceAnswer(error)) throw classified;
      const name = awsErrorName(error);
      return `${api} refused: ${name && name !== 'Error' ? `${name}: ` : ''}${(error as Error).message || 'no message'}`;
    }
    this.writes.push({ api, resource: this.resource, detail });
    return undefined;
  }

  /** `write` for one item: restored when accepted, in `notRestored` with the reason when refused. */
  async item(item: string, api: string, detail: string, call: () => Promise<unknown>): Promise<void> {
    const reason = await this.write(api, detail, call);
    if (reason === undefined) this.inPlace(item);
    else this.refused(item, reason);
  }
}

/**
 * Puts back everything `snapshot` recorded on the group `spec.logGroupName`, which trailguard has just created
 * (it may have another name than the snapshot's group). Re-reads the group first and writes only what differs,
 * so a second run makes no write, and never removes anything the group already has (tags, filters).
 *
 * Order: what acts on events as they are ingested first (KMS key, data protection policy), then retention,
 * metric filters, subscription filters, tags.
 */
export async function restoreLogGroupSnapshot(
  clients: AwsClients,
  spec: RestoreSpec,
  snapshot: LogGroupSnapshot,
): Promise<RestoreResult> {
  const name = spec.logGroupName;
  refuseControlTowerWrite({ logGroup: name }, 'restore of a log group snapshot');
  const logs = clients.logs(spec.region);
  const current = await takeLogGroupSnapshot(clients, { ...spec, trailArn: snapshot.trailArn }, new Date());
  if (!current) {
    throw new RemediationError(
      `log group ${name} does not exist in ${spec.region}: create it before restoring what was recorded of ${snapshot.logGroupName}`,
    );
  }
  const restore = new Restore(name);
  const recorded = `as recorded at ${snapshot.takenAt}`;

  // KMS key. AssociateKmsKey overrides any key the group has; only events ingested afterwards are encrypted
  // with it, it may take up to 5 minutes to take effect, and a key that does not exist or is disabled is an
  // InvalidParameterException; the key policy must let logs.<region>.amazonaws.com use it
  // (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_AssociateKmsKey.html).
  if (snapshot.kmsKeyId) {
    const kmsKeyId = snapshot.kmsKeyId;
    const item = snapshotItem.kmsKey(kmsKeyId);
    if (current.kmsKeyId === kmsKeyId) restore.inPlace(item);
    else
      await restore.item(item, 'AssociateKmsKey', `associated KMS key ${kmsKeyId} (${recorded})`, () =>
        logs.send(new AssociateKmsKeyCommand({ logGroupName: name, kmsKeyId })),
      );
  }

  // Data protection policy: one per group, masks only events ingested after it is set; audit destinations named
  // in it (log group, Firehose stream, S3 bucket) must already exist
  // (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutDataProtectionPolicy.html).
  if (snapshot.dataProtectionPolicy) {
    const policyDocument = snapshot.dataProtectionPolicy;
    const item = snapshotItem.dataProtectionPolicy();
    if (samePolicyDocument(current.dataProtectionPolicy, policyDocument)) restore.inPlace(item);
    else
      await restore.item(
        item,
        'PutDataProtectionPolicy',
        `put the data protection policy (${recorded})`,
        () => logs.send(new PutDataProtectionPolicyCommand({ logGroupIdentifier: name, policyDocument })),
      );
  }

  // Retention. "Never expire" is the absence of a retention policy; trailguard gives every log group it creates
  // the configured retention (config.retentionDays), and completes any of its groups found without one
  // (services/aws/log-group-writer.ts): a recorded "never expire" is not put back, and the reason says so.
  {
    const days = snapshot.retentionInDays;
    const item = snapshotItem.retention(days);
    if (current.retentionInDays === days) restore.inPlace(item);
    else if (days === undefined)
      restore.refused(
        item,
        `trailguard gives the log groups it creates a retention (retentionDays: ${current.retentionInDays ?? 'unset'} days); delete the retention policy by hand to keep events forever`,
      );
    else
      await restore.item(item, 'PutRetentionPolicy', `set retention to ${days} days (${recorded})`, () =>
        logs.send(new PutRetentionPolicyCommand({ logGroupName: name, retentionInDays: days })),
      );
  }

  // Metric filters: PutMetricFilter creates or updates the filter of that name (100 per group).
  for (const filter of snapshot.metricFilters) {
    const item = snapshotItem.metricFilter(filter);
    const existing = current.metricFilters.find((f) => f.filterName === filter.filterName);
    if (existing && sameMetricFilter(existing, filter)) {
      restore.inPlace(item);
      continue;
    }
    await restore.item(item, 'PutMetricFilter', `put metric filter ${filter.filterName} (${recorded})`, () =>
      logs.send(
        new PutMetricFilterCommand({
          logGroupName: name,
          filterName: filter.filterName,
          filterPattern: filter.filterPattern,
          metricTransformations: filter.metricTransformations.map(
            ({ unit, ...t }): MetricTransformation => ({
              ...t,
              ...(unit ? { unit: unit as StandardUnit } : {}),
            }),
          ),
          ...(filter.applyOnTransformedLogs !== undefined
            ? { applyOnTransformedLogs: filter.applyOnTransformedLogs }
            : {}),
          ...(filter.fieldSelectionCriteria ? { fieldSelectionCriteria: filter.fieldSelectionCriteria } : {}),
          ...(filter.emitSystemFieldDimensions
            ? { emitSystemFieldDimensions: filter.emitSystemFieldDimensions }
            : {}),
        }),
      ),
    );
  }

  // Subscription filters: at most two per group; PutSubscriptionFilter creates or updates the filter of that name,
  // needs the destination to exist and (for Kinesis and Firehose) a role CloudWatch Logs can pass
  // (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutSubscriptionFilter.html). A
  // destination that is gone is refused (InvalidParameterException): a person must decide where events go now.
  for (const filter of snapshot.subscriptionFilters) {
    const item = snapshotItem.subscriptionFilter(filter);
    const existing = current.subscriptionFilters.find((f) => f.filterName === filter.filterName);
    if (existing && sameSubscriptionFilter(existing, filter)) {
      restore.inPlace(item);
      continue;
    }
    await restore.item(
      item,
      'PutSubscriptionFilter',
      `put subscription filter ${filter.filterName} to ${filter.destinationArn} (${recorded})`,
      () =>
        logs.send(
          new PutSubscriptionFilterCommand({
            logGroupName: name,
            filterName: filter.filterName,
            filterPattern: filter.filterPattern,
            destinationArn: filter.destinationArn,
            ...(filter.roleArn ? { roleArn: filter.roleArn } : {}),
            ...(filter.distribution ? { distribution: filter.distribution as Distribution } : {}),
            ...(filter.applyOnTransformedLogs !== undefined
              ? { applyOnTransformedLogs: filter.applyOnTransformedLogs }
              : {}),
            ...(filter.fieldSelectionCriteria
              ? { fieldSelectionCriteria: filter.fieldSelectionCriteria }
              : {}),
            ...(filter.emitSystemFields ? { emitSystemFields: filter.emitSystemFields } : {}),
          }),
        ),
    );
  }

  await restoreTags(restore, logs, taggingArn(spec), current.tags, snapshot.tags, recorded);

  // The log group class is chosen when the group is created and cannot be changed afterwards
  // (CreateLogGroup, logGroupClass: "can't be changed after a log group is created").
  if (snapshot.logGroupClass && snapshot.logGroupClass !== 'STANDARD') {
    const item = snapshotItem.logGroupClass(snapshot.logGroupClass);
    if (current.logGroupClass === snapshot.logGroupClass) restore.inPlace(item);
    else
      restore.refused(
        item,
        `a log group's class is chosen when it is created and cannot be changed; ${name} was created as ${current.logGroupClass ?? 'a class the endpoint does not report'}`,
      );
  }

  // Deletion protection, last: the group is whole before it is locked against deletion
  // (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogGroupDeletionProtection.html).
  if (snapshot.deletionProtectionEnabled) {
    const item = snapshotItem.deletionProtection();
    if (current.deletionProtectionEnabled === true) restore.inPlace(item);
    else
      await restore.item(
        item,
        'PutLogGroupDeletionProtection',
        `turned deletion protection on (${recorded})`,
        () =>
          logs.send(
            new PutLogGroupDeletionProtectionCommand({
              logGroupIdentifier: name,
              deletionProtectionEnabled: true,
            }),
          ),
      );
  }

  for (const gap of snapshot.unreadable) {
    restore.refused(
      gap.item,
      `not recorded when the snapshot was taken (${snapshot.takenAt}): ${gap.reason}`,
    );
  }

  return { writes: restore.writes, restored: restore.restored, notRestored: restore.notRestored };
}

/**
 * Tags: TagResource (TagLogGroup is on the path to deprecation: API_TagLogGroup) adds or overwrites the keys given
 * and keeps every other tag, so nothing the group already has is removed. One call for all missing tags; if AWS
 * refuses it, one call per tag, so one bad tag does not keep the others off the group. Keys with the `aws:`
 * prefix are AWS's own and cannot be set by anyone.
 */
async function restoreTags(
  restore: Restore,
  logs: CloudWatchLogsClient,
  resourceArn: string,
  current: Record<string, string>,
  recordedTags: Record<string, string>,
  recorded: string,
): Promise<void> {
  const missing: [string, string][] = [];
  for (const key of sortedTagKeys(recordedTags)) {
    const value = recordedTags[key] ?? '';
    const item = snapshotItem.tag(key, value);
    if (current[key] === value) restore.inPlace(item);
    else if (isReservedTagKey(key))
      restore.refused(
        item,
        'tag keys with the aws: prefix are set by AWS itself and cannot be set with TagResource',
      );
    else missing.push([key, value]);
  }
  if (missing.length === 0) return;
  const tagList = (tags: [string, string][]) => tags.map(([k, v]) => `${k}=${v}`).join(', ');
  const reason = await restore.write('TagResource', `tagged ${tagList(missing)} (${recorded})`, () =>
    logs.send(new TagResourceCommand({ resourceArn, tags: Object.fromEntries(missing) })),
  );
  if (reason === undefined) {
    for (const [key, value] of missing) restore.inPlace(snapshotItem.tag(key, value));
    return;
  }
  if (missing.length === 1) {
    const [key, value] = missing[0] as [string, string];
    restore.refused(snapshotItem.tag(key, value), reason);
    return;
  }
  for (const [key, value] of missing) {
    await restore.item(
      snapshotItem.tag(key, value),
      'TagResource',
      `tagged ${key}=${value} (${recorded})`,
      () => logs.send(new TagResourceCommand({ resourceArn, tags: { [key]: value } })),
    );
  }
}
