import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { ServiceBusClient, type ServiceBusMessage } from '@azure/service-bus';
import { SEND_ORDER_CONFIRMATION_SMS } from '../../../bridge/event-types';
import { createBridge, type Bridge } from '../../../bridge/subscriber';
import { loadConfig } from '../../../config';
import { createLogger } from '../../../config/logger';
import { parseOrderEvent } from '../../../domain/order-event';
import { connectTemporalClient } from '../../../temporal/client';
import { orderWorkflowId } from '../../../temporal/ids';
import { useResource } from '../../support/lifecycle';
import { startServiceBusPeer } from '../../support/servicebus-peer';
import { startTcpProxy, type TcpProxy } from '../../support/tcp-proxy';
import { testTemporalAddress, waitFor, workflowStarted } from '../../support/temporal';
import { optIn, sampleEvent, useTestWorkers } from '../../support/workers';

const ROOT = path.resolve(__dirname, '../../..');
const TOPIC = 'send-order-confirmation-sms';
const SUBSCRIPTION = 'sms-service';

const peer = useResource(
  () =>
    startServiceBusPeer({
      topics: {
        [TOPIC]: { subscriptions: { [SUBSCRIPTION]: { maxDeliveryCount: 10, lockDurationMs: 60_000 } } },
      },
    }),
  (p) => p.stop(),
);
const { w, taskQueue } = useTestWorkers('bridge');
const sbClient = useResource(
  async () => new ServiceBusClient(peer.connectionString),
  (c) => c.close(),
);
const sender = useResource(
  async () => sbClient.createSender(TOPIC),
  (s) => s.close(),
);

/** The bridge in this process, reaching Temporal through `temporalAddress` (a proxy when a test cuts it). */
function startBridge(temporalAddress = testTemporalAddress()): { bridge: Bridge; close(): Promise<void> } {
  const config = loadConfig({
    SERVICEBUS_CONNECTION_STRING: peer.connectionString,
    TEMPORAL_ADDRESS: temporalAddress,
  });
  const temporal = connectTemporalClient(config.temporal);
  const bridge = createBridge({
    serviceBus: config.serviceBus!,
    temporal: { client: temporal.client, taskQueue },
    defaultRegion: 'US',
    logger: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent', name: 'test-bridge' }),
  });
  return {
    bridge,
    async close() {
      await bridge.close();
      await temporal.close();
    },
  };
}

function message(
  event: Record<string, unknown>,
  overrides: Partial<ServiceBusMessage> = {},
): ServiceBusMessage {
  return {
    body: Buffer.from(JSON.stringify(event)),
    contentType: 'application/json',
    subject: SEND_ORDER_CONFIRMATION_SMS,
    messageId: `msg-${String(event.OrderId)}`,
    ...overrides,
  };
}

/** The raw event is what goes on the wire; consent is recorded for its normalised phone number. */
async function optInFor(event: Record<string, unknown>): Promise<void> {
  const parsed = parseOrderEvent(event);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  await optIn(w.repos, parsed.event);
}

const workflowExists = (orderId: string) => workflowStarted(w.client, orderWorkflowId(orderId));

const drained = () =>
  waitFor(async () => peer.activeCount(TOPIC, SUBSCRIPTION) === 0, {
    timeoutMs: 120_000,
    description: 'the subscription drained',
  });

describe('bridge in process', () => {
  let running: ReturnType<typeof startBridge>;
  beforeAll(async () => {
    running = startBridge();
    await running.bridge.start();
  });
  afterAll(() => running.close());

  test('one event: one workflow, the message completed', async () => {
    const event = sampleEvent({ PhoneNumber: '+14155550301' });
    await optInFor(event);
    await sender.sendMessages(message(event, { correlationId: 'corr-bridge-1' }));
    const result = await waitFor(
      async () =>
        (await workflowExists(String(event.OrderId))) &&
        w.client.workflow.getHandle(orderWorkflowId(String(event.OrderId))).result(),
      { description: 'the order workflow' },
    );
    expect(result).toMatchObject({ outcome: 'sent' });
    await drained();
    expect(peer.completed(TOPIC, SUBSCRIPTION).map((m) => m.messageId)).toContain(
      `msg-${String(event.OrderId)}`,
    );
    const { memo } = await w.client.workflow.getHandle(orderWorkflowId(String(event.OrderId))).describe();
    expect(memo).toMatchObject({ correlationId: 'corr-bridge-1' });
  });

  test('the same event three times and the same OrderId under three message ids: one workflow, one SMS', async () => {
    const event = sampleEvent({ PhoneNumber: '+14155550302' });
    await optInFor(event);
    const same = message(event);
    await sender.sendMessages([same, same, same]);
    await sender.sendMessages(
      [1, 2, 3].map((i) => message(event, { messageId: `other-${i}-${String(event.OrderId)}` })),
    );
    await drained();
    await w.client.workflow.getHandle(orderWorkflowId(String(event.OrderId))).result();
    expect(await w.store.messages({ to: '+14155550302' })).toHaveLength(1);
    const completedForOrder = peer
      .completed(TOPIC, SUBSCRIPTION)
      .filter((m) => String(m.messageId).endsWith(String(event.OrderId)));
    expect(completedForOrder).toHaveLength(6);
    expect(peer.deadLetters(TOPIC, SUBSCRIPTION)).toHaveLength(0);
  });

  test('bad payloads are dead-lettered with reason and description; nothing starts; the bridge keeps consuming', async () => {
    const base = sampleEvent();
    const cases: Array<[string, Buffer | Record<string, unknown>, RegExp]> = [
      ['malformed', Buffer.from('{"OrderId": '), /body is not valid JSON/],
      ['missing', { OrderId: base.OrderId }, /VenueId: is required/],
      ['phone', { ...base, PhoneNumber: '+1 555 01' }, /PhoneNumber: is not a valid phone number/],
      ['types', { ...base, VenueId: 'x', OrderTotal: true }, /VenueId: .*OrderTotal: /],
      [
        'oversized',
        { ...base, CustomerName: 'x'.repeat(300 * 1024) },
        /body is \d+ bytes; the limit is 262144/,
      ],
    ];
    for (const [name, body] of cases) {
      await sender.sendMessages({
        body: Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body)),
        messageId: `bad-${name}`,
        subject: SEND_ORDER_CONFIRMATION_SMS,
      });
    }
    await sender.sendMessages(message(sampleEvent(), { subject: 'RefundIssued', messageId: 'bad-type' }));
    const good = sampleEvent();
    await sender.sendMessages(message(good));

    await drained();
    const dead = new Map(peer.deadLetters(TOPIC, SUBSCRIPTION).map((m) => [String(m.messageId), m]));
    for (const [name, , description] of cases) {
      expect({ name, reason: dead.get(`bad-${name}`)?.reason }).toEqual({ name, reason: 'InvalidPayload' });
      expect(dead.get(`bad-${name}`)?.description).toMatch(description);
    }
    expect(dead.get('bad-type')).toMatchObject({ reason: 'UnknownEventType' });
    expect(await workflowExists(String(base.OrderId))).toBe(false);
    expect(await workflowExists(String(good.OrderId))).toBe(true);
  });
});

test('Temporal unreachable for 20 s while events keep arriving: every event gets its workflow, nothing dead-lettered', async () => {
  const proxy: TcpProxy = await startTcpProxy(testTemporalAddress());
  const running = startBridge(proxy.address);
  await running.bridge.start();
  const deadBefore = peer.deadLetters(TOPIC, SUBSCRIPTION).length;
  const events = Array.from({ length: 20 }, () => sampleEvent());
  try {
    proxy.cut();
    const outageStart = Date.now();
    // Events keep arriving through the outage, one a second; then Temporal stays away until 20 s.
    for (const [i, event] of events.entries()) {
      await waitFor(async () => Date.now() >= outageStart + i * 1000, {
        intervalMs: 20,
        description: 'send slot',
      });
      await sender.sendMessages(message(event));
    }
    await waitFor(async () => Date.now() >= outageStart + 20_000, {
      intervalMs: 50,
      description: 'the outage',
    });
    expect(running.bridge.stats().completed).toBe(0);
    proxy.restore();
    await drained();
    for (const event of events) expect(await workflowExists(String(event.OrderId))).toBe(true);
    expect(peer.deadLetters(TOPIC, SUBSCRIPTION)).toHaveLength(deadBefore);
    // Held (locks renewed) while Temporal was away: never abandoned, never dropped.
    expect(running.bridge.stats()).toMatchObject({
      completed: events.length,
      deadLettered: 0,
      abandoned: 0,
      lockLost: 0,
    });
  } finally {
    proxy.restore();
    await running.close();
    await proxy.close();
  }
}, 180_000);

/** The real bridge entry (npm run bridge) as its own process, so it can be killed like a crashed pod. */
function spawnBridge(env: Record<string, string> = {}): { child: ChildProcess; output: () => string } {
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'bridge/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      SERVICEBUS_CONNECTION_STRING: peer.connectionString,
      TEMPORAL_ADDRESS: testTemporalAddress(),
      TEMPORAL_TASK_QUEUE: taskQueue,
      BRIDGE_HEALTH_PORT: '0',
      METRICS_PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

test('the bridge process killed mid-stream and started again: every event has exactly one workflow', async () => {
  const events = Array.from({ length: 150 }, () => sampleEvent());
  const completedBefore = peer.completed(TOPIC, SUBSCRIPTION).length;
  // One message at a time, so the kill surely lands with most of the stream still to go.
  const first = spawnBridge({ SERVICEBUS_MAX_CONCURRENT_CALLS: '1' });
  let second: ReturnType<typeof spawnBridge> | undefined;
  try {
    await waitFor(async () => first.output().includes('bridge started'), {
      timeoutMs: 60_000,
      description: 'bridge started',
    });
    for (let i = 0; i < events.length; i += 50)
      await sender.sendMessages(events.slice(i, i + 50).map((e) => message(e)));
    await waitFor(async () => peer.completed(TOPIC, SUBSCRIPTION).length - completedBefore >= 20, {
      description: 'the bridge is part-way through the stream',
    });
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    expect(peer.activeCount(TOPIC, SUBSCRIPTION)).toBeGreaterThan(0);

    second = spawnBridge();
    await drained();
    const missing: string[] = [];
    for (const event of events)
      if (!(await workflowExists(String(event.OrderId)))) missing.push(String(event.OrderId));
    expect(missing).toEqual([]);
    // One execution per order: a visibility count over the batch's ids.
    const ids = events.map((e) => `'${orderWorkflowId(String(e.OrderId))}'`);
    const counted = await waitFor(
      async () => {
        const { count } = await w.client.workflow.count(`WorkflowId IN (${ids.join(',')})`);
        return count === events.length ? count : undefined;
      },
      { description: 'visibility caught up' },
    );
    expect(counted).toBe(events.length);
  } finally {
    for (const p of [first, second])
      if (p && p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
    if (second) await new Promise((resolve) => second!.child.once('exit', resolve));
  }
}, 180_000);

test('graceful shutdown: close() stops receiving and lets the in-flight message finish and settle', async () => {
  const proxy = await startTcpProxy(testTemporalAddress());
  const running = startBridge(proxy.address);
  const event = sampleEvent();
  try {
    proxy.cut();
    await running.bridge.start();
    await sender.sendMessages(message(event));
    await waitFor(async () => running.bridge.stats().inFlight === 1, {
      description: 'the message in flight',
    });
    proxy.restore();
    await running.close();
    expect(running.bridge.stats()).toMatchObject({ completed: 1, inFlight: 0 });
    expect(peer.completed(TOPIC, SUBSCRIPTION).map((m) => m.messageId)).toContain(
      `msg-${String(event.OrderId)}`,
    );
    expect(await workflowExists(String(event.OrderId))).toBe(true);
  } finally {
    proxy.restore();
    await proxy.close();
  }
}, 60_000);

test('readiness: the bridge reports Service Bus down while it cannot reach the namespace', async () => {
  const config = loadConfig({
    SERVICEBUS_CONNECTION_STRING:
      'Endpoint=sb://127.0.0.1:1;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true',
  });
  const temporal = connectTemporalClient({ ...config.temporal, address: testTemporalAddress() });
  const bridge = createBridge({
    serviceBus: config.serviceBus!,
    temporal: { client: temporal.client, taskQueue },
    defaultRegion: 'US',
    logger: createLogger({ level: 'silent', name: 'test-bridge' }),
  });
  try {
    await expect(bridge.check()).rejects.toThrow(/not subscribed/);
    await bridge.start();
    const reason = await waitFor(
      () =>
        bridge.check().then(
          () => undefined,
          (err: Error) => err.message,
        ),
      { description: 'the receive error to surface' },
    );
    expect(reason).toMatch(/^receive: /);
  } finally {
    await bridge.close();
    await temporal.close();
  }
});
