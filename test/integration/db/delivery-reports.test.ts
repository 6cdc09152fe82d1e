import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { createRepositories } from '../../../db';
import {
  createHistoryRepository,
  DELIVERY_REPORT_RETENTION_MS,
  type DeliveryUpdate,
  type HistoryEntry,
} from '../../../db/history-repository';
import { HistoryStatusIds, ProviderNameIds } from '../../../db/enum-ids';
import { createKnex, dialectOf } from '../../../db/knex';
import type { DeliveryStatus } from '../../../domain/delivery-status';
import type { ProviderName } from '../../../domain/enums';
import { historyEntry, useTestDatabase } from '../../support/db';
import { useResource } from '../../support/lifecycle';
import { everySchedule, gated, sampledSchedules, type Trial } from '../../support/interleave';

/**
 * Issue 18: a delivery report that arrives before the history row naming its message (the provider
 * called back before its API answered us) must still end on that row, whatever the order of the
 * report, the history write and any other report of the same message.
 */
const dialect = process.env.TEST_DATABASE_URL ? 'PostgreSQL' : 'SQLite';

const db = useTestDatabase();
/** One connection per actor of a staged interleaving, and its repository (its process, as it were). */
let actorHistory: Array<ReturnType<typeof createHistoryRepository>>;
const actorKnex = useResource(
  async (): Promise<Knex[]> => {
    const knexes = Array.from({ length: 3 }, () => gated(createKnex(db.url)));
    // Thousands of schedules: a flush to disk per commit would be most of their time, and durability
    // is not what they test.
    if (dialectOf(db.knex) === 'sqlite') {
      for (const knex of knexes) await knex.raw('pragma synchronous = off');
    } else {
      const { rows } = (await db.knex.raw('select current_database() as name')) as {
        rows: Array<{ name: string }>;
      };
      // The actors' connections open after this, so they all start with it.
      await db.knex.raw(`alter database "${rows[0].name}" set synchronous_commit = off`);
    }
    actorHistory = knexes.map((knex) => createHistoryRepository(knex));
    return knexes;
  },
  (started) => Promise.all(started.map((k) => k.destroy())),
);

const history = () => createRepositories(db.knex).history;
/** The repository of the actor running on this connection. */
const on = (knex: Knex) => actorHistory[actorKnex.indexOf(knex)];

const report = (
  provider: ProviderName,
  providerMessageId: string,
  status: DeliveryStatus,
  extra: Partial<DeliveryUpdate> = {},
): DeliveryUpdate => ({ provider, providerMessageId, status, errorCode: null, ...extra });

const messageId = () => `SM${randomUUID().replace(/-/g, '')}`;

async function pendingRows(providerMessageId: string) {
  return db.knex('SmsPendingDeliveryReports').where({ ProviderMessageID: providerMessageId });
}

async function rowOf(entry: HistoryEntry) {
  const [row] = await history().findByOrderId(entry.orderId);
  return row;
}

describe(`reports before, after and around the history write (${dialect})`, () => {
  test('reports that outran the row: the history write takes the best of them, and the pending row goes', async () => {
    const id = messageId();
    const at = new Date(Date.now() - 1_000);
    expect(await history().updateDeliveryStatus(report('twilio', id, 'sent'))).toMatchObject({
      matched: false,
      pending: true,
    });
    await history().updateDeliveryStatus(report('twilio', id, 'delivered', { at }));
    // Late and lower: changes nothing.
    await history().updateDeliveryStatus(report('twilio', id, 'queued'));
    expect(await pendingRows(id)).toEqual([expect.objectContaining({ DeliveryStatus: 'delivered' })]);

    const entry = historyEntry({ provider: 'twilio', providerMessageId: id });
    const { record, created } = await history().record(entry);
    expect(created).toBe(true);
    expect(record).toMatchObject({
      deliveryStatus: 'delivered',
      deliveryErrorCode: null,
      deliveryUpdatedAt: at,
    });
    expect(await rowOf(entry)).toEqual(record);
    expect(await pendingRows(id)).toEqual([]);
  });

  test('a failure keeps its error code, and the first terminal state stays (Plivo)', async () => {
    const id = randomUUID();
    await history().updateDeliveryStatus(report('plivo', id, 'undelivered', { errorCode: '30' }));
    await history().updateDeliveryStatus(report('plivo', id, 'delivered'));
    const entry = historyEntry({ provider: 'plivo', providerMessageId: id });
    await history().record(entry);
    expect(await rowOf(entry)).toMatchObject({ deliveryStatus: 'undelivered', deliveryErrorCode: '30' });
  });

  test('record first, then the report: straight onto the row, nothing kept', async () => {
    const id = messageId();
    const entry = historyEntry({ provider: 'twilio', providerMessageId: id });
    await history().record(entry);
    expect(await history().updateDeliveryStatus(report('twilio', id, 'delivered'))).toEqual({
      updated: 1,
      matched: true,
      pending: false,
    });
    expect((await rowOf(entry)).deliveryStatus).toBe('delivered');
    expect(await pendingRows(id)).toEqual([]);
  });

  test("another provider's message with the same id is not this row's report", async () => {
    const id = messageId();
    await history().updateDeliveryStatus(report('plivo', id, 'delivered'));
    const entry = historyEntry({ provider: 'twilio', providerMessageId: id });
    await history().record(entry);
    expect((await rowOf(entry)).deliveryStatus).toBeNull();
    expect(await pendingRows(id)).toHaveLength(1);
  });

  test('a history write retried after its first attempt stored the row (and died) still takes the report', async () => {
    const id = messageId();
    await history().updateDeliveryStatus(report('twilio', id, 'delivered'));
    const entry = historyEntry({ provider: 'twilio', providerMessageId: id });
    // The first attempt's insert, as it reached the database before the worker died.
    await db.knex('SmsSendHistory').insert({
      IdempotencyKey: entry.idempotencyKey,
      OrderID: entry.orderId,
      VenueID: entry.venueId,
      CustomerID: entry.customerId,
      CustomerPhoneNumber: entry.customerPhoneNumber,
      Message: entry.message,
      ProviderNameID: ProviderNameIds.id('twilio'),
      StatusID: HistoryStatusIds.id('sent'),
      ProviderMessageID: id,
      CreatedAt: new Date(),
    });
    const retried = await history().record(entry);
    expect(retried).toMatchObject({ created: false, record: { deliveryStatus: 'delivered' } });
    expect(await pendingRows(id)).toEqual([]);
  });
});

describe(`reports for messages that never become ours do not pile up (${dialect})`, () => {
  test(`a kept report older than ${DELIVERY_REPORT_RETENTION_MS / 86_400_000} days is pruned when another is kept; younger ones stay`, async () => {
    const now = Date.now();
    const old = messageId();
    const young = messageId();
    const repo = createHistoryRepository(db.knex);
    await repo.updateDeliveryStatus(
      report('twilio', old, 'delivered', { at: new Date(now - DELIVERY_REPORT_RETENTION_MS - 60_000) }),
    );
    await repo.updateDeliveryStatus(
      report('twilio', young, 'sent', { at: new Date(now - DELIVERY_REPORT_RETENTION_MS + 3_600_000) }),
    );
    expect(await pendingRows(old)).toHaveLength(1);

    // A fresh process (its own prune schedule) keeps the next unknown report.
    await createHistoryRepository(db.knex).updateDeliveryStatus(report('plivo', randomUUID(), 'sent'));
    expect(await pendingRows(old)).toEqual([]);
    expect(await pendingRows(young)).toHaveLength(1);

    // So a message whose history row comes after the retention gets nothing: the documented limit.
    const entry = historyEntry({ provider: 'twilio', providerMessageId: old });
    await history().record(entry);
    expect((await rowOf(entry)).deliveryStatus).toBeNull();
  });

  test('a flood of garbage ids leaves one row per id, never one per report', async () => {
    const ids = Array.from({ length: 20 }, () => messageId());
    for (const status of ['queued', 'sent', 'delivered'] as const) {
      await Promise.all(ids.map((id) => history().updateDeliveryStatus(report('twilio', id, status))));
    }
    const rows = await db.knex('SmsPendingDeliveryReports').whereIn('ProviderMessageID', ids);
    expect(rows).toHaveLength(ids.length);
    expect(new Set(rows.map((r: { DeliveryStatus: string }) => r.DeliveryStatus))).toEqual(
      new Set(['delivered']),
    );
  });
});

describe(`every statement-level interleaving ends with the best status on the row (${dialect})`, () => {
  /**
   * All schedules on SQLite. On PostgreSQL a seeded sample: run one statement at a time, the two
   * databases see the same logic, and each PostgreSQL statement costs a round trip.
   */
  const explore = (actors: number, trial: () => Trial) =>
    dialect === 'SQLite'
      ? everySchedule(actorKnex.slice(0, actors), trial)
      : sampledSchedules(actorKnex.slice(0, actors), trial, 200);

  /** The history write and these reports of its message, each on its own connection. */
  const race = (statuses: DeliveryStatus[], best: DeliveryStatus): Trial => {
    const id = messageId();
    const entry = historyEntry({ provider: 'twilio', providerMessageId: id });
    return {
      actors: [
        (knex) => on(knex).record(entry),
        ...statuses.map(
          (status) => (knex: Knex) => on(knex).updateDeliveryStatus(report('twilio', id, status)),
        ),
      ],
      async check(schedule) {
        const outcome = {
          trace: schedule.trace.join(''),
          errors: schedule.results.flatMap((r) => (r.ok ? [] : [String(r.error)])),
          deliveryStatus: (await rowOf(entry)).deliveryStatus,
          pending: (await pendingRows(id)).length,
        };
        // The trace names the failing schedule: which actor ran each statement.
        expect(outcome).toEqual({ trace: outcome.trace, errors: [], deliveryStatus: best, pending: 0 });
      },
    };
  };

  test('the history write and one report', async () => {
    // Both orders of the two calls, and every way their statements can be shuffled together.
    expect(await explore(2, () => race(['delivered'], 'delivered'))).toBeGreaterThan(100);
  });

  test('the history write and two reports ("sent", "delivered"): a seeded sample', async () => {
    await sampledSchedules(
      actorKnex,
      () => race(['sent', 'delivered'], 'delivered'),
      dialect === 'SQLite' ? 400 : 150,
    );
  });

  test('two reports racing each other to keep the first status, then the history write', async () => {
    // Both miss the row and both insert the pending row: one gets the unique violation and merges.
    const runs = await explore(2, () => {
      const id = messageId();
      const entry = historyEntry({ provider: 'twilio', providerMessageId: id });
      return {
        actors: (['sent', 'delivered'] as const).map(
          (status) => (knex: Knex) => on(knex).updateDeliveryStatus(report('twilio', id, status)),
        ),
        async check(schedule) {
          expect(schedule.results.every((r) => r.ok)).toBe(true);
          expect(await pendingRows(id)).toEqual([expect.objectContaining({ DeliveryStatus: 'delivered' })]);
          await history().record(entry);
          expect((await rowOf(entry)).deliveryStatus).toBe('delivered');
        },
      };
    });
    expect(runs).toBeGreaterThan(100);
  });

  test('free-running: history writes and reports on separate connections, 30 rounds', async () => {
    const pools = [db.knex, ...actorKnex];
    for (let round = 0; round < 30; round++) {
      const id = messageId();
      const entry = historyEntry({ provider: 'twilio', providerMessageId: id });
      const calls = [
        () => createHistoryRepository(pools[0]).record(entry),
        () => createHistoryRepository(pools[1]).updateDeliveryStatus(report('twilio', id, 'queued')),
        () => createHistoryRepository(pools[2]).updateDeliveryStatus(report('twilio', id, 'sent')),
        () => createHistoryRepository(pools[3]).updateDeliveryStatus(report('twilio', id, 'delivered')),
      ];
      // A different start order each round; the database decides the rest.
      await Promise.all(calls.map((_, i) => calls[(i + round) % calls.length]()));
      expect({ round, status: (await rowOf(entry)).deliveryStatus }).toEqual({ round, status: 'delivered' });
    }
  });
});
