import { status } from '@grpc/grpc-js';
import { isGrpcServiceError, NamespaceNotFoundError } from '@temporalio/client';

/**
 * Why a workflow start failed, as a stable name: readiness and logs show it, and it never carries
 * the server's text (which the log line has next to it).
 */
export type StartFailureReason =
  | 'TemporalUnavailable'
  | 'TemporalDeadlineExceeded'
  | 'TemporalResourceExhausted'
  | 'TemporalAborted'
  | 'TemporalInternal'
  | 'TemporalUnknown'
  | 'TemporalCancelled'
  | 'NamespaceNotFound'
  | 'SearchAttributeNotRegistered'
  | 'InvalidArgument'
  | 'PermissionDenied'
  | 'Unauthenticated'
  | 'FailedPrecondition'
  | 'Unimplemented'
  | 'StartFailed';

export interface StartFailure {
  /**
   * Transient: Temporal is away or overloaded, and waiting is the cure. Not transient: Temporal
   * answered and refused (a wrong namespace, an unregistered search attribute, missing
   * permission) — waiting helps only once an operator fixes it.
   */
  transient: boolean;
  reason: StartFailureReason;
  /** The error's own text, for the error log only (never the public health body). */
  detail: string;
}

const TRANSIENT: ReadonlyMap<number, StartFailureReason> = new Map([
  [status.UNAVAILABLE, 'TemporalUnavailable'],
  [status.DEADLINE_EXCEEDED, 'TemporalDeadlineExceeded'],
  [status.RESOURCE_EXHAUSTED, 'TemporalResourceExhausted'],
  [status.ABORTED, 'TemporalAborted'],
  [status.INTERNAL, 'TemporalInternal'],
  [status.UNKNOWN, 'TemporalUnknown'],
  [status.CANCELLED, 'TemporalCancelled'],
]);

const REFUSED: ReadonlyMap<number, StartFailureReason> = new Map([
  [status.NOT_FOUND, 'NamespaceNotFound'],
  [status.INVALID_ARGUMENT, 'InvalidArgument'],
  [status.PERMISSION_DENIED, 'PermissionDenied'],
  [status.UNAUTHENTICATED, 'Unauthenticated'],
  [status.FAILED_PRECONDITION, 'FailedPrecondition'],
  [status.UNIMPLEMENTED, 'Unimplemented'],
]);

/**
 * Classifies what `client.workflow.start` threw. The SDK wraps the gRPC error in a ServiceError
 * (its `cause`), and turns an unknown namespace into NamespaceNotFoundError, so the cause chain is
 * walked. Anything without a gRPC status (a payload codec that throws, a bug) counts as not
 * transient: it is reported, and the bridge holds the message rather than guess.
 */
export function classifyStartError(err: unknown): StartFailure {
  const detail = errorText(err);
  for (let e: unknown = err, depth = 0; e && depth < 5; e = causeOf(e), depth++) {
    if (e instanceof NamespaceNotFoundError) return { transient: false, reason: 'NamespaceNotFound', detail };
    const code = isGrpcServiceError(e) ? e.code : undefined;
    if (code === undefined) continue;
    const transient = TRANSIENT.get(code);
    if (transient) return { transient: true, reason: transient, detail };
    let refused = REFUSED.get(code) ?? 'StartFailed';
    if (code === status.INVALID_ARGUMENT && /search attribute/i.test(detail))
      refused = 'SearchAttributeNotRegistered';
    return { transient: false, reason: refused, detail };
  }
  return { transient: false, reason: 'StartFailed', detail };
}

function causeOf(err: unknown): unknown {
  return err instanceof Error ? err.cause : undefined;
}

/** The error and its causes' messages, one line. */
export function errorText(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 5; e = causeOf(e), depth++)
    parts.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
  return parts.join(' <- ');
}
