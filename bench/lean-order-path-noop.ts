import { proxyActivities } from '@temporalio/workflow';

/**
 * The same-shape ceiling for bench/lean-order-path.ts: five sequential regular activities that do
 * nothing, with the order path's quick-call timeouts. Not part of the service's workflow bundle.
 */
const { noop } = proxyActivities<{ noop(step: number): Promise<number> }>({
  startToCloseTimeout: '10 seconds',
});

export async function sameShapeCeiling(): Promise<number> {
  let sum = 0;
  for (let step = 0; step < 5; step++) sum += await noop(step);
  return sum;
}
