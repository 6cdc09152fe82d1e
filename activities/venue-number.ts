import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import type { ProviderName } from '../domain/enums';
import { isSmsProviderError, type FailureType } from '../domain/errors';
import { maskPhone } from '../domain/phone';
import type { VenueNumber } from '../db/venue-numbers-repository';
import { venueFriendlyName } from '../providers/sms-provider';
import type { OrderContext, VenueNumberInput, VenueSender } from '../temporal/contracts';
import { activityLogger, providerFor, withHeartbeat } from './context';
import type { ActivityDeps } from './deps';
import { toApplicationFailure } from './failures';

export type { VenueSender } from '../temporal/contracts';

export interface EnsureVenueSenderInput extends OrderContext {
  venueId: number;
  /** Defaults to the venue's override (SMS_PROVIDER_BY_VENUE), else the configured provider. */
  provider?: ProviderName;
}

export function createVenueNumberActivities(deps: ActivityDeps) {
  const rethrow = (err: unknown): never => {
    if (isSmsProviderError(err)) throw toApplicationFailure(err, Context.current().info.attempt);
    throw err;
  };

  return {
    /**
     * The venue's sender number: the stored one, or the one the (venue, provider) provisioning
     * workflow buys. Every concurrent first order waits on that single purchase.
     */
    async ensureVenueSender(input: EnsureVenueSenderInput): Promise<VenueSender> {
      const provider =
        input.provider ?? deps.config.sms.providerByVenue[input.venueId] ?? deps.config.sms.provider;
      const { failover } = deps.config.sms;
      const policy = failover && failover.provider !== provider ? { failover } : {};
      const existing = await deps.repos.venueNumbers.findActive(input.venueId, provider);
      if (existing) return { ...toSender(existing), ...policy };
      // Waiting on the provisioning workflow can take a while; heartbeats show this worker is alive.
      const provisioned = await withHeartbeat(() => deps.provisionVenueNumber(input.venueId, provider)).catch(
        (err: unknown) => {
          throw provisioningFailure(err);
        },
      );
      return { ...provisioned, ...policy };
    },

    /**
     * The provisioning workflow's one step. Before buying it adopts a number the provider already
     * holds under the venue's name: an earlier attempt may have bought it and died before storing it.
     */
    async acquireVenueNumber(input: VenueNumberInput): Promise<VenueSender> {
      const log = activityLogger(deps.logger, { venueId: input.venueId, provider: input.provider });
      const existing = await deps.repos.venueNumbers.findActive(input.venueId, input.provider);
      if (existing) return toSender(existing);

      const provider = providerFor(deps, input.provider);
      const friendlyName = venueFriendlyName(input.venueId);
      const { adopted, number } = await withHeartbeat(async () => {
        const owned = await provider.findOwnedNumber(friendlyName).catch(rethrow);
        if (owned) return { adopted: true, number: owned };
        const bought = await provider
          .buyNumber({
            friendlyName,
            country: deps.config.sms.defaultPhoneRegion,
            smsWebhookUrl: `${deps.config.api.publicBaseUrl}/webhooks/${input.provider}`,
          })
          .catch(rethrow);
        return { adopted: false, number: bought };
      });
      const { number: stored, inserted } = await deps.repos.venueNumbers.insertActive({
        venueId: input.venueId,
        provider: input.provider,
        phoneNumber: number.phoneNumber,
        providerId: number.providerId,
        friendlyName: number.friendlyName,
      });
      if (inserted) {
        log.info(
          { sender: maskPhone(stored.phoneNumber), adopted },
          adopted ? 'venue sender number adopted from the provider' : 'venue sender number purchased',
        );
      } else if (stored.providerId !== number.providerId) {
        // Only a number stored outside this workflow (by hand, by an older release) can get here.
        log.warn({ providerId: number.providerId }, 'venue already had a number; releasing the extra one');
        await provider.releaseNumber(number.providerId).catch((err: unknown) => {
          log.error(
            { err, providerId: number.providerId },
            'could not release the extra number; release it by hand',
          );
        });
      }
      return toSender(stored);
    },

    /**
     * Frees the venue's number at the provider, then marks the row released (kept as history). Both
     * steps are idempotent, so a retry after a crash between them finishes the job.
     */
    async releaseVenueNumber(input: VenueNumberInput): Promise<{ released: boolean }> {
      const log = activityLogger(deps.logger, { venueId: input.venueId, provider: input.provider });
      const active = await deps.repos.venueNumbers.findActive(input.venueId, input.provider);
      if (!active) return { released: false };
      const provider = providerFor(deps, input.provider);
      await withHeartbeat(() => provider.releaseNumber(active.providerId).catch(rethrow));
      await deps.repos.venueNumbers.release(active.id);
      log.info({ sender: maskPhone(active.phoneNumber) }, 'venue sender number released');
      return { released: true };
    },
  };
}

/**
 * Provisioning fails only on what retrying cannot fix (it retries the rest itself): pass its type on
 * as non-retryable, so the order records `failed` instead of waiting on a purchase forever.
 */
function provisioningFailure(err: unknown): unknown {
  if (!(err instanceof WorkflowFailedError)) return err;
  let cause: unknown = err.cause;
  while (cause instanceof Error && !(cause instanceof ApplicationFailure) && cause.cause) cause = cause.cause;
  const fallback: FailureType = 'Misconfiguration';
  const type = cause instanceof ApplicationFailure ? (cause.type ?? fallback) : fallback;
  const message = cause instanceof Error ? cause.message : err.message;
  const details = cause instanceof ApplicationFailure ? (cause.details ?? undefined) : undefined;
  return ApplicationFailure.create({
    type,
    message: `no sender number: ${message}`,
    nonRetryable: true,
    details,
  });
}

function toSender(number: Pick<VenueNumber, 'id' | 'phoneNumber' | 'provider'>): VenueSender {
  return { venuePhoneNumberId: number.id, phoneNumber: number.phoneNumber, provider: number.provider };
}
