import pino, { type Logger } from 'pino';

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
  'req.headers.authorization',
  'req.headers["x-twilio-signature"]',
];

export function createLogger(options: { level: string; name: string }): Logger {
  return pino({
    name: options.name,
    level: options.level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { pid: process.pid, role: options.name },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
