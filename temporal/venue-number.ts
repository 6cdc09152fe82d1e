import type { Client } from '@temporalio/client';
import {
  VENUE_NUMBER_RELEASE_WORKFLOW_TYPE,
  VENUE_NUMBER_WORKFLOW_TYPE,
  type VenueNumberInput,
  type VenueSender,
} from './contracts';
import { venueNumberWorkflowId } from './ids';
import type { ProviderName } from '../domain/enums';

/**
 * The venue's number at `provider`, provisioned by the one workflow for that (venue, provider):
 * concurrent first orders all attach to the same run (USE_EXISTING) and wait for its one purchase.
 * A finished run may be followed by a new one (ALLOW_DUPLICATE), which finds the stored number.
 */
export async function provisionVenueNumber(
  client: Client,
  taskQueue: string,
  venueId: number,
  provider: ProviderName,
): Promise<VenueSender> {
  const input: VenueNumberInput = { venueId, provider };
  // A release runs under the same id; joining one yields its result, not a number: wait it out and
  // provision anew.
  for (let joined = 0; joined < 3; joined++) {
    const handle = await client.workflow.start(VENUE_NUMBER_WORKFLOW_TYPE, {
      workflowId: venueNumberWorkflowId(venueId, provider),
      taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      staticSummary: `Sender number for venue ${venueId} at ${provider}`,
    });
    const result: unknown = await handle.result();
    if (isVenueSender(result)) return result;
  }
  throw new Error(`venue ${venueId} at ${provider}: kept meeting a release of its number`);
}

function isVenueSender(value: unknown): value is VenueSender {
  return (
    typeof value === 'object' && value !== null && 'phoneNumber' in value && 'venuePhoneNumberId' in value
  );
}

/**
 * Releases the venue's number at `provider` (ops: npm run venue-number:release). Same workflow id as
 * provisioning, with conflict policy FAIL: it refuses to run while a purchase is in flight.
 */
export async function releaseVenueNumber(
  client: Client,
  taskQueue: string,
  venueId: number,
  provider: ProviderName,
): Promise<{ released: boolean }> {
  const input: VenueNumberInput = { venueId, provider };
  const handle = await client.workflow.start(VENUE_NUMBER_RELEASE_WORKFLOW_TYPE, {
    workflowId: venueNumberWorkflowId(venueId, provider),
    taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'FAIL',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    staticSummary: `Release the sender number of venue ${venueId} at ${provider}`,
  });
  return handle.result() as Promise<{ released: boolean }>;
}
