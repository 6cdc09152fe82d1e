import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { signalConsentChange } from '../../../temporal/consent-signal';
import { startOrderConfirmation } from '../../../temporal/start-order';
import { orderWorkflowId } from '../../../temporal/ids';
import { uniqueTaskQueue, waitFor } from '../../support/temporal';
import {
  optIn,
  parsedEvent,
  startTestWorkers,
  useTestWorkers,
  type TestWorkers,
} from '../../support/workers';
import { keepHistory } from '../../support/histories';

// The shape of a warm-venue order's history on the lean path (docs/adr/0009): what Temporal stores
// and bills per order. Structure, not time: counted events and commands, never a duration.

const EventType = temporal.api.enums.v1.EventType;

const { w, db, taskQueue } = useTestWorkers('lean-order-path');

/** The history as event type names, and the local activities its markers record. */
async function shape(handle: WorkflowHandle) {
  const { events } = await handle.fetchHistory();
  const list = events ?? [];
  const types = list.map((e) => EventType[e.eventType ?? 0]);
  const scheduled = list
    .filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
    .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name);
  const markers = list
    .filter((e) => e.eventType === EventType.EVENT_TYPE_MARKER_RECORDED)
    .map((e) => e.markerRecordedEventAttributes?.markerName);
  return { types, scheduled, markers };
}

test('a warm-venue order that is sent: one regular activity (the send), at most 18 events', async () => {
  const e = parsedEvent();
  await optIn(w.repos, e);
  // A warm venue: its number is stored already, so no provisioning runs.
  await w.repos.venueNumbers.insertActive({
    venueId: e.venueId,
    provider: 'simulator',
    phoneNumber: '+14155550177',
    providerId: 'PN-warm',
  });
  await startOrderConfirmation(w.client, taskQueue, e, { correlationId: `corr-${e.orderId}` });
  const handle = w.client.workflow.getHandle(orderWorkflowId(e.orderId));

  expect(await handle.result()).toMatchObject({ outcome: 'sent' });
  const { types, scheduled, markers } = await shape(handle);
  expect(scheduled).toEqual(['sendSms']);
  // checkConsent, findVenueNumber, renderMessage and recordHistory.
  expect(markers).toEqual(Array(4).fill('core_local_activity'));
  // SmsProvider before the send, SmsOutcome after it.
  expect(types.filter((t) => t === 'EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES')).toHaveLength(2);
  expect(types.length).toBeLessThanOrEqual(18);
  // Two workflow tasks: the first runs every step up to the send, the second records the outcome.
  expect(types.map((t) => t.replace('EVENT_TYPE_', ''))).toEqual([
    'WORKFLOW_EXECUTION_STARTED',
    ...['WORKFLOW_TASK_SCHEDULED', 'WORKFLOW_TASK_STARTED', 'WORKFLOW_TASK_COMPLETED'],
    ...['MARKER_RECORDED', 'MARKER_RECORDED'], // consent, venue number
    'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES', // SmsProvider
    'MARKER_RECORDED', // render
    ...['ACTIVITY_TASK_SCHEDULED', 'ACTIVITY_TASK_STARTED', 'ACTIVITY_TASK_COMPLETED'], // the send
    ...['WORKFLOW_TASK_SCHEDULED', 'WORKFLOW_TASK_STARTED', 'WORKFLOW_TASK_COMPLETED'],
    'MARKER_RECORDED', // history
    'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES', // SmsOutcome
    'WORKFLOW_EXECUTION_COMPLETED',
  ]);
  expect(await w.store.messages({ to: e.phoneNumber })).toHaveLength(1);
  expect(await w.repos.history.findByOrderId(e.orderId)).toEqual([
    expect.objectContaining({ status: 'sent', venuePhoneNumberId: expect.any(Number) }),
  ]);
});

test('an order without consent: no activity task at all, the consent read and history write are markers', async () => {
  const e = parsedEvent();
  await startOrderConfirmation(w.client, taskQueue, e, { correlationId: `corr-${e.orderId}` });
  const handle = w.client.workflow.getHandle(orderWorkflowId(e.orderId));

  expect(await handle.result()).toEqual({ outcome: 'skipped_no_consent' });
  const { types, scheduled, markers } = await shape(handle);
  expect(scheduled).toEqual([]);
  expect(markers).toEqual(['core_local_activity', 'core_local_activity']);
  expect(types.length).toBeLessThanOrEqual(8);
  expect(await w.repos.history.findByOrderId(e.orderId)).toEqual([
    expect.objectContaining({ status: 'skipped_no_consent' }),
  ]);
});

test('a consent read failing past its local budget moves to the regular activity; the order goes out once it answers', async () => {
  // Orders and sends served, consent not: the customer's opt-in is held by a running consent entity
  // (not in SQL yet) that cannot answer the pending-changes query, so every consent read fails (after
  // its 5 s deadline).
  const queue = uniqueTaskQueue('lean-fallback');
  const orders = await startTestWorkers({
    knex: db.knex,
    taskQueue: queue,
    env: { WORKER_QUEUES: 'orders,send' },
  });
  let consent: TestWorkers | undefined;
  try {
    const e = parsedEvent();
    await w.repos.venueNumbers.insertActive({
      venueId: e.venueId,
      provider: 'simulator',
      phoneNumber: '+14155550178',
      providerId: 'PN-warm-fallback',
    });
    await signalConsentChange(orders.consentEntities, e.venueId, e.phoneNumber, {
      status: 'opted_in',
      source: 'checkout',
      occurredAt: new Date(Date.now() - 30_000).toISOString(),
    });
    await startOrderConfirmation(orders.client, queue, e, { correlationId: `corr-${e.orderId}` });
    const handle = orders.client.workflow.getHandle(orderWorkflowId(e.orderId));
    await waitFor(async () => (await shape(handle)).scheduled.includes('checkConsent'), {
      timeoutMs: 90_000,
      description: 'the consent read handed to its regular activity after the local budget',
    });
    expect(await orders.store.messages({ to: e.phoneNumber })).toHaveLength(0);

    consent = await startTestWorkers({
      knex: db.knex,
      taskQueue: queue,
      simulatorPath: orders.simulatorPath,
      env: { WORKER_QUEUES: 'consent' },
    });
    expect(await handle.result()).toMatchObject({ outcome: 'sent' });
    await keepHistory(handle, 'order-local-step-fallback');
    const { scheduled, markers } = await shape(handle);
    expect(scheduled).toEqual(['checkConsent', 'sendSms']);
    // The failed local consent read is recorded too (its marker carries the failure).
    expect(markers.filter((m) => m === 'core_local_activity').length).toBeGreaterThanOrEqual(3);
    expect(await orders.store.messages({ to: e.phoneNumber })).toHaveLength(1);
  } finally {
    await consent?.shutdown();
    await orders.shutdown();
  }
}, 180_000);
