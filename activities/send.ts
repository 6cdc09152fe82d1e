import { Context } from '@temporalio/activity';
import type { ProviderName } from '../domain/enums';
import { isSmsProviderError } from '../domain/errors';
import { maskPhone } from '../domain/phone';
import type { OrderClaim } from '../db/order-claims-repository';
import type { AcceptedMessageQuery } from '../providers/sms-provider';
import { statusCallbackUrl } from '../providers/webhook';
import type { OrderContext } from '../temporal/contracts';
import { acknowledgedConsent } from './consent';
import { activityLogger, providerFor, withHeartbeat } from './context';
import type { ActivityDeps } from './deps';
import { nonRetryableFailure, toApplicationFailure } from './failures';

export interface SendSmsInput extends OrderContext {
  venueId: number;
  provider: ProviderName;
  to: string;
  from: string;
  body: string;
  /** The event's own time: an order older than MAX_EVENT_AGE_HOURS is not confirmed any more. */
  eventTimestamp?: string;
}

export type SendSmsResult =
  | { kind: 'sent'; providerMessageId: string; reconciled: boolean }
  | { kind: 'not_sent'; outcome: 'blocked_opted_out' | 'skipped_no_consent' | 'expired' }
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
     * the order's claim in SQL (SmsOrderClaims) decides first: an order already texted, by this run
     * or an earlier one, is not texted again; an order some attempt claimed before asks the provider
     * whether that attempt's message was accepted, looking back to the claim and no further. Every
     * attempt re-reads consent right before the call, so an opt-out landing mid-workflow wins.
     */
    async sendSms(input: SendSmsInput): Promise<SendSmsResult> {
      const { workflowExecution, attempt } = Context.current().info;
      if (!workflowExecution) throw new Error('sendSms runs only inside a workflow');
      const log = activityLogger(deps.logger, input).child({
        provider: input.provider,
        customer: maskPhone(input.to),
      });
      const provider = providerFor(deps, input.provider);
      const alreadySent = (claim: OrderClaim, providerMessageId: string): SendSmsResult => {
        const earlierRun = claim.runId !== workflowExecution.runId;
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

      return withHeartbeat(async (signal) => {
        try {
          const { claim, created } = await deps.repos.orderClaims.claim({
            orderId: input.orderId,
            venueId: input.venueId,
            provider: input.provider,
            workflowId: workflowExecution.workflowId,
            runId: workflowExecution.runId,
            claimedAt: new Date(),
          });
          if (claim.providerMessageId) return alreadySent(claim, claim.providerMessageId);
          if (!created) {
            // Some attempt claimed the order before this one and may have reached the provider.
            // The order's first attempt, by any run: no earlier message can be this order's.
            const earlier = await provider.findAcceptedMessage(
              acceptedMessageQuery(deps, input, claim.claimedAt.getTime(), signal),
            );
            if (earlier) {
              await deps.repos.orderClaims.markSent(input.orderId, earlier.providerMessageId);
              return alreadySent(claim, earlier.providerMessageId);
            }
            // An earlier run's last attempt went through another provider (ops switched providers to
            // end the outage that run failed in, or it had failed over): that provider may hold the
            // message, so a rerun asks it too (docs/adr/0008-rerun.md). The same run's failover asked
            // the primary itself before switching (workflows/order-confirmation.ts).
            if (claim.runId !== workflowExecution.runId && claim.provider !== input.provider) {
              const there = await acceptedAtEarlierProvider(deps, input, claim, signal);
              if (there) {
                await deps.repos.orderClaims.markSent(input.orderId, there.providerMessageId);
                return alreadySent(claim, there.providerMessageId);
              }
            }
          }

          if (isExpired(input.eventTimestamp, deps.config.sms.maxEventAgeMs)) {
            log.warn(
              { eventTimestamp: input.eventTimestamp },
              'event too old to confirm by SMS; not sending',
            );
            return { kind: 'not_sent', outcome: 'expired' };
          }

          const consent = await acknowledgedConsent(deps, input.venueId, input.to);
          if (consent?.status !== 'opted_in') {
            const outcome = consent?.status === 'opted_out' ? 'blocked_opted_out' : 'skipped_no_consent';
            log.info({ outcome }, 'consent changed before the send; not sending');
            return { kind: 'not_sent', outcome };
          }

          // The claim names the provider of the order's latest attempt, the one a rerun must ask.
          if (claim.provider !== input.provider)
            await deps.repos.orderClaims.recordProvider(input.orderId, input.provider);

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
          // Should this write fail, the retry finds the message at the provider since the claim.
          await deps.repos.orderClaims.markSent(
            input.orderId,
            accepted.providerMessageId,
            accepted.acceptedAt,
          );
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

/**
 * Asks the provider an earlier run last tried for this order's message, from the venue's number
 * there. A rerun that cannot ask (that provider no longer configured on this worker, or the venue
 * has no number there any more) fails for good instead of risking a second SMS: ops configure the
 * old provider again for the rerun, or decide the order by hand.
 */
async function acceptedAtEarlierProvider(
  deps: ActivityDeps,
  input: SendSmsInput,
  claim: OrderClaim,
  signal: AbortSignal,
) {
  const earlierProvider = providerFor(deps, claim.provider);
  const number = await deps.repos.venueNumbers.findActive(input.venueId, claim.provider);
  if (!number) {
    throw nonRetryableFailure(
      'Misconfiguration',
      `an earlier run sent through ${claim.provider}, where venue ${input.venueId} has no active number to look its message up from`,
    );
  }
  const asked = { ...input, provider: claim.provider, from: number.phoneNumber };
  return earlierProvider.findAcceptedMessage(
    acceptedMessageQuery(deps, asked, claim.claimedAt.getTime(), signal),
  );
}

function isExpired(eventTimestamp: string | undefined, maxAgeMs: number): boolean {
  if (eventTimestamp === undefined) return false; // orders started before the field existed
  const at = Date.parse(eventTimestamp);
  return Number.isFinite(at) && Date.now() - at > maxAgeMs;
}
