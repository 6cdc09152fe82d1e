import { startOrderConfirmation } from '../../../temporal/start-order';
import { createRepositories } from '../../../db';
import type { OrderConfirmationEvent } from '../../../domain/order-event';
import { venueFriendlyName } from '../../../providers/sms-provider';
import { SimulatorStore } from '../../../providers/simulator/simulator-store';
import { orderWorkflowId } from '../../../temporal/ids';
import { createTestDatabase, type TestDatabase } from '../../support/db';
import { connectTestClient, uniqueTaskQueue, waitFor } from '../../support/temporal';
import {
  optIn,
  parsedEvent,
  startTestWorkers,
  tempSimulatorPath,
  type TestWorkers,
} from '../../support/workers';
import { spawnWorker, workerProcessEnv } from '../../support/worker-process';

interface CrashScenario {
  /** What makes the doomed worker's provider hold its answer, so the kill lands inside that window. */
  slowProvider: Record<string, string>;
  /** True once the provider side of the step has happened (the message accepted, the number bought). */
  providerActed(store: SimulatorStore, e: OrderConfirmationEvent): Promise<boolean>;
}

/**
 * Runs one order on a worker process, SIGKILLs it once the provider has acted but before the worker
 * heard back, lets a fresh worker take over, and hands back what the test checks.
 */
async function crashMidStep(
  scenario: CrashScenario,
  check: (ctx: CrashContext) => Promise<void>,
): Promise<void> {
  const db = await createTestDatabase();
  const taskQueue = uniqueTaskQueue('worker-crash');
  const simulatorPath = tempSimulatorPath();
  const store = new SimulatorStore(simulatorPath);
  const { client, close } = await connectTestClient();
  let replacement: TestWorkers | undefined;
  const doomed = spawnWorker({
    ...workerProcessEnv({ taskQueue, databaseUrl: db.url, simulatorPath }),
    ...scenario.slowProvider,
  });
  try {
    const e = parsedEvent();
    const repos = createRepositories(db.knex);
    await optIn(repos, e);
    await waitFor(async () => doomed.output().includes('worker started'), {
      timeoutMs: 60_000,
      description: 'child worker started',
    });
    await startOrderConfirmation(client, taskQueue, e, { correlationId: 'crash-test' });
    await waitFor(() => scenario.providerActed(store, e), { description: 'the provider acted' });
    doomed.child.kill('SIGKILL');
    await new Promise((resolve) => doomed.child.once('exit', resolve));

    replacement = await startTestWorkers({ knex: db.knex, taskQueue, simulatorPath });
    const result = await client.workflow.getHandle(orderWorkflowId(e.orderId)).result();
    await check({ e, store, repos, db, result });
  } finally {
    if (doomed.child.exitCode === null && doomed.child.signalCode === null) doomed.child.kill('SIGKILL');
    await replacement?.shutdown();
    await store.close();
    await close();
    await db.destroy();
  }
}

interface CrashContext {
  e: OrderConfirmationEvent;
  store: SimulatorStore;
  repos: ReturnType<typeof createRepositories>;
  db: TestDatabase;
  result: unknown;
}

test('a worker killed between the provider accepting and the history write: one SMS after a new worker takes over', async () => {
  await crashMidStep(
    {
      slowProvider: { SIMULATOR_LATENCY_MS: '60000' },
      providerActed: async (store, e) => (await store.messages({ to: e.phoneNumber })).length === 1,
    },
    async ({ e, store, repos, result }) => {
      const messages = await store.messages({ to: e.phoneNumber });
      expect(messages).toHaveLength(1);
      expect(result).toMatchObject({ outcome: 'sent', providerMessageId: messages[0].sid });
      expect(await repos.history.findByOrderId(e.orderId)).toEqual([
        expect.objectContaining({ status: 'sent', providerMessageId: messages[0].sid }),
      ]);
    },
  );
});

test('a worker killed after the number purchase and before storing it: the venue ends with exactly one number', async () => {
  const venueNumbers = async (store: SimulatorStore, venueId: number) =>
    (await store.numbers()).filter((n) => n.friendlyName === venueFriendlyName(venueId));
  await crashMidStep(
    {
      slowProvider: { SIMULATOR_PURCHASE_LATENCY_MS: '60000', SIMULATOR_LATENCY_MS: '0' },
      providerActed: async (store, e) => (await venueNumbers(store, e.venueId)).length === 1,
    },
    async ({ e, store, db, result }) => {
      expect(result).toMatchObject({ outcome: 'sent' });
      const bought = await venueNumbers(store, e.venueId);
      expect(bought.map((n) => n.status)).toEqual(['owned']);
      const active = await db.knex('VenuePhoneNumbers').where({ VenueID: e.venueId });
      expect(
        active.map((r: { PhoneNumber: string; StatusID: number }) => [r.PhoneNumber, r.StatusID]),
      ).toEqual([[bought[0].phoneNumber, 1]]);
      expect((await store.messages({ to: e.phoneNumber }))[0]?.from).toBe(bought[0].phoneNumber);
    },
  );
});
