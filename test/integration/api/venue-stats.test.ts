import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../../config';
import { createRepositories, type Repositories } from '../../../db';
import type { DeliveryStatus } from '../../../domain/delivery-status';
import { DELIVERY_STATUSES } from '../../../domain/delivery-status';
import { HISTORY_STATUSES, type HistoryStatus, type ProviderName } from '../../../domain/enums';
import { createMetrics } from '../../../runtime/metrics';
import { useTestApi } from '../../support/api';
import { historyEntry, useTestDatabase } from '../../support/db';
import { uniqueTaskQueue, useTestClient } from '../../support/temporal';

const TOKEN = 'venue-stats-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
const VENUE = 940_001;
const OTHER_VENUE = 940_002;
const FROM = new Date('2026-11-01T00:00:00.000Z');
const TO = new Date('2026-11-08T00:00:00.000Z');

const db = useTestDatabase();
const temporal = useTestClient();
let repos: Repositories;

interface Spec {
  venueId: number;
  status: HistoryStatus;
  provider: ProviderName;
  createdAt: Date;
  delivery?: DeliveryStatus;
}

/** Writes one history row the way the order workflow does, then dates it and gives it its callback. */
async function write(spec: Spec, i: number): Promise<void> {
  const providerMessageId = spec.status === 'sent' ? `SM-stats-${i}-${randomUUID()}` : null;
  const { record } = await repos.history.record(
    historyEntry({
      venueId: spec.venueId,
      customerPhoneNumber: '+14155550401',
      message: 'Your tickets are confirmed.',
      provider: spec.provider,
      status: spec.status,
      providerMessageId,
      errorCode: spec.status === 'failed' ? '21211' : null,
    }),
  );
  if (spec.delivery && providerMessageId) {
    await repos.history.updateDeliveryStatus({
      provider: spec.provider,
      providerMessageId,
      status: spec.delivery,
      errorCode: spec.delivery === 'undelivered' ? '30005' : null,
    });
  }
  await db.knex('SmsSendHistory').where({ ID: record.id }).update({ CreatedAt: spec.createdAt });
}

const at = (hours: number) => new Date(FROM.getTime() + hours * 3_600_000);

/** Inside the window: the first instant counts, the window's end does not. */
const inside: Spec[] = [
  { venueId: VENUE, status: 'sent', provider: 'twilio', createdAt: FROM, delivery: 'delivered' },
  { venueId: VENUE, status: 'sent', provider: 'twilio', createdAt: at(1), delivery: 'delivered' },
  { venueId: VENUE, status: 'sent', provider: 'twilio', createdAt: at(2), delivery: 'undelivered' },
  { venueId: VENUE, status: 'sent', provider: 'twilio', createdAt: at(3) },
  { venueId: VENUE, status: 'sent', provider: 'plivo', createdAt: at(4), delivery: 'queued' },
  { venueId: VENUE, status: 'sent', provider: 'plivo', createdAt: at(5), delivery: 'delivered' },
  { venueId: VENUE, status: 'failed', provider: 'twilio', createdAt: at(6) },
  { venueId: VENUE, status: 'blocked_opted_out', provider: 'twilio', createdAt: at(7) },
  { venueId: VENUE, status: 'skipped_no_consent', provider: 'plivo', createdAt: at(8) },
  { venueId: VENUE, status: 'duplicate', provider: 'simulator', createdAt: at(9) },
  { venueId: VENUE, status: 'expired', provider: 'simulator', createdAt: at(24 * 7 - 0.001) },
];
const outside: Spec[] = [
  { venueId: VENUE, status: 'sent', provider: 'twilio', createdAt: TO, delivery: 'delivered' },
  { venueId: VENUE, status: 'failed', provider: 'twilio', createdAt: new Date(FROM.getTime() - 1) },
  { venueId: OTHER_VENUE, status: 'sent', provider: 'twilio', createdAt: at(1), delivery: 'delivered' },
];

/** The expected answer, counted from the specs independently of the route's folding. */
function expected(specs: Spec[]) {
  const count = (filter: (s: Spec) => boolean) => specs.filter(filter).length;
  const breakdown = (subset: Spec[]) => ({
    total: subset.length,
    byOutcome: Object.fromEntries(
      HISTORY_STATUSES.map((o) => [o, subset.filter((s) => s.status === o).length]),
    ),
    byDeliveryStatus: Object.fromEntries(
      [...DELIVERY_STATUSES, 'none'].map((d) => [
        d,
        subset.filter((s) => s.status === 'sent' && (s.delivery ?? 'none') === d).length,
      ]),
    ),
  });
  const providers = [...new Set(specs.map((s) => s.provider))];
  const final = count((s) => ['delivered', 'undelivered', 'failed'].includes(s.delivery ?? ''));
  return {
    ...breakdown(specs),
    deliveryRate: count((s) => s.delivery === 'delivered') / final,
    byProvider: Object.fromEntries(
      providers.map((p) => [p, breakdown(specs.filter((s) => s.provider === p))]),
    ),
  };
}

const app = useTestApi(() => {
  const config = loadConfig({ NODE_ENV: 'test' });
  return {
    token: TOKEN,
    logName: 'venue-stats-test',
    config: { sms: config.sms },
    repos: createRepositories(db.knex),
    temporal: {
      client: temporal.client,
      taskQueue: uniqueTaskQueue('venue-stats'),
      workflowIdHashKey: config.temporal.workflowIdHashKey,
    },
    metrics: createMetrics(),
  };
});

beforeAll(async () => {
  repos = createRepositories(db.knex);
  let i = 0;
  for (const spec of [...inside, ...outside]) await write(spec, i++);
});

const stats = (query: string, venueId = VENUE, headers: Record<string, string> = auth) =>
  app.inject({ url: `/api/venues/${venueId}/stats${query}`, headers });

test('counts by outcome, delivery status and provider match the history rows written in the window', async () => {
  const res = await stats(`?from=${FROM.toISOString()}&to=${TO.toISOString()}`);
  expect(res.statusCode).toBe(200);
  const body = res.json();
  expect(body).toEqual({
    venueId: VENUE,
    from: FROM.toISOString(),
    to: TO.toISOString(),
    ...expected(inside),
  });
  // The figures the specs spell out, so a wrong `expected` cannot hide a wrong route.
  expect(body).toMatchObject({
    total: 11,
    byOutcome: { sent: 6, failed: 1, blocked_opted_out: 1, skipped_no_consent: 1, duplicate: 1, expired: 1 },
    byDeliveryStatus: { delivered: 3, undelivered: 1, queued: 1, none: 1, sent: 0, failed: 0 },
    deliveryRate: 0.75,
  });
  expect(body.byProvider.twilio).toMatchObject({ total: 6, byOutcome: { sent: 4, failed: 1 } });
});

test('an offset instant is read as the instant it names; a window with nothing in it is all zeros', async () => {
  // 2026-11-01T00:00Z written as 20:00 the evening before in New York (EDT, -04:00).
  const res = await stats(
    `?from=2026-10-31T20:00:00-04:00&to=${encodeURIComponent('2026-11-01T00:30:00+00:00')}`,
  );
  expect(res.statusCode).toBe(200);
  expect(res.json()).toMatchObject({
    total: 1,
    byOutcome: { sent: 1 },
    byProvider: { twilio: { total: 1 } },
  });

  const empty = await stats(`?from=2025-01-01T00:00:00Z&to=2025-01-02T00:00:00Z`);
  expect(empty.json()).toMatchObject({ total: 0, deliveryRate: null, byProvider: {} });
  expect(empty.json().byOutcome).toEqual(Object.fromEntries(HISTORY_STATUSES.map((s) => [s, 0])));
});

test('the window is validated: order, span, format; the token is required', async () => {
  const reversed = await stats(`?from=${TO.toISOString()}&to=${FROM.toISOString()}`);
  expect(reversed.statusCode).toBe(400);
  expect(reversed.json().fields).toEqual([{ field: 'from', message: 'must be before to' }]);
  expect((await stats(`?from=${FROM.toISOString()}&to=${FROM.toISOString()}`)).statusCode).toBe(400);

  const tooLong = await stats(`?from=2024-01-01T00:00:00Z&to=2025-01-02T00:00:01Z`);
  expect(tooLong.statusCode).toBe(400);
  expect(tooLong.json().message).toMatch(/366 days/);

  const noOffset = await stats(`?from=2026-11-01T00:00:00&to=2026-11-02T00:00:00Z`);
  expect(noOffset.statusCode).toBe(400);
  expect(noOffset.json().fields.map((f: { field: string }) => f.field)).toContain('from');
  expect((await stats(`?from=yesterday`)).statusCode).toBe(400);
  expect((await stats(`?since=${FROM.toISOString()}`)).statusCode).toBe(400);
  expect((await stats('', 0)).statusCode).toBe(400);

  expect((await stats(`?from=${FROM.toISOString()}&to=${TO.toISOString()}`, VENUE, {})).statusCode).toBe(401);
});

test('without a window: the last 30 days up to now', async () => {
  const res = await stats('');
  expect(res.statusCode).toBe(200);
  const body = res.json();
  expect(Date.parse(body.to) - Date.parse(body.from)).toBe(30 * 86_400_000);
  expect(Math.abs(Date.parse(body.to) - Date.now())).toBeLessThan(60_000);
});
