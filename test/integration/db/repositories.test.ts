import type { Knex } from 'knex';
import { createRepositories } from '../../../db';
import { createKnex } from '../../../db/knex';
import { createTestDatabase, type TestDatabase } from '../../support/db';

let db: TestDatabase;
/** Separate pools on the same database, so concurrent writes really race on separate connections. */
let pools: Knex[];
beforeAll(async () => {
  db = await createTestDatabase();
  pools = Array.from({ length: 5 }, () => createKnex(db.url));
});
afterAll(async () => {
  await Promise.all(pools.map((k) => k.destroy()));
  await db.destroy();
});

const repos = () => createRepositories(db.knex);

describe('venue numbers', () => {
  test('50 concurrent inserts for one venue and provider leave exactly one active number', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        createRepositories(pools[i % pools.length]).venueNumbers.insertActive({
          venueId: 7001,
          provider: 'simulator',
          phoneNumber: `+1555000${String(1000 + i)}`,
          providerId: `PN${i}`,
        }),
      ),
    );
    expect(results.filter((r) => r.inserted)).toHaveLength(1);
    const winner = results.find((r) => r.inserted)!.number;
    expect(new Set(results.map((r) => r.number.id))).toEqual(new Set([winner.id]));
    const [{ n }] = await db.knex('VenuePhoneNumbers').where({ VenueID: 7001 }).count({ n: '*' });
    expect(Number(n)).toBe(1);
  });

  test('the index is filtered: a released number stays as history and a new one can become active', async () => {
    const first = await repos().venueNumbers.insertActive({
      venueId: 7002,
      provider: 'simulator',
      phoneNumber: '+15550002001',
      providerId: 'A',
    });
    await repos().venueNumbers.release(first.number.id);
    const second = await repos().venueNumbers.insertActive({
      venueId: 7002,
      provider: 'simulator',
      phoneNumber: '+15550002002',
      providerId: 'B',
    });
    expect(second.inserted).toBe(true);
    expect((await repos().venueNumbers.findActive(7002, 'simulator'))?.phoneNumber).toBe('+15550002002');
    expect(await repos().venueNumbers.findActiveByPhoneNumber('+15550002001')).toBeNull();
    // Another provider for the same venue is independent.
    const twilio = await repos().venueNumbers.insertActive({
      venueId: 7002,
      provider: 'twilio',
      phoneNumber: '+15550002003',
      providerId: 'C',
    });
    expect(twilio.inserted).toBe(true);
  });
});

describe('consent', () => {
  const phone = '+15550003001';
  const at = (iso: string) => new Date(iso);

  test('applies in source order, ignores stale and redelivered changes', async () => {
    const consent = repos().consent;
    expect(
      await consent.applyChange({
        venueId: 1,
        phoneNumber: phone,
        status: 'opted_in',
        source: 'checkout',
        occurredAt: at('2026-11-01T10:00:00Z'),
      }),
    ).toEqual({ applied: true });
    expect(
      await consent.applyChange({
        venueId: 1,
        phoneNumber: phone,
        status: 'opted_out',
        source: 'provider_webhook',
        occurredAt: at('2026-11-02T10:00:00Z'),
        providerMessageId: 'SM1',
      }),
    ).toEqual({ applied: true });
    // The STOP's webhook delivered again.
    expect(
      await consent.applyChange({
        venueId: 1,
        phoneNumber: phone,
        status: 'opted_out',
        source: 'provider_webhook',
        occurredAt: at('2026-11-02T10:00:00Z'),
        providerMessageId: 'SM1',
      }),
    ).toEqual({ applied: false, reason: 'duplicate' });
    // An opt-in from before the STOP arriving late must not undo it.
    expect(
      await consent.applyChange({
        venueId: 1,
        phoneNumber: phone,
        status: 'opted_in',
        source: 'account_settings',
        occurredAt: at('2026-11-01T12:00:00Z'),
      }),
    ).toEqual({
      applied: false,
      reason: 'stale',
    });

    const record = await consent.get(1, phone);
    expect(record).toMatchObject({
      status: 'opted_out',
      source: 'provider_webhook',
      initialConsentAt: at('2026-11-01T10:00:00Z'),
      optedInAt: at('2026-11-01T10:00:00Z'),
      optedOutAt: at('2026-11-02T10:00:00Z'),
      lastChangeAt: at('2026-11-02T10:00:00Z'),
      lastProviderMessageId: 'SM1',
    });
    // Consent is per venue.
    expect(await consent.get(2, phone)).toBeNull();
  });

  test('concurrent first writes for one (venue, phone) leave one row', async () => {
    const results = await Promise.all(
      pools.map((k, i) =>
        createRepositories(k).consent.applyChange({
          venueId: 3,
          phoneNumber: '+15550003002',
          status: i % 2 === 0 ? 'opted_in' : 'opted_out',
          source: 'internal_api',
          occurredAt: new Date(Date.UTC(2026, 10, 1, 0, 0, i)),
        }),
      ),
    );
    expect(results.every((r) => r.applied || r.reason === 'stale')).toBe(true);
    const rows = await db.knex('SmsConsent').where({ VenueID: 3 });
    expect(rows).toHaveLength(1);
    // The latest change wins whatever order the writes landed in.
    expect((await repos().consent.get(3, '+15550003002'))?.lastChangeAt).toEqual(
      new Date(Date.UTC(2026, 10, 1, 0, 0, pools.length - 1)),
    );
  });
});

describe('history', () => {
  const entry = {
    idempotencyKey: 'order-confirmation-sms-aaaaaaaa-0000-4000-8000-000000000001/run-1',
    orderId: 'AAAAAAAA-0000-4000-8000-000000000001',
    orderNumber: 'A-1',
    venueId: 1,
    venuePhoneNumberId: null,
    customerId: 'BBBBBBBB-0000-4000-8000-000000000001',
    customerPhoneNumber: '+15550004001',
    message: 'Thanks for your order',
    provider: 'simulator' as const,
    status: 'sent' as const,
    providerMessageId: 'SIM-1',
    errorCode: null,
    errorMessage: null,
    correlationId: 'corr-1',
  };

  test('a retried write returns the first row, concurrent or not', async () => {
    const results = await Promise.all(pools.map((k) => createRepositories(k).history.record(entry)));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.record.id)).size).toBe(1);
    const again = await repos().history.record({ ...entry, providerMessageId: 'SIM-2' });
    expect(again).toMatchObject({ created: false, record: { providerMessageId: 'SIM-1' } });
    const rows = await repos().history.findByOrderId(entry.orderId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      orderId: entry.orderId.toLowerCase(),
      customerId: entry.customerId.toLowerCase(),
      status: 'sent',
    });
  });
});
