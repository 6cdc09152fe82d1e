import { Context } from '@temporalio/activity';
import type { ProviderName } from '../domain/enums';
import { isSmsProviderError } from '../domain/errors';
import { maskPhone } from '../domain/phone';
import type { VenueNumber } from '../db/venue-numbers-repository';
import { venueFriendlyName, type PurchasedNumber } from '../providers/sms-provider';
import type { OrderContext, VenueNumberInput, VenueSender } from '../temporal/contracts';
import { activityLogger, providerFor, withHeartbeat } from './context';
import type { ActivityDeps } from './deps';
import { databaseFailure, toApplicationFailure } from './failures';

export type { VenueSender } from '../temporal/contracts';

export interface FindVenueNumberInput extends OrderContext {
  venueId: number;
  /** Defaults to the venue's override (SMS_PROVIDER_BY_VENUE), else the configured provider. */
  provider?: ProviderName;
}

/** The venue's number at the provider its orders use, if it has one yet. */
export interface FoundVenueNumber {
  provider: ProviderName;
  /** The failover policy for orders through `provider` (also attached to `sender`). */
  failover?: VenueSender['failover'];
  /** Null when the number still has to be bought. */
  sender: VenueSender | null;
}

export interface RequestVenueNumberInput extends OrderContext {
  venueId: number;
  provider: ProviderName;
  /** The order workflow the provisioning workflow answers with a signal. */
  waiterWorkflowId: string;
}

/** A repository call whose refused data fails the activity for good (InvalidRecord); see databaseFailure. */
function db<T>(call: Promise<T>): Promise<T> {
  return call.catch((err: unknown) => {
    throw databaseFailure(err);
  });
}

export function createVenueNumberActivities(deps: ActivityDeps) {
  const rethrow = (err: unknown): never => {
    if (isSmsProviderError(err)) throw toApplicationFailure(err, Context.current().info.attempt);
    throw err;
  };

  /** Which provider the venue's orders use, and the failover policy that goes with it. */
  const choose = (venueId: number, requested?: ProviderName) => {
    const provider = requested ?? deps.config.sms.providerByVenue[venueId] ?? deps.config.sms.provider;
    const { failover } = deps.config.sms;
    return { provider, policy: failover && failover.provider !== provider ? { failover } : {} };
  };

  return {
    /**
     * A quick look-up, nothing more: a venue without a number is provisioned while the order waits
     * in workflow code (requestVenueNumber), holding no activity slot.
     */
    async findVenueNumber(input: FindVenueNumberInput): Promise<FoundVenueNumber> {
      const { provider, policy } = choose(input.venueId, input.provider);
      const existing = await db(deps.repos.venueNumbers.findActive(input.venueId, provider));
      return { provider, ...policy, sender: existing ? { ...toSender(existing), ...policy } : null };
    },

    /**
     * Names the order to the (venue, provider) provisioning workflow, starting it if none runs, and
     * returns at once: the workflow signals the order when the number is bought (or cannot be).
     */
    async requestVenueNumber(input: RequestVenueNumberInput): Promise<void> {
      await deps.requestVenueNumber(input.venueId, input.provider, input.waiterWorkflowId);
      activityLogger(deps.logger, input).info(
        { venueId: input.venueId, provider: input.provider },
        'venue has no number yet: provisioning requested',
      );
    },

    /**
     * The provisioning workflow's one step. Before buying it adopts a number the provider already
     * holds under the venue's name: an earlier attempt may have bought it and died before storing it,
     * or before the provider's purchase was complete (Plivo names a number in a second call). The
     * numbers earlier attempts chose ride in the heartbeat details (PurchaseProgress), so a retry
     * can ask about exactly those first; the provider's own look-up is the safety net when a worker
     * died before its heartbeat carried the choice.
     */
    async acquireVenueNumber(input: VenueNumberInput): Promise<VenueSender> {
      const log = activityLogger(deps.logger, { venueId: input.venueId, provider: input.provider });
      const existing = await db(deps.repos.venueNumbers.findActive(input.venueId, input.provider));
      if (existing) return toSender(existing);

      const provider = providerFor(deps, input.provider);
      const friendlyName = venueFriendlyName(input.venueId);
      const progress = purchaseProgress();
      const { adopted, number } = await withHeartbeat<
        { adopted: boolean; number: PurchasedNumber },
        PurchaseProgress
      >(async (signal, record) => {
        const owned = await provider.findOwnedNumber(friendlyName, signal, progress.chosen).catch(rethrow);
        if (owned) return { adopted: true, number: owned };
        const bought = await provider
          .buyNumber({
            friendlyName,
            country: deps.config.sms.defaultPhoneRegion,
            smsWebhookUrl: `${deps.config.api.publicBaseUrl}/webhooks/${input.provider}`,
            signal,
            onChosen: (providerId) =>
              record({ chosen: [providerId, ...progress.chosen].slice(0, REMEMBERED_CHOICES) }),
          })
          .catch(rethrow);
        return { adopted: false, number: bought };
      }, progress);
      const { number: stored, inserted } = await db(
        deps.repos.venueNumbers.insertActive({
          venueId: input.venueId,
          provider: input.provider,
          phoneNumber: number.phoneNumber,
          providerId: number.providerId,
          friendlyName: number.friendlyName,
        }),
      );
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
      const active = await db(deps.repos.venueNumbers.findActive(input.venueId, input.provider));
      if (!active) return { released: false };
      const provider = providerFor(deps, input.provider);
      await withHeartbeat((signal) => provider.releaseNumber(active.providerId, signal).catch(rethrow));
      await db(deps.repos.venueNumbers.release(active.id));
      log.info({ sender: maskPhone(active.phoneNumber) }, 'venue sender number released');
      return { released: true };
    },
  };
}

/**
 * acquireVenueNumber's heartbeat details: the providerIds its attempts chose to buy, newest first.
 * Every attempt carries the list on (withHeartbeat), so one that fails before choosing does not
 * erase an earlier attempt's choice.
 */
interface PurchaseProgress {
  chosen: string[];
}

/** A few: each costs the next attempt one look-up, and older choices were checked by the attempts since. */
const REMEMBERED_CHOICES = 5;

/** The previous attempt's PurchaseProgress; empty on a first attempt (or details of another shape). */
function purchaseProgress(): PurchaseProgress {
  const details = Context.current().info.heartbeatDetails as { chosen?: unknown } | undefined;
  const chosen = Array.isArray(details?.chosen) ? details.chosen : [];
  return { chosen: chosen.filter((c): c is string => typeof c === 'string') };
}

function toSender(number: Pick<VenueNumber, 'id' | 'phoneNumber' | 'provider'>): VenueSender {
  return { venuePhoneNumberId: number.id, phoneNumber: number.phoneNumber, provider: number.provider };
}
