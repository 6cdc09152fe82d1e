import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { VenueNumberDirectory } from '../../../api/venue-number-directory';
import { WebhookNonces } from '../../../api/webhook-nonces';
import { createLogger } from '../../../config/logger';
import { createRepositories, pingDatabase, type Repositories } from '../../../db';
import { consentWorkflowId, orderWorkflowId } from '../../../temporal/ids';
import { startOrderConfirmation } from '../../../temporal/start-order';
import { buildTestApi } from '../../support/api';
import { useCuttableDatabase } from '../../support/db-outage';
import { useResource } from '../../support/lifecycle';
import { useFake } from '../../support/provider-fakes/fake-server';
import { startTwilioFake, twilioEnv } from '../../support/provider-fakes/twilio-fake';
import { uniqueTaskQueue, waitFor, workflowStarted } from '../../support/temporal';
import * as signing from '../../support/webhook-signing';
import { optIn, startOptedInOrder, startTestWorkers } from '../../support/workers';

/**
 * Issue 18: "a STOP answered 200 wins even while the database is down". The whole database goes
 * away (PostgreSQL behind a TCP proxy; SQLite's file moved aside) for the API and the workers alike,
 * the provider posts signed webhooks to the real API over HTTP, the real consent entities take the
 * changes, and orders started once the database is back must respect them.
 */
const PUBLIC = 'https://sms.example.test';
const PLIVO_TOKEN = 'plivo-auth-token-for-outage-tests';
const PLIVO_VENUE = 940_001;
const PLIVO_NUMBER = '+14155550140';
const taskQueue = uniqueTaskQueue('webhooks-db-outage');
const log = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent', name: 'outage-test' });

const fake = useFake(startTwilioFake);
const cuttable = useCuttableDatabase();
const w = useResource(
  () =>
    startTestWorkers({
      knex: cuttable.knex,
      taskQueue,
      env: { ...twilioEnv(fake), PUBLIC_BASE_URL: PUBLIC },
    }),
  (started) => started.shutdown(),
);
let repos: Repositories;
let directory: VenueNumberDirectory;
let nonces: WebhookNonces;
let base: string;

/** An API replica on the cuttable database; `own` parts for the one the tests reach into. */
async function startApi(own: { directory?: VenueNumberDirectory; nonces?: WebhookNonces } = {}) {
  const api = await buildTestApi({
    token: 'outage-test-token-0123456789',
    logName: 'outage-test',
    publicBaseUrl: PUBLIC,
    workers: w,
    config: {
      twilio: w.config.twilio,
      plivo: { authId: 'MAXXXXXXXXXXXXXXXXXX', authToken: PLIVO_TOKEN },
    },
    repos,
    readinessChecks: { database: () => pingDatabase(cuttable.knex) },
    optionalReadinessChecks: ['database'],
    venueNumberDirectory: own.directory,
    webhookNonces: own.nonces,
  });
  await api.listen({ host: '127.0.0.1', port: 0 });
  return { api, base: `http://127.0.0.1:${(api.server.address() as net.AddressInfo).port}` };
}

/** The API the tests post to, on its own directory and nonce store (which the tests reach into). */
useResource(
  async () => {
    repos = createRepositories(cuttable.knex);
    await repos.venueNumbers.insertActive({
      venueId: PLIVO_VENUE,
      provider: 'plivo',
      phoneNumber: PLIVO_NUMBER,
      providerId: 'plivo-number-1',
    });
    // A reload every 100 ms: the test sees a number bought mid-test reach the directory by the reload.
    directory = new VenueNumberDirectory(repos.venueNumbers, log, { refreshMs: 100 });
    nonces = new WebhookNonces(repos.webhookNonces, log, () => undefined);
    const started = await startApi({ directory, nonces });
    base = started.base;
    return started.api;
  },
  (api) => api.close(),
);

afterEach(async () => {
  await cuttable.restore();
});

function twilioInbound(from: string, to: string, text: string, api = base) {
  const fields = {
    MessageSid: `SM${randomUUID().replace(/-/g, '')}`,
    AccountSid: fake.accountSid,
    From: from,
    To: to,
    Body: text,
    NumMedia: '0',
  };
  return fetch(`${api}/webhooks/twilio`, {
    method: 'POST',
    headers: signing.twilioHeaders(fake.authToken, `${PUBLIC}/webhooks/twilio`, fields),
    body: signing.formBody(fields),
  });
}

interface PlivoRequest {
  headers: Record<string, string>;
  body: string;
}
const digits = (phone: string) => phone.replace(/\D/g, '');
function plivoV2(from: string, text: string): PlivoRequest {
  const fields = {
    From: digits(from),
    To: digits(PLIVO_NUMBER),
    Text: text,
    Type: 'sms',
    MessageUUID: randomUUID(),
  };
  return {
    headers: signing.plivoV2Headers(PLIVO_TOKEN, `${PUBLIC}/webhooks/plivo`),
    body: signing.formBody(fields),
  };
}
const postPlivo = (req: PlivoRequest, to = base) =>
  fetch(`${to}/webhooks/plivo`, { method: 'POST', headers: req.headers, body: req.body });

const entityStarted = (venueId: number, phone: string) =>
  workflowStarted(w.client, consentWorkflowId(venueId, phone, w.config.temporal.workflowIdHashKey));

test('a STOP posted while the database is down is answered 200, and the next order is blocked once it is back', async () => {
  const first = await startOptedInOrder(w, taskQueue, { PhoneNumber: '+14155550130' });
  expect(await w.client.workflow.getHandle(orderWorkflowId(first.orderId)).result()).toMatchObject({
    outcome: 'sent',
  });
  // The venue's number was bought by that order, after the API started: the reload brings it.
  const sender = await repos.venueNumbers.findActive(first.venueId, 'twilio');
  await waitFor(async () => directory.has(sender!.phoneNumber, 'twilio'), {
    description: 'the new number in the directory',
  });

  await cuttable.cut();
  // Ready (webhooks work), the database reported down, /health degraded.
  const ready = await fetch(`${base}/health/ready`);
  expect(ready.status).toBe(200);
  expect(await ready.json()).toMatchObject({
    status: 'ready',
    checks: { database: { status: 'down' }, venueNumbers: { status: 'up' } },
  });
  expect(await (await fetch(`${base}/health`)).json()).toMatchObject({ status: 'degraded' });

  const stop = await twilioInbound(first.phoneNumber, sender!.phoneNumber, 'STOP');
  expect(stop.status).toBe(200);
  await cuttable.restore();

  const next = { ...first, orderId: randomUUID() };
  await startOrderConfirmation(w.client, taskQueue, next, { correlationId: `corr-${next.orderId}` });
  expect(await w.client.workflow.getHandle(orderWorkflowId(next.orderId)).result()).toMatchObject({
    outcome: 'blocked_opted_out',
  });
  expect(fake.messages().filter((m) => m.to === first.phoneNumber)).toHaveLength(1);
  await waitFor(
    async () => (await repos.consent.get(first.venueId, first.phoneNumber))?.status === 'opted_out',
    { description: 'the STOP written once the database is back' },
  );
});

test('a number bought since the last reload, texted while the database is down: 503, nothing signalled', async () => {
  const slow = new VenueNumberDirectory(repos.venueNumbers, log, { refreshMs: 60_000 });
  const replica = await startApi({ directory: slow });
  try {
    await slow.check();
    const venueId = 940_002;
    const bought = '+14155550141';
    await repos.venueNumbers.insertActive({
      venueId,
      provider: 'twilio',
      phoneNumber: bought,
      providerId: 'PN2',
    });
    const customer = '+14155550131';
    await cuttable.cut();
    const res = await twilioInbound(customer, bought, 'STOP', replica.base);
    // Twilio does not redeliver, but a Fallback URL set to the same address gets one more try.
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: 'ServiceUnavailable' });
    expect(await entityStarted(venueId, customer)).toBe(false);
  } finally {
    await replica.api.close();
  }
});

test('Plivo V2 while the database is down: an opt-out is taken, a START or HELP waits, a forgery of what was taken is refused then and after', async () => {
  const customer = '+14155550132';
  const other = '+14155550133';
  const victim = '+14155550134';
  await optIn(repos, { venueId: PLIVO_VENUE, phoneNumber: customer });
  await cuttable.cut();

  const stop = plivoV2(customer, 'STOP');
  expect((await postPlivo(stop)).status).toBe(200);
  // The captured headers on a START for someone else: this replica saw the nonce with another body.
  const forged = {
    ...stop,
    body: stop.body.replace(digits(customer), digits(victim)).replace('Text=STOP', 'Text=START'),
  };
  expect((await postPlivo(forged)).status).toBe(403);
  // Unverifiable and with an effect a forgery could want: the provider retries later.
  expect((await postPlivo(plivoV2(other, 'START'))).status).toBe(503);
  expect((await postPlivo(plivoV2(other, 'HELP'))).status).toBe(503);
  expect((await postPlivo(plivoV2(other, 'See you there'))).status).toBe(200);
  // A delivery report is a database write anyway.
  const report = signing.formBody({ MessageUUID: randomUUID(), Status: 'delivered' });
  const status = await fetch(`${base}/webhooks/plivo/status`, {
    method: 'POST',
    headers: signing.plivoV2Headers(PLIVO_TOKEN, `${PUBLIC}/webhooks/plivo/status`),
    body: report,
  });
  expect(status.status).toBe(503);
  expect(await entityStarted(PLIVO_VENUE, other)).toBe(false);
  expect(await entityStarted(PLIVO_VENUE, victim)).toBe(false);

  await cuttable.restore();
  await waitFor(async () => (await repos.consent.get(PLIVO_VENUE, customer))?.status === 'opted_out', {
    description: 'the STOP applied once the database is back',
  });
  // The nonces seen during the outage are written (on a timer; here at once): another replica,
  // or this one restarted, refuses the forgery too, and the genuine request again changes nothing.
  await nonces.flush();
  expect(nonces.waiting).toBe(0);
  const replica = await startApi();
  try {
    expect((await postPlivo(forged, replica.base)).status).toBe(403);
    expect((await postPlivo(stop, replica.base)).status).toBe(200);
  } finally {
    await replica.api.close();
  }
  expect(await entityStarted(PLIVO_VENUE, victim)).toBe(false);
});
