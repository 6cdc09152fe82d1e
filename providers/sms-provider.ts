import type { ProviderName } from '../domain/enums';

export interface SendRequest {
  to: string;
  from: string;
  body: string;
  /** Where the provider posts delivery receipts; absent for the simulator. */
  statusCallbackUrl?: string;
  /** Aborted when the sending attempt is cancelled or timed out: stop waiting for the answer. */
  signal?: AbortSignal;
}

export interface AcceptedMessage {
  providerMessageId: string;
  status: string;
  acceptedAt: Date;
}

/** What identifies "this order's message" at a provider that has no idempotency key. */
export interface AcceptedMessageQuery {
  to: string;
  from: string;
  body: string;
  sentAfter: Date;
}

export interface PurchasedNumber {
  phoneNumber: string;
  providerId: string;
  friendlyName: string;
}

/**
 * One interface for Twilio, Plivo and the simulator. Every method throws SmsProviderError
 * (domain/errors) so callers never see a provider's own error shapes.
 */
export interface SmsProvider {
  readonly name: ProviderName;
  send(request: SendRequest): Promise<AcceptedMessage>;
  /** Reconciliation after an ambiguous failure: a message the provider already accepted, if any. */
  findAcceptedMessage(query: AcceptedMessageQuery): Promise<AcceptedMessage | null>;
  /** Buys a local number for a venue; `friendlyName` names the venue so a lost purchase can be found again. */
  buyNumber(request: {
    friendlyName: string;
    country: string;
    smsWebhookUrl?: string;
  }): Promise<PurchasedNumber>;
  /** A number we already own under this name: after a crash mid-purchase it is adopted, not bought twice. */
  findOwnedNumber(friendlyName: string): Promise<PurchasedNumber | null>;
  /** Idempotent: a number already released counts as released, so a retried release never fails. */
  releaseNumber(providerId: string): Promise<void>;
}

export function venueFriendlyName(venueId: number): string {
  return `venue-${venueId}`;
}
