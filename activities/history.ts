import { Context } from '@temporalio/activity';
import type { HistoryEntry } from '../db/history-repository';
import type { OrderContext } from '../temporal/contracts';
import { ERROR_CODE_MAX, ERROR_MESSAGE_MAX } from '../domain/limits';
import { activityLogger } from './context';
import type { ActivityDeps } from './deps';
import { databaseFailure } from './failures';

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
      const log = activityLogger(deps.logger, input);
      const { record, created } = await deps.repos.history
        .record({
          ...entry,
          // Our own diagnostics: cut to their columns rather than refused (the provider's text can be long).
          errorCode: clip(entry.errorCode, ERROR_CODE_MAX),
          errorMessage: clip(entry.errorMessage, ERROR_MESSAGE_MAX),
          provider: provider ?? deps.config.sms.provider,
          orderId,
          correlationId,
          idempotencyKey: `${execution.workflowId}/${execution.runId}`,
        })
        .catch((err: unknown) => {
          // The error is a cleaned DatabaseError: its message and fields carry no value from the row.
          const failure = databaseFailure(err);
          if (failure === err) log.warn({ err }, 'send history not recorded yet; retrying');
          else log.error({ err, status: input.status }, 'the database refused the send history row');
          throw failure;
        });
      log.info(
        { historyId: record.id, status: record.status, errorCode: record.errorCode, created },
        'send history recorded',
      );
      return { historyId: record.id };
    },
  };
}

function clip(value: string | null, max: number): string | null {
  return value !== null && value.length > max ? value.slice(0, max) : value;
}
