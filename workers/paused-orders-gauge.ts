import type { Client } from '@temporalio/client';
import type { Logger } from '../config/logger';
import type { SqlRolloutControl } from '../rollout/sql-control';
import type { Metrics } from '../runtime/metrics';
import { pausedOrdersQuery } from '../temporal/rollout-resume';
import { startVisibilityGauge } from './visibility-gauge';

const REFRESH_MS = 30_000;

/**
 * Keeps `sms_orders_paused` current: running orders of this deployment waiting out a pause, one
 * visibility count per refresh (the same query a global resume wakes). The same tick reloads the
 * rollout state when it is older than ROLLOUT_CACHE_MS, so `sms_rollout_pauses` stays current on a
 * worker that sends nothing (the send step's reads keep it current otherwise).
 */
export function startPausedOrdersGauge(options: {
  client: Client;
  taskQueue: string;
  metrics: Pick<Metrics, 'ordersPaused'>;
  logger: Logger;
  rollout?: Pick<SqlRolloutControl, 'state'>;
  refreshMs?: number;
}): { refresh(): Promise<void>; stop(): void } {
  const { client, taskQueue, metrics, logger, rollout } = options;
  return startVisibilityGauge({
    what: 'paused orders',
    logger,
    refreshMs: options.refreshMs ?? REFRESH_MS,
    count: async () => {
      // A failed load keeps the last state and is logged by the control itself.
      await rollout?.state().catch(() => undefined);
      const { count } = await client.workflow.count(pausedOrdersQuery(taskQueue, { scope: 'global' }));
      metrics.ordersPaused.set(count);
    },
  });
}
