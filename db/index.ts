import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Knex } from 'knex';
import { createConsentRepository } from './consent-repository';
import { cleanDatabaseError } from './errors';
import { dialectOf, type Dialect } from './knex';
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
 * route, log line, Temporal failure, span) can pass a phone number on by accident. Each call is a
 * client span (`SmsSendHistory recordRun`) in the caller's trace when tracing is on (a no-op
 * otherwise), named by table and method: no statement, no values.
 */
export function createRepositories(knex: Knex): Repositories {
  const system = DB_SYSTEM[dialectOf(knex)];
  const wrap = <R extends object>(table: string, repository: R) => instrumented(system, table, repository);
  return {
    consent: wrap('SmsConsent', createConsentRepository(knex)),
    history: wrap('SmsSendHistory', createHistoryRepository(knex)),
    orderClaims: wrap('SmsOrderClaims', createOrderClaimsRepository(knex)),
    rollout: wrap('Rollout', createRolloutRepository(knex)),
    venueNumbers: wrap('VenuePhoneNumbers', createVenueNumbersRepository(knex)),
    webhookNonces: wrap('WebhookNonces', createWebhookNoncesRepository(knex)),
  };
}

const tracer = trace.getTracer('sms-order-confirmation/db');

/** The same repository, each method in a span and its rejection passed through cleanDatabaseError. */
function instrumented<R extends object>(system: string, table: string, repository: R): R {
  const wrapped: Record<string, unknown> = {};
  for (const [name, member] of Object.entries(repository)) {
    wrapped[name] =
      typeof member === 'function'
        ? (...args: unknown[]) =>
            tracer.startActiveSpan(
              `${table} ${name}`,
              {
                kind: SpanKind.CLIENT,
                attributes: { 'db.system': system, 'db.sql.table': table, 'db.operation': name },
              },
              async (span) => {
                try {
                  return await (member as (...a: unknown[]) => Promise<unknown>).apply(repository, args);
                } catch (err) {
                  const clean = cleanDatabaseError(err, `${table} ${name}`);
                  span.setStatus({
                    code: SpanStatusCode.ERROR,
                    message: clean instanceof Error ? clean.name : 'error',
                  });
                  throw clean;
                } finally {
                  span.end();
                }
              },
            )
        : member;
  }
  return wrapped as R;
}

/** OpenTelemetry's `db.system` for each dialect we run on. */
const DB_SYSTEM: Record<Dialect, string> = { sqlite: 'sqlite', postgres: 'postgresql', mssql: 'mssql' };

/** The readiness probe's database check. */
export async function pingDatabase(knex: Knex): Promise<void> {
  try {
    await knex.raw('select 1');
  } catch (err) {
    throw cleanDatabaseError(err, 'database ping');
  }
}
