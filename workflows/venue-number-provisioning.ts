import { proxyActivities } from '@temporalio/workflow';
import type { OrderActivities } from '../activities';
import type { VenueNumberInput, VenueSender } from '../temporal/contracts';

// A purchase is a slow provider call. The activity adopts a number bought by an attempt that died
// before storing it, so retrying never buys twice; a misconfigured provider will not heal by retrying.
const { acquireVenueNumber, releaseVenueNumber } = proxyActivities<OrderActivities>({
  startToCloseTimeout: '1 minute',
  // The activity heartbeats through the provider calls: a dead worker is noticed in seconds.
  heartbeatTimeout: '5 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '5 minutes',
    nonRetryableErrorTypes: ['Misconfiguration'],
  },
});

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
