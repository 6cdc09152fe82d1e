import { ApplicationFailure } from '@temporalio/activity';
import { DatabaseError } from '../db/errors';
import type { FailureType, SmsProviderError } from '../domain/errors';

/** Auth failures wait for a human to fix credentials: back off far beyond the normal retry cap. */
const AUTH_RETRY_BASE_MS = 2_000;
const AUTH_RETRY_CAP_MS = 30 * 60_000;

export interface ProviderFailureDetails {
  code: string;
  httpStatus?: number;
}

/** Maps the provider-agnostic taxonomy onto a Temporal failure the workflow and retry policy understand. */
export function toApplicationFailure(err: SmsProviderError, attempt: number): ApplicationFailure {
  const details: ProviderFailureDetails = { code: err.code, httpStatus: err.httpStatus };
  return ApplicationFailure.create({
    type: err.type,
    message: err.message,
    nonRetryable: !err.retryable,
    details: [details],
    nextRetryDelay:
      err.type === 'ProviderAuth'
        ? Math.min(AUTH_RETRY_BASE_MS * 2 ** (attempt - 1), AUTH_RETRY_CAP_MS)
        : undefined,
    cause: err,
  });
}

/** A failure no retry can fix, typed by the taxonomy so the workflow's checks and retry policies agree. */
export function nonRetryableFailure(type: FailureType, message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, type);
}

/**
 * A repository's failure as the activity's. The database refusing the data (a constraint, an
 * overflow, a value too long) fails the same way on every attempt: non-retryable, typed `type`
 * (InvalidRecord unless the caller has a more specific one). Anything else (the database down, a
 * lock timeout) stays retryable. Repository errors arrive cleaned (db/index.ts), so the message
 * names the table and the problem and never a value; `cause` is not attached, because Temporal
 * copies a cause's message into the failure.
 */
export function databaseFailure(err: unknown, type: FailureType = 'InvalidRecord'): unknown {
  if (err instanceof DatabaseError && err.dataError) return nonRetryableFailure(type, err.message);
  return err;
}
