import { startOrderConfirmation } from '../../../temporal/start-order';
import type { Repositories } from '../../../db';
import type { OrderConfirmationEvent } from '../../../domain/order-event';
import { venueFriendlyName } from '../../../providers/sms-provider';
import type { SimulatorStore } from '../../../providers/simulator/simulator-store';
import { orderWorkflowId } from '../../../temporal/ids';
import type { TestDatabase } from '../../support/db';
import { waitFor } from '../../support/temporal';
import { optIn, parsedEvent } from '../../support/workers';
import { withDoomedWorker } from '../../support/worker-process';

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
  await withDoomedWorker('worker-crash', scenario.slowProvider, async (run) => {
    const { client, taskQueue, store, repos, db } = run;
    const e = parsedEvent();
    await optIn(repos, e);
    await startOrderConfirmation(client, taskQueue, e, { correlationId: 'crash-test' });
    await waitFor(() => scenario.providerActed(store, e), { description: 'the provider acted' });
    await run.kill();

    await run.takeOver();
    const result = await client.workflow.getHandle(orderWorkflowId(e.orderId)).result();
    await check({ e, store, repos, db, result });
  });
}

interface CrashContext {
  e: OrderConfirmationEvent;
  store: SimulatorStore;
  repos: Repositories;
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
