/**
 * Wall-clock times without an offset, read in an IANA time zone. .NET serialises a DateTime of kind
 * Unspecified as "2026-12-31T20:00:00" (or with seven fractional digits): the producer means the time
 * on the venue's clock. Only Intl is used (no time-zone library): a zone's offset at an instant comes
 * from Intl.DateTimeFormat, and a wall time maps to an instant the way Temporal's "compatible"
 * disambiguation does it: a time that happens twice (clocks going back) is the first of the two, and
 * a time the clocks skip (clocks going forward) moves forward by the length of the gap.
 */

import { dateTimeFormat } from './intl';

const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?$/;
const DAY_MS = 86_400_000;

/** "2026-12-31T20:00", "2026-12-31T20:00:00", "2026-12-31T20:00:00.1234567": a real date and time, no offset. */
export function isLocalDateTime(value: string): boolean {
  return wallClockMs(value) !== null;
}

/**
 * The instant a wall-clock time denotes in `timeZone` (an IANA name, e.g. "Europe/Berlin").
 * Throws a RangeError for a value that is not a local date-time or an unknown time zone.
 */
export function zonedDateTimeToInstant(value: string, timeZone: string): Date {
  const wall = wallClockMs(value);
  if (wall === null) throw new RangeError(`not a local date-time: ${JSON.stringify(value)}`);
  // Any real zone changes its offset at most once within a day on either side of a given time.
  const before = offsetMs(wall - DAY_MS, timeZone);
  const after = offsetMs(wall + DAY_MS, timeZone);
  const valid = [...new Set([before, after])]
    .map((offset) => wall - offset)
    .filter((instant) => offsetMs(instant, timeZone) === wall - instant);
  // Two readings (clocks went back): the earlier. None (clocks went forward): read with the offset
  // from before the change, which lands after the gap.
  const instant = valid.length > 0 ? Math.min(...valid) : wall - before;
  return new Date(instant);
}

/** The zone's offset from UTC at an instant, in milliseconds (Berlin in winter: 3,600,000). */
export function offsetMs(instantMs: number, timeZone: string): number {
  const whole = instantMs - mod(instantMs, 1000);
  const parts = partsFormatter(timeZone).formatToParts(new Date(whole));
  const get = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value);
  const local = utcMs(get('year'), get('month'), get('day'), get('hour'), get('minute'), get('second'), 0);
  return local - whole;
}

/** The wall-clock fields as if they were UTC, in ms; null when the text or the date is not real. */
function wallClockMs(value: string): number | null {
  const m = LOCAL_DATE_TIME.exec(value);
  if (!m) return null;
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  if (hour > 23 || minute > 59 || second > 59) return null;
  const instant = utcMs(year, month, day, hour, minute, second, ms);
  // Date.UTC rolls 30 February over into March: refuse it.
  const date = new Date(instant);
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null;
  return instant;
}

/** Date.UTC without its mapping of years 0–99 to 1900–1999. */
function utcMs(
  year: number,
  month: number,
  day: number,
  h: number,
  m: number,
  s: number,
  ms: number,
): number {
  const date = new Date(Date.UTC(2000, month - 1, day, h, m, s, ms));
  date.setUTCFullYear(year);
  return date.getTime();
}

function partsFormatter(timeZone: string): Intl.DateTimeFormat {
  return dateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
}

function mod(a: number, b: number): number {
  return ((a % b) + b) % b;
}
