import type { Knex } from 'knex';
import { createConsentRepository } from './consent-repository';
import { cleanDatabaseError } from './errors';
import { createHistoryRepository } from './history-repository';
import { createOrderClaimsRepository } from './order-claims-repository';
import { createRolloutRepository } from './rollout-repository';
import { createVenueNumbersRepository } from './venue-numbers-repository';
import { createWebhookNoncesRepository } from './webhook-nonces-repository';

export interface Repositories {
  consent: ReturnType<typeof createConsentRepository>;
  history: ReturnType<typeof createHistoryRepository>;
  orderClaims: ReturnType<typeof createOrderClaimsRepository>;
  rollout: ReturnType<typeof createRolloutRepository>;
  venueNumbers: ReturnType<typeof createVenueNumbersRepository>;
  webhookNonces: ReturnType<typeof createWebhookNoncesRepository>;
}

/**
 * The repositories every role uses. Each method's failure leaves as a DatabaseError (db/errors.ts):
 * the driver's code and the kind of problem, never the SQL or the values, so no caller (activity,
 * route, log line, Temporal failure) can pass a phone number on by accident.
 */
export function createRepositories(knex: Knex): Repositories {
  return {
    consent: cleanErrors('SmsConsent', createConsentRepository(knex)),
    history: cleanErrors('SmsSendHistory', createHistoryRepository(knex)),
    orderClaims: cleanErrors('SmsOrderClaims', createOrderClaimsRepository(knex)),
    rollout: cleanErrors('Rollout', createRolloutRepository(knex)),
    venueNumbers: cleanErrors('VenuePhoneNumbers', createVenueNumbersRepository(knex)),
    webhookNonces: cleanErrors('WebhookNonces', createWebhookNoncesRepository(knex)),
  };
}

/** The same repository, with every method's rejection passed through cleanDatabaseError. */
function cleanErrors<R extends object>(table: string, repository: R): R {
  const wrapped: Record<string, unknown> = {};
  for (const [name, member] of Object.entries(repository)) {
    wrapped[name] =
      typeof member === 'function'
        ? async (...args: unknown[]) => {
            try {
              return await (member as (...a: unknown[]) => Promise<unknown>).apply(repository, args);
            } catch (err) {
              throw cleanDatabaseError(err, `${table} ${name}`);
            }
          }
        : member;
  }
  return wrapped as R;
}

/** The readiness probe's database check. */
export async function pingDatabase(knex: Knex): Promise<void> {
  try {
    await knex.raw('select 1');
  } catch (err) {
    throw cleanDatabaseError(err, 'database ping');
  }
}
