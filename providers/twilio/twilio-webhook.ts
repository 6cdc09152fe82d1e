import twilio from 'twilio';
import type { DeliveryStatus } from '../../domain/delivery-status';
import {
  headerValue,
  param,
  rejected,
  type DeliveryReport,
  type InboundSms,
  type ProviderWebhook,
  type WebhookParams,
  type WebhookReply,
  type WebhookRequest,
  type WebhookVerification,
} from '../webhook';

/** Twilio's message statuses (Messaging StatusCallback) in our delivery vocabulary. */
const TWILIO_DELIVERY_STATUS: Record<string, DeliveryStatus> = {
  accepted: 'queued',
  scheduled: 'queued',
  queued: 'queued',
  sending: 'sent',
  sent: 'sent',
  delivered: 'delivered',
  read: 'delivered',
  undelivered: 'undelivered',
  failed: 'failed',
  canceled: 'failed',
};

/**
 * Twilio Messaging webhooks: inbound SMS (form-encoded) and StatusCallback, both signed with
 * X-Twilio-Signature = base64(HMAC-SHA1(auth token, URL + sorted form fields)). The SDK's
 * validateRequest computes it and compares in constant time (crypto.timingSafeEqual), so it is used as is.
 */
export class TwilioWebhook implements ProviderWebhook {
  readonly provider = 'twilio' as const;
  readonly accepts = ['form'] as const;

  constructor(private readonly authToken: string) {}

  verify(request: WebhookRequest): WebhookVerification {
    const signature = headerValue(request.headers, 'x-twilio-signature');
    if (!signature) return rejected('missing X-Twilio-Signature');
    if (request.encoding !== 'form') return rejected('Twilio signs form-encoded bodies only');
    const params = request.params as Record<string, string | string[]>;
    return twilio.validateRequest(this.authToken, signature, request.url, params)
      ? { ok: true, scheme: 'twilio' }
      : rejected('X-Twilio-Signature does not match');
  }

  parseInbound(params: WebhookParams): InboundSms | null {
    const messageId = param(params, 'MessageSid') ?? param(params, 'SmsSid');
    const from = param(params, 'From');
    const to = param(params, 'To');
    if (!messageId || !from || !to) return null;
    return {
      messageId,
      from,
      to,
      text: param(params, 'Body') ?? '',
      hints: { twilioOptOutType: param(params, 'OptOutType') },
    };
  }

  parseStatus(params: WebhookParams): DeliveryReport | null {
    const messageId = param(params, 'MessageSid') ?? param(params, 'SmsSid');
    const providerStatus = (param(params, 'MessageStatus') ?? param(params, 'SmsStatus'))?.toLowerCase();
    if (!messageId || !providerStatus) return null;
    const status = TWILIO_DELIVERY_STATUS[providerStatus] ?? null;
    return { messageId, status, providerStatus, errorCode: param(params, 'ErrorCode') || null };
  }

  /** TwiML: a `<Message>` answers the sender; an empty `<Response/>` answers nothing. */
  reply(_inbound: InboundSms | null, text?: string): WebhookReply {
    const response = new twilio.twiml.MessagingResponse();
    if (text) response.message(text);
    return { contentType: 'text/xml; charset=utf-8', body: response.toString() };
  }
}
