import { ORDER_CONFIRMATION_SMS_FLAG as FLAG, type ActivePause } from '../../../rollout/control';
import { BUCKETS, evaluateFlag, inRollout, pauseFor, venueBucket } from '../../../rollout/evaluate';

const VENUES = Array.from({ length: 10_000 }, (_, i) => i + 1);
const state = (enabled: boolean, rolloutPercent: number, overrides: Array<[number, boolean]> = []) => ({
  enabled,
  rolloutPercent,
  overrides: new Map(overrides),
});
const enabledVenues = (percent: number) =>
  new Set(VENUES.filter((v) => evaluateFlag(FLAG, state(true, percent), v).enabled));

describe('rollout buckets', () => {
  test('a venue always lands in the same bucket, one of 10,000, and the flag key is part of it', () => {
    expect(venueBucket(FLAG, 42)).toBe(venueBucket(FLAG, 42));
    // Pinned (computed with Python's hashlib): a change to the hash would move venues in or out of a
    // running rollout, and the monolith's docs describe this exact function.
    expect(VENUES.slice(0, 5).map((v) => venueBucket(FLAG, v))).toEqual([1620, 2031, 4448, 9227, 4663]);
    for (const v of VENUES.slice(0, 500)) {
      expect(venueBucket(FLAG, v)).toBeGreaterThanOrEqual(0);
      expect(venueBucket(FLAG, v)).toBeLessThan(BUCKETS);
    }
    const moved = VENUES.slice(0, 1000).filter(
      (v) => venueBucket('another-flag', v) !== venueBucket(FLAG, v),
    );
    expect(moved.length).toBeGreaterThan(990);
  });

  test.each([1, 10, 25, 50, 90])(
    '%i %% enables about that share of 10,000 venues (±1.5 points)',
    (percent) => {
      const share = (enabledVenues(percent).size / VENUES.length) * 100;
      expect(Math.abs(share - percent)).toBeLessThanOrEqual(1.5);
    },
  );

  test('0 % enables none and 100 % every venue', () => {
    expect(enabledVenues(0).size).toBe(0);
    expect(enabledVenues(100).size).toBe(VENUES.length);
    expect(evaluateFlag(FLAG, state(true, 100), 7)).toEqual({ enabled: true, reason: 'in_rollout' });
    expect(evaluateFlag(FLAG, state(true, 0), 7)).toEqual({ enabled: false, reason: 'outside_rollout' });
  });

  test('raising 10 → 50 → 100 keeps every venue already in, and lowering drops only the later ones', () => {
    const ten = enabledVenues(10);
    const fifty = enabledVenues(50);
    const hundred = enabledVenues(100);
    for (const v of ten) expect(fifty.has(v)).toBe(true);
    for (const v of fifty) expect(hundred.has(v)).toBe(true);
    expect(fifty.size).toBeGreaterThan(ten.size);
    // Back to 10 %: exactly the venues the 10 % had.
    expect(enabledVenues(10)).toEqual(ten);
    expect(VENUES.filter((v) => inRollout(FLAG, v, 10))).toEqual([...ten]);
  });
});

describe('precedence', () => {
  // 10 % of 10,000 venues is not empty, nor is 90 %.
  const inside = VENUES.find((v) => inRollout(FLAG, v, 10))!;
  const outside = VENUES.find((v) => !inRollout(FLAG, v, 10))!;

  test('the global switch off wins over an override on and over the bucket', () => {
    const off = state(false, 100, [[inside, true]]);
    expect(evaluateFlag(FLAG, off, inside)).toEqual({ enabled: false, reason: 'global_off' });
    expect(evaluateFlag(FLAG, off, outside)).toEqual({ enabled: false, reason: 'global_off' });
  });

  test('a venue override wins over the bucket, both ways', () => {
    const s = state(true, 10, [
      [outside, true],
      [inside, false],
    ]);
    expect(evaluateFlag(FLAG, s, outside)).toEqual({ enabled: true, reason: 'venue_override_on' });
    expect(evaluateFlag(FLAG, s, inside)).toEqual({ enabled: false, reason: 'venue_override_off' });
  });

  test('without an override the bucket decides', () => {
    const s = state(true, 10);
    expect(evaluateFlag(FLAG, s, inside)).toEqual({ enabled: true, reason: 'in_rollout' });
    expect(evaluateFlag(FLAG, s, outside)).toEqual({ enabled: false, reason: 'outside_rollout' });
  });
});

describe('pauseFor', () => {
  const at = new Date('2026-12-03T10:00:00Z');
  const pause = (target: ActivePause['target'], reason: string): ActivePause => ({
    target,
    reason,
    pausedBy: 'ops',
    pausedAt: at,
  });
  const venue = pause({ scope: 'venue', venueId: 7 }, 'venue');
  const provider = pause({ scope: 'provider', provider: 'twilio' }, 'provider');
  const global = pause({ scope: 'global' }, 'global');

  test('global first, then the provider, then the venue, whatever the order of the rows', () => {
    expect(pauseFor([venue, provider, global], { venueId: 7, provider: 'twilio' })).toBe(global);
    expect(pauseFor([venue, provider], { venueId: 7, provider: 'twilio' })).toBe(provider);
    expect(pauseFor([venue], { venueId: 7, provider: 'twilio' })).toBe(venue);
  });

  test('a pause of another provider or venue does not hold this send', () => {
    expect(pauseFor([venue, provider], { venueId: 8, provider: 'plivo' })).toBeUndefined();
    expect(pauseFor([], { venueId: 7, provider: 'twilio' })).toBeUndefined();
  });
});
