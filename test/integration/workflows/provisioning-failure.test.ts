import { WorkflowFailedError } from '@temporalio/client';
import { startOrderConfirmation } from '../../../bridge/start-order';
import { parseOrderEvent } from '../../../domain/order-event';
import { orderWorkflowId } from '../../../temporal/ids';
import { createTestDatabase, type TestDatabase } from '../../support/db';
import { uniqueTaskQueue } from '../../support/temporal';
import { sampleEvent, startTestWorkers, type TestWorkers } from '../../support/workers';

const taskQueue = uniqueTaskQueue('provisioning-failure');
let db: TestDatabase;
let w: TestWorkers;

beforeAll(async () => {
  db = await createTestDatabase();
  // The simulator sells US numbers only: every purchase for this worker is a Misconfiguration.
  w = await startTestWorkers({ knex: db.knex, taskQueue, env: { DEFAULT_PHONE_REGION: 'GB' } });
});
afterAll(async () => {
  await w?.shutdown();
  await db?.destroy();
});

test('a purchase that can never succeed fails the order with failed history, instead of waiting forever', async () => {
  const parsed = parseOrderEvent(sampleEvent({ PhoneNumber: '+14155550601' }));
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  const e = parsed.event;
  await w.repos.consent.applyChange({
    venueId: e.venueId,
    phoneNumber: e.phoneNumber,
    status: 'opted_in',
    source: 'checkout',
    occurredAt: new Date(Date.now() - 60_000),
  });
  await startOrderConfirmation(w.client, taskQueue, e, { correlationId: 'no-numbers' });

  const outcome = await w.client.workflow
    .getHandle(orderWorkflowId(e.orderId))
    .result()
    .then(
      () => 'completed',
      (err: unknown) =>
        err instanceof WorkflowFailedError ? `failed: ${String(err.cause?.message)}` : String(err),
    );
  expect(outcome).toMatch(/^failed: SMS not sent: no sender number: .*no numbers in GB/);
  expect(await w.repos.history.findByOrderId(e.orderId)).toEqual([
    expect.objectContaining({ status: 'failed', errorCode: '21452' }),
  ]);
  expect(await w.store.messages({ to: e.phoneNumber })).toHaveLength(0);
});
