import type { Logger } from '../config/logger';

/**
 * Runs a gauge's visibility count now and then every `refreshMs`. Temporal's visibility store is
 * asked, not a worker: what it counts (workflows waiting on a retry, closed runs) occupies no worker.
 * A failed count keeps the gauge's last value and logs once per failure streak, so a flapping
 * Temporal does not flood the log; the timer is unref'd so it never keeps a process alive.
 */
export function startVisibilityGauge(options: {
  /** Counts and sets the gauge; throws to keep the last value. */
  count: () => Promise<void>;
  refreshMs: number;
  logger: Logger;
  /** What is counted, for the log line. */
  what: string;
}): { refresh(): Promise<void>; stop(): void } {
  const { count, logger, what } = options;
  let failing = false;
  const refresh = async () => {
    try {
      await count();
      failing = false;
    } catch (err) {
      if (!failing) logger.warn({ err }, `counting ${what} failed; the gauge keeps its last value`);
      failing = true;
    }
  };
  void refresh();
  const timer = setInterval(() => void refresh(), options.refreshMs);
  timer.unref();
  return { refresh, stop: () => clearInterval(timer) };
}
