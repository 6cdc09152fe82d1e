/**
 * Plivo's API has its own time format, not ISO 8601: list filters take "YYYY-MM-DD HH:MM:SS" in UTC,
 * and records carry "YYYY-MM-DD HH:MM:SS.ffffff+HH:MM", sometimes without fraction or offset. Handed
 * to `new Date()` as is, such a string is implementation-defined, and one without an offset is read
 * as *local* time where Plivo means UTC. Reconciliation compares these times with our own clock, so
 * both directions are written out here explicitly.
 */

/** Plivo's filter format "YYYY-MM-DD HH:MM:SS", in UTC. */
export function plivoFilterTime(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

/** "2024-05-01 12:00:00.123456+05:30" (or without fraction / offset, then UTC) → Date. */
export function parsePlivoTime(value: string | undefined): Date | null {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})?$/.exec(
    (value ?? '').trim(),
  );
  if (!m) return null;
  const fraction = m[3] ? m[3].slice(0, 4) : '';
  const offset =
    !m[4] || m[4] === 'Z' ? 'Z' : m[4].includes(':') ? m[4] : `${m[4].slice(0, 3)}:${m[4].slice(3)}`;
  const date = new Date(`${m[1]}T${m[2]}${fraction}${offset}`);
  return Number.isNaN(date.getTime()) ? null : date;
}
