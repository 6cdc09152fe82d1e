import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient';
import type { MessageInstance } from 'twilio/lib/rest/api/v2010/account/message';
import type { IncomingPhoneNumberInstance } from 'twilio/lib/rest/api/v2010/account/incomingPhoneNumber';
import { SmsProviderError } from '../../domain/errors';
import {
  RECONCILE_CLOCK_SKEW_MS,
  type AcceptedMessage,
  type AcceptedMessageQuery,
  type BuyNumberRequest,
  type PurchasedNumber,
  type SendRequest,
  type SmsProvider,
} from '../sms-provider';
import { noAvailableNumbersError, releaseIdempotently } from '../provider-errors';
import {
  BUY_NUMBER_BUDGET_MS,
  FIND_NUMBER_BUDGET_MS,
  RECONCILE_BUDGET_MS,
  RELEASE_NUMBER_BUDGET_MS,
  REQUEST_TIMEOUT_MS,
  SEND_BUDGET_MS,
  attachAbortSignal,
  callerCode,
  providerCall,
} from '../provider-call';
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
  /** Per-request timeout in ms (also the socket idle timeout); default REQUEST_TIMEOUT_MS (provider-call.ts). */
  timeoutMs?: number;
  /**
   * Reconciliation looks this far before `sentAfter`, for clock skew between Temporal and Twilio;
   * default RECONCILE_CLOCK_SKEW_MS (1 s). Twilio's dates have whole seconds, so the window also
   * starts at the second.
   */
  clockSkewMs?: number;
}
/** Upper bound on records read while reconciling or adopting, so a busy account cannot stall a call. */
const LIST_LIMIT = 200;

/**
 * The SDK's debug logging (TWILIO_LOG_LEVEL=debug) prints every request's query string, recipient
 * numbers included; this client never asks for it, whatever the environment says.
 */
class QuietRequestClient extends twilio.RequestClient {
  constructor(options: RequestClient.RequestClientOptions) {
    super(options);
    // Each request carries the running operation's abort signal (providerCall), so a cancelled
    // attempt's request is aborted on the wire, not just abandoned.
    this.axios.interceptors.request.use(attachAbortSignal);
  }

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
    const timeout = options.timeoutMs ?? REQUEST_TIMEOUT_MS;
    this.clockSkewMs = options.clockSkewMs ?? RECONCILE_CLOCK_SKEW_MS;
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
    const message = await this.call('send', SEND_BUDGET_MS, request.signal, () =>
      this.client.messages.create({
        to: request.to,
        from: request.from,
        body: request.body,
        ...(request.statusCallbackUrl ? { statusCallback: request.statusCallbackUrl } : {}),
      }),
    );
    return toAccepted(message);
  }

  /**
   * The message with this body from `from` to `to`, accepted since `sentAfter` (less the clock-skew
   * allowance, from the whole second: Twilio's dates have no fraction); the earliest one that no other
   * order owns (`claimedElsewhere`). The DateSent> filter keeps the read small, but Twilio has no
   * date_sent for a message still queued, so when it finds nothing the most recent messages between
   * the two numbers are read without it. At most two list calls, within RECONCILE_BUDGET_MS together.
   */
  async findAcceptedMessage(query: AcceptedMessageQuery): Promise<AcceptedMessage | null> {
    const windowStart = new Date(Math.floor((query.sentAfter.getTime() - this.clockSkewMs) / 1_000) * 1_000);
    const pick = async (messages: MessageInstance[]) => {
      const candidates = messages
        .filter(
          (m) =>
            sameNumber(m.to, query.to) &&
            sameNumber(m.from, query.from) &&
            m.body === query.body &&
            acceptedAt(m).getTime() >= windowStart.getTime(),
        )
        .sort((a, b) => acceptedAt(a).getTime() - acceptedAt(b).getTime());
      if (candidates.length === 0 || !query.claimedElsewhere) return candidates[0];
      const { claimedElsewhere } = query;
      const claimed = await callerCode(() => claimedElsewhere(candidates.map((m) => m.sid)));
      return candidates.find((m) => !claimed.has(m.sid));
    };
    const match = await this.call('find accepted message', RECONCILE_BUDGET_MS, query.signal, async () => {
      const filters = { to: query.to, from: query.from, limit: LIST_LIMIT };
      return (
        (await pick(await this.client.messages.list({ ...filters, dateSentAfter: windowStart }))) ??
        (await pick(await this.client.messages.list(filters)))
      );
    });
    return match ? toAccepted(match) : null;
  }

  async buyNumber(request: BuyNumberRequest): Promise<PurchasedNumber> {
    return this.call(
      `buy number for ${request.friendlyName}`,
      BUY_NUMBER_BUDGET_MS,
      request.signal,
      async () => {
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
        const bought = await this.client.incomingPhoneNumbers.create({
          phoneNumber: candidate,
          friendlyName: request.friendlyName,
          ...(request.smsWebhookUrl ? { smsUrl: request.smsWebhookUrl, smsMethod: 'POST' } : {}),
        });
        return toPurchased(bought);
      },
    );
  }

  async findOwnedNumber(friendlyName: string, signal?: AbortSignal): Promise<PurchasedNumber | null> {
    const owned = await this.call(`find number for ${friendlyName}`, FIND_NUMBER_BUDGET_MS, signal, () =>
      this.client.incomingPhoneNumbers.list({ friendlyName, limit: LIST_LIMIT }),
    );
    // The API filter is the documented exact match; checked again so a looser server never adopts a stranger's number.
    const match = owned.find((n) => n.friendlyName === friendlyName);
    return match ? toPurchased(match) : null;
  }

  /** Idempotent: a number that is already gone (404 / 20404) counts as released. */
  async releaseNumber(providerId: string, signal?: AbortSignal): Promise<void> {
    await releaseIdempotently(
      () =>
        this.call(`release number ${providerId}`, RELEASE_NUMBER_BUDGET_MS, signal, () =>
          this.client.incomingPhoneNumbers(providerId).remove(),
        ),
      (err) => mapTwilioError(err, `release number ${providerId}`),
    );
  }

  /** One operation under its budget and the caller's signal (provider-call.ts); errors in the taxonomy. */
  private call<T>(what: string, budgetMs: number, signal: AbortSignal | undefined, work: () => Promise<T>) {
    return providerCall({ provider: this.name, what, budgetMs, signal }, work, (err) =>
      mapTwilioError(err, what),
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
