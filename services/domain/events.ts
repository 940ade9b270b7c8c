/**
 * Parsing what starts a workflow run: a CloudTrail API call event in EventBridge's shape, or a request made
 * by the guardrail itself (the CLI's `remediate`, the sweep). Pure; every problem is a clear InvalidInputError.
 */

import { formatIssues } from '../../policies/config.js';
import * as z from '../../policies/zod.js';
import { isTrailName, parseTrailArn } from './arns.js';
import { InvalidInputError } from './errors.js';
import { FINDINGS_IMPORTED, findingTargets, isFindingsEvent, parseFindingsEvent } from './security-hub.js';

const MAX = 2048;
/** EventBridge's limit on an event's size (PutEvents entry, 256 KB). */
export const MAX_EVENT_BYTES = 256 * 1024;
const str = z.string().check(z.maxLength(MAX));

/** Check's input: built when first parsed (z.lazily), so the other steps never build it. */
export const cloudTrailEventSchema = z.lazily(() => {
  const userIdentity = z.partial(
    z.object({
      type: z.optional(str),
      arn: z.optional(str),
      principalId: z.optional(str),
      accountId: z.optional(str),
      invokedBy: z.optional(str),
      sessionContext: z.nullish(
        z.partial(
          z.object({
            sessionIssuer: z.optional(
              z.partial(z.object({ arn: z.optional(str), userName: z.optional(str) })),
            ),
          }),
        ),
      ),
    }),
  );

  const params = z.nullish(z.record(z.string(), z.unknown()));

  return z.object({
    version: z.optional(str),
    id: str.check(z.minLength(1)),
    'detail-type': z.literal('AWS API Call via CloudTrail'),
    source: str.check(z.regex(/^aws\.[a-z0-9.-]+$/, 'must be an aws.* event source')),
    account: str.check(z.regex(/^\d{12}$/, 'must be a 12-digit account id')),
    time: str,
    region: str.check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS region')),
    detail: z.object({
      eventName: str.check(z.minLength(1)),
      eventSource: str.check(z.minLength(1)),
      eventTime: z.optional(str),
      awsRegion: str.check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS region')),
      eventID: z.optional(str),
      sourceIPAddress: z.optional(str),
      userAgent: z.optional(str),
      errorCode: z.optional(str),
      userIdentity: z.nullish(userIdentity),
      requestParameters: params,
      responseElements: params,
    }),
  });
});
export type CloudTrailEvent = z.infer<ReturnType<typeof cloudTrailEventSchema>>;

/**
 * A run the guardrail starts itself: `trailguard remediate` (manual), the scheduled sweep (sweep), the
 * fan-out of an event that broke a trail's integration from the other side without naming the trail
 * (dependency: CloudWatch Logs DeleteLogGroup, IAM changes to a delivery role), or a failed Security Hub
 * CloudTrail.5 finding (finding: `findingId` names it). A dependency request carries the event's identity
 * (requestedBy is the actor's ARN) so the email and the audit record say who did what.
 */
export const directRequestSchema = z.lazily(() =>
  z.object({
    source: z.literal('trailguard'),
    kind: z.enum(['manual', 'sweep', 'dependency', 'finding']),
    /** The Security Hub finding that started the run (kind `finding`). */
    findingId: z.optional(str),
    trail: str.check(z.minLength(1)),
    region: str.check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS region')),
    account: z.optional(str.check(z.regex(/^\d{12}$/))),
    requestedBy: z.optional(str),
    eventName: z.optional(str),
    eventSource: z.optional(str),
    eventId: z.optional(str),
    eventTime: z.optional(str),
    sourceIp: z.optional(str),
    actorType: z.optional(str),
    userAgent: z.optional(str),
  }),
);
export type DirectRequest = z.infer<ReturnType<typeof directRequestSchema>>;

export const TriggerSchema = z.object({
  kind: z.enum(['event', 'manual', 'sweep', 'finding']),
  /** The Security Hub finding that started the run (kind `finding`). */
  findingId: z.optional(z.string()),
  eventId: z.optional(z.string()),
  eventName: z.optional(z.string()),
  eventSource: z.optional(z.string()),
  eventTime: z.optional(z.string()),
  actorArn: z.optional(z.string()),
  actorType: z.optional(z.string()),
  sourceIp: z.optional(z.string()),
  userAgent: z.optional(z.string()),
  errorCode: z.optional(z.string()),
});
export type Trigger = z.infer<typeof TriggerSchema>;

export const TrailRefSchema = z.object({
  /** As given: a trail name or a trail ARN. */
  id: z.string(),
  /** The region to ask: an ARN's region, else the event's region. */
  region: z.string(),
});
export type TrailRef = z.infer<typeof TrailRefSchema>;

export interface ParsedInput {
  trigger: Trigger;
  trail: TrailRef;
  account?: string;
}

function stringParam(params: Record<string, unknown> | null | undefined, key: string): string | undefined {
  const value = params?.[key];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** Resolves a trail given by name or ARN to the reference the reads use; throws on anything else. */
export function trailRef(id: string, defaultRegion: string): TrailRef {
  const arn = parseTrailArn(id);
  if (arn) return { id, region: arn.region };
  if (isTrailName(id)) return { id, region: defaultRegion };
  throw new InvalidInputError(`"${id.slice(0, 200)}" is neither a CloudTrail trail name nor a trail ARN`);
}

/** The trail an event is about, by event name. */
function trailIdOf(event: CloudTrailEvent): string | undefined {
  const { requestParameters: req, responseElements: res } = event.detail;
  return stringParam(res, 'trailARN') ?? stringParam(req, 'name') ?? stringParam(req, 'trailName');
}

export function parseCloudTrailEvent(input: unknown): CloudTrailEvent {
  const size = new TextEncoder().encode(JSON.stringify(input) ?? '').length;
  if (size > MAX_EVENT_BYTES) {
    throw new InvalidInputError(
      `the event is ${size} bytes; EventBridge events are at most ${MAX_EVENT_BYTES} bytes`,
    );
  }
  const result = cloudTrailEventSchema().safeParse(input);
  if (!result.success) {
    throw new InvalidInputError(
      `not a CloudTrail event in EventBridge's shape: ${formatIssues(result.error).join('; ')}`,
      {
        cause: result.error,
      },
    );
  }
  return result.data;
}

/**
 * The trigger of a direct request. A dependency request is the fan-out of a CloudTrail event, so its trigger
 * is that event (kind `event`: actor, source IP, event name and time), as if the event had named the trail.
 */
function triggerOf(req: DirectRequest): Trigger {
  if (req.kind === 'finding') {
    if (!req.findingId) throw new InvalidInputError('a trailguard finding request needs findingId');
    return {
      kind: 'finding',
      findingId: req.findingId,
      ...(req.eventId ? { eventId: req.eventId } : {}),
      ...(req.eventName ? { eventName: req.eventName } : {}),
      ...(req.eventSource ? { eventSource: req.eventSource } : {}),
      ...(req.eventTime ? { eventTime: req.eventTime } : {}),
      ...(req.requestedBy ? { actorArn: req.requestedBy } : {}),
    };
  }
  if (req.kind !== 'dependency') {
    return { kind: req.kind, ...(req.requestedBy ? { actorArn: req.requestedBy } : {}) };
  }
  return {
    kind: 'event',
    ...(req.eventId ? { eventId: req.eventId } : {}),
    ...(req.eventName ? { eventName: req.eventName } : {}),
    ...(req.eventSource ? { eventSource: req.eventSource } : {}),
    ...(req.eventTime ? { eventTime: req.eventTime } : {}),
    ...(req.requestedBy ? { actorArn: req.requestedBy } : {}),
    ...(req.actorType ? { actorType: req.actorType } : {}),
    ...(req.sourceIp ? { sourceIp: req.sourceIp } : {}),
    ...(req.userAgent ? { userAgent: req.userAgent } : {}),
  };
}

/**
 * A Security Hub "Findings - Imported" event given to the workflow itself (the stack's rule sends it to the
 * fan-out, which starts one run per trail with a `finding` request; an execution started with the event as
 * input is accepted too): it must name exactly one trail to fix.
 */
function parseFindingInput(input: unknown): ParsedInput {
  const event = parseFindingsEvent(input);
  const targets = findingTargets(event);
  const [target] = targets;
  if (!target || targets.length !== 1) {
    throw new InvalidInputError(
      `a Security Hub event starts a run only for one open, failed CloudTrail.5 finding about one trail (it names ${targets.length})`,
    );
  }
  return {
    trigger: {
      kind: 'finding',
      findingId: target.findingId,
      eventId: event.id,
      eventName: FINDINGS_IMPORTED,
      eventSource: 'securityhub.amazonaws.com',
      eventTime: target.updatedAt ?? event.time,
      actorArn: target.productArn,
    },
    trail: trailRef(target.trailArn, event.region),
    account: event.account,
  };
}

/**
 * Normalizes a workflow input: a CloudTrail event about a trail, a Security Hub CloudTrail.5 finding event, or
 * a direct request.
 */
export function parseWorkflowInput(input: unknown): ParsedInput {
  if (isFindingsEvent(input)) return parseFindingInput(input);
  if (input && typeof input === 'object' && (input as { source?: unknown }).source === 'trailguard') {
    const result = directRequestSchema().safeParse(input);
    if (!result.success) {
      throw new InvalidInputError(`invalid trailguard request: ${formatIssues(result.error).join('; ')}`, {
        cause: result.error,
      });
    }
    const req = result.data;
    return {
      trigger: triggerOf(req),
      trail: trailRef(req.trail, req.region),
      ...(req.account ? { account: req.account } : {}),
    };
  }
  const event = parseCloudTrailEvent(input);
  const id = trailIdOf(event);
  if (!id) {
    throw new InvalidInputError(
      `the ${event.detail.eventName} event names no trail (requestParameters.name or responseElements.trailARN)`,
    );
  }
  const identity = event.detail.userIdentity ?? {};
  const trigger: Trigger = {
    kind: 'event',
    eventId: event.detail.eventID ?? event.id,
    eventName: event.detail.eventName,
    eventSource: event.detail.eventSource,
    eventTime: event.detail.eventTime ?? event.time,
    ...(identity.arn ? { actorArn: identity.arn } : {}),
    ...(identity.type ? { actorType: identity.type } : {}),
    ...(event.detail.sourceIPAddress ? { sourceIp: event.detail.sourceIPAddress } : {}),
    ...(event.detail.userAgent ? { userAgent: event.detail.userAgent } : {}),
    ...(event.detail.errorCode ? { errorCode: event.detail.errorCode } : {}),
  };
  return { trigger, trail: trailRef(id, event.detail.awsRegion), account: event.account };
}

/**
 * Events that break a trail's CloudWatch Logs integration from the other side: the log group or the delivery
 * role changes, not the trail. They do not name a trail; the sweep function finds the trails that use the
 * resource and starts one run per trail (see services/aws/sweep.ts). IAM is global: its events reach
 * EventBridge in us-east-1 only.
 */
export const DEPENDENCY_EVENTS = {
  logGroup: {
    source: 'aws.logs',
    eventSource: 'logs.amazonaws.com',
    eventNames: ['DeleteLogGroup'],
  },
  role: {
    source: 'aws.iam',
    eventSource: 'iam.amazonaws.com',
    eventNames: [
      'DeleteRole',
      'DeleteRolePolicy',
      'PutRolePolicy',
      'AttachRolePolicy',
      'DetachRolePolicy',
      'UpdateAssumeRolePolicy',
    ],
  },
  /** config.cisMonitoring: the CIS metric filters on a trail's log group. */
  metricFilter: {
    source: 'aws.logs',
    eventSource: 'logs.amazonaws.com',
    eventNames: ['PutMetricFilter', 'DeleteMetricFilter'],
  },
  /**
   * config.cisMonitoring: the CIS alarms. CloudWatch's API calls reach EventBridge through CloudTrail as source
   * `aws.monitoring`, eventSource `monitoring.amazonaws.com` (EventBridge events reference, "Amazon CloudWatch
   * Monitoring events").
   */
  alarm: {
    source: 'aws.monitoring',
    eventSource: 'monitoring.amazonaws.com',
    eventNames: ['PutMetricAlarm', 'DeleteAlarms'],
  },
} as const;

/** The dependency events of the CIS monitoring (config.cisMonitoring only). */
export const MONITORING_DEPENDENCY_KINDS = ['metricFilter', 'alarm'] as const;

/**
 * What a dependency event changed: a log group (in the event's region) or a role (global), by name; with
 * cisMonitoring also a metric filter (by name, on `logGroupName`) or alarms (`names`: DeleteAlarms names
 * several).
 */
export interface DependencyChange {
  resource: 'log-group' | 'role' | 'metric-filter' | 'alarm';
  name: string;
  /** Every alarm the event names (alarm only). */
  names?: string[];
  /** The log group of a metric filter (metric-filter only). */
  logGroupName?: string;
  event: CloudTrailEvent;
}

function stringListParam(params: Record<string, unknown> | null | undefined, key: string): string[] {
  const value = params?.[key];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v.length > 0) : [];
}

/** Parses a dependency event; InvalidInputError for any other event or one that names no resource. */
export function parseDependencyEvent(input: unknown): DependencyChange {
  const event = parseCloudTrailEvent(input);
  const { eventSource, eventName, requestParameters } = event.detail;
  const is = (spec: { eventSource: string; eventNames: readonly string[] }) =>
    spec.eventSource === eventSource && (spec.eventNames as readonly string[]).includes(eventName);
  const missing = (resource: string, key: string) =>
    new InvalidInputError(`the ${eventName} event names no ${resource} (requestParameters.${key})`);
  if (is(DEPENDENCY_EVENTS.logGroup) || is(DEPENDENCY_EVENTS.role)) {
    const resource = is(DEPENDENCY_EVENTS.logGroup) ? 'log-group' : 'role';
    const key = resource === 'log-group' ? 'logGroupName' : 'roleName';
    const name = stringParam(requestParameters, key);
    if (!name) throw missing(resource, key);
    return { resource, name, event };
  }
  if (is(DEPENDENCY_EVENTS.metricFilter)) {
    const name = stringParam(requestParameters, 'filterName');
    const logGroupName = stringParam(requestParameters, 'logGroupName');
    if (!name) throw missing('metric filter', 'filterName');
    if (!logGroupName) throw missing('log group', 'logGroupName');
    return { resource: 'metric-filter', name, logGroupName, event };
  }
  if (is(DEPENDENCY_EVENTS.alarm)) {
    const names =
      eventName === 'DeleteAlarms'
        ? stringListParam(requestParameters, 'alarmNames')
        : [stringParam(requestParameters, 'alarmName')].filter((n): n is string => n !== undefined);
    const [first] = names;
    if (!first) throw missing('alarm', eventName === 'DeleteAlarms' ? 'alarmNames' : 'alarmName');
    return { resource: 'alarm', name: first, names, event };
  }
  throw new InvalidInputError(
    `${eventName} (${eventSource}) is not an event that can break a trail's CloudWatch Logs integration from the log group or role side`,
  );
}
