import { Context } from '@temporalio/activity';
import type { Logger } from '../config/logger';
import type { ProviderName } from '../domain/enums';
import type { SmsProvider } from '../providers/sms-provider';
import type { OrderContext } from '../temporal/contracts';
import type { ActivityDeps } from './deps';
import { nonRetryableFailure } from './failures';

/**
 * A logger for one activity attempt. An order's lines name the order and its correlation id, the
 * provisioning activities' their venue and provider. Only those fields are picked: the inputs also
 * carry message bodies and customer names, which stay out of the logs.
 */
export function activityLogger(
  logger: Logger,
  ctx: OrderContext | { venueId: number; provider: string },
): Logger {
  const { activityType, attempt, workflowExecution } = Context.current().info;
  const who =
    'orderId' in ctx
      ? { orderId: ctx.orderId, correlationId: ctx.correlationId }
      : { venueId: ctx.venueId, provider: ctx.provider };
  return logger.child({
    ...who,
    workflowId: workflowExecution?.workflowId,
    activity: activityType,
    attempt,
  });
}

export function providerFor(deps: ActivityDeps, name: ProviderName): SmsProvider {
  const provider = deps.providers[name];
  if (!provider) {
    throw nonRetryableFailure('Misconfiguration', `provider ${name} is not configured on this worker`);
  }
  return provider;
}

const HEARTBEAT_INTERVAL_MS = 1_000;

/**
 * Runs a provider call (or any wait) as a cancellable step. It heartbeats every second, so the
 * server notices a dead worker within the heartbeat timeout and this attempt learns within a second
 * that it timed out or was cancelled (worker shutdown included). It then stops waiting at once and
 * ends with the cancellation: a timed-out attempt must not carry on to the provider after the next
 * attempt started. `work` gets the signal to pass on to whatever can be aborted.
 *
 * Every heartbeat carries `details` (Temporal hands the last ones it received to the next attempt,
 * as info.heartbeatDetails), replaced by `work` through `record`, which also heartbeats at once. A
 * caller that keeps details passes the previous attempt's on: a heartbeat without them would erase
 * them for the attempt after. They are best effort: the SDK throttles heartbeats (to 80% of the
 * heartbeat timeout), so a worker that dies right after `record` may not have sent them.
 */
export async function withHeartbeat<T, D = undefined>(
  work: (signal: AbortSignal, record: (details: D) => void) => Promise<T>,
  details?: D,
): Promise<T> {
  const ctx = Context.current();
  let current = details;
  const beat = () => ctx.heartbeat(current);
  const timer = setInterval(beat, HEARTBEAT_INTERVAL_MS);
  const record = (next: D) => {
    current = next;
    beat();
  };
  try {
    return await Promise.race([work(ctx.cancellationSignal, record), ctx.cancelled]);
  } finally {
    clearInterval(timer);
  }
}
