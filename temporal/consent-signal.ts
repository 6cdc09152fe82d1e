import type { Client } from '@temporalio/client';
import {
  CONSENT_CHANGE_SIGNAL,
  CONSENT_WORKFLOW_TYPE,
  type ConsentChangeSignal,
  type ConsentEntityInput,
} from './contracts';
import { consentWorkflowId } from './ids';

/**
 * Delivers a consent change to its (venue, phone) entity, starting it if idle. Resolves once the
 * signal is durable in Temporal: that is when the API may answer 202.
 */
export async function signalConsentChange(
  client: Client,
  taskQueue: string,
  venueId: number,
  phoneNumber: string,
  change: ConsentChangeSignal,
): Promise<{ workflowId: string }> {
  const workflowId = consentWorkflowId(venueId, phoneNumber);
  const input: ConsentEntityInput = { venueId, phoneNumber };
  await client.workflow.signalWithStart(CONSENT_WORKFLOW_TYPE, {
    workflowId,
    taskQueue,
    args: [input],
    signal: CONSENT_CHANGE_SIGNAL,
    // Stamped here, the one path every writer takes: the audit trail's ReceivedAt.
    signalArgs: [{ ...change, receivedAt: change.receivedAt ?? new Date().toISOString() }],
  });
  return { workflowId };
}
