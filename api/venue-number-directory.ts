import type { Logger } from '../config/logger';
import { isDataError } from '../db/knex';
import type { VenueNumbersRepository } from '../db/venue-numbers-repository';
import type { ProviderName } from '../domain/enums';
import { ReadinessReason, withTimeout } from '../runtime/readiness';
import { WEBHOOK_DATABASE_DEADLINE_MS } from './webhook-nonces';

/** A full reload this often: a number bought since is known to the directory within this. */
const DEFAULT_REFRESH_MS = 30_000;
/**
 * Far above any real count (one number per venue and provider); past it the oldest assignments are
 * left out and an error is logged, so memory stays bounded whatever the table holds.
 */
const DEFAULT_MAX_NUMBERS = 200_000;

export interface VenueMatch {
  venueId: number;
  /** `directory`: the database could not answer; the directory's copy, at most one refresh old, did. */
  source: 'database' | 'directory';
}

/** The database cannot answer and the directory has never seen the number: nobody can tell its venue. */
export class VenueNumberUnknown extends Error {
  override readonly name = 'VenueNumberUnknown';
}

/**
 * Which venue an inbound text is for, answerable while the database is down (issue 18): a STOP
 * answered 200 must win, and Twilio does not redeliver an inbound message we failed. The database
 * is asked first (it is the truth: a number released or reassigned a moment ago); when it cannot
 * answer, the in-process copy of every active number does. The copy is loaded when the API
 * starts, reloaded every 30 s, and updated by every answer the database gives.
 *
 * Only active numbers, like the database look-up: a number is released at the provider before its
 * row says so, and from then on its texts no longer reach us, so there is no released number a
 * customer could still text us on. A number released since the last reload stays here until the
 * next one, which matters only during an outage and only for a number whose texts no longer come.
 * A number bought since the last reload is unknown during an outage: that text gets a 503.
 */
export class VenueNumberDirectory {
  private numbers = new Map<string, number>();
  private loadedAt: Date | null = null;
  private firstLoad: Promise<void> | null = null;
  private timer: NodeJS.Timeout | undefined;
  private readonly refreshMs: number;
  private readonly maxNumbers: number;

  constructor(
    private readonly repo: Pick<VenueNumbersRepository, 'findActiveByPhoneNumber' | 'listActive'>,
    private readonly log: Pick<Logger, 'warn' | 'error'>,
    options: { refreshMs?: number; maxNumbers?: number } = {},
  ) {
    this.refreshMs = options.refreshMs ?? DEFAULT_REFRESH_MS;
    this.maxNumbers = options.maxNumbers ?? DEFAULT_MAX_NUMBERS;
  }

  /** Loads now (without waiting) and every refresh interval until stop(). */
  start(): void {
    if (this.firstLoad) return;
    this.firstLoad = this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Readiness: up once the directory has been loaded, so a replica never serves webhooks blind. */
  readonly check = async (): Promise<void> => {
    await this.firstLoad;
    if (!this.loadedAt) throw new ReadinessReason('not loaded yet: the database has not answered');
  };

  /** Replaces the copy with the database's; a failure keeps the old one (logged). */
  async refresh(): Promise<void> {
    try {
      const rows = await this.repo.listActive(this.maxNumbers + 1);
      if (rows.length > this.maxNumbers) {
        this.log.error(
          { maxNumbers: this.maxNumbers },
          'more active venue numbers than the webhook directory holds; the oldest are left out',
        );
      }
      const numbers = new Map<string, number>();
      for (const row of rows.slice(0, this.maxNumbers)) {
        const key = keyOf(row.phoneNumber, row.provider);
        if (!numbers.has(key)) numbers.set(key, row.venueId);
      }
      this.numbers = numbers;
      this.loadedAt = new Date();
    } catch (err) {
      this.log.warn(
        { err, loadedAt: this.loadedAt?.toISOString() ?? null },
        'venue-number directory not refreshed; webhooks keep the last copy',
      );
    }
  }

  /** The venue's number at that provider, or null when it is none; VenueNumberUnknown when nobody can tell. */
  async lookup(phoneNumber: string, provider: ProviderName): Promise<VenueMatch | null> {
    const key = keyOf(phoneNumber, provider);
    try {
      const number = await withTimeout(
        this.repo.findActiveByPhoneNumber(phoneNumber, provider),
        WEBHOOK_DATABASE_DEADLINE_MS,
      );
      if (!number) {
        this.numbers.delete(key);
        return null;
      }
      if (this.numbers.has(key) || this.numbers.size < this.maxNumbers) this.numbers.set(key, number.venueId);
      return { venueId: number.venueId, source: 'database' };
    } catch (err) {
      if (isDataError(err)) throw err;
      const venueId = this.numbers.get(key);
      if (venueId === undefined) {
        throw new VenueNumberUnknown('the database is unavailable and the number is not in the directory', {
          cause: err,
        });
      }
      this.log.warn(
        { err, directoryLoadedAt: this.loadedAt?.toISOString() ?? null },
        'database unavailable: the venue number answered from the directory',
      );
      return { venueId, source: 'directory' };
    }
  }

  /** For tests and diagnostics: whether the copy holds the number now. */
  has(phoneNumber: string, provider: ProviderName): boolean {
    return this.numbers.has(keyOf(phoneNumber, provider));
  }
}

function keyOf(phoneNumber: string, provider: ProviderName): string {
  return `${provider} ${phoneNumber}`;
}
