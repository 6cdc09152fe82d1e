import { isLocalDateTime, offsetMs, zonedDateTimeToInstant } from '../../../domain/zoned-time';

const HOUR = 3_600_000;

describe('zonedDateTimeToInstant', () => {
  test.each([
    ['Berlin in winter', '2026-12-31T20:00:00', 'Europe/Berlin', '2026-12-31T19:00:00.000Z'],
    ['Berlin in summer', '2026-07-01T20:00:00', 'Europe/Berlin', '2026-07-01T18:00:00.000Z'],
    ['UTC', '2026-06-01T12:00', 'UTC', '2026-06-01T12:00:00.000Z'],
    [
      'a half-hour zone, .NET fraction',
      '2026-12-31T20:00:00.1234567',
      'Asia/Kolkata',
      '2026-12-31T14:30:00.123Z',
    ],
    ['a 45-minute zone', '2026-06-01T12:00', 'Pacific/Chatham', '2026-05-31T23:15:00.000Z'],
    ['west of UTC, across midnight', '2026-12-31T20:00', 'America/Los_Angeles', '2027-01-01T04:00:00.000Z'],
    // Clocks go forward 02:00 → 03:00: 02:30 never happens; it moves forward by the gap (03:30 EDT).
    ['New York spring gap', '2026-03-08T02:30:00', 'America/New_York', '2026-03-08T07:30:00.000Z'],
    // Clocks go back 02:00 → 01:00: 01:30 happens twice; the first (EDT) is taken.
    ['New York autumn overlap', '2026-11-01T01:30:00', 'America/New_York', '2026-11-01T05:30:00.000Z'],
    // Lord Howe moves by half an hour.
    ['Lord Howe half-hour gap', '2026-10-04T02:15', 'Australia/Lord_Howe', '2026-10-03T15:45:00.000Z'],
    ['Lord Howe half-hour overlap', '2026-04-05T01:45', 'Australia/Lord_Howe', '2026-04-04T14:45:00.000Z'],
    ['just before a change', '2026-03-29T01:59:59', 'Europe/London', '2026-03-29T01:59:59.000Z'],
    ['just after it', '2026-03-29T02:00:00', 'Europe/London', '2026-03-29T01:00:00.000Z'],
  ])('%s', (_name, local, zone, expected) => {
    expect(zonedDateTimeToInstant(local, zone).toISOString()).toBe(expected);
  });

  test('refuses what is not a local date-time, and an unknown zone', () => {
    expect(() => zonedDateTimeToInstant('2026-12-31T20:00:00Z', 'UTC')).toThrow(RangeError);
    expect(() => zonedDateTimeToInstant('2026-12-31T20:00:00', 'Mars/Olympus')).toThrow(RangeError);
  });
});

test.each([
  ['2026-12-31T20:00', true],
  ['2026-12-31T20:00:00', true],
  ['2026-12-31T20:00:00.1234567', true],
  ['2028-02-29T10:00', true],
  ['2026-02-29T10:00', false],
  ['2026-12-31T24:00', false],
  ['2026-12-31T20:60', false],
  ['2026-12-31', false],
  ['2026-12-31T20:00:00Z', false],
  ['2026-12-31T20:00:00+01:00', false],
])('isLocalDateTime(%s) is %s', (value, expected) => {
  expect(isLocalDateTime(value)).toBe(expected);
});

test('offsetMs reads the offset at an instant', () => {
  expect(offsetMs(Date.parse('2026-01-15T12:00:00Z'), 'Europe/Berlin')).toBe(HOUR);
  expect(offsetMs(Date.parse('2026-07-15T12:00:00Z'), 'Europe/Berlin')).toBe(2 * HOUR);
  expect(offsetMs(Date.parse('2026-07-15T12:00:00.999Z'), 'America/St_Johns')).toBe(-2.5 * HOUR);
});
