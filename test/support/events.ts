/** CloudTrail events in EventBridge's shape for tests, built from the shared sample events. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const FIXTURES = fileURLToPath(new URL('../fixtures/events/', import.meta.url));

export type SampleName =
  | 'create-trail'
  | 'update-trail-remove-cloudwatch'
  | 'stop-logging'
  | 'own-update-trail';

export function sampleEvent(name: SampleName): Record<string, unknown> {
  return JSON.parse(readFileSync(`${FIXTURES}${name}.json`, 'utf8')) as Record<string, unknown>;
}

let counter = 0;

/**
 * An admin's call on a trail (named by name or ARN), from the UpdateTrail sample, with a fresh event id.
 * `detail` entries replace the sample's.
 */
export function adminEvent(
  eventName: string,
  trail: string,
  detail: Record<string, unknown> = {},
): Record<string, unknown> {
  const event = sampleEvent('update-trail-remove-cloudwatch') as { detail: Record<string, unknown> } & Record<
    string,
    unknown
  >;
  counter += 1;
  const id = `00000000-0000-4000-8000-${String(counter).padStart(12, '0')}`;
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
