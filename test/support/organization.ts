/**
 * Helpers of the organization tests (test/integration/cross-account.test.ts, local-organization.test.ts):
 * the `trailguard` command run in process, and administrators' events as if recorded in a given account and
 * region. Seeding the accounts themselves is services/local/organization-seed.ts (the demo uses it too).
 */
import { main } from '../../services/cli/main.js';
import type { CliIo } from '../../services/cli/output.js';
import { adminEvent } from '../../services/local/sample-events.js';

/** What a `trailguard` command run in process ended with, and wrote. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the `trailguard` command in process, collecting what it writes. */
export async function cli(args: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: { write: (text: string) => out.push(text) },
    stderr: { write: (text: string) => err.push(text) },
  };
  const code = await main(args, io);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

/** Events made so far: each gets its own event id. */
let events = 0;

/**
 * An administrator's `eventName` call in `account` and `region`, naming `name` (the recorded sample with its
 * account and region rewritten, so it looks exactly like one recorded there); `detail` entries replace the
 * sample's, `source` replaces the event's source. Every event gets a new event id.
 */
export function eventIn(
  account: string,
  region: string,
  eventName: string,
  name: string,
  extra: { source?: string; detail?: Record<string, unknown> } = {},
): Record<string, unknown> {
  events += 1;
  const id = `c0a00000-0000-4000-8000-${String(events).padStart(12, '0')}`;
  const recorded = JSON.stringify(adminEvent(eventName, name, id, extra.detail ?? {}));
  const event = JSON.parse(
    recorded.replaceAll('123456789012', account).replaceAll('us-east-1', region),
  ) as Record<string, unknown>;
  return extra.source ? { ...event, source: extra.source } : event;
}
