import { createHash } from 'node:crypto';
import type { Logger } from '../config/logger';
import { isDataError } from '../db/knex';
import type { WebhookNonce, WebhookNoncesRepository } from '../db/webhook-nonces-repository';
import type { ProviderName } from '../domain/enums';
import { withTimeout } from '../runtime/readiness';

/**
 * How long a nonce is remembered. Plivo V2 signatures never expire: once its nonce is pruned, a
 * captured header set signs any body again. So this is the horizon of the replay protection, and
 * it is long: rotate PLIVO_AUTH_TOKEN at least once a year, and every signature older than the
 * retention is one the API no longer accepts anyway. About 100 bytes a nonce with its index: 100,000
 * Plivo callbacks a day keep ~4 GB.
 */
export const NONCE_RETENTION_DAYS = 400;
/**
 * A database that hangs instead of refusing must not eat the provider's webhook timeout (Twilio
 * 15 s, Plivo 8 s) before the signal to Temporal even starts.
 */
export const WEBHOOK_DATABASE_DEADLINE_MS = 2_000;
const PRUNE_EVERY_MS = 60 * 60_000;
/** While nonces wait to be written, the write is retried this often. */
const FLUSH_EVERY_MS = 10_000;
/** Nonces recently written, kept to still refuse a replay while the database is down. */
const RECENT_LIMIT = 10_000;
/**
 * Nonces accepted while the database was down, waiting to be written. Past this, the oldest are
 * dropped (logged): refusing requests instead would refuse STOPs.
 */
const UNWRITTEN_LIMIT = 100_000;

/** What one use of a nonce may do. */
export type NonceUse =
  /** Never seen (`first`), or seen with this very body (`retry`): act, unless it was `handled`. */
  | { verdict: 'first' | 'retry'; firstSeenAt: Date; handled: boolean }
  /**
   * The database could not say, and this process has not seen it: it may be a replay with another
   * body. The route decides what is safe to act on (api/routes/webhooks.ts); the nonce is written
   * once the database is back.
   */
  | { verdict: 'unverifiable'; firstSeenAt: Date; handled: false }
  /** Seen before with another body: the signature was lifted onto a forged request. */
  | { verdict: 'replayed' };

type Kind = 'inbound' | 'status';

/** A nonce this process has seen: recently written, or waiting to be. */
interface Known extends WebhookNonce {
  kind: Kind;
}

/**
 * Makes the nonce of a signature that does not cover the body (Plivo V2) usable once, across
 * replicas and restarts (issue 18): the first use is recorded in WebhookNonces with a hash of its
 * body before anything is acted on. The same body again is a retry (answered without a second
 * effect once handled); another body is a forgery.
 *
 * Memory helps only where SQL cannot: recently written nonces still refuse a replay during an
 * outage, and nonces seen during one are written when it ends, since a nonce never written could
 * be reused with any body afterwards. One that turns out then to have been used before with another
 * body was a forgery that could not be caught in time: logged as an error and counted as a
 * signature failure. Nonces waiting in a process that dies are lost: the one gap left.
 */
export class WebhookNonces {
  private readonly recent = new Map<string, Known>();
  private readonly unwritten = new Map<string, Known>();
  private flushing: Promise<void> | null = null;
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly repo: Pick<WebhookNoncesRepository, 'claim' | 'markHandled' | 'prune'>,
    private readonly log: Pick<Logger, 'info' | 'warn' | 'error'>,
    private readonly onLateForgery: (provider: ProviderName, kind: Kind) => void,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Writes waiting nonces and prunes old ones, on timers, until stop(). */
  start(): void {
    if (this.timers.length > 0) return;
    void this.prune();
    this.timers = [
      setInterval(() => void this.flush(), FLUSH_EVERY_MS),
      setInterval(() => void this.prune(), PRUNE_EVERY_MS),
    ];
    for (const timer of this.timers) timer.unref();
  }

  stop(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
  }

  async use(provider: ProviderName, kind: Kind, nonce: string, rawBody: string): Promise<NonceUse> {
    const key = `${provider} ${nonce}`;
    const use: Known = {
      provider,
      kind,
      nonceHash: hash16(nonce),
      bodyHash: hash16(rawBody),
      seenAt: this.now(),
      handledAt: null,
    };
    // Seen during the outage: written first, so that the database decides again once it can.
    if (this.unwritten.has(key) && !(await this.write(key))) {
      const waiting = this.fromMemory(key, use.bodyHash);
      if (waiting) return waiting;
    }
    try {
      const claimed = await withTimeout(this.repo.claim(use), WEBHOOK_DATABASE_DEADLINE_MS);
      if (claimed.created) {
        this.remember(key, use);
        return { verdict: 'first', firstSeenAt: use.seenAt, handled: false };
      }
      this.remember(key, { ...claimed.stored, kind });
      return verdictOf(claimed.stored, use.bodyHash);
    } catch (err) {
      if (isDataError(err)) throw err;
      const known = this.fromMemory(key, use.bodyHash);
      if (known) return known;
      this.log.warn({ err, provider }, 'webhook nonce not checkable: the database is unavailable');
      this.wait(key, use);
      return { verdict: 'unverifiable', firstSeenAt: use.seenAt, handled: false };
    }
  }

  /** What this process knows of the nonce while the database cannot say; undefined: nothing. */
  private fromMemory(key: string, bodyHash: Buffer): NonceUse | undefined {
    // Written before the outage: its first body is known here as well as in the database.
    const written = this.recent.get(key);
    if (written) return verdictOf(written, bodyHash);
    const waiting = this.unwritten.get(key);
    if (!waiting) return undefined;
    const verdict = verdictOf(waiting, bodyHash);
    // Its body was never checked against the database: a retry of it is as unverifiable as it was.
    return verdict.verdict === 'retry' && !verdict.handled
      ? { verdict: 'unverifiable', firstSeenAt: waiting.seenAt, handled: false }
      : verdict;
  }

  /** The request that came with the nonce was acted on. Never throws: the effect has happened. */
  async handled(provider: ProviderName, nonce: string): Promise<void> {
    const key = `${provider} ${nonce}`;
    const at = this.now();
    const waiting = this.unwritten.get(key);
    if (waiting) {
      waiting.handledAt = at;
      return;
    }
    const known = this.recent.get(key);
    if (known) known.handledAt = at;
    try {
      await withTimeout(this.repo.markHandled(provider, hash16(nonce), at), WEBHOOK_DATABASE_DEADLINE_MS);
    } catch (err) {
      this.log.warn({ err, provider }, 'webhook nonce not marked handled; written once the database is back');
      if (known) this.wait(key, known);
    }
  }

  /** Writes the nonces seen while the database was down; stops at the first failure (still down). */
  flush(): Promise<void> {
    this.flushing ??= this.writeAll().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  /** How many nonces wait to be written (tests, diagnostics). */
  get waiting(): number {
    return this.unwritten.size;
  }

  private async writeAll(): Promise<void> {
    let written = 0;
    for (const key of [...this.unwritten.keys()]) {
      if (!(await this.write(key))) return;
      written++;
    }
    if (written > 0) this.log.info({ written }, 'webhook nonces seen while the database was down written');
  }

  /** Writes one waiting nonce; false while the database is still unavailable. */
  private async write(key: string): Promise<boolean> {
    const waiting = this.unwritten.get(key);
    if (!waiting) return true;
    let written: Known = waiting;
    try {
      const claimed = await withTimeout(this.repo.claim(waiting), WEBHOOK_DATABASE_DEADLINE_MS);
      if (!claimed.created)
        written = { ...(await this.reconcile(waiting, claimed.stored)), kind: waiting.kind };
    } catch (err) {
      if (!isDataError(err)) return false;
      this.log.error({ err, provider: waiting.provider }, 'webhook nonce refused by the database; dropped');
    }
    this.unwritten.delete(key);
    this.remember(key, written);
    return true;
  }

  /**
   * A nonce used during the outage that the database knew already: a retry, or a forgery found
   * late. Returns what the database now holds.
   */
  private async reconcile(waiting: Known, stored: WebhookNonce): Promise<WebhookNonce> {
    if (!stored.bodyHash.equals(waiting.bodyHash)) {
      this.onLateForgery(waiting.provider, waiting.kind);
      this.log.error(
        { provider: waiting.provider, kind: waiting.kind, seenAt: waiting.seenAt.toISOString() },
        'a webhook accepted while the database was down reused a nonce seen before with another body: it was forged (an opt-out accepted from it stands)',
      );
      return stored;
    }
    if (!waiting.handledAt || stored.handledAt) return stored;
    await withTimeout(
      this.repo.markHandled(waiting.provider, waiting.nonceHash, waiting.handledAt),
      WEBHOOK_DATABASE_DEADLINE_MS,
    );
    return { ...stored, handledAt: waiting.handledAt };
  }

  /** Forgets nonces past the retention (hourly, from start()). */
  async prune(): Promise<void> {
    const before = new Date(this.now().getTime() - NONCE_RETENTION_DAYS * 24 * 60 * 60_000);
    try {
      const pruned = await this.repo.prune(before);
      if (pruned > 0) this.log.info({ pruned, before: before.toISOString() }, 'old webhook nonces pruned');
    } catch (err) {
      this.log.warn({ err }, 'webhook nonces not pruned; tried again within the hour');
    }
  }

  private remember(key: string, known: Known): void {
    this.recent.delete(key);
    this.recent.set(key, { ...known });
    // Oldest first: a Map iterates in insertion order.
    for (const oldest of this.recent.keys()) {
      if (this.recent.size <= RECENT_LIMIT) break;
      this.recent.delete(oldest);
    }
  }

  private wait(key: string, known: Known): void {
    this.unwritten.set(key, known);
    for (const oldest of this.unwritten.keys()) {
      if (this.unwritten.size <= UNWRITTEN_LIMIT) break;
      this.unwritten.delete(oldest);
      this.log.error({}, 'too many webhook nonces wait for the database; the oldest is dropped unwritten');
    }
  }
}

function verdictOf(known: WebhookNonce, bodyHash: Buffer): NonceUse {
  if (!known.bodyHash.equals(bodyHash)) return { verdict: 'replayed' };
  return { verdict: 'retry', firstSeenAt: known.seenAt, handled: known.handledAt !== null };
}

/** SHA-256, first 16 bytes: a Plivo-signed nonce cannot be chosen, so collisions are not a threat. */
function hash16(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest().subarray(0, 16);
}
