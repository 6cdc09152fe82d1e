import type { Client } from '@temporalio/client';
import { PAUSED_OUTCOME, ROLLOUT_RESUMED_SIGNAL, type PauseScope } from '../rollout/control';
import { ORDER_WORKFLOW_TYPE } from './contracts';

/**
 * After a pause is lifted: tell every order of this deployment waiting out a pause in that scope to
 * look again now, instead of at its next periodic re-check. Orders still held by another pause go
 * back to waiting (the workflow asks RolloutControl again), so a global resume wakes every paused
 * order. Visibility is eventually consistent: an order that turned paused a moment ago may be
 * missed, and its own periodic re-check picks the resume up.
 */
export function pausedOrdersQuery(taskQueue: string, scope: PauseScope): string {
  const clauses = [
    `WorkflowType = ${quote(ORDER_WORKFLOW_TYPE)}`,
    `TaskQueue = ${quote(taskQueue)}`,
    `ExecutionStatus = 'Running'`,
    `SmsOutcome = ${quote(PAUSED_OUTCOME)}`,
  ];
  if (scope.scope === 'provider') clauses.push(`SmsProvider = ${quote(scope.provider)}`);
  if (scope.scope === 'venue') clauses.push(`VenueId = ${Math.trunc(scope.venueId)}`);
  return clauses.join(' AND ');
}

export interface WakeResult {
  matched: number;
  signalled: number;
  /** Closed between the listing and the signal, or a transient error: their re-check covers them. */
  failed: number;
}

/** Lists the paused orders in scope and signals each, at most `concurrency` signals in flight. */
export async function wakePausedOrders(options: {
  client: Client;
  taskQueue: string;
  scope: PauseScope;
  concurrency?: number;
}): Promise<WakeResult> {
  const { client } = options;
  const concurrency = Math.max(1, options.concurrency ?? 20);
  const result: WakeResult = { matched: 0, signalled: 0, failed: 0 };
  const inFlight = new Set<Promise<void>>();
  for await (const info of client.workflow.list({
    query: pausedOrdersQuery(options.taskQueue, options.scope),
  })) {
    result.matched++;
    const signal = client.workflow
      .getHandle(info.workflowId, info.runId)
      .signal(ROLLOUT_RESUMED_SIGNAL)
      .then(
        () => {
          result.signalled++;
        },
        () => {
          result.failed++;
        },
      )
      .finally(() => inFlight.delete(signal));
    inFlight.add(signal);
    if (inFlight.size >= concurrency) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  return result;
}

function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
