import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Logger } from '../config/logger';
import type { ProviderName } from '../domain/enums';
import type { SmsProvider } from '../providers/sms-provider';
import type { OrderContext } from '../temporal/contracts';
import type { ActivityDeps } from './deps';

/** A logger for one activity attempt: every line names the order, its correlation id and the attempt. */
export function activityLogger(logger: Logger, ctx: OrderContext): Logger {
  const { activityType, attempt, workflowExecution } = Context.current().info;
  return logger.child({
    orderId: ctx.orderId,
    correlationId: ctx.correlationId,
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
