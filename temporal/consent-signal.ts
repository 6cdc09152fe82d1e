import { WorkflowNotFoundError, type Client, type WorkflowExecutionDescription } from '@temporalio/client';
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
 * signal arriving meanwhile keeps it open). A RUNNING one that is idle has too: see entityIsIdle.
 * One that closed otherwise (an operator terminated or cancelled it, it failed or timed out) may
 * still hold changes: its last state is queried (Temporal replays a closed run for a query), and
 * what it held is handed to a new run, which writes it.
 */
export async function pendingConsentChanges(
  temporal: ConsentEntities,
  venueId: number,
  phoneNumber: string,
): Promise<ConsentChangeSignal[]> {
  const workflowId = consentWorkflowId(venueId, phoneNumber, temporal.workflowIdHashKey);
  const handle = temporal.client.workflow.getHandle(workflowId);
  return temporal.client.connection.withDeadline(Date.now() + PENDING_QUERY_DEADLINE_MS, async () => {
    let description: WorkflowExecutionDescription;
    try {
      description = await handle.describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return [];
      throw err;
    }
    const status = description.status.name;
    if (status === 'COMPLETED') return [];
    if (status === 'RUNNING' && entityIsIdle(description)) return [];
    const pending = await handle.query<ConsentChangeSignal[]>(CONSENT_PENDING_QUERY);
    // Re-delivered, they are de-duplicated (message id) or land where they were (same instant).
    if (status !== 'RUNNING')
      for (const change of pending) await signalConsentChange(temporal, venueId, phoneNumber, change);
    return pending;
  });
}

/**
 * A running entity with no workflow task and no activity pending holds nothing unwritten, so its
 * pending list need not be queried (a query costs a billed action, and a replay of the entity on
 * the consent worker when it is not cached). The entity's code guarantees it: at the end of each of
 * its workflow tasks its queue is either empty (it waits for a signal) or its head is being written
 * by an activity (applyConsentChange or recordDuplicateConsentChange), so a change it holds means a
 * pending activity. And a change acknowledged but not yet seen by the entity code means a pending
 * workflow task: the server records a signal and schedules the task that delivers it in one update,
 * and while a task is started, signals wait for the task after it, which it schedules on completion.
 */
export function entityIsIdle(description: WorkflowExecutionDescription): boolean {
  const { raw } = description;
  return !raw.pendingWorkflowTask && (raw.pendingActivities ?? []).length === 0;
}
