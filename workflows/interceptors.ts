import { workflowInfo, type WorkflowInterceptorsFactory } from '@temporalio/workflow';

/**
 * Every log line a workflow writes (ours and the SDK's) carries the order and correlation ids, read
 * from the memo the bridge sets at start, so ops can follow one order across processes.
 */
export const interceptors: WorkflowInterceptorsFactory = () => ({
  outbound: [
    {
      getLogAttributes(input, next) {
        const { memo } = workflowInfo();
        return next({
          ...input,
          ...(memo?.orderId ? { orderId: memo.orderId } : {}),
          ...(memo?.correlationId ? { correlationId: memo.correlationId } : {}),
        });
      },
    },
  ],
});
