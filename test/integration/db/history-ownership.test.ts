import { randomUUID } from 'node:crypto';
import { createRepositories } from '../../../db';
import type { HistoryEntry } from '../../../db/history-repository';
import { historyEntry, useTestDatabase } from '../../support/db';

// Reconciliation's ownership check: which provider message ids other orders' history rows name.

const db = useTestDatabase();

const row = (orderId: string, provider: HistoryEntry['provider'], providerMessageId: string): HistoryEntry =>
  historyEntry({ orderId, provider, providerMessageId });

test("names only ids recorded for another order at the same provider; an order's own ids are its own", async () => {
  const { history } = createRepositories(db.knex);
  const mine = randomUUID();
  const other = randomUUID();
  await history.record(row(other, 'plivo', 'uuid-other'));
  await history.record(row(mine.toUpperCase(), 'plivo', 'uuid-mine'));
  await history.record(row(randomUUID(), 'twilio', 'uuid-same-id-at-twilio'));

  const owned = await history.messageIdsOfOtherOrders(
    'plivo',
    ['uuid-other', 'uuid-mine', 'uuid-same-id-at-twilio', 'uuid-unknown'],
    mine,
  );
  expect([...owned]).toEqual(['uuid-other']);
  expect(await history.messageIdsOfOtherOrders('plivo', [], mine)).toEqual(new Set());
});

test('a long candidate list is looked up in chunks', async () => {
  const { history } = createRepositories(db.knex);
  const other = randomUUID();
  await history.record(row(other, 'twilio', 'SM-last'));
  const ids = [...Array.from({ length: 1_200 }, (_, i) => `SM-${i}`), 'SM-last'];
  expect(await history.messageIdsOfOtherOrders('twilio', ids, randomUUID())).toEqual(new Set(['SM-last']));
});
