import type { Client as PlivoClient } from 'plivo';
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
  callerCode,
  providerCall,
} from '../provider-call';
import { mapPlivoError, type PlivoOperation } from './plivo-errors';
import { findInPlivoPages, plivoPages, sdkPage, type PlivoPage } from './plivo-pages';
import { loadPlivo, sdkRequest, type PlivoRequest } from './plivo-sdk';
import { parsePlivoTime, plivoFilterTime } from './plivo-time';

export interface PlivoProviderOptions {
  authId: string;
  authToken: string;
  /** Origin of the REST API instead of https://api.plivo.com (a local fake, a proxy). */
  apiBaseUrl?: string;
  /** Per-request timeout in ms; default REQUEST_TIMEOUT_MS (provider-call.ts). (Without one the SDK waits forever.) */
  timeoutMs?: number;
  /**
   * Reconciliation looks this far before `sentAfter`, for clock skew between Temporal and Plivo;
   * default RECONCILE_CLOCK_SKEW_MS (1 s).
   */
  clockSkewMs?: number;
}

/** Plivo SMS and phone numbers through the official SDK. */
export class PlivoProvider implements SmsProvider {
  readonly name = 'plivo' as const;
  private readonly client: PlivoClient;
  /** For the Application/ endpoints, which the SDK's own interface mishandles (see sdkRequest). */
  private readonly request: PlivoRequest;
  private readonly clockSkewMs: number;

  constructor(options: PlivoProviderOptions) {
    const plivo = loadPlivo();
    const origin = (options.apiBaseUrl ?? 'https://api.plivo.com').replace(/\/+$/, '');
    const clientOptions = {
      url: `${origin}/v1/Account/${options.authId}`,
      timeout: options.timeoutMs ?? REQUEST_TIMEOUT_MS,
    };
    this.clockSkewMs = options.clockSkewMs ?? RECONCILE_CLOCK_SKEW_MS;
    this.client = new plivo.Client(options.authId, options.authToken, clientOptions);
    this.request = sdkRequest({
      ...clientOptions,
      authId: options.authId,
      authToken: options.authToken,
    });
  }

  async send(request: SendRequest): Promise<AcceptedMessage> {
    const uuid = await this.call(
      'send',
      SEND_BUDGET_MS,
      request.signal,
      async () => {
        // The typed (positional) signature; optional params go into the request body as is.
        const response = await this.client.messages.create(
          request.from,
          request.to,
          request.body,
          request.statusCallbackUrl ? { url: request.statusCallbackUrl, method: 'POST' } : undefined,
        );
        const ids: unknown = response.messageUuid;
        return Array.isArray(ids) ? String(ids[0]) : typeof ids === 'string' ? ids : undefined;
      },
      'send',
    );
    if (!uuid) {
      // Accepted (2xx) but without an id: reconciliation by to/from/time can still find it.
      throw new SmsProviderError(
        'ProviderUnavailable',
        'NO_MESSAGE_UUID',
        'plivo: send answered without a message_uuid',
      );
    }
    return { providerMessageId: uuid, status: 'queued', acceptedAt: new Date() };
  }

  /**
   * Plivo's message records carry no text, so "this order's message" is an outbound message from
   * `from` to `to` at or after `sentAfter` (less the clock-skew allowance) that no other order owns
   * (`claimedElsewhere`): the earliest one at or after `sentAfter` (our attempt began there); failing
   * that, the latest one inside the allowance before it. Every page read shares RECONCILE_BUDGET_MS.
   */
  async findAcceptedMessage(query: AcceptedMessageQuery): Promise<AcceptedMessage | null> {
    const windowStart = new Date(query.sentAfter.getTime() - this.clockSkewMs);
    return this.call('find accepted message', RECONCILE_BUDGET_MS, query.signal, async () => {
      const candidates: { uuid: string; state: string; at: Date }[] = [];
      const pages = plivoPages(async (page) =>
        sdkPage<PlivoMessageRecord>(
          await this.client.messages.list({
            message_direction: 'outbound',
            message_time__gte: plivoFilterTime(windowStart),
            from_number: digits(query.from),
            to_number: digits(query.to),
            ...page,
          }),
        ),
      );
      for await (const records of pages) {
        for (const m of records) {
          const at = parsePlivoTime(m.messageTime);
          if (
            at &&
            at.getTime() >= windowStart.getTime() &&
            digits(m.toNumber ?? '') === digits(query.to) &&
            digits(m.fromNumber ?? '') === digits(query.from) &&
            (m.messageDirection ?? 'outbound') === 'outbound'
          ) {
            candidates.push({ uuid: m.messageUuid, state: m.messageState ?? 'queued', at });
          }
        }
      }
      const { claimedElsewhere } = query;
      const claimed =
        candidates.length > 0 && claimedElsewhere
          ? await callerCode(() => claimedElsewhere(candidates.map((c) => c.uuid)))
          : new Set<string>();
      const own = candidates.filter((c) => !claimed.has(c.uuid));
      const after = own.filter((c) => c.at >= query.sentAfter).sort((a, b) => +a.at - +b.at);
      const before = own.filter((c) => c.at < query.sentAfter).sort((a, b) => +b.at - +a.at);
      const match = after[0] ?? before[0];
      return match ? { providerMessageId: match.uuid, status: match.state, acceptedAt: match.at } : null;
    });
  }

  async buyNumber(request: BuyNumberRequest): Promise<PurchasedNumber> {
    return this.call(`buy number for ${request.friendlyName}`, BUY_NUMBER_BUDGET_MS, request.signal, () =>
      this.buy(request),
    );
  }

  /**
   * A Plivo purchase is three steps: the venue's application, the buy, the alias. Plivo's buy call
   * takes no alias, but it does take an app_id: the number is linked to the venue's application in
   * the same call that buys it, so from that instant it is recognisably the venue's, whatever
   * happens to the alias update after it (findOwnedNumber). The chosen number is also reported
   * (onChosen) before the buy goes out, so a caller that keeps it can have a retry look it up by
   * itself instead of reading the whole account.
   */
  private async buy(request: BuyNumberRequest): Promise<PurchasedNumber> {
    const appId = await this.ensureApplication(request.friendlyName, request.smsWebhookUrl);
    let number: string | undefined;
    try {
      const found = await this.client.numbers.search(request.country, {
        type: 'local',
        services: 'sms',
        limit: 1,
      });
      number = found[0]?.number;
    } catch (err) {
      throw mapPlivoError(err, `search numbers in ${request.country}`);
    }
    if (!number) {
      throw noAvailableNumbersError(this.name, request.country);
    }
    request.onChosen?.(digits(number));
    try {
      await this.client.numbers.buy(number, appId);
    } catch (err) {
      throw mapPlivoError(err, `buy number for ${request.friendlyName}`);
    }
    await this.nameNumber(number, request.friendlyName);
    return toPurchased(number, request.friendlyName);
  }

  /**
   * The number bought for `friendlyName`, by the cheapest look-up that can find it:
   * 1. by alias, filtered by Plivo: one request finds every purchase that got as far as its name,
   *    on an account of any size;
   * 2. a purchase that did not (the alias update failed, the worker died before it) is still linked
   *    to the venue's application (buy). No application of that name, then nothing was ever bought
   *    for the venue by this adapter: two requests in all, no scan;
   * 3. `candidates`, the numbers earlier attempts chose: one request each;
   * 4. failing those (the attempt that chose it died before its caller kept it), every number on the
   *    account, to the last page: Plivo cannot filter numbers by application. Only a venue that has
   *    an application and no named number pays for this (an interrupted purchase, a released number).
   * A number found by 3 or 4 is named on the way, so its next look-up is step 1.
   */
  async findOwnedNumber(
    friendlyName: string,
    signal?: AbortSignal,
    candidates: readonly string[] = [],
  ): Promise<PurchasedNumber | null> {
    return this.call(`find number for ${friendlyName}`, FIND_NUMBER_BUDGET_MS, signal, async () => {
      const byAlias = await this.findNumber({ alias: friendlyName }, (n) => n.alias === friendlyName);
      if (byAlias) return toPurchased(byAlias.number, friendlyName);
      const app = await this.findApplication(friendlyName);
      if (!app) return null;
      const suffix = `/Application/${app.appId}/`;
      const linked = (n: PlivoNumberRecord) =>
        typeof n.application === 'string' && n.application.endsWith(suffix);
      let orphan: PlivoNumberRecord | null = null;
      for (const candidate of candidates) {
        const n = await this.getNumber(candidate);
        if (n && linked(n)) {
          orphan = n;
          break;
        }
      }
      orphan ??= await this.findNumber({}, linked);
      if (!orphan) return null;
      // The adoption stands on the application link whether or not the name lands now; a failed
      // update only means the next look-up takes the longer way again.
      await this.nameNumber(orphan.number, friendlyName).catch(() => undefined);
      return toPurchased(orphan.number, friendlyName);
    });
  }

  /** Idempotent: a number that is no longer on the account (404) counts as released. */
  async releaseNumber(providerId: string, signal?: AbortSignal): Promise<void> {
    await releaseIdempotently(
      () =>
        this.call(`release number ${providerId}`, RELEASE_NUMBER_BUDGET_MS, signal, () =>
          this.client.numbers.unrent(digits(providerId)),
        ),
      (err) => mapPlivoError(err, `release number ${providerId}`),
    );
  }

  /** One operation under its budget and the caller's signal (provider-call.ts); errors in the taxonomy. */
  private call<T>(
    what: string,
    budgetMs: number,
    signal: AbortSignal | undefined,
    work: () => Promise<T>,
    operation: PlivoOperation = 'other',
  ): Promise<T> {
    return providerCall({ provider: this.name, what, budgetMs, signal }, work, (err) =>
      mapPlivoError(err, what, operation),
    );
  }

  private findNumber(
    filter: { alias?: string },
    predicate: (n: PlivoNumberRecord) => boolean,
  ): Promise<PlivoNumberRecord | null> {
    return findInPlivoPages(
      async (page) => sdkPage<PlivoNumberRecord>(await this.client.numbers.list({ ...filter, ...page })),
      predicate,
    );
  }

  /** One number of the account; null when the account does not hold it (never bought, or released). */
  private async getNumber(number: string): Promise<PlivoNumberRecord | null> {
    try {
      const { body } = await this.request('GET', `Number/${digits(number)}/`);
      return body as unknown as PlivoNumberRecord;
    } catch (err) {
      if (mapPlivoError(err, 'get number').httpStatus === 404) return null;
      throw err;
    }
  }

  private async nameNumber(number: string, friendlyName: string): Promise<void> {
    try {
      await this.client.numbers.update(number, { alias: friendlyName });
    } catch (err) {
      throw mapPlivoError(err, `name number for ${friendlyName}`);
    }
  }

  private findApplication(appName: string): Promise<PlivoApplicationRecord | null> {
    return findInPlivoPages(
      async (page) => {
        const { body } = await this.request('GET', 'Application/', { app_name: appName, ...page });
        return body as unknown as PlivoPage<PlivoApplicationRecord>;
      },
      (a) => a.appName === appName,
    );
  }

  /**
   * The venue's application (named like the number), created if need be, with its message_url
   * pointing at the webhook when there is one. Every purchase is linked to it, webhook or not: it is
   * the venue's mark on a number whose alias was never written.
   */
  private async ensureApplication(appName: string, messageUrl: string | undefined): Promise<string> {
    try {
      const existing = await this.findApplication(appName);
      if (existing) {
        if (messageUrl && (existing.messageUrl !== messageUrl || existing.messageMethod !== 'POST')) {
          await this.request('POST', `Application/${existing.appId}/`, {
            message_url: messageUrl,
            message_method: 'POST',
          });
        }
        return existing.appId;
      }
      const { body } = await this.request('POST', 'Application/', {
        app_name: appName,
        ...(messageUrl ? { message_url: messageUrl, message_method: 'POST' } : {}),
      });
      if (typeof body.appId !== 'string' || body.appId === '') {
        throw new SmsProviderError(
          'ProviderUnavailable',
          'NO_APP_ID',
          'plivo: application created without an app_id',
        );
      }
      return body.appId;
    } catch (err) {
      throw mapPlivoError(err, `set up application for ${appName}`);
    }
  }
}

interface PlivoMessageRecord {
  messageUuid: string;
  fromNumber?: string;
  toNumber?: string;
  messageState?: string;
  messageTime?: string;
  messageDirection?: string;
}

interface PlivoNumberRecord {
  number: string;
  alias?: string | null;
  application?: string | null;
}

interface PlivoApplicationRecord {
  appId: string;
  appName: string;
  messageUrl?: string;
  messageMethod?: string;
}

function toPurchased(number: string, friendlyName: string): PurchasedNumber {
  const plain = digits(number);
  return { phoneNumber: `+${plain}`, providerId: plain, friendlyName };
}

function digits(phone: string): string {
  return phone.replace(/\D/g, '');
}
