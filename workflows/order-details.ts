import { setCurrentDetails } from '@temporalio/workflow';
import type { OrderStatus } from '../temporal/contracts';

/**
 * The order's current details in the Web UI (beside the static summary and details its start set:
 * order, venue, masked phone): step, outcome, provider, error code. Only codes and names, never the
 * phone or the message. Held in workflow memory and read by the UI through the built-in metadata
 * query, so calling it adds no command to history: no patch needed, replay unaffected.
 */
export function showOrderDetails(status: OrderStatus): void {
  const rows = [`**Step:** ${status.step}`];
  if (status.outcome) rows.push(`**Outcome:** ${status.outcome}`);
  if (status.provider) rows.push(`**Provider:** ${status.provider}`);
  if (status.errorCode) rows.push(`**Error code:** ${status.errorCode}`);
  if (status.providerMessageId) rows.push(`**Provider message id:** ${status.providerMessageId}`);
  setCurrentDetails(rows.join('\n\n'));
}
