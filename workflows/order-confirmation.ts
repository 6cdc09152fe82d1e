import {
  ActivityFailure,
  ApplicationFailure,
  TimeoutFailure,
  defineQuery,
  log,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { OrderActivities, SendActivities } from '../activities';
import type { RecordHistoryInput } from '../activities/history';
import type { SendSmsInput, SendSmsResult } from '../activities/send';
import type { VenueSender } from '../activities/venue-sender';
import type { ProviderName, SmsOutcome } from '../domain/enums';
import {
  ORDER_STATUS_QUERY,
  sendTaskQueue,
  type OrderConfirmationInput,
  type OrderContext,
  type OrderStatus,
} from '../temporal/contracts';
import { SmsErrorCodeKey, SmsOutcomeKey, SmsProviderKey } from '../temporal/search-attributes';

export const statusQuery = defineQuery<OrderStatus>(ORDER_STATUS_QUERY);

// Database reads and writes: a blip must not lose the order, so retry without limit, capped at a minute.
const { checkConsent, recordHistory, recordProviderOptOut } = proxyActivities<OrderActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

// The first order for a venue waits on the number purchase (the provisioning workflow); a
// misconfigured provider will not heal by retrying. Heartbeats notice a dead worker in seconds.
const { ensureVenueSender } = proxyActivities<OrderActivities>({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '5 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '5 minutes',
    nonRetryableErrorTypes: ['Misconfiguration', 'InvalidPhone'],
  },
});

// Pure CPU work: a failure is the template or the data, so retrying changes nothing.
const { renderMessage } = proxyActivities<OrderActivities>({
  startToCloseTimeout: '5 seconds',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['MessageTooLong', 'Misconfiguration'] },
});

// The customer-facing call. The heartbeat timeout notices a dead worker in seconds; the retry that
// follows reconciles with the provider before sending again. A day of retries covers a provider
// outage or revoked credentials (ProviderAuth sets its own longer delays); after that the order fails.
const SEND_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  heartbeatTimeout: '5 seconds',
  scheduleToCloseTimeout: '24 hours',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '5 minutes',
    nonRetryableErrorTypes: ['InvalidPhone', 'OptedOut', 'Misconfiguration'],
  },
};

// The look-up at a failing primary before failover: a few quick tries, then fail over anyway.
const RECONCILE_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '15 seconds',
  scheduleToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumAttempts: 3 },
};

export interface OrderConfirmationResult {
  outcome: SmsOutcome;
  providerMessageId?: string;
  errorCode?: string;
}

/** One order, one confirmation SMS: consent → sender → render → send → history. */
export async function orderConfirmationSms(input: OrderConfirmationInput): Promise<OrderConfirmationResult> {
  const { event } = input;
  const ctx: OrderContext = { orderId: event.orderId, correlationId: input.correlationId };
  const status: OrderStatus = { step: 'checking_consent' };
  setHandler(statusQuery, () => status);

  /** Writes the one history row of this run and publishes the outcome to the query and search attributes. */
  const finish = async (
    outcome: SmsOutcome,
    details: Partial<HistoryDetails> = {},
  ): Promise<OrderConfirmationResult> => {
    status.step = 'recording_history';
    await recordHistory({
      ...ctx,
      venueId: event.venueId,
      customerId: event.customerId,
      customerPhoneNumber: event.phoneNumber,
      orderNumber: event.orderNumber ?? null,
      status: outcome,
      venuePhoneNumberId: details.venuePhoneNumberId ?? null,
      provider: details.provider,
      message: details.message ?? '',
      providerMessageId: details.providerMessageId ?? null,
      errorCode: details.errorCode ?? null,
      errorMessage: details.errorMessage ?? null,
    });
    Object.assign(status, { step: 'completed', outcome, errorCode: details.errorCode ?? undefined });
    upsertSearchAttributes([
      { key: SmsOutcomeKey, value: outcome },
      ...(details.errorCode ? [{ key: SmsErrorCodeKey, value: details.errorCode }] : []),
    ]);
    log.info('order confirmation finished', { outcome, errorCode: details.errorCode });
    return {
      outcome,
      providerMessageId: details.providerMessageId ?? undefined,
      errorCode: details.errorCode ?? undefined,
    };
  };

  const consent = await checkConsent({ ...ctx, venueId: event.venueId, phoneNumber: event.phoneNumber });
  if (consent === 'none') return finish('skipped_no_consent');
  if (consent === 'opted_out') return finish('blocked_opted_out');

  let sender: VenueSender | undefined;
  let message = '';
  let sent: { result: SendSmsResult; from: VenueSender };
  /** Picks the venue's number at a provider and shows which provider the order goes through. */
  const useSender = async (provider?: ProviderName) => {
    status.step = 'ensuring_sender';
    sender = await ensureVenueSender({ ...ctx, venueId: event.venueId, provider });
    status.provider = sender.provider;
    upsertSearchAttributes([{ key: SmsProviderKey, value: sender.provider }]);
    return sender;
  };
  /** This order's SMS as sent from `from`. */
  const sms = (from: VenueSender): SendSmsInput => ({
    ...ctx,
    venueId: event.venueId,
    provider: from.provider,
    to: event.phoneNumber,
    from: from.phoneNumber,
    body: message,
  });
  const send = async (from: VenueSender, scheduleToCloseMs?: number) => {
    status.step = 'sending';
    const result = await sendActivity(from.provider, scheduleToCloseMs).sendSms(sms(from));
    return { result, from };
  };
  /** Best effort: a primary that cannot even answer this counts as "not accepted". */
  const acceptedAtPrimary = (from: VenueSender, sentAfterMs: number): Promise<string | null> =>
    proxyActivities<SendActivities>({
      ...RECONCILE_OPTIONS,
      taskQueue: sendTaskQueue(workflowInfo().taskQueue, from.provider),
    })
      .findAcceptedSms({ ...sms(from), sentAfterMs })
      .catch(() => null);
  try {
    const primary = await useSender();

    status.step = 'rendering';
    message = (await renderMessage({ ...ctx, event })).body;

    const firstSendAt = Date.now(); // workflow time: deterministic on replay
    try {
      sent = await send(primary, primary.failover?.afterMs);
    } catch (err) {
      const { failover } = primary;
      if (!failover || !timedOut(err)) throw err;
      if (!providerDown(err)) {
        // Out of time while queued behind the send rate limit, not failing at the provider: that is
        // a backlog, not an outage, so the primary keeps the order with the full retry budget.
        sent = await send(primary);
      } else {
        // The primary stayed unavailable past the failover time: go out through the secondary, from
        // the venue's number there, unless the primary turns out to have accepted it after all.
        // Answers about the customer (opted out, invalid) never fail over.
        const accepted = await acceptedAtPrimary(primary, firstSendAt);
        if (accepted) {
          sent = { result: { kind: 'sent', providerMessageId: accepted, reconciled: true }, from: primary };
        } else {
          log.warn('primary provider unavailable past the failover time; failing over', {
            from: primary.provider,
            to: failover.provider,
          });
          sent = await send(await useSender(failover.provider));
        }
      }
    }
  } catch (err) {
    const failure = describeFailure(err);
    const details = {
      venuePhoneNumberId: sender?.venuePhoneNumberId,
      provider: sender?.provider,
      message,
      errorCode: failure.code,
      errorMessage: failure.message.slice(0, 500),
    };
    if (failure.type === 'OptedOut') {
      // The provider knows better than our table: record the opt-out, then treat it as blocked.
      await recordProviderOptOut({
        ...ctx,
        venueId: event.venueId,
        phoneNumber: event.phoneNumber,
        providerCode: failure.code,
      });
      return finish('blocked_opted_out', details);
    }
    // A number that can never receive SMS is a final business outcome; rerunning cannot help.
    if (failure.type === 'InvalidPhone') return finish('failed', details);

    // Exhausted retries or misconfiguration: keep the record, then fail so ops can fix and rerun.
    await finish('failed', details);
    status.step = 'failed';
    throw ApplicationFailure.nonRetryable(`SMS not sent: ${failure.message}`, failure.type, {
      code: failure.code,
    });
  }

  const { result, from } = sent;
  const sentFrom = { venuePhoneNumberId: from.venuePhoneNumberId, provider: from.provider, message };
  if (result.kind === 'not_sent') return finish(result.outcome, sentFrom);
  status.providerMessageId = result.providerMessageId;
  return finish('sent', { ...sentFrom, providerMessageId: result.providerMessageId });
}

type HistoryDetails = Pick<
  RecordHistoryInput,
  'venuePhoneNumberId' | 'provider' | 'message' | 'providerMessageId' | 'errorCode' | 'errorMessage'
>;

/**
 * The send runs on its provider's rate-limited queue, named after this workflow's own queue. With
 * failover configured its retries end at the failover time instead of after a day.
 */
function sendActivity(provider: ProviderName, scheduleToCloseMs?: number) {
  return proxyActivities<SendActivities>({
    ...SEND_OPTIONS,
    ...(scheduleToCloseMs ? { scheduleToCloseTimeout: scheduleToCloseMs } : {}),
    taskQueue: sendTaskQueue(workflowInfo().taskQueue, provider),
  });
}

/** The provider itself was failing (down, or refusing our credentials) when the time ran out. */
function providerDown(err: unknown): boolean {
  for (let cause: unknown = err; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof ApplicationFailure)
      return cause.type === 'ProviderUnavailable' || cause.type === 'ProviderAuth';
  }
  return false;
}

/**
 * The activity ran out of time, retries included, as opposed to a definite answer: either a timeout
 * or a retryable failure whose next retry would have passed the schedule-to-close deadline.
 */
function timedOut(err: unknown): boolean {
  return (
    err instanceof ActivityFailure && (err.retryState === 'TIMEOUT' || err.cause instanceof TimeoutFailure)
  );
}

interface FailureSummary {
  type: string;
  code: string;
  message: string;
}

/** Reads the taxonomy type and provider code an activity failure carries (activities/failures.ts). */
function describeFailure(err: unknown): FailureSummary {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    const [details] = (cause.details ?? []) as Array<{ code?: string } | undefined>;
    const type = cause.type ?? 'Error';
    return { type, code: details?.code ?? type, message: cause.message };
  }
  if (cause instanceof Error) return { type: cause.name, code: cause.name, message: cause.message };
  return { type: 'Error', code: 'Error', message: String(cause) };
}
