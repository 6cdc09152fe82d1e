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
  /**
   * When this order's first send attempt was scheduled. A message accepted earlier is another
   * order's: adapters look back only by their provider's clock resolution and a small skew
   * allowance (RECONCILE_CLOCK_SKEW_MS), never further.
   */
  sentAfter: Date;
  /**
   * Of the candidate message ids, those another order already owns (its history names them): never
   * adopted, whatever they look like. Without text (Plivo) or with an identical text (Twilio), two
   * orders for one customer at one venue are otherwise told apart by time alone.
   */
  claimedElsewhere?: (providerMessageIds: string[]) => Promise<ReadonlySet<string>>;
  /** Aborted when the attempt is cancelled or timed out: the look-up stops and its requests are aborted. */
  signal?: AbortSignal;
}

/** Default allowance for the difference between Temporal's clock and the provider's. */
export const RECONCILE_CLOCK_SKEW_MS = 1_000;

export interface BuyNumberRequest {
  friendlyName: string;
  country: string;
  smsWebhookUrl?: string;
  /** Aborted when the attempt is cancelled or timed out: the purchase stops where it is. */
  signal?: AbortSignal;
  /**
   * Told the providerId of the number about to be bought, before the buy request goes out. An
   * adapter whose purchase is several calls (Plivo: buy, then name) calls it, so the caller can keep
   * the id where a retry finds it and pass it to findOwnedNumber as a candidate. One whose purchase
   * names the number in the same call (Twilio) need not.
   */
  onChosen?: (providerId: string) => void;
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
  buyNumber(request: BuyNumberRequest): Promise<PurchasedNumber>;
  /**
   * A number we already own under this name: after a crash mid-purchase it is adopted, not bought
   * twice. `candidates` are providerIds earlier attempts chose (BuyNumberRequest.onChosen): hints
   * an adapter may check first, adopted only if they turn out to be this name's.
   */
  findOwnedNumber(
    friendlyName: string,
    signal?: AbortSignal,
    candidates?: readonly string[],
  ): Promise<PurchasedNumber | null>;
  /** Idempotent: a number already released counts as released, so a retried release never fails. */
  releaseNumber(providerId: string, signal?: AbortSignal): Promise<void>;
}

export function venueFriendlyName(venueId: number): string {
  return `venue-${venueId}`;
}
