import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient';
import type { MessageInstance } from 'twilio/lib/rest/api/v2010/account/message';
import type { IncomingPhoneNumberInstance } from 'twilio/lib/rest/api/v2010/account/incomingPhoneNumber';
import { SmsProviderError } from '../../domain/errors';
import type {
  AcceptedMessage,
  AcceptedMessageQuery,
  PurchasedNumber,
  SendRequest,
  SmsProvider,
} from '../sms-provider';
import { noAvailableNumbersError, releaseIdempotently } from '../provider-errors';
import { mapTwilioError } from './twilio-errors';

export interface TwilioProviderOptions {
  accountSid: string;
  authToken: string;
  /**
   * Where API calls go instead of https://api.twilio.com (a regional edge such as
   * https://api.dublin.ie1.twilio.com, or a local fake). Any *.twilio.com URL the SDK builds,
   * including paging links, is rewritten to this origin.
   */
  apiBaseUrl?: string;
  /** Per-request timeout in ms (also the socket idle timeout); default 15 s. */
  timeoutMs?: number;
  /** Reconciliation looks this far before `sentAfter`, for clock skew between us and Twilio; default 60 s. */
  clockSkewMs?: number;
}

const DEFAULT_TIMEOUT_MS = 15_000;
const DEFAULT_CLOCK_SKEW_MS = 60_000;
/** Upper bound on records read while reconciling or adopting, so a busy account cannot stall a call. */
const LIST_LIMIT = 200;

/**
 * The SDK's debug logging (TWILIO_LOG_LEVEL=debug) prints every request's query string, recipient
 * numbers included; this client never asks for it, whatever the environment says.
 */
class QuietRequestClient extends twilio.RequestClient {
  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    return super.request({ ...opts, logLevel: undefined });
  }
}

/** Sends every SDK request to `baseUrl` instead of the *.twilio.com host the SDK computed. */
class RebasingRequestClient extends QuietRequestClient {
  constructor(
    private readonly baseUrl: string,
    options: RequestClient.RequestClientOptions,
  ) {
    super(options);
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    return super.request({ ...opts, uri: rebase(opts.uri, this.baseUrl) });
  }
}

function rebase(uri: string, baseUrl: string): string {
  const url = new URL(uri);
  if (url.hostname !== 'twilio.com' && !url.hostname.endsWith('.twilio.com')) return uri;
  return `${baseUrl}${url.pathname}${url.search}`;
}

/** Twilio Programmable Messaging and Phone Numbers through the official SDK. */
export class TwilioProvider implements SmsProvider {
  readonly name = 'twilio' as const;
  private readonly client: twilio.Twilio;
  private readonly clockSkewMs: number;

  constructor(options: TwilioProviderOptions) {
    const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.clockSkewMs = options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS;
    // Without an override the SDK's own host logic stays in charge (TWILIO_EDGE / TWILIO_REGION).
    const httpClient = options.apiBaseUrl
      ? new RebasingRequestClient(options.apiBaseUrl.replace(/\/+$/, ''), { timeout })
      : new QuietRequestClient({ timeout });
    // autoRetry stays off: retries belong to the caller, which knows whether a send was ambiguous.
    try {
      this.client = twilio(options.accountSid, options.authToken, { httpClient, timeout });
    } catch (err) {
      // The SDK validates the credentials' shape up front ("accountSid must start with AC").
      throw new SmsProviderError('Misconfiguration', 'INVALID_CREDENTIALS', `twilio: ${String(err)}`, {
        cause: err,
      });
    }
  }

  async send(request: SendRequest): Promise<AcceptedMessage> {
    let message: MessageInstance;
    try {
      message = await this.client.messages.create({
        to: request.to,
        from: request.from,
        body: request.body,
        ...(request.statusCallbackUrl ? { statusCallback: request.statusCallbackUrl } : {}),
      });
    } catch (err) {
      throw mapTwilioError(err, 'send');
    }
    return toAccepted(message);
  }

  /**
   * The message with this body from `from` to `to`, accepted since `sentAfter` (less the clock-skew
   * allowance); the earliest if several. The DateSent> filter keeps the read small, but Twilio has no
   * date_sent for a message still queued, so when it finds nothing the most recent messages between
   * the two numbers are read without it.
   */
  async findAcceptedMessage(query: AcceptedMessageQuery): Promise<AcceptedMessage | null> {
    const windowStart = new Date(query.sentAfter.getTime() - this.clockSkewMs);
    const pick = (messages: MessageInstance[]) =>
      messages
        .filter(
          (m) =>
            sameNumber(m.to, query.to) &&
            sameNumber(m.from, query.from) &&
            m.body === query.body &&
            acceptedAt(m).getTime() >= windowStart.getTime(),
        )
        .sort((a, b) => acceptedAt(a).getTime() - acceptedAt(b).getTime())[0];
    try {
      const filters = { to: query.to, from: query.from, limit: LIST_LIMIT };
      const match =
        pick(await this.client.messages.list({ ...filters, dateSentAfter: windowStart })) ??
        pick(await this.client.messages.list(filters));
      return match ? toAccepted(match) : null;
    } catch (err) {
      throw mapTwilioError(err, 'find accepted message');
    }
  }

  async buyNumber(request: {
    friendlyName: string;
    country: string;
    smsWebhookUrl?: string;
  }): Promise<PurchasedNumber> {
    let candidate: string | undefined;
    try {
      const available = await this.client
        .availablePhoneNumbers(request.country)
        .local.list({ smsEnabled: true, limit: 1 });
      candidate = available[0]?.phoneNumber;
    } catch (err) {
      throw mapTwilioError(err, `search numbers in ${request.country}`);
    }
    if (!candidate) {
      throw noAvailableNumbersError(this.name, request.country);
    }
    let bought: IncomingPhoneNumberInstance;
    try {
      bought = await this.client.incomingPhoneNumbers.create({
        phoneNumber: candidate,
        friendlyName: request.friendlyName,
        ...(request.smsWebhookUrl ? { smsUrl: request.smsWebhookUrl, smsMethod: 'POST' } : {}),
      });
    } catch (err) {
      throw mapTwilioError(err, `buy number for ${request.friendlyName}`);
    }
    return toPurchased(bought);
  }

  async findOwnedNumber(friendlyName: string): Promise<PurchasedNumber | null> {
    let owned: IncomingPhoneNumberInstance[];
    try {
      owned = await this.client.incomingPhoneNumbers.list({ friendlyName, limit: LIST_LIMIT });
    } catch (err) {
      throw mapTwilioError(err, `find number for ${friendlyName}`);
    }
    // The API filter is the documented exact match; checked again so a looser server never adopts a stranger's number.
    const match = owned.find((n) => n.friendlyName === friendlyName);
    return match ? toPurchased(match) : null;
  }

  /** Idempotent: a number that is already gone (404 / 20404) counts as released. */
  async releaseNumber(providerId: string): Promise<void> {
    await releaseIdempotently(
      () => this.client.incomingPhoneNumbers(providerId).remove(),
      (err) => mapTwilioError(err, `release number ${providerId}`),
    );
  }
}

function toAccepted(message: MessageInstance): AcceptedMessage {
  return { providerMessageId: message.sid, status: message.status, acceptedAt: acceptedAt(message) };
}

/** date_sent stays null while a message is queued; date_created is set the moment Twilio accepts it. */
function acceptedAt(message: MessageInstance): Date {
  return validDate(message.dateCreated) ?? validDate(message.dateSent) ?? new Date();
}

function validDate(value: Date | null | undefined): Date | null {
  return value instanceof Date && !Number.isNaN(value.getTime()) ? value : null;
}

function toPurchased(number: IncomingPhoneNumberInstance): PurchasedNumber {
  return { phoneNumber: number.phoneNumber, providerId: number.sid, friendlyName: number.friendlyName };
}

function sameNumber(a: string | null | undefined, b: string): boolean {
  return (a ?? '').replace(/\D/g, '') === b.replace(/\D/g, '');
}
