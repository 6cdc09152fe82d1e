import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { loadConfig, payloadCodecKey } from '../../../config';
import { ensureTemporalCli } from '../../../scripts/temporal-cli';
import { AesGcmPayloadCodec, ENCRYPTED_ENCODING } from '../../../temporal/payload-codec';
import { consentWorkflowId, orderWorkflowId, venueNumberWorkflowId } from '../../../temporal/ids';
import { startOrderConfirmation } from '../../../temporal/start-order';
import { buildTestApi, useTestApi } from '../../support/api';
import { testTemporalAddress, waitFor } from '../../support/temporal';
import { optIn, parsedEvent, useTestWorkers } from '../../support/workers';

/**
 * Issue 12 acceptance: with the codec on, the raw histories on the server hold no phone number,
 * customer name or message text (payloads, memo, summaries, failure messages); the codec endpoint
 * decodes them with the token and refuses without it.
 */

const TOKEN = 'privacy-test-token-0123456789';
const UI_ORIGIN = 'http://localhost:8233';
// A real (non-local) key, so the endpoint requires the token as in production.
const KEYS = `test-${randomBytes(3).toString('hex')}:${randomBytes(32).toString('base64')}`;
const unique = randomBytes(4).toString('hex');
const CUSTOMER = `Grace Hopper${unique}`;
const EVENT_NAME = `Compiler Night ${unique}`;
const PHONES = { sent: '+14155550171', blocked: '+14155550172', invalid: '+14155550173' };
const EventType = temporal.api.enums.v1.EventType;

const { w, taskQueue } = useTestWorkers('privacy', {
  env: { PAYLOAD_CODEC_KEYS: KEYS, SIMULATOR_INVALID_NUMBERS: PHONES.invalid },
});
const app = useTestApi(() => ({
  token: TOKEN,
  logName: 'privacy-test',
  workers: w,
  codec: {
    codec: new AesGcmPayloadCodec(w.config.temporal.payloadCodecKeys),
    endpoint: { corsOrigins: [UI_ORIGIN], auth: { mode: 'bearer' } },
  },
}));

const auth = { authorization: `Bearer ${TOKEN}` };

/** Every byte the server holds for a workflow's history, as it stores it (no codec on this read). */
async function rawHistory(workflowId: string): Promise<temporal.api.history.v1.IHistory> {
  const events: temporal.api.history.v1.IHistoryEvent[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await w.client.connection.workflowService.getWorkflowExecutionHistory({
      namespace: w.config.temporal.namespace,
      execution: { workflowId },
      nextPageToken,
    });
    events.push(...(page.history?.events ?? []));
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return { events };
}

function bytesOf(history: temporal.api.history.v1.IHistory): string {
  return Buffer.from(temporal.api.history.v1.History.encode(history).finish()).toString('latin1');
}

/** What must never be readable in a history: the phones (with or without +), the name, the message. */
function personalDataIn(bytes: string): string[] {
  const needles = [
    ...Object.values(PHONES).flatMap((p) => [p, p.slice(2)]),
    CUSTOMER,
    unique, // in the name and the event name, so in the rendered message text too
    EVENT_NAME,
  ];
  return needles.filter((n) => bytes.includes(n));
}

const event = (phone: string) =>
  parsedEvent({
    PhoneNumber: phone,
    CustomerName: CUSTOMER,
    EventName: EVENT_NAME,
    VenueId: 700_000 + (Number(`0x${unique}`) % 99_999),
  });

async function startOrder(
  phone: string,
): Promise<{ handle: WorkflowHandle; orderId: string; venueId: number }> {
  const e = event(phone);
  await startOrderConfirmation(w.client, taskQueue, e, { correlationId: `corr-${e.orderId}` });
  return {
    handle: w.client.workflow.getHandle(orderWorkflowId(e.orderId)),
    orderId: e.orderId,
    venueId: e.venueId,
  };
}

test('orders and consent changes leave no phone, name or message text in the raw histories; the codec endpoint decodes them', async () => {
  // A sent order, an order blocked by a STOP that went through the API, and one the provider refuses.
  const sent = event(PHONES.sent);
  await optIn(w.repos, sent);
  const venueId = sent.venueId;
  for (const phone of [PHONES.sent, PHONES.blocked]) {
    const change = await app.inject({
      method: 'POST',
      url: '/api/internal/consent',
      headers: auth,
      payload: {
        venueId,
        phoneNumber: phone,
        status: phone === PHONES.sent ? 'opted_in' : 'opted_out',
        source: 'internal_api',
        occurredAt: new Date(Date.now() - 60_000).toISOString(),
      },
    });
    expect(change.statusCode).toBe(202);
    // The id in lists and in the answer: a keyed hash, no phone.
    expect(change.json().workflowId).toBe(
      consentWorkflowId(venueId, phone, w.config.temporal.workflowIdHashKey),
    );
    expect(change.json().workflowId).not.toContain(phone.slice(2));
  }
  await optIn(w.repos, { venueId, phoneNumber: PHONES.invalid });
  await waitFor(async () => (await w.repos.consent.get(venueId, PHONES.blocked))?.status === 'opted_out', {
    description: 'the STOP in SQL',
  });

  const orders = await Promise.all(Object.values(PHONES).map((p) => startOrder(p)));
  const outcomes = await Promise.all(orders.map((o) => o.handle.result()));
  expect(outcomes.map((o) => o.outcome)).toEqual(['sent', 'blocked_opted_out', 'failed']);

  // Through the codec the client reads everything as before: the summary included.
  const description = await orders[0].handle.describe();
  expect(await description.staticSummary()).toMatch(/^Order A-1001 · venue \d+ · \+1\*+71$/);
  expect(await description.staticDetails()).toContain('**Phone:** +1********71');
  // The current details the UI shows beside them (its built-in metadata query): outcome and provider.
  const metadata = await orders[0].handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  expect(metadata.currentDetails).toContain('**Outcome:** sent');
  expect(metadata.currentDetails).toContain('**Provider:** simulator');
  expect(metadata.currentDetails).not.toContain(PHONES.sent.slice(2));

  const ids = [
    ...orders.map((o) => orderWorkflowId(o.orderId)),
    ...[PHONES.sent, PHONES.blocked].map((p) =>
      consentWorkflowId(venueId, p, w.config.temporal.workflowIdHashKey),
    ),
    venueNumberWorkflowId(venueId, 'simulator'),
  ];
  let encryptedPayloads = 0;
  for (const id of ids) {
    const history = await rawHistory(id);
    expect(history.events?.length).toBeGreaterThan(2);
    const bytes = bytesOf(history);
    expect({ id, found: personalDataIn(bytes) }).toEqual({ id, found: [] });
    encryptedPayloads += bytes.split(ENCRYPTED_ENCODING).length - 1;
  }
  expect(encryptedPayloads).toBeGreaterThan(20);

  // The provider's refusal: the activity failure's message travels encrypted, not as text.
  const invalid = await rawHistory(orderWorkflowId(orders[2].orderId));
  const failed = (invalid.events ?? []).find(
    (e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
  );
  expect(failed?.activityTaskFailedEventAttributes?.failure?.message).toBe('Encoded failure');
  const failureEncoding =
    failed?.activityTaskFailedEventAttributes?.failure?.encodedAttributes?.metadata?.encoding;
  expect(Buffer.from(failureEncoding ?? []).toString()).toBe(ENCRYPTED_ENCODING);

  // The Web UI's view: the order's input through the codec endpoint, as it posts it.
  const started = (await rawHistory(orderWorkflowId(orders[0].orderId))).events?.[0];
  const attrs = started?.workflowExecutionStartedEventAttributes;
  const wire = (p: temporal.api.common.v1.IPayload) => ({
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    ),
    data: Buffer.from(p.data ?? []).toString('base64'),
  });
  const body = {
    payloads: [
      ...(attrs?.input?.payloads ?? []).map(wire),
      ...(started?.userMetadata?.summary ? [wire(started.userMetadata.summary)] : []),
    ],
  };
  expect(body.payloads).toHaveLength(2);

  const refused = await app.inject({ method: 'POST', url: '/codec/decode', payload: body });
  expect(refused.statusCode).toBe(401);

  const decoded = await app.inject({
    method: 'POST',
    url: '/codec/decode',
    headers: { ...auth, origin: UI_ORIGIN, 'x-namespace': 'default' },
    payload: body,
  });
  expect(decoded.statusCode).toBe(200);
  expect(decoded.headers['access-control-allow-origin']).toBe(UI_ORIGIN);
  const [input, summary] = (
    decoded.json().payloads as Array<{ metadata: Record<string, string>; data: string }>
  ).map((p) => ({
    encoding: Buffer.from(p.metadata.encoding, 'base64').toString(),
    text: Buffer.from(p.data, 'base64').toString(),
  }));
  expect(input.encoding).toBe('json/plain');
  expect(JSON.parse(input.text)).toMatchObject({
    event: { phoneNumber: PHONES.sent, customerName: CUSTOMER, eventName: EVENT_NAME },
  });
  expect(JSON.parse(summary.text)).toMatch(/^Order A-1001 · venue \d+ · \+1\*+71$/);

  // Encode is the inverse (the UI uses it for signal and query input it sends).
  const reencoded = await app.inject({
    method: 'POST',
    url: '/codec/encode',
    headers: auth,
    payload: decoded.json(),
  });
  expect(reencoded.statusCode).toBe(200);
  const sealed = reencoded.json().payloads[0] as { metadata: Record<string, string>; data: string };
  expect(Buffer.from(sealed.metadata.encoding, 'base64').toString()).toBe(ENCRYPTED_ENCODING);
  expect(Buffer.from(sealed.data, 'base64').toString('latin1')).not.toContain(PHONES.sent);
}, 120_000);

describe('codec endpoint CORS', () => {
  test('a preflight from the UI origin is answered with what the UI sends; another origin is refused', async () => {
    const ok = await app.inject({
      method: 'OPTIONS',
      url: '/codec/decode',
      headers: {
        origin: UI_ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,authorization,x-namespace',
      },
    });
    expect(ok.statusCode).toBe(204);
    expect(ok.headers).toMatchObject({
      'access-control-allow-origin': UI_ORIGIN,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'POST, OPTIONS',
    });
    expect(String(ok.headers['access-control-allow-headers']).toLowerCase()).toContain('x-namespace');

    const other = await app.inject({
      method: 'OPTIONS',
      url: '/codec/decode',
      headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' },
    });
    expect(other.statusCode).toBe(403);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  test('on the documented local key alone the local UI needs no token', async () => {
    const local = await buildTestApi({
      token: TOKEN,
      logName: 'privacy-test-local',
      workers: w,
      codec: {
        codec: new AesGcmPayloadCodec(loadConfig({}).temporal.payloadCodecKeys),
        // The default with the published local key: no token asked.
        endpoint: { ...loadConfig({}).codecEndpoint, corsOrigins: [UI_ORIGIN] },
      },
    });
    try {
      const res = await local.inject({
        method: 'POST',
        url: '/codec/decode',
        headers: { origin: UI_ORIGIN },
        payload: { payloads: [] },
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ payloads: [] });
    } finally {
      await local.close();
    }
  });

  test('a refusal still carries the CORS headers, so the UI can show it', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/codec/decode',
      headers: { origin: UI_ORIGIN, authorization: 'Bearer wrong-token-wrong-token' },
      payload: { payloads: [] },
    });
    expect(res.statusCode).toBe(401);
    expect(res.headers['access-control-allow-origin']).toBe(UI_ORIGIN);
  });

  test('a payload no configured key opens comes back as it was; the rest of the page decodes', async () => {
    const foreign = await new AesGcmPayloadCodec([payloadCodecKey('retired', randomBytes(32))]).encode([
      { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"x"') },
    ]);
    const mine = await new AesGcmPayloadCodec(w.config.temporal.payloadCodecKeys).encode([
      { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"y"') },
    ]);
    const wire = (p: { metadata?: Record<string, Uint8Array | null> | null; data?: Uint8Array | null }) => ({
      metadata: Object.fromEntries(
        Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')]),
      ),
      data: Buffer.from(p.data ?? []).toString('base64'),
    });
    const res = await app.inject({
      method: 'POST',
      url: '/codec/decode',
      headers: auth,
      payload: { payloads: [wire(foreign[0]), wire(mine[0])] },
    });
    expect(res.statusCode).toBe(200);
    const [kept, opened] = res.json().payloads as Array<{ data: string }>;
    expect(kept).toEqual(wire(foreign[0]));
    expect(Buffer.from(opened.data, 'base64').toString()).toBe('"y"');
  });
});

test("Temporal's own remote-codec client (the CLI, same protocol as the Web UI) shows the decoded input through the endpoint", async () => {
  const e = event(PHONES.sent);
  await optIn(w.repos, e);
  await startOrderConfirmation(w.client, taskQueue, e, { correlationId: `corr-${e.orderId}` });
  const workflowId = orderWorkflowId(e.orderId);
  await w.client.workflow.getHandle(workflowId).result();

  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const cli = await ensureTemporalCli();
  const show = async (codecAuth?: string) => {
    const args = [
      'workflow',
      'show',
      '-w',
      workflowId,
      '--address',
      testTemporalAddress(),
      '--output',
      'json',
    ];
    args.push('--codec-endpoint', `${url}/codec`);
    if (codecAuth) args.push('--codec-auth', codecAuth);
    const { stdout } = await promisify(execFile)(cli, args, { maxBuffer: 16 * 1024 * 1024 });
    return payloadTexts(stdout);
  };
  // JSON output carries each payload's data base64-encoded, as the proto JSON mapping does.
  const payloadTexts = (json: string) =>
    [...json.matchAll(/"data": "([A-Za-z0-9+/=]*)"/g)]
      .map((m) => Buffer.from(m[1], 'base64').toString('latin1'))
      .join('\n');
  const decoded = await show(`Bearer ${TOKEN}`);
  expect(decoded).toContain(PHONES.sent);
  expect(decoded).toContain(CUSTOMER);
  // Without the token the endpoint refuses, and nothing personal comes out.
  const refused = await show().catch(
    (err: { stdout?: string; stderr?: string }) => `${err.stdout ?? ''}${err.stderr ?? ''}`,
  );
  expect(refused).not.toContain(PHONES.sent);
  expect(refused).not.toContain(CUSTOMER);
}, 120_000);
