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
