import { WorkflowFailedError } from '@temporalio/client';
import { orderWorkflowId } from '../../../temporal/ids';
import { startOptedInOrder, useTestWorkers } from '../../support/workers';

// The simulator sells US numbers only: every purchase for this worker is a Misconfiguration.
const { w, taskQueue } = useTestWorkers('provisioning-failure', { env: { DEFAULT_PHONE_REGION: 'GB' } });

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
