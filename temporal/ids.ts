import { createHmac } from 'node:crypto';

/** Workflow ids are derived from business keys only, so a redelivered event finds its workflow. */
export function orderWorkflowId(orderId: string): string {
  return `order-sms-${orderId.toLowerCase()}`;
}

/** Hex digits of the HMAC kept in a consent id: 128 bits, collision-free in practice. */
const CONSENT_HASH_HEX_DIGITS = 32;

/**
 * The consent entity of (venue, phone): `consent-<venueId>-<HMAC-SHA256(key, "<venueId>:<e164>")>`,
 * truncated. Stable for as long as WORKFLOW_ID_HASH_KEY is, so every writer finds the one entity,
 * and keyed, so the id in lists, logs and the UI says nothing about the phone: without the key the
 * number cannot be recovered by hashing every possible number. Changing the key splits each entity
 * in two (docs/adr/0010-payload-codec-and-ids.md).
 */
export function consentWorkflowId(venueId: number, e164Phone: string, hashKey: string): string {
  const digest = createHmac('sha256', hashKey).update(`${venueId}:${e164Phone}`).digest('hex');
  return `consent-${venueId}-${digest.slice(0, CONSENT_HASH_HEX_DIGITS)}`;
}

export function venueNumberWorkflowId(venueId: number, provider: string): string {
  return `venue-number-${venueId}-${provider}`;
}
