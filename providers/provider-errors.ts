import type { ProviderName } from '../domain/enums';
import { SmsProviderError, type SmsErrorType } from '../domain/errors';

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

/** The provider has no SMS-capable local number in `country`: a retry cannot change that. */
export function noAvailableNumbersError(provider: ProviderName, country: string): SmsProviderError {
  return new SmsProviderError(
    'Misconfiguration',
    'NO_AVAILABLE_NUMBERS',
    `${provider}: no SMS-capable local numbers available in ${country}`,
  );
}

/**
 * Runs a number release so that a number the provider no longer has (404) counts as released: a
 * release retried after an ambiguous failure, or repeated, must not fail (SmsProvider.releaseNumber).
 */
export async function releaseIdempotently(
  release: () => Promise<unknown>,
  mapError: (err: unknown) => SmsProviderError,
): Promise<void> {
  try {
    await release();
  } catch (err) {
    const mapped = mapError(err);
    if (mapped.httpStatus === 404) return;
    throw mapped;
  }
}
