import type { Client } from '@temporalio/client';
import type { Logger } from '../config/logger';
import type { Metrics } from '../runtime/metrics';
import {
  CONSENT_WORKFLOW_TYPE,
  ORDER_WORKFLOW_TYPE,
  VENUE_NUMBER_WORKFLOW_TYPE,
  consentTaskQueue,
} from '../temporal/contracts';
import { startVisibilityGauge } from './visibility-gauge';

/** An order normally closes in seconds; one still running after this is stuck on something. */
export const LONG_RUNNING_MS = 60 * 60_000;
const REFRESH_MS = 30_000;

/**
 * Keeps `sms_workflows_running_long{workflow_type}` current: workflows of this deployment (its task
 * queues) still running an hour after they started, counted by Temporal's visibility store. Neither
 * the SDK's metrics nor a worker can see this (a workflow waiting on a retry occupies no worker), so
 * it is asked for; every replica asks and reports the same number, hence max() in the alert.
 */
export function startLongRunningWorkflowsGauge(options: {
  client: Client;
  taskQueue: string;
  metrics: Metrics;
  logger: Logger;
  refreshMs?: number;
  thresholdMs?: number;
}): { refresh(): Promise<void>; stop(): void } {
  const { client, taskQueue, metrics, logger } = options;
  const thresholdMs = options.thresholdMs ?? LONG_RUNNING_MS;
  const watched = [
    { type: ORDER_WORKFLOW_TYPE, queue: taskQueue },
    { type: VENUE_NUMBER_WORKFLOW_TYPE, queue: taskQueue },
    { type: CONSENT_WORKFLOW_TYPE, queue: consentTaskQueue(taskQueue) },
  ];
  return startVisibilityGauge({
    what: 'long-running workflows',
    logger,
    refreshMs: options.refreshMs ?? REFRESH_MS,
    count: async () => {
      const startedBefore = new Date(Date.now() - thresholdMs).toISOString();
      for (const { type, queue } of watched) {
        const { count } = await client.workflow.count(
          `WorkflowType = '${type}' AND TaskQueue = '${queue}' AND ExecutionStatus = 'Running' AND StartTime < '${startedBefore}'`,
        );
        metrics.workflowsRunningLong.set({ workflow_type: type }, count);
      }
    },
  });
}
