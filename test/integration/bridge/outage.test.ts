import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { ServiceBusClient, type ServiceBusMessage } from '@azure/service-bus';
import { Client } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import Fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
import { SEND_ORDER_CONFIRMATION_SMS } from '../../../bridge/event-types';
import { createBridge, type Bridge } from '../../../bridge/subscriber';
import { loadConfig } from '../../../config';
import { createMetrics } from '../../../runtime/metrics';
import { createReadiness } from '../../../runtime/readiness';
import { healthRoutes } from '../../../runtime/health-routes';
import { connectTemporalClient } from '../../../temporal/client';
import { orderWorkflowId } from '../../../temporal/ids';
import { ensureSearchAttributes } from '../../../temporal/search-attributes-setup';
import { useResource } from '../../support/lifecycle';
import { parseSamples } from '../../support/metrics';
import { startServiceBusPeer } from '../../support/servicebus-peer';
import { startTcpProxy, type TcpProxy } from '../../support/tcp-proxy';
import {
  testTemporalAddress,
  uniqueTaskQueue,
  useTestClient,
  waitFor,
  workflowStarted,
} from '../../support/temporal';
import { sampleEvent } from '../../support/workers';

/*
 * Temporal away or refusing must never cost a valid event its place: nothing here is dead-lettered
 * that could start later. The subscription is set up to make the old behaviour (retry in-process,
 * then abandon) fail fast: two deliveries, one-second locks, 100 ms between start attempts and
 * 500 ms per attempt. No worker polls the task queue: these tests are about starts.
 */
// One topic per test, so what one test leaves behind never takes the other's slots.
const OUTAGE_TOPIC = 'orders-outage';
const REFUSED_TOPIC = 'orders-refused';
const SUBSCRIPTION = 'sms-service';
const MAX_DELIVERY_COUNT = 2;
const RETRY_DELAYS_MS = [100, 100];
const START_TIMEOUT_MS = 500;
const MAX_CONCURRENT_CALLS = 4;
/** What a delivery cost the old bridge at most: every attempt waiting out its deadline, plus the delays. */
const PER_DELIVERY_MS =
  (RETRY_DELAYS_MS.length + 1) * START_TIMEOUT_MS + RETRY_DELAYS_MS.reduce((a, b) => a + b, 0);
const taskQueue = uniqueTaskQueue('bridge-outage');

const subscriptions = {
  [SUBSCRIPTION]: { maxDeliveryCount: MAX_DELIVERY_COUNT, lockDurationMs: 1_000 },
};
const peer = useResource(
  () =>
    startServiceBusPeer({
      topics: { [OUTAGE_TOPIC]: { subscriptions }, [REFUSED_TOPIC]: { subscriptions } },
    }),
  (p) => p.stop(),
);
const temporal = useTestClient();
const sbClient = useResource(
  async () => new ServiceBusClient(peer.connectionString),
  (c) => c.close(),
);

interface LogLine {
  level: number;
  msg: string;
  reason?: string;
  err?: string;
}

function startBridge(env: {
  SERVICEBUS_TOPIC: string;
  TEMPORAL_ADDRESS: string;
  TEMPORAL_NAMESPACE?: string;
}) {
  const config = loadConfig({
    SERVICEBUS_CONNECTION_STRING: peer.connectionString,
    SERVICEBUS_SUBSCRIPTION: SUBSCRIPTION,
    SERVICEBUS_START_RETRY_DELAYS_MS: RETRY_DELAYS_MS.join(','),
    SERVICEBUS_START_TIMEOUT_MS: String(START_TIMEOUT_MS),
    SERVICEBUS_MAX_CONCURRENT_CALLS: String(MAX_CONCURRENT_CALLS),
    ...env,
  });
  const logs: LogLine[] = [];
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean))
          logs.push(JSON.parse(line) as LogLine);
        done();
      },
    }),
  );
  const client = connectTemporalClient(config.temporal);
  const metrics = createMetrics();
  const bridge: Bridge = createBridge({
    metrics,
    serviceBus: config.serviceBus!,
    temporal: { client: client.client, taskQueue },
    defaultRegion: 'US',
    logger,
  });
  /** The gate's gauges as a scrape shows them; undefined when not exported (0 must be exported). */
  const gauges = async () => {
    const samples = parseSamples(await metrics.registry.metrics());
    const value = (name: string) => samples.find((m) => m.name === name)?.value;
    return { held: value('sms_bridge_held'), messagesHeld: value('sms_bridge_messages_held') };
  };
  return {
    bridge,
    logs,
    gauges,
    async close() {
      await bridge.close();
      await client.close();
    },
  };
}

function message(event: Record<string, unknown>): ServiceBusMessage {
  return {
    body: Buffer.from(JSON.stringify(event)),
    contentType: 'application/json',
    subject: SEND_ORDER_CONFIRMATION_SMS,
    messageId: `msg-${String(event.OrderId)}`,
  };
}

const drained = (topic: string) =>
  waitFor(async () => peer.activeCount(topic, SUBSCRIPTION) === 0, {
    timeoutMs: 60_000,
    description: 'the subscription drained',
  });

/** The bridge's readiness as the health endpoint serves it, uncached. */
async function healthApp(bridge: Bridge): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(healthRoutes, {
    readiness: createReadiness({ servicebus: bridge.check, bridge: bridge.startCheck }, { ttlMs: 0 }),
    version: 'test',
  });
  return app;
}

test(`Temporal away for longer than MaxDeliveryCount × the start retries: nothing dead-lettered, every event started once after it returns`, async () => {
  const proxy: TcpProxy = await startTcpProxy(testTemporalAddress());
  const TOPIC = OUTAGE_TOPIC;
  const sender = sbClient.createSender(TOPIC);
  const running = startBridge({ SERVICEBUS_TOPIC: TOPIC, TEMPORAL_ADDRESS: proxy.address });
  const app = await healthApp(running.bridge);
  const events = Array.from({ length: 12 }, () => sampleEvent());
  try {
    await running.bridge.start();
    // Up and running first, so the outage cuts an established connection.
    const warmUp = sampleEvent();
    await sender.sendMessages(message(warmUp));
    await drained(TOPIC);
    expect(await running.gauges()).toEqual({ held: 0, messagesHeld: 0 });

    proxy.cut();
    const outageStart = Date.now();
    await sender.sendMessages(events.slice(0, 6).map(message));
    await waitFor(async () => Date.now() >= outageStart + PER_DELIVERY_MS, { description: 'mid-outage' });
    await sender.sendMessages(events.slice(6).map(message));
    // Twice what the old bridge needed to use up every delivery of every message.
    await waitFor(async () => Date.now() >= outageStart + 2 * MAX_DELIVERY_COUNT * PER_DELIVERY_MS, {
      intervalMs: 50,
      description: 'the outage',
    });

    expect(peer.deadLetters(TOPIC, SUBSCRIPTION)).toEqual([]);
    const active = peer.activeMessages(TOPIC, SUBSCRIPTION);
    expect(active).toHaveLength(events.length);
    // Not one delivery spent: the held messages kept their locks, the rest were never received.
    expect(active.map((m) => m.deliveryCount)).toEqual(events.map(() => 0));
    expect(active.filter((m) => m.lockedUntil !== undefined)).toHaveLength(MAX_CONCURRENT_CALLS);
    expect(running.bridge.stats()).toMatchObject({
      completed: 1,
      deadLettered: 0,
      abandoned: 0,
      lockLost: 0,
      starts: { state: 'paused', transient: true },
    });
    // What the SmsBridgeHolding alert reads: held, with every message but the probing one waiting.
    // A failed probe's message is between its start and its next turn for a moment, so the count is
    // waited for, not read once.
    const during = await waitFor(
      async () => {
        const g = await running.gauges();
        return g.messagesHeld !== undefined && g.messagesHeld >= MAX_CONCURRENT_CALLS - 1 ? g : undefined;
      },
      { description: 'every held message but the probe counted as waiting' },
    );
    expect(during.held).toBe(1);
    const ready = await app.inject({ url: '/health/ready' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({
      checks: { bridge: { status: 'down', reason: expect.stringMatching(/^paused: Temporal\w+$/) } },
    });

    proxy.restore();
    await drained(TOPIC);
    expect(peer.deadLetters(TOPIC, SUBSCRIPTION)).toEqual([]);
    const completed = peer
      .completed(TOPIC, SUBSCRIPTION)
      .filter((m) => events.some((e) => m.messageId === `msg-${String(e.OrderId)}`));
    expect(completed.map((m) => m.deliveryCount)).toEqual(events.map(() => 0));
    const ids = events.map((e) => `'${orderWorkflowId(String(e.OrderId))}'`);
    const counted = await waitFor(
      async () => {
        const { count } = await temporal.client.workflow.count(`WorkflowId IN (${ids.join(',')})`);
        return count === events.length ? count : undefined;
      },
      { description: 'one execution per event in visibility' },
    );
    expect(counted).toBe(events.length);
    expect(running.bridge.stats()).toMatchObject({ completed: events.length + 1, starts: { state: 'open' } });
    expect(await running.gauges()).toEqual({ held: 0, messagesHeld: 0 });
    expect((await app.inject({ url: '/health/ready' })).statusCode).toBe(200);
  } finally {
    proxy.restore();
    await app.close();
    await running.close();
    await sender.close();
    await proxy.close();
  }
}, 60_000);

test('a start Temporal refuses (namespace missing, then search attributes unregistered): readiness names the reason, the message is held, and it starts once fixed', async () => {
  const namespace = `bridge-refused-${randomBytes(4).toString('hex')}`;
  const TOPIC = REFUSED_TOPIC;
  const sender = sbClient.createSender(TOPIC);
  const running = startBridge({
    SERVICEBUS_TOPIC: TOPIC,
    TEMPORAL_ADDRESS: testTemporalAddress(),
    TEMPORAL_NAMESPACE: namespace,
  });
  const app = await healthApp(running.bridge);
  const event = sampleEvent();
  const readiness = async () => {
    const res = await app.inject({ url: '/health/ready' });
    return { statusCode: res.statusCode, body: res.json<{ checks: Record<string, { reason?: string }> }>() };
  };
  const refusedWith = (reason: string) =>
    waitFor(
      async () => {
        const r = await readiness();
        return r.statusCode === 503 && r.body.checks.bridge?.reason === `paused: ${reason}` ? r : undefined;
      },
      { description: `readiness naming ${reason}` },
    );
  try {
    await running.bridge.start();
    await sender.sendMessages(message(event));

    const notFound = await refusedWith('NamespaceNotFound');
    // Names only in the public body; the error text (with the namespace) is in the log.
    expect(JSON.stringify(notFound.body)).not.toContain(namespace);
    expect(running.logs).toContainEqual(
      expect.objectContaining({
        level: 50,
        reason: 'NamespaceNotFound',
        err: expect.stringContaining(namespace),
      }),
    );
    // Invalid payloads still go straight to the dead-letter queue while the bridge is paused.
    await sender.sendMessages({ body: Buffer.from('{"OrderId": '), messageId: 'refused-bad-json' });
    await waitFor(
      async () => peer.deadLetters(TOPIC, SUBSCRIPTION).some((m) => m.messageId === 'refused-bad-json'),
      { description: 'the invalid payload dead-lettered' },
    );

    // The operator creates the namespace: Temporal now refuses for the search attributes.
    await temporal.connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs('1 day'),
    });
    await refusedWith('SearchAttributeNotRegistered');
    expect(running.logs).toContainEqual(
      expect.objectContaining({ level: 50, reason: 'SearchAttributeNotRegistered' }),
    );
    const held = peer.activeMessages(TOPIC, SUBSCRIPTION);
    expect(held).toEqual([
      expect.objectContaining({ messageId: `msg-${String(event.OrderId)}`, deliveryCount: 0 }),
    ]);

    // ...and registers them: the held message starts, with no restart.
    await ensureSearchAttributes(temporal.connection, namespace);
    await drained(TOPIC);
    const inNamespace = new Client({
      connection: temporal.connection,
      namespace,
      dataConverter: temporal.client.options.dataConverter,
    });
    expect(await workflowStarted(inNamespace, orderWorkflowId(String(event.OrderId)))).toBe(true);
    expect(peer.deadLetters(TOPIC, SUBSCRIPTION).map((m) => m.messageId)).not.toContain(
      `msg-${String(event.OrderId)}`,
    );
    const done = peer
      .completed(TOPIC, SUBSCRIPTION)
      .find((m) => m.messageId === `msg-${String(event.OrderId)}`);
    expect(done?.deliveryCount).toBe(0);
    await waitFor(async () => (await readiness()).statusCode === 200, { description: 'ready again' });
  } finally {
    await app.close();
    await running.close();
    await sender.close();
  }
}, 60_000);
