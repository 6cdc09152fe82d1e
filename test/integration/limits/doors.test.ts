import { SEND_ORDER_CONFIRMATION_SMS } from '../../../bridge/event-types';
import { handleMessage, type MessageHandlerDeps } from '../../../bridge/message-handler';
import { loadConfig } from '../../../config';
import { createLogger } from '../../../config/logger';
import { createRepositories } from '../../../db';
import { CORRELATION_ID_MAX, VENUE_ID_MAX } from '../../../domain/limits';
import { orderWorkflowId } from '../../../temporal/ids';
import { useTestApi } from '../../support/api';
import { messageHandlerDeps } from '../../support/bridge';
import { useTestDatabase } from '../../support/db';
import { uniqueTaskQueue, useTestClient, workflowStarted } from '../../support/temporal';
import { sampleEvent } from '../../support/workers';

// Both doors (the HTTP ingress and the Service Bus bridge) against the real parser and a real
// Temporal; no worker polls the queue: these tests are about what is let in, not what runs.
const TOKEN = 'limits-test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
const taskQueue = uniqueTaskQueue('limits-doors');

const config = loadConfig({});
const temporal = useTestClient();
const db = useTestDatabase();
const app = useTestApi(() => ({
  token: TOKEN,
  logName: 'limits-test',
  config: { sms: config.sms },
  repos: createRepositories(db.knex),
  temporal: { client: temporal.client, taskQueue, workflowIdHashKey: config.temporal.workflowIdHashKey },
}));
let bridge: MessageHandlerDeps;
beforeAll(() => {
  const logger = createLogger({ level: 'silent', name: 'limits-test' });
  bridge = messageHandlerDeps({ client: temporal.client, taskQueue, logger, gateDelaysMs: [10] });
});

const post = (payload: unknown, headers: Record<string, string> = {}) =>
  app.inject({
    method: 'POST',
    url: '/api/events/send-order-confirmation-sms',
    headers: { ...auth, ...headers },
    payload: payload as Record<string, unknown>,
  });

const memoOf = async (orderId: string) =>
  (await temporal.client.workflow.getHandle(orderWorkflowId(orderId)).describe()).memo as {
    correlationId: string;
  };

describe('HTTP ingress', () => {
  test('an overflowing VenueId is a 400 naming it, and nothing starts', async () => {
    const event = sampleEvent({ VenueId: VENUE_ID_MAX + 1, OrderNumber: 'x'.repeat(51) });
    const res = await post(event);
    expect(res.statusCode).toBe(400);
    expect(
      res
        .json<{ fields: Array<{ field: string }> }>()
        .fields.map((f) => f.field)
        .sort(),
    ).toEqual(['OrderNumber', 'VenueId']);
    expect(await workflowStarted(temporal.client, orderWorkflowId(String(event.OrderId)))).toBe(false);
  });

  test('an x-correlation-id longer than the CorrelationID column is a 400 naming the header', async () => {
    const event = sampleEvent();
    const res = await post(event, { 'x-correlation-id': 'c'.repeat(CORRELATION_ID_MAX + 1) });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ fields: [{ field: 'x-correlation-id' }] });
    expect(await workflowStarted(temporal.client, orderWorkflowId(String(event.OrderId)))).toBe(false);

    const exact = 'c'.repeat(CORRELATION_ID_MAX);
    const ok = await post(event, { 'x-correlation-id': exact });
    expect(ok.statusCode).toBe(202);
    expect((await memoOf(String(event.OrderId))).correlationId).toBe(exact);
  });

  test("a long x-request-id (a proxy's) becomes a fitted correlation id, not a refusal", async () => {
    const event = sampleEvent();
    const requestId = `proxy-${'r'.repeat(250)}`;
    const res = await post(event, { 'x-request-id': requestId });
    expect(res.statusCode).toBe(202);
    const { correlationId } = res.json<{ correlationId: string }>();
    expect(correlationId).toHaveLength(CORRELATION_ID_MAX);
    expect(correlationId.startsWith('proxy-rrr')).toBe(true);
    expect((await memoOf(String(event.OrderId))).correlationId).toBe(correlationId);
  });
});

describe('Service Bus bridge', () => {
  const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));

  test('an overflowing VenueId is dead-lettered as InvalidPayload, and nothing starts', async () => {
    const event = sampleEvent({ VenueId: 3_000_000_000 });
    const settlement = await handleMessage(
      { body: bytes(event), messageId: 'm-overflow', subject: SEND_ORDER_CONFIRMATION_SMS },
      bridge,
    );
    expect(settlement).toEqual({
      action: 'deadLetter',
      reason: 'InvalidPayload',
      description: `VenueId: must be at most ${VENUE_ID_MAX}`,
    });
    expect(await workflowStarted(temporal.client, orderWorkflowId(String(event.OrderId)))).toBe(false);
  });

  test("a correlation id at Service Bus' 128-character maximum starts the order with a fitted id", async () => {
    const event = sampleEvent();
    const long = `sb-${'q'.repeat(125)}`;
    const message = { body: bytes(event), messageId: 'm-long', correlationId: long };
    expect(await handleMessage(message, bridge)).toMatchObject({ action: 'complete', started: true });
    const { correlationId } = await memoOf(String(event.OrderId));
    expect(correlationId).toHaveLength(CORRELATION_ID_MAX);
    expect(correlationId.startsWith('sb-qqq')).toBe(true);
    // A redelivery fits it the same way: the same order, the same id.
    expect(await handleMessage(message, bridge)).toMatchObject({ action: 'complete', started: false });
  });
});
