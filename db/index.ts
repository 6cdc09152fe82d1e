import type { Knex } from 'knex';
import { createConsentRepository } from './consent-repository';
import { createHistoryRepository } from './history-repository';
import { createOrderClaimsRepository } from './order-claims-repository';
import { createVenueNumbersRepository } from './venue-numbers-repository';

export interface Repositories {
  consent: ReturnType<typeof createConsentRepository>;
  history: ReturnType<typeof createHistoryRepository>;
  orderClaims: ReturnType<typeof createOrderClaimsRepository>;
  venueNumbers: ReturnType<typeof createVenueNumbersRepository>;
}

export function createRepositories(knex: Knex): Repositories {
  return {
    consent: createConsentRepository(knex),
    history: createHistoryRepository(knex),
    orderClaims: createOrderClaimsRepository(knex),
    venueNumbers: createVenueNumbersRepository(knex),
  };
}

/** The readiness probe's database check. */
export async function pingDatabase(knex: Knex): Promise<void> {
  await knex.raw('select 1');
}
