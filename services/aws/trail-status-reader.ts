/** One trail's status, GetTrailStatus (CloudTrail only): the delivery check reads nothing else. */
import { GetTrailStatusCommand, type GetTrailStatusCommandOutput } from '@aws-sdk/client-cloudtrail';
import type { Trail, TrailStatus } from '../domain/trail-state.js';
import type { AwsClients } from './clients.js';
import { read } from './read.js';

/** GetTrailStatus's answer as the assessment reads it (times as ISO 8601). */
export function statusOf(out: GetTrailStatusCommandOutput): TrailStatus {
  return {
    isLogging: out.IsLogging ?? false,
    ...(out.LatestCloudWatchLogsDeliveryError
      ? { latestCloudWatchLogsDeliveryError: out.LatestCloudWatchLogsDeliveryError }
      : {}),
    ...(out.LatestCloudWatchLogsDeliveryTime
      ? { latestCloudWatchLogsDeliveryTime: out.LatestCloudWatchLogsDeliveryTime.toISOString() }
      : {}),
    ...(out.StartLoggingTime ? { startLoggingTime: out.StartLoggingTime.toISOString() } : {}),
  };
}

/** One trail's status (GetTrailStatus), asked in the trail's home region: the delivery check reads only this. */
export async function readTrailStatus(clients: AwsClients, trail: Trail): Promise<TrailStatus> {
  const out = await read(`GetTrailStatus ${trail.name}`, () =>
    clients.cloudTrail(trail.homeRegion).send(new GetTrailStatusCommand({ Name: trail.trailArn })),
  );
  return statusOf(out);
}
