import { SmsProviderError, type SmsErrorType } from '../../domain/errors';
import { redactPhones } from '../../domain/phone';
import { errorTypeForStatus } from '../provider-errors';

/**
 * What the plivo SDK (4.x) actually rejects with — none of it is an instance of its exception classes
 * (Babel's ES5 `Error` subclassing returns plain Errors):
 * - an API answer with a JSON body and status 400/401/403-on-send/404/405/406/409/422/500, or any
 *   non-JSON body with status >= 500: an Error with `status`, `message` = the body's `error` text
 *   (or the raw body), and `moreInfo` = the request body (recipient and text!);
 * - any other status (403 elsewhere, 429, 502, 503, ...) with a JSON body: a plain Error whose message
 *   is "AxiosError: Request failed with status code 503" and nothing else;
 * - no answer at all (timeout, reset, refused): a *string*, the axios error's stack;
 * - argument validation: a plain Error.
 */
interface PlivoLikeError {
  status?: unknown;
  code?: unknown;
  message?: unknown;
  name?: unknown;
}

export type PlivoOperation = 'send' | 'other';

const NETWORK_PATTERNS: [RegExp, string][] = [
  [/timeout of \d+ms exceeded|ETIMEDOUT|ESOCKETTIMEDOUT|ECONNABORTED/i, 'ETIMEDOUT'],
  [/ECONNRESET|socket hang up/i, 'ECONNRESET'],
  [/ECONNREFUSED/, 'ECONNREFUSED'],
  [/EPIPE/, 'EPIPE'],
  [/EHOSTUNREACH/, 'EHOSTUNREACH'],
  [/ENETUNREACH/, 'ENETUNREACH'],
  [/ENOTFOUND/, 'ENOTFOUND'],
  [/EAI_AGAIN/, 'EAI_AGAIN'],
  [/ERR_NETWORK|Network Error/, 'ERR_NETWORK'],
];

const OPTED_OUT_TEXT = /opt(ed)?[\s_-]?out|unsubscribed|blocked by (the )?recipient|replied STOP/i;
const INVALID_PHONE_TEXT =
  /(\bdst\b|destination)[^.]*\b(invalid|not (a )?valid|not supported|unreachable)|invalid[\s_-](dst|destination)|landline|not a mobile/i;
const GEO_PERMISSION_TEXT = /geo|permission|country|region|destination/i;

function messageOf(err: unknown): string {
  if (typeof err === 'string') return err.split('\n')[0];
  const e = (err ?? {}) as PlivoLikeError;
  return typeof e.message === 'string' ? e.message : String(err);
}

function statusOf(err: unknown): number | null {
  if (typeof err !== 'object' || err === null) return null;
  const e = err as PlivoLikeError;
  if (typeof e.status === 'number') return e.status;
  const m = /Request failed with status code (\d{3})/.exec(messageOf(err));
  return m ? Number(m[1]) : null;
}

/** Plivo has no error codes of its own: on a send, its error text tells a bad recipient from a bad request. */
function typeFor(status: number, text: string, operation: PlivoOperation): SmsErrorType {
  const byStatus = errorTypeForStatus(status);
  if (operation !== 'send') return byStatus;
  if (status === 403) {
    // The SDK itself treats a 403 on POST Message/ as a geo-permission refusal (destination country
    // not enabled): like Twilio 21408, a retry cannot fix it for this recipient.
    return GEO_PERMISSION_TEXT.test(text) ? 'InvalidPhone' : byStatus;
  }
  if (byStatus === 'Misconfiguration') {
    if (OPTED_OUT_TEXT.test(text)) return 'OptedOut';
    if (INVALID_PHONE_TEXT.test(text)) return 'InvalidPhone';
  }
  return byStatus;
}

/** A loggable cause: the SDK's error carries the request body (`moreInfo`), so only a redacted message is kept. */
function safeCause(err: unknown, message: string): Error {
  const cause = new Error(redactPhones(message));
  if (typeof err === 'object' && err !== null && typeof (err as PlivoLikeError).name === 'string') {
    cause.name = (err as PlivoLikeError).name as string;
  }
  return cause;
}

/** Translates whatever the plivo SDK rejected with into the provider-agnostic taxonomy. */
export function mapPlivoError(
  err: unknown,
  context: string,
  operation: PlivoOperation = 'other',
): SmsProviderError {
  if (err instanceof SmsProviderError) return err;
  const message = messageOf(err);
  const status = statusOf(err);
  if (status !== null) {
    const code = `HTTP_${status}`;
    return new SmsProviderError(
      typeFor(status, message, operation),
      code,
      `plivo: ${context} failed: [${code}] ${redactPhones(message)}`,
      { httpStatus: status, cause: safeCause(err, message) },
    );
  }
  const haystack = typeof err === 'string' ? err : `${(err as PlivoLikeError)?.code ?? ''} ${message}`;
  const code = NETWORK_PATTERNS.find(([pattern]) => pattern.test(haystack))?.[1] ?? 'UNKNOWN';
  // Unknown failures are retried: a transient fault misread as permanent would drop an order's SMS.
  return new SmsProviderError(
    'ProviderUnavailable',
    code,
    `plivo: ${context} failed: ${code}: ${redactPhones(message)}`,
    { cause: safeCause(err, message) },
  );
}
