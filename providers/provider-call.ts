import { AsyncLocalStorage } from 'node:async_hooks';
import type { ProviderName } from '../domain/enums';
import { SmsProviderError } from '../domain/errors';

/**
 * How long the Twilio and Plivo adapters may spend at the provider, per operation. The numbers are
 * sized for the send activity (workflows/activity-options.ts SEND_ACTIVITY, startToClose 30 s), whose
 * attempt is: reconciliation (retries only) → consent re-read (SQL) → send. All of an attempt's
 * provider calls must end before its startToClose, so a slow provider makes the attempt *fail* (and
 * the next one reconcile) instead of timing out with a request still in flight:
 *
 *   reconciliation, every list call together   RECONCILE_BUDGET_MS  12 s
 *     (Twilio: 2 Messages list calls; Plivo: filtered pages of 20 to the end; each call ≤ REQUEST_TIMEOUT_MS)
 *   the send itself                            SEND_BUDGET_MS       10 s
 *   ------------------------------------------------------------------
 *   provider time per attempt, at most                              22 s  of 30 s
 *
 * The 8 s left cover the consent re-read, the activity's start and the heartbeat that notices a
 * cancellation. Before these budgets, three 15 s calls could take 45 s.
 *
 * A venue number purchase (VENUE_NUMBER_PURCHASE_ACTIVITY, startToClose 1 min) adopts before it buys:
 * FIND_NUMBER_BUDGET_MS 20 s + BUY_NUMBER_BUDGET_MS 30 s = 50 s of 60 s. Plivo's look-up may have to
 * read the whole account (a purchase never named and not remembered): 20 s holds some 2,000 numbers
 * at 200 ms a page; beyond that the attempt fails and retries rather than buying a second number.
 *
 * test/unit/providers/provider-call.test.ts checks these sums against the activity options.
 */
export const REQUEST_TIMEOUT_MS = 10_000;
export const RECONCILE_BUDGET_MS = 12_000;
export const SEND_BUDGET_MS = 10_000;
export const FIND_NUMBER_BUDGET_MS = 20_000;
export const BUY_NUMBER_BUDGET_MS = 30_000;
export const RELEASE_NUMBER_BUDGET_MS = REQUEST_TIMEOUT_MS;

/**
 * The abort signal of the provider operation running in this async context. Neither SDK takes a
 * signal per call, but both build an axios request inside the call: an axios request interceptor
 * (attachAbortSignal) reads it from here, so aborting the operation aborts the HTTP request itself
 * (the socket is closed; a provider that had not yet read the request never handles it).
 */
const operationSignal = new AsyncLocalStorage<AbortSignal>();

/** For an axios request interceptor: the running operation's signal, unless the request has one. */
export function attachAbortSignal<C extends { signal?: unknown }>(config: C): C {
  const signal = operationSignal.getStore();
  // Written through the constraint's shape: axios types the field as its own GenericAbortSignal.
  if (signal && config.signal === undefined) (config as { signal?: unknown }).signal = signal;
  return config;
}

/** A failure of the caller's own code inside an operation (a database look-up): passed on as is. */
class CallerFailure extends Error {
  constructor(readonly original: unknown) {
    super('caller failure');
  }
}

/**
 * Runs caller-supplied code inside a providerCall (AcceptedMessageQuery.claimedElsewhere, a SQL
 * read): its failure is not the provider's, so providerCall rethrows it untranslated.
 */
export function callerCode<T>(fn: () => Promise<T>): Promise<T> {
  return fn().catch((err: unknown) => {
    throw new CallerFailure(err);
  });
}

export interface ProviderCallOptions {
  provider: ProviderName;
  /** What is being done, for error messages ("send", "find accepted message"). */
  what: string;
  /** The whole operation, every HTTP request in it, ends within this. */
  budgetMs: number;
  /** The caller's cancellation (the activity attempt's): aborts the requests in flight. */
  signal?: AbortSignal;
}

/**
 * Runs one adapter operation (one or several SDK calls) under a deadline and the caller's signal.
 * It settles as soon as either fires, whatever the SDK does, and the HTTP request in flight is
 * aborted. Failures: the caller's abort → ProviderUnavailable/ABORTED (an abort mid-request is as
 * ambiguous as a lost answer: the next attempt reconciles); the deadline → ProviderUnavailable/
 * ETIMEDOUT; the caller's own code (callerCode) → its error as is; anything else → `mapError`.
 */
export async function providerCall<T>(
  options: ProviderCallOptions,
  work: () => Promise<T>,
  mapError: (err: unknown) => SmsProviderError,
): Promise<T> {
  const { provider, what, budgetMs, signal: caller } = options;
  const deadline = AbortSignal.timeout(budgetMs);
  const signal = caller ? AbortSignal.any([caller, deadline]) : deadline;
  // An aborted call's SDK error is not kept: Plivo's can carry the request body (the recipient).
  const failure = (err: unknown): unknown => {
    if (err instanceof CallerFailure) return err.original;
    if (caller?.aborted) {
      return new SmsProviderError(
        'ProviderUnavailable',
        'ABORTED',
        `${provider}: ${what} aborted: ${reason(caller)}`,
        {
          cause: caller.reason,
        },
      );
    }
    if (deadline.aborted) {
      return new SmsProviderError(
        'ProviderUnavailable',
        'ETIMEDOUT',
        `${provider}: ${what} did not finish within its ${budgetMs} ms budget`,
        { cause: deadline.reason },
      );
    }
    return mapError(err);
  };
  if (signal.aborted) throw failure(signal.reason);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([operationSignal.run(signal, work), aborted]);
  } catch (err) {
    throw failure(err);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

function reason(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  if (r instanceof Error) return r.message || r.name;
  return typeof r === 'string' && r !== '' ? r : 'cancelled by the caller';
}
