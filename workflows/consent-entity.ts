import {
  ActivityFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  log,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { ConsentActivities } from '../activities';
import {
  CONSENT_CHANGE_SIGNAL,
  CONSENT_PENDING_QUERY,
  type ConsentChangeSignal,
  type ConsentEntityInput,
} from '../temporal/contracts';
import { QUICK_CALL_ACTIVITY } from './activity-options';

export const consentChangeSignal = defineSignal<[ConsentChangeSignal]>(CONSENT_CHANGE_SIGNAL);
/** Acknowledged but not yet in SQL: every send decision folds these over the stored row. */
export const pendingChangesQuery = defineQuery<ConsentChangeSignal[]>(CONSENT_PENDING_QUERY);

// A consent write must land eventually, whatever the database does meanwhile.
const { applyConsentChange, recordDuplicateConsentChange } =
  proxyActivities<ConsentActivities>(QUICK_CALL_ACTIVITY);

/** A change in the queue; a redelivery is kept only to be recorded as such. */
type Queued = ConsentChangeSignal & { duplicate?: true };

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
  const pending: Queued[] = [...(input.pending ?? [])];
  const seen: string[] = [...(input.seenMessageIds ?? [])];
  /** The change being written right now: still pending until SQL has it. */
  let applying: ConsentChangeSignal | undefined;

  setHandler(consentChangeSignal, (change) => {
    if (change.providerMessageId) {
      if (seen.includes(change.providerMessageId)) {
        pending.push({ ...change, duplicate: true }); // the same webhook delivered again
        return;
      }
      seen.push(change.providerMessageId);
      if (seen.length > SEEN_MESSAGE_IDS_LIMIT) seen.shift();
    }
    pending.push(change);
  });
  setHandler(pendingChangesQuery, () => [
    ...(applying ? [applying] : []),
    ...pending.filter((c) => !c.duplicate),
  ]);

  for (;;) {
    const hasWork = await condition(() => pending.length > 0, IDLE_TIMEOUT);
    if (!hasWork) return; // idle: a signal arriving now makes the server retry this task with it

    const next = pending.shift() as Queued;
    if (next.duplicate) {
      const { duplicate: _, ...change } = next;
      await recordDuplicateConsentChange({ ...change, venueId, phoneNumber });
    } else {
      applying = next;
      await applyOrSkip({ ...applying, venueId, phoneNumber });
      applying = undefined;
    }

    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength > MAX_HISTORY_EVENTS) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof consentEntity>({ venueId, phoneNumber, seenMessageIds: seen, pending });
    }
  }
}

/**
 * The write retries a database outage forever; it fails only for a change no retry can apply (the
 * activity said non-retryable). That change is logged and skipped, never blocking the ones behind it.
 */
async function applyOrSkip(change: Parameters<typeof applyConsentChange>[0]): Promise<void> {
  try {
    await applyConsentChange(change);
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    log.error('consent change cannot be applied; skipped', {
      venueId: change.venueId,
      status: change.status,
      source: change.source,
      reason: err.cause?.message,
    });
  }
}
