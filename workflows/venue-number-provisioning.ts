import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  defineSignal,
  getExternalWorkflowHandle,
  proxyActivities,
  setHandler,
} from '@temporalio/workflow';
import type { VenueNumberActivities } from '../activities';
import {
  VENUE_NUMBER_ANSWER_SIGNAL,
  VENUE_NUMBER_WAITER_SIGNAL,
  type VenueNumberAnswer,
  type VenueNumberInput,
  type VenueSender,
} from '../temporal/contracts';
import { VENUE_NUMBER_PURCHASE_ACTIVITY } from './activity-options';

/** An order workflow's id: it waits, in workflow code, for this run's answer. */
export const venueNumberWaiterSignal = defineSignal<[string]>(VENUE_NUMBER_WAITER_SIGNAL);
export const venueNumberAnswerSignal = defineSignal<[VenueNumberAnswer]>(VENUE_NUMBER_ANSWER_SIGNAL);

const { acquireVenueNumber, releaseVenueNumber } = proxyActivities<VenueNumberActivities>(
  VENUE_NUMBER_PURCHASE_ACTIVITY,
);

/**
 * Single flight per (venue, provider): the workflow id is the lock, so concurrent first orders for a
 * venue wait for one purchase instead of racing to buy several numbers. Orders wait in their own
 * workflow code (a signal back costs no activity slot), so a burst of first orders can never starve
 * the purchase they wait for.
 */
export async function venueNumberProvisioning(input: VenueNumberInput): Promise<VenueSender> {
  const waiting = answerWaiters();
  try {
    const sender = await acquireVenueNumber(input);
    await waiting.answer({ ...input, outcome: 'ready', sender });
    return sender;
  } catch (err) {
    // Only a failure no retry fixes gets here: every waiting order fails with it, and so does this run.
    await waiting.answer({ ...input, outcome: 'failed', ...failureOf(err) });
    throw err;
  }
}

/**
 * Releases the venue's number at a provider. It runs under the provisioning workflow's id, so a
 * release and a purchase for the same (venue, provider) never overlap; an order that asked for a
 * number meanwhile is told to ask again.
 */
export async function venueNumberRelease(input: VenueNumberInput): Promise<{ released: boolean }> {
  const waiting = answerWaiters();
  const result = await releaseVenueNumber(input);
  await waiting.answer({ ...input, outcome: 'released' });
  return result;
}

/**
 * Collects waiting orders and answers each once the answer is known, including orders that name
 * themselves after it is (the run completes only when every such signal is handled).
 */
function answerWaiters() {
  const waiters: string[] = [];
  let answer: VenueNumberAnswer | undefined;
  const tell = (workflowId: string, a: VenueNumberAnswer) =>
    // An order terminated meanwhile is not waiting any more.
    getExternalWorkflowHandle(workflowId)
      .signal(venueNumberAnswerSignal, a)
      .catch(() => undefined);
  setHandler(venueNumberWaiterSignal, async (workflowId) => {
    if (answer) await tell(workflowId, answer);
    else if (!waiters.includes(workflowId)) waiters.push(workflowId);
  });
  return {
    async answer(a: VenueNumberAnswer): Promise<void> {
      answer = a;
      await Promise.all(waiters.splice(0).map((w) => tell(w, a)));
      await condition(allHandlersFinished);
    },
  };
}

function failureOf(err: unknown): { type: string; message: string; code?: string } {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    const [details] = (cause.details ?? []) as Array<{ code?: string } | undefined>;
    return { type: cause.type ?? 'Misconfiguration', message: cause.message, code: details?.code };
  }
  return { type: 'Misconfiguration', message: cause instanceof Error ? cause.message : String(cause) };
}
