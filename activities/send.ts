import { Context } from '@temporalio/activity';
import type { ProviderName } from '../domain/enums';
import { isSmsProviderError } from '../domain/errors';
import { maskPhone } from '../domain/phone';
import type { AcceptedMessageQuery } from '../providers/sms-provider';
import { statusCallbackUrl } from '../providers/webhook';
import type { OrderContext } from '../temporal/contracts';
import { acknowledgedConsent } from './consent';
import { activityLogger, providerFor, withHeartbeat } from './context';
import type { ActivityDeps } from './deps';
import { toApplicationFailure } from './failures';

export interface SendSmsInput extends OrderContext {
  venueId: number;
  provider: ProviderName;
  to: string;
  from: string;
  body: string;
  /**
   * Set on a follow-up send for an order whose earlier send activity ran out of time: when that
   * earlier activity was first scheduled (epoch ms). Every attempt then reconciles since then, the
   * first one included, since the earlier activity may have been accepted.
   */
  reconcileSinceMs?: number;
}

export type SendSmsResult =
  | { kind: 'sent'; providerMessageId: string; reconciled: boolean }
  | { kind: 'not_sent'; outcome: 'blocked_opted_out' | 'skipped_no_consent' };

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
    claimedElsewhere: (ids) => deps.repos.history.messageIdsOfOtherOrders(input.provider, ids, input.orderId),
    signal,
  };
}

export interface FindAcceptedSmsInput extends SendSmsInput {
  /** When the first send attempt was scheduled (epoch ms). */
  sentAfterMs: number;
}

export function createSendActivities(deps: ActivityDeps) {
  return {
    /**
     * Before failing over: did the primary accept this order's message after all (an answer lost,
     * then the provider down)? Best effort: the workflow fails over when this cannot be answered.
     */
    async findAcceptedSms(input: FindAcceptedSmsInput): Promise<string | null> {
      const provider = providerFor(deps, input.provider);
      const { cancellationSignal } = Context.current();
      try {
        const earlier = await provider.findAcceptedMessage(
          acceptedMessageQuery(deps, input, input.sentAfterMs, cancellationSignal),
        );
        return earlier?.providerMessageId ?? null;
      } catch (err) {
        if (isSmsProviderError(err)) throw toApplicationFailure(err, Context.current().info.attempt);
        throw err;
      }
    },

    /**
     * The only activity that reaches a customer. Neither Twilio nor Plivo take an idempotency key, so
     * a retry first asks the provider whether an earlier attempt's message was accepted, and every
     * attempt re-reads consent right before the call so an opt-out landing mid-workflow wins.
     */
    async sendSms(input: SendSmsInput): Promise<SendSmsResult> {
      const { attempt, scheduledTimestampMs } = Context.current().info;
      const log = activityLogger(deps.logger, input).child({
        provider: input.provider,
        customer: maskPhone(input.to),
      });
      const provider = providerFor(deps, input.provider);

      return withHeartbeat(async (signal) => {
        try {
          if (attempt > 1 || input.reconcileSinceMs !== undefined) {
            // Since the send was first scheduled (the first attempt's time, on a retry): no earlier
            // attempt can be older. Each adapter widens this only by its provider's clock allowance;
            // wider would risk adopting another order's message.
            const sentAfterMs = Math.min(
              scheduledTimestampMs,
              input.reconcileSinceMs ?? scheduledTimestampMs,
            );
            const earlier = await provider.findAcceptedMessage(
              acceptedMessageQuery(deps, input, sentAfterMs, signal),
            );
            if (earlier) {
              log.warn(
                { providerMessageId: earlier.providerMessageId },
                'an earlier attempt was accepted; not sending again',
              );
              return { kind: 'sent', providerMessageId: earlier.providerMessageId, reconciled: true };
            }
          }

          const consent = await acknowledgedConsent(deps, input.venueId, input.to);
          if (consent?.status !== 'opted_in') {
            const outcome = consent?.status === 'opted_out' ? 'blocked_opted_out' : 'skipped_no_consent';
            log.info({ outcome }, 'consent changed before the send; not sending');
            return { kind: 'not_sent', outcome };
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
          log.info({ providerMessageId: accepted.providerMessageId }, 'sms accepted by provider');
          return { kind: 'sent', providerMessageId: accepted.providerMessageId, reconciled: false };
        } catch (err) {
          if (!isSmsProviderError(err)) throw err;
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
