import { proxyActivities } from '@temporalio/workflow';
import type { VenueNumberActivities } from '../activities';
import type { VenueNumberInput, VenueSender } from '../temporal/contracts';
import { VENUE_NUMBER_PURCHASE_ACTIVITY } from './activity-options';

const { acquireVenueNumber, releaseVenueNumber } = proxyActivities<VenueNumberActivities>(
  VENUE_NUMBER_PURCHASE_ACTIVITY,
);

/**
 * Single flight per (venue, provider): the workflow id is the lock, so concurrent first orders for a
 * venue wait for one purchase instead of racing to buy several numbers.
 */
export async function venueNumberProvisioning(input: VenueNumberInput): Promise<VenueSender> {
  return acquireVenueNumber(input);
}

/**
 * Releases the venue's number at a provider. It runs under the provisioning workflow's id, so a
 * release and a purchase for the same (venue, provider) never overlap.
 */
export async function venueNumberRelease(input: VenueNumberInput): Promise<{ released: boolean }> {
  return releaseVenueNumber(input);
}
