import {
  ServiceBusClient,
  type ServiceBusReceivedMessage,
  type ServiceBusReceiver,
  type ServiceBusReceiverOptions,
} from '@azure/service-bus';
import { startServiceBusPeer, type ServiceBusPeer } from '../../support/servicebus-peer';

/**
 * The real @azure/service-bus client against the in-process AMQP peer: these tests pin down the peer's
 * Service Bus behaviour so the bridge tests built on it can trust it.
 */

const TOPIC = 'order-events';

let peer: ServiceBusPeer;
let client: ServiceBusClient;

beforeEach(async () => {
  peer = await startServiceBusPeer({
    topics: {
      [TOPIC]: {
        subscriptions: {
          'sms-service': { maxDeliveryCount: 3, lockDurationMs: 30_000 },
          audit: {},
          'short-lock': { maxDeliveryCount: 5, lockDurationMs: 500 },
        },
      },
    },
  });
  client = new ServiceBusClient(peer.connectionString, {
    retryOptions: { maxRetries: 1, timeoutInMs: 10_000 },
  });
});

afterEach(async () => {
  await client.close();
  await peer.stop();
});

/** Poll until `check` returns a truthy value (never a fixed sleep). */
async function waitFor<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 10_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** receiveMessages until `count` messages have arrived. */
async function receive(receiver: ServiceBusReceiver, count: number): Promise<ServiceBusReceivedMessage[]> {
  const got: ServiceBusReceivedMessage[] = [];
  await waitFor(async () => {
    got.push(...(await receiver.receiveMessages(count - got.length, { maxWaitTimeInMs: 500 })));
    return got.length >= count;
  }, `${count} messages`);
  return got;
}

function receiverFor(subscription: string, options?: ServiceBusReceiverOptions): ServiceBusReceiver {
  return client.createReceiver(TOPIC, subscription, options);
}

async function sendOne(body: unknown, messageId?: string): Promise<void> {
  const sender = client.createSender(TOPIC);
  await sender.sendMessages({ body, messageId, applicationProperties: { kind: 'test' } });
  await sender.close();
}

describe('servicebus peer with the real SDK', () => {
  it('delivers single and batched sends with messageId, body, deliveryCount 0 and sequence numbers', async () => {
    const sender = client.createSender(TOPIC);
    await sender.sendMessages({ body: { orderId: 1 }, messageId: 'single-1' });
    const batch = await sender.createMessageBatch();
    expect(batch.tryAddMessage({ body: { orderId: 2 }, messageId: 'batch-2' })).toBe(true);
    expect(batch.tryAddMessage({ body: { orderId: 3 } })).toBe(true); // no messageId: the peer stamps one
    await sender.sendMessages(batch);
    await sender.sendMessages([{ body: 'four', messageId: 'array-4' }]);
    await sender.close();

    const receiver = receiverFor('sms-service');
    const messages = await receive(receiver, 4);
    expect(messages.map((m) => m.body)).toEqual([{ orderId: 1 }, { orderId: 2 }, { orderId: 3 }, 'four']);
    expect(messages[0].messageId).toBe('single-1');
    expect(messages[1].messageId).toBe('batch-2');
    expect(typeof messages[2].messageId).toBe('string');
    expect(messages[3].messageId).toBe('array-4');
    expect(messages.map((m) => m.deliveryCount)).toEqual([0, 0, 0, 0]);
    expect(messages.map((m) => m.sequenceNumber?.toNumber())).toEqual([1, 2, 3, 4]);
    for (const m of messages) {
      expect(m.lockToken).toMatch(/^[0-9a-f-]{36}$/);
      expect(m.enqueuedTimeUtc).toBeInstanceOf(Date);
      expect(m.lockedUntilUtc!.getTime()).toBeGreaterThan(Date.now());
    }
    await receiver.close();
  });

  it('complete removes the message', async () => {
    await sendOne({ orderId: 7 }, 'complete-me');
    expect(peer.activeCount(TOPIC, 'sms-service')).toBe(1);
    const receiver = receiverFor('sms-service');
    const [message] = await receive(receiver, 1);
    await receiver.completeMessage(message);
    expect(peer.activeCount(TOPIC, 'sms-service')).toBe(0);
    expect(peer.completed(TOPIC, 'sms-service')).toEqual([
      expect.objectContaining({ messageId: 'complete-me', body: { orderId: 7 } }),
    ]);
    // Completing twice is a settled-message error, not a hang.
    await expect(receiver.completeMessage(message)).rejects.toThrow();
    await receiver.close();
  });

  it('abandon redelivers with deliveryCount + 1 and dead-letters at maxDeliveryCount', async () => {
    await sendOne({ orderId: 8 }, 'poison');
    const receiver = receiverFor('sms-service');
    for (const expected of [0, 1, 2]) {
      const [message] = await receive(receiver, 1);
      expect(message.messageId).toBe('poison');
      expect(message.deliveryCount).toBe(expected);
      await receiver.abandonMessage(message, { attempt: expected });
    }
    expect(peer.activeCount(TOPIC, 'sms-service')).toBe(0);
    expect(peer.deadLetters(TOPIC, 'sms-service')).toEqual([
      expect.objectContaining({
        messageId: 'poison',
        body: { orderId: 8 },
        reason: 'MaxDeliveryCountExceeded',
        deliveryCount: 3,
        applicationProperties: expect.objectContaining({ kind: 'test', attempt: 2 }),
      }),
    ]);
    await receiver.close();
  });

  it('deadLetterMessage moves the message to the DLQ with reason and description', async () => {
    await sendOne({ orderId: 9 }, 'bad-order');
    const receiver = receiverFor('sms-service');
    const [message] = await receive(receiver, 1);
    await receiver.deadLetterMessage(message, {
      deadLetterReason: 'InvalidPhone',
      deadLetterErrorDescription: 'phone number is not E.164',
    });
    expect(peer.activeCount(TOPIC, 'sms-service')).toBe(0);
    expect(peer.deadLetters(TOPIC, 'sms-service')).toEqual([
      expect.objectContaining({
        messageId: 'bad-order',
        reason: 'InvalidPhone',
        description: 'phone number is not E.164',
      }),
    ]);
    await receiver.close();

    const dlq = receiverFor('sms-service', { subQueueType: 'deadLetter' });
    const [dead] = await receive(dlq, 1);
    expect(dead.messageId).toBe('bad-order');
    expect(dead.body).toEqual({ orderId: 9 });
    expect(dead.deadLetterReason).toBe('InvalidPhone');
    expect(dead.deadLetterErrorDescription).toBe('phone number is not E.164');
    expect(dead.applicationProperties).toMatchObject({ kind: 'test', DeadLetterReason: 'InvalidPhone' });
    expect(dead.sequenceNumber?.toNumber()).toBe(1); // a dead-lettered message keeps its sequence number
    await dlq.completeMessage(dead);
    expect(peer.deadLetters(TOPIC, 'sms-service')).toEqual([]);
    await dlq.close();
  });

  it('renewMessageLock extends the lock', async () => {
    await sendOne({ orderId: 10 }, 'slow');
    const receiver = receiverFor('sms-service', { maxAutoLockRenewalDurationInMs: 0 });
    const [message] = await receive(receiver, 1);
    const first = message.lockedUntilUtc!;
    const lockedAt = first.getTime() - 30_000;
    await waitFor(() => Date.now() > lockedAt, 'the clock to pass the lock time'); // renewal lands later
    const renewed = await receiver.renewMessageLock(message);
    expect(renewed.getTime()).toBeGreaterThan(first.getTime());
    expect(message.lockedUntilUtc).toEqual(renewed);
    expect(peer.activeMessages(TOPIC, 'sms-service')[0].lockedUntil).toEqual(renewed);
    await receiver.completeMessage(message);
    // A lock that is gone cannot be renewed: the peer answers MessageLockLost.
    await expect(receiver.renewMessageLock(message)).rejects.toMatchObject({ code: 'MessageLockLost' });
    await receiver.close();
  });

  it('a lock that expires redelivers the message with deliveryCount + 1', async () => {
    await sendOne({ orderId: 11 }, 'forgotten');
    // No auto-renewal: the SDK would otherwise keep the 500 ms lock alive.
    const receiver = receiverFor('short-lock', { maxAutoLockRenewalDurationInMs: 0 });
    const [first] = await receive(receiver, 1);
    expect(first.deliveryCount).toBe(0);
    const [again] = await receive(receiver, 1);
    expect(again.messageId).toBe('forgotten');
    expect(again.deliveryCount).toBe(1);
    expect(again.lockToken).not.toBe(first.lockToken);
    await receiver.completeMessage(again); // first, while its 500 ms lock is fresh
    await expect(receiver.completeMessage(first)).rejects.toMatchObject({ code: 'MessageLockLost' });
    expect(peer.activeCount(TOPIC, 'short-lock')).toBe(0);
    await receiver.close();
  });

  it('closing a receiver with unsettled messages puts them back', async () => {
    await sendOne({ orderId: 12 }, 'unsettled-a');
    await sendOne({ orderId: 13 }, 'unsettled-b');
    const first = receiverFor('sms-service');
    expect((await receive(first, 2)).map((m) => m.deliveryCount)).toEqual([0, 0]);
    await first.close();

    const second = receiverFor('sms-service');
    const again = await receive(second, 2);
    expect(again.map((m) => [m.messageId, m.deliveryCount])).toEqual([
      ['unsettled-a', 1],
      ['unsettled-b', 1],
    ]);
    for (const m of again) await second.completeMessage(m);
    expect(peer.activeCount(TOPIC, 'sms-service')).toBe(0);
    await second.close();
  });

  it('fans a topic message out to every subscription', async () => {
    await sendOne({ orderId: 14 }, 'fan-out');
    expect(peer.activeCount(TOPIC, 'sms-service')).toBe(1);
    expect(peer.activeCount(TOPIC, 'audit')).toBe(1);
    for (const subscription of ['sms-service', 'audit']) {
      const receiver = receiverFor(subscription);
      const [message] = await receive(receiver, 1);
      expect(message.messageId).toBe('fan-out');
      expect(message.body).toEqual({ orderId: 14 });
      await receiver.completeMessage(message);
      await receiver.close();
    }
    expect(peer.activeCount(TOPIC, 'sms-service')).toBe(0);
    expect(peer.activeCount(TOPIC, 'audit')).toBe(0);
  });

  it('subscribe() receives and auto-completes; a throwing handler abandons', async () => {
    const sender = client.createSender(TOPIC);
    await sender.sendMessages([
      { body: 'ok', messageId: 'sub-ok' },
      { body: 'fail-once', messageId: 'sub-retry' },
    ]);
    await sender.close();

    const receiver = receiverFor('sms-service');
    const seen: Array<[unknown, number]> = [];
    const subscription = receiver.subscribe(
      {
        processMessage: async (m) => {
          seen.push([m.messageId, m.deliveryCount ?? -1]);
          if (m.body === 'fail-once' && m.deliveryCount === 0) throw new Error('transient');
        },
        processError: async () => undefined,
      },
      { maxConcurrentCalls: 1 },
    );
    await waitFor(() => peer.completed(TOPIC, 'sms-service').length === 2, 'both messages completed');
    await subscription.close();
    expect(seen).toEqual([
      ['sub-ok', 0],
      ['sub-retry', 0],
      ['sub-retry', 1],
    ]);
    expect(peer.activeCount(TOPIC, 'sms-service')).toBe(0);
    await receiver.close();
  });

  it('receiveAndDelete hands messages out already settled', async () => {
    await sendOne('gone', 'rad');
    const receiver = receiverFor('audit', { receiveMode: 'receiveAndDelete' });
    const [message] = await receive(receiver, 1);
    expect(message.messageId).toBe('rad');
    expect(message.lockToken).toBeUndefined();
    expect(peer.activeCount(TOPIC, 'audit')).toBe(0);
    await receiver.close();
  });

  it('rejects links to unknown entities and unsupported management operations', async () => {
    const sender = client.createSender('no-such-topic');
    await expect(sender.sendMessages({ body: 'x' })).rejects.toMatchObject({
      code: 'MessagingEntityNotFound',
    });
    await sender.close();
    const receiver = receiverFor('sms-service');
    await expect(receiver.peekMessages(1)).rejects.toThrow(/does not implement/);
    await receiver.close();
    expect(peer.connectionCount()).toBe(1);
    await client.close();
    await waitFor(() => peer.connectionCount() === 0, 'the client connection to close');
  });
});
