import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import {
  CONSENT_CHANGE_SIGNAL,
  CONSENT_PENDING_QUERY,
  CONSENT_WORKFLOW_TYPE,
  consentTaskQueue,
  type ConsentChangeSignal,
  type ConsentEntityInput,
} from './contracts';
import { consentWorkflowId } from './ids';

/**
 * Delivers a consent change to its (venue, phone) entity, starting it if idle. Resolves once the
 * signal is durable in Temporal: that is when the API may answer 202, and from then on every send
 * decision sees it (pendingConsentChanges), written to SQL yet or not.
 */
export async function signalConsentChange(
  client: Client,
  orderTaskQueue: string,
  venueId: number,
  phoneNumber: string,
  change: ConsentChangeSignal,
): Promise<{ workflowId: string }> {
  const workflowId = consentWorkflowId(venueId, phoneNumber);
  const input: ConsentEntityInput = { venueId, phoneNumber };
  await client.workflow.signalWithStart(CONSENT_WORKFLOW_TYPE, {
    workflowId,
    taskQueue: consentTaskQueue(orderTaskQueue),
    args: [input],
    signal: CONSENT_CHANGE_SIGNAL,
    // Stamped here, the one path every writer takes: the audit trail's ReceivedAt.
    signalArgs: [{ ...change, receivedAt: change.receivedAt ?? new Date().toISOString() }],
  });
  return { workflowId };
}

/** How long a send decision waits for the entity's answer before giving up (and not sending). */
const PENDING_QUERY_DEADLINE_MS = 5_000;

/**
 * The changes the (venue, phone) entity has acknowledged and not yet written to SQL, in arrival
 * order. An entity that is not running has written everything it acknowledged (it completes only
 * when idle, and a signal arriving meanwhile keeps it open). Throws when the entity cannot answer in
 * time: the caller must then not decide, so an opt-out never loses to an unanswered question.
 */
export async function pendingConsentChanges(
  client: Client,
  venueId: number,
  phoneNumber: string,
): Promise<ConsentChangeSignal[]> {
  const handle = client.workflow.getHandle(consentWorkflowId(venueId, phoneNumber));
  return client.connection.withDeadline(Date.now() + PENDING_QUERY_DEADLINE_MS, async () => {
    try {
      const { status } = await handle.describe();
      if (status.name !== 'RUNNING') return [];
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return [];
      throw err;
    }
    return handle.query<ConsentChangeSignal[]>(CONSENT_PENDING_QUERY);
  });
}
