import { createConsentActivities } from './consent';
import type { ActivityDeps } from './deps';
import { createHistoryActivities } from './history';
import { createRenderActivities } from './render';
import { createRolloutActivities } from './rollout';
import { createSendActivities } from './send';
import { createVenueNumberActivities } from './venue-number';

export type { ActivityDeps } from './deps';
export { createConsentActivities, createSendActivities };

/** Activities the order task queue runs; sendSms runs on its provider's rate-limited queue. */
export function createOrderQueueActivities(deps: ActivityDeps) {
  return {
    ...createConsentActivities(deps),
    ...createVenueNumberActivities(deps),
    ...createRenderActivities(deps),
    ...createHistoryActivities(deps),
    ...createRolloutActivities(deps),
  };
}

// Named by what they are, so each workflow's proxy names exactly the activities it may call.
export type ConsentActivities = ReturnType<typeof createConsentActivities>;
export type VenueNumberActivities = ReturnType<typeof createVenueNumberActivities>;
export type RenderActivities = ReturnType<typeof createRenderActivities>;
export type HistoryActivities = ReturnType<typeof createHistoryActivities>;
export type RolloutActivities = ReturnType<typeof createRolloutActivities>;
export type SendActivities = ReturnType<typeof createSendActivities>;
