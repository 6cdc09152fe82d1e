import pino, { type Logger } from 'pino';
import { cleanDatabaseError, isDriverError } from '../db/errors';

export type { Logger };

/**
 * Phone numbers are masked by the code that logs them (domain/phone maskPhone); these paths are the
 * safety net for a full number or a secret that slips into a log object anyway.
 */
const REDACT_PATHS = [
  'phoneNumber',
  'customerPhoneNumber',
  'to',
  'from',
  '*.phoneNumber',
  '*.customerPhoneNumber',
  '*.to',
  '*.from',
  'token',
  'apiKey',
  'authToken',
  'password',
  // The Entra ID service principal's secret, the mTLS pair and the Temporal API key, down to a
  // config object logged whole ({ config }: config.databaseAuth.clientSecret, config.temporal.tls.clientCert).
  'clientSecret',
  '*.clientSecret',
  '*.*.clientSecret',
  'clientCert',
  '*.clientCert',
  '*.*.clientCert',
  '*.*.*.clientCert',
  '*.apiKey',
  '*.*.apiKey',
  '*.password',
  'req.headers.authorization',
  'req.headers["x-twilio-signature"]',
];

/** `destination` defaults to stdout; tests pass a stream to read what would have been logged. */
export function createLogger(
  options: { level: string; name: string },
  destination?: pino.DestinationStream,
): Logger {
  return pino(
    {
      name: options.name,
      level: options.level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      // `error`: the Temporal SDK logs activity failures under that key (temporal/logger.ts).
      serializers: { err: serializeError, error: serializeError },
      base: { pid: process.pid, role: options.name },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

/**
 * pino's error serializer, except that a database driver's error (anywhere in the cause chain) is
 * replaced by its cleaned form: the driver's message and PostgreSQL's `detail` quote row values. The
 * repositories clean their errors already (db/index.ts); this is the net under code that logs a
 * knex call's error directly.
 */
export function serializeError(err: unknown): unknown {
  return pino.stdSerializers.err(scrubDriverErrors(err) as Error);
}

function scrubDriverErrors(err: unknown, depth = 0): unknown {
  if (isDriverError(err)) return cleanDatabaseError(err, 'database call');
  if (!(err instanceof Error) || err.cause === undefined || depth > 8) return err;
  const cause = scrubDriverErrors(err.cause, depth + 1);
  if (cause === err.cause) return err;
  // A copy with the cleaned cause: the caller's error object is left as it was.
  const copy = Object.assign(Object.create(Object.getPrototypeOf(err) as object) as Error, err, { cause });
  copy.message = err.message;
  copy.stack = err.stack;
  return copy;
}
