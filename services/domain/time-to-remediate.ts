/**
 * Time to remediate: how long a trail stayed broken as far as the guardrail can tell, from the moment the
 * break is known to have happened to Verify's confirmation that the trail is compliant again. Pure.
 *
 * - A run started by an event (a CloudTrail API call, a dependency fan-out carrying the event, a Security Hub
 *   finding) counts from the event's own time: CloudTrail's `eventTime` (the API call), or the finding's
 *   `UpdatedAt`. This includes EventBridge's delivery delay, which is part of what a team waits for.
 * - A run the guardrail started itself (the sweep, `trailguard remediate`) does not know when the trail broke:
 *   it counts from the request, i.e. the execution's start time (`from: 'run-start'`). The sweep's value is a
 *   lower bound; the real exposure began before the sweep found it.
 *
 * Only a remediated run whose Verify recorded `verifiedAt` has a time to remediate; every other outcome has
 * none (there was nothing fixed, or nothing verified).
 */
import * as z from '../../policies/zod.js';
import type { RunContext } from './run-context.js';

export const TimeToRemediateSchema = z.object({
  /** Whole seconds from `since` to Verify's confirmation (never negative). */
  seconds: z.int().check(z.nonnegative()),
  /** `event`: from the triggering event's time; `run-start`: from the execution's start (sweep, manual). */
  from: z.enum(['event', 'run-start']),
  /** The moment counted from (ISO 8601). */
  since: z.string(),
  /** Verify's confirmation (ISO 8601). */
  verifiedAt: z.string(),
});
export type TimeToRemediate = z.infer<typeof TimeToRemediateSchema>;

function parseTime(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The run's time to remediate, or undefined when the run remediated nothing that Verify confirmed. */
export function timeToRemediate(ctx: RunContext): TimeToRemediate | undefined {
  if (ctx.outcome !== 'remediated') return undefined;
  const verifiedAt = ctx.after?.verifiedAt;
  const verified = parseTime(verifiedAt);
  if (!verifiedAt || verified === undefined) return undefined;
  const eventTime =
    ctx.trigger.kind === 'event' || ctx.trigger.kind === 'finding' ? ctx.trigger.eventTime : undefined;
  const eventMs = parseTime(eventTime);
  const [from, since, sinceMs] =
    eventTime && eventMs !== undefined
      ? (['event', eventTime, eventMs] as const)
      : (['run-start', ctx.execution.startTime, parseTime(ctx.execution.startTime)] as const);
  if (sinceMs === undefined) return undefined;
  // Clocks of CloudTrail and of the function may differ by a little: never report a negative time.
  return { seconds: Math.max(0, Math.round((verified - sinceMs) / 1000)), from, since, verifiedAt };
}
