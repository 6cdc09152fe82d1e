import type { ProviderName } from '../domain/enums';

/**
 * Rollout control (issue 21): whether a venue's orders are confirmed by SMS at all (the flag), and
 * whether sends are held for now (a pause). The workers' send step and the API's flag endpoint read
 * it through this interface; where the state lives and how it is cached is the implementation's.
 */

/** The one flag this service defines: SMS order confirmations, per venue. */
export const ORDER_CONFIRMATION_SMS_FLAG = 'order-confirmation-sms';

/** Why a venue is on or off, in precedence order: the global switch, a venue override, the rollout bucket. */
export type FlagReason =
  'global_off' | 'venue_override_on' | 'venue_override_off' | 'in_rollout' | 'outside_rollout';

export interface FlagEvaluation {
  enabled: boolean;
  reason: FlagReason;
}

export type PauseScope =
  { scope: 'global' } | { scope: 'provider'; provider: ProviderName } | { scope: 'venue'; venueId: number };

export interface ActivePause {
  target: PauseScope;
  reason: string;
  pausedBy: string;
  pausedAt: Date;
}

export interface RolloutControl {
  /** Whether this venue's orders are confirmed by SMS now (at most the cache's age behind SQL). */
  evaluate(venueId: number): Promise<FlagEvaluation>;
  /** The pause holding sends to this venue through this provider, if any (global first, then provider, then venue). */
  pauseFor(target: { venueId: number; provider: ProviderName }): Promise<ActivePause | undefined>;
}

/**
 * Signalled (no arguments) to each paused order workflow when a pause over it is lifted: the order
 * looks again at once instead of at its next periodic re-check. Orders wait with SmsOutcome=paused.
 */
export const ROLLOUT_RESUMED_SIGNAL = 'rolloutResumed';
/** The search attribute value of an order waiting out a pause. */
export const PAUSED_OUTCOME = 'paused';
/** SmsOutcome of an order on its way, from its start (and again once a pause over it is lifted). */
export const PENDING_OUTCOME = 'pending';
