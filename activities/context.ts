import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Logger } from '../config/logger';
import type { ProviderName } from '../domain/enums';
import type { SmsProvider } from '../providers/sms-provider';
import type { OrderContext } from '../temporal/contracts';
import type { ActivityDeps } from './deps';

/** A logger for one activity attempt: every line names the order, its correlation id and the attempt. */
/** An order's activities log its OrderId and correlation id; the provisioning one its venue and provider. */
export function activityLogger(
  logger: Logger,
  ctx: OrderContext | { venueId: number; provider: string },
): Logger {
  const { activityType, attempt, workflowExecution } = Context.current().info;
  return logger.child({
    ...ctx,
    workflowId: workflowExecution?.workflowId,
    activity: activityType,
    attempt,
  });
}

export function providerFor(deps: ActivityDeps, name: ProviderName): SmsProvider {
  const provider = deps.providers[name];
  if (!provider) {
    throw ApplicationFailure.nonRetryable(
      `provider ${name} is not configured on this worker`,
      'Misconfiguration',
    );
  }
  return provider;
}

const HEARTBEAT_INTERVAL_MS = 1_000;

/**
 * Heartbeats while `work` runs, so the server notices a dead worker within the activity's heartbeat
 * timeout instead of its startToClose timeout.
 */
export async function withHeartbeat<T>(work: () => Promise<T>): Promise<T> {
  const ctx = Context.current();
  const timer = setInterval(() => ctx.heartbeat(), HEARTBEAT_INTERVAL_MS);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
