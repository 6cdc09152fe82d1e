/**
 * Signing webhooks the way the providers do, for tests. Twilio through its own SDK; Plivo from its
 * documented algorithms, written here independently of providers/plivo/plivo-webhook.ts (the SDK
 * has validators but no signing helpers), and checked against the SDK's validators in
 * test/unit/providers/webhook-signatures.test.ts.
 */
import { createHmac, randomBytes } from 'node:crypto';
import twilio from 'twilio';

export type FormFields = Record<string, string>;

export function formBody(fields: FormFields): string {
  return new URLSearchParams(fields).toString();
}

/** X-Twilio-Signature for a form POST to `url`: Twilio's SDK computes it. */
export function twilioSignature(authToken: string, url: string, fields: FormFields): string {
  return twilio.getExpectedTwilioSignature(authToken, url, fields);
}

export function twilioHeaders(authToken: string, url: string, fields: FormFields): Record<string, string> {
  return {
    'content-type': 'application/x-www-form-urlencoded',
    'x-twilio-signature': twilioSignature(authToken, url, fields),
  };
}

export function plivoNonce(): string {
  return String(BigInt(`0x${randomBytes(8).toString('hex')}`)).padStart(20, '0');
}

/**
 * Plivo V3 for a POST without a query string in the URL (how our routes are configured):
 * HMAC-SHA256(token, URL + "?" + every param as key+value in key order + "." + nonce), base64.
 * With no params the "?" is left out.
 */
export function plivoV3Signature(authToken: string, url: string, params: FormFields, nonce: string): string {
  const keys = Object.keys(params).sort();
  const paramString = keys.map((k) => `${k}${params[k]}`).join('');
  const base = keys.length > 0 ? `${url}?${paramString}` : url;
  return createHmac('sha256', authToken).update(`${base}.${nonce}`, 'utf8').digest('base64');
}

/** Plivo V2: HMAC-SHA256(token, URL without query + nonce), base64. */
export function plivoV2Signature(authToken: string, url: string, nonce: string): string {
  const [withoutQuery] = url.split('?');
  return createHmac('sha256', authToken).update(`${withoutQuery}${nonce}`, 'utf8').digest('base64');
}

export function plivoV3Headers(
  authToken: string,
  url: string,
  params: FormFields,
  encoding: 'form' | 'json' = 'form',
  nonce = plivoNonce(),
): Record<string, string> {
  return {
    'content-type': encoding === 'form' ? 'application/x-www-form-urlencoded' : 'application/json',
    'x-plivo-signature-v3': plivoV3Signature(authToken, url, params, nonce),
    'x-plivo-signature-v3-nonce': nonce,
  };
}

export function plivoV2Headers(authToken: string, url: string, nonce = plivoNonce()): Record<string, string> {
  return {
    'content-type': 'application/x-www-form-urlencoded',
    'x-plivo-signature-v2': plivoV2Signature(authToken, url, nonce),
    'x-plivo-signature-v2-nonce': nonce,
  };
}
