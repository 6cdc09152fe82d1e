import {
  acknowledgedOccurredAt,
  decideConsentChange,
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
  lastProviderMessageId: null,
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

  test("a pending change carrying the row's own message id is a duplicate, as the repository finds it", () => {
    const row = { ...stored('opted_out', 60), lastProviderMessageId: 'SM-stop' };
    const redelivered = { ...change('opted_in', -1), providerMessageId: 'SM-stop' };
    expect(foldPendingConsent(row, [redelivered], NOW)).toMatchObject({
      status: 'opted_out',
      pending: false,
    });
  });

  test('a START replayed after a STOP, its id already in the audit trail, does not undo the STOP', () => {
    const row = { ...stored('opted_out', 60), lastProviderMessageId: 'SM-stop' };
    const replayed = { ...change('opted_in', -1), providerMessageId: 'SM-start' };
    expect(foldPendingConsent(row, [replayed], NOW, new Set(['SM-start']))?.status).toBe('opted_out');
    expect(foldPendingConsent(row, [replayed], NOW)?.status).toBe('opted_in'); // a START never seen
  });

  test('the same message id twice in the pending list counts once', () => {
    const start = { ...change('opted_in', -2), providerMessageId: 'SM-start' };
    const stop = { ...change('opted_out', -1), providerMessageId: 'SM-stop' };
    expect(
      foldPendingConsent(null, [start, stop, { ...start, occurredAt: at(0).toISOString() }], NOW),
    ).toMatchObject({
      status: 'opted_out',
    });
  });

  test('says when part of the answer is not in SQL yet', () => {
    expect(foldPendingConsent(stored('opted_in', 60), [], NOW)?.pending).toBe(false);
    expect(foldPendingConsent(stored('opted_in', 60), [change('opted_out', -1)], NOW)?.pending).toBe(true);
  });
});

describe('decideConsentChange: the one rule of the write and the fold', () => {
  const row = { lastChangeAt: at(-60), lastProviderMessageId: 'SM-last' };
  test.each([
    ['nothing known yet', null, { occurredAt: at(-90) }, undefined, 'applied'],
    ['newer than the row', row, { occurredAt: at(-1) }, undefined, 'applied'],
    ['the same instant as the row', row, { occurredAt: at(-60) }, undefined, 'applied'],
    ['older than the row', row, { occurredAt: at(-61) }, undefined, 'stale'],
    [
      "the row's own message id, newer",
      row,
      { occurredAt: at(-1), providerMessageId: 'SM-last' },
      undefined,
      'duplicate',
    ],
    [
      'an id the audit trail holds, newer',
      row,
      { occurredAt: at(-1), providerMessageId: 'SM-old' },
      ['SM-old'],
      'duplicate',
    ],
    [
      'an id never seen, newer',
      row,
      { occurredAt: at(-1), providerMessageId: 'SM-new' },
      ['SM-old'],
      'applied',
    ],
  ] as const)('%s → %s', (_, current, c, handled, expected) => {
    expect(decideConsentChange(current, c, new Set(handled ?? []))).toBe(expected);
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
