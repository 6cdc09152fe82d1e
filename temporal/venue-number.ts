import type { Client } from '@temporalio/client';
import {
  VENUE_NUMBER_RELEASE_WORKFLOW_TYPE,
  VENUE_NUMBER_WAITER_SIGNAL,
  VENUE_NUMBER_WORKFLOW_TYPE,
  type VenueNumberInput,
} from './contracts';
import { venueNumberWorkflowId } from './ids';
import type { ProviderName } from '../domain/enums';

/**
 * Names `waiterWorkflowId` to the (venue, provider) provisioning workflow, starting one if none runs
 * (a finished run is followed by a new one, which finds the stored number at once). The workflow
 * signals the waiter its answer; this returns as soon as the request is durable.
 */
export async function requestVenueNumber(
  client: Client,
  taskQueue: string,
  venueId: number,
  provider: ProviderName,
  waiterWorkflowId: string,
): Promise<void> {
  const input: VenueNumberInput = { venueId, provider };
  await client.workflow.signalWithStart(VENUE_NUMBER_WORKFLOW_TYPE, {
    workflowId: venueNumberWorkflowId(venueId, provider),
    taskQueue,
    args: [input],
    signal: VENUE_NUMBER_WAITER_SIGNAL,
    signalArgs: [waiterWorkflowId],
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    staticSummary: `Sender number for venue ${venueId} at ${provider}`,
  });
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
