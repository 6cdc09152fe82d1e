import { startOrderConfirmation } from '../temporal/start-order';
import { orderWorkflowId } from '../temporal/ids';
import { optIn, parsedEvent } from '../test/support/workers';
import { startPacedStack } from './support/paced-stack';

/**
 * `npm run bench:pacing [-- orders rate]`: orders for one venue through the real Twilio SDK to the
 * local fake, with the send queue limited to `rate` per second by the Temporal server
 * (maxTaskQueueActivitiesPerSecond). Prints the rate the fake observed; asserts nothing.
 */
const ORDERS = Number(process.argv[2] ?? 100);
const RATE = process.argv[3] ?? '5';

async function main(): Promise<void> {
  const { w, taskQueue, pacing, stop } = await startPacedStack({ taskQueue: 'bench-pacing', rate: RATE });
  try {
    const events = Array.from({ length: ORDERS }, (_, i) =>
      parsedEvent({ VenueId: 4242, PhoneNumber: `+1415555${String(3000 + i)}` }),
    );
    for (const e of events) await optIn(w.repos, e);
    const started = performance.now();
    await Promise.all(
      events.map((e) => startOrderConfirmation(w.client, taskQueue, e, { correlationId: 'bench' })),
    );
    await Promise.all(events.map((e) => w.client.workflow.getHandle(orderWorkflowId(e.orderId)).result()));
    const totalMs = performance.now() - started;

    const paced = pacing();
    console.log(
      JSON.stringify({
        orders: ORDERS,
        limitPerSecond: Number(RATE),
        messagesAtFake: paced.accepted,
        observedPerSecond: paced.observedPerSecond,
        peakInAnySecond: paced.peakInAnySecond,
        totalSeconds: +(totalMs / 1000).toFixed(1),
      }),
    );
  } finally {
    await stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
