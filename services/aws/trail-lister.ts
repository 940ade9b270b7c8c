/**
 * Lists the trails a region's CloudTrail endpoint knows: the trails whose home is that region, shadow copies
 * of multi-region trails homed elsewhere, and organization trails of the management account. DescribeTrails
 * is not paginated (it returns every trail in one answer), so one call per region is the whole list.
 */
import { DescribeTrailsCommand, type Trail as SdkTrail } from '@aws-sdk/client-cloudtrail';
import { AwsReadError, awsErrorName, isTransient, TransientAwsError } from '../domain/errors.js';
import type { TrailRef } from '../domain/events.js';
import type { Trail } from '../domain/trail-state.js';
import type { AwsClients } from './clients.js';
import { toTrail } from './trail-reader.js';

/** A trail as listed in one region: a reference the reader accepts, plus what DescribeTrails said about it. */
export interface ListedTrail extends TrailRef {
  /** The trail's ARN: unambiguous in every region, unlike its name. */
  id: string;
  /** The region whose endpoint listed it. */
  region: string;
  /** The region the trail lives in; differs from `region` for a shadow copy of a multi-region trail. */
  homeRegion: string;
  /** The trail's settings as DescribeTrails returned them. */
  trail: Trail;
}

/** Every trail the region lists, shadow copies included, sorted by ARN so output is stable. */
export async function listTrails(clients: AwsClients, region: string): Promise<ListedTrail[]> {
  let trails: SdkTrail[];
  try {
    const out = await clients
      .cloudTrail(region)
      .send(new DescribeTrailsCommand({ includeShadowTrails: true }));
    trails = out.trailList ?? [];
  } catch (error) {
    const message = `DescribeTrails in ${region} failed: ${(error as Error).message ?? awsErrorName(error)}`;
    if (isTransient(error)) throw new TransientAwsError(message, { cause: error });
    throw new AwsReadError(message, { cause: error });
  }
  return trails
    .filter((t) => !!t.TrailARN)
    .map((t) => {
      const trail = toTrail(t, region);
      return { id: trail.trailArn, region, homeRegion: trail.homeRegion, trail };
    })
    .sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * Finds one trail among those a region lists, by ARN or by name. A name can match both a trail homed in the
 * region and another account's organization trail: the one homed here and owned by `accountId` wins.
 */
export function findListed(
  listed: readonly ListedTrail[],
  id: string,
  accountId: string,
): ListedTrail | undefined {
  const byArn = listed.find((t) => t.id === id);
  if (byArn) return byArn;
  const byName = listed.filter((t) => t.trail.name === id);
  const owned = (t: ListedTrail) => t.homeRegion === t.region && t.id.split(':')[4] === accountId;
  return byName.find(owned) ?? byName[0];
}
