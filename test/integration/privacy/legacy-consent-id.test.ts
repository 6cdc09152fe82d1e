import { pendingConsentChanges, signalConsentChange } from '../../../temporal/consent-signal';
import {
  CONSENT_CHANGE_SIGNAL,
  CONSENT_WORKFLOW_TYPE,
  consentTaskQueue,
  type ConsentChangeSignal,
  type ConsentEntityInput,
} from '../../../temporal/contracts';
import { consentWorkflowId, legacyConsentWorkflowId, orderWorkflowId } from '../../../temporal/ids';
import { startOrderConfirmation } from '../../../temporal/start-order';
import { createTestDatabase, type TestDatabase } from '../../support/db';
import { uniqueTaskQueue, waitFor } from '../../support/temporal';
import { optIn, parsedEvent, startTestWorkers, type TestWorkers } from '../../support/workers';

/**
 * Consent ids moved from `consent-<venue>-<phone>` to a keyed hash. An entity the previous version
 * opened under the old id may still hold an acknowledged STOP (its SQL write retrying): it must keep
 * blocking sends, while new changes go to the hashed id and the old id is never started again.
 */

const taskQueue = uniqueTaskQueue('legacy-consent');
let db: TestDatabase;
let unwritable: TestDatabase;
let orders: TestWorkers;
let consent: TestWorkers;

beforeAll(async () => {
  db = await createTestDatabase();
  // The consent entities' writes go to a database without tables: they acknowledge and hold.
  unwritable = await createTestDatabase({ migrate: false });
  orders = await startTestWorkers({ knex: db.knex, taskQueue, env: { WORKER_QUEUES: 'orders,send' } });
  consent = await startTestWorkers({ knex: unwritable.knex, taskQueue, env: { WORKER_QUEUES: 'consent' } });
});

afterAll(async () => {
  await consent?.shutdown();
  await orders?.shutdown();
  await unwritable?.destroy();
  await db?.destroy();
});

test('an entity open under the old phone id still blocks with its pending STOP; new changes go to the hashed id', async () => {
  const e = parsedEvent({ PhoneNumber: '+14155550181' });
  await optIn(orders.repos, e);
  const { client } = orders;
  const stoppedAt = new Date(Date.now() - 5_000).toISOString();

  // As the previous version started it: the phone in the id.
  const legacyId = legacyConsentWorkflowId(e.venueId, e.phoneNumber);
  const input: ConsentEntityInput = { venueId: e.venueId, phoneNumber: e.phoneNumber };
  const stop: ConsentChangeSignal = {
    status: 'opted_out',
    source: 'provider_webhook',
    occurredAt: stoppedAt,
    receivedAt: stoppedAt,
  };
  const legacy = await client.workflow.signalWithStart(CONSENT_WORKFLOW_TYPE, {
    workflowId: legacyId,
    taskQueue: consentTaskQueue(taskQueue),
    args: [input],
    signal: CONSENT_CHANGE_SIGNAL,
    signalArgs: [stop],
  });
  try {
    await waitFor(
      async () =>
        (await pendingConsentChanges(orders.consentEntities, e.venueId, e.phoneNumber)).length === 1,
      {
        description: 'the old entity answering with its held STOP',
      },
    );

    // SQL still says opted in; the STOP held under the old id wins.
    await startOrderConfirmation(client, taskQueue, e, { correlationId: `corr-${e.orderId}` });
    const result = await client.workflow.getHandle(orderWorkflowId(e.orderId)).result();
    expect(result).toMatchObject({ outcome: 'blocked_opted_out' });
    expect(await orders.store.messages({ to: e.phoneNumber })).toHaveLength(0);
    expect((await orders.repos.consent.get(e.venueId, e.phoneNumber))?.status).toBe('opted_in');

    // A new change starts the hashed entity; the old one receives nothing more.
    const later = new Date().toISOString();
    const { workflowId } = await signalConsentChange(orders.consentEntities, e.venueId, e.phoneNumber, {
      status: 'opted_in',
      source: 'internal_api',
      occurredAt: later,
    });
    expect(workflowId).toBe(
      consentWorkflowId(e.venueId, e.phoneNumber, orders.config.temporal.workflowIdHashKey),
    );
    expect(workflowId).not.toContain(e.phoneNumber.slice(2));
    const signals = (await legacy.fetchHistory()).events?.filter(
      (ev) => ev.workflowExecutionSignaledEventAttributes,
    );
    expect(signals).toHaveLength(1);
    // Both held, the old entity's first (it was acknowledged first).
    await waitFor(
      async () =>
        (await pendingConsentChanges(orders.consentEntities, e.venueId, e.phoneNumber))
          .map((c) => c.status)
          .join() === 'opted_out,opted_in',
      { description: 'both entities answering' },
    );

    // Once the old entity has closed, only the hashed one counts.
    await legacy.terminate('test: the old entity finished');
    expect(
      (await pendingConsentChanges(orders.consentEntities, e.venueId, e.phoneNumber)).map((c) => c.status),
    ).toEqual(['opted_in']);
  } finally {
    for (const id of [
      legacyId,
      consentWorkflowId(e.venueId, e.phoneNumber, orders.config.temporal.workflowIdHashKey),
    ])
      await client.workflow
        .getHandle(id)
        .terminate('test over')
        .catch(() => undefined);
  }
}, 90_000);
