import { ApplicationFailure, Context } from '@temporalio/activity';
import type { ProviderName } from '../domain/enums';
import { isSmsProviderError } from '../domain/errors';
import { isEventExpired } from '../domain/order-event';
import { maskPhone } from '../domain/phone';
import type { OrderClaim } from '../db/order-claims-repository';
import type { AcceptedMessage, AcceptedMessageQuery } from '../providers/sms-provider';
import { statusCallbackUrl } from '../providers/webhook';
import type { OrderContext } from '../temporal/contracts';
import { acknowledgedConsent } from './consent';
import { activityLogger, providerFor, withHeartbeat } from './context';
import type { ActivityDeps } from './deps';
import { toApplicationFailure } from './failures';
import { pausedWaitMs, rolloutGate, type RolloutGate } from './rollout';
import type { PauseScope } from '../rollout/control';

export interface SendSmsInput extends OrderContext {
  venueId: number;
  provider: ProviderName;
  to: string;
  from: string;
  body: string;
  /** The event's own time: an order older than MAX_EVENT_AGE_HOURS is not confirmed any more. */
  eventTimestamp?: string;
  /**
   * Read rollout control (the venue's flag, the pauses) before sending. Set by every order since
   * issue 21; absent only in the histories of orders that ran before it.
   */
  rollout?: true;
}

export type SendSmsResult =
  | { kind: 'sent'; providerMessageId: string; reconciled: boolean }
  | { kind: 'not_sent'; outcome: NotSentOutcome }
  /** A pause holds the order: nothing sent; the workflow waits for the resume, or `recheckAfterMs`. */
  | { kind: 'paused'; target: PauseScope; reason: string; recheckAfterMs: number }
  /** An earlier run of this order (a reset, an event re-driven after retention) texted the customer. */
  | { kind: 'not_sent'; outcome: 'duplicate'; providerMessageId: string };

/**
 * Reconciliation's question for one order: a message from `from` to `to` accepted since `sentAfterMs`
 * that no other order's history already names. "Since" means no look-back before the order's first
 * attempt (beyond the adapter's clock allowance); the history check covers orders for the same
 * customer at the same venue whose messages fall inside that window. Plivo lists no text at all, and
 * two such orders may have the same text on Twilio: without both, a retry adopts the other order's
 * message and its own SMS is never sent.
 */
function acceptedMessageQuery(
  deps: ActivityDeps,
  input: SendSmsInput,
  sentAfterMs: number,
  signal: AbortSignal,
): AcceptedMessageQuery {
  return {
    to: input.to,
    from: input.from,
    body: input.body,
    sentAfter: new Date(sentAfterMs),
    // Another order's claim holds its message id from the moment the provider accepted it; its
    // history row only once the order finished. Either one means "not this order's".
    claimedElsewhere: async (ids) => {
      const [recorded, claimed] = await Promise.all([
        deps.repos.history.messageIdsOfOtherOrders(input.provider, ids, input.orderId),
        deps.repos.orderClaims.claimedByOthers(input.orderId, ids),
      ]);
      return new Set([...recorded, ...claimed]);
    },
    signal,
  };
}

export interface FindAcceptedSmsInput extends SendSmsInput {
  /** When the first send attempt was scheduled (epoch ms). */
  sentAfterMs: number;
}

export function createSendActivities(deps: ActivityDeps) {
  const claims = deps.repos.orderClaims;
  return {
    /**
     * Before failing over: did the primary accept this order's message after all (an answer lost,
     * then the provider down)? An adoption is written to the claim like any other; a definite "no"
     * resolves the order's send there, freeing the recipient for the failover. Best effort: the
     * workflow keeps the primary when this cannot be answered.
     */
    async findAcceptedSms(input: FindAcceptedSmsInput): Promise<string | null> {
      const provider = providerFor(deps, input.provider);
      const { cancellationSignal } = Context.current();
      try {
        const claim = await claims.find(input.orderId);
        if (claim?.providerMessageId) return claim.providerMessageId;
        const earlier = await provider.findAcceptedMessage(
          acceptedMessageQuery(deps, input, input.sentAfterMs, cancellationSignal),
        );
        if (earlier) await claims.markSent(input.orderId, earlier.providerMessageId, earlier.acceptedAt);
        else await claims.releaseRecipient(input.orderId);
        return earlier?.providerMessageId ?? null;
      } catch (err) {
        if (isSmsProviderError(err)) throw toApplicationFailure(err, Context.current().info.attempt);
        throw err;
      }
    },

    /**
     * The only activity that reaches a customer. Neither Twilio nor Plivo take an idempotency key, so
     * the order's claim in SQL (SmsOrderClaims) decides first: an order already texted, by this run
     * or an earlier one, is not texted again. Then every write the attempt needs (the claim, the
     * attempt's provider and number, the hold on the recipient), then the reads (reconciliation with
     * the provider when an earlier attempt may have reached it, the acknowledged consent), then the
     * call: an opt-out landing mid-workflow wins, and nothing slows the last read-to-send gap.
     * While this order's send is unresolved it holds (venue number, customer), so another order for
     * the same customer waits, and reconciliation has one candidate (docs/adr/0012).
     */
    async sendSms(input: SendSmsInput): Promise<SendSmsResult> {
      const { workflowExecution, attempt } = Context.current().info;
      if (!workflowExecution) throw new Error('sendSms runs only inside a workflow');
      const { workflowId, runId } = workflowExecution;
      const log = activityLogger(deps.logger, input).child({
        provider: input.provider,
        customer: maskPhone(input.to),
      });
      const provider = providerFor(deps, input.provider);
      const alreadySent = (claim: OrderClaim, providerMessageId: string): SendSmsResult => {
        const earlierRun = claim.runId !== runId;
        log.warn(
          { providerMessageId, earlierRun, claimedAt: claim.claimedAt },
          earlierRun
            ? 'order already texted by an earlier run; not sending'
            : 'an earlier attempt was accepted; not sending again',
        );
        return earlierRun
          ? { kind: 'not_sent', outcome: 'duplicate', providerMessageId }
          : { kind: 'sent', providerMessageId, reconciled: true };
      };
      const notSent = async (outcome: NotSentOutcome, why: string): Promise<SendSmsResult> => {
        await claims.releaseRecipient(input.orderId);
        log.info({ outcome }, why);
        return { kind: 'not_sent', outcome };
      };
      const closed = async (gate: Exclude<RolloutGate, { kind: 'open' }>): Promise<SendSmsResult> => {
        if (gate.kind === 'disabled')
          return notSent('skipped_disabled', `SMS is off for this venue (${gate.reason}); not sending`);
        const recheckAfterMs = pausedWaitMs(input.eventTimestamp, deps.config.sms.maxEventAgeMs, Date.now());
        if (recheckAfterMs === undefined)
          return notSent('expired', 'event aged out while paused; not sending');
        log.info({ pause: gate.target, reason: gate.reason }, 'sends are paused; the order waits');
        return { kind: 'paused', target: gate.target, reason: gate.reason, recheckAfterMs };
      };

      return withHeartbeat(async (signal) => {
        // Rollout control first: an order without a claim was never sent by any run, so a pause or
        // a venue switched off answers at once, with no claim, hold or look at the provider (a paused
        // order asks again and again). With a claim, the path below reconciles before it decides.
        if (input.rollout) {
          const gate = await rolloutGate(deps, input.venueId, input.provider);
          if (gate.kind !== 'open' && !(await claims.find(input.orderId))) return closed(gate);
        }
        try {
          const { claim, created } = await claims.claim({
            orderId: input.orderId,
            venueId: input.venueId,
            provider: input.provider,
            fromNumber: input.from,
            workflowId,
            runId,
            claimedAt: new Date(),
          });
          if (claim.providerMessageId) return alreadySent(claim, claim.providerMessageId);
          // A claim made by an earlier attempt names that attempt's provider, number and run.
          const sameAttemptShape =
            claim.provider === input.provider && claim.fromNumber === input.from && claim.runId === runId;
          if (!sameAttemptShape) {
            await claims.recordAttempt(input.orderId, {
              provider: input.provider,
              fromNumber: input.from,
              runId,
            });
          }
          const hold = await claims.holdRecipient(
            { orderId: input.orderId, workflowId, runId, from: input.from, to: input.to },
            { runClosedAt: deps.runClosedAt },
          );
          if (!hold.held) throw recipientBusy(attempt);

          // An earlier attempt (of any run) may have reached the provider: find its message first.
          if (!created || attempt > 1) {
            const since = Math.max(claim.claimedAt.getTime(), hold.notBefore?.getTime() ?? 0);
            const earlier = await earlierAttemptMessage(deps, input, claim, runId, since, signal);
            if (earlier) {
              await claims.markSent(input.orderId, earlier.providerMessageId, earlier.acceptedAt);
              return alreadySent(claim, earlier.providerMessageId);
            }
          }

          if (isEventExpired(input.eventTimestamp, deps.config.sms.maxEventAgeMs))
            return notSent('expired', 'event too old to confirm by SMS; not sending');
          const consent = await acknowledgedConsent(deps, input.venueId, input.to);
          if (consent?.status !== 'opted_in') {
            const outcome = consent?.status === 'opted_out' ? 'blocked_opted_out' : 'skipped_no_consent';
            return notSent(outcome, 'consent changed before the send; not sending');
          }

          if (input.rollout) {
            // Read again at the last moment (from the cache, at most its age behind SQL): a pause or
            // a switch-off that landed while this order was on its way wins, as an opt-out does.
            const gate = await rolloutGate(deps, input.venueId, input.provider).catch(
              async (err: unknown) => {
                await claims.releaseRecipient(input.orderId);
                throw err;
              },
            );
            if (gate.kind !== 'open') {
              if (gate.kind === 'paused') await claims.releaseRecipient(input.orderId);
              return await closed(gate);
            }
          }

          // Last moment to notice this attempt timed out or the worker is stopping: never send after that.
          signal.throwIfAborted();
          const accepted = await provider.send({
            signal,
            to: input.to,
            from: input.from,
            body: input.body,
            statusCallbackUrl: statusCallbackUrl(deps.config.api, input.provider),
          });
          log.info({ providerMessageId: accepted.providerMessageId, attempt }, 'sms accepted by provider');
          // Should this write fail, the hold stays and the retry finds the message at the provider.
          await claims.markSent(input.orderId, accepted.providerMessageId, accepted.acceptedAt);
          return { kind: 'sent', providerMessageId: accepted.providerMessageId, reconciled: false };
        } catch (err) {
          if (!isSmsProviderError(err)) throw err;
          // An answered refusal is definite: nothing went out, the recipient is free. Down, cut off or
          // unanswered may have reached the provider: the hold stays until this order's retry knows.
          if (err.type !== 'ProviderUnavailable') await claims.releaseRecipient(input.orderId);
          const failure = toApplicationFailure(err, attempt);
          const level = err.type === 'ProviderAuth' ? 'error' : err.retryable ? 'warn' : 'info';
          log[level](
            { errorType: err.type, errorCode: err.code, retryable: err.retryable },
            'provider refused the send',
          );
          throw failure;
        }
      });
    },
  };
}

type NotSentOutcome = 'blocked_opted_out' | 'skipped_no_consent' | 'expired' | 'skipped_disabled';

/** Longest wait between two looks at a recipient another order holds; the first look comes sooner. */
const RECIPIENT_BUSY_MAX_DELAY_MS = 10_000;

/**
 * Another order's send to this customer from this number is unresolved: retry shortly. The attempt
 * ends at once, so the wait holds no activity slot, and the retry policy's schedule-to-close still
 * bounds it (a failover deadline reads it as a backlog, not an outage).
 */
function recipientBusy(attempt: number): ApplicationFailure {
  return ApplicationFailure.create({
    type: 'RecipientBusy',
    message: "another order's send to this customer is unresolved; waiting for it",
    nextRetryDelay: Math.min(250 * 2 ** Math.min(attempt - 1, 6), RECIPIENT_BUSY_MAX_DELAY_MS),
  });
}

/**
 * The message an earlier attempt of this order got accepted, asked where that attempt went: the
 * claim names its provider and number (reconciliation never uses the venue's current number, which
 * may have changed since). In the same run an earlier attempt through another provider was asked
 * by the workflow before it failed over, so only a rerun asks a provider other than its own. A
 * rerun that cannot ask (that provider no longer configured here: providerFor's Misconfiguration)
 * fails for good instead of risking a second SMS: ops configure it again, or decide by hand.
 */
async function earlierAttemptMessage(
  deps: ActivityDeps,
  input: SendSmsInput,
  claim: OrderClaim,
  runId: string,
  sinceMs: number,
  signal: AbortSignal,
): Promise<AcceptedMessage | null> {
  if (claim.runId === runId && claim.provider !== input.provider) return null;
  const asked = { ...input, provider: claim.provider, from: claim.fromNumber ?? input.from };
  return providerFor(deps, claim.provider).findAcceptedMessage(
    acceptedMessageQuery(deps, asked, sinceMs, signal),
  );
}
