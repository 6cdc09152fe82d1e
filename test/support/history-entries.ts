import { randomUUID } from 'node:crypto';
import type { HistoryEntry } from '../../db/history-repository';
import type { ProviderName } from '../../domain/enums';
import { orderWorkflowId } from '../../temporal/ids';

/** The history row a fresh order's recordHistory writes once `provider` accepted `providerMessageId`. */
export function sentHistoryEntry(
  provider: ProviderName,
  providerMessageId: string,
  overrides: Partial<HistoryEntry> = {},
): HistoryEntry {
  const orderId = overrides.orderId ?? randomUUID();
  return {
    idempotencyKey: `${orderWorkflowId(orderId)}/${randomUUID()}`,
    orderId,
    orderNumber: null,
    venueId: 1,
    venuePhoneNumberId: null,
    customerId: randomUUID(),
    customerPhoneNumber: '+15550004201',
    message: 'Thanks for your order',
    provider,
    status: 'sent',
    providerMessageId,
    errorCode: null,
    errorMessage: null,
    correlationId: null,
    ...overrides,
  };
}
