import { ServiceBusClient } from '@azure/service-bus';
import { createBridge } from '../bridge/subscriber';
import { SEND_ORDER_CONFIRMATION_SMS } from '../bridge/event-types';
import { loadConfig } from '../config';
import { createLogger } from '../config/logger';
import { startDevServer } from '../scripts/temporal-cli';
import { connectTemporalClient } from '../temporal/client';
import { startServiceBusPeer } from '../test/support/servicebus-peer';
import { sampleEvent } from '../test/support/workers';

/**
 * `npm run bench:bridge [-- events concurrency]`: events through the real Service Bus SDK and the
 * test AMQP peer into the bridge, which starts one workflow each on a throwaway dev server. Prints
 * events per second from the first send to the last message completed; asserts nothing.
 */
const EVENTS = Number(process.argv[2] ?? 1000);
const CONCURRENCY = process.argv[3] ?? '10';
const TOPIC = 'send-order-confirmation-sms';
const SUBSCRIPTION = 'sms-service';

async function main(): Promise<void> {
  const server = await startDevServer({ headless: true, logLevel: 'error', log: (m) => console.error(m) });
  const peer = await startServiceBusPeer({ topics: { [TOPIC]: { subscriptions: { [SUBSCRIPTION]: {} } } } });
  const config = loadConfig({
    SERVICEBUS_CONNECTION_STRING: peer.connectionString,
    SERVICEBUS_MAX_CONCURRENT_CALLS: CONCURRENCY,
    TEMPORAL_ADDRESS: server.address,
  });
  const temporal = connectTemporalClient(config.temporal);
  const bridge = createBridge({
    serviceBus: config.serviceBus!,
    temporal: { client: temporal.client, taskQueue: 'bench-bridge' },
    defaultRegion: 'US',
    logger: createLogger({ level: 'warn', name: 'bench-bridge' }),
  });
  const sbClient = new ServiceBusClient(peer.connectionString);
  const sender = sbClient.createSender(TOPIC);
  try {
    const messages = Array.from({ length: EVENTS }, () => {
      const event = sampleEvent();
      return {
        body: Buffer.from(JSON.stringify(event)),
        messageId: String(event.OrderId),
        subject: SEND_ORDER_CONFIRMATION_SMS,
      };
    });
    await bridge.start();
    const started = performance.now();
    for (let i = 0; i < messages.length; i += 100) await sender.sendMessages(messages.slice(i, i + 100));
    const sentMs = performance.now() - started;
    while (bridge.stats().completed < EVENTS) {
      if (bridge.stats().deadLettered > 0) throw new Error(`dead-lettered: ${bridge.stats().deadLettered}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const totalMs = performance.now() - started;
    // Visibility is eventually consistent: wait (bounded) until it shows every workflow.
    let count = 0;
    for (let i = 0; i < 300 && count < EVENTS; i++) {
      ({ count } = await temporal.client.workflow.count(`TaskQueue = 'bench-bridge'`));
      if (count < EVENTS) await new Promise((r) => setTimeout(r, 100));
    }
    console.log(
      JSON.stringify({
        events: EVENTS,
        maxConcurrentCalls: Number(CONCURRENCY),
        sendSeconds: +(sentMs / 1000).toFixed(2),
        totalSeconds: +(totalMs / 1000).toFixed(2),
        eventsPerSecond: Math.round(EVENTS / (totalMs / 1000)),
        workflowsVisible: count,
        rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
      }),
    );
  } finally {
    await sender.close();
    await sbClient.close();
    await bridge.close();
    await temporal.close();
    await peer.stop();
    await server.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
