/**
 * CloudWatch alarm state changes as EventBridge delivers them: source `aws.cloudwatch`, detail-type `CloudWatch
 * Alarm State Change`, on the alarm's own account's default bus in the alarm's region, `resources` the alarm ARN,
 * `detail.alarmName`, `detail.state` (value, reason, timestamp), `detail.previousState`, `detail.configuration`
 * (CloudWatch User Guide, "Alarm events and EventBridge",
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html).
 *
 * Why trailguard's CIS alarms notify through these events: PutMetricAlarm accepts an SNS action only in the
 * alarm's own region ("Invalid region ... specified"), and a topic in another account only when its policies admit
 * that account (PutMetricAlarm, AlarmActions, https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html).
 * So an alarm notifies the hub's topic directly only in the hub's own account and region
 * (cisAlarmActions); everywhere else its spoke forwards its ALARM state changes to the hub's bus, where a rule
 * emails the team (infra/constructs/trigger.ts AlarmNotification), the same bus-to-bus path as the trigger rules.
 */

import { formatIssues } from '../../policies/config.js';
import * as z from '../../policies/zod.js';
import { CIS_NAME_PREFIX } from './cis-monitoring.js';
import { InvalidInputError } from './errors.js';

export const ALARM_EVENT_SOURCE = 'aws.cloudwatch';
export const ALARM_STATE_CHANGE = 'CloudWatch Alarm State Change';
/** The state whose changes reach the team (what the alarm's own action was for). */
export const NOTIFIED_ALARM_STATE = 'ALARM';

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

export const AlarmEventSchema = z.object({
  version: z.optional(z.string().check(z.maxLength(16))),
  id: z.string().check(z.minLength(1), z.maxLength(256)),
  'detail-type': z.literal(ALARM_STATE_CHANGE),
  source: z.literal(ALARM_EVENT_SOURCE),
  account: z.string().check(z.regex(/^\d{12}$/, 'must be a 12-digit account id')),
  time: z.string().check(z.maxLength(64)),
  region: z.string().check(z.regex(REGION, 'must be an AWS region')),
  resources: z._default(z.array(z.string().check(z.maxLength(2048))).check(z.maxLength(10)), []),
  detail: z.looseObject({
    alarmName: z.string().check(z.minLength(1), z.maxLength(255)),
    state: z.looseObject({
      value: z.string().check(z.minLength(1), z.maxLength(32)),
      reason: z.optional(z.string().check(z.maxLength(4096))),
      timestamp: z.optional(z.string().check(z.maxLength(64))),
    }),
    previousState: z.optional(z.looseObject({ value: z.optional(z.string().check(z.maxLength(32))) })),
  }),
});
export type AlarmEvent = z.infer<typeof AlarmEventSchema>;

/** Whether `input` claims to be an alarm state change (then parseAlarmEvent decides whether it is a valid one). */
export function isAlarmEvent(input: unknown): boolean {
  return (
    !!input &&
    typeof input === 'object' &&
    (input as Record<string, unknown>).source === ALARM_EVENT_SOURCE &&
    (input as Record<string, unknown>)['detail-type'] === ALARM_STATE_CHANGE
  );
}

/** Parses an alarm state change event; InvalidInputError naming every problem otherwise. */
export function parseAlarmEvent(input: unknown): AlarmEvent {
  const result = AlarmEventSchema.safeParse(input);
  if (!result.success) {
    throw new InvalidInputError(
      `invalid alarm state change event: ${formatIssues(result.error).join('; ')}`,
      {
        cause: result.error,
      },
    );
  }
  return result.data;
}

/** The EventBridge pattern for trailguard's CIS alarms going to ALARM (spoke, region stack and hub rules). */
export function alarmEventPattern(): {
  source: string[];
  'detail-type': string[];
  detail: { alarmName: { prefix: string }[]; state: { value: string[] } };
} {
  return {
    source: [ALARM_EVENT_SOURCE],
    'detail-type': [ALARM_STATE_CHANGE],
    detail: { alarmName: [{ prefix: CIS_NAME_PREFIX }], state: { value: [NOTIFIED_ALARM_STATE] } },
  };
}

/** The value at a simple JSONPath (`$.a.b`, `$.a[0]`) of `value`; undefined when there is none. */
function valueAt(value: unknown, path: string): unknown {
  const steps = path.replace(/^\$\.?/, '').match(/[^.[\]]+/g) ?? [];
  let at: unknown = value;
  for (const step of steps) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string, unknown>)[step];
  }
  return at;
}

/**
 * What EventBridge's input transformer makes of `event` (InputPathsMap and InputTemplate, as the rule's target has
 * them): each `<name>` is the value at its path, a string written JSON-escaped inside the template's quotes. A
 * template that is one JSON string gives that string (what the topic publishes); anything else its text.
 * ("Amazon EventBridge input transformation", https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html.)
 */
export function transformInput(
  input: { paths: Record<string, string>; template: string },
  event: unknown,
): string {
  const text = input.template.replace(/<([\w.-]+)>/g, (whole, name: string) => {
    const path = input.paths[name];
    if (path === undefined) return whole;
    const value = valueAt(event, path);
    if (value === undefined || value === null) return '';
    return typeof value === 'string' ? JSON.stringify(value).slice(1, -1) : JSON.stringify(value);
  });
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'string' ? parsed : text;
  } catch {
    return text;
  }
}
