import { createHash } from 'node:crypto';
import type { ProviderName } from '../domain/enums';
import type { ActivePause, FlagEvaluation } from './control';

/**
 * The flag's rules, pure (docs/adr/0014-rollout-control.md). A venue's bucket is fixed by the flag
 * key and its id alone, and a venue is in the rollout when its bucket is below percent × 100: so
 * raising 10 % to 50 % keeps every venue the 10 % had, and lowering it drops the newest first.
 */

export const BUCKETS = 10_000;

/** What an evaluation reads: the flag's definition and its per-venue overrides. */
export interface FlagState {
  enabled: boolean;
  rolloutPercent: number;
  /** Venue id → forced on (true) or off (false). */
  overrides: ReadonlyMap<number, boolean>;
}

/** 0..9999: the first 4 bytes of SHA-256("<flag key>:<venue id>"), big-endian, mod 10,000. */
export function venueBucket(flagKey: string, venueId: number): number {
  const digest = createHash('sha256').update(`${flagKey}:${venueId}`).digest();
  return digest.readUInt32BE(0) % BUCKETS;
}

/** Whether the venue's bucket falls inside `percent` (0..100) of them. */
export function inRollout(flagKey: string, venueId: number, percent: number): boolean {
  return venueBucket(flagKey, venueId) < Math.round(percent * (BUCKETS / 100));
}

/** Global off, then a venue override, then the bucket. */
export function evaluateFlag(flagKey: string, state: FlagState, venueId: number): FlagEvaluation {
  if (!state.enabled) return { enabled: false, reason: 'global_off' };
  const override = state.overrides.get(venueId);
  if (override === true) return { enabled: true, reason: 'venue_override_on' };
  if (override === false) return { enabled: false, reason: 'venue_override_off' };
  return inRollout(flagKey, venueId, state.rolloutPercent)
    ? { enabled: true, reason: 'in_rollout' }
    : { enabled: false, reason: 'outside_rollout' };
}

/** The pause holding this send, if any: a global pause first, then the provider's, then the venue's. */
export function pauseFor(
  pauses: readonly ActivePause[],
  target: { venueId: number; provider: ProviderName },
): ActivePause | undefined {
  return (
    pauses.find((p) => p.target.scope === 'global') ??
    pauses.find((p) => p.target.scope === 'provider' && p.target.provider === target.provider) ??
    pauses.find((p) => p.target.scope === 'venue' && p.target.venueId === target.venueId)
  );
}
