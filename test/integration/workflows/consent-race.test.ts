import type { WorkflowHandle } from '@temporalio/client';
import { createKnex } from '../../../db/knex';
import type { OrderConfirmationEvent } from '../../../domain/order-event';
import { signalConsentChange } from '../../../temporal/consent-signal';
import { consentWorkflowId, orderWorkflowId } from '../../../temporal/ids';
import { startOrderConfirmation } from '../../../temporal/start-order';
import { createTestDatabase, testDatabaseUrl, useTestDatabase } from '../../support/db';
import { useFake } from '../../support/provider-fakes/fake-server';
import { startTwilioFake, twilioEnv as fakeTwilioEnv } from '../../support/provider-fakes/twilio-fake';
import { startTcpProxy } from '../../support/tcp-proxy';
import { pendingAttempt, uniqueTaskQueue, waitFor } from '../../support/temporal';
import { optIn, parsedEvent, startTestWorkers, type TestWorkers } from '../../support/workers';

/**
 * "No SMS to anyone who opted out", attacked where it used to rest on retry timing: an opt-out the
 * service has acknowledged must win over a send even when SQL does not have it yet.
 */

const UNAVAILABLE = { status: 503, message: 'Service Unavailable' };

const twilio = useFake(startTwilioFake);
const db = useTestDatabase();
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const twilioEnv = () => fakeTwilioEnv(twilio);

async function workers(options: Parameters<typeof startTestWorkers>[0]): Promise<TestWorkers> {
  const w = await startTestWorkers(options);
  cleanups.push(() => w.shutdown());
  return w;
}

const phoneFor = (i: number) => `+1415555${String(2000 + i).padStart(4, '0')}`;

async function startOrder(
  w: TestWorkers,
  taskQueue: string,
  e: OrderConfirmationEvent,
): Promise<WorkflowHandle> {
  await startOrderConfirmation(w.client, taskQueue, e, { correlationId: `corr-${e.orderId}` });
  return w.client.workflow.getHandle(orderWorkflowId(e.orderId));
}

const stop = (w: TestWorkers, e: OrderConfirmationEvent) =>
  signalConsentChange(w.consentEntities, e.venueId, e.phoneNumber, {
    status: 'opted_out',
    source: 'provider_webhook',
    occurredAt: new Date().toISOString(),
  });

const textsTo = (phone: string) => twilio.messages().filter((m) => m.to === phone);

/**
 * Orders and sends served on the real database, while the consent entity's writes go to a database
 * without tables: it acknowledges a STOP and holds it, retrying its write until stopped.
 */
async function withConsentStuck(name: string) {
  const taskQueue = uniqueTaskQueue(name);
  const w = await workers({
    knex: db.knex,
    taskQueue,
    env: { ...twilioEnv(), WORKER_QUEUES: 'orders,send' },
  });
  const unwritable = await createTestDatabase({ migrate: false });
  cleanups.push(() => unwritable.destroy());
  const stuck = await startTestWorkers({
    knex: unwritable.knex,
    taskQueue,
    env: { ...twilioEnv(), WORKER_QUEUES: 'consent' },
  });
  let stopped: Promise<void> | undefined;
  const stopStuck = () => (stopped ??= stuck.shutdown());
  cleanups.push(stopStuck);
  return { taskQueue, w, stopStuck };
}

test('(a) an order held before its send meets a STOP that SQL never received: nothing is sent', async () => {
  const { taskQueue, w } = await withConsentStuck('race-held');

  const e = parsedEvent({ PhoneNumber: phoneFor(1) });
  await optIn(w.repos, e);
  twilio.fail({ to: e.phoneNumber, times: 1000 }, UNAVAILABLE);
  const handle = await startOrder(w, taskQueue, e);
  await waitFor(async () => ((await pendingAttempt(handle, 'sendSms')) ?? 0) >= 2, {
    description: 'the send held retrying at the provider',
  });

  await stop(w, e);
  twilio.resetFaults(); // the provider recovers: the next attempt would go out
  expect(await handle.result()).toMatchObject({ outcome: 'blocked_opted_out' });
  expect(textsTo(e.phoneNumber)).toHaveLength(0);
  // The decision came from the acknowledged change, not from SQL.
  expect((await w.repos.consent.get(e.venueId, e.phoneNumber))?.status).toBe('opted_in');
}, 60_000);

test('(a) a consent workflow that cannot answer holds the send instead of letting it through', async () => {
  const taskQueue = uniqueTaskQueue('race-unanswered');
  const w = await workers({
    knex: db.knex,
    taskQueue,
    env: { ...twilioEnv(), WORKER_QUEUES: 'orders,send' },
  });
  const e = parsedEvent({ PhoneNumber: phoneFor(2) });
  await optIn(w.repos, e);
  twilio.fail({ to: e.phoneNumber, times: 1000 }, UNAVAILABLE);
  const handle = await startOrder(w, taskQueue, e);
  await waitFor(async () => ((await pendingAttempt(handle, 'sendSms')) ?? 0) >= 2, {
    description: 'the send held retrying at the provider',
  });
  // No consent worker polls: the STOP is durable but nobody can say what it holds.
  await stop(w, e);
  twilio.resetFaults();
  const before = (await pendingAttempt(handle, 'sendSms')) ?? 0;
  await waitFor(async () => ((await pendingAttempt(handle, 'sendSms')) ?? 0) > before + 1, {
    timeoutMs: 45_000,
    description: 'send attempts that could not read consent',
  });
  expect(textsTo(e.phoneNumber)).toHaveLength(0);

  // Once the consent worker is back, the STOP is applied and the order ends blocked.
  await workers({ knex: db.knex, taskQueue, env: { ...twilioEnv(), WORKER_QUEUES: 'consent' } });
  expect(await handle.result()).toMatchObject({ outcome: 'blocked_opted_out' });
  expect(textsTo(e.phoneNumber)).toHaveLength(0);
}, 90_000);

test('(c) STOPs arriving behind a backlog of 200 orders are applied at once and win', async () => {
  const taskQueue = uniqueTaskQueue('race-backlog');
  // Only consent work is served while the orders pile up on their queue.
  const consent = await workers({ knex: db.knex, taskQueue, env: { WORKER_QUEUES: 'consent' } });
  const events = Array.from({ length: 200 }, (_, i) =>
    parsedEvent({ PhoneNumber: phoneFor(100 + i), VenueId: 4242 }),
  );
  // The venue's number exists already: this test is about consent, not the first-order burst.
  await consent.repos.venueNumbers.insertActive({
    venueId: 4242,
    provider: 'simulator',
    phoneNumber: '+15005550142',
    providerId: 'PN4242',
    friendlyName: 'venue-4242',
  });
  for (const e of events) await optIn(consent.repos, e);
  for (const e of events) await startOrder(consent, taskQueue, e);

  const stopped = events.filter((_, i) => i % 10 === 0);
  await Promise.all(stopped.map((e) => stop(consent, e)));
  // The consent queue is not behind the order backlog: every STOP reaches SQL while no order moved.
  await waitFor(
    async () => {
      const rows = await Promise.all(stopped.map((e) => consent.repos.consent.get(e.venueId, e.phoneNumber)));
      return rows.every((r) => r?.status === 'opted_out');
    },
    { description: 'every STOP applied while the orders wait' },
  );

  const w = await workers({
    knex: db.knex,
    taskQueue,
    simulatorPath: consent.simulatorPath,
    env: { WORKER_QUEUES: 'orders,send', SEND_RATE_PER_SECOND: '1000' },
  });
  const results = await Promise.all(
    events.map((e) => w.client.workflow.getHandle(orderWorkflowId(e.orderId)).result()),
  );
  const outcomes = results.map((r) => r.outcome);
  expect(outcomes.filter((o) => o === 'blocked_opted_out')).toHaveLength(stopped.length);
  expect(outcomes.filter((o) => o === 'sent')).toHaveLength(events.length - stopped.length);
  for (const e of stopped) expect(await w.store.messages({ to: e.phoneNumber })).toHaveLength(0);
}, 120_000);

// A database outage needs a server to take away: PostgreSQL (CI's second pass) behind a TCP proxy.
const onPostgres = testDatabaseUrl().startsWith('postgres') ? test : test.skip;

onPostgres(
  '(b) STOPs acknowledged while the database is down win once it is back',
  async () => {
    const taskQueue = uniqueTaskQueue('race-db-down');
    const url = new URL(db.url);
    const proxy = await startTcpProxy(`${url.hostname}:${url.port || 5432}`);
    cleanups.push(() => proxy.close());
    const proxied = new URL(db.url);
    [proxied.hostname, proxied.port] = proxy.address.split(':');
    const knex = createKnex(proxied.toString());
    cleanups.push(() => knex.destroy());
    const w = await workers({ knex, taskQueue, env: twilioEnv() });

    const events = Array.from({ length: 5 }, (_, i) => parsedEvent({ PhoneNumber: phoneFor(20 + i) }));
    const handles: WorkflowHandle[] = [];
    for (const e of events) {
      await optIn(w.repos, e);
      twilio.fail({ to: e.phoneNumber, times: 1000 }, UNAVAILABLE);
      handles.push(await startOrder(w, taskQueue, e));
    }
    await waitFor(
      async () =>
        (await Promise.all(handles.map((h) => pendingAttempt(h, 'sendSms')))).every((a) => (a ?? 0) >= 2),
      { description: 'every send held retrying at the provider' },
    );

    proxy.cut();
    // Answered from durable Temporal state while SQL is unreachable.
    await Promise.all(events.map((e) => stop(w, e)));
    twilio.resetFaults();
    const attempts = await Promise.all(handles.map((h) => pendingAttempt(h, 'sendSms')));
    await waitFor(
      async () =>
        (await Promise.all(handles.map((h) => pendingAttempt(h, 'sendSms')))).every(
          (a, i) => (a ?? 0) > (attempts[i] ?? 0),
        ),
      { timeoutMs: 60_000, description: 'every send retried against the unreachable database' },
    );
    proxy.restore();

    const results = await Promise.all(handles.map((h) => h.result()));
    expect(results.map((r) => r.outcome)).toEqual(events.map(() => 'blocked_opted_out'));
    for (const e of events) expect(textsTo(e.phoneNumber)).toHaveLength(0);
  },
  120_000,
);

test('(d) an operator terminates a consent entity whose STOP is still being written: the STOP wins, and a new run writes it', async () => {
  const { taskQueue, w, stopStuck } = await withConsentStuck('race-terminated');
  const e = parsedEvent({ PhoneNumber: phoneFor(3) });
  await optIn(w.repos, e);
  await stop(w, e);
  const entity = w.client.workflow.getHandle(
    consentWorkflowId(e.venueId, e.phoneNumber, w.config.temporal.workflowIdHashKey),
  );
  await waitFor(async () => ((await pendingAttempt(entity, 'applyConsentChange')) ?? 0) >= 2, {
    description: 'the STOP held, its write retrying',
  });
  const { runId: terminatedRun } = await entity.describe();
  await entity.terminate('operator cleaning up');
  await stopStuck();
  // A consent worker on the real database: it answers queries (the terminated run's too) and writes.
  await workers({ knex: db.knex, taskQueue, env: { ...twilioEnv(), WORKER_QUEUES: 'consent' } });

  const handle = await startOrder(w, taskQueue, e);
  expect(await handle.result()).toMatchObject({ outcome: 'blocked_opted_out' });
  expect(textsTo(e.phoneNumber)).toHaveLength(0);
  // What the terminated run held went to a new run, which wrote it.
  await waitFor(async () => (await w.repos.consent.get(e.venueId, e.phoneNumber))?.status === 'opted_out', {
    description: 'the STOP in SQL',
  });
  expect((await entity.describe()).runId).not.toBe(terminatedRun);
}, 90_000);
