import { log, proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { SendActivities } from '../activities';
import type { SendSmsInput, SendSmsResult } from '../activities/send';
import type { ProviderName } from '../domain/enums';
import { SEND_ATTEMPT_TIMEOUT_MS } from '../domain/limits';
import { sendTaskQueue, type VenueSender } from '../temporal/contracts';
import { RECONCILE_ACTIVITY, SEND_ACTIVITY } from './activity-options';
import { providerDown, timedOut } from './failures';

/** What a send returned, and from which of the venue's numbers it went out. */
export interface Sent {
  result: Exclude<SendSmsResult, { kind: 'paused' }>;
  from: VenueSender;
}

/** The order as the send step sees it: its SMS from a given number, and a way to switch numbers. */
export interface SendingOrder {
  /** Marks the order as sending from `from` and returns its SMS from there. */
  sending(from: VenueSender): SendSmsInput;
  /** Moves the order to the venue's number at `provider` (and shows the switch in the UI). */
  useSender(provider: ProviderName): Promise<VenueSender>;
  /** Waits while a pause holds the order's sends from `from` (until it is lifted). */
  waitOutPause(paused: Extract<SendSmsResult, { kind: 'paused' }>, from: VenueSender): Promise<void>;
}

type AcceptedAnswer =
  { answer: 'accepted'; providerMessageId: string } | { answer: 'not_accepted' } | { answer: 'unknown' };

/**
 * Sends through the venue's primary provider. With failover configured, a primary that is itself
 * failing (down, or refusing our credentials) past the failover time hands the order to the
 * secondary, from the venue's number there, but only once the primary says it did not accept the
 * message: never on "could not ask". A backlog behind the send rate limit is not an outage, and
 * answers about the customer (opted out, invalid) never fail over.
 */
export async function sendWithFailover(order: SendingOrder, primary: VenueSender): Promise<Sent> {
  const { failover } = primary;
  const firstSendAt = Date.now(); // workflow time: deterministic on replay
  const calls = { lastStartedAt: firstSendAt };
  try {
    return await send(order, primary, failover?.afterMs, calls);
  } catch (err) {
    if (!failover || !timedOut(err)) throw err;
    // Out of time while queued behind the rate limit: the primary keeps the order, with the full budget.
    if (!providerDown(err)) return send(order, primary);
    // The deadline may have cut an attempt whose request is still on its way to the primary: ask
    // only once that attempt's whole budget has passed, so the answer covers it (a timer: free).
    // (A pause may have come between: the deadline is the last call's, which began after it.)
    const lastRequestEnds = calls.lastStartedAt + failover.afterMs + SEND_ATTEMPT_TIMEOUT_MS;
    if (Date.now() < lastRequestEnds) await sleep(lastRequestEnds - Date.now());
    const accepted = await acceptedAt(order, primary, firstSendAt);
    if (accepted.answer === 'accepted') {
      return {
        result: { kind: 'sent', providerMessageId: accepted.providerMessageId, reconciled: true },
        from: primary,
      };
    }
    // Could not ask: the primary may hold the message, so it keeps the order (its next send
    // reconciles from the order's claim) rather than risk a second text through the secondary.
    if (accepted.answer === 'unknown') return send(order, primary);
    log.warn('primary provider unavailable past the failover time; failing over', {
      from: primary.provider,
      to: failover.provider,
    });
    return send(order, await order.useSender(failover.provider));
  }
}

/**
 * With failover configured, the send's retries end at the failover time instead of after a day.
 * A paused answer waits out the pause, then sends again: each call has its own full budget.
 */
async function send(
  order: SendingOrder,
  from: VenueSender,
  scheduleToCloseMs?: number,
  calls = { lastStartedAt: 0 },
): Promise<Sent> {
  const { sendSms } = proxyActivities<SendActivities>({
    ...SEND_ACTIVITY,
    ...(scheduleToCloseMs ? { scheduleToCloseTimeout: scheduleToCloseMs } : {}),
    taskQueue: sendTaskQueue(workflowInfo().taskQueue, from.provider),
  });
  for (;;) {
    calls.lastStartedAt = Date.now();
    const result = await sendSms(order.sending(from));
    if (result.kind !== 'paused') return { result, from };
    await order.waitOutPause(result, from);
  }
}

/** Did `from` accept this order's message after all? "unknown" when it could not be asked. */
async function acceptedAt(
  order: SendingOrder,
  from: VenueSender,
  sentAfterMs: number,
): Promise<AcceptedAnswer> {
  const { findAcceptedSms } = proxyActivities<SendActivities>({
    ...RECONCILE_ACTIVITY,
    taskQueue: sendTaskQueue(workflowInfo().taskQueue, from.provider),
  });
  try {
    const providerMessageId = await findAcceptedSms({ ...order.sending(from), sentAfterMs });
    return providerMessageId ? { answer: 'accepted', providerMessageId } : { answer: 'not_accepted' };
  } catch {
    return { answer: 'unknown' };
  }
}
