import type { Client } from '@temporalio/client';
import type { ActivityDeps } from '../activities';
import type { Config } from '../config';
import type { Logger } from '../config/logger';
import type { Repositories } from '../db';
import type { ProvidersHandle } from '../providers';
import type { RolloutControl } from '../rollout/control';
import { createRolloutControl } from '../rollout/sql-control';
import { processMetrics, type Metrics } from '../runtime/metrics';
import { pendingConsentChanges, signalConsentChange } from '../temporal/consent-signal';
import { runClosedAt } from '../temporal/order-runs';
import { requestVenueNumber } from '../temporal/venue-number';
import { instrumentProviders } from './instrumented-provider';

/**
 * The activities' dependencies, wired the one way the production worker and the tests both use:
 * consent changes and number purchases go through their workflows on this worker's task queue.
 */
export function createActivityDeps(options: {
  config: Config;
  logger: Logger;
  repos: Repositories;
  providers: ProvidersHandle['providers'];
  client: Client;
  /** Counts every provider call; the process's registry unless a test brings its own. */
  metrics?: Metrics;
  /** The worker's one rollout state cache; built over `repos` unless the caller shares its own. */
  rollout?: RolloutControl;
}): ActivityDeps {
  const { config, client } = options;
  const metrics = options.metrics ?? processMetrics();
  const { taskQueue, workflowIdHashKey } = config.temporal;
  const consentEntities = { client, taskQueue, workflowIdHashKey };
  return {
    repos: options.repos,
    providers: instrumentProviders(options.providers, metrics),
    config,
    logger: options.logger,
    rollout:
      options.rollout ??
      createRolloutControl({
        repos: options.repos,
        cacheMs: config.rollout.cacheMs,
        metrics,
        logger: options.logger,
      }),
    pendingConsentChanges: (venueId, phoneNumber) =>
      pendingConsentChanges(consentEntities, venueId, phoneNumber),
    signalConsentChange: async (venueId, phoneNumber, change) => {
      await signalConsentChange(consentEntities, venueId, phoneNumber, change);
    },
    runClosedAt: (workflowId, runId) => runClosedAt(client, workflowId, runId),
    requestVenueNumber: (venueId, provider, waiter) =>
      requestVenueNumber(client, taskQueue, venueId, provider, waiter),
  };
}
