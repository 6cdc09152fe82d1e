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
 * order. An entity that is not running has written everything it acknowledged (it completes only
 * when idle, and a signal arriving meanwhile keeps it open). Throws when the entity cannot answer in
 * time: the caller must then not decide, so an opt-out never loses to an unanswered question.
 */
export async function pendingConsentChanges(
  temporal: Pick<ConsentEntities, 'client' | 'workflowIdHashKey'>,
  venueId: number,
  phoneNumber: string,
): Promise<ConsentChangeSignal[]> {
  const workflowId = consentWorkflowId(venueId, phoneNumber, temporal.workflowIdHashKey);
  return temporal.client.connection.withDeadline(Date.now() + PENDING_QUERY_DEADLINE_MS, () =>
    pendingOf(temporal.client, workflowId),
  );
}

async function pendingOf(client: Client, workflowId: string): Promise<ConsentChangeSignal[]> {
  const handle = client.workflow.getHandle(workflowId);
  try {
    const { status } = await handle.describe();
    if (status.name !== 'RUNNING') return [];
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return [];
    throw err;
  }
  return handle.query<ConsentChangeSignal[]>(CONSENT_PENDING_QUERY);
}
