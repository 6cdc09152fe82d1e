import type { Client } from '@temporalio/client';
import {
  VENUE_NUMBER_RELEASE_WORKFLOW_TYPE,
  VENUE_NUMBER_WAITER_SIGNAL,
  VENUE_NUMBER_WORKFLOW_TYPE,
  type VenueNumberInput,
  type VenueSender,
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
