import type { Logger } from '../config/logger';
import type { StartFailure, StartFailureReason } from './start-errors';

export interface StartGateStatus {
  /** Open: starts go straight through. Paused: one held message at a time probes Temporal. */
  state: 'open' | 'paused';
  reason?: StartFailureReason;
  transient?: boolean;
  pausedSince?: number;
  /** Messages waiting for their turn (each keeps its lock). */
  waiting: number;
  failedProbes: number;
}

export interface StartGateOptions {
  /** Waits between probes while starts fail; the last one repeats for as long as it takes. */
  delaysMs: number[];
  logger: Logger;
  /** How often a long pause is logged again. */
  remindEveryMs?: number;
  /**
   * Told every change of state or of the number waiting, so the bridge's gauges follow the gate
   * (an outage that holds every message settles none, and moves no counter).
   */
  onChange?: (status: StartGateStatus) => void;
}

interface Waiter {
  resolve(go: boolean): void;
}

/**
 * A circuit breaker in front of workflow starts, shared by every message the bridge holds. While
 * starts succeed it is open. The first failure pauses it: from then on the held messages take turns
 * (first in, first out) to try their own start, one at a time with capped backoff, so Temporal sees
 * one request per interval however many messages wait. The first start that succeeds reopens it
 * and every waiting message goes at once. Probing with real starts (not a ping) is what lets a fixed
 * namespace or a newly registered search attribute end the pause without a restart.
 */
export class StartGate {
  private paused:
    { since: number; failure: StartFailure; failedProbes: number; lastLogAt: number } | undefined;
  private readonly waiters: Waiter[] = [];
  /** A waiter was let through and has not reported back yet. */
  private probing = false;
  /** The backoff has run out and nobody was waiting: the next caller probes at once. */
  private probeDue = false;
  private timer: NodeJS.Timeout | undefined;
  private lastSuccess = 0;

  constructor(private readonly options: StartGateOptions) {}

  /**
   * When the latest successful start attempt began (ms since epoch, 0 for never). A start already
   * under way when Temporal began refusing proves nothing about the refusal, hence "began".
   */
  get lastSuccessAt(): number {
    return this.lastSuccess;
  }

  status(): StartGateStatus {
    const p = this.paused;
    return p
      ? {
          state: 'paused',
          reason: p.failure.reason,
          transient: p.failure.transient,
          pausedSince: p.since,
          waiting: this.waiters.length,
          failedProbes: p.failedProbes,
        }
      : { state: 'open', waiting: this.waiters.length, failedProbes: 0 };
  }

  /**
   * Resolves true when the caller may try its start: at once while open; while paused, when it is
   * this caller's turn to probe or the gate reopens. Resolves false if `signal` aborts first.
   */
  turn(signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    if (!this.paused) return Promise.resolve(true);
    if (this.probeDue && !this.probing) {
      this.probeDue = false;
      this.probing = true;
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve) => {
      const waiter: Waiter = {
        resolve: (go) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(go);
        },
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        this.changed();
        waiter.resolve(false);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
      this.changed();
    });
  }

  /** A start went through (or found the order's workflow already there); `began`: when it was sent. */
  succeeded(began: number): void {
    this.lastSuccess = Math.max(this.lastSuccess, began);
    this.probing = false;
    this.probeDue = false;
    const p = this.paused;
    if (!p) return;
    this.paused = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    const released = this.waiters.splice(0);
    this.options.logger.info(
      {
        reason: p.failure.reason,
        pausedMs: Date.now() - p.since,
        failedProbes: p.failedProbes,
        released: released.length,
      },
      'workflow starts succeed again: bridge resumed',
    );
    this.changed();
    for (const w of released) w.resolve(true);
  }

  /** A start failed. Pauses the gate, or (for the probe) schedules the next probe further out. */
  failed(failure: StartFailure): void {
    const now = Date.now();
    const p = this.paused;
    if (!p) {
      this.paused = { since: now, failure, failedProbes: 0, lastLogAt: now };
      this.logPause(
        failure,
        'workflow start failed: bridge paused, holding its messages until a start succeeds',
      );
      this.probing = false;
      this.schedule();
      this.changed();
      return;
    }
    const changed = p.failure.reason !== failure.reason;
    p.failure = failure;
    if (changed || now - p.lastLogAt >= (this.options.remindEveryMs ?? 60_000)) {
      p.lastLogAt = now;
      this.logPause(
        failure,
        changed ? 'workflow start failure changed: bridge still paused' : 'bridge still paused',
      );
    }
    // Only the probe's answer moves the backoff on; a start that was already under way when the
    // gate paused just adds its failure.
    if (this.probing) {
      this.probing = false;
      p.failedProbes++;
      this.schedule();
    }
  }

  /**
   * A start failed for a reason of its own message (not the system's): if it was the probe, the
   * next waiter gets its turn after the current backoff, and the pause itself is left as it is.
   */
  skip(): void {
    if (!this.probing) return;
    this.probing = false;
    this.schedule();
  }

  /** Stops the timer and lets every waiter go (with false): the bridge is closing. */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.waiters.splice(0)) w.resolve(false);
    this.changed();
  }

  private schedule(): void {
    const p = this.paused;
    if (!p || this.timer) return;
    const { delaysMs } = this.options;
    const delay = delaysMs.length === 0 ? 1_000 : delaysMs[Math.min(p.failedProbes, delaysMs.length - 1)];
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.paused || this.probing) return;
      const next = this.waiters.shift();
      if (next) {
        this.changed();
        this.probing = true;
        next.resolve(true);
      } else {
        this.probeDue = true;
      }
    }, delay);
    this.timer.unref();
  }

  private changed(): void {
    this.options.onChange?.(this.status());
  }

  private logPause(failure: StartFailure, message: string): void {
    const p = this.paused;
    const fields = {
      reason: failure.reason,
      transient: failure.transient,
      err: failure.detail,
      waiting: this.waiters.length,
      pausedMs: p ? Date.now() - p.since : 0,
    };
    // Temporal being away is an outage the bridge rides out; a refusal needs an operator.
    if (failure.transient) this.options.logger.warn(fields, message);
    else this.options.logger.error(fields, `${message}; needs an operator: ${failure.reason}`);
  }
}
