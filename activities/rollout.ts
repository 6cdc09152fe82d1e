import type { ProviderName } from '../domain/enums';
import type { FlagReason, PauseScope } from '../rollout/control';
import type { ActivityDeps } from './deps';

/**
 * How long a paused order waits before it looks again on its own. The resume signal wakes it sooner
 * (rollout/control.ts ROLLOUT_RESUMED_SIGNAL); this is the backstop should that signal never come
 * (a resume written straight to SQL, a wake-up cut short), kept long because every look is an
 * activity on the provider's rate-limited send queue.
 */
export const PAUSE_RECHECK_MS = 15 * 60_000;

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
  const at = eventTimestamp === undefined ? NaN : Date.parse(eventTimestamp);
  if (!Number.isFinite(at)) return PAUSE_RECHECK_MS;
  return Math.min(PAUSE_RECHECK_MS, Math.max(1_000, at + maxEventAgeMs - now + 1_000));
}
