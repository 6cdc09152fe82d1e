import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createConsentActivities } from '../../../activities/consent';
import type { ActivityDeps } from '../../../activities/deps';
import { loadConfig } from '../../../config';
import { createRepositories } from '../../../db';
import type { PendingConsentChange } from '../../../domain/consent';
import type { ConsentStatus } from '../../../domain/enums';
import { createLogger } from '../../../config/logger';
import { createRolloutControl } from '../../../rollout/sql-control';
import { useTestDatabase } from '../../support/db';

/**
 * checkConsent, the order's first gate, on real SQL with the consent entity's pending changes as a
 * counted stand-in: a customer SQL holds opted in costs no look at the entity (the send step reads
 * it before the provider call); any other row must see what the entity holds.
 */
const db = useTestDatabase();
const VENUE = 4711;
let phoneSeq = 0;
let pending: PendingConsentChange[];
let entityReads: number;

beforeEach(() => {
  pending = [];
  entityReads = 0;
});

function deps(): ActivityDeps {
  const repos = createRepositories(db.knex);
  const unused = () => Promise.reject(new Error('not used by checkConsent'));
  return {
    repos,
    providers: {},
    config: loadConfig({}),
    logger: createLogger({ level: 'silent', name: 'check-consent-test' }),
    rollout: createRolloutControl({ repos, cacheMs: 0 }),
    pendingConsentChanges: async () => {
      entityReads++;
      return pending;
    },
    signalConsentChange: unused,
    runClosedAt: unused,
    requestVenueNumber: unused,
  };
}

async function customer(stored?: ConsentStatus): Promise<string> {
  const phone = `+1415555${String(1000 + ++phoneSeq).padStart(4, '0')}`;
  if (stored)
    await createRepositories(db.knex).consent.applyChange({
      venueId: VENUE,
      phoneNumber: phone,
      status: stored,
      source: 'checkout',
      occurredAt: new Date(Date.now() - 60_000),
    });
  return phone;
}

const change = (status: ConsentStatus): PendingConsentChange => ({
  status,
  source: 'provider_webhook',
  occurredAt: new Date().toISOString(),
  providerMessageId: `SM-${status}-${phoneSeq}`,
});

function checkConsent(phoneNumber: string) {
  return new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') }).run(
    createConsentActivities(deps()).checkConsent,
    { orderId: 'order-1', correlationId: 'corr-1', venueId: VENUE, phoneNumber },
  );
}

test('opted in in SQL: opted_in without asking the entity, even while it holds a STOP (the send step blocks it)', async () => {
  const phone = await customer('opted_in');
  pending = [change('opted_out')];
  expect(await checkConsent(phone)).toBe('opted_in');
  expect(entityReads).toBe(0);
});

test.each([
  ['not in SQL', undefined],
  ['opted out in SQL', 'opted_out' as const],
])('%s: a newer START the entity holds counts', async (_, stored) => {
  const phone = await customer(stored);
  pending = [change('opted_in')];
  expect(await checkConsent(phone)).toBe('opted_in');
  expect(entityReads).toBe(1);
});

test('opted out in SQL, nothing pending: opted_out; unknown customer: none', async () => {
  expect(await checkConsent(await customer('opted_out'))).toBe('opted_out');
  expect(await checkConsent(await customer())).toBe('none');
  expect(entityReads).toBe(2);
});
