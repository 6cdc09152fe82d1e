import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { startOrderConfirmation } from '../../../temporal/start-order';
import { signSimulatorWebhook } from '../../../providers/simulator/simulator-webhook';
import { connectTemporalClient } from '../../../temporal/client';
import { consentWorkflowId, orderWorkflowId } from '../../../temporal/ids';
import { postSimulatedReply, venueSimulatorNumber } from '../../../scripts/simulated-reply';
import { freePort } from '../../../scripts/temporal-cli';
import { buildTestApi } from '../../support/api';
import { historyEntry } from '../../support/db';
import { useResource } from '../../support/lifecycle';
import { useFake } from '../../support/provider-fakes/fake-server';
import { startTwilioFake, twilioEnv } from '../../support/provider-fakes/twilio-fake';
import { waitFor, workflowStarted } from '../../support/temporal';
import * as signing from '../../support/webhook-signing';
import { optIn, startOptedInOrder, useTestWorkers } from '../../support/workers';

/**
 * The API behind a proxy that strips a /base prefix: providers call and sign PUBLIC, the app listens
 * on 127.0.0.1:<port>. Workers send through Twilio's real SDK to a local fake, with PUBLIC_BASE_URL set.
 */
const PUBLIC = 'https://sms.example.test/base';
const TOKEN = 'webhooks-test-token-0123456789';
const PLIVO_TOKEN = 'plivo-auth-token-for-webhook-tests';
const SIM_SECRET = 'simulator-secret-for-webhook-tests';
const HELP = 'Tickets R Us order texts. Reply STOP to opt out. Help: help@example.test';

const VENUE_A = 910_001;
const VENUE_B = 910_002;
const NUMBERS = {
  twilioA: '+14155550100',
  twilioB: '+14155550101',
  plivoA: '+14155550102',
  simulatorA: '+16282345678',
};

const fake = useFake(startTwilioFake);
const { w, db, taskQueue } = useTestWorkers('webhooks', {
  env: () => ({ ...twilioEnv(fake), PUBLIC_BASE_URL: PUBLIC }),
});
let direct: string;
let twilioToken: string;

function build(publicBaseUrl: string, client = w.client): Promise<FastifyInstance> {
  return buildTestApi({
    token: TOKEN,
    logName: 'webhooks-test',
    publicBaseUrl,
    workers: w,
    config: {
      sms: { ...w.config.sms, helpText: HELP },
      twilio: w.config.twilio,
      plivo: { authId: 'MAXXXXXXXXXXXXXXXXXX', authToken: PLIVO_TOKEN },
      simulator: { ...w.config.simulator, webhookSecret: SIM_SECRET },
    },
    temporal: { client, taskQueue, workflowIdHashKey: w.config.temporal.workflowIdHashKey },
  });
}

const app = useResource(
  () => build(PUBLIC),
  (a) => a.close(),
);

beforeAll(async () => {
  twilioToken = fake.authToken;
  await app.listen({ host: '127.0.0.1', port: 0 });
  direct = `http://127.0.0.1:${(app.server.address() as net.AddressInfo).port}`;
  const seed = [
    [VENUE_A, 'twilio', NUMBERS.twilioA],
    [VENUE_B, 'twilio', NUMBERS.twilioB],
    [VENUE_A, 'plivo', NUMBERS.plivoA],
    [VENUE_A, 'simulator', NUMBERS.simulatorA],
  ] as const;
  for (const [venueId, provider, phoneNumber] of seed) {
    await w.repos.venueNumbers.insertActive({
      venueId,
      provider,
      phoneNumber,
      providerId: `PN-${phoneNumber}`,
    });
  }
});

let phoneSeq = 20;
/** A fresh customer per test, so consent workflows and rows never overlap. */
const customer = () => `+141555501${String(phoneSeq++).padStart(2, '0')}`;
let idSeq = 0;
const messageId = (prefix = 'SM') =>
  `${prefix}${Date.now().toString(16)}${(idSeq++).toString(16).padStart(8, '0')}`;
const digits = (phone: string) => phone.replace(/\D/g, '');
/** The customer's number with one digit changed (+14155550123 → +14155551123): never another test's customer. */
const victimOf = (phone: string) => phone.replace('5550', '5551');

type Kind = 'twilio' | 'plivo-v3' | 'plivo-v3-json' | 'plivo-v2' | 'simulator';
interface Sms {
  from: string;
  to: string;
  text: string;
  id?: string;
  extra?: Record<string, string>;
}
interface Signed {
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** A webhook exactly as the provider would sign and send it to PUBLIC. */
function signedInbound(kind: Kind, sms: Sms, signAt?: string): Signed {
  const id = sms.id ?? messageId(kind === 'twilio' ? 'SM' : 'uuid-');
  if (kind === 'twilio') {
    const path = '/webhooks/twilio';
    const fields = {
      MessageSid: id,
      AccountSid: fake.accountSid,
      From: sms.from,
      To: sms.to,
      Body: sms.text,
      NumMedia: '0',
      ...sms.extra,
    };
    return {
      path,
      headers: signing.twilioHeaders(twilioToken, signAt ?? `${PUBLIC}${path}`, fields),
      body: signing.formBody(fields),
    };
  }
  if (kind === 'simulator') {
    const path = '/webhooks/simulator';
    const signed = signSimulatorWebhook(SIM_SECRET, signAt ?? `${PUBLIC}${path}`, {
      messageId: id,
      from: sms.from,
      to: sms.to,
      text: sms.text,
    });
    return { path, ...signed };
  }
  const path = '/webhooks/plivo';
  const fields = {
    From: digits(sms.from),
    To: digits(sms.to),
    Text: sms.text,
    Type: 'sms',
    MessageUUID: id,
    ...sms.extra,
  };
  const url = signAt ?? `${PUBLIC}${path}`;
  if (kind === 'plivo-v3-json') {
    // JSON: V3 covers the body's fields as it covers a form's (the SDK's algorithm over the parsed object).
    return {
      path,
      headers: signing.plivoV3Headers(PLIVO_TOKEN, url, fields, 'json'),
      body: JSON.stringify(fields),
    };
  }
  const headers =
    kind === 'plivo-v3'
      ? signing.plivoV3Headers(PLIVO_TOKEN, url, fields)
      : signing.plivoV2Headers(PLIVO_TOKEN, url);
  return { path, headers, body: signing.formBody(fields) };
}

/** Another API replica on the same database and Temporal, sharing no memory with `app`. */
async function onReplica(use: (base: string) => Promise<void>): Promise<void> {
  const replica = await build(PUBLIC);
  try {
    await replica.listen({ host: '127.0.0.1', port: 0 });
    await use(`http://127.0.0.1:${(replica.server.address() as net.AddressInfo).port}`);
  } finally {
    await replica.close();
  }
}

async function post(req: Signed, base = direct): Promise<{ status: number; body: string; type: string }> {
  const res = await fetch(`${base}${req.path}`, { method: 'POST', headers: req.headers, body: req.body });
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') ?? '' };
}

const venueNumber = (kind: Kind, venue: 'A' | 'B' = 'A') =>
  kind === 'twilio'
    ? venue === 'A'
      ? NUMBERS.twilioA
      : NUMBERS.twilioB
    : kind === 'simulator'
      ? NUMBERS.simulatorA
      : NUMBERS.plivoA;

const consent = (venueId: number, phone: string) => w.repos.consent.get(venueId, phone);
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

async function expectNothingFor(phone: string): Promise<void> {
  expect(await db.knex('SmsConsent').where({ PhoneNumber: phone })).toEqual([]);
  for (const venueId of [VENUE_A, VENUE_B]) {
    expect(
      await workflowStarted(w.client, consentWorkflowId(venueId, phone, w.config.temporal.workflowIdHashKey)),
    ).toBe(false);
  }
}

describe('a STOP reaches the consent of that venue only', () => {
  test.each<Kind>(['twilio', 'plivo-v3', 'plivo-v3-json', 'plivo-v2', 'simulator'])(
    'signed as %s',
    async (kind) => {
      const phone = customer();
      await optIn(w.repos, { venueId: VENUE_A, phoneNumber: phone });
      await optIn(w.repos, { venueId: VENUE_B, phoneNumber: phone });
      const req = signedInbound(kind, { from: phone, to: venueNumber(kind), text: 'STOP' });
      const res = await post(req);
      expect(res.status).toBe(200);
      // STOP answers nothing: the carrier sends its own confirmation.
      if (kind === 'twilio') expect(res.body).toBe(EMPTY_TWIML);
      if (kind.startsWith('plivo')) expect(res.body).toBe('<Response/>');

      const stopped = await waitFor(
        async () => {
          const c = await consent(VENUE_A, phone);
          return c?.status === 'opted_out' ? c : undefined;
        },
        { description: `${kind} STOP applied` },
      );
      expect(stopped.source).toBe('provider_webhook');
      expect(stopped.lastProviderMessageId).toBeTruthy();
      expect(await consent(VENUE_B, phone)).toMatchObject({ status: 'opted_in', source: 'checkout' });
      // The audit trail names the provider the customer texted through.
      const trail = await w.repos.consent.changes(VENUE_A, phone, { limit: 5 });
      expect(trail.items[0]).toMatchObject({
        status: 'opted_out',
        outcome: 'applied',
        provider: kind.split('-')[0],
      });
    },
  );

  test("Twilio's OptOutType and Plivo's MessageIntent decide over the text", async () => {
    const phone = customer();
    await post(
      signedInbound('twilio', {
        from: phone,
        to: NUMBERS.twilioA,
        text: 'ARRET',
        extra: { OptOutType: 'STOP' },
      }),
    );
    await post(
      signedInbound('plivo-v3', {
        from: phone,
        to: NUMBERS.plivoA,
        text: 'BAJA',
        extra: { MessageIntent: 'optout' },
      }),
    );
    await waitFor(async () => (await consent(VENUE_A, phone))?.status === 'opted_out', {
      description: 'provider intent applied',
    });
  });
});

describe('ordering and duplicates', () => {
  const lastApplied = (phone: string, id: string) =>
    waitFor(
      async () => {
        const c = await consent(VENUE_A, phone);
        return c?.lastProviderMessageId === id ? c : undefined;
      },
      { description: `change ${id} applied` },
    );

  test('the same webhook delivered again, even after a START, changes nothing', async () => {
    const phone = customer();
    const stop = signedInbound('twilio', { from: phone, to: NUMBERS.twilioA, text: 'STOP', id: messageId() });
    expect((await post(stop)).status).toBe(200);
    const first = await waitFor(
      async () => {
        const c = await consent(VENUE_A, phone);
        return c?.status === 'opted_out' ? c : undefined;
      },
      { description: 'first STOP applied' },
    );
    expect((await post(stop)).status).toBe(200); // Twilio retrying

    const startId = messageId();
    await post(signedInbound('twilio', { from: phone, to: NUMBERS.twilioA, text: 'START', id: startId }));
    await lastApplied(phone, startId);

    // The STOP delivered a third time, after the START: still the same message, still no change. A
    // later marker (HELP changes nothing, so a START) shows every earlier signal was handled.
    expect((await post(stop)).status).toBe(200);
    const markerId = messageId();
    await post(signedInbound('twilio', { from: phone, to: NUMBERS.twilioA, text: 'YES', id: markerId }));
    const final = await lastApplied(phone, markerId);
    expect(final.status).toBe('opted_in');
    // Had a duplicate been applied, OptedOutAt would have moved to its (later) received time.
    expect(final.optedOutAt).toEqual(first.optedOutAt);
  });

  test('STOP then START 50 ms apart: both applied, in order, ending opted in', async () => {
    const phone = customer();
    await optIn(w.repos, { venueId: VENUE_A, phoneNumber: phone });
    expect(
      (await post(signedInbound('plivo-v3', { from: phone, to: NUMBERS.plivoA, text: 'stop' }))).status,
    ).toBe(200);
    await sleep(50); // the scenario: the customer changes their mind right away
    const startId = messageId('uuid-');
    expect(
      (await post(signedInbound('plivo-v3', { from: phone, to: NUMBERS.plivoA, text: 'START', id: startId })))
        .status,
    ).toBe(200);
    const final = await lastApplied(phone, startId);
    expect(final).toMatchObject({ status: 'opted_in', source: 'provider_webhook' });
    expect(final.optedOutAt).not.toBeNull();
    expect(final.optedInAt!.getTime()).toBeGreaterThan(final.optedOutAt!.getTime());
  });
});

describe('a webhook that fails its signature: 403, nothing written, nothing signalled', () => {
  const wrongSecret = (kind: Kind, sms: Sms): Signed => {
    const req = signedInbound(kind, sms);
    const headers = { ...req.headers };
    if (kind === 'twilio')
      headers['x-twilio-signature'] = signing.twilioSignature(
        'not-the-token',
        `${PUBLIC}${req.path}`,
        Object.fromEntries(new URLSearchParams(req.body)),
      );
    if (kind === 'plivo-v3' || kind === 'plivo-v3-json')
      headers['x-plivo-signature-v3'] = 'AAAA' + headers['x-plivo-signature-v3'].slice(4);
    if (kind === 'plivo-v2')
      headers['x-plivo-signature-v2'] = signing.plivoV2Signature(
        'not-the-token',
        `${PUBLIC}${req.path}`,
        headers['x-plivo-signature-v2-nonce'],
      );
    if (kind === 'simulator')
      return {
        ...signedInbound(kind, sms),
        headers: signSimulatorWebhook('not-the-secret-0123456', `${PUBLIC}${req.path}`, JSON.parse(req.body))
          .headers,
      };
    return { ...req, headers };
  };
  const missing = (kind: Kind, sms: Sms): Signed => {
    const req = signedInbound(kind, sms);
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !/signature/.test(k)));
    return { ...req, headers };
  };
  /** Signed for the address the app sees (as a proxy would forward it), not the public URL. */
  const anotherUrl = (kind: Kind, sms: Sms): Signed =>
    signedInbound(kind, sms, `${direct}/webhooks/${kind.split('-')[0]}`);
  /** One byte of the body changed after signing: a digit of the sender, i.e. someone else's number. */
  const bodyChanged = (kind: Kind, sms: Sms): Signed => {
    const req = signedInbound(kind, sms);
    const encode = (p: string) =>
      kind === 'twilio' ? encodeURIComponent(p) : kind === 'simulator' ? p : digits(p);
    expect(req.body).toContain(encode(sms.from));
    return { ...req, body: req.body.replace(encode(sms.from), encode(victimOf(sms.from))) };
  };

  const cases: Array<[string, Kind, (kind: Kind, sms: Sms) => Signed]> = [];
  for (const kind of ['twilio', 'plivo-v3', 'plivo-v3-json', 'plivo-v2', 'simulator'] as const) {
    cases.push([`${kind}: wrong signature`, kind, wrongSecret]);
    cases.push([`${kind}: missing signature header`, kind, missing]);
    cases.push([`${kind}: signed for another URL`, kind, anotherUrl]);
    // Plivo V2 does not sign the body: its case is the replay below.
    if (kind !== 'plivo-v2') cases.push([`${kind}: one body byte changed`, kind, bodyChanged]);
  }

  test.each(cases)('%s', async (_name, kind, make) => {
    const phone = customer();
    const res = await post(make(kind, { from: phone, to: venueNumber(kind), text: 'STOP' }));
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toMatchObject({ error: 'Forbidden' });
    await expectNothingFor(phone);
    await expectNothingFor(victimOf(phone));
  });

  test('plivo V2: a genuine signature replayed with another body (another sender) is refused', async () => {
    const genuine = customer();
    const victim = customer();
    const req = signedInbound('plivo-v2', { from: genuine, to: NUMBERS.plivoA, text: 'STOP' });
    expect((await post(req)).status).toBe(200);
    const forged = { ...req, body: req.body.replace(digits(genuine), digits(victim)) };
    expect(forged.body).not.toBe(req.body);
    expect((await post(forged)).status).toBe(403);
    await expectNothingFor(victim);
  });

  test('plivo V2: the same signature replayed with another body on another replica, or after a restart, is refused', async () => {
    const genuine = customer();
    const victim = customer();
    await optIn(w.repos, { venueId: VENUE_A, phoneNumber: genuine });
    const req = signedInbound('plivo-v2', { from: genuine, to: NUMBERS.plivoA, text: 'STOP' });
    expect((await post(req)).status).toBe(200);
    // A START for someone else under the captured headers: it would re-subscribe them.
    const forged = {
      ...req,
      body: req.body.replace(digits(genuine), digits(victim)).replace('Text=STOP', 'Text=START'),
    };
    expect(forged.body).toContain('Text=START');

    await onReplica(async (replica) => expect((await post(forged, replica)).status).toBe(403));
    // Restarted: the same again on a process that starts empty.
    await onReplica(async (restarted) => expect((await post(forged, restarted)).status).toBe(403));
    await expectNothingFor(victim);
  });

  test('plivo V2: the same request again (a provider retry) is a 200 without a second effect, even after the customer changed their mind and their consent entity ended', async () => {
    const phone = customer();
    const start = signedInbound('plivo-v2', { from: phone, to: NUMBERS.plivoA, text: 'START' });
    expect((await post(start)).status).toBe(200);
    await waitFor(async () => (await consent(VENUE_A, phone))?.status === 'opted_in', {
      description: 'START applied',
    });
    const stopId = messageId('uuid-');
    await post(signedInbound('plivo-v2', { from: phone, to: NUMBERS.plivoA, text: 'STOP', id: stopId }));
    await waitFor(async () => (await consent(VENUE_A, phone))?.lastProviderMessageId === stopId, {
      description: 'STOP applied',
    });
    // The entity completes after 10 idle minutes, forgetting the message ids it saw; end it now.
    await w.client.workflow
      .getHandle(consentWorkflowId(VENUE_A, phone, w.config.temporal.workflowIdHashKey))
      .terminate('stands in for the idle timeout');

    await onReplica(async (replica) =>
      expect(await post(start, replica)).toMatchObject({ status: 200, body: '<Response/>' }),
    );
    // The 200 comes after a signal is durable: had the START been signalled again, signalWithStart
    // would have started a fresh run, which would apply it over the STOP.
    const entity = w.client.workflow.getHandle(
      consentWorkflowId(VENUE_A, phone, w.config.temporal.workflowIdHashKey),
    );
    expect((await entity.describe()).status.name).toBe('TERMINATED');
    expect(await consent(VENUE_A, phone)).toMatchObject({
      status: 'opted_out',
      lastProviderMessageId: stopId,
    });
  });

  test('a status callback with a bad signature is refused and changes no row', async () => {
    const row = await recordSent('twilio', messageId());
    const fields = { MessageSid: row.providerMessageId!, MessageStatus: 'delivered' };
    const res = await post({
      path: '/webhooks/twilio/status',
      headers: signing.twilioHeaders('not-the-token', `${PUBLIC}/webhooks/twilio/status`, fields),
      body: signing.formBody(fields),
    });
    expect(res.status).toBe(403);
    expect((await w.repos.history.findByOrderId(row.orderId))[0].deliveryStatus).toBeNull();
  });
});

describe('answers that change no consent', () => {
  test('HELP answers the configured help text (TwiML / Plivo XML / JSON); nothing written', async () => {
    const phone = customer();
    const twilio = await post(signedInbound('twilio', { from: phone, to: NUMBERS.twilioA, text: 'Help?' }));
    expect(twilio).toMatchObject({ status: 200, type: expect.stringMatching(/^text\/xml/) });
    expect(twilio.body).toBe(
      `<?xml version="1.0" encoding="UTF-8"?><Response><Message>${HELP}</Message></Response>`,
    );
    const plivo = await post(signedInbound('plivo-v2', { from: phone, to: NUMBERS.plivoA, text: 'INFO' }));
    expect(plivo.body).toBe(
      `<Response><Message src="${digits(NUMBERS.plivoA)}" dst="${digits(phone)}" type="sms">${HELP}</Message></Response>`,
    );
    const sim = await post(signedInbound('simulator', { from: phone, to: NUMBERS.simulatorA, text: 'help' }));
    expect(JSON.parse(sim.body)).toEqual({ reply: HELP });
    await expectNothingFor(phone);
  });

  test('an ordinary text gets an empty answer and changes nothing', async () => {
    const phone = customer();
    const res = await post(
      signedInbound('twilio', { from: phone, to: NUMBERS.twilioA, text: 'What time do doors open?' }),
    );
    expect(res).toMatchObject({ status: 200, body: EMPTY_TWIML });
    await expectNothingFor(phone);
  });

  test('a To number that is no venue number at that provider: 200 (no retries), nothing written', async () => {
    const phone = customer();
    const unknown = await post(signedInbound('twilio', { from: phone, to: '+14155550177', text: 'STOP' }));
    expect(unknown).toMatchObject({ status: 200, body: EMPTY_TWIML });
    // Venue A's Plivo number, but posted by Twilio: another line, not this venue's.
    const otherProvider = await post(
      signedInbound('twilio', { from: phone, to: NUMBERS.plivoA, text: 'STOP' }),
    );
    expect(otherProvider.status).toBe(200);
    await expectNothingFor(phone);
  });

  test('Temporal unreachable: 503 so the provider retries', async () => {
    const unreachable = connectTemporalClient({ ...w.config.temporal, address: '127.0.0.1:1' });
    const offline = await build(PUBLIC, unreachable.client);
    try {
      const req = signedInbound('twilio', { from: customer(), to: NUMBERS.twilioA, text: 'STOP' });
      const res = await offline.inject({
        method: 'POST',
        url: req.path,
        headers: req.headers,
        payload: req.body,
      });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ error: 'ServiceUnavailable' });
    } finally {
      await offline.close();
      await unreachable.close();
    }
  }, 30_000);

  test('a body that is not form-encoded is a 415 before any signature work', async () => {
    const res = await post({
      path: '/webhooks/twilio',
      headers: { 'content-type': 'text/plain' },
      body: 'STOP',
    });
    expect(res.status).toBe(415);
  });
});

async function recordSent(provider: 'twilio' | 'plivo', providerMessageId: string) {
  const entry = historyEntry({
    venueId: VENUE_A,
    customerPhoneNumber: '+14155550190',
    message: 'Your order is confirmed',
    provider,
    providerMessageId,
  });
  return (await w.repos.history.record(entry)).record;
}

describe('delivery status callbacks', () => {
  const twilioStatus = (sid: string, status: string, extra: Record<string, string> = {}): Signed => {
    const fields = { MessageSid: sid, MessageStatus: status, AccountSid: fake.accountSid, ...extra };
    return {
      path: '/webhooks/twilio/status',
      headers: signing.twilioHeaders(twilioToken, `${PUBLIC}/webhooks/twilio/status`, fields),
      body: signing.formBody(fields),
    };
  };
  const plivoStatus = (uuid: string, status: string, errorCode = ''): Signed => {
    const fields = { MessageUUID: uuid, Status: status, ErrorCode: errorCode, To: '14155550190' };
    return {
      path: '/webhooks/plivo/status',
      headers: signing.plivoV3Headers(PLIVO_TOKEN, `${PUBLIC}/webhooks/plivo/status`, fields),
      body: signing.formBody(fields),
    };
  };
  const rowOf = async (orderId: string) => (await w.repos.history.findByOrderId(orderId))[0];

  test('updates the row forward; replayed and late callbacks change nothing', async () => {
    const row = await recordSent('twilio', messageId());
    const sid = row.providerMessageId!;
    expect((await post(twilioStatus(sid, 'sent'))).status).toBe(200);
    expect(await rowOf(row.orderId)).toMatchObject({ deliveryStatus: 'sent', deliveryErrorCode: null });
    expect((await post(twilioStatus(sid, 'delivered'))).status).toBe(200);
    const delivered = await rowOf(row.orderId);
    expect(delivered).toMatchObject({ deliveryStatus: 'delivered', deliveryUpdatedAt: expect.any(Date) });

    for (const late of ['sent', 'queued', 'delivered', 'undelivered']) {
      expect((await post(twilioStatus(sid, late, { ErrorCode: '30003' }))).status).toBe(200);
    }
    expect(await rowOf(row.orderId)).toEqual(delivered);
  });

  test('out of order: "delivered" first, then "sent" and "queued" arrive late', async () => {
    const row = await recordSent('twilio', messageId());
    for (const status of ['delivered', 'sent', 'queued'])
      await post(twilioStatus(row.providerMessageId!, status));
    expect((await rowOf(row.orderId)).deliveryStatus).toBe('delivered');
  });

  test('a failure keeps the provider error code (Plivo)', async () => {
    const row = await recordSent('plivo', messageId('uuid-'));
    expect((await post(plivoStatus(row.providerMessageId!, 'queued'))).status).toBe(200);
    expect((await post(plivoStatus(row.providerMessageId!, 'undelivered', '30'))).status).toBe(200);
    expect(await rowOf(row.orderId)).toMatchObject({
      deliveryStatus: 'undelivered',
      deliveryErrorCode: '30',
    });
  });

  test('an unknown message id: 200, nothing written; the same id at another provider is not ours', async () => {
    const row = await recordSent('twilio', messageId());
    const before = await db.knex('SmsSendHistory').whereNotNull('DeliveryStatus').count({ n: '*' });
    expect((await post(twilioStatus('SMunknown0000000000000000000000000', 'delivered'))).status).toBe(200);
    expect((await post(plivoStatus(row.providerMessageId!, 'delivered'))).status).toBe(200);
    expect(await db.knex('SmsSendHistory').whereNotNull('DeliveryStatus').count({ n: '*' })).toEqual(before);
  });

  test('end to end through Twilio: the send carries the callback URL, the callback lands in the order API', async () => {
    const e = await startOptedInOrder(w, taskQueue, { PhoneNumber: customer() });
    await w.client.workflow.getHandle(orderWorkflowId(e.orderId)).result();
    const [message] = fake.messages().filter((m) => m.to === e.phoneNumber);
    expect(message.statusCallback).toBe(`${PUBLIC}/webhooks/twilio/status`);

    expect((await post(twilioStatus(message.sid, 'delivered'))).status).toBe(200);
    const order = await fetch(`${direct}/api/orders/${e.orderId}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(await order.json()).toMatchObject({
      outcome: 'sent',
      history: [{ providerMessageId: message.sid, deliveryStatus: 'delivered', deliveryErrorCode: null }],
    });
  });

  test('end to end through Twilio: a STOP to the bought number blocks the next order', async () => {
    const first = await startOptedInOrder(w, taskQueue, { PhoneNumber: customer() });
    await w.client.workflow.getHandle(orderWorkflowId(first.orderId)).result();
    const sender = await w.repos.venueNumbers.findActive(first.venueId, 'twilio');
    expect(fake.purchases().find((p) => p.phoneNumber === sender?.phoneNumber)).toMatchObject({
      smsUrl: `${PUBLIC}/webhooks/twilio`,
    });
    await post(
      signedInbound('twilio', { from: first.phoneNumber, to: sender!.phoneNumber, text: 'Stop texting me' }),
    );
    await waitFor(async () => (await consent(first.venueId, first.phoneNumber))?.status === 'opted_out', {
      description: 'STOP applied',
    });
    const next = { ...first, orderId: randomUUID() };
    await startOrderConfirmation(w.client, taskQueue, next, { correlationId: `corr-${next.orderId}` });
    expect(await w.client.workflow.getHandle(orderWorkflowId(next.orderId)).result()).toMatchObject({
      outcome: 'blocked_opted_out',
    });
  });
});

describe('npm run sms:reply', () => {
  let local: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    // As `npm start` runs it: no PUBLIC_BASE_URL, so the API's own address is the signed URL.
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    local = await build(base);
    await local.listen({ host: '127.0.0.1', port });
  });
  afterAll(async () => {
    await local?.close();
  });

  test("signs what the API verifies: a STOP from the script opts the customer out at the venue's number", async () => {
    const phone = customer();
    const to = await venueSimulatorNumber(w.repos.venueNumbers, VENUE_A);
    const result = await postSimulatedReply({
      baseUrl: base,
      secret: SIM_SECRET,
      from: phone,
      to,
      text: 'STOP',
    });
    expect(result).toMatchObject({ status: 200, body: JSON.stringify({ reply: null }) });
    await waitFor(async () => (await consent(VENUE_A, phone))?.lastProviderMessageId === result.messageId, {
      description: 'simulated STOP applied',
    });
    expect(await consent(VENUE_A, phone)).toMatchObject({ status: 'opted_out', source: 'provider_webhook' });

    const forged = await postSimulatedReply({
      baseUrl: base,
      secret: 'another-secret-0123456789',
      from: customer(),
      to,
      text: 'STOP',
    });
    expect(forged.status).toBe(403);
  });

  test('a venue without a simulator number: a clear error', async () => {
    await expect(venueSimulatorNumber(w.repos.venueNumbers, VENUE_B)).rejects.toThrow(/send an order first/);
  });
});
