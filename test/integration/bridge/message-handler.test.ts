import { defineSearchAttributeKey } from '@temporalio/common';
import { EVENT_TYPES, SEND_ORDER_CONFIRMATION_SMS, type EventType } from '../../../bridge/event-types';
import {
  handleMessage,
  type IncomingMessage,
  type MessageHandlerDeps,
} from '../../../bridge/message-handler';
import { StartGate } from '../../../bridge/start-gate';
import { loadConfig } from '../../../config';
import { createLogger } from '../../../config/logger';
import { connectTemporalClient } from '../../../temporal/client';
import { ORDER_WORKFLOW_TYPE } from '../../../temporal/contracts';
import { orderWorkflowId } from '../../../temporal/ids';
import { messageHandlerDeps } from '../../support/bridge';
import {
  testTemporalAddress,
  uniqueTaskQueue,
  useTestClient,
  waitFor,
  workflowStarted,
} from '../../support/temporal';
import { startTcpProxy, type TcpProxy } from '../../support/tcp-proxy';
import { sampleEvent } from '../../support/workers';

// No worker polls this queue: these tests are about starting workflows, not running them.
const taskQueue = uniqueTaskQueue('bridge-handler');
const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent', name: 'test-bridge' });
const temporal = useTestClient();
let deps: MessageHandlerDeps;

beforeAll(() => {
  deps = messageHandlerDeps({ client: temporal.client, taskQueue, logger, gateDelaysMs: [10, 20] });
});

const bytes = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));

const workflowExists = (orderId: string) => workflowStarted(temporal.client, orderWorkflowId(orderId));

test('a valid event starts its workflow once, with the correlation id in the memo', async () => {
  const event = sampleEvent();
  const message: IncomingMessage = {
    body: bytes(event),
    messageId: 'msg-1',
    correlationId: 'corr-1',
    subject: SEND_ORDER_CONFIRMATION_SMS,
  };
  const workflowId = orderWorkflowId(String(event.OrderId));
  expect(await handleMessage(message, deps)).toEqual({ action: 'complete', workflowId, started: true });
  // Redelivered, or the same order under another message id: still complete, nothing new started.
  expect(await handleMessage({ ...message, messageId: 'msg-2' }, deps)).toEqual({
    action: 'complete',
    workflowId,
    started: false,
  });
  const description = await temporal.client.workflow.getHandle(workflowId).describe();
  expect(description.memo).toMatchObject({ correlationId: 'corr-1', messageId: 'msg-1' });
});

test('without a correlation id the message id is used; an object body from the JS SDK is accepted', async () => {
  const event = sampleEvent();
  const settlement = await handleMessage(
    {
      body: event,
      messageId: 'only-message-id',
      applicationProperties: { EventType: SEND_ORDER_CONFIRMATION_SMS },
    },
    deps,
  );
  expect(settlement).toMatchObject({ action: 'complete', started: true });
  const description = await temporal.client.workflow
    .getHandle(orderWorkflowId(String(event.OrderId)))
    .describe();
  expect(description.memo).toMatchObject({ correlationId: 'only-message-id' });
});

test.each<[string, (e: Record<string, unknown>) => unknown, RegExp]>([
  ['malformed JSON', () => '{"OrderId": "x",', /\$: body is not valid JSON/],
  ['a JSON array', () => '[]', /\$: body must be a JSON object/],
  ['missing fields', ({ OrderId }) => ({ OrderId }), /VenueId: is required.*PhoneNumber: is required/],
  [
    'an invalid phone',
    (e) => ({ ...e, PhoneNumber: '+1 555 01' }),
    /PhoneNumber: is not a valid phone number/,
  ],
  ['wrong types', (e) => ({ ...e, VenueId: 'forty-two', TicketCount: '2' }), /VenueId: .*TicketCount: /],
  [
    'a 300 KB body',
    (e) => ({ ...e, CustomerName: 'x'.repeat(300 * 1024) }),
    /\$: body is \d+ bytes; the limit is 262144/,
  ],
])(
  '%s is dead-lettered as InvalidPayload listing every problem, and starts nothing',
  async (_name, mutate, description) => {
    const event = sampleEvent();
    const settlement = await handleMessage({ body: bytes(mutate(event)), messageId: 'bad' }, deps);
    expect(settlement).toEqual({
      action: 'deadLetter',
      reason: 'InvalidPayload',
      description: expect.stringMatching(description),
    });
    expect(await workflowExists(String(event.OrderId))).toBe(false);
  },
);

test('an unknown event type is dead-lettered as UnknownEventType, whatever its body', async () => {
  const event = sampleEvent();
  const settlement = await handleMessage({ body: bytes(event), subject: 'RefundIssued' }, deps);
  expect(settlement).toEqual({
    action: 'deadLetter',
    reason: 'UnknownEventType',
    description: expect.stringContaining('"RefundIssued"'),
  });
  expect(await workflowExists(String(event.OrderId))).toBe(false);
});

test('one event Temporal refuses while others start is dead-lettered as StartRejected; the others complete', async () => {
  // A real refusal for one event only: its start carries a search attribute no namespace has.
  const real = EVENT_TYPES.get(SEND_ORDER_CONFIRMATION_SMS)!;
  const poison = sampleEvent();
  const refusing: EventType = {
    ...real,
    start: async (client, queue, event, meta) => {
      if (real.key(event) !== poison.OrderId) return real.start(client, queue, event, meta);
      await client.workflow.start(ORDER_WORKFLOW_TYPE, {
        workflowId: `refused-${real.key(event)}`,
        taskQueue: queue,
        typedSearchAttributes: [
          { key: defineSearchAttributeKey('NotRegisteredAnywhere', 'KEYWORD'), value: 'x' },
        ],
      });
      throw new Error('unreachable: the start above is refused');
    },
  };
  const gate = new StartGate({ delaysMs: [10], logger });
  const refusingDeps = { ...deps, gate, eventTypes: new Map([[SEND_ORDER_CONFIRMATION_SMS, refusing]]) };
  const poisoned = handleMessage({ body: bytes(poison), messageId: 'poison' }, refusingDeps);
  await waitFor(async () => gate.status().state === 'paused', { description: 'the gate paused' });
  expect(gate.status()).toMatchObject({ reason: 'SearchAttributeNotRegistered', transient: false });
  const good = sampleEvent();
  const fine = await handleMessage({ body: bytes(good), messageId: 'good' }, refusingDeps);
  expect(fine).toMatchObject({ action: 'complete', started: true });
  expect(await poisoned).toEqual({
    action: 'deadLetter',
    reason: 'StartRejected',
    description: expect.stringMatching(
      /^Temporal refused the workflow start \(SearchAttributeNotRegistered\): /,
    ),
  });
  expect(gate.status().state).toBe('open');
});

describe('Temporal unreachable', () => {
  let proxy: TcpProxy;
  let cut: ReturnType<typeof connectTemporalClient>;
  beforeAll(async () => {
    proxy = await startTcpProxy(testTemporalAddress());
    cut = connectTemporalClient({ ...loadConfig({}).temporal, address: proxy.address, taskQueue });
  });
  afterAll(async () => {
    await cut.close();
    await proxy.close();
  });

  test('the start is held and retried one probe at a time while Temporal is away, never abandoned; back up, it starts', async () => {
    const gate = new StartGate({ delaysMs: [10, 20], logger });
    const offline = { ...deps, client: cut.client, startTimeoutMs: 300, gate };
    const events = [sampleEvent(), sampleEvent(), sampleEvent()];
    proxy.cut();
    const settlements = events.map((event, i) =>
      handleMessage({ body: bytes(event), messageId: `held-${i}` }, offline),
    );
    // Several probes fail (each waits out its deadline), and all three messages are still held.
    await waitFor(async () => gate.status().failedProbes >= 4, { description: 'probes failing' });
    expect(gate.status()).toMatchObject({ state: 'paused', transient: true, waiting: expect.any(Number) });
    expect(gate.status().reason).toMatch(/^Temporal(DeadlineExceeded|Unavailable)$/);
    const settled = await Promise.race([Promise.all(settlements), 'pending']);
    expect(settled).toBe('pending');

    proxy.restore();
    for (const [i, settlement] of (await Promise.all(settlements)).entries()) {
      expect(settlement).toEqual({
        action: 'complete',
        workflowId: orderWorkflowId(String(events[i].OrderId)),
        started: true,
      });
    }
    expect(gate.status()).toMatchObject({ state: 'open', waiting: 0 });
  });

  test('closing while Temporal is away: one last attempt, then the message is abandoned', async () => {
    const gate = new StartGate({ delaysMs: [60_000], logger });
    const closing = new AbortController();
    const offline = { ...deps, client: cut.client, startTimeoutMs: 300, gate, signal: closing.signal };
    const event = sampleEvent();
    proxy.cut();
    try {
      const settlement = handleMessage({ body: bytes(event), messageId: 'closing' }, offline);
      await waitFor(async () => gate.status().state === 'paused', { description: 'the gate paused' });
      closing.abort('shutdown');
      expect(await settlement).toEqual({ action: 'abandon', error: expect.stringMatching(/^Temporal/) });
      expect(await workflowExists(String(event.OrderId))).toBe(false);
    } finally {
      proxy.restore();
      gate.close();
    }
  });
});
