import {
  acknowledgedOccurredAt,
  foldPendingConsent,
  occurredAtProblem,
  type StoredConsent,
} from '../../../domain/consent';

const NOW = new Date('2026-11-28T12:00:00.000Z');
const at = (secondsFromNow: number) => new Date(NOW.getTime() + secondsFromNow * 1000);
const stored = (status: StoredConsent['status'], lastChangeSecondsAgo: number): StoredConsent => ({
  status,
  source: 'checkout',
  lastChangeAt: at(-lastChangeSecondsAgo),
  updatedAt: at(-lastChangeSecondsAgo),
});
const change = (status: StoredConsent['status'], secondsFromNow: number) => ({
  status,
  source: 'provider_webhook' as const,
  occurredAt: at(secondsFromNow).toISOString(),
});

describe('foldPendingConsent', () => {
  test.each([
    ['nothing known', null, [], null],
    ['the row alone', stored('opted_in', 60), [], 'opted_in'],
    ['a pending STOP over an opt-in', stored('opted_in', 60), [change('opted_out', -1)], 'opted_out'],
    ['a pending STOP for a customer SQL does not know yet', null, [change('opted_out', -1)], 'opted_out'],
    [
      'STOP then START, in arrival order',
      stored('opted_in', 60),
      [change('opted_out', -2), change('opted_in', -1)],
      'opted_in',
    ],
    [
      'a stale pending opt-in after a newer STOP in SQL',
      stored('opted_out', 10),
      [change('opted_in', -30)],
      'opted_out',
    ],
    [
      'a stale START behind a newer pending STOP',
      stored('opted_in', 60),
      [change('opted_out', -5), change('opted_in', -30)],
      'opted_out',
    ],
  ] as const)('%s', (_, row, pending, expected) => {
    expect(foldPendingConsent(row, [...pending], NOW)?.status ?? null).toBe(expected);
  });

  test('says when part of the answer is not in SQL yet', () => {
    expect(foldPendingConsent(stored('opted_in', 60), [], NOW)?.pending).toBe(false);
    expect(foldPendingConsent(stored('opted_in', 60), [change('opted_out', -1)], NOW)?.pending).toBe(true);
  });
});

describe('occurredAtProblem', () => {
  test.each([
    ['2026-11-28T11:59:00Z', null],
    ['2026-11-28T12:04:59Z', null],
    ['2026-11-28T12:05:01Z', 'lies more than 5 minutes in the future'],
    ['2016-12-31T23:59:60Z', 'is not a real instant'],
    ['yesterday', 'is not a real instant'],
  ])('%s → %p', (value, problem) => {
    expect(occurredAtProblem(value, NOW)).toBe(problem);
  });
});

describe('acknowledgedOccurredAt', () => {
  test('a change from a clock running ahead is recorded at its arrival, so a later STOP is not stale', () => {
    expect(acknowledgedOccurredAt(at(240).toISOString(), NOW)).toBe(NOW.toISOString());
  });
  test('a past instant is kept; none means now', () => {
    expect(acknowledgedOccurredAt(at(-30).toISOString(), NOW)).toBe(at(-30).toISOString());
    expect(acknowledgedOccurredAt(undefined, NOW)).toBe(NOW.toISOString());
  });
});
