import { loadPlivo } from '../../../providers/plivo/plivo-sdk';
import { PlivoWebhook, plivoV2Signature, plivoV3Signature } from '../../../providers/plivo/plivo-webhook';
import { SimulatorWebhook, signSimulatorWebhook } from '../../../providers/simulator/simulator-webhook';
import { TwilioWebhook } from '../../../providers/twilio/twilio-webhook';
import { statusCallbackUrl, type WebhookRequest } from '../../../providers/webhook';
import * as signing from '../../support/webhook-signing';

const TOKEN = 'test-auth-token-0123456789abcdef';
const URL_ = 'https://sms.example.test/base/webhooks/plivo';

function request(overrides: Partial<WebhookRequest> & Pick<WebhookRequest, 'headers'>): WebhookRequest {
  const params = overrides.params ?? {};
  return {
    method: 'POST',
    url: URL_,
    encoding: 'form',
    rawBody: signing.formBody(params as signing.FormFields),
    params,
    ...overrides,
  };
}

const inbound: signing.FormFields = {
  From: '14155550123',
  To: '14155550100',
  Text: 'Stop 🙏 — ça suffit',
  Type: 'sms',
  MessageUUID: 'b3f1c7e2-8a6d-4e0f-9c21-5d7a3e9b1f40',
};

describe('Plivo signatures agree with the SDK and the documented algorithm', () => {
  const sdk = loadPlivo();

  test.each([
    ['no query', URL_, inbound],
    ['a port and a query', 'https://sms.example.test:8443/webhooks/plivo?venue=7&a=b', inbound],
    ['no params', URL_, {}],
  ])('V3 POST with %s: ours, the SDK validator and the independent signer match', (_name, url, params) => {
    const nonce = signing.plivoNonce();
    const ours = plivoV3Signature(TOKEN, 'POST', url, nonce, params);
    expect(sdk.validateV3Signature('POST', url, nonce, TOKEN, ours, params)).toBe(true);
    if (!url.includes('?')) expect(signing.plivoV3Signature(TOKEN, url, params, nonce)).toBe(ours);
    expect(sdk.validateV3Signature('POST', url, nonce, 'another-token', ours, params)).toBe(false);
  });

  test('V3 GET (query and params merged) matches the SDK', () => {
    const nonce = signing.plivoNonce();
    const url = 'https://sms.example.test/webhooks/plivo?b=2&a=1';
    const ours = plivoV3Signature(TOKEN, 'GET', url, nonce, { c: '3' });
    expect(sdk.validateV3Signature('GET', url, nonce, TOKEN, ours, { c: '3' })).toBe(true);
  });

  test('V2 (URL without query + nonce): ours, the SDK validator and the independent signer match', () => {
    const nonce = signing.plivoNonce();
    for (const url of [URL_, `${URL_}?x=1`, 'http://localhost:3000/webhooks/plivo/status']) {
      const ours = plivoV2Signature(TOKEN, url, nonce);
      expect(sdk.validateSignature(url, nonce, ours, TOKEN)).toBe(true);
      expect(signing.plivoV2Signature(TOKEN, url, nonce)).toBe(ours);
    }
  });
});

describe('PlivoWebhook.verify', () => {
  const webhook = () => new PlivoWebhook(TOKEN);

  test('V3: valid, then each tampering refused', () => {
    const headers = signing.plivoV3Headers(TOKEN, URL_, inbound);
    expect(webhook().verify(request({ headers, params: inbound }))).toEqual({ ok: true, scheme: 'plivo-v3' });
    // Several comma-separated signatures: any one matching is enough.
    const several = { ...headers, 'x-plivo-signature-v3': `bogus=,${headers['x-plivo-signature-v3']}` };
    expect(webhook().verify(request({ headers: several, params: inbound })).ok).toBe(true);
    expect(webhook().verify(request({ headers, params: { ...inbound, Text: 'START' } })).ok).toBe(false);
    expect(webhook().verify(request({ headers, params: inbound, url: `${URL_}/status` })).ok).toBe(false);
    const noNonce = { ...headers, 'x-plivo-signature-v3-nonce': '' };
    expect(webhook().verify(request({ headers: noNonce, params: inbound }))).toMatchObject({ ok: false });
    // A V3 header present but wrong is not rescued by a valid V2 one.
    const both = {
      ...signing.plivoV2Headers(TOKEN, URL_),
      'x-plivo-signature-v3': 'x',
      'x-plivo-signature-v3-nonce': '1',
    };
    expect(webhook().verify(request({ headers: both, params: inbound })).ok).toBe(false);
    expect(webhook().verify(request({ headers: {}, params: inbound }))).toEqual({
      ok: false,
      reason: 'missing X-Plivo-Signature-V3 / -V2',
    });
  });

  test('V2 does not sign the body: a valid one carries its nonce, which the route spends once', () => {
    const w = webhook();
    const headers = signing.plivoV2Headers(TOKEN, URL_);
    const nonce = headers['x-plivo-signature-v2-nonce'];
    expect(w.verify(request({ headers, params: inbound }))).toEqual({ ok: true, scheme: 'plivo-v2', nonce });
    // Another body verifies too: refusing it is the nonce store's job (test/integration/api/webhook-nonces.test.ts).
    expect(w.verify(request({ headers, params: { ...inbound, From: '14155550999' } }))).toMatchObject({
      ok: true,
      nonce,
    });
    expect(
      w.verify(request({ headers, params: inbound, url: 'https://elsewhere.test/webhooks/plivo' })).ok,
    ).toBe(false);
  });

  test('parses numbers without "+" and MessageIntent; delivery states map, "000" is no error', () => {
    expect(webhook().parseInbound({ ...inbound, MessageIntent: 'optout' })).toEqual({
      messageId: inbound.MessageUUID,
      from: '+14155550123',
      to: '+14155550100',
      text: inbound.Text,
      hints: { plivoMessageIntent: 'optout' },
    });
    expect(webhook().parseStatus({ MessageUUID: 'u', Status: 'rejected', ErrorCode: '450' })).toMatchObject({
      status: 'failed',
      errorCode: '450',
    });
    expect(webhook().parseStatus({ MessageUUID: 'u', Status: 'delivered', ErrorCode: '000' })).toMatchObject({
      status: 'delivered',
      errorCode: null,
    });
    expect(webhook().parseStatus({ MessageUUID: 'u', Status: 'received' })?.status).toBeNull();
    expect(webhook().parseStatus({ Status: 'sent' })).toBeNull();
  });

  test('replies with Plivo XML from the venue number to the customer', () => {
    const parsed = webhook().parseInbound(inbound);
    const help = webhook().reply(parsed, 'Help & info: reply STOP');
    expect(help.contentType).toMatch(/^application\/xml/);
    expect(help.body).toBe(
      '<Response><Message src="14155550100" dst="14155550123" type="sms">Help &amp; info: reply STOP</Message></Response>',
    );
    expect(webhook().reply(parsed).body).toBe('<Response/>');
  });
});

describe('TwilioWebhook', () => {
  const url = 'https://sms.example.test/base/webhooks/twilio';
  const fields = {
    MessageSid: 'SM0123',
    From: '+14155550123',
    To: '+14155550100',
    Body: 'STOP',
    OptOutType: 'STOP',
  };
  const webhook = new TwilioWebhook(TOKEN);
  const req = (headers: Record<string, string>, params = fields, at = url) =>
    request({ headers, params, url: at, rawBody: signing.formBody(params) });

  test('verifies with the SDK against the public URL; other URL, changed field, missing header refused', () => {
    const headers = signing.twilioHeaders(TOKEN, url, fields);
    expect(webhook.verify(req(headers))).toEqual({ ok: true, scheme: 'twilio' });
    expect(webhook.verify(req(headers, fields, 'http://10.0.0.5:3000/webhooks/twilio')).ok).toBe(false);
    expect(webhook.verify(req(headers, { ...fields, Body: 'START' })).ok).toBe(false);
    expect(webhook.verify(req({}))).toEqual({ ok: false, reason: 'missing X-Twilio-Signature' });
    expect(webhook.verify({ ...req(headers), encoding: 'json' }).ok).toBe(false);
  });

  test('replies with TwiML; maps message statuses', () => {
    expect(webhook.reply(null).body).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
    expect(webhook.reply(null, 'Reply STOP <to> stop').body).toContain(
      '<Message>Reply STOP &lt;to&gt; stop</Message>',
    );
    expect(webhook.parseInbound(fields)?.hints).toEqual({ twilioOptOutType: 'STOP' });
    for (const [twilioStatus, ours] of [
      ['accepted', 'queued'],
      ['sending', 'sent'],
      ['delivered', 'delivered'],
      ['read', 'delivered'],
      ['undelivered', 'undelivered'],
      ['canceled', 'failed'],
      ['receiving', null],
    ]) {
      expect(webhook.parseStatus({ MessageSid: 'SM1', MessageStatus: twilioStatus! })?.status).toBe(ours);
    }
  });
});

describe('SimulatorWebhook', () => {
  const secret = 'simulator-secret-0123456789';
  const url = 'http://localhost:3000/webhooks/simulator';
  const body = { messageId: 'SM1', from: '+14155550123', to: '+16282345678', text: 'STOP' };
  const asRequest = (signed: ReturnType<typeof signSimulatorWebhook>, at = url): WebhookRequest => ({
    method: 'POST',
    url: at,
    headers: signed.headers,
    encoding: 'json',
    rawBody: signed.body,
    params: JSON.parse(signed.body) as Record<string, unknown>,
  });

  test('what signSimulatorWebhook signs verifies; a changed byte, another URL, an old timestamp do not', () => {
    const webhook = new SimulatorWebhook(secret);
    const signed = signSimulatorWebhook(secret, url, body);
    expect(webhook.verify(asRequest(signed))).toEqual({ ok: true, scheme: 'simulator' });
    expect(webhook.verify({ ...asRequest(signed), rawBody: signed.body.replace('STOP', 'STOp') }).ok).toBe(
      false,
    );
    expect(webhook.verify(asRequest(signed, 'http://localhost:3001/webhooks/simulator')).ok).toBe(false);
    expect(new SimulatorWebhook('another-secret-0123456789').verify(asRequest(signed)).ok).toBe(false);
    const old = signSimulatorWebhook(secret, url, body, Date.now() - 6 * 60_000);
    expect(webhook.verify(asRequest(old))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/Timestamp/),
    });
  });
});

test('status callback URL: only with PUBLIC_BASE_URL set, never for the simulator', () => {
  expect(statusCallbackUrl({}, 'twilio')).toBeUndefined();
  expect(
    statusCallbackUrl({ statusCallbackBaseUrl: 'https://sms.example.test' }, 'simulator'),
  ).toBeUndefined();
  expect(statusCallbackUrl({ statusCallbackBaseUrl: 'https://sms.example.test' }, 'twilio')).toBe(
    'https://sms.example.test/webhooks/twilio/status',
  );
  expect(statusCallbackUrl({ statusCallbackBaseUrl: 'https://sms.example.test' }, 'plivo')).toBe(
    'https://sms.example.test/webhooks/plivo/status',
  );
});
