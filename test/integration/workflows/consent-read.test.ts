import { createTestDatabase, useTestDatabase } from '../../support/db';
import { useFake } from '../../support/provider-fakes/fake-server';
import { startTwilioFake, twilioEnv as fakeTwilioEnv } from '../../support/provider-fakes/twilio-fake';
import { uniqueTaskQueue, waitFor } from '../../support/temporal';
import { parsedEvent, startTestWorkers, type TestWorkers } from '../../support/workers';
import { entityIsIdle, pendingConsentChanges, signalConsentChange } from '../../../temporal/consent-signal';
import { consentWorkflowId, orderWorkflowId } from '../../../temporal/ids';
import { startOrderConfirmation } from '../../../temporal/start-order';

/**
 * The consent read asks the entity's pending changes only when it may hold some (issue 22): an idle
 * running entity is answered from `describe` alone, so no query (a billed action, and a replay of the
 * entity when it is not cached). An acknowledged change must still win: these tests hold the read to
 * both halves.
 */

const twilio = useFake(startTwilioFake);
const db = useTestDatabase();
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function workers(options: Parameters<typeof startTestWorkers>[0]): Promise<TestWorkers> {
  const w = await startTestWorkers(options);
  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= w.shutdown());
  cleanups.push(stop);
  return { ...w, shutdown: stop };
}

const phoneFor = (i: number) => `+1415555${String(3000 + i).padStart(4, '0')}`;
const describeEntity = (w: TestWorkers, venueId: number, phone: string) =>
  w.client.workflow
    .getHandle(consentWorkflowId(venueId, phone, w.config.temporal.workflowIdHashKey))
    .describe();

test('an idle running entity is read without a query: with nobody serving consent, an opted-in order is sent', async () => {
  const taskQueue = uniqueTaskQueue('consent-read-idle');
  const env = { ...fakeTwilioEnv(twilio) };
  const orders = await workers({ knex: db.knex, taskQueue, env: { ...env, WORKER_QUEUES: 'orders,send' } });
  const consent = await workers({ knex: db.knex, taskQueue, env: { ...env, WORKER_QUEUES: 'consent' } });
  const e = parsedEvent({ PhoneNumber: phoneFor(1) });

  // Opted in at checkout through the entity, which writes it and then stays open, idle.
  await signalConsentChange(orders.consentEntities, e.venueId, e.phoneNumber, {
    status: 'opted_in',
    source: 'checkout',
    occurredAt: new Date(Date.now() - 60_000).toISOString(),
  });
  await waitFor(
    async () => (await orders.repos.consent.get(e.venueId, e.phoneNumber))?.status === 'opted_in',
    {
      description: 'the opt-in in SQL',
    },
  );
  await waitFor(async () => entityIsIdle(await describeEntity(orders, e.venueId, e.phoneNumber)), {
    description: 'the entity idle',
  });
  await consent.shutdown();
  expect((await describeEntity(orders, e.venueId, e.phoneNumber)).status.name).toBe('RUNNING');

  // A query would find no worker and time out: the read must not need one.
  expect(await pendingConsentChanges(orders.consentEntities, e.venueId, e.phoneNumber)).toEqual([]);
  await startOrderConfirmation(orders.client, taskQueue, e, { correlationId: `corr-${e.orderId}` });
  const result = await orders.client.workflow.getHandle(orderWorkflowId(e.orderId)).result();
  expect(result).toMatchObject({ outcome: 'sent' });
  expect(twilio.messages().filter((m) => m.to === e.phoneNumber)).toHaveLength(1);
}, 60_000);

test('an entity still writing an acknowledged STOP is queried, and the STOP is in the answer', async () => {
  const taskQueue = uniqueTaskQueue('consent-read-writing');
  const orders = await workers({ knex: db.knex, taskQueue, env: { WORKER_QUEUES: 'orders' } });
  // The entity's writes go to a database without tables: its write retries, pending, until stopped.
  const unwritable = await createTestDatabase({ migrate: false });
  cleanups.push(() => unwritable.destroy());
  await workers({ knex: unwritable.knex, taskQueue, env: { WORKER_QUEUES: 'consent' } });
  const phone = phoneFor(2);
  const venueId = 4300;
  await signalConsentChange(orders.consentEntities, venueId, phone, {
    status: 'opted_out',
    source: 'provider_webhook',
    occurredAt: new Date().toISOString(),
  });
  await waitFor(
    async () => ((await describeEntity(orders, venueId, phone)).raw.pendingActivities ?? []).length > 0,
    {
      description: 'the write pending',
    },
  );
  expect(entityIsIdle(await describeEntity(orders, venueId, phone))).toBe(false);
  expect(await pendingConsentChanges(orders.consentEntities, venueId, phone)).toEqual([
    expect.objectContaining({ status: 'opted_out', source: 'provider_webhook' }),
  ]);
}, 60_000);

test('a STOP no entity code has seen yet (nobody serves consent) keeps the entity from looking idle: the read throws', async () => {
  const taskQueue = uniqueTaskQueue('consent-read-unseen');
  const orders = await workers({ knex: db.knex, taskQueue, env: { WORKER_QUEUES: 'orders' } });
  const phone = phoneFor(3);
  const venueId = 4301;
  await signalConsentChange(orders.consentEntities, venueId, phone, {
    status: 'opted_out',
    source: 'provider_webhook',
    occurredAt: new Date().toISOString(),
  });
  const description = await describeEntity(orders, venueId, phone);
  expect(description.status.name).toBe('RUNNING');
  expect(entityIsIdle(description)).toBe(false);
  await expect(pendingConsentChanges(orders.consentEntities, venueId, phone)).rejects.toThrow();
}, 60_000);
