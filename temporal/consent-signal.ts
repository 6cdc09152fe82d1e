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

/** What reaching a consent entity takes: the client, the order queue it derives from, the id key. */
export interface ConsentEntities {
  client: Client;
  /** The order task queue; consent entities run on its consent queue (consentTaskQueue). */
  taskQueue: string;
  /** WORKFLOW_ID_HASH_KEY: the entity ids are keyed hashes of (venue, phone). */
  workflowIdHashKey: string;
}

/**
 * Delivers a consent change to its (venue, phone) entity, starting it if idle. Resolves once the
 * signal is durable in Temporal: that is when the API may answer 202, and from then on every send
 * decision sees it (pendingConsentChanges), written to SQL yet or not.
 */
export async function signalConsentChange(
  temporal: ConsentEntities,
  venueId: number,
  phoneNumber: string,
  change: ConsentChangeSignal,
): Promise<{ workflowId: string }> {
  const workflowId = consentWorkflowId(venueId, phoneNumber, temporal.workflowIdHashKey);
  const input: ConsentEntityInput = { venueId, phoneNumber };
  await temporal.client.workflow.signalWithStart(CONSENT_WORKFLOW_TYPE, {
    workflowId,
    taskQueue: consentTaskQueue(temporal.taskQueue),
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
 * order. Throws when the entity cannot answer in time: the caller must then not decide, so an
 * opt-out never loses to an unanswered question.
 *
 * Only a COMPLETED entity has written everything it acknowledged (it completes only when idle, and a
 * signal arriving meanwhile keeps it open). One that closed otherwise (an operator terminated or
 * cancelled it, it failed or timed out) may still hold changes: its last state is queried (Temporal
 * replays a closed run for a query), and what it held is handed to a new run, which writes it.
 */
export async function pendingConsentChanges(
  temporal: ConsentEntities,
  venueId: number,
  phoneNumber: string,
): Promise<ConsentChangeSignal[]> {
  const workflowId = consentWorkflowId(venueId, phoneNumber, temporal.workflowIdHashKey);
  const handle = temporal.client.workflow.getHandle(workflowId);
  return temporal.client.connection.withDeadline(Date.now() + PENDING_QUERY_DEADLINE_MS, async () => {
    let status: string;
    try {
      status = (await handle.describe()).status.name;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return [];
      throw err;
    }
    if (status === 'COMPLETED') return [];
    const pending = await handle.query<ConsentChangeSignal[]>(CONSENT_PENDING_QUERY);
    // Re-delivered, they are de-duplicated (message id) or land where they were (same instant).
    if (status !== 'RUNNING')
      for (const change of pending) await signalConsentChange(temporal, venueId, phoneNumber, change);
    return pending;
  });
}
