import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  TimeoutFailure,
  log,
} from '@temporalio/workflow';
import { isFailureType, type FailureType } from '../domain/errors';

/** What the workflows read from an activity failure (activities/failures.ts writes it). */
export interface FailureSummary {
  /** The failure's type: the taxonomy name, or the error's own name for anything outside it. */
  type: string;
  /** `type` when it is one of the taxonomy's names. */
  kind?: FailureType;
  code: string;
  message: string;
}

/** Reads the taxonomy type and provider code an activity failure carries. */
export function describeFailure(err: unknown): FailureSummary {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    const [details] = (cause.details ?? []) as Array<{ code?: string } | undefined>;
    const type = cause.type ?? 'Error';
    const kind = isFailureType(type) ? type : undefined;
    return { type, kind, code: details?.code ?? type, message: cause.message };
  }
  if (cause instanceof Error) return { type: cause.name, code: cause.name, message: cause.message };
  return { type: 'Error', code: 'Error', message: String(cause) };
}

/**
 * The activity ran out of time, retries included, as opposed to a definite answer: either a timeout
 * or a retryable failure whose next retry would have passed the schedule-to-close deadline. A local
 * activity's timeout arrives wrapped in an ActivityFailure when it happens, but bare when a replay
 * reads it back from its marker: both must read the same, or the replay takes another path.
 */
export function timedOut(err: unknown): boolean {
  if (err instanceof TimeoutFailure) return true;
  return (
    err instanceof ActivityFailure && (err.retryState === 'TIMEOUT' || err.cause instanceof TimeoutFailure)
  );
}

/** The provider itself was failing (down, or refusing our credentials) when the time ran out. */
export function providerDown(err: unknown): boolean {
  const down: FailureType[] = ['ProviderUnavailable', 'ProviderAuth'];
  for (let cause: unknown = err; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof ApplicationFailure) return isFailureType(cause.type) && down.includes(cause.type);
  }
  return false;
}

/**
 * A quick call run locally first (docs/adr/0009). Two ends of a local attempt are not answers about
 * the order, and move the same call to its regular activity, which retries without limit on the
 * server:
 * - the local budget (LOCAL_QUICK_CALL_ACTIVITY) ran out: the dependency is down, not blipping;
 * - the worker cancelled it (the run evicted from its cache, or the worker shutting down, while the
 *   attempt was in flight): the workflow itself was not cancelled, so the step is simply not done.
 * Definite answers (non-retryable failures) pass through.
 */
export async function localFirst<I, R>(
  localCall: (input: I) => Promise<R>,
  regularCall: (input: I) => Promise<R>,
  input: I,
): Promise<R> {
  try {
    return await localCall(input);
  } catch (err) {
    if (!timedOut(err) && !cancelledByWorker(err)) throw err;
    log.warn('a local step did not finish locally; retrying it as a regular activity', {
      activity: err instanceof ActivityFailure ? err.activityType : undefined,
      reason: timedOut(err) ? 'local budget spent' : 'cancelled by the worker',
    });
    return regularCall(input);
  }
}

/** A local activity cancelled while its workflow was not: the worker's doing, not the order's. */
function cancelledByWorker(err: unknown): boolean {
  return (
    err instanceof ActivityFailure &&
    err.cause instanceof CancelledFailure &&
    !CancellationScope.current().consideredCancelled
  );
}
