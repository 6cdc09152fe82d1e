/** A named dependency check: resolves when the dependency answers, rejects with the reason otherwise. */
export type ReadinessCheck = () => Promise<void>;

export interface CheckResult {
  status: 'up' | 'down';
  durationMs: number;
  /** Set only from a ReadinessReason: a name meant for the probe's answer, never an error's text. */
  reason?: string;
}

/**
 * A check's failure whose message is a short reason fit for the public probe (e.g. `paused:
 * NamespaceNotFound`). Any other error is answered as plain `down`; its text goes to the log only.
 */
export class ReadinessReason extends Error {
  override readonly name = 'ReadinessReason';
}

export interface ReadinessReport {
  ready: boolean;
  checkedAt: string;
  checks: Record<string, CheckResult>;
}

/**
 * Runs every check in parallel with a timeout and caches the report, so a load balancer probing
 * every second does not turn into a query per probe against the database and Temporal.
 */
export function createReadiness(
  checks: Record<string, ReadinessCheck>,
  options: {
    ttlMs?: number;
    timeoutMs?: number;
    now?: () => number;
    /** Where a failing check's error goes: the probes' answers name the check, never its error text. */
    onDown?: (check: string, err: unknown) => void;
    /**
     * Checks reported (and /health says degraded) whose failure still leaves the process ready: it
     * serves its main traffic without them (the API's webhooks without the database, ADR 0013).
     */
    optional?: readonly string[];
  } = {},
): () => Promise<ReadinessReport> {
  const { ttlMs = 10_000, timeoutMs = 3_000, now = Date.now } = options;
  const optional = new Set(options.optional);
  let cached: { at: number; report: Promise<ReadinessReport> } | undefined;

  const run = async (): Promise<ReadinessReport> => {
    const entries = await Promise.all(
      Object.entries(checks).map(async ([name, check]): Promise<[string, CheckResult]> => {
        const started = now();
        try {
          await withTimeout(check(), timeoutMs);
          return [name, { status: 'up', durationMs: now() - started }];
        } catch (err) {
          options.onDown?.(name, err);
          const reason = err instanceof ReadinessReason ? { reason: err.message } : {};
          return [name, { status: 'down', durationMs: now() - started, ...reason }];
        }
      }),
    );
    const results = Object.fromEntries(entries);
    return {
      ready: entries.every(([name, r]) => r.status === 'up' || optional.has(name)),
      checkedAt: new Date(now()).toISOString(),
      checks: results,
    };
  };

  return () => {
    if (!cached || now() - cached.at >= ttlMs) cached = { at: now(), report: run() };
    return cached.report;
  };
}

/** The promise's outcome, or a rejection after `ms` (the promise itself runs on, unobserved). */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
