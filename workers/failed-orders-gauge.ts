import type { Client } from '@temporalio/client';
import type { Logger } from '../config/logger';
import type { Metrics } from '../runtime/metrics';
import { findRerunCandidates, rerunQuery } from '../temporal/rerun';
import { startVisibilityGauge } from './visibility-gauge';

/** The window ops look back over; `ops failed --since <24 h ago>` lists the same orders. */
export const FAILED_WINDOW_MS = 24 * 60 * 60_000;
const REFRESH_MS = 60_000;
/** Beyond this many the gauge stops checking each order and reports the bound (an outage: rerun in batches). */
const MAX_CHECKED = 500;

/**
 * Keeps `sms_orders_failed` current: orders whose latest run failed (Failed or TimedOut) in the
 * last 24 hours — exactly what ops must rerun. Visibility keeps every run, so a failed run whose
 * order was rerun since still matches the query; counting it would keep the alert firing after
 * ops did their job. So: one `count` each minute (0 in a healthy deployment, and then that is all
 * it costs), and only when it is above 0 the rerun's own listing, which checks each failed run
 * against its order's latest run. The gauge and `ops failed` therefore never disagree.
 */
export function startFailedOrdersGauge(options: {
  client: Client;
  metrics: Metrics;
  logger: Logger;
  refreshMs?: number;
  windowMs?: number;
}): { refresh(): Promise<void>; stop(): void } {
  const { client, metrics, logger } = options;
  const windowMs = options.windowMs ?? FAILED_WINDOW_MS;
  return startVisibilityGauge({
    what: 'failed orders',
    logger,
    refreshMs: options.refreshMs ?? REFRESH_MS,
    count: async () => {
      const failedSince = new Date(Date.now() - windowMs);
      const { count } = await client.workflow.count(rerunQuery({ failedSince }));
      if (count === 0) {
        metrics.ordersFailed.set(0);
        return;
      }
      const listing = await findRerunCandidates(client, { failedSince, limit: MAX_CHECKED });
      metrics.ordersFailed.set(listing.candidates.length);
    },
  });
}
