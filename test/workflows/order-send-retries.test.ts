import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { SendSmsInput } from '../../activities/send';
import { sendTaskQueue } from '../../temporal/contracts';
import {
  acceptedId,
  MESSAGE,
  orderStatus,
  orderStubs,
  PRIMARY,
  providerFailure,
  SECONDARY,
  startOrder,
  workflowClock,
} from '../support/order-stubs';
import { waitFor } from '../support/temporal';
import { useTimeSkippingEnvironment, withStubWorkers } from '../support/time-skipping';
import { SEND_ATTEMPT_TIMEOUT_MS } from '../../domain/limits';
import { keepHistory } from '../support/histories';

// The send's retries and failover over minutes to a day of workflow time, each in seconds of wall
// time: the time-skipping server jumps over retry backoffs.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const env = useTimeSkippingEnvironment();

test('failover on, but the primary cannot say whether it accepted: no failover, the primary keeps the order', async () => {
  let primaryDown = true;
  await withStubWorkers(
    env,
    {
      ...orderStubs({ failoverAfterMs: 10 * MINUTE }),
      sendSms: async ({ provider }) => {
        if (provider === PRIMARY.provider && primaryDown) throw providerFailure('ProviderUnavailable', '503');
        return { kind: 'sent', providerMessageId: acceptedId(provider), reconciled: false };
      },
      findAcceptedSms: async () => {
        primaryDown = false; // the primary recovers after the question it could not answer
        throw providerFailure('ProviderUnavailable', '503');
      },
    },
    async ({ client, taskQueue, calls }) => {
      const { handle } = await startOrder(client, taskQueue);

      expect(await handle.result()).toEqual({ outcome: 'sent', providerMessageId: acceptedId('twilio') });
      await keepHistory(handle, 'order-failover-kept-on-primary');
      expect(calls.count('findAcceptedSms')).toBeGreaterThan(0);
      expect(calls.inputs('findVenueNumber').map((i) => i.provider)).toEqual([undefined]);
      expect(calls.inputs('sendSms').every((i) => i.provider === PRIMARY.provider)).toBe(true);
    },
  );
});

test('failover on: the primary unavailable past the failover time, the order goes out through the secondary', async () => {
  const clock = workflowClock(env);
  const primaryAttemptsAt: number[] = [];
  let secondarySentAt = -1;
  let lookedUpAt = -1;
  await withStubWorkers(
    env,
    {
      ...orderStubs({ failoverAfterMs: 10 * MINUTE }),
      findAcceptedSms: async () => {
        lookedUpAt = await clock();
        return null;
      },
      sendSms: async ({ provider }) => {
        if (provider === PRIMARY.provider) {
          primaryAttemptsAt.push(await clock());
          throw providerFailure('ProviderUnavailable', '503');
        }
        secondarySentAt = await clock();
        return { kind: 'sent', providerMessageId: acceptedId(provider), reconciled: false };
      },
    },
    async ({ client, taskQueue, calls }) => {
      const { event, handle } = await startOrder(client, taskQueue);

      expect(await handle.result()).toEqual({ outcome: 'sent', providerMessageId: acceptedId('plivo') });
      await keepHistory(handle, 'order-failover-to-secondary');
      // It kept trying the primary until the next retry (at most 5 minutes apart) would have passed
      // the failover time, then failed over at once.
      expect(primaryAttemptsAt.length).toBeGreaterThan(3);
      expect(primaryAttemptsAt.at(-1)).toBeGreaterThan(5 * MINUTE);
      expect(secondarySentAt).toBeGreaterThan(primaryAttemptsAt.at(-1) ?? Infinity);
      // The look-up at the primary (and so the secondary's send) waits until the last primary
      // attempt's whole budget has passed: a request the deadline cut cannot land after it. (The
      // clock starts at the first attempt, a moment after the workflow scheduled it.)
      expect(lookedUpAt).toBeGreaterThanOrEqual(10 * MINUTE + SEND_ATTEMPT_TIMEOUT_MS - 1_000);
      expect(secondarySentAt).toBeGreaterThan(lookedUpAt);
      expect(secondarySentAt).toBeLessThanOrEqual(11 * MINUTE);
      // Asked the primary before sending twice.
      expect(calls.inputs('findAcceptedSms')).toEqual([
        expect.objectContaining({ provider: PRIMARY.provider, to: event.phoneNumber, body: MESSAGE }),
      ]);
      expect(calls.inputs('findVenueNumber').map((i) => i.provider)).toEqual([undefined, SECONDARY.provider]);
      expect(calls.inputs('sendSms').filter((i) => i.provider === SECONDARY.provider)).toEqual([
        expect.objectContaining({ from: SECONDARY.phoneNumber, to: event.phoneNumber, body: MESSAGE }),
      ]);
      // Each provider's sends run on that provider's paced queue.
      for (const call of calls.all.filter(
        (c) => c.activity === 'sendSms' || c.activity === 'findAcceptedSms',
      ))
        expect(call.taskQueue).toBe(sendTaskQueue(taskQueue, (call.input as SendSmsInput).provider));
      expect(calls.inputs('recordHistory')).toEqual([
        expect.objectContaining({
          status: 'sent',
          provider: SECONDARY.provider,
          venuePhoneNumberId: SECONDARY.venuePhoneNumberId,
          providerMessageId: acceptedId('plivo'),
        }),
      ]);
      expect(await orderStatus(handle)).toMatchObject({
        step: 'completed',
        outcome: 'sent',
        provider: SECONDARY.provider,
      });
    },
  );
});

test('failover on: a message the primary accepted after all is adopted, nothing goes through the secondary', async () => {
  await withStubWorkers(
    env,
    {
      ...orderStubs({ failoverAfterMs: 10 * MINUTE }),
      sendSms: async ({ provider }) => {
        if (provider === PRIMARY.provider) throw providerFailure('ProviderUnavailable', '503');
        throw new Error('sent through the secondary');
      },
      findAcceptedSms: async () => 'twilio-late-1',
    },
    async ({ client, taskQueue, calls }) => {
      const { handle } = await startOrder(client, taskQueue);

      expect(await handle.result()).toEqual({ outcome: 'sent', providerMessageId: 'twilio-late-1' });
      expect(calls.count('findAcceptedSms')).toBe(1);
      expect(calls.inputs('sendSms').every((i) => i.provider === PRIMARY.provider)).toBe(true);
      expect(calls.inputs('findVenueNumber').map((i) => i.provider)).toEqual([undefined]);
      expect(calls.inputs('recordHistory')).toEqual([
        expect.objectContaining({
          status: 'sent',
          provider: PRIMARY.provider,
          venuePhoneNumberId: PRIMARY.venuePhoneNumberId,
          providerMessageId: 'twilio-late-1',
        }),
      ]);
    },
  );
});

test('failover off: the send fails for two hours, then goes out through the primary', async () => {
  const clock = workflowClock(env);
  let sentAt = -1;
  await withStubWorkers(
    env,
    {
      ...orderStubs(),
      sendSms: async ({ provider }) => {
        const now = await clock();
        if (now < 2 * HOUR) throw providerFailure('ProviderUnavailable', '503');
        sentAt = now;
        return { kind: 'sent', providerMessageId: acceptedId(provider), reconciled: false };
      },
    },
    async ({ client, taskQueue, calls }) => {
      const { handle } = await startOrder(client, taskQueue);

      expect(await handle.result()).toEqual({ outcome: 'sent', providerMessageId: acceptedId('twilio') });
      // Retries are capped at 5 minutes apart: it went out soon after the primary recovered.
      expect(sentAt).toBeGreaterThanOrEqual(2 * HOUR);
      expect(sentAt).toBeLessThanOrEqual(2 * HOUR + 5 * MINUTE);
      expect(calls.inputs('sendSms').every((i) => i.provider === PRIMARY.provider)).toBe(true);
      expect(calls.count('findAcceptedSms')).toBe(0);
      expect(calls.count('findVenueNumber')).toBe(1);
      expect(calls.inputs('recordHistory')).toEqual([
        expect.objectContaining({ status: 'sent', provider: PRIMARY.provider }),
      ]);
    },
  );
});

test('failover on: rate limited past the failover time is a backlog, the order stays on the primary', async () => {
  const clock = workflowClock(env);
  let sentAt = -1;
  await withStubWorkers(
    env,
    {
      ...orderStubs({ failoverAfterMs: 10 * MINUTE }),
      sendSms: async ({ provider }) => {
        const now = await clock();
        if (provider !== PRIMARY.provider) throw new Error(`sent through ${provider}`);
        if (now < 30 * MINUTE) throw providerFailure('RateLimited', '20429');
        sentAt = now;
        return { kind: 'sent', providerMessageId: acceptedId(provider), reconciled: false };
      },
    },
    async ({ client, taskQueue, calls }) => {
      const { handle } = await startOrder(client, taskQueue);

      expect(await handle.result()).toEqual({ outcome: 'sent', providerMessageId: acceptedId('twilio') });
      expect(sentAt).toBeGreaterThanOrEqual(30 * MINUTE);
      expect(calls.count('findAcceptedSms')).toBe(0);
      expect(calls.inputs('findVenueNumber').map((i) => i.provider)).toEqual([undefined]);
      expect(calls.inputs('sendSms').every((i) => i.provider === PRIMARY.provider)).toBe(true);
      expect(calls.inputs('recordHistory')).toEqual([
        expect.objectContaining({ status: 'sent', provider: PRIMARY.provider }),
      ]);
    },
  );
});

test('failover on: a send still queued at the failover time is a backlog, it waits for the primary', async () => {
  // The test server keeps its clock running in real time while an activity task is queued, so this
  // failover time is real time: short.
  const failoverAfterMs = 2_000;
  await withStubWorkers(
    env,
    { ...orderStubs({ failoverAfterMs }) },
    async ({ client, taskQueue, calls, startSendWorker }) => {
      const { handle } = await startOrder(client, taskQueue);
      await waitFor(
        async () => {
          const { events } = await handle.fetchHistory();
          return events?.some(
            (e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
          );
        },
        { description: 'the queued send to time out at the failover time' },
      );
      await startSendWorker(PRIMARY.provider); // the backlog clears

      expect(await handle.result()).toEqual({ outcome: 'sent', providerMessageId: acceptedId('twilio') });
      expect(calls.inputs('sendSms').map((i) => i.provider)).toEqual([PRIMARY.provider]);
      expect(calls.count('findAcceptedSms')).toBe(0);
      expect(calls.inputs('findVenueNumber').map((i) => i.provider)).toEqual([undefined]);
    },
    { holdSendQueues: [PRIMARY.provider] },
  );
});

test('failover off: a day of failed send retries records failed history and fails the workflow', async () => {
  const clock = workflowClock(env);
  let lastAttemptAt = -1;
  await withStubWorkers(
    env,
    {
      ...orderStubs(),
      sendSms: async () => {
        lastAttemptAt = await clock();
        throw providerFailure('ProviderUnavailable', '503');
      },
    },
    async ({ client, taskQueue, calls }) => {
      const { event, handle } = await startOrder(client, taskQueue);

      const failure = await handle.result().then(
        () => undefined,
        (err: unknown) => err,
      );
      await keepHistory(handle, 'order-failed-after-retries');
      expect(failure).toBeInstanceOf(WorkflowFailedError);
      const cause = (failure as WorkflowFailedError).cause;
      expect(cause).toBeInstanceOf(ApplicationFailure);
      expect(cause).toMatchObject({ type: 'ProviderUnavailable', details: [{ code: '503' }] });
      expect(lastAttemptAt).toBeGreaterThan(23 * HOUR);
      expect(lastAttemptAt).toBeLessThanOrEqual(24 * HOUR);
      expect(calls.inputs('recordHistory')).toEqual([
        expect.objectContaining({
          orderId: event.orderId,
          status: 'failed',
          provider: PRIMARY.provider,
          errorCode: '503',
          providerMessageId: null,
        }),
      ]);
      expect(calls.count('findAcceptedSms')).toBe(0);
      expect(await orderStatus(handle)).toMatchObject({
        step: 'failed',
        outcome: 'failed',
        errorCode: '503',
      });
    },
  );
});
