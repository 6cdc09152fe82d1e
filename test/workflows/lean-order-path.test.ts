import { ApplicationFailure, Context } from '@temporalio/activity';
import { orderStubs, startOrder } from '../support/order-stubs';
import { useTimeSkippingEnvironment, withStubWorkers } from '../support/time-skipping';

// The lean order path's local steps (docs/adr/0009): a definite answer is final. The fallback to the
// regular activity when a dependency stays down is tested on the dev server
// (test/integration/workflows/lean-order-path.test.ts): the time-skipping server and a workflow task
// kept open by local retries for 30 s of real time do not mix.

const env = useTimeSkippingEnvironment();

test('a definite answer from a local step is not retried as a regular activity', async () => {
  let regular = 0;
  await withStubWorkers(
    env,
    {
      ...orderStubs(),
      recordHistory: async (row) => {
        if (!Context.current().info.isLocal) regular++;
        if (row.errorCode === 'InvalidRecord') return { historyId: 2 };
        throw ApplicationFailure.create({
          type: 'InvalidRecord',
          message: 'SmsSendHistory record: a value is too long for its column',
          nonRetryable: true,
        });
      },
    },
    async ({ client, taskQueue, calls }) => {
      const { handle } = await startOrder(client, taskQueue);

      await expect(handle.result()).rejects.toThrow();
      expect(regular).toBe(0);
      expect(calls.count('recordHistory')).toBe(2); // the row, then the plain row keeping the outcome
    },
  );
});
