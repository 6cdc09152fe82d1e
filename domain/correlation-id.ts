import { createHash } from 'node:crypto';
import { CORRELATION_ID_MAX } from './limits';

/** Hex digits of the SHA-256 kept in a shortened id: 64 bits, no accidental collisions among ids. */
const DIGEST_CHARS = 16;

/**
 * A correlation id that fits the CorrelationID columns. Ids up to CORRELATION_ID_MAX characters are
 * kept as they are. A longer one (Service Bus allows 128 characters, and a binary id becomes hex) is
 * shortened deterministically: its first 83 characters, "~", and 16 hex digits of its SHA-256. The
 * same message redelivered gets the same id, distinct ids stay distinct, and a search for the
 * producer's id prefix still finds every log line and history row. Tracing metadata is never a
 * reason to dead-letter a paid order (docs/adr/0007-column-limits.md).
 */
export function fitCorrelationId(raw: string): string {
  if (raw.length <= CORRELATION_ID_MAX) return raw;
  const digest = createHash('sha256').update(raw, 'utf8').digest('hex').slice(0, DIGEST_CHARS);
  let prefix = raw.slice(0, CORRELATION_ID_MAX - DIGEST_CHARS - 1);
  // Never end on half of a surrogate pair: the id must stay valid text in every column and log.
  if (/[\uD800-\uDBFF]$/.test(prefix)) prefix = prefix.slice(0, -1);
  return `${prefix}~${digest}`;
}
