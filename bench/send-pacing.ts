import { startOrderConfirmation } from '../temporal/start-order';
import { orderWorkflowId } from '../temporal/ids';
import { createTestDatabase } from '../test/support/db';
import { startTwilioFake, twilioEnv } from '../test/support/provider-fakes/twilio-fake';
import { startStandaloneTemporal } from '../test/support/workflow-bundle';
import { optIn, parsedEvent, startTestWorkers } from '../test/support/workers';
import { peakInAnySecond } from './support/stats';

/**
 * `npm run bench:pacing [-- orders rate]`: orders for one venue through the real Twilio SDK to the
 * local fake, with the send queue limited to `rate` per second by the Temporal server
 * (maxTaskQueueActivitiesPerSecond). Prints the rate the fake observed; asserts nothing.
 */
const ORDERS = Number(process.argv[2] ?? 100);
const RATE = process.argv[3] ?? '5';

async function main(): Promise<void> {
  const server = await startStandaloneTemporal();

  const fake = await startTwilioFake();
  const db = await createTestDatabase();
  const taskQueue = 'bench-pacing';
  const w = await startTestWorkers({
    knex: db.knex,
    taskQueue,
    env: {
      ...twilioEnv(fake),
      SEND_RATE_PER_SECOND: RATE,
    },
  });
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

    const times = fake
      .messages()
      .map((m) => m.dateCreated.getTime())
      .sort((a, b) => a - b);
    const spanS = (times[times.length - 1] - times[0]) / 1000;
    console.log(
      JSON.stringify({
        orders: ORDERS,
        limitPerSecond: Number(RATE),
        messagesAtFake: times.length,
        observedPerSecond: +((times.length - 1) / spanS).toFixed(2),
        peakInAnySecond: peakInAnySecond(times),
        totalSeconds: +(totalMs / 1000).toFixed(1),
      }),
    );
  } finally {
    await w.shutdown();
    await db.destroy();
    await fake.stop();
    await server.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
