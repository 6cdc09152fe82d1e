import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  TimeoutFailure,
  defineQuery,
  condition,
  log,
  patched,
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
  SendActivities,
  VenueNumberActivities,
} from '../activities';
import type { RecordHistoryInput } from '../activities/history';
import type { SendSmsInput, SendSmsResult } from '../activities/send';
import type { ProviderName, SmsOutcome } from '../domain/enums';
import { isFailureType, type FailureType } from '../domain/errors';
import {
  ORDER_STATUS_QUERY,
  sendTaskQueue,
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
  RECONCILE_ACTIVITY,
  RENDER_ACTIVITY,
  SEND_ACTIVITY,
  LEGACY_VENUE_SENDER_ACTIVITY,
} from './activity-options';
import { showOrderDetails } from './order-details';
import { venueNumberAnswerSignal } from './venue-number-provisioning';

export const statusQuery = defineQuery<OrderStatus>(ORDER_STATUS_QUERY);

const { checkConsent, recordProviderOptOut } = proxyActivities<ConsentActivities>(QUICK_CALL_ACTIVITY);
const { recordHistory } = proxyActivities<HistoryActivities>(QUICK_CALL_ACTIVITY);
const { findVenueNumber, requestVenueNumber } = proxyActivities<VenueNumberActivities>(QUICK_CALL_ACTIVITY);
const { ensureVenueSender } = proxyActivities<VenueNumberActivities>(LEGACY_VENUE_SENDER_ACTIVITY);
/**
 * The same quick steps as local activities, for orders on the lean path (docs/adr/0009). Picked by
 * name: the proxies resolve names on access, they have no keys to spread.
 */
const local = {
  checkConsent: proxyLocalActivities<ConsentActivities>(LOCAL_QUICK_CALL_ACTIVITY).checkConsent,
  findVenueNumber: proxyLocalActivities<VenueNumberActivities>(LOCAL_QUICK_CALL_ACTIVITY).findVenueNumber,
  recordHistory: proxyLocalActivities<HistoryActivities>(LOCAL_QUICK_CALL_ACTIVITY).recordHistory,
  renderMessage: proxyLocalActivities<RenderActivities>(LOCAL_RENDER_ACTIVITY).renderMessage,
};

/**
 * Orders started from this version on wait for a new venue's number in workflow code; older ones
 * replay their ensureVenueSender activity (docs/adr/0004-venue-number-wait.md).
 */
const VENUE_NUMBER_WAIT_IN_WORKFLOW = 'venue-number-wait-in-workflow';
/** Orders from this version on fail over only when the primary said it has no such message. */
const FAILOVER_ONLY_ON_DEFINITE_ANSWER = 'failover-only-on-definite-answer';
/**
 * Orders started from this version on run the consent read, the venue number look-up, the render
 * and the history write as local activities; older ones replay their regular activities
 * (docs/adr/0009-lean-order-path.md). It implies the two patches above, so a lean order records
 * neither marker.
 */
const LEAN_ORDER_PATH = 'lean-order-path';
/** How long an order waits for the provisioning workflow's answer before it looks again. */
const VENUE_NUMBER_ANSWER_TIMEOUT = '10 minutes';
const { renderMessage } = proxyActivities<RenderActivities>(RENDER_ACTIVITY);

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

  const consent = await order.checkConsent();
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

type AcceptedAnswer =
  { answer: 'accepted'; providerMessageId: string } | { answer: 'not_accepted' } | { answer: 'unknown' };

/** What a send returned, and from which of the venue's numbers it went out. */
interface Sent {
  result: SendSmsResult;
  from: VenueSender;
}

/**
 * Sends through the venue's primary provider. With failover configured, a primary that is itself
 * failing (down, or refusing our credentials) past the failover time hands the order to the
 * secondary, from the venue's number there, but only once the primary says it did not accept the
 * message: never on "could not ask". A backlog behind the send rate limit is not an outage, and
 * answers about the customer (opted out, invalid) never fail over.
 */
async function sendWithFailover(order: Order, primary: VenueSender): Promise<Sent> {
  const { failover } = primary;
  const firstSendAt = Date.now(); // workflow time: deterministic on replay
  try {
    return await order.send(primary, failover?.afterMs);
  } catch (err) {
    if (!failover || !timedOut(err)) throw err;
    // Out of time while queued behind the rate limit: the primary keeps the order, with the full budget.
    if (!providerDown(err)) return order.send(primary);
    const accepted = await order.acceptedAt(primary, firstSendAt);
    if (accepted.answer === 'accepted') {
      return {
        result: { kind: 'sent', providerMessageId: accepted.providerMessageId, reconciled: true },
        from: primary,
      };
    }
    // Could not ask: the primary may hold the message, so it keeps the order (its next send
    // reconciles from the order's claim) rather than risk a second text through the secondary.
    if (accepted.answer === 'unknown' && (order.lean || patched(FAILOVER_ONLY_ON_DEFINITE_ANSWER)))
      return order.send(primary);
    log.warn('primary provider unavailable past the failover time; failing over', {
      from: primary.provider,
      to: failover.provider,
    });
    return order.send(await order.useSender(failover.provider));
  }
}

type HistoryDetails = Pick<
  RecordHistoryInput,
  'venuePhoneNumberId' | 'provider' | 'message' | 'providerMessageId' | 'errorCode' | 'errorMessage'
>;

/**
 * One order's state as it moves through its steps: the `status` query reads it, and each method is
 * one step, so the workflow function above reads as the story.
 */
class Order {
  readonly status: OrderStatus = { step: 'checking_consent' };
  /** Quick steps run as local activities; decided once, before the first step (replays keep it). */
  readonly lean = patched(LEAN_ORDER_PATH);
  private readonly ctx: OrderContext;
  /** The number the order goes (or went) out from: the primary, or the failover's after a switch. */
  private sender?: VenueSender;
  private message = '';
  /** The provider whose number this order waits for, and the provisioning workflow's answer. */
  private awaitedNumber?: { provider: ProviderName; answer?: VenueNumberAnswer };

  constructor(private readonly input: OrderConfirmationInput) {
    this.ctx = { orderId: input.event.orderId, correlationId: input.correlationId };
  }

  private get event() {
    return this.input.event;
  }

  checkConsent() {
    const input = { ...this.ctx, venueId: this.event.venueId, phoneNumber: this.event.phoneNumber };
    return this.lean ? localFirst(local.checkConsent, checkConsent, input) : checkConsent(input);
  }

  /** Picks the venue's number at a provider and shows which provider the order goes through. */
  async useSender(provider?: ProviderName): Promise<VenueSender> {
    this.status.step = 'ensuring_sender';
    this.sender =
      this.lean || patched(VENUE_NUMBER_WAIT_IN_WORKFLOW)
        ? await this.venueSender(provider)
        : await ensureVenueSender({ ...this.ctx, venueId: this.event.venueId, provider });
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
      const found = this.lean
        ? await localFirst(local.findVenueNumber, findVenueNumber, input)
        : await findVenueNumber(input);
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
    await requestVenueNumber({
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
    const input = { ...this.ctx, event: this.event };
    this.message = (
      this.lean ? await localFirst(local.renderMessage, renderMessage, input) : await renderMessage(input)
    ).body;
  }

  /** With failover configured, the send's retries end at the failover time instead of after a day. */
  async send(from: VenueSender, scheduleToCloseMs?: number): Promise<Sent> {
    this.status.step = 'sending';
    const { sendSms } = proxyActivities<SendActivities>({
      ...SEND_ACTIVITY,
      ...(scheduleToCloseMs ? { scheduleToCloseTimeout: scheduleToCloseMs } : {}),
      taskQueue: sendTaskQueue(workflowInfo().taskQueue, from.provider),
    });
    return { result: await sendSms(this.sms(from)), from };
  }

  /** Did `from` accept this order's message after all? "unknown" when it could not be asked. */
  async acceptedAt(from: VenueSender, sentAfterMs: number): Promise<AcceptedAnswer> {
    const { findAcceptedSms } = proxyActivities<SendActivities>({
      ...RECONCILE_ACTIVITY,
      taskQueue: sendTaskQueue(workflowInfo().taskQueue, from.provider),
    });
    try {
      const providerMessageId = await findAcceptedSms({ ...this.sms(from), sentAfterMs });
      return providerMessageId ? { answer: 'accepted', providerMessageId } : { answer: 'not_accepted' };
    } catch {
      return { answer: 'unknown' };
    }
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
      await recordProviderOptOut({
        ...this.ctx,
        venueId: this.event.venueId,
        phoneNumber: this.event.phoneNumber,
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
    await this.recordHistory({
      ...row,
      orderNumber: null,
      venuePhoneNumberId: null,
      message: '',
      errorCode: 'InvalidRecord',
      errorMessage,
    }).catch(() => undefined); // best effort: the failure below says it all
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
    return this.lean ? localFirst(local.recordHistory, recordHistory, row) : recordHistory(row);
  }

  /** This order's SMS as sent from `from`. */
  private sms(from: VenueSender): SendSmsInput {
    return {
      ...this.ctx,
      venueId: this.event.venueId,
      provider: from.provider,
      to: this.event.phoneNumber,
      from: from.phoneNumber,
      body: this.message,
      eventTimestamp: this.event.eventTimestamp,
    };
  }
}

/**
 * A quick call run locally first. Two ends of a local attempt are not answers about the order, and
 * move the same call to its regular activity, which retries without limit on the server:
 * - the local budget (LOCAL_QUICK_CALL_ACTIVITY) ran out: the dependency is down, not blipping;
 * - the worker cancelled it (the run evicted from its cache, or the worker shutting down, while the
 *   attempt was in flight): the workflow itself was not cancelled, so the step is simply not done.
 * Definite answers (non-retryable failures) pass through.
 */
async function localFirst<I, R>(
  localCall: (input: I) => Promise<R>,
  regularCall: (input: I) => Promise<R>,
  input: I,
): Promise<R> {
  try {
    return await localCall(input);
  } catch (err) {
    if (!timedOut(err) && !cancelledByWorker(err)) throw err;
    log.warn('a local step did not finish locally; retrying it as a regular activity', {
      activity: err instanceof ActivityFailure ? err.activityType : undefined,
      reason: timedOut(err) ? 'local budget spent' : 'cancelled by the worker',
    });
    return regularCall(input);
  }
}

/** A local activity cancelled while its workflow was not: the worker's doing, not the order's. */
function cancelledByWorker(err: unknown): boolean {
  return (
    err instanceof ActivityFailure &&
    err.cause instanceof CancelledFailure &&
    !CancellationScope.current().consideredCancelled
  );
}

/** The provider itself was failing (down, or refusing our credentials) when the time ran out. */
function providerDown(err: unknown): boolean {
  const down: FailureType[] = ['ProviderUnavailable', 'ProviderAuth'];
  for (let cause: unknown = err; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof ApplicationFailure) return isFailureType(cause.type) && down.includes(cause.type);
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
  /** The failure's type: the taxonomy name, or the error's own name for anything outside it. */
  type: string;
  /** `type` when it is one of the taxonomy's names. */
  kind?: FailureType;
  code: string;
  message: string;
}

/** Reads the taxonomy type and provider code an activity failure carries (activities/failures.ts). */
function describeFailure(err: unknown): FailureSummary {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    const [details] = (cause.details ?? []) as Array<{ code?: string } | undefined>;
    const type = cause.type ?? 'Error';
    const kind = isFailureType(type) ? type : undefined;
    return { type, kind, code: details?.code ?? type, message: cause.message };
  }
  if (cause instanceof Error) return { type: cause.name, code: cause.name, message: cause.message };
  return { type: 'Error', code: 'Error', message: String(cause) };
}
