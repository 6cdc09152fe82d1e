import { createHmac } from 'node:crypto';
import querystring from 'node:querystring';
import type { Response as PlivoXmlResponse } from 'plivo/dist/utils/plivoxml';
import type { DeliveryStatus } from '../../domain/delivery-status';
import {
  headerValue,
  param,
  rejected,
  safeEqual,
  type DeliveryReport,
  type InboundSms,
  type ProviderWebhook,
  type WebhookParams,
  type WebhookReply,
  type WebhookRequest,
  type WebhookVerification,
} from '../webhook';
import { digits } from './plivo-numbers';
import { loadPlivo } from './plivo-sdk';

/** Plivo's message states (delivery report `Status`) in our delivery vocabulary. */
const PLIVO_DELIVERY_STATUS: Record<string, DeliveryStatus> = {
  queued: 'queued',
  sent: 'sent',
  delivered: 'delivered',
  read: 'delivered',
  undelivered: 'undelivered',
  failed: 'failed',
  rejected: 'failed',
};

/**
 * Plivo webhooks: inbound SMS (message_url) and delivery reports (the send's `url`), form-encoded or
 * JSON. Two signature schemes:
 *
 * - V3 (`X-Plivo-Signature-V3` + `-Nonce`): HMAC-SHA256 over method-dependent URL + sorted params +
 *   "." + nonce; for POST the params are the body's fields, so a changed body fails. Nothing in it
 *   dates the request either, so a captured one can be replayed as it is, for ever: it can only
 *   repeat what its customer once texted (README, Provider webhooks, on replays).
 * - V2 (`X-Plivo-Signature-V2` + `-Nonce`, what Plivo sends on messaging callbacks): HMAC-SHA256 over
 *   the URL without its query + nonce. It does NOT cover the body, and never expires: a valid V2
 *   verdict carries its nonce, and the route accepts each nonce once, with the body it first came
 *   with, across replicas and restarts (api/webhook-nonces.ts). A body altered before the genuine
 *   request ever arrived cannot be told apart; configure Plivo for V3 where the account allows it.
 *
 * When a V3 header is present, V3 alone decides. The SDK's validateV3Signature / validateSignature
 * compute the same values but compare with `===` / `==`, so the signatures are computed here and
 * compared with crypto.timingSafeEqual; test/integration/providers/plivo-webhook.test.ts checks
 * them against the SDK's validators.
 */
export class PlivoWebhook implements ProviderWebhook {
  readonly provider = 'plivo' as const;
  readonly accepts = ['form', 'json'] as const;

  constructor(private readonly authToken: string) {}

  verify(request: WebhookRequest): WebhookVerification {
    const v3 = headerValue(request.headers, 'x-plivo-signature-v3');
    const v3Nonce = headerValue(request.headers, 'x-plivo-signature-v3-nonce');
    if (v3 || v3Nonce) {
      if (!v3 || !v3Nonce) return rejected('X-Plivo-Signature-V3 without its nonce');
      const expected = plivoV3Signature(this.authToken, request.method, request.url, v3Nonce, request.params);
      // Plivo may send several comma-separated signatures (e.g. across a token rotation).
      const matched = v3.split(',').some((candidate) => safeEqual(candidate.trim(), expected));
      return matched ? { ok: true, scheme: 'plivo-v3' } : rejected('X-Plivo-Signature-V3 does not match');
    }
    const v2 = headerValue(request.headers, 'x-plivo-signature-v2');
    const v2Nonce = headerValue(request.headers, 'x-plivo-signature-v2-nonce');
    if (!v2 && !v2Nonce) return rejected('missing X-Plivo-Signature-V3 / -V2');
    if (!v2 || !v2Nonce) return rejected('X-Plivo-Signature-V2 without its nonce');
    if (!safeEqual(v2, plivoV2Signature(this.authToken, request.url, v2Nonce))) {
      return rejected('X-Plivo-Signature-V2 does not match');
    }
    return { ok: true, scheme: 'plivo-v2', nonce: v2Nonce };
  }

  parseInbound(params: WebhookParams): InboundSms | null {
    const messageId = param(params, 'MessageUUID');
    const from = param(params, 'From');
    const to = param(params, 'To');
    if (!messageId || !from || !to) return null;
    return {
      messageId,
      from: plivoNumber(from),
      to: plivoNumber(to),
      text: param(params, 'Text') ?? param(params, 'Body') ?? '',
      hints: { plivoMessageIntent: param(params, 'MessageIntent') },
    };
  }

  parseStatus(params: WebhookParams): DeliveryReport | null {
    const messageId = param(params, 'MessageUUID');
    const providerStatus = param(params, 'Status')?.toLowerCase();
    if (!messageId || !providerStatus) return null;
    const errorCode = param(params, 'ErrorCode');
    return {
      messageId,
      status: PLIVO_DELIVERY_STATUS[providerStatus] ?? null,
      providerStatus,
      // Plivo writes "000" or nothing for "no error".
      errorCode: errorCode && !/^0*$/.test(errorCode) ? errorCode : null,
    };
  }

  /** Plivo XML: a `<Message>` from the venue number back to the sender, or an empty `<Response/>`. */
  reply(inbound: InboundSms | null, text?: string): WebhookReply {
    // The SDK types its Response export as a plain function; the class type lives in utils/plivoxml.
    const PlivoResponse = loadPlivo().Response as unknown as new () => PlivoXmlResponse;
    const response = new PlivoResponse();
    if (text && inbound) {
      response.addMessage(text, { src: digits(inbound.to), dst: digits(inbound.from), type: 'sms' });
    }
    return { contentType: 'application/xml; charset=utf-8', body: response.toXML() };
  }
}

/**
 * X-Plivo-Signature-V2: base64(HMAC-SHA256(auth token, URL without query or fragment + nonce)),
 * as Plivo documents it and the SDK's validateSignature computes it.
 */
export function plivoV2Signature(authToken: string, url: string, nonce: string): string {
  return createHmac('sha256', authToken)
    .update(baseUrl(url) + nonce)
    .digest('base64');
}

/**
 * X-Plivo-Signature-V3, as the SDK's validateV3Signature computes it:
 * GET: URL + "?" + query and params merged, sorted, `k=v` joined by "&".
 * POST: URL + ("?" + sorted query + "." when the URL has a query, else "?" when there are params)
 * + sorted params as `kv` concatenated; then "." + nonce, HMAC-SHA256 with the auth token, base64.
 */
export function plivoV3Signature(
  authToken: string,
  method: string,
  url: string,
  nonce: string,
  params: WebhookParams,
): string {
  const values = stringValues(params);
  const query = queryOf(url);
  let signed: string;
  if (method.toUpperCase() === 'GET') {
    signed = withQuery(baseUrl(url), mergeLists(query, values), true);
  } else {
    const hasParams = Object.keys(values).length > 0;
    signed = withQuery(baseUrl(url), query, !hasParams) + sortedParamsString(values);
  }
  return createHmac('sha256', authToken).update(`${signed}.${nonce}`).digest('base64');
}

/** scheme://host[:port]/path: the URL without query and fragment. */
function baseUrl(url: string): string {
  return url.replace(/[?#].*$/s, '');
}

function queryOf(url: string): Record<string, string[]> {
  const match = /\?([^#]*)/.exec(url);
  const parsed = querystring.parse(match?.[1] ?? '');
  return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, Array.isArray(v) ? v : [v ?? '']]));
}

function withQuery(base: string, query: Record<string, string[]>, emptyParams: boolean): string {
  const sorted = Object.keys(query)
    .sort()
    .flatMap((key) => [...query[key]].sort().map((value) => `${key}=${value}`))
    .join('&');
  let url = base;
  if (sorted.length > 0 || !emptyParams) url += `?${sorted}`;
  if (sorted.length > 0 && !emptyParams) url += '.';
  return url;
}

function sortedParamsString(params: Record<string, string[]>): string {
  return Object.keys(params)
    .sort()
    .flatMap((key) => [...params[key]].sort().map((value) => `${key}${value}`))
    .join('');
}

function mergeLists(a: Record<string, string[]>, b: Record<string, string[]>): Record<string, string[]> {
  const merged: Record<string, string[]> = { ...a };
  for (const [key, values] of Object.entries(b)) merged[key] = [...(merged[key] ?? []), ...values];
  return merged;
}

function stringValues(params: WebhookParams): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    out[key] = (Array.isArray(value) ? value : [value]).map((v) =>
      typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v),
    );
  }
  return out;
}

/** Plivo writes numbers as digits without "+": "14155550100" → "+14155550100". */
function plivoNumber(raw: string): string {
  const trimmed = raw.trim();
  return /^\d{8,15}$/.test(trimmed) ? `+${trimmed}` : trimmed;
}
