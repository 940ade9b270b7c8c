/**
 * The sample CloudTrail events (copies of shared/events, in EventBridge's shape) and an administrator's call
 * on any trail built from them. Used by the demo and the tests.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SAMPLES = fileURLToPath(new URL('../../test/fixtures/events/', import.meta.url));

export type SampleName =
  | 'create-trail'
  | 'update-trail-remove-cloudwatch'
  | 'stop-logging'
  | 'own-update-trail'
  | 'cis-alarm-state-change';

export function sampleEvent(name: SampleName): Record<string, unknown> {
  return JSON.parse(readFileSync(`${SAMPLES}${name}.json`, 'utf8')) as Record<string, unknown>;
}

/**
 * An administrator's `eventName` call on a trail (named by name or ARN), from the UpdateTrail sample, with the
 * given event id. `detail` entries replace the sample's.
 */
export function adminEvent(
  eventName: string,
  trail: string,
  id: string,
  detail: Record<string, unknown> = {},
): Record<string, unknown> {
  const event = sampleEvent('update-trail-remove-cloudwatch') as { detail: Record<string, unknown> };
  return {
    ...event,
    id,
    detail: {
      ...event.detail,
      eventName,
      eventID: id,
      requestParameters: { name: trail },
      responseElements: null,
      ...detail,
    },
  };
}

/**
 * The event as CloudTrail would send it now: its `time` and `detail.eventTime` set to `now` (the samples carry the
 * day they were captured). The demo replays its events this way, so a run's time to remediate, measured from the
 * event's time, is the run's own and not the sample's age.
 */
export function happeningNow(
  event: Record<string, unknown>,
  now: Date = new Date(),
): Record<string, unknown> {
  const time = `${now.toISOString().slice(0, 19)}Z`;
  const detail = event.detail as Record<string, unknown> | undefined;
  return {
    ...event,
    time,
    ...(detail && 'eventTime' in detail ? { detail: { ...detail, eventTime: time } } : {}),
  };
}
