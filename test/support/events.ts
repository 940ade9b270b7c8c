/** CloudTrail events in EventBridge's shape for tests: the samples, and admin calls with fresh event ids. */
import { adminEvent as adminEventWithId } from '../../services/local/sample-events.js';

export { type SampleName, sampleEvent } from '../../services/local/sample-events.js';

let counter = 0;

/** An admin's call on a trail (named by name or ARN) with a fresh event id. `detail` entries replace the sample's. */
export function adminEvent(
  eventName: string,
  trail: string,
  detail: Record<string, unknown> = {},
): Record<string, unknown> {
  counter += 1;
  return adminEventWithId(
    eventName,
    trail,
    `00000000-0000-4000-8000-${String(counter).padStart(12, '0')}`,
    detail,
  );
}
