import { MESSAGE_MAX } from './limits';

/**
 * The values of the enum tables (seed 001 plus the sources DESIGN.md adds). The migrations carry
 * their own copy of the seed rows on purpose: a migration must never change after it has run.
 */
export const PROVIDER_NAMES = ['twilio', 'plivo', 'simulator'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

export const VENUE_NUMBER_STATUSES = ['active', 'inactive', 'released'] as const;
export type VenueNumberStatus = (typeof VENUE_NUMBER_STATUSES)[number];

export const CONSENT_STATUSES = ['opted_in', 'opted_out'] as const;
export type ConsentStatus = (typeof CONSENT_STATUSES)[number];

export const CONSENT_SOURCES = [
  'checkout',
  'account_settings',
  'support_request',
  'provider_webhook',
  'provider_error',
  'internal_api',
] as const;
export type ConsentSource = (typeof CONSENT_SOURCES)[number];

/**
 * What the consent entity did with one change (SmsConsentChanges.OutcomeID). `rejected` is for a
 * change refused before it could be applied (nothing writes it yet; the value exists so that an
 * audit of refused webhooks needs no migration).
 */
export const CONSENT_CHANGE_OUTCOMES = ['applied', 'duplicate', 'stale', 'rejected'] as const;
export type ConsentChangeOutcome = (typeof CONSENT_CHANGE_OUTCOMES)[number];

/**
 * `duplicate`: the order had been texted by an earlier run (a re-driven event, a reset): nothing
 * sent. `expired`: the event was older than MAX_EVENT_AGE_HOURS when it could be sent: nothing sent.
 * `skipped_disabled`: the order-confirmation-sms flag was off for the venue (rollout/control.ts).
 */
export const HISTORY_STATUSES = [
  'sent',
  'failed',
  'skipped_no_consent',
  'blocked_opted_out',
  'duplicate',
  'expired',
  'skipped_disabled',
] as const;
export type HistoryStatus = (typeof HISTORY_STATUSES)[number];

/** The order workflow's outcome is exactly the history status it wrote. */
export type SmsOutcome = HistoryStatus;

/** Width of SmsSendHistory.Message: a rendered message longer than this is refused, never truncated. */
export const MESSAGE_MAX_LENGTH = MESSAGE_MAX;
