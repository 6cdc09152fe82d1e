import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import {
  CONSENT_CHANGE_SIGNAL,
  CONSENT_PENDING_QUERY,
  CONSENT_WORKFLOW_TYPE,
  consentTaskQueue,
  type ConsentChangeSignal,
  type ConsentEntityInput,
} from './contracts';
import { consentWorkflowId, legacyConsentWorkflowId } from './ids';

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
  // Always the hashed id: an entity still open under its old phone id finishes what it holds and
  // completes, while new changes start or reach the hashed one (pendingConsentChanges reads both).
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
 *
 * Both ids are read, in parallel: an entity started under the old phone id before the ids were
 * hashed may still hold an acknowledged STOP (its database write retrying), and it must keep
 * blocking sends until it has written it and completed. Its changes arrived before any under the
 * hashed id, so they come first. Once no entity runs under an old id (docs/adr/0010) that read
 * finds nothing and can be removed.
 */
export async function pendingConsentChanges(
  temporal: Pick<ConsentEntities, 'client' | 'workflowIdHashKey'>,
  venueId: number,
  phoneNumber: string,
): Promise<ConsentChangeSignal[]> {
  const { client } = temporal;
  const ids = [
    legacyConsentWorkflowId(venueId, phoneNumber),
    consentWorkflowId(venueId, phoneNumber, temporal.workflowIdHashKey),
  ];
  return client.connection.withDeadline(Date.now() + PENDING_QUERY_DEADLINE_MS, async () => {
    const lists = await Promise.all(ids.map((id) => pendingOf(client, id)));
    return lists.flat();
  });
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
