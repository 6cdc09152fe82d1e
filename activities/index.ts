import { createConsentActivities } from './consent';
import type { ActivityDeps } from './deps';
import { createHistoryActivities } from './history';
import { createRenderActivities } from './render';
import { createSendActivities } from './send';
import { createVenueSenderActivities } from './venue-sender';

export type { ActivityDeps } from './deps';

/** Activities the order task queue runs; sendSms runs on its own rate-limited queue. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createConsentActivities(deps),
    ...createVenueSenderActivities(deps),
    ...createRenderActivities(deps),
    ...createHistoryActivities(deps),
  };
}

export { createSendActivities };

export type OrderActivities = ReturnType<typeof createActivities>;
export type SendActivities = ReturnType<typeof createSendActivities>;
