/**
 * Names and payload shapes shared by workflows and the code that starts or signals them. Pure
 * types and constants: workflows import this file, so it must stay free of I/O.
 */
import type { ConsentSource, ConsentStatus, ProviderName, SmsOutcome } from '../domain/enums';
import type { OrderConfirmationEvent } from '../domain/order-event';

export const ORDER_WORKFLOW_TYPE = 'orderConfirmationSms';
export const CONSENT_WORKFLOW_TYPE = 'consentEntity';
export const CONSENT_CHANGE_SIGNAL = 'consentChange';
/** The changes a consent entity has acknowledged but not yet written to SQL. */
export const CONSENT_PENDING_QUERY = 'pendingChanges';
export const ORDER_STATUS_QUERY = 'status';
export const VENUE_NUMBER_WORKFLOW_TYPE = 'venueNumberProvisioning';
export const VENUE_NUMBER_RELEASE_WORKFLOW_TYPE = 'venueNumberRelease';

/** An order waiting for its venue's number names itself to the provisioning workflow. */
export const VENUE_NUMBER_WAITER_SIGNAL = 'venueNumberWaiter';
/** ...which answers each waiter with this signal once the purchase is decided. */
export const VENUE_NUMBER_ANSWER_SIGNAL = 'venueNumberAnswer';

/** One provisioning workflow per (venue, provider) at a time: the single flight for a number purchase. */
export interface VenueNumberInput {
  venueId: number;
  provider: ProviderName;
}

/**
 * What a waiting order hears from the provisioning workflow: the number, a failure no retry can fix
 * (the order fails with its type), or "released" (a release held the id: ask again).
 */
export type VenueNumberAnswer = { venueId: number; provider: ProviderName } & (
  | { outcome: 'ready'; sender: VenueSender }
  | { outcome: 'failed'; type: string; message: string; code?: string }
  | { outcome: 'released' }
);

/** The venue's active sender number at one provider. */
export interface VenueSender {
  venuePhoneNumberId: number;
  phoneNumber: string;
  provider: ProviderName;
  /**
   * Set when failover is configured (SMS_FAILOVER_PROVIDER): after `afterMs` of the send failing,
   * the order goes out through `provider` instead. Carried in the activity result, so the workflow
   * reads configuration deterministically.
   */
  failover?: { provider: ProviderName; afterMs: number };
}

export interface OrderConfirmationInput {
  event: OrderConfirmationEvent;
  correlationId: string;
  messageId?: string;
}

export type OrderStep =
  | 'checking_consent'
  | 'ensuring_sender'
  | 'rendering'
  | 'sending'
  /** Held by a pause (rollout control): nothing sent, the order sends once the pause is lifted. */
  | 'paused'
  | 'recording_history'
  | 'completed'
  | 'failed';

export interface OrderStatus {
  step: OrderStep;
  outcome?: SmsOutcome;
  provider?: ProviderName;
  providerMessageId?: string;
  errorCode?: string;
}

/** A consent change as it travels through Temporal: dates are ISO strings so history stays readable. */
export interface ConsentChangeSignal {
  status: ConsentStatus;
  source: ConsentSource;
  occurredAt: string;
  /** The provider's inbound message id: the same webhook delivered twice carries the same one. */
  providerMessageId?: string;
  /** The provider whose webhook or error reported the change (recorded in the audit trail). */
  provider?: ProviderName;
  /** When the service acknowledged the change; signalConsentChange sets it when absent. */
  receivedAt?: string;
  correlationId?: string;
}

export interface ConsentEntityInput {
  venueId: number;
  phoneNumber: string;
  /** Carried across continue-as-new so duplicates stay recognised. */
  seenMessageIds?: string[];
  pending?: ConsentChangeSignal[];
}

/** Activity-side context every activity input carries, so every log line names the order. */
export interface OrderContext {
  orderId: string;
  correlationId: string;
}

/**
 * Consent entities run on their own queue, so a backlog of orders never delays an opt-out reaching
 * SQL (or answering the pending-changes query a send consults). Derived from the order queue.
 */
export function consentTaskQueue(orderTaskQueue: string): string {
  return `${orderTaskQueue}.consent`;
}

/** The send queue is derived from the order queue, so one configuration names both. */
export function sendTaskQueue(orderTaskQueue: string, provider: ProviderName): string {
  return `${orderTaskQueue}.send.${provider}`;
}
