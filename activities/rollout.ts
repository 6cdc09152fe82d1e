import type { ProviderName } from '../domain/enums';
import { eventExpiresAt, isEventExpired } from '../domain/order-event';
import type { FlagReason, PauseScope } from '../rollout/control';
import type { OrderContext } from '../temporal/contracts';
import type { ActivityDeps } from './deps';

/**
 * The longest a paused order waits before it looks again on its own (workflows/order-confirmation.ts
 * starts at seconds and doubles). The resume signal wakes it sooner (ROLLOUT_RESUMED_SIGNAL); the
 * looks are for a signal that never comes: a resume written straight to SQL, a wake-up cut short, or
 * an order that turned paused just after the wake-up listed the paused ones.
 */
export const PAUSE_RECHECK_MS = 15 * 60_000;

export interface CheckRolloutInput extends OrderContext {
  venueId: number;
  provider: ProviderName;
  eventTimestamp?: string;
}

/** Whether an order may go out now, read from rollout control (cached: at most its age behind SQL). */
export type RolloutGate =
  | { kind: 'open' }
  | { kind: 'disabled'; reason: FlagReason }
  | { kind: 'paused'; target: PauseScope; reason: string };

/** The venue's flag first (an order for a venue switched off ends), then a pause over venue or provider. */
export async function rolloutGate(
  deps: ActivityDeps,
  venueId: number,
  provider: ProviderName,
): Promise<RolloutGate> {
  const flag = await deps.rollout.evaluate(venueId);
  if (!flag.enabled) return { kind: 'disabled', reason: flag.reason };
  const pause = await deps.rollout.pauseFor({ venueId, provider });
  return pause ? { kind: 'paused', target: pause.target, reason: pause.reason } : { kind: 'open' };
}

/**
 * When a paused order looks again: at the backstop, or just after its event ages past
 * MAX_EVENT_AGE_HOURS, so that an order paused too long ends `expired` on time.
 */
export function pauseRecheckMs(
  eventTimestamp: string | undefined,
  maxEventAgeMs: number,
  now: number,
): number {
  const expiresAt = eventExpiresAt(eventTimestamp, maxEventAgeMs);
  if (expiresAt === undefined) return PAUSE_RECHECK_MS;
  return Math.min(PAUSE_RECHECK_MS, Math.max(1_000, expiresAt - now + 1_000));
}

/**
 * A paused order's wait before its next look, or undefined once its event has aged out: then the
 * send step ends it `expired` instead of holding it.
 */
export function pausedWaitMs(
  eventTimestamp: string | undefined,
  maxEventAgeMs: number,
  now: number,
): number | undefined {
  if (isEventExpired(eventTimestamp, maxEventAgeMs, now)) return undefined;
  return pauseRecheckMs(eventTimestamp, maxEventAgeMs, now);
}

export function createRolloutActivities(deps: ActivityDeps) {
  return {
    /**
     * A paused order's look between sends, on the order queue (the send queue's rate is for sends):
     * still paused, and for how long at most before its next look; anything else hands the order
     * back to its send step, which decides (sends, or ends it skipped_disabled or expired).
     */
    async checkRollout(
      input: CheckRolloutInput,
    ): Promise<{ kind: 'paused'; recheckAfterMs: number } | { kind: 'go' }> {
      const gate = await rolloutGate(deps, input.venueId, input.provider);
      const recheckAfterMs =
        gate.kind === 'paused'
          ? pausedWaitMs(input.eventTimestamp, deps.config.sms.maxEventAgeMs, Date.now())
          : undefined;
      return recheckAfterMs === undefined ? { kind: 'go' } : { kind: 'paused', recheckAfterMs };
    },
  };
}
