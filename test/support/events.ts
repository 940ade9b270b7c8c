/**
 * CloudTrail events in EventBridge's shape for tests: the samples, and admin calls with fresh event ids, in the
 * account and region the tests act in (the samples were recorded in 123456789012 / us-east-1; every account id
 * and region in them is rewritten, so an event from the second account looks exactly like one recorded there).
 */
import {
  adminEvent as adminEventWithId,
  sampleEvent as recordedSample,
  type SampleName,
} from '../../services/local/sample-events.js';
import { ACCOUNT, DEFAULT_ACCOUNT, REGION } from './aws.js';

export type { SampleName };

const RECORDED_REGION = 'us-east-1';

/** The event as if recorded in ACCOUNT and REGION. */
export function inTestAccount<T>(event: T): T {
  if (ACCOUNT === DEFAULT_ACCOUNT && REGION === RECORDED_REGION) return event;
  return JSON.parse(
    JSON.stringify(event).replaceAll(DEFAULT_ACCOUNT, ACCOUNT).replaceAll(RECORDED_REGION, REGION),
  ) as T;
}

export function sampleEvent(name: SampleName): Record<string, unknown> {
  return inTestAccount(recordedSample(name));
}

let counter = 0;

/** An admin's call on a trail (named by name or ARN) with a fresh event id. `detail` entries replace the sample's. */
export function adminEvent(
  eventName: string,
  trail: string,
  detail: Record<string, unknown> = {},
): Record<string, unknown> {
  counter += 1;
  return inTestAccount(
    adminEventWithId(
      eventName,
      trail,
      `00000000-0000-4000-8000-${String(counter).padStart(12, '0')}`,
      detail,
    ),
  );
}
