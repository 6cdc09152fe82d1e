import { WorkflowFailedError } from '@temporalio/client';
import { orderWorkflowId } from '../../../temporal/ids';
import { createTestDatabase, type TestDatabase } from '../../support/db';
import { uniqueTaskQueue } from '../../support/temporal';
import { startOptedInOrder, startTestWorkers, type TestWorkers } from '../../support/workers';

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
  const e = await startOptedInOrder(w, taskQueue, { PhoneNumber: '+14155550601' });

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
