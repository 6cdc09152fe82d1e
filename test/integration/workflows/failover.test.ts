import type { WorkflowHandle } from '@temporalio/client';
import { SEND_ATTEMPT_TIMEOUT_MS } from '../../../domain/limits';
import { orderWorkflowId } from '../../../temporal/ids';
import { useTestDatabase } from '../../support/db';
import { useFake } from '../../support/provider-fakes/fake-server';
import { plivoEnv, startPlivoFake } from '../../support/provider-fakes/plivo-fake';
import { startTwilioFake, twilioEnv } from '../../support/provider-fakes/twilio-fake';
import { pendingAttempt, uniqueTaskQueue, waitFor } from '../../support/temporal';
import { startOptedInOrder, startTestWorkers, type TestWorkers } from '../../support/workers';

const UNAVAILABLE = { status: 503, message: 'Service Unavailable' };
/** The shortest failover time configuration accepts: the send attempt's own timeout. */
const FAILOVER_AFTER_SECONDS = String(SEND_ATTEMPT_TIMEOUT_MS / 1000);

const twilio = useFake(startTwilioFake);
const plivo = useFake(startPlivoFake);
const db = useTestDatabase();

// Both fakes configured; Twilio is the default provider unless a test says otherwise.
const credentials = () => ({ ...plivoEnv(plivo), ...twilioEnv(twilio) });

async function withWorkers(
  env: Record<string, string>,
  run: (w: TestWorkers, taskQueue: string) => Promise<void>,
) {
  const taskQueue = uniqueTaskQueue('failover');
  const w = await startTestWorkers({ knex: db.knex, taskQueue, env: { ...credentials(), ...env } });
  try {
    await run(w, taskQueue);
  } finally {
    await w.shutdown();
  }
}

const order = (w: TestWorkers, taskQueue: string, phone: string) =>
  startOptedInOrder(w, taskQueue, { PhoneNumber: phone });

test('the primary down past the failover time: sent through the secondary from the venue number there', async () => {
  await withWorkers(
    { SMS_FAILOVER_PROVIDER: 'plivo', SMS_FAILOVER_AFTER_SECONDS: FAILOVER_AFTER_SECONDS },
    async (w, taskQueue) => {
      twilio.fail({ to: '+14155550501', times: 1000 }, UNAVAILABLE);
      const e = await order(w, taskQueue, '+14155550501');
      const result = await w.client.workflow.getHandle(orderWorkflowId(e.orderId)).result();

      const viaPlivo = plivo.messages().filter((m) => `+${m.dst}` === e.phoneNumber);
      expect(viaPlivo).toHaveLength(1);
      expect(twilio.messages().filter((m) => m.to === e.phoneNumber)).toHaveLength(0);
      expect(result).toMatchObject({ outcome: 'sent', providerMessageId: viaPlivo[0].uuid });
      const [history] = await w.repos.history.findByOrderId(e.orderId);
      expect(history).toMatchObject({
        status: 'sent',
        provider: 'plivo',
        providerMessageId: viaPlivo[0].uuid,
      });
      const plivoNumber = await w.repos.venueNumbers.findActive(e.venueId, 'plivo');
      expect(plivoNumber?.phoneNumber).toBe(`+${viaPlivo[0].src}`);
      expect(history.venuePhoneNumberId).toBe(plivoNumber?.id);
    },
  );
}, 120_000);

test('failover off: the send keeps retrying the primary and goes out once it recovers', async () => {
  await withWorkers({}, async (w, taskQueue) => {
    twilio.fail({ to: '+14155550502', times: 1000 }, UNAVAILABLE);
    const e = await order(w, taskQueue, '+14155550502');
    const handle = w.client.workflow.getHandle(orderWorkflowId(e.orderId));
    await waitFor(async () => ((await pendingAttempt(handle, 'sendSms')) ?? 0) >= 3, {
      description: 'the send retried against the primary',
    });
    twilio.resetFaults(); // the primary recovers
    expect(await handle.result()).toMatchObject({ outcome: 'sent' });
    expect(twilio.messages().filter((m) => m.to === e.phoneNumber)).toHaveLength(1);
    expect(plivo.messages().filter((m) => `+${m.dst}` === e.phoneNumber)).toHaveLength(0);
    expect(await w.repos.history.findByOrderId(e.orderId)).toEqual([
      expect.objectContaining({ provider: 'twilio' }),
    ]);
  });
}, 120_000);

test('a backlog on the send queue is not an outage: the order waits for the primary, never fails over', async () => {
  const env = {
    ...credentials(),
    SMS_FAILOVER_PROVIDER: 'plivo',
    SMS_FAILOVER_AFTER_SECONDS: FAILOVER_AFTER_SECONDS,
  };
  const taskQueue = uniqueTaskQueue('failover-backlog');
  // Nobody serves the send queue at first: the send runs out of time waiting in it, not at the provider.
  const orders = await startTestWorkers({
    knex: db.knex,
    taskQueue,
    env: { ...env, WORKER_QUEUES: 'orders,consent' },
  });
  let senders: TestWorkers | undefined;
  try {
    const e = await order(orders, taskQueue, '+14155550511');
    const handle = orders.client.workflow.getHandle(orderWorkflowId(e.orderId));
    await waitFor(async () => (await scheduledSends(handle)) >= 2, {
      timeoutMs: 90_000,
      description: 'the send timed out in the backlog and was scheduled again on the primary',
    });
    senders = await startTestWorkers({ knex: db.knex, taskQueue, env: { ...env, WORKER_QUEUES: 'send' } });

    expect(await handle.result()).toMatchObject({ outcome: 'sent' });
    expect(twilio.messages().filter((m) => m.to === e.phoneNumber)).toHaveLength(1);
    expect(plivo.messages().filter((m) => `+${m.dst}` === e.phoneNumber)).toHaveLength(0);
  } finally {
    await senders?.shutdown();
    await orders.shutdown();
  }
}, 150_000);

/** How many sendSms activities the order has scheduled. */
async function scheduledSends(handle: WorkflowHandle): Promise<number> {
  const { events } = await handle.fetchHistory();
  return (events ?? []).filter(
    (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'sendSms',
  ).length;
}

test('a primary that accepted but cannot be asked is never failed over: it keeps the order, one SMS', async () => {
  await withWorkers(
    { SMS_FAILOVER_PROVIDER: 'plivo', SMS_FAILOVER_AFTER_SECONDS: FAILOVER_AFTER_SECONDS },
    async (w, taskQueue) => {
      // Accepted, answer lost; from then on every look-up at the primary fails, past the failover time.
      twilio.acceptThenDrop(1);
      twilio.fail({ path: 'Messages.json', method: 'GET', times: 10_000 }, UNAVAILABLE);
      const e = await order(w, taskQueue, '+14155550522');
      const handle = w.client.workflow.getHandle(orderWorkflowId(e.orderId));
      await waitFor(async () => (await scheduledSends(handle)) >= 2, {
        timeoutMs: 90_000,
        description: 'the failover time passed and the order stayed on the primary',
      });
      twilio.resetFaults(); // the primary can answer again: the accepted message is found

      const result = await handle.result();
      const viaTwilio = twilio.messages().filter((m) => m.to === e.phoneNumber);
      expect(viaTwilio).toHaveLength(1);
      expect(plivo.messages().filter((m) => `+${m.dst}` === e.phoneNumber)).toHaveLength(0);
      expect(result).toMatchObject({ outcome: 'sent', providerMessageId: viaTwilio[0].sid });
      expect(await scheduledSends(handle)).toBe(2);
    },
  );
}, 150_000);

test('before failing over, a message the primary accepted after all is adopted: one SMS, not two', async () => {
  await withWorkers(
    { SMS_FAILOVER_PROVIDER: 'plivo', SMS_FAILOVER_AFTER_SECONDS: FAILOVER_AFTER_SECONDS },
    async (w, taskQueue) => {
      // The primary accepts the message but the answer is lost; the retry's own look-up then fails,
      // and the failover time runs out before the next retry.
      twilio.acceptThenDrop(1);
      twilio.fail({ path: 'Messages.json', method: 'GET', times: 1 }, UNAVAILABLE);
      const e = await order(w, taskQueue, '+14155550521');
      const result = await w.client.workflow.getHandle(orderWorkflowId(e.orderId)).result();

      const viaTwilio = twilio.messages().filter((m) => m.to === e.phoneNumber);
      expect(viaTwilio).toHaveLength(1);
      expect(plivo.messages().filter((m) => `+${m.dst}` === e.phoneNumber)).toHaveLength(0);
      expect(result).toMatchObject({ outcome: 'sent', providerMessageId: viaTwilio[0].sid });
      expect(await w.repos.history.findByOrderId(e.orderId)).toEqual([
        expect.objectContaining({ provider: 'twilio', providerMessageId: viaTwilio[0].sid }),
      ]);
    },
  );
}, 120_000);
