import { Context } from '@temporalio/activity';
import type { HistoryEntry } from '../db/history-repository';
import type { OrderContext } from '../temporal/contracts';
import { activityLogger } from './context';
import type { ActivityDeps } from './deps';

export type RecordHistoryInput = OrderContext &
  Omit<HistoryEntry, 'idempotencyKey' | 'orderId' | 'correlationId' | 'provider'> & {
    /** Absent when no sender was chosen (skipped, or failed before): the configured provider is recorded. */
    provider?: HistoryEntry['provider'];
  };

export function createHistoryActivities(deps: ActivityDeps) {
  return {
    /** One row per workflow run: a retried attempt finds the row its predecessor wrote. */
    async recordHistory(input: RecordHistoryInput): Promise<{ historyId: number }> {
      const execution = Context.current().info.workflowExecution;
      if (!execution) throw new Error('recordHistory runs only inside a workflow');
      const { orderId, correlationId, provider, ...entry } = input;
      const { record, created } = await deps.repos.history.record({
        ...entry,
        provider: provider ?? deps.config.sms.provider,
        orderId,
        correlationId,
        idempotencyKey: `${execution.workflowId}/${execution.runId}`,
      });
      activityLogger(deps.logger, input).info(
        { historyId: record.id, status: record.status, errorCode: record.errorCode, created },
        'send history recorded',
      );
      return { historyId: record.id };
    },
  };
}
