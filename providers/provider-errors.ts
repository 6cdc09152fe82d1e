import type { SmsErrorType } from '../domain/errors';

/**
 * Error rules the Twilio and Plivo adapters share because they are rules about *us*, not about an
 * SDK: how an HTTP status maps onto the taxonomy, what "nothing to buy" means, and why releasing a
 * number is idempotent. Reading an SDK's failure (its error shapes, codes and texts) stays in each
 * adapter's own <name>-errors.ts: the two SDKs fail in very different ways.
 */

/**
 * The taxonomy of a provider's API answer by its HTTP status alone; each adapter refines it with
 * what only it can read (Twilio's error codes, Plivo's error texts on a send).
 */
export function errorTypeForStatus(status: number): SmsErrorType {
  if (status === 429) return 'RateLimited';
  if (status === 401 || status === 403) return 'ProviderAuth';
  if (status >= 500) return 'ProviderUnavailable';
  if (status >= 400) return 'Misconfiguration';
  // 1xx/3xx never end an API call normally; treat as a provider fault that a retry may clear.
  return 'ProviderUnavailable';
}
