/**
 * Delivery status of a sent SMS as the provider's callbacks report it, provider-neutral. A message
 * moves queued → sent → one terminal state; callbacks arrive late, twice or out of order, so a
 * status is written only over a lower-ranked one (see db/history-repository updateDeliveryStatus).
 */
export const DELIVERY_STATUSES = ['queued', 'sent', 'delivered', 'undelivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/**
 * Terminal states share the top rank: the first one reported stays (a carrier does not report
 * "delivered" after "undelivered" for one message; if a provider ever did, we keep the first).
 */
export const DELIVERY_STATUS_RANK: Record<DeliveryStatus, number> = {
  queued: 1,
  sent: 2,
  delivered: 3,
  undelivered: 3,
  failed: 3,
};

/** Whether the provider's error code means anything for this status (only failures carry one). */
export function isDeliveryFailure(status: DeliveryStatus): boolean {
  return status === 'undelivered' || status === 'failed';
}
