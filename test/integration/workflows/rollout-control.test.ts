import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import {
  ORDER_CONFIRMATION_SMS_FLAG,
  ROLLOUT_RESUMED_SIGNAL,
  type PauseScope,
} from '../../../rollout/control';
import type { OrderConfirmationEvent } from '../../../domain/order-event';
import { signalConsentChange } from '../../../temporal/consent-signal';
import type { OrderStatus } from '../../../temporal/contracts';
import { orderWorkflowId, venueNumberWorkflowId } from '../../../temporal/ids';
import { SmsOutcomeKey } from '../../../temporal/search-attributes';
import { startOrderConfirmation } from '../../../temporal/start-order';
import { keepHistory } from '../../support/histories';
import { waitFor } from '../../support/temporal';
import { optIn, parsedEvent, useTestWorkers } from '../../support/workers';

/**
 * Rollout control on the order path (issue 21), on the dev server with the real SQL state: a venue
 * switched off ends `skipped_disabled` before anything is bought or sent, at the start or at the send;
 * a pause holds the order in workflow code as SmsOutcome=paused until it is lifted.
 */
const { w, client, taskQueue } = useTestWorkers('rollout-control', {
  // The state is read afresh on each look, so a change in SQL is seen at the next step.
  env: { ROLLOUT_CACHE_MS: '0' },
});

const change = (reason: string) => ({ actor: 'rollout-test', reason, at: new Date() });

async function start(e: OrderConfirmationEvent): Promise<WorkflowHandle> {
  await startOrderConfirmation(client, taskQueue, e, { correlationId: `corr-${e.orderId}` });
  return client.workflow.getHandle(orderWorkflowId(e.orderId));
}

async function optedInOrder(overrides: Record<string, unknown>): Promise<OrderConfirmationEvent> {
  const e = parsedEvent(overrides);
  await optIn(w.repos, e);
  return e;
}

/** Waits until the order shows as paused: in its status query and in visibility, as ops see it. */
async function pausedInVisibility(e: OrderConfirmationEvent, handle: WorkflowHandle): Promise<void> {
  await waitFor(async () => (await handle.query<OrderStatus>('status')).step === 'paused', {
    description: 'order paused',
  });
  await waitFor(
    async () => {
      for await (const wf of client.workflow.list({
        query: `OrderId = "${e.orderId}" AND SmsOutcome = "paused" AND ExecutionStatus = "Running"`,
      }))
        return wf.workflowId === handle.workflowId;
      return false;
    },
    { description: 'SmsOutcome=paused in visibility' },
  );
}

async function lift(target: PauseScope, handle: WorkflowHandle): Promise<void> {
  await w.repos.rollout.resume(target, change('lifted by the test'));
  await handle.signal(ROLLOUT_RESUMED_SIGNAL);
}

describe('rollout control on the order path', () => {
  test('a venue switched off: skipped_disabled, a history row, no number bought, nothing sent', async () => {
    const e = await optedInOrder({ PhoneNumber: '+14155550301' });
    await w.repos.rollout.setVenueOverride(
      ORDER_CONFIRMATION_SMS_FLAG,
      e.venueId,
      false,
      change('pilot off'),
    );
    const handle = await start(e);

    expect(await handle.result()).toMatchObject({ outcome: 'skipped_disabled' });
    await keepHistory(handle, 'order-skipped-disabled');
    expect(await w.store.messages({ to: e.phoneNumber })).toHaveLength(0);
    const [row] = await w.repos.history.findByOrderId(e.orderId);
    expect(row).toMatchObject({
      status: 'skipped_disabled',
      venuePhoneNumberId: null,
      providerMessageId: null,
    });
    expect((await handle.describe()).typedSearchAttributes.get(SmsOutcomeKey)).toBe('skipped_disabled');
    // Nothing was provisioned for a venue that sends nothing.
    await expect(
      client.workflow.getHandle(venueNumberWorkflowId(e.venueId, 'simulator')).describe(),
    ).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  test('a global pause holds the order as paused; the resume sends it exactly once', async () => {
    const e = await optedInOrder({ PhoneNumber: '+14155550302' });
    await w.repos.rollout.pause({ scope: 'global' }, change('provider incident'));
    const handle = await start(e);

    await pausedInVisibility(e, handle);
    expect(await w.store.messages({ to: e.phoneNumber })).toHaveLength(0);
    expect(await w.repos.history.findByOrderId(e.orderId)).toHaveLength(0);
    // A paused order holds no claim and no hold on the customer: nothing is in flight.
    expect(await w.repos.orderClaims.find(e.orderId)).toBeNull();

    await lift({ scope: 'global' }, handle);
    expect(await handle.result()).toMatchObject({ outcome: 'sent' });
    await keepHistory(handle, 'order-paused-resumed');
    expect(await w.store.messages({ to: e.phoneNumber })).toHaveLength(1);
    expect((await handle.describe()).typedSearchAttributes.get(SmsOutcomeKey)).toBe('sent');
  });

  test('a pause of another provider or venue does not hold the order', async () => {
    const e = await optedInOrder({ PhoneNumber: '+14155550303' });
    await w.repos.rollout.pause({ scope: 'provider', provider: 'twilio' }, change('twilio incident'));
    await w.repos.rollout.pause({ scope: 'venue', venueId: e.venueId + 1 }, change('another venue'));
    try {
      expect(await (await start(e)).result()).toMatchObject({ outcome: 'sent' });
    } finally {
      await w.repos.rollout.resume({ scope: 'provider', provider: 'twilio' }, change('test over'));
      await w.repos.rollout.resume({ scope: 'venue', venueId: e.venueId + 1 }, change('test over'));
    }
  });

  test('a venue switched off while its order is paused: the order ends skipped_disabled at the send', async () => {
    const e = await optedInOrder({ PhoneNumber: '+14155550304' });
    const venue: PauseScope = { scope: 'venue', venueId: e.venueId };
    await w.repos.rollout.pause(venue, change('bad template'));
    const handle = await start(e);
    await pausedInVisibility(e, handle);

    await w.repos.rollout.setVenueOverride(
      ORDER_CONFIRMATION_SMS_FLAG,
      e.venueId,
      false,
      change('venue off'),
    );
    await lift(venue, handle);
    expect(await handle.result()).toMatchObject({ outcome: 'skipped_disabled' });
    expect(await w.store.messages({ to: e.phoneNumber })).toHaveLength(0);
    const [row] = await w.repos.history.findByOrderId(e.orderId);
    expect(row).toMatchObject({ status: 'skipped_disabled', provider: 'simulator' });
  });

  test('a STOP while the order is paused wins over the resume', async () => {
    const e = await optedInOrder({ PhoneNumber: '+14155550305' });
    const venue: PauseScope = { scope: 'venue', venueId: e.venueId };
    await w.repos.rollout.pause(venue, change('hold'));
    const handle = await start(e);
    await pausedInVisibility(e, handle);

    await signalConsentChange(w.consentEntities, e.venueId, e.phoneNumber, {
      status: 'opted_out',
      source: 'provider_webhook',
      occurredAt: new Date().toISOString(),
      providerMessageId: `stop-${e.orderId}`,
    });
    await lift(venue, handle);
    expect(await handle.result()).toMatchObject({ outcome: 'blocked_opted_out' });
    expect(await w.store.messages({ to: e.phoneNumber })).toHaveLength(0);
  });

  test('a pause lifted with no wake-up signal (it missed the order): the order sees it on its own within seconds', async () => {
    const e = await optedInOrder({ PhoneNumber: '+14155550308' });
    const venue: PauseScope = { scope: 'venue', venueId: e.venueId };
    await w.repos.rollout.pause(venue, change('hold'));
    const handle = await start(e);
    await pausedInVisibility(e, handle);

    // Lifted in SQL only: as when the wake-up listed the paused orders a moment before this one
    // turned paused, or the API's wake-up was cut short.
    await w.repos.rollout.resume(venue, change('lifted, no signal'));
    expect(await handle.result()).toMatchObject({ outcome: 'sent' });
    expect(await w.store.messages({ to: e.phoneNumber })).toHaveLength(1);
    // Its looks while paused went to the order queue, not the provider's rate-limited send queue.
    expect(await pausedSendAttempts(handle)).toBe(2);
  });

  test('a resume signal with the pause still on: the order asks, stays paused, and sends once it is lifted', async () => {
    const e = await optedInOrder({ PhoneNumber: '+14155550306' });
    const venue: PauseScope = { scope: 'venue', venueId: e.venueId };
    await w.repos.rollout.pause(venue, change('hold'));
    const handle = await start(e);
    await pausedInVisibility(e, handle);

    await handle.signal(ROLLOUT_RESUMED_SIGNAL); // a resume of some other scope wakes it too
    await waitFor(async () => (await pausedSendAttempts(handle)) >= 2, { description: 'second look' });
    await pausedInVisibility(e, handle);
    expect(await w.store.messages({ to: e.phoneNumber })).toHaveLength(0);

    await lift(venue, handle);
    expect(await handle.result()).toMatchObject({ outcome: 'sent' });
    expect(await w.store.messages({ to: e.phoneNumber })).toHaveLength(1);
  });
});

/** How many times this order called sendSms (each paused answer ends one call). */
async function pausedSendAttempts(handle: WorkflowHandle): Promise<number> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).filter(
    (ev) => ev.activityTaskScheduledEventAttributes?.activityType?.name === 'sendSms',
  ).length;
}

describe('a paused order whose event ages out', () => {
  const aged = useTestWorkers('rollout-control-aged', {
    // 36 s: the order below is paused with a few seconds of its age left.
    env: { ROLLOUT_CACHE_MS: '0', MAX_EVENT_AGE_HOURS: '0.01' },
  });

  test('ends expired when its age passes MAX_EVENT_AGE_HOURS, without a resume', async () => {
    const e = parsedEvent({
      PhoneNumber: '+14155550307',
      EventTimestamp: new Date(Date.now() - 30_000).toISOString(),
    });
    await optIn(aged.w.repos, e);
    await aged.w.repos.rollout.pause({ scope: 'global' }, change('long incident'));
    await startOrderConfirmation(aged.client, aged.taskQueue, e, { correlationId: `corr-${e.orderId}` });
    const handle = aged.client.workflow.getHandle(orderWorkflowId(e.orderId));

    expect(await handle.result()).toMatchObject({ outcome: 'expired' });
    expect(await aged.w.store.messages({ to: e.phoneNumber })).toHaveLength(0);
    const [row] = await aged.w.repos.history.findByOrderId(e.orderId);
    expect(row).toMatchObject({ status: 'expired' });
  });
});
