import { ServiceBusClient } from '@azure/service-bus';
import { createBridge } from '../bridge/subscriber';
import { SEND_ORDER_CONFIRMATION_SMS } from '../bridge/event-types';
import { loadConfig } from '../config';
import { createLogger } from '../config/logger';
import { startDevServer } from '../scripts/temporal-cli';
import { connectTemporalClient } from '../temporal/client';
import { orderWorkflowId } from '../temporal/ids';
import { startServiceBusPeer } from '../test/support/servicebus-peer';
import { sampleEvent } from '../test/support/workers';
import { Progress } from './support/progress';
import { percentiles } from './support/stats';

/**
 * `npm run bench:bridge [-- --events N --concurrency C]` (or the older positional `N C`): events
 * through the real Service Bus SDK and the test AMQP peer into the bridge, which starts one workflow
 * each on a throwaway dev server (no worker: the bridge's work ends at the start). Progress on
 * stderr; the last stdout line is one JSON object, as `npm run bench` prints: events per second from
 * the first send to the last message completed, and sent → workflow started percentiles (the events
 * go in as one burst, so these include the wait in the subscription).
 */
function parseArgs(argv: string[]): { events: number; concurrency: number } {
  const flag = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i < 0 ? undefined : argv[i + 1];
  };
  const positional = argv.filter((a, i) => !a.startsWith('--') && !argv[i - 1]?.startsWith('--'));
  const events = Number(flag('--events') ?? positional[0] ?? 1000);
  const concurrency = Number(flag('--concurrency') ?? positional[1] ?? 10);
  for (const [name, v] of Object.entries({ events, concurrency }))
    if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer`);
  return { events, concurrency };
}

const TOPIC = 'send-order-confirmation-sms';
const SUBSCRIPTION = 'sms-service';
const TASK_QUEUE = 'bench-bridge';
const progress = new Progress('bench:bridge');

async function main(): Promise<void> {
  const { events: EVENTS, concurrency } = parseArgs(process.argv.slice(2));
  const server = await startDevServer({ headless: true, logLevel: 'error', log: (m) => progress.log(m) });
  const peer = await startServiceBusPeer({ topics: { [TOPIC]: { subscriptions: { [SUBSCRIPTION]: {} } } } });
  const config = loadConfig({
    ...process.env,
    SERVICEBUS_CONNECTION_STRING: peer.connectionString,
    SERVICEBUS_MAX_CONCURRENT_CALLS: String(concurrency),
    TEMPORAL_ADDRESS: server.address,
  });
  const temporal = connectTemporalClient(config.temporal);
  const bridge = createBridge({
    serviceBus: config.serviceBus!,
    temporal: { client: temporal.client, taskQueue: TASK_QUEUE },
    defaultRegion: 'US',
    logger: createLogger({ level: 'warn', name: 'bench-bridge' }),
  });
  const sbClient = new ServiceBusClient(peer.connectionString);
  const sender = sbClient.createSender(TOPIC);
  try {
    const events = Array.from({ length: EVENTS }, () => sampleEvent());
    const sentAt = new Map<string, number>();
    await bridge.start();
    const started = performance.now();
    for (let i = 0; i < events.length; i += 100) {
      const batch = events.slice(i, i + 100);
      await sender.sendMessages(
        batch.map((event) => ({
          body: Buffer.from(JSON.stringify(event)),
          messageId: String(event.OrderId),
          subject: SEND_ORDER_CONFIRMATION_SMS,
        })),
      );
      const now = Date.now();
      for (const event of batch) sentAt.set(String(event.OrderId), now);
    }
    const sentMs = performance.now() - started;
    while (bridge.stats().completed < EVENTS) {
      if (bridge.stats().deadLettered > 0) throw new Error(`dead-lettered: ${bridge.stats().deadLettered}`);
      progress.update('bridged', bridge.stats().completed, EVENTS);
      await new Promise((r) => setTimeout(r, 20));
    }
    const totalMs = performance.now() - started;
    progress.update('bridged', EVENTS, EVENTS);

    // Each workflow's start time as the server recorded it: when the bridge's start was durable.
    const latencies: number[] = [];
    const ids = [...sentAt.keys()];
    let described = 0;
    for (let i = 0; i < ids.length; i += 20) {
      await Promise.all(
        ids.slice(i, i + 20).map(async (orderId) => {
          const d = await temporal.client.workflow.getHandle(orderWorkflowId(orderId)).describe();
          latencies.push(d.startTime.getTime() - sentAt.get(orderId)!);
          progress.update('described', ++described, ids.length);
        }),
      );
    }
    progress.clear();
    console.log(
      JSON.stringify({
        eventsPerSecond: Math.round(EVENTS / (totalMs / 1000)),
        sentToStartedMs: percentiles(latencies),
        events: EVENTS,
        maxConcurrentCalls: concurrency,
        sendSeconds: +(sentMs / 1000).toFixed(2),
        totalSeconds: +(totalMs / 1000).toFixed(2),
        workflowsStarted: latencies.length,
        benchRssMb: Math.round(process.memoryUsage().rss / 2 ** 20),
      }),
    );
  } finally {
    progress.clear();
    await sender.close();
    await sbClient.close();
    await bridge.close();
    await temporal.close();
    await peer.stop();
    await server.stop();
  }
}

main().catch((err: unknown) => {
  progress.log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
