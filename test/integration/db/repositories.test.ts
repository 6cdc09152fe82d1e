import type { Knex } from 'knex';
import { createRepositories } from '../../../db';
import type { ConsentChangeCursor } from '../../../db/consent-repository';
import { createKnex } from '../../../db/knex';
import { useTestDatabase } from '../../support/db';
import { useResource } from '../../support/lifecycle';

const db = useTestDatabase();
/** Separate pools on the same database, so concurrent writes really race on separate connections. */
const pools = useResource(
  async (): Promise<Knex[]> => Array.from({ length: 5 }, () => createKnex(db.url)),
  (started) => Promise.all(started.map((k) => k.destroy())),
);

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

  test('a START replayed after a STOP, dated on its new arrival, is a duplicate: the STOP stands', async () => {
    const consent = repos().consent;
    const webhook = (status: 'opted_in' | 'opted_out', id: string, iso: string) =>
      consent.applyChange({
        venueId: 4,
        phoneNumber: phone,
        status,
        source: 'provider_webhook',
        occurredAt: at(iso),
        providerMessageId: id,
      });
    expect(await webhook('opted_in', 'SM-start-A', '2026-11-03T10:00:00Z')).toEqual({ applied: true });
    expect(await webhook('opted_out', 'SM-stop-B', '2026-11-03T10:05:00Z')).toEqual({ applied: true });
    // Twilio signatures never expire: A posted again ten minutes later, after its entity forgot it.
    expect(await webhook('opted_in', 'SM-start-A', '2026-11-03T10:15:00Z')).toEqual({
      applied: false,
      reason: 'duplicate',
    });
    expect(await consent.get(4, phone)).toMatchObject({
      status: 'opted_out',
      lastProviderMessageId: 'SM-stop-B',
    });
    expect(await consent.handledMessageIds(4, phone, ['SM-start-A', 'SM-never'])).toEqual(
      new Set(['SM-start-A']),
    );
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

describe('consent audit trail', () => {
  const at = (iso: string) => new Date(iso);
  const trail = async (venueId: number, phone: string) =>
    (await repos().consent.changes(venueId, phone, { limit: 200 })).items;

  test('applied, duplicate and stale changes are each recorded with what was done', async () => {
    const consent = repos().consent;
    const venueId = 11;
    const phone = '+15550005001';
    const receivedAt = at('2026-11-02T10:00:05Z');
    const stop = {
      venueId,
      phoneNumber: phone,
      status: 'opted_out' as const,
      source: 'provider_webhook' as const,
      occurredAt: at('2026-11-02T10:00:00Z'),
      providerMessageId: 'SM-audit-1',
      provider: 'twilio' as const,
      receivedAt,
      correlationId: 'corr-stop',
    };
    expect(await consent.applyChange({ ...stop, changeId: 'wf/run/1' })).toEqual({ applied: true });
    expect(await consent.applyChange({ ...stop, changeId: 'wf/run/2' })).toEqual({
      applied: false,
      reason: 'duplicate',
    });
    const before = Date.now();
    expect(
      await consent.applyChange({
        venueId,
        phoneNumber: phone,
        status: 'opted_in',
        source: 'checkout',
        occurredAt: at('2026-11-01T09:00:00Z'),
      }),
    ).toEqual({ applied: false, reason: 'stale' });
    const after = Date.now();

    const items = await trail(venueId, phone);
    // Newest first by when the change happened: the late opt-in is the oldest entry.
    expect(items.map((c) => c.outcome)).toEqual(['duplicate', 'applied', 'stale']);
    expect(items[1]).toEqual({
      id: expect.any(Number),
      venueId,
      phoneNumber: phone,
      status: 'opted_out',
      source: 'provider_webhook',
      provider: 'twilio',
      providerMessageId: 'SM-audit-1',
      occurredAt: stop.occurredAt,
      receivedAt,
      outcome: 'applied',
      correlationId: 'corr-stop',
      changeId: 'wf/run/1',
      createdAt: expect.any(Date),
    });
    expect(items[0]).toMatchObject({ outcome: 'duplicate', changeId: 'wf/run/2', provider: 'twilio' });
    expect(items[2]).toMatchObject({
      status: 'opted_in',
      source: 'checkout',
      provider: null,
      providerMessageId: null,
      correlationId: null,
      changeId: null,
      outcome: 'stale',
    });
    // receivedAt defaults to when the repository saw the change.
    expect(items[2].receivedAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(items[2].receivedAt.getTime()).toBeLessThanOrEqual(after);
    // The trail is per venue and phone.
    expect(await trail(venueId + 1, phone)).toEqual([]);
    expect(await trail(venueId, '+15550005002')).toEqual([]);
  });

  test('a retry with the same changeId finds the first row and returns its outcome, even when racing', async () => {
    const change = {
      venueId: 12,
      phoneNumber: '+15550005003',
      status: 'opted_out' as const,
      source: 'provider_webhook' as const,
      occurredAt: at('2026-11-03T10:00:00Z'),
      providerMessageId: 'SM-audit-retry',
      changeId: 'consent-12-x/run-1/1',
    };
    expect(await repos().consent.applyChange(change)).toEqual({ applied: true });
    // The retry itself sees its own message id on the row (a "duplicate"), but the change was applied.
    const retries = await Promise.all(pools.map((k) => createRepositories(k).consent.applyChange(change)));
    expect(retries).toEqual(pools.map(() => ({ applied: true })));
    expect((await trail(12, change.phoneNumber)).map((c) => [c.changeId, c.outcome])).toEqual([
      [change.changeId, 'applied'],
    ]);
  });

  test('concurrent first attempts with one changeId leave one audit row', async () => {
    const change = {
      venueId: 13,
      phoneNumber: '+15550005004',
      status: 'opted_in' as const,
      source: 'internal_api' as const,
      occurredAt: at('2026-11-03T11:00:00Z'),
      changeId: 'consent-13-x/run-1/1',
    };
    const results = await Promise.all(pools.map((k) => createRepositories(k).consent.applyChange(change)));
    expect(results.every((r) => r.applied)).toBe(true);
    expect(await trail(13, change.phoneNumber)).toHaveLength(1);
  });

  test('without a changeId a retry writes a second row (the documented cost of having no id)', async () => {
    const change = {
      venueId: 14,
      phoneNumber: '+15550005005',
      status: 'opted_in' as const,
      source: 'account_settings' as const,
      occurredAt: at('2026-11-03T12:00:00Z'),
    };
    await repos().consent.applyChange(change);
    await repos().consent.applyChange(change);
    expect((await trail(14, change.phoneNumber)).map((c) => c.outcome)).toEqual(['applied', 'applied']);
  });

  test('pages newest first with a keyset cursor; ties on occurredAt are broken by id', async () => {
    const venueId = 15;
    const phone = '+15550005006';
    const times = [1, 2, 3, 3, 4].map((d) => at(`2026-11-0${d}T00:00:00Z`));
    for (const [i, occurredAt] of times.entries()) {
      await repos().consent.applyChange({
        venueId,
        phoneNumber: phone,
        status: i % 2 === 0 ? 'opted_in' : 'opted_out',
        source: 'internal_api',
        occurredAt,
        correlationId: `c${i}`,
      });
    }
    const seen: string[] = [];
    let before: ConsentChangeCursor | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const page = await repos().consent.changes(venueId, phone, { limit: 2, before: before ?? undefined });
      seen.push(...page.items.map((c) => String(c.correlationId)));
      before = page.next;
      if (!before) break;
    }
    expect(seen).toEqual(['c4', 'c3', 'c2', 'c1', 'c0']);
    const exact = await repos().consent.changes(venueId, phone, { limit: 5 });
    expect(exact.items).toHaveLength(5);
    expect(exact.next).toBeNull();
  });
});
