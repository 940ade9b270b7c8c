/**
 * When the guardrail first saw a trail's current CloudWatch Logs delivery error. GetTrailStatus reports the
 * latest error and the latest successful delivery, but not when the error happened: a delivery later than the
 * first sighting of the error proves the error stale (services/domain/delivery.ts). The sighting lives in the
 * state table (services/aws/state-store.ts), written by whichever of Check and the sweep sees the error first.
 */
import type { TrailState } from '../domain/trail-state.js';
import type { AwsClients } from './clients.js';
import { recordDeliveryErrorSighting } from './state-store.js';

/**
 * The state with `status.deliveryErrorFirstSeenAt` filled in when the trail reports a delivery error: the
 * stored sighting of that same error, or now (recorded). Without a state table, or without an error, the state
 * is returned as it is.
 */
export async function withDeliveryErrorSighting(
  clients: AwsClients,
  tableName: string | undefined,
  state: TrailState,
  now: Date,
): Promise<TrailState> {
  const error = state.status?.latestCloudWatchLogsDeliveryError;
  if (!tableName || !state.status || !error || !state.trail.trailArn) return state;
  const sighting = await recordDeliveryErrorSighting(clients, tableName, {
    trailArn: state.trail.trailArn,
    error,
    firstSeenAt: now.toISOString(),
  });
  return { ...state, status: { ...state.status, deliveryErrorFirstSeenAt: sighting.firstSeenAt } };
}
