import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineSignal,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { ConsentActivities } from '../activities';
import {
  CONSENT_CHANGE_SIGNAL,
  type ConsentChangeSignal,
  type ConsentEntityInput,
} from '../temporal/contracts';
import { DATABASE_ACTIVITY } from './activity-options';

export const consentChangeSignal = defineSignal<[ConsentChangeSignal]>(CONSENT_CHANGE_SIGNAL);

// A consent write must land eventually, whatever the database does meanwhile.
const { applyConsentChange } = proxyActivities<ConsentActivities>(DATABASE_ACTIVITY);

/** How long an entity with nothing to do stays open before it completes (signalWithStart revives it). */
const IDLE_TIMEOUT = '10 minutes';
/** Provider message ids remembered for de-duplication; webhooks are redelivered within minutes, not days. */
const SEEN_MESSAGE_IDS_LIMIT = 500;
/** Continue-as-new well before Temporal's history limits, even if the server never suggests it. */
const MAX_HISTORY_EVENTS = 5_000;

/**
 * One per (venue, phone): the single writer of that consent row, so webhooks, the internal API and
 * provider errors apply in arrival order and never race each other.
 */
export async function consentEntity(input: ConsentEntityInput): Promise<void> {
  const { venueId, phoneNumber } = input;
  const pending: ConsentChangeSignal[] = [...(input.pending ?? [])];
  const seen: string[] = [...(input.seenMessageIds ?? [])];

  setHandler(consentChangeSignal, (change) => {
    if (change.providerMessageId) {
      if (seen.includes(change.providerMessageId)) return; // the same webhook delivered again
      seen.push(change.providerMessageId);
      if (seen.length > SEEN_MESSAGE_IDS_LIMIT) seen.shift();
    }
    pending.push(change);
  });

  for (;;) {
    const hasWork = await condition(() => pending.length > 0, IDLE_TIMEOUT);
    if (!hasWork) return; // idle: a signal arriving now makes the server retry this task with it

    const change = pending.shift() as ConsentChangeSignal;
    await applyConsentChange({ ...change, venueId, phoneNumber });

    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength > MAX_HISTORY_EVENTS) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof consentEntity>({ venueId, phoneNumber, seenMessageIds: seen, pending });
    }
  }
}
