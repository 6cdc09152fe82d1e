import type { Client as PlivoClient } from 'plivo';
import { SmsProviderError } from '../../domain/errors';
import type { BuyNumberRequest, PurchasedNumber } from '../sms-provider';
import { noAvailableNumbersError } from '../provider-errors';
import { mapPlivoError } from './plivo-errors';
import { findInPlivoPages, sdkPage, type PlivoPage } from './plivo-pages';
import type { PlivoRequest } from './plivo-sdk';

/**
 * PlivoProvider's phone numbers: search and buy, find and adopt, and each venue's application.
 * Plain SDK calls; the provider runs each operation under its budget and signal.
 */
export class PlivoNumbers {
  constructor(
    private readonly client: PlivoClient,
    /** For the Application/ endpoints, which the SDK's own interface mishandles (see sdkRequest). */
    private readonly request: PlivoRequest,
  ) {}

  /**
   * A Plivo purchase is three steps: the venue's application, the buy, the alias. Plivo's buy call
   * takes no alias, but it does take an app_id: the number is linked to the venue's application in
   * the same call that buys it, so from that instant it is recognisably the venue's, whatever
   * happens to the alias update after it (findOwned). The chosen number is also reported
   * (onChosen) before the buy goes out, so a caller that keeps it can have a retry look it up by
   * itself instead of reading the whole account.
   */
  async buy(request: BuyNumberRequest): Promise<PurchasedNumber> {
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
      throw noAvailableNumbersError('plivo', request.country);
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
  async findOwned(friendlyName: string, candidates: readonly string[]): Promise<PurchasedNumber | null> {
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

export function digits(phone: string): string {
  return phone.replace(/\D/g, '');
}
