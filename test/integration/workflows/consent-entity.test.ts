import { AesGcmPayloadCodec } from '../../../temporal/payload-codec';
import { signalConsentChange } from '../../../temporal/consent-signal';
import { consentWorkflowId } from '../../../temporal/ids';
import { waitFor } from '../../support/temporal';
import { keepHistory, TEST_SUGGEST_CONTINUE_AS_NEW_EVENTS } from '../../support/histories';
import { useTestWorkers } from '../../support/workers';

const { w, client } = useTestWorkers('consent-entity');

const entityId = (venueId: number, phone: string) =>
  consentWorkflowId(venueId, phone, w.config.temporal.workflowIdHashKey);
const venue = () => 500_000 + Math.floor(Math.random() * 99_999);
const at = (secondsAgo: number) => new Date(Date.now() - secondsAgo * 1000).toISOString();

/** The applyConsentChange results in the entity's history, in order. */
async function applyResults(
  venueId: number,
  phone: string,
): Promise<Array<{ applied: boolean; reason?: string }>> {
  const history = await client.workflow.getHandle(entityId(venueId, phone)).fetchHistory();
  // fetchHistory gives the raw events: their payloads are encrypted by the codec.
  const codec = new AesGcmPayloadCodec(w.config.temporal.payloadCodecKeys);
  const results = [];
  for (const e of history.events ?? []) {
    const payload = e.activityTaskCompletedEventAttributes?.result?.payloads?.[0];
    if (!payload?.data) continue;
    const [decoded] = await codec.decode([payload]);
    results.push(JSON.parse(Buffer.from(decoded.data ?? []).toString('utf8')));
  }
  return results;
}

async function appliedCount(venueId: number, phone: string): Promise<number> {
  return (await applyResults(venueId, phone)).length;
}

test('changes apply in arrival order through one entity per venue and phone', async () => {
  const venueId = venue();
  const phone = '+14155550130';
  await signalConsentChange(w.consentEntities, venueId, phone, {
    status: 'opted_in',
    source: 'checkout',
    occurredAt: at(30),
  });
  await signalConsentChange(w.consentEntities, venueId, phone, {
    status: 'opted_out',
    source: 'provider_webhook',
    occurredAt: at(20),
  });
  await waitFor(async () => (await appliedCount(venueId, phone)) === 2, {
    description: 'two changes applied',
  });

  const record = await w.repos.consent.get(venueId, phone);
  expect(record).toMatchObject({ status: 'opted_out', source: 'provider_webhook' });
  // Consent is per venue: the same phone at another venue is untouched.
  expect(await w.repos.consent.get(venueId + 1, phone)).toBeNull();
});

test('every change the entity handles leaves an audit row, with the run and activity that wrote it', async () => {
  const venueId = venue();
  const phone = '+14155550133';
  const signalledAt = Date.now();
  await signalConsentChange(w.consentEntities, venueId, phone, {
    status: 'opted_in',
    source: 'checkout',
    occurredAt: at(30),
    correlationId: 'corr-audit-1',
  });
  await signalConsentChange(w.consentEntities, venueId, phone, {
    status: 'opted_out',
    source: 'provider_webhook',
    provider: 'twilio',
    providerMessageId: 'SM-audit-wf-1',
    occurredAt: at(20),
    correlationId: 'corr-audit-2',
  });
  const { items } = await waitFor(
    async () => {
      const page = await w.repos.consent.changes(venueId, phone, { limit: 10 });
      return page.items.length === 2 ? page : undefined;
    },
    { description: 'two audit rows' },
  );
  const workflowId = entityId(venueId, phone);
  expect(items).toMatchObject([
    {
      status: 'opted_out',
      source: 'provider_webhook',
      provider: 'twilio',
      providerMessageId: 'SM-audit-wf-1',
      outcome: 'applied',
      correlationId: 'corr-audit-2',
    },
    {
      status: 'opted_in',
      source: 'checkout',
      provider: null,
      outcome: 'applied',
      correlationId: 'corr-audit-1',
    },
  ]);
  // One id per change, from the entity's run and the activity's sequence.
  const { runId } = await client.workflow.getHandle(workflowId).describe();
  expect(items.map((c) => c.changeId).sort()).toEqual([
    `${workflowId}/${runId}/1`,
    `${workflowId}/${runId}/2`,
  ]);
  // receivedAt is when signalConsentChange acknowledged the change, not when it happened.
  for (const c of items) {
    expect(c.receivedAt.getTime()).toBeGreaterThanOrEqual(signalledAt);
    expect(c.receivedAt.getTime()).toBeGreaterThan(c.occurredAt.getTime());
  }
});

test('a duplicate webhook (same provider message id) is applied once; a stale change is ignored', async () => {
  const venueId = venue();
  const phone = '+14155550131';
  const stop = {
    status: 'opted_out' as const,
    source: 'provider_webhook' as const,
    occurredAt: at(10),
    providerMessageId: 'SM-stop-1',
  };
  await signalConsentChange(w.consentEntities, venueId, phone, stop);
  await signalConsentChange(w.consentEntities, venueId, phone, stop);
  // An opt-in that happened before the STOP arrives late: it must not resubscribe the customer.
  await signalConsentChange(w.consentEntities, venueId, phone, {
    status: 'opted_in',
    source: 'checkout',
    occurredAt: at(60),
  });
  // The late opt-in is the last signal: once its (stale) result is in, every signal has been handled.
  await waitFor(async () => (await applyResults(venueId, phone)).some((r) => r.reason === 'stale'), {
    description: 'late opt-in processed',
  });
  expect(await applyResults(venueId, phone)).toEqual([
    { applied: true },
    { applied: false, reason: 'duplicate' },
    { applied: false, reason: 'stale' },
  ]);

  const record = await w.repos.consent.get(venueId, phone);
  expect(record).toMatchObject({ status: 'opted_out', source: 'provider_webhook' });
  // The applied STOP, its redelivery and the stale opt-in are all in the audit trail.
  const trail = await w.repos.consent.changes(venueId, phone, { limit: 10 });
  expect(trail.items.map((c) => c.outcome).sort()).toEqual(['applied', 'duplicate', 'stale']);

  const history = await client.workflow.getHandle(entityId(venueId, phone)).fetchHistory();
  const signals = (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes);
  expect(signals).toHaveLength(3); // all three reached the entity; the duplicate was only recorded
  await keepHistory(client.workflow.getHandle(entityId(venueId, phone)), 'consent-entity');
});

test('a long-lived entity continues as new and keeps what it knew: the latest change wins, old ids stay duplicates', async () => {
  const venueId = venue();
  const phone = '+14155550134';
  const workflowId = entityId(venueId, phone);
  // Each change costs the entity at least four events (signal, activity scheduled/started/completed).
  const count = Math.ceil(TEST_SUGGEST_CONTINUE_AS_NEW_EVENTS / 4) + 5;
  const change = (i: number) => ({
    status: i % 2 === 0 ? ('opted_in' as const) : ('opted_out' as const),
    source: 'provider_webhook' as const,
    occurredAt: at(count + 10 - i),
    providerMessageId: `SM-long-${i}`,
  });
  await signalConsentChange(w.consentEntities, venueId, phone, change(0));
  const { runId: firstRunId } = await client.workflow.getHandle(workflowId).describe();
  for (let i = 1; i < count; i++) await signalConsentChange(w.consentEntities, venueId, phone, change(i));

  const firstRun = client.workflow.getHandle(workflowId, firstRunId);
  await waitFor(async () => (await firstRun.describe()).status.name === 'CONTINUED_AS_NEW', {
    description: 'the first run continued as new',
  });
  const last = change(count - 1);
  await waitFor(async () => (await w.repos.consent.get(venueId, phone))?.status === last.status, {
    description: 'the last change applied',
  });
  // A redelivery of a change the first run saw is still a duplicate in the new run.
  await signalConsentChange(w.consentEntities, venueId, phone, change(1));
  const trail = await waitFor(
    async () => {
      const page = await w.repos.consent.changes(venueId, phone, { limit: count + 5 });
      return page.items.some((c) => c.outcome === 'duplicate') ? page.items : undefined;
    },
    { description: 'the redelivery recorded as a duplicate' },
  );
  expect(trail.filter((c) => c.outcome === 'applied')).toHaveLength(count);
  expect(trail.filter((c) => c.outcome === 'duplicate')).toEqual([
    expect.objectContaining({ providerMessageId: 'SM-long-1' }),
  ]);
  expect(await w.repos.consent.get(venueId, phone)).toMatchObject({ status: last.status });
  await keepHistory(firstRun, 'consent-entity-continued-as-new');
});

test('a START replayed after the STOP, reaching a new run of the entity, is a duplicate: the STOP stands', async () => {
  const venueId = venue();
  const phone = '+14155550135';
  const change = (status: 'opted_in' | 'opted_out', id: string, secondsAgo: number) => ({
    status,
    source: 'provider_webhook' as const,
    provider: 'twilio' as const,
    occurredAt: at(secondsAgo),
    providerMessageId: id,
  });
  await signalConsentChange(w.consentEntities, venueId, phone, change('opted_in', 'SM-start-A', 20));
  await signalConsentChange(w.consentEntities, venueId, phone, change('opted_out', 'SM-stop-B', 10));
  await waitFor(async () => (await appliedCount(venueId, phone)) === 2, {
    description: 'START, STOP applied',
  });
  // The entity forgets what it saw when it ends (after 10 idle minutes; here at once).
  await client.workflow.getHandle(entityId(venueId, phone)).terminate('idle, as after 10 minutes');

  // Twilio signatures never expire: A posted again, dated on its new arrival.
  await signalConsentChange(w.consentEntities, venueId, phone, change('opted_in', 'SM-start-A', 0));
  const trail = await waitFor(
    async () => {
      const page = await w.repos.consent.changes(venueId, phone, { limit: 10 });
      return page.items.length === 3 ? page.items : undefined;
    },
    { description: 'the replay handled by the new run' },
  );
  expect(trail[0]).toMatchObject({
    status: 'opted_in',
    providerMessageId: 'SM-start-A',
    outcome: 'duplicate',
  });
  expect(await w.repos.consent.get(venueId, phone)).toMatchObject({ status: 'opted_out' });
});

test('a START after a STOP opts the customer back in', async () => {
  const venueId = venue();
  const phone = '+14155550132';
  await signalConsentChange(w.consentEntities, venueId, phone, {
    status: 'opted_out',
    source: 'provider_webhook',
    occurredAt: at(10),
  });
  await signalConsentChange(w.consentEntities, venueId, phone, {
    status: 'opted_in',
    source: 'provider_webhook',
    occurredAt: at(5),
  });
  await waitFor(async () => (await w.repos.consent.get(venueId, phone))?.status === 'opted_in', {
    description: 'opted back in',
  });
  const record = await w.repos.consent.get(venueId, phone);
  expect(record?.optedOutAt).toBeInstanceOf(Date);
  expect(record?.optedInAt).toBeInstanceOf(Date);
});
