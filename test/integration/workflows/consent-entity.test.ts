import type { Client } from '@temporalio/client';
import { signalConsentChange } from '../../../temporal/consent-signal';
import { consentWorkflowId } from '../../../temporal/ids';
import { createTestDatabase } from '../../support/db';
import { uniqueTaskQueue, waitFor } from '../../support/temporal';
import { startTestWorkers, type TestWorkers } from '../../support/workers';

type Db = Awaited<ReturnType<typeof createTestDatabase>>;

let db: Db;
let w: TestWorkers;
let client: Client;
const taskQueue = uniqueTaskQueue('consent-entity');

beforeAll(async () => {
  db = await createTestDatabase();
  w = await startTestWorkers({ knex: db.knex, taskQueue });
  client = w.client;
});

afterAll(async () => {
  await w?.shutdown();
  await db?.destroy();
});

const venue = () => 500_000 + Math.floor(Math.random() * 99_999);
const at = (secondsAgo: number) => new Date(Date.now() - secondsAgo * 1000).toISOString();

/** The applyConsentChange results in the entity's history, in order. */
async function applyResults(
  venueId: number,
  phone: string,
): Promise<Array<{ applied: boolean; reason?: string }>> {
  const history = await client.workflow.getHandle(consentWorkflowId(venueId, phone)).fetchHistory();
  return (history.events ?? []).flatMap((e) => {
    const payload = e.activityTaskCompletedEventAttributes?.result?.payloads?.[0];
    return payload?.data ? [JSON.parse(Buffer.from(payload.data).toString('utf8'))] : [];
  });
}

async function appliedCount(venueId: number, phone: string): Promise<number> {
  return (await applyResults(venueId, phone)).length;
}

test('changes apply in arrival order through one entity per venue and phone', async () => {
  const venueId = venue();
  const phone = '+14155550130';
  await signalConsentChange(client, taskQueue, venueId, phone, {
    status: 'opted_in',
    source: 'checkout',
    occurredAt: at(30),
  });
  await signalConsentChange(client, taskQueue, venueId, phone, {
    status: 'opted_out',
    source: 'provider_webhook',
    occurredAt: at(20),
  });
  await waitFor(async () => (await appliedCount(venueId, phone)) === 2, {
    description: 'two changes applied',
  });

  const record = await w.repos.consent.get(venueId, phone);
  expect(record).toMatchObject({ status: 'opted_out', source: 'provider_webhook' });
  // Consent is per venue: the same phone at another venue is untouched.
  expect(await w.repos.consent.get(venueId + 1, phone)).toBeNull();
});

test('a duplicate webhook (same provider message id) is applied once; a stale change is ignored', async () => {
  const venueId = venue();
  const phone = '+14155550131';
  const stop = {
    status: 'opted_out' as const,
    source: 'provider_webhook' as const,
    occurredAt: at(10),
    providerMessageId: 'SM-stop-1',
  };
  await signalConsentChange(client, taskQueue, venueId, phone, stop);
  await signalConsentChange(client, taskQueue, venueId, phone, stop);
  // An opt-in that happened before the STOP arrives late: it must not resubscribe the customer.
  await signalConsentChange(client, taskQueue, venueId, phone, {
    status: 'opted_in',
    source: 'checkout',
    occurredAt: at(60),
  });
  // The late opt-in is the last signal: once its (stale) result is in, every signal has been handled.
  await waitFor(async () => (await applyResults(venueId, phone)).some((r) => r.reason === 'stale'), {
    description: 'late opt-in processed',
  });
  expect(await applyResults(venueId, phone)).toEqual([
    { applied: true },
    { applied: false, reason: 'stale' },
  ]);

  const record = await w.repos.consent.get(venueId, phone);
  expect(record).toMatchObject({ status: 'opted_out', source: 'provider_webhook' });

  const history = await client.workflow.getHandle(consentWorkflowId(venueId, phone)).fetchHistory();
  const signals = (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes);
  expect(signals).toHaveLength(3); // all three reached the entity; the duplicate was dropped there
});

test('a START after a STOP opts the customer back in', async () => {
  const venueId = venue();
  const phone = '+14155550132';
  await signalConsentChange(client, taskQueue, venueId, phone, {
    status: 'opted_out',
    source: 'provider_webhook',
    occurredAt: at(10),
  });
  await signalConsentChange(client, taskQueue, venueId, phone, {
    status: 'opted_in',
    source: 'provider_webhook',
    occurredAt: at(5),
  });
  await waitFor(async () => (await w.repos.consent.get(venueId, phone))?.status === 'opted_in', {
    description: 'opted back in',
  });
  const record = await w.repos.consent.get(venueId, phone);
  expect(record?.optedOutAt).toBeInstanceOf(Date);
  expect(record?.optedInAt).toBeInstanceOf(Date);
});
