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
import { releaseIdempotently } from '../provider-errors';
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
import { digits, PlivoNumbers } from './plivo-numbers';
import { plivoPages, sdkPage } from './plivo-pages';
import { loadPlivo, sdkRequest } from './plivo-sdk';
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
  private readonly numbers: PlivoNumbers;
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
    this.numbers = new PlivoNumbers(
      this.client,
      sdkRequest({
        ...clientOptions,
        authId: options.authId,
        authToken: options.authToken,
      }),
    );
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
      this.numbers.buy(request),
    );
  }

  /**
   * The number bought for `friendlyName`, or null; the look-ups, cheapest first, are
   * PlivoNumbers.findOwned's.
   */
  async findOwnedNumber(
    friendlyName: string,
    signal?: AbortSignal,
    candidates: readonly string[] = [],
  ): Promise<PurchasedNumber | null> {
    return this.call(`find number for ${friendlyName}`, FIND_NUMBER_BUDGET_MS, signal, () =>
      this.numbers.findOwned(friendlyName, candidates),
    );
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
}

interface PlivoMessageRecord {
  messageUuid: string;
  fromNumber?: string;
  toNumber?: string;
  messageState?: string;
  messageTime?: string;
  messageDirection?: string;
}
