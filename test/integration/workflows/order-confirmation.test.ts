import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { startOrderConfirmation } from '../../../temporal/start-order';
import type { OrderConfirmationEvent } from '../../../domain/order-event';
import { signalConsentChange } from '../../../temporal/consent-signal';
import type { OrderStatus } from '../../../temporal/contracts';
import { orderWorkflowId, venueNumberWorkflowId } from '../../../temporal/ids';
import { SmsErrorCodeKey, SmsOutcomeKey, SmsProviderKey } from '../../../temporal/search-attributes';
import { pendingAttempt, waitFor } from '../../support/temporal';
import { optIn, parsedEvent, useTestWorkers } from '../../support/workers';
import { keepHistory } from '../../support/histories';

const EventType = temporal.api.enums.v1.EventType;

const { w, db, client, taskQueue } = useTestWorkers('order-confirmation');

async function start(e: OrderConfirmationEvent): Promise<WorkflowHandle> {
  await startOrderConfirmation(client, taskQueue, e, { correlationId: `corr-${e.orderId}` });
  return client.workflow.getHandle(orderWorkflowId(e.orderId));
}

async function sentTo(to: string) {
  return w.store.messages({ to });
}

/** Attempts the server recorded for each run of `activityType` (ActivityTaskStarted carries the attempt). */
async function activityAttempts(handle: WorkflowHandle, activityType: string): Promise<number[]> {
  const history = await handle.fetchHistory();
  const scheduled = new Map<string, string>();
  const attempts: number[] = [];
  for (const e of history.events ?? []) {
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
      scheduled.set(String(e.eventId), e.activityTaskScheduledEventAttributes?.activityType?.name ?? '');
    }
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) {
      const attrs = e.activityTaskStartedEventAttributes;
      if (scheduled.get(String(attrs?.scheduledEventId)) === activityType) attempts.push(attrs?.attempt ?? 0);
    }
  }
  return attempts;
}

describe('orderConfirmationSms on the dev server', () => {
  test('an opted-in customer gets exactly one SMS, a sent history row and SmsOutcome=sent', async () => {
    const e = parsedEvent({ PhoneNumber: '+14155550101' });
    await optIn(w.repos, e);
    const handle = await start(e);

    const result = await handle.result();
    expect(result.outcome).toBe('sent');
    await keepHistory(handle, 'order-sent');
    // The venue was new: the order waited for its number, bought by the provisioning workflow.
    await keepHistory(
      client.workflow.getHandle(venueNumberWorkflowId(e.venueId, 'simulator')),
      'venue-number-provisioning',
    );

    const messages = await sentTo(e.phoneNumber);
    expect(messages).toHaveLength(1);
    expect(messages[0].body).toContain('Ada Lovelace');
    expect(messages[0].body).not.toMatch(/[{}]/);

    const history = await w.repos.history.findByOrderId(e.orderId);
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({
      status: 'sent',
      providerMessageId: messages[0].sid,
      provider: 'simulator',
      correlationId: `corr-${e.orderId}`,
      customerPhoneNumber: e.phoneNumber,
      message: messages[0].body,
    });
    expect(history[0].venuePhoneNumberId).toEqual(expect.any(Number));

    const description = await handle.describe();
    expect(description.status.name).toBe('COMPLETED');
    expect(description.typedSearchAttributes.get(SmsOutcomeKey)).toBe('sent');
    expect(description.typedSearchAttributes.get(SmsProviderKey)).toBe('simulator');
    expect(await handle.query<OrderStatus>('status')).toMatchObject({ step: 'completed', outcome: 'sent' });

    // Ops find it through a visibility query, as in the Web UI.
    const found = await waitFor(
      async () => {
        const ids: string[] = [];
        for await (const wf of client.workflow.list({
          query: `OrderId = "${e.orderId}" AND SmsOutcome = "sent"`,
        })) {
          ids.push(wf.workflowId);
        }
        return ids.length > 0 ? ids : undefined;
      },
      { description: 'visibility query by OrderId and SmsOutcome' },
    );
    expect(found).toEqual([orderWorkflowId(e.orderId)]);
  });

  test('no consent row: skipped_no_consent, nothing sent', async () => {
    const e = parsedEvent({ PhoneNumber: '+14155550102' });
    const handle = await start(e);
    expect((await handle.result()).outcome).toBe('skipped_no_consent');
    await keepHistory(handle, 'order-skipped-no-consent');
    expect(await sentTo(e.phoneNumber)).toHaveLength(0);
    const [row] = await w.repos.history.findByOrderId(e.orderId);
    expect(row).toMatchObject({
      status: 'skipped_no_consent',
      venuePhoneNumberId: null,
      providerMessageId: null,
    });
  });

  test('opted out: blocked_opted_out, nothing sent', async () => {
    const e = parsedEvent({ PhoneNumber: '+14155550103' });
    await optIn(w.repos, e);
    await w.repos.consent.applyChange({
      venueId: e.venueId,
      phoneNumber: e.phoneNumber,
      status: 'opted_out',
      source: 'provider_webhook',
      occurredAt: new Date(),
    });
    const handle = await start(e);
    expect((await handle.result()).outcome).toBe('blocked_opted_out');
    await keepHistory(handle, 'order-blocked-opted-out');
    expect(await sentTo(e.phoneNumber)).toHaveLength(0);
    expect((await w.repos.history.findByOrderId(e.orderId))[0].status).toBe('blocked_opted_out');
  });

  test('the same OrderId started three times at once and again after completion: one execution, one SMS', async () => {
    const e = parsedEvent({ PhoneNumber: '+14155550104' });
    await optIn(w.repos, e);
    const results = await Promise.all(
      [1, 2, 3].map((n) => startOrderConfirmation(client, taskQueue, e, { correlationId: `c${n}` })),
    );
    expect(results.filter((r) => r.started)).toHaveLength(1);
    const handle = client.workflow.getHandle(orderWorkflowId(e.orderId));
    await handle.result();

    const again = await startOrderConfirmation(client, taskQueue, e, { correlationId: 'c4' });
    expect(again).toEqual({ workflowId: orderWorkflowId(e.orderId), started: false });

    const runs: string[] = [];
    for await (const wf of client.workflow.list({ query: `WorkflowId = "${orderWorkflowId(e.orderId)}"` }))
      runs.push(wf.runId);
    expect(runs).toHaveLength(1);
    expect(await sentTo(e.phoneNumber)).toHaveLength(1);
    expect(await w.repos.history.findByOrderId(e.orderId)).toHaveLength(1);
  });

  test('a provider 5xx twice, then success: one SMS, three attempts recorded on the send activity', async () => {
    const e = parsedEvent({ PhoneNumber: '+14155550105' });
    await optIn(w.repos, e);
    await w.store.addFault('unavailable', { to: e.phoneNumber, times: 2 });
    const handle = await start(e);
    expect((await handle.result()).outcome).toBe('sent');
    expect(await sentTo(e.phoneNumber)).toHaveLength(1);
    expect(await activityAttempts(handle, 'sendSms')).toEqual([3]);
  });

  test('the provider accepts, then the response is lost: the retry adopts the accepted message', async () => {
    const e = parsedEvent({ PhoneNumber: '+14155550106' });
    await optIn(w.repos, e);
    await w.store.addFault('accept_then_drop', { to: e.phoneNumber, times: 1 });
    const handle = await start(e);
    expect((await handle.result()).outcome).toBe('sent');
    const messages = await sentTo(e.phoneNumber);
    expect(messages).toHaveLength(1);
    expect((await w.repos.history.findByOrderId(e.orderId))[0].providerMessageId).toBe(messages[0].sid);
    expect(await activityAttempts(handle, 'sendSms')).toEqual([2]);
  });

  test('invalid phone at the provider: history failed with the code, no second attempt', async () => {
    const e = parsedEvent({ PhoneNumber: '+14155550107' });
    await optIn(w.repos, e);
    await w.store.addFault('invalid_phone', { to: e.phoneNumber, times: -1 });
    const handle = await start(e);
    expect(await handle.result()).toMatchObject({ outcome: 'failed', errorCode: '21211' });
    expect(await activityAttempts(handle, 'sendSms')).toEqual([1]);
    expect((await w.repos.history.findByOrderId(e.orderId))[0]).toMatchObject({
      status: 'failed',
      errorCode: '21211',
    });
    expect((await handle.describe()).typedSearchAttributes.get(SmsErrorCodeKey)).toBe('21211');
  });

  test('provider says opted out (21610): blocked_opted_out and consent recorded with source provider_error', async () => {
    const e = parsedEvent({ PhoneNumber: '+14155550108' });
    await optIn(w.repos, e);
    await w.store.addFault('opted_out', { to: e.phoneNumber, times: -1 });
    const handle = await start(e);
    expect(await handle.result()).toMatchObject({ outcome: 'blocked_opted_out', errorCode: '21610' });
    expect(await sentTo(e.phoneNumber)).toHaveLength(0);
    const consent = await waitFor(
      async () => {
        const c = await w.repos.consent.get(e.venueId, e.phoneNumber);
        return c?.status === 'opted_out' ? c : undefined;
      },
      { description: 'consent entity records the provider opt-out' },
    );
    expect(consent.source).toBe('provider_error');
  });

  test('a provider auth error keeps the send retrying on a backoff; fixing it delivers the order', async () => {
    const e = parsedEvent({ PhoneNumber: '+14155550109' });
    await optIn(w.repos, e);
    await w.store.addFault('auth', { to: e.phoneNumber, times: -1 });
    const handle = await start(e);

    const pending = await waitFor(
      async () => {
        const d = await handle.describe();
        const activity = d.raw.pendingActivities?.find((a) => a.activityType?.name === 'sendSms');
        return activity && (activity.attempt ?? 0) >= 2 ? activity : undefined;
      },
      { description: 'sendSms retried after ProviderAuth' },
    );
    expect(pending.lastFailure?.applicationFailureInfo?.type).toBe('ProviderAuth');
    expect((await handle.describe()).status.name).toBe('RUNNING');
    expect(await sentTo(e.phoneNumber)).toHaveLength(0);

    await w.store.clearFaults(); // credentials fixed
    expect((await handle.result()).outcome).toBe('sent');
    expect(await sentTo(e.phoneNumber)).toHaveLength(1);
  });

  test('50 concurrent first orders for a new venue: one purchase, all sent from that number', async () => {
    const venueId = 900_000 + Math.floor(Math.random() * 99_999);
    const events = Array.from({ length: 50 }, (_, n) =>
      parsedEvent({ VenueId: venueId, PhoneNumber: `+1415555${String(2000 + n)}` }),
    );
    await Promise.all(events.map((e) => optIn(w.repos, e)));
    const handles = await Promise.all(events.map(start));
    await Promise.all(handles.map((h) => h.result()));

    const senders = new Set<string>();
    for (const e of events) for (const m of await sentTo(e.phoneNumber)) senders.add(m.from);
    expect(senders.size).toBe(1);
    const active = await db.knex('VenuePhoneNumbers').where({ VenueID: venueId, StatusID: 1 });
    expect(active).toHaveLength(1);
    // Bought once: nothing bought and released again by a losing racer.
    const bought = (await w.store.numbers()).filter((n) => n.friendlyName === `venue-${venueId}`);
    expect(bought.map((n) => n.status)).toEqual(['owned']);
    for (const e of events) expect(await sentTo(e.phoneNumber)).toHaveLength(1);
  });

  test('an opt-out landing while the send is retrying wins: nothing is sent', async () => {
    const e = parsedEvent({ PhoneNumber: '+14155550110' });
    await optIn(w.repos, e);
    await w.store.addFault('unavailable', { to: e.phoneNumber, times: -1 });
    const handle = await start(e);
    // A retrying activity has no ActivityTaskStarted event yet; its attempt shows on the pending activity.
    await waitFor(async () => ((await pendingAttempt(handle, 'sendSms')) ?? 0) >= 2, {
      description: 'the send failing and being retried',
    });
    await signalConsentChange(w.consentEntities, e.venueId, e.phoneNumber, {
      status: 'opted_out',
      source: 'provider_webhook',
      occurredAt: new Date().toISOString(),
    });
    await waitFor(async () => (await w.repos.consent.get(e.venueId, e.phoneNumber))?.status === 'opted_out', {
      description: 'opt-out applied',
    });
    await w.store.clearFaults();
    expect((await handle.result()).outcome).toBe('blocked_opted_out');
    expect(await sentTo(e.phoneNumber)).toHaveLength(0);
  });

  test('an event re-driven after its closed workflow is gone: the SQL claim says texted, duplicate, nothing sent', async () => {
    const e = parsedEvent({ PhoneNumber: '+14155550171' });
    await optIn(w.repos, e);
    const first = await start(e);
    expect((await first.result()).outcome).toBe('sent');

    // What retention does to a closed workflow, done at once.
    await client.workflowService.deleteWorkflowExecution({
      namespace: client.options.namespace,
      workflowExecution: { workflowId: orderWorkflowId(e.orderId) },
    });
    // Deletion runs in the background; once done, the same event starts a new workflow.
    const again = await waitFor(
      async () => {
        const attempt = await startOrderConfirmation(client, taskQueue, e, { correlationId: 'redrive' });
        return attempt.started && attempt;
      },
      { timeoutMs: 90_000, intervalMs: 500, description: 'the re-driven event starting a new workflow' },
    );
    expect(again.started).toBe(true); // Temporal no longer remembers the order
    const result = await client.workflow.getHandle(orderWorkflowId(e.orderId)).result();
    const [message] = await sentTo(e.phoneNumber);
    expect(result).toEqual({ outcome: 'duplicate', providerMessageId: message.sid });
    expect(await sentTo(e.phoneNumber)).toHaveLength(1);
    expect((await w.repos.history.findByOrderId(e.orderId)).map((h) => h.status).sort()).toEqual([
      'duplicate',
      'sent',
    ]);
  });

  test('an event older than MAX_EVENT_AGE_HOURS: expired, nothing sent', async () => {
    const e = parsedEvent({
      PhoneNumber: '+14155550172',
      EventTimestamp: new Date(Date.now() - 72 * 3_600_000).toISOString(),
    });
    await optIn(w.repos, e);
    expect((await (await start(e)).result()).outcome).toBe('expired');
    expect(await sentTo(e.phoneNumber)).toHaveLength(0);
    expect(await w.repos.history.findByOrderId(e.orderId)).toEqual([
      expect.objectContaining({ status: 'expired' }),
    ]);
  });
});
