import { createRepositories } from '../../../db';
import type { OrderConfirmationEvent } from '../../../domain/order-event';
import { venueFriendlyName } from '../../../providers/sms-provider';
import { SimulatorStore } from '../../../providers/simulator/simulator-store';
import { orderWorkflowId } from '../../../temporal/ids';
import { startOrderConfirmation } from '../../../temporal/start-order';
import { useTestDatabase } from '../../support/db';
import { connectTestClient, uniqueTaskQueue, waitFor } from '../../support/temporal';
import { exited, spawnWorker, workerProcessEnv } from '../../support/worker-process';
import {
  optIn,
  parsedEvent,
  startTestWorkers,
  tempSimulatorPath,
  type TestWorkers,
} from '../../support/workers';

/**
 * Launch day: hundreds of first orders for venues that have no number yet. Each venue's orders
 * wait for one purchase in workflow code, so however many wait, the purchase gets a slot. The
 * worker has 20 activity slots here, far fewer than the orders waiting: with waits inside
 * activities (the old waiting activity) this deadlocked.
 */

const db = useTestDatabase();

const BURST_ENV = {
  WORKER_ACTIVITY_SLOTS: '20',
  SEND_RATE_PER_SECOND: '1000',
  // A purchase takes a moment, so every order of the burst arrives while it is in flight.
  SIMULATOR_PURCHASE_LATENCY_MS: '1500',
};

async function burst(events: OrderConfirmationEvent[], w: TestWorkers, taskQueue: string): Promise<void> {
  for (const e of events) await optIn(w.repos, e);
  await Promise.all(
    events.map((e) =>
      startOrderConfirmation(w.client, taskQueue, e, { correlationId: `burst-${e.orderId}` }),
    ),
  );
}

const phone = (i: number) => `+1415556${String(i).padStart(4, '0')}`;

async function numbersBought(store: SimulatorStore, venueId: number): Promise<number> {
  return (await store.numbers()).filter((n) => n.friendlyName === venueFriendlyName(venueId)).length;
}

test('300 simultaneous first orders for one new venue: all sent, one number bought', async () => {
  const taskQueue = uniqueTaskQueue('burst-one-venue');
  const w = await startTestWorkers({ knex: db.knex, taskQueue, env: BURST_ENV });
  try {
    const venueId = 880_001;
    const events = Array.from({ length: 300 }, (_, i) =>
      parsedEvent({ VenueId: venueId, PhoneNumber: phone(i) }),
    );
    await burst(events, w, taskQueue);
    const results = await Promise.all(
      events.map((e) => w.client.workflow.getHandle(orderWorkflowId(e.orderId)).result()),
    );
    expect(results.filter((r) => r.outcome === 'sent')).toHaveLength(300);
    expect(await numbersBought(w.store, venueId)).toBe(1);
    const active = await w.repos.venueNumbers.findActive(venueId, 'simulator');
    const froms = new Set(
      (await w.store.messages()).filter((m) => events.some((e) => e.phoneNumber === m.to)).map((m) => m.from),
    );
    expect([...froms]).toEqual([active?.phoneNumber]);
  } finally {
    await w.shutdown();
  }
}, 180_000);

test('150 new venues, two first orders each, all at once: all sent, one number per venue', async () => {
  const taskQueue = uniqueTaskQueue('burst-many-venues');
  const w = await startTestWorkers({ knex: db.knex, taskQueue, env: BURST_ENV });
  try {
    const venues = Array.from({ length: 150 }, (_, i) => 881_000 + i);
    const events = venues.flatMap((venueId, i) => [
      parsedEvent({ VenueId: venueId, PhoneNumber: phone(2 * i) }),
      parsedEvent({ VenueId: venueId, PhoneNumber: phone(2 * i + 1) }),
    ]);
    await burst(events, w, taskQueue);
    const results = await Promise.all(
      events.map((e) => w.client.workflow.getHandle(orderWorkflowId(e.orderId)).result()),
    );
    expect(results.filter((r) => r.outcome === 'sent')).toHaveLength(events.length);
    const numbers = await w.store.numbers();
    for (const venueId of venues) {
      expect(numbers.filter((n) => n.friendlyName === venueFriendlyName(venueId))).toHaveLength(1);
    }
  } finally {
    await w.shutdown();
  }
}, 240_000);

test('SIGTERM in the middle of a burst: the worker exits within its grace time, and nothing is lost', async () => {
  const taskQueue = uniqueTaskQueue('burst-sigterm');
  const simulatorPath = tempSimulatorPath();
  const store = new SimulatorStore(simulatorPath);
  const { client, close } = await connectTestClient();
  const graceSeconds = 5;
  const worker = spawnWorker({
    ...workerProcessEnv({ taskQueue, databaseUrl: db.url, simulatorPath }),
    WORKER_SHUTDOWN_GRACE_SECONDS: String(graceSeconds),
    ...BURST_ENV,
    // Sends held long past the grace time: shutdown must cancel them rather than wait.
    SIMULATOR_LATENCY_MS: '60000',
  });
  let replacement: TestWorkers | undefined;
  try {
    await waitFor(async () => worker.output().includes('worker started'), {
      timeoutMs: 60_000,
      description: 'worker process started',
    });
    const repos = createRepositories(db.knex);
    const events = Array.from({ length: 100 }, (_, i) =>
      parsedEvent({ VenueId: 882_001, PhoneNumber: phone(i) }),
    );
    for (const e of events) await optIn(repos, e);
    await Promise.all(
      events.map((e) =>
        startOrderConfirmation(client, taskQueue, e, { correlationId: `burst-${e.orderId}` }),
      ),
    );
    await waitFor(async () => (await store.messages()).length > 0, { description: 'sends in flight' });

    const signalledAt = Date.now();
    worker.child.kill('SIGTERM');
    const code = await exited(worker.child);
    expect(Date.now() - signalledAt).toBeLessThan((graceSeconds + 10) * 1000);
    expect(code).toBe(0);

    // A replacement finishes every order, each texted once.
    replacement = await startTestWorkers({
      knex: db.knex,
      taskQueue,
      simulatorPath,
      env: { SEND_RATE_PER_SECOND: '1000' },
    });
    const results = await Promise.all(
      events.map((e) => client.workflow.getHandle(orderWorkflowId(e.orderId)).result()),
    );
    expect(results.filter((r) => r.outcome === 'sent')).toHaveLength(events.length);
    for (const e of events) expect(await store.messages({ to: e.phoneNumber })).toHaveLength(1);
  } finally {
    if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
    await replacement?.shutdown();
    await store.close();
    await close();
  }
}, 240_000);
