import { timingSafeEqual } from 'node:crypto';
import type { ProviderIntentHints } from '../domain/consent-keywords';
import type { DeliveryStatus } from '../domain/delivery-status';
import type { ProviderName } from '../domain/enums';

/**
 * What one provider knows about its webhooks: how it signs them, what its inbound-message and
 * delivery-report fields are called, and how it wants an answer. One route plugin
 * (api/routes/webhooks.ts) serves every provider through this interface.
 */
export interface ProviderWebhook {
  readonly provider: ProviderName;
  /** Body encodings the provider posts; anything else is a 415 before any signature work. */
  readonly accepts: readonly WebhookEncoding[];
  /** Must be called before any parse: the only thing standing between the internet and a consent change. */
  verify(request: WebhookRequest): WebhookVerification;
  /** The fields of an inbound SMS, or null when the (signed) request does not carry them. */
  parseInbound(params: WebhookParams): InboundSms | null;
  /** A delivery report, or null when the request does not carry one. */
  parseStatus(params: WebhookParams): DeliveryReport | null;
  /** The HTTP answer to an inbound SMS: `text` is sent back to the customer, none means no reply. */
  reply(inbound: InboundSms | null, text?: string): WebhookReply;
}

export type WebhookEncoding = 'form' | 'json';

/** Form fields (a repeated key becomes an array) or a JSON object. */
export type WebhookParams = Record<string, unknown>;

export interface WebhookRequest {
  method: string;
  /**
   * The URL the provider called, exactly as it signed it: PUBLIC_BASE_URL + path + query. Never
   * rebuilt from the Host header, which behind a proxy is not what the provider saw.
   */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  encoding: WebhookEncoding;
  rawBody: string;
  params: WebhookParams;
}

export type WebhookVerification =
  | {
      ok: true;
      scheme: string;
      /**
       * Set when the signature covers the URL and this nonce but not the body (Plivo V2): valid
       * only for the nonce's first use, which the route enforces across replicas (api/webhook-nonces.ts).
       */
      nonce?: string;
    }
  | { ok: false; reason: string };

export interface InboundSms {
  /** The provider's id of the inbound message: the consent entity de-duplicates on it. */
  messageId: string;
  /** Sender and recipient as the provider wrote them (Plivo omits the +); the route normalises. */
  from: string;
  to: string;
  text: string;
  hints: ProviderIntentHints;
}

export interface DeliveryReport {
  messageId: string;
  /** null for a provider status that is not a delivery state (e.g. Twilio "receiving"). */
  status: DeliveryStatus | null;
  providerStatus: string;
  errorCode: string | null;
}

export interface WebhookReply {
  contentType: string;
  body: string;
}

/** A header's single value (the first, if repeated), trimmed; undefined when absent or empty. */
export function headerValue(headers: WebhookRequest['headers'], name: string): string | undefined {
  const raw = headers[name.toLowerCase()];
  const value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  return value ? value : undefined;
}

/** A string field of the params (the first of a repeated one); undefined when absent. */
export function param(params: WebhookParams, name: string): string | undefined {
  const raw = params[name];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : typeof value === 'object' ? undefined : String(value);
}

/**
 * Constant-time string comparison. A length mismatch answers at once: signature lengths are fixed by
 * the algorithm, so they reveal nothing secret.
 */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

export const rejected = (reason: string): WebhookVerification => ({ ok: false, reason });

/** The route a provider's webhooks reach: `/webhooks/<provider>` (inbound) and `/webhooks/<provider>/status`. */
export function webhookPath(provider: ProviderName, kind: 'inbound' | 'status'): string {
  return kind === 'inbound' ? `/webhooks/${provider}` : `/webhooks/${provider}/status`;
}

/**
 * The delivery-callback URL a send passes to the provider, when PUBLIC_BASE_URL is configured (a
 * provider cannot reach the localhost default). None for the simulator, which never calls back.
 */
export function statusCallbackUrl(
  api: { statusCallbackBaseUrl?: string },
  provider: ProviderName,
): string | undefined {
  if (!api.statusCallbackBaseUrl || provider === 'simulator') return undefined;
  return `${api.statusCallbackBaseUrl}${webhookPath(provider, 'status')}`;
}
