import {
  ApplicationFailure,
  condition,
  defineQuery,
  defineSignal,
  log,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type {
  ConsentActivities,
  HistoryActivities,
  RenderActivities,
  RolloutActivities,
  VenueNumberActivities,
} from '../activities';
import type { RecordHistoryInput } from '../activities/history';
import type { SendSmsInput, SendSmsResult } from '../activities/send';
import type { ProviderName, SmsOutcome } from '../domain/enums';
import { PAUSED_OUTCOME, PENDING_OUTCOME, ROLLOUT_RESUMED_SIGNAL } from '../rollout/control';
import {
  ORDER_STATUS_QUERY,
  type OrderConfirmationInput,
  type OrderContext,
  type OrderStatus,
  type VenueNumberAnswer,
  type VenueSender,
} from '../temporal/contracts';
import { SmsErrorCodeKey, SmsOutcomeKey, SmsProviderKey } from '../temporal/search-attributes';
import {
  LOCAL_QUICK_CALL_ACTIVITY,
  LOCAL_RENDER_ACTIVITY,
  QUICK_CALL_ACTIVITY,
  RENDER_ACTIVITY,
} from './activity-options';
import { describeFailure, localFirst } from './failures';
import { showOrderDetails } from './order-details';
import { sendWithFailover, type SendingOrder, type Sent } from './send-with-failover';
import { venueNumberAnswerSignal } from './venue-number-provisioning';

export const statusQuery = defineQuery<OrderStatus>(ORDER_STATUS_QUERY);
/** A pause over this order was lifted: look again now rather than at the next re-check. */
export const rolloutResumedSignal = defineSignal(ROLLOUT_RESUMED_SIGNAL);

// The quick steps run as local activities; each falls back to its regular twin when its local budget
// runs out (workflows/failures.ts localFirst, docs/adr/0009).
const regular = proxyActivities<
  ConsentActivities & VenueNumberActivities & HistoryActivities & RolloutActivities
>(QUICK_CALL_ACTIVITY);
const { renderMessage } = proxyActivities<RenderActivities>(RENDER_ACTIVITY);
const local = proxyLocalActivities<
  ConsentActivities & VenueNumberActivities & HistoryActivities & RolloutActivities
>(LOCAL_QUICK_CALL_ACTIVITY);
const localRender = proxyLocalActivities<RenderActivities>(LOCAL_RENDER_ACTIVITY).renderMessage;

/**
 * A paused order's first look of its own, seconds after it turned paused: a resume whose wake-up
 * missed it (it turned paused just after the wake-up listed the paused orders) is seen at once.
 * The wait doubles after each look that finds the pause on, up to the activity's re-check bound.
 */
const PAUSE_FIRST_LOOK_MS = 5_000;

/** How long an order waits for the provisioning workflow's answer before it looks again. */
const VENUE_NUMBER_ANSWER_TIMEOUT = '10 minutes';

export interface OrderConfirmationResult {
  outcome: SmsOutcome;
  providerMessageId?: string;
  errorCode?: string;
}

/** One order, one confirmation SMS: consent → sender → render → send → history. */
export async function orderConfirmationSms(input: OrderConfirmationInput): Promise<OrderConfirmationResult> {
  const order = new Order(input);
  setHandler(statusQuery, () => order.status);
  setHandler(venueNumberAnswerSignal, (answer) => order.hearVenueNumber(answer));
  setHandler(rolloutResumedSignal, () => order.hearResumed());

  const consent = await order.checkConsent();
  if (consent === 'disabled') return order.finish('skipped_disabled');
  if (consent === 'none') return order.finish('skipped_no_consent');
  if (consent === 'opted_out') return order.finish('blocked_opted_out');
  let sent: Sent;
  try {
    const primary = await order.useSender();
    await order.render();
    sent = await sendWithFailover(order, primary);
  } catch (err) {
    return order.finishFailed(err);
  }
  return order.finishSent(sent);
}

type HistoryDetails = Pick<
  RecordHistoryInput,
  'venuePhoneNumberId' | 'provider' | 'message' | 'providerMessageId' | 'errorCode' | 'errorMessage'
>;

/**
 * One order's state as it moves through its steps: the `status` query reads it, and each method is
 * one step, so the workflow function above reads as the story.
 */
class Order implements SendingOrder {
  readonly status: OrderStatus = { step: 'checking_consent' };
  private readonly ctx: OrderContext;
  /** The number the order goes (or went) out from: the primary, or the failover's after a switch. */
  private sender?: VenueSender;
  private message = '';
  /** The provider whose number this order waits for, and the provisioning workflow's answer. */
  private awaitedNumber?: { provider: ProviderName; answer?: VenueNumberAnswer };
  /** A resume signal came since the last send attempt began (so one landing mid-attempt is kept). */
  private resumed = false;

  constructor(private readonly input: OrderConfirmationInput) {
    this.ctx = { orderId: input.event.orderId, correlationId: input.correlationId };
  }

  private get event() {
    return this.input.event;
  }

  checkConsent() {
    const input = {
      ...this.ctx,
      venueId: this.event.venueId,
      phoneNumber: this.event.phoneNumber,
      rollout: true as const,
    };
    return localFirst(local.checkConsent, regular.checkConsent, input);
  }

  /** Picks the venue's number at a provider and shows which provider the order goes through. */
  async useSender(provider?: ProviderName): Promise<VenueSender> {
    this.status.step = 'ensuring_sender';
    this.sender = await this.venueSender(provider);
    this.status.provider = this.sender.provider;
    upsertSearchAttributes([{ key: SmsProviderKey, value: this.sender.provider }]);
    showOrderDetails(this.status);
    return this.sender;
  }

  /**
   * The venue's stored number, or the one its provisioning workflow buys while this order waits
   * here: a wait in workflow code holds no activity slot, so any burst of first orders leaves the
   * purchase room to run.
   */
  private async venueSender(requested?: ProviderName): Promise<VenueSender> {
    for (;;) {
      const input = { ...this.ctx, venueId: this.event.venueId, provider: requested };
      const found = await localFirst(local.findVenueNumber, regular.findVenueNumber, input);
      if (found.sender) return found.sender;
      const answer = await this.awaitVenueNumber(found.provider);
      if (answer?.outcome === 'ready')
        return { ...answer.sender, ...(found.failover ? { failover: found.failover } : {}) };
      if (answer?.outcome === 'failed') {
        throw ApplicationFailure.create({
          type: answer.type,
          message: `no sender number: ${answer.message}`,
          nonRetryable: true,
          details: answer.code ? [{ code: answer.code }] : undefined,
        });
      }
      // Released meanwhile, or no answer in time: look again, and ask again if still needed.
    }
  }

  private async awaitVenueNumber(provider: ProviderName): Promise<VenueNumberAnswer | undefined> {
    this.awaitedNumber = { provider };
    await regular.requestVenueNumber({
      ...this.ctx,
      venueId: this.event.venueId,
      provider,
      waiterWorkflowId: workflowInfo().workflowId,
    });
    await condition(() => this.awaitedNumber?.answer !== undefined, VENUE_NUMBER_ANSWER_TIMEOUT);
    const { answer } = this.awaitedNumber;
    this.awaitedNumber = undefined;
    return answer;
  }

  /** The provisioning workflow's signal: kept only if it answers what this order waits for. */
  hearVenueNumber(answer: VenueNumberAnswer): void {
    if (this.awaitedNumber?.provider === answer.provider && answer.venueId === this.event.venueId)
      this.awaitedNumber.answer = answer;
  }

  async render(): Promise<void> {
    this.status.step = 'rendering';
    this.message = (await localFirst(localRender, renderMessage, { ...this.ctx, event: this.event })).body;
  }

  /** This order's SMS as sent from `from`. */
  sending(from: VenueSender): SendSmsInput {
    this.status.step = 'sending';
    this.resumed = false;
    return {
      ...this.ctx,
      venueId: this.event.venueId,
      provider: from.provider,
      to: this.event.phoneNumber,
      from: from.phoneNumber,
      body: this.message,
      eventTimestamp: this.event.eventTimestamp,
      rollout: true,
    };
  }

  /**
   * A pause holds this order: it waits here, in workflow code (no activity slot, nothing lost on a
   * restart), shown as SmsOutcome=paused, until the resume signal. Meanwhile it looks again on its
   * own, seconds after it turned paused and then less and less often (a resume whose signal missed it
   * is seen anyway), with a quick local read on the order queue, not the send queue. Once the pause
   * is lifted the send step asks again, and the provider's send queue paces a released backlog.
   */
  async waitOutPause(paused: Extract<SendSmsResult, { kind: 'paused' }>, from: VenueSender): Promise<void> {
    log.info('order paused; waiting for the resume', { pause: paused.target, reason: paused.reason });
    upsertSearchAttributes([{ key: SmsOutcomeKey, value: PAUSED_OUTCOME }]);
    this.status.step = 'paused';
    showOrderDetails(this.status);
    const look = {
      ...this.ctx,
      venueId: this.event.venueId,
      provider: from.provider,
      eventTimestamp: this.event.eventTimestamp,
    };
    let waitMs = Math.min(PAUSE_FIRST_LOOK_MS, paused.recheckAfterMs);
    while (!(await condition(() => this.resumed, waitMs))) {
      const gate = await localFirst(local.checkRollout, regular.checkRollout, look);
      if (gate.kind === 'go') break;
      waitMs = Math.min(waitMs * 2, gate.recheckAfterMs);
    }
    // Lifted: no longer shown as paused while its send waits its turn at the provider's pace.
    upsertSearchAttributes([{ key: SmsOutcomeKey, value: PENDING_OUTCOME }]);
  }

  hearResumed(): void {
    this.resumed = true;
  }

  finishSent({ result, from }: Sent): Promise<OrderConfirmationResult> {
    const sentFrom = {
      venuePhoneNumberId: from.venuePhoneNumberId,
      provider: from.provider,
      message: this.message,
    };
    if (result.kind === 'not_sent') {
      const providerMessageId = result.outcome === 'duplicate' ? result.providerMessageId : undefined;
      return this.finish(result.outcome, { ...sentFrom, providerMessageId });
    }
    this.status.providerMessageId = result.providerMessageId;
    return this.finish('sent', { ...sentFrom, providerMessageId: result.providerMessageId });
  }

  /**
   * A final answer about the customer completes the order; exhausted retries or misconfiguration
   * keep the record, then fail the workflow so ops can fix the cause and rerun it.
   */
  async finishFailed(err: unknown): Promise<OrderConfirmationResult> {
    const failure = describeFailure(err);
    const details: Partial<HistoryDetails> = {
      venuePhoneNumberId: this.sender?.venuePhoneNumberId,
      provider: this.sender?.provider,
      message: this.message,
      errorCode: failure.code,
      errorMessage: failure.message.slice(0, 500),
    };
    if (failure.kind === 'OptedOut') {
      // The provider knows better than our table: record the opt-out, then treat it as blocked.
      await regular.recordProviderOptOut({
        ...this.ctx,
        venueId: this.event.venueId,
        phoneNumber: this.event.phoneNumber,
        provider: this.sender?.provider,
        providerCode: failure.code,
      });
      return this.finish('blocked_opted_out', details);
    }
    // A number that can never receive SMS is a final business outcome; rerunning cannot help.
    if (failure.kind === 'InvalidPhone') return this.finish('failed', details);

    await this.finish('failed', details);
    this.status.step = 'failed';
    showOrderDetails(this.status);
    throw ApplicationFailure.nonRetryable(`SMS not sent: ${failure.message}`, failure.type, {
      code: failure.code,
    });
  }

  /** Writes the one history row of this run and publishes the outcome to the query and search attributes. */
  async finish(outcome: SmsOutcome, details: Partial<HistoryDetails> = {}): Promise<OrderConfirmationResult> {
    this.status.step = 'recording_history';
    const row: RecordHistoryInput = {
      ...this.ctx,
      venueId: this.event.venueId,
      customerId: this.event.customerId,
      customerPhoneNumber: this.event.phoneNumber,
      orderNumber: this.event.orderNumber ?? null,
      status: outcome,
      venuePhoneNumberId: details.venuePhoneNumberId ?? null,
      provider: details.provider,
      message: details.message ?? '',
      providerMessageId: details.providerMessageId ?? null,
      errorCode: details.errorCode ?? null,
      errorMessage: details.errorMessage ?? null,
    };
    await this.recordHistory(row).catch((err: unknown) => this.historyRefused(row, err));
    Object.assign(this.status, { step: 'completed', outcome, errorCode: details.errorCode ?? undefined });
    showOrderDetails(this.status);
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
  }

  /**
   * The database refused the history row itself (a value it cannot hold; retrying cannot help): keep
   * the outcome in a row without the optional fields, then fail the run so it shows in the UI, with
   * the outcome in the failure, instead of retrying forever after the SMS may have gone out.
   */
  private async historyRefused(row: RecordHistoryInput, err: unknown): Promise<never> {
    const failure = describeFailure(err);
    if (failure.kind !== 'InvalidRecord') throw err;
    const errorMessage = failure.message.slice(0, 500);
    const plain = { orderNumber: null, venuePhoneNumberId: null, message: '', errorCode: 'InvalidRecord' };
    await this.recordHistory({ ...row, ...plain, errorMessage }).catch(() => undefined); // the failure below says it all
    this.status.step = 'failed';
    upsertSearchAttributes([
      { key: SmsOutcomeKey, value: row.status },
      { key: SmsErrorCodeKey, value: 'InvalidRecord' },
    ]);
    throw ApplicationFailure.nonRetryable(
      `history not recorded (outcome ${row.status}): ${errorMessage}`,
      'InvalidRecord',
      {
        outcome: row.status,
        providerMessageId: row.providerMessageId,
      },
    );
  }

  /** One row per run, an upsert by the run's id: a local attempt that ran before a crash is found again. */
  private recordHistory(row: RecordHistoryInput) {
    return localFirst(local.recordHistory, regular.recordHistory, row);
  }
}
