import { Context } from '@temporalio/activity';
import type { ProviderName } from '../domain/enums';
import { isSmsProviderError } from '../domain/errors';
import { maskPhone } from '../domain/phone';
import { venueFriendlyName } from '../providers/sms-provider';
import type { OrderContext } from '../temporal/contracts';
import { activityLogger, providerFor } from './context';
import type { ActivityDeps } from './deps';
import { toApplicationFailure } from './failures';

export interface EnsureVenueSenderInput extends OrderContext {
  venueId: number;
  /** Defaults to the configured provider; the per-venue override arrives with the providers issue. */
  provider?: ProviderName;
}

export interface VenueSender {
  venuePhoneNumberId: number;
  phoneNumber: string;
  provider: ProviderName;
}

export function createVenueSenderActivities(deps: ActivityDeps) {
  return {
    /**
     * The venue's own sender number, bought the first time. The filtered unique index decides a race
     * between two first orders: the loser releases what it bought and uses the winner's number.
     */
    async ensureVenueSender(input: EnsureVenueSenderInput): Promise<VenueSender> {
      const log = activityLogger(deps.logger, input);
      const providerName = input.provider ?? deps.config.sms.provider;
      const existing = await deps.repos.venueNumbers.findActive(input.venueId, providerName);
      if (existing) return toSender(existing);

      const provider = providerFor(deps, providerName);
      let purchased;
      try {
        purchased = await provider.buyNumber({
          friendlyName: venueFriendlyName(input.venueId),
          country: deps.config.sms.defaultPhoneRegion,
          smsWebhookUrl: `${deps.config.api.publicBaseUrl}/webhooks/${providerName}`,
        });
      } catch (err) {
        if (isSmsProviderError(err)) throw toApplicationFailure(err, Context.current().info.attempt);
        throw err;
      }
      const { number, inserted } = await deps.repos.venueNumbers.insertActive({
        venueId: input.venueId,
        provider: providerName,
        phoneNumber: purchased.phoneNumber,
        providerId: purchased.providerId,
        friendlyName: purchased.friendlyName,
      });
      if (inserted) {
        log.info(
          { venueId: input.venueId, sender: maskPhone(number.phoneNumber) },
          'venue sender number purchased',
        );
      } else {
        log.warn({ venueId: input.venueId }, 'lost a concurrent purchase; releasing the extra number');
        await provider.releaseNumber(purchased.providerId).catch((err: unknown) => {
          log.error(
            { err, providerId: purchased.providerId },
            'could not release the extra number; release it by hand',
          );
        });
      }
      return toSender(number);
    },
  };
}

function toSender(number: { id: number; phoneNumber: string; provider: ProviderName }): VenueSender {
  return { venuePhoneNumberId: number.id, phoneNumber: number.phoneNumber, provider: number.provider };
}
