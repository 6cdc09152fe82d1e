import { Context } from '@temporalio/activity';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import {
  acceptedId,
  MESSAGE,
  orderStatus,
  orderStubs,
  PRIMARY,
  providerFailure,
  startOrder,
  workflowClock,
} from '../support/order-stubs';
import { useTimeSkippingEnvironment, withStubWorkers } from '../support/time-skipping';
import { requestVenueNumber } from '../../temporal/venue-number';
import { keepHistory } from '../support/histories';

// Each outcome of one order through the real workflow code, with the activities stubbed: which
// history row is written, what the workflow returns, and whether it completes or fails.

const env = useTimeSkippingEnvironment();

test('opted in: sent through the venue number, one sent history row', async () => {
  await withStubWorkers(env, orderStubs(), async ({ client, taskQueue, calls }) => {
    const { event, handle } = await startOrder(client, taskQueue);

    expect(await handle.result()).toEqual({ outcome: 'sent', providerMessageId: acceptedId('twilio') });
    expect(calls.inputs('sendSms')).toEqual([
      expect.objectContaining({
        provider: PRIMARY.provider,
        from: PRIMARY.phoneNumber,
        to: event.phoneNumber,
        body: MESSAGE,
      }),
    ]);
    expect(calls.inputs('recordHistory')).toEqual([
      expect.objectContaining({
        orderId: event.orderId,
        venueId: event.venueId,
        status: 'sent',
        provider: PRIMARY.provider,
        venuePhoneNumberId: PRIMARY.venuePhoneNumberId,
        message: MESSAGE,
        providerMessageId: acceptedId('twilio'),
      }),
    ]);
    expect(await orderStatus(handle)).toMatchObject({
      step: 'completed',
      outcome: 'sent',
      provider: PRIMARY.provider,
      providerMessageId: acceptedId('twilio'),
    });
  });
});

test.each([
  ['none', 'skipped_no_consent'],
  ['opted_out', 'blocked_opted_out'],
] as const)('consent %s: %s recorded, nothing sent', async (consent, outcome) => {
  await withStubWorkers(
    env,
    { ...orderStubs(), checkConsent: async () => consent },
    async ({ client, taskQueue, calls }) => {
      const { event, handle } = await startOrder(client, taskQueue);

      expect(await handle.result()).toEqual({ outcome });
      expect(calls.count('sendSms')).toBe(0);
      expect(calls.count('findVenueNumber')).toBe(0);
      expect(calls.inputs('recordHistory')).toEqual([
        expect.objectContaining({ orderId: event.orderId, status: outcome, providerMessageId: null }),
      ]);
      expect(await orderStatus(handle)).toMatchObject({ step: 'completed', outcome });
    },
  );
});

test('consent withdrawn before the send: the send reports it and the order is blocked', async () => {
  await withStubWorkers(
    env,
    { ...orderStubs(), sendSms: async () => ({ kind: 'not_sent', outcome: 'blocked_opted_out' }) },
    async ({ client, taskQueue, calls }) => {
      const { handle } = await startOrder(client, taskQueue);

      expect(await handle.result()).toEqual({ outcome: 'blocked_opted_out' });
      expect(calls.inputs('recordHistory')).toEqual([
        expect.objectContaining({ status: 'blocked_opted_out', providerMessageId: null }),
      ]);
    },
  );
});

test('an earlier run already texted the order (a reset, a re-driven event): duplicate recorded with its id', async () => {
  await withStubWorkers(
    env,
    {
      ...orderStubs(),
      sendSms: async () => ({ kind: 'not_sent', outcome: 'duplicate', providerMessageId: 'SM-first-run' }),
    },
    async ({ client, taskQueue, calls }) => {
      const { handle } = await startOrder(client, taskQueue);
      expect(await handle.result()).toEqual({ outcome: 'duplicate', providerMessageId: 'SM-first-run' });
      expect(calls.inputs('recordHistory')).toEqual([
        expect.objectContaining({ status: 'duplicate', providerMessageId: 'SM-first-run' }),
      ]);
    },
  );
});

test('a history row the database refuses: the outcome is kept in a plain row and the run fails, no endless retry', async () => {
  let refused = 0;
  await withStubWorkers(
    env,
    {
      ...orderStubs(),
      recordHistory: async (row) => {
        if (row.errorCode === 'InvalidRecord') return { historyId: 2 };
        refused++;
        throw ApplicationFailure.create({
          type: 'InvalidRecord',
          message: 'SmsSendHistory record: a value is too long for its column',
          nonRetryable: true,
        });
      },
    },
    async ({ client, taskQueue, calls }) => {
      const { handle } = await startOrder(client, taskQueue);
      const failure = await handle.result().then(
        () => undefined,
        (err: unknown) => err,
      );
      await keepHistory(handle, 'order-history-refused');
      expect(failure).toBeInstanceOf(WorkflowFailedError);
      expect((failure as WorkflowFailedError).cause).toMatchObject({
        type: 'InvalidRecord',
        message: expect.stringContaining('outcome sent'),
      });
      expect(refused).toBe(1);
      expect(calls.inputs('recordHistory')).toEqual([
        expect.objectContaining({ status: 'sent', message: MESSAGE }),
        expect.objectContaining({
          status: 'sent',
          message: '',
          orderNumber: null,
          errorCode: 'InvalidRecord',
        }),
      ]);
      expect(calls.count('sendSms')).toBe(1);
    },
  );
});

test('the provider says opted out: recorded as an opt-out, the order is blocked, no retry', async () => {
  await withStubWorkers(
    env,
    {
      ...orderStubs(),
      sendSms: async () => {
        throw providerFailure('OptedOut', '21610');
      },
    },
    async ({ client, taskQueue, calls }) => {
      const { event, handle } = await startOrder(client, taskQueue);

      expect(await handle.result()).toEqual({ outcome: 'blocked_opted_out', errorCode: '21610' });
      await keepHistory(handle, 'order-provider-opted-out');
      expect(calls.count('sendSms')).toBe(1);
      expect(calls.inputs('recordProviderOptOut')).toEqual([
        expect.objectContaining({
          venueId: event.venueId,
          phoneNumber: event.phoneNumber,
          providerCode: '21610',
        }),
      ]);
      expect(calls.inputs('recordHistory')).toEqual([
        expect.objectContaining({
          status: 'blocked_opted_out',
          errorCode: '21610',
          provider: PRIMARY.provider,
        }),
      ]);
    },
  );
});

test('no answer about a new venue number within 10 minutes: the order looks again, finds it and sends', async () => {
  const clock = workflowClock(env);
  const looksAt: number[] = [];
  await withStubWorkers(
    env,
    {
      ...orderStubs(),
      // The number is stored meanwhile, but the provisioning workflow's answer never reaches this order.
      findVenueNumber: async () => {
        looksAt.push(await clock());
        return { provider: PRIMARY.provider, sender: looksAt.length === 1 ? null : PRIMARY };
      },
      requestVenueNumber: async () => undefined,
    },
    async ({ client, taskQueue, calls }) => {
      const { handle } = await startOrder(client, taskQueue);

      expect(await handle.result()).toEqual({ outcome: 'sent', providerMessageId: acceptedId('twilio') });
      await keepHistory(handle, 'order-venue-number-relook');
      expect(calls.count('requestVenueNumber')).toBe(1);
      expect(looksAt).toHaveLength(2);
      expect(looksAt[1] - looksAt[0]).toBeGreaterThanOrEqual(10 * 60_000);
      expect(calls.inputs('sendSms')).toEqual([expect.objectContaining({ from: PRIMARY.phoneNumber })]);
    },
  );
});

test('an invalid phone: failed history, and the workflow completes (rerunning cannot help)', async () => {
  await withStubWorkers(
    env,
    {
      ...orderStubs(),
      sendSms: async () => {
        throw providerFailure('InvalidPhone', '21211');
      },
    },
    async ({ client, taskQueue, calls }) => {
      const { handle } = await startOrder(client, taskQueue);

      expect(await handle.result()).toEqual({ outcome: 'failed', errorCode: '21211' });
      expect(calls.count('sendSms')).toBe(1);
      expect(calls.count('recordProviderOptOut')).toBe(0);
      expect(calls.inputs('recordHistory')).toEqual([
        expect.objectContaining({ status: 'failed', errorCode: '21211', provider: PRIMARY.provider }),
      ]);
      expect(await orderStatus(handle)).toMatchObject({ step: 'completed', outcome: 'failed' });
    },
  );
});

test('no sender number (misconfigured provider): failed history, then the workflow fails so ops can rerun it', async () => {
  await withStubWorkers(
    env,
    {
      ...orderStubs(),
      // A new venue: the order asks the real provisioning workflow and waits for its answer.
      findVenueNumber: async () => ({ provider: PRIMARY.provider, sender: null }),
      requestVenueNumber: async ({ venueId, provider, waiterWorkflowId }) => {
        const { taskQueue } = Context.current().info;
        await requestVenueNumber(env.client, taskQueue, venueId, provider, waiterWorkflowId);
      },
      acquireVenueNumber: async () => {
        throw ApplicationFailure.create({
          type: 'Misconfiguration',
          message: 'twilio is not configured on this worker',
          nonRetryable: true,
        });
      },
    },
    async ({ client, taskQueue, calls }) => {
      const { event, handle } = await startOrder(client, taskQueue);

      const failure = await handle.result().then(
        () => undefined,
        (err: unknown) => err,
      );
      await keepHistory(handle, 'order-no-sender-number');
      expect(failure).toBeInstanceOf(WorkflowFailedError);
      expect((failure as WorkflowFailedError).cause).toMatchObject({ type: 'Misconfiguration' });
      expect(calls.count('findVenueNumber')).toBe(1);
      expect(calls.count('renderMessage')).toBe(0);
      expect(calls.count('sendSms')).toBe(0);
      expect(calls.inputs('recordHistory')).toEqual([
        expect.objectContaining({
          orderId: event.orderId,
          status: 'failed',
          errorCode: 'Misconfiguration',
          venuePhoneNumberId: null,
          errorMessage: expect.stringContaining('no sender number'),
        }),
      ]);
      expect(await orderStatus(handle)).toMatchObject({ step: 'failed', outcome: 'failed' });
    },
  );
});
