import type { FastifyInstance } from 'fastify';
import { pingDatabase } from '../../../db';
import { connectTemporalClient } from '../../../temporal/client';
import { consentWorkflowId } from '../../../temporal/ids';
import { buildTestApi } from '../../support/api';
import { useResource } from '../../support/lifecycle';
import { testTemporalAddress, waitFor, workflowStarted } from '../../support/temporal';
import { sampleEvent, useTestWorkers } from '../../support/workers';

const TOKEN = 'api-test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

const { w, db, taskQueue } = useTestWorkers('api');
const temporal = useResource(
  async () => connectTemporalClient({ ...w.config.temporal, address: testTemporalAddress() }),
  (t) => t.close(),
);

function build(
  readinessChecks?: Record<string, () => Promise<void>>,
  client = temporal.client,
): Promise<FastifyInstance> {
  return buildTestApi({
    token: TOKEN,
    logName: 'api-test',
    workers: w,
    temporal: { client, taskQueue, workflowIdHashKey: w.config.temporal.workflowIdHashKey },
    readinessChecks: readinessChecks ?? { database: () => pingDatabase(db.knex), temporal: temporal.ping },
  });
}

const app = useResource(build, (a) => a.close());

describe('health', () => {
  test('live answers without touching dependencies; ready checks the database and Temporal', async () => {
    expect((await app.inject({ url: '/health/live' })).statusCode).toBe(200);
    const ready = await app.inject({ url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({
      status: 'ready',
      checks: { database: { status: 'up' }, temporal: { status: 'up' } },
    });
    const health = await app.inject({ url: '/health' });
    expect(health.json()).toMatchObject({ status: 'healthy', version: 'test' });
  });

  test('an unreachable Temporal makes readiness 503 and names the failing check', async () => {
    const unreachable = connectTemporalClient({ ...w.config.temporal, address: '127.0.0.1:1' });
    const broken = await build({ database: () => pingDatabase(db.knex), temporal: unreachable.ping });
    try {
      const ready = await broken.inject({ url: '/health/ready' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toMatchObject({
        status: 'not_ready',
        checks: { database: { status: 'up' }, temporal: { status: 'down' } },
      });
      // The public probe names what is down; the error text (addresses, internals) stays in the log.
      expect(ready.body).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|deadline/i);
      // Liveness stays green: restarting the API would not bring Temporal back.
      expect((await broken.inject({ url: '/health/live' })).statusCode).toBe(200);
    } finally {
      await broken.close();
      await unreachable.close();
    }
  });
});

describe('authentication', () => {
  test.each([
    ['POST', '/api/events/send-order-confirmation-sms'],
    ['POST', '/api/internal/consent'],
    ['GET', '/api/history'],
    ['GET', '/api/consent/777001/%2B14155550161/history'],
    ['GET', '/api/orders/6f1c2b8e-9d7a-4c55-8a43-3f0e2d1c9b7a'],
  ] as const)('%s %s refuses a missing or wrong bearer token', async (method, url) => {
    const missing = await app.inject({ method, url, payload: method === 'POST' ? {} : undefined });
    expect(missing.statusCode).toBe(401);
    expect(missing.json()).toMatchObject({ error: 'Unauthorized' });
    const wrong = await app.inject({
      method,
      url,
      headers: { authorization: 'Bearer not-the-token' },
      payload: method === 'POST' ? {} : undefined,
    });
    expect(wrong.statusCode).toBe(401);
  });
});

describe('event ingress', () => {
  test('an invalid event is a 400 naming every field in error, and starts nothing', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/events/send-order-confirmation-sms',
      headers: auth,
      payload: {
        ...sampleEvent(),
        OrderId: 'not-a-guid',
        PhoneNumber: '12',
        TicketCount: -1,
        CustomerName: undefined,
      },
    });
    expect(res.statusCode).toBe(400);
    const body = res.json<{ error: string; fields: Array<{ field: string }> }>();
    expect(body.error).toBe('ValidationError');
    expect(body.fields.map((f) => f.field).sort()).toEqual([
      'CustomerName',
      'OrderId',
      'PhoneNumber',
      'TicketCount',
    ]);
  });

  test('a body that is not JSON is a 400', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/events/send-order-confirmation-sms',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{"OrderId": ',
    });
    expect(res.statusCode).toBe(400);
  });

  test('a valid event starts one workflow; the same OrderId again answers started=false', async () => {
    const event = sampleEvent({ PhoneNumber: '+14155550150' });
    const post = () =>
      app.inject({
        method: 'POST',
        url: '/api/events/send-order-confirmation-sms',
        headers: { ...auth, 'x-correlation-id': 'corr-api-1' },
        payload: event,
      });
    const first = await post();
    expect(first.statusCode).toBe(202);
    expect(first.json()).toEqual({
      workflowId: `order-sms-${String(event.OrderId)}`,
      started: true,
      correlationId: 'corr-api-1',
    });
    expect((await post()).json()).toMatchObject({ started: false });

    // No consent was recorded for this customer: the order completes as skipped, visible through the API.
    const order = await waitFor(
      async () => {
        const res = await app.inject({ url: `/api/orders/${String(event.OrderId)}`, headers: auth });
        const body = res.json<{ workflowStatus: string; history: unknown[] }>();
        return res.statusCode === 200 && body.workflowStatus === 'COMPLETED' && body.history.length === 1
          ? body
          : undefined;
      },
      { description: 'the order workflow completed' },
    );
    expect(order).toMatchObject({
      orderId: event.OrderId,
      outcome: 'skipped_no_consent',
      history: [{ status: 'skipped_no_consent', correlationId: 'corr-api-1' }],
    });
  });

  test('Temporal unreachable: the ingress answers 503 within its deadline, so the caller retries', async () => {
    const unreachable = connectTemporalClient({ ...w.config.temporal, address: '127.0.0.1:1' });
    const offline = await build(undefined, unreachable.client);
    try {
      const res = await offline.inject({
        method: 'POST',
        url: '/api/events/send-order-confirmation-sms',
        headers: auth,
        payload: sampleEvent(),
      });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ error: 'ServiceUnavailable' });
    } finally {
      await offline.close();
      await unreachable.close();
    }
  }, 30_000);

  test('without x-correlation-id the correlation id is a fresh request id, unique per request', async () => {
    const ids = await Promise.all(
      [0, 1].map(async () => {
        const res = await app.inject({
          method: 'POST',
          url: '/api/events/send-order-confirmation-sms',
          headers: auth,
          payload: sampleEvent(),
        });
        expect(res.statusCode).toBe(202);
        return res.json<{ correlationId: string }>().correlationId;
      }),
    );
    for (const id of ids) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(ids[0]).not.toBe(ids[1]);
  });

  test('an unknown order is a 404; a malformed order id a 400', async () => {
    expect(
      (await app.inject({ url: '/api/orders/0b9d8c1e-0000-4000-8000-000000000000', headers: auth }))
        .statusCode,
    ).toBe(404);
    expect((await app.inject({ url: '/api/orders/nope', headers: auth })).statusCode).toBe(400);
  });
});

describe('consent', () => {
  const venueId = 777_001;

  test('an internal change is durable in Temporal on 202 and readable once the consent workflow applied it', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/internal/consent',
      headers: auth,
      payload: {
        venueId,
        phoneNumber: '(415) 555-0161',
        status: 'opted_in',
        source: 'checkout',
        occurredAt: new Date(Date.now() - 60_000).toISOString(),
      },
    });
    expect(res.statusCode).toBe(202);
    // The entity's id is a keyed hash: no phone in it (docs/adr/0010-payload-codec-and-ids.md).
    expect(res.json()).toEqual({
      accepted: true,
      workflowId: consentWorkflowId(venueId, '+14155550161', w.config.temporal.workflowIdHashKey),
    });
    expect(res.json().workflowId).toMatch(/^consent-\d+-[0-9a-f]{32}$/);

    const consent = await waitFor(
      async () => {
        const got = await app.inject({ url: `/api/consent/${venueId}/%2B14155550161`, headers: auth });
        return got.statusCode === 200 ? got.json() : undefined;
      },
      { description: 'consent readable' },
    );
    expect(consent).toMatchObject({
      venueId,
      phoneNumber: '+14155550161',
      consentStatus: 'opted_in',
      source: 'checkout',
      updatedAt: expect.any(String),
    });
  });

  test('an unknown phone at the venue is a 404, a bad phone a 400, no token a 401', async () => {
    const unknown = await app.inject({ url: `/api/consent/${venueId}/%2B14155550199`, headers: auth });
    expect(unknown.statusCode).toBe(404);
    expect((await app.inject({ url: `/api/consent/${venueId}/%2B14155550161` })).statusCode).toBe(401);
    const bad = await app.inject({ url: `/api/consent/${venueId}/12345`, headers: auth });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: 'ValidationError', fields: [{ field: 'phone' }] });
  });

  test.each([
    ['a leap second', { occurredAt: '2026-12-31T23:59:60Z' }, 'occurredAt'],
    [
      'an instant in the future',
      { occurredAt: new Date(Date.now() + 3_600_000).toISOString() },
      'occurredAt',
    ],
    ['a venue beyond int32', { venueId: 2_147_483_648 }, 'venueId'],
  ])('%s is refused before it is acknowledged', async (_, override, field) => {
    const phoneNumber = '+14155550162';
    const res = await app.inject({
      method: 'POST',
      url: '/api/internal/consent',
      headers: auth,
      payload: { venueId, phoneNumber, status: 'opted_out', source: 'support_request', ...override },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().fields).toEqual([expect.objectContaining({ field })]);
    const venue = (override as { venueId?: number }).venueId ?? venueId;
    expect(
      await workflowStarted(
        temporal.client,
        consentWorkflowId(venue, phoneNumber, w.config.temporal.workflowIdHashKey),
      ),
    ).toBe(false);
  });

  test('an opt-in with neither occurredAt nor an Idempotency-Key is refused: a retry of it could undo a STOP', async () => {
    const phoneNumber = '+14155550163';
    const res = await app.inject({
      method: 'POST',
      url: '/api/internal/consent',
      headers: auth,
      payload: { venueId, phoneNumber, status: 'opted_in', source: 'checkout' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().fields).toEqual([expect.objectContaining({ field: 'occurredAt' })]);
    expect(
      await workflowStarted(
        temporal.client,
        consentWorkflowId(venueId, phoneNumber, w.config.temporal.workflowIdHashKey),
      ),
    ).toBe(false);
  });

  test("an outbox retrying an opt-in after the customer's STOP (same Idempotency-Key) changes nothing", async () => {
    const phoneNumber = '+14155550164';
    const post = (status: 'opted_in' | 'opted_out', key: string) =>
      app.inject({
        method: 'POST',
        url: '/api/internal/consent',
        headers: { ...auth, 'idempotency-key': key },
        payload: { venueId, phoneNumber, status, source: 'account_settings' },
      });
    const statusNow = async () =>
      (await app.inject({ url: `/api/consent/${venueId}/%2B14155550164`, headers: auth })).json()
        .consentStatus as string | undefined;
    expect((await post('opted_in', 'outbox-1')).statusCode).toBe(202);
    await waitFor(async () => (await statusNow()) === 'opted_in', { description: 'opted in' });
    expect((await post('opted_out', 'outbox-2')).statusCode).toBe(202);
    await waitFor(async () => (await statusNow()) === 'opted_out', { description: 'opted out' });

    expect((await post('opted_in', 'outbox-1')).statusCode).toBe(202);
    const trail = await waitFor(
      async () => {
        const page = await w.repos.consent.changes(venueId, phoneNumber, { limit: 10 });
        return page.items.length === 3 ? page.items : undefined;
      },
      { description: 'the retry handled' },
    );
    expect(trail[0]).toMatchObject({
      status: 'opted_in',
      outcome: 'duplicate',
      providerMessageId: 'api:outbox-1',
    });
    expect(await statusNow()).toBe('opted_out');
  });

  test('a change body with every field wrong lists every field', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/internal/consent',
      headers: auth,
      payload: { venueId: 'x', status: 'maybe', source: 'carrier-pigeon', extra: 1 },
    });
    expect(res.statusCode).toBe(400);
    const fields = res.json<{ fields: Array<{ field: string }> }>().fields.map((f) => f.field);
    expect(fields).toEqual(expect.arrayContaining(['venueId', 'phoneNumber', 'status', 'source', 'extra']));
  });
});

describe('consent history', () => {
  const venueId = 777_002;
  type Page = {
    venueId: number;
    phoneNumber: string;
    items: Array<{ outcome: string; status: string; correlationId: string | null; occurredAt: string }>;
    nextBefore: string | null;
  };
  const history = (phone: string, query = '') =>
    app.inject({ url: `/api/consent/${venueId}/${phone}/history${query}`, headers: auth });

  test('changes posted to the API are listed once the consent workflow handled them', async () => {
    const post = (status: 'opted_in' | 'opted_out', occurredAt: string, correlationId: string) =>
      app.inject({
        method: 'POST',
        url: '/api/internal/consent',
        headers: { ...auth, 'x-request-id': correlationId },
        payload: { venueId, phoneNumber: '+14155550181', status, source: 'support_request', occurredAt },
      });
    expect((await post('opted_in', '2026-11-01T10:00:00.000Z', 'corr-h-1')).statusCode).toBe(202);
    expect((await post('opted_out', '2026-11-02T10:00:00.000Z', 'corr-h-2')).statusCode).toBe(202);
    const page = await waitFor(
      async () => {
        const res = await history('%2B14155550181');
        return res.statusCode === 200 && res.json<Page>().items.length === 2 ? res.json<Page>() : undefined;
      },
      { description: 'two audit rows' },
    );
    expect(page).toMatchObject({
      venueId,
      phoneNumber: '+14155550181',
      nextBefore: null,
      items: [
        {
          status: 'opted_out',
          source: 'support_request',
          outcome: 'applied',
          occurredAt: '2026-11-02T10:00:00.000Z',
          receivedAt: expect.any(String),
          correlationId: 'corr-h-2',
          changeId: expect.stringMatching(/^consent-777002-.+\/.+\/\d+$/),
          provider: null,
          providerMessageId: null,
        },
        { status: 'opted_in', outcome: 'applied', correlationId: 'corr-h-1' },
      ],
    });
  });

  test('applied, duplicate and stale are listed newest first, paged with the before cursor', async () => {
    const phone = '+14155550182';
    const change = (status: 'opted_in' | 'opted_out', occurredAt: string, correlationId: string) => ({
      venueId,
      phoneNumber: phone,
      status,
      source: 'provider_webhook' as const,
      provider: 'plivo' as const,
      occurredAt: new Date(occurredAt),
      correlationId,
    });
    await w.repos.consent.applyChange(change('opted_in', '2026-11-01T00:00:00Z', 'a'));
    await w.repos.consent.applyChange({
      ...change('opted_out', '2026-11-03T00:00:00Z', 'b'),
      providerMessageId: 'MSG-1',
    });
    await w.repos.consent.applyChange({
      ...change('opted_out', '2026-11-03T00:00:00Z', 'c'),
      providerMessageId: 'MSG-1',
    });
    await w.repos.consent.applyChange(change('opted_in', '2026-11-02T00:00:00Z', 'd'));

    const pages: Page[] = [];
    let query = '?limit=3';
    for (;;) {
      const res = await history('%2B14155550182', query);
      expect(res.statusCode).toBe(200);
      const page = res.json<Page>();
      pages.push(page);
      if (!page.nextBefore) break;
      query = `?limit=3&before=${page.nextBefore}`;
    }
    expect(pages.map((p) => p.items.map((i) => [i.correlationId, i.outcome]))).toEqual([
      [
        ['c', 'duplicate'],
        ['b', 'applied'],
        ['d', 'stale'],
      ],
      [['a', 'applied']],
    ]);
    expect(pages[0].items[0]).toMatchObject({ provider: 'plivo', providerMessageId: 'MSG-1' });
  });

  test('a bad phone, limit or cursor is a 400; a phone with nothing recorded a 404', async () => {
    const badPhone = await history('12345');
    expect(badPhone.statusCode).toBe(400);
    expect(badPhone.json()).toMatchObject({ error: 'ValidationError', fields: [{ field: 'phone' }] });
    const badLimit = await history('%2B14155550182', '?limit=201');
    expect(badLimit.statusCode).toBe(400);
    const badCursor = await history('%2B14155550182', '?before=not-a-cursor');
    expect(badCursor.statusCode).toBe(400);
    expect(badCursor.json()).toMatchObject({ fields: [{ field: 'before' }] });
    expect((await history('%2B14155550199')).statusCode).toBe(404);
  });

  test('a consent row older than the audit trail answers 200 with no items, not 404', async () => {
    const now = new Date();
    await db.knex('SmsConsent').insert({
      VenueID: venueId,
      PhoneNumber: '+14155550183',
      StatusID: 1,
      ConsentSourceID: 1,
      LastChangeAt: now,
      CreatedAt: now,
      UpdatedAt: now,
    });
    const res = await history('%2B14155550183');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ venueId, phoneNumber: '+14155550183', items: [], nextBefore: null });
  });
});

describe('history', () => {
  test('filters by venue, phone and status, newest first, with pagination', async () => {
    const venueId = 888_001;
    for (let i = 0; i < 3; i++) {
      await w.repos.history.record({
        idempotencyKey: `history-test-${i}`,
        orderId: `00000000-0000-4000-8000-00000000000${i}`,
        orderNumber: `H-${i}`,
        venueId,
        venuePhoneNumberId: null,
        customerId: '00000000-0000-4000-8000-0000000000aa',
        customerPhoneNumber: i === 2 ? '+14155550172' : '+14155550171',
        message: `message ${i}`,
        provider: 'simulator',
        status: i === 1 ? 'failed' : 'sent',
        providerMessageId: null,
        errorCode: null,
        errorMessage: null,
        correlationId: null,
      });
    }
    const get = async (query: string) => {
      const res = await app.inject({ url: `/api/history?venueId=${venueId}&${query}`, headers: auth });
      expect(res.statusCode).toBe(200);
      return res.json<{
        items: Array<{ orderNumber: string }>;
        total: number;
        page: number;
        pageSize: number;
      }>();
    };
    expect((await get('')).items.map((i) => i.orderNumber)).toEqual(['H-2', 'H-1', 'H-0']);
    expect((await get('status=sent')).total).toBe(2);
    expect((await get('phoneNumber=%2B14155550172')).items.map((i) => i.orderNumber)).toEqual(['H-2']);
    const page2 = await get('pageSize=2&page=2');
    expect(page2).toMatchObject({ total: 3, page: 2, pageSize: 2, items: [{ orderNumber: 'H-0' }] });

    const bad = await app.inject({ url: '/api/history?status=lost&page=0', headers: auth });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ fields: unknown[] }>().fields).toHaveLength(2);
  });
});

test('the OpenAPI document at /docs/json describes every route and the bearer scheme', async () => {
  const doc = (await app.inject({ url: '/docs/json' })).json<{
    paths: Record<string, unknown>;
    components: unknown;
  }>();
  expect(Object.keys(doc.paths)).toEqual(
    expect.arrayContaining([
      '/health',
      '/health/live',
      '/health/ready',
      '/api/consent/{venueId}/{phone}',
      '/api/consent/{venueId}/{phone}/history',
      '/api/internal/consent',
      '/api/events/send-order-confirmation-sms',
      '/api/orders/{orderId}',
      '/api/history',
    ]),
  );
  expect(doc.components).toMatchObject({
    securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } },
  });
});
