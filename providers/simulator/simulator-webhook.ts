import { createHmac } from 'node:crypto';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../../domain/delivery-status';
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
import { simulatorSid } from './simulator-store';

export const SIMULATOR_SIGNATURE_HEADER = 'x-simulator-signature';
export const SIMULATOR_TIMESTAMP_HEADER = 'x-simulator-timestamp';
/** A signed request older (or further in the future) than this is refused: a captured one cannot be replayed later. */
const MAX_SKEW_MS = 5 * 60_000;

/** The simulator's inbound SMS body (JSON). */
export interface SimulatorInboundBody {
  messageId: string;
  from: string;
  to: string;
  text: string;
}

/**
 * The simulator's webhooks, signed like a real provider's so that `npm run sms:reply` goes through
 * the same verification path: `X-Simulator-Signature` = hex HMAC-SHA256(SIMULATOR_WEBHOOK_SECRET,
 * timestamp + "." + URL + "." + raw body), with `X-Simulator-Timestamp` (epoch ms) within 5 minutes.
 * The body is signed byte for byte, so any change to it fails.
 */
export class SimulatorWebhook implements ProviderWebhook {
  readonly provider = 'simulator' as const;
  readonly accepts = ['json'] as const;

  constructor(
    private readonly secret: string,
    private readonly now: () => number = Date.now,
  ) {}

  verify(request: WebhookRequest): WebhookVerification {
    const signature = headerValue(request.headers, SIMULATOR_SIGNATURE_HEADER);
    const timestamp = headerValue(request.headers, SIMULATOR_TIMESTAMP_HEADER);
    if (!signature || !timestamp) return rejected('missing X-Simulator-Signature / -Timestamp');
    if (!/^\d{1,16}$/.test(timestamp) || Math.abs(this.now() - Number(timestamp)) > MAX_SKEW_MS) {
      return rejected('X-Simulator-Timestamp outside the allowed window');
    }
    const expected = simulatorSignature(this.secret, timestamp, request.url, request.rawBody);
    return safeEqual(signature, expected)
      ? { ok: true, scheme: 'simulator' }
      : rejected('X-Simulator-Signature does not match');
  }

  parseInbound(params: WebhookParams): InboundSms | null {
    const messageId = param(params, 'messageId');
    const from = param(params, 'from');
    const to = param(params, 'to');
    if (!messageId || !from || !to) return null;
    return { messageId, from, to, text: param(params, 'text') ?? '', hints: {} };
  }

  parseStatus(params: WebhookParams): DeliveryReport | null {
    const messageId = param(params, 'messageId');
    const providerStatus = param(params, 'status');
    if (!messageId || !providerStatus) return null;
    const status = (DELIVERY_STATUSES as readonly string[]).includes(providerStatus)
      ? (providerStatus as DeliveryStatus)
      : null;
    return { messageId, status, providerStatus, errorCode: param(params, 'errorCode') || null };
  }

  /** JSON, so `npm run sms:reply` can print what the customer would get back. */
  reply(_inbound: InboundSms | null, text?: string): WebhookReply {
    return { contentType: 'application/json; charset=utf-8', body: JSON.stringify({ reply: text ?? null }) };
  }
}

export function simulatorSignature(secret: string, timestamp: string, url: string, rawBody: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${url}.${rawBody}`).digest('hex');
}

/** Headers and body of a signed simulator webhook to `url`: what `npm run sms:reply` posts. */
export function signSimulatorWebhook(
  secret: string,
  url: string,
  body: unknown,
  now: number = Date.now(),
): { headers: Record<string, string>; body: string } {
  const rawBody = JSON.stringify(body);
  const timestamp = String(now);
  return {
    headers: {
      'content-type': 'application/json',
      [SIMULATOR_TIMESTAMP_HEADER]: timestamp,
      [SIMULATOR_SIGNATURE_HEADER]: simulatorSignature(secret, timestamp, url, rawBody),
    },
    body: rawBody,
  };
}

/** A customer's text to a venue's simulator number, with a fresh Twilio-shaped message id. */
export function simulatorInbound(from: string, to: string, text: string): SimulatorInboundBody {
  return { messageId: simulatorSid('SM'), from, to, text };
}
