import { SmsProviderError, type SmsErrorType } from '../../domain/errors';
import { redactPhones } from '../../domain/phone';
import { errorTypeForStatus } from '../provider-errors';

/** Twilio error codes with a meaning of their own; everything else is classified by HTTP status. */
const CODE_TYPES: Readonly<Record<string, SmsErrorType>> = {
  // Attempt to send to unsubscribed recipient (the recipient replied STOP).
  '21610': 'OptedOut',
  // The 'To' number is not a valid phone number.
  '21211': 'InvalidPhone',
  // The 'To' number is not a valid mobile number (landline / unreachable).
  '21614': 'InvalidPhone',
  // Permission to send an SMS has not been enabled for the region indicated by the 'To' number:
  // by design an InvalidPhone for this order (a retry never fixes it), with the code kept for ops.
  '21408': 'InvalidPhone',
  // The phone number picked from AvailablePhoneNumbers was taken before we bought it: search again.
  '21422': 'ProviderUnavailable',
  '20429': 'RateLimited',
  // Authentication failed (bad account SID / auth token).
  '20003': 'ProviderAuth',
};

/** Transport failures: nothing (or nothing we can read) came back, so the provider may or may not have acted. */
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ERR_NETWORK',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

interface TwilioLikeError {
  status?: unknown;
  code?: unknown;
  message?: unknown;
  isAxiosError?: unknown;
  response?: { status?: unknown };
}

/** Twilio's HTTP status and error code, when the failure is an API answer (RestException / RFC 9457). */
function apiAnswer(err: TwilioLikeError): { status: number; code?: string } | null {
  if (err.isAxiosError === true) {
    // Twilio's RequestClient accepts every status (validateStatus 100-599), so an axios error here
    // is a transport failure; a response on it would only come from a custom client.
    const status = err.response?.status;
    return typeof status === 'number' ? { status } : null;
  }
  if (typeof err.status !== 'number') return null;
  const code =
    typeof err.code === 'number' || (typeof err.code === 'string' && /^\d+$/.test(err.code))
      ? String(err.code)
      : undefined;
  return { status: err.status, code: code && code !== '0' ? code : undefined };
}

function networkCode(err: TwilioLikeError): string {
  const code = typeof err.code === 'string' ? err.code : undefined;
  const message = typeof err.message === 'string' ? err.message : '';
  if (code === 'ECONNABORTED' && /timeout/i.test(message)) return 'ETIMEDOUT';
  if (code && NETWORK_CODES.has(code)) return code;
  if (/timeout/i.test(message)) return 'ETIMEDOUT';
  if (/socket hang up/i.test(message)) return 'ECONNRESET';
  return code ?? 'UNKNOWN';
}

/**
 * A cause safe to log: the SDK's errors carry the request (recipient, body, Authorization header on
 * axios errors), so only the class name, code and a redacted message are kept.
 */
function safeCause(err: unknown): Error {
  const e = (err ?? {}) as TwilioLikeError & { name?: unknown };
  const cause = new Error(redactPhones(typeof e.message === 'string' ? e.message : String(err)));
  cause.name = typeof e.name === 'string' ? e.name : 'Error';
  if (typeof e.code === 'string' || typeof e.code === 'number') {
    (cause as Error & { code?: string }).code = String(e.code);
  }
  return cause;
}

/** Translates whatever the Twilio SDK threw into the provider-agnostic taxonomy. */
export function mapTwilioError(err: unknown, context: string): SmsProviderError {
  if (err instanceof SmsProviderError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as TwilioLikeError;
  const rawMessage = typeof e.message === 'string' && e.message !== '' ? e.message : String(err);
  const answer = apiAnswer(e);
  if (answer) {
    const type = (answer.code && CODE_TYPES[answer.code]) || errorTypeForStatus(answer.status);
    const code = answer.code ?? `HTTP_${answer.status}`;
    return new SmsProviderError(
      type,
      code,
      `twilio: ${context} failed: [HTTP ${answer.status} ${code}] ${redactPhones(rawMessage)}`,
      { httpStatus: answer.status, cause: safeCause(err) },
    );
  }
  const code = networkCode(e);
  return new SmsProviderError(
    'ProviderUnavailable',
    code,
    `twilio: ${context} failed: ${code}: ${redactPhones(rawMessage)}`,
    { cause: safeCause(err) },
  );
}
