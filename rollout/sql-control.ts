import type { Logger } from '../config/logger';
import type { Repositories } from '../db';
import type { RolloutSnapshot } from '../db/rollout-repository';
import type { Metrics } from '../runtime/metrics';
import {
  ORDER_CONFIRMATION_SMS_FLAG,
  type ActivePause,
  type FlagEvaluation,
  type PauseScope,
  type RolloutControl,
} from './control';
import { evaluateFlag, pauseFor } from './evaluate';

export interface SqlRolloutControl extends RolloutControl {
  /** The whole state as of at most `cacheMs` ago (loading it if older). */
  state(): Promise<RolloutSnapshot>;
  /** Drops the cached state: this process just changed it (the admin API) and reads it back at once. */
  invalidate(): void;
}

const PAUSE_SCOPES: ReadonlyArray<PauseScope['scope']> = ['global', 'provider', 'venue'];

/**
 * RolloutControl over SQL. The whole state (flag row, overrides, active pauses) is read in one go
 * and kept for `cacheMs` (ROLLOUT_CACHE_MS, at most 5 s): every process re-reads at most that long
 * after a change, which is how a pause reaches every worker within 5 seconds without any push.
 * Concurrent callers share one in-flight load.
 *
 * When a load fails, the last good state keeps being served (logged once per failure streak; the
 * next load is tried `cacheMs` later, not on every call). With no good state yet the failure is
 * thrown: the send step must not send while it cannot know whether a pause holds it.
 */
export function createRolloutControl(options: {
  repos: Pick<Repositories, 'rollout'>;
  cacheMs: number;
  /**
   * Evaluations are counted when given; the pause gauges are set on each load when given (the
   * worker's, whose gauge loop reloads every 30 s: an API replica without flag traffic would keep
   * reporting a pause it loaded long ago).
   */
  metrics?: Pick<Metrics, 'flagEvaluations'> & Partial<Pick<Metrics, 'rolloutPauses' | 'rolloutPausedSince'>>;
  logger?: Logger;
  /** Milliseconds since the epoch; tests move it instead of sleeping. */
  now?: () => number;
  flagKey?: string;
}): SqlRolloutControl {
  const { repos, cacheMs, metrics, logger } = options;
  const now = options.now ?? Date.now;
  const flagKey = options.flagKey ?? ORDER_CONFIRMATION_SMS_FLAG;
  let cached: { snapshot: RolloutSnapshot; validUntil: number } | undefined;
  // Bumped by invalidate(): a load begun before it may have read the state the change replaced.
  let generation = 0;
  let inFlight: { generation: number; promise: Promise<RolloutSnapshot> } | undefined;
  let failing = false;

  const load = async (started: number): Promise<RolloutSnapshot> => {
    try {
      const snapshot = await repos.rollout.snapshot(flagKey);
      if (started === generation) cached = { snapshot, validUntil: now() + cacheMs };
      if (failing) logger?.info('rollout state loaded again');
      failing = false;
      if (metrics?.rolloutPauses && metrics.rolloutPausedSince) {
        reportPauses(metrics.rolloutPauses, metrics.rolloutPausedSince, snapshot.pauses);
      }
      return snapshot;
    } catch (err) {
      if (!cached) throw err;
      if (!failing) logger?.warn({ err }, 'loading the rollout state failed; serving the last one loaded');
      failing = true;
      cached = { snapshot: cached.snapshot, validUntil: now() + cacheMs };
      return cached.snapshot;
    }
  };

  const state = (): Promise<RolloutSnapshot> => {
    if (cached && now() < cached.validUntil) return Promise.resolve(cached.snapshot);
    if (inFlight?.generation === generation) return inFlight.promise;
    const current = { generation, promise: load(generation) };
    inFlight = current;
    void current.promise
      .finally(() => {
        if (inFlight === current) inFlight = undefined;
      })
      .catch(() => undefined);
    return current.promise;
  };

  return {
    state,
    invalidate: () => {
      generation++;
      cached = cached && { ...cached, validUntil: 0 };
    },
    async evaluate(venueId: number): Promise<FlagEvaluation> {
      const { flag, overrides } = await state();
      const result = evaluateFlag(flagKey, { ...flag, overrides }, venueId);
      metrics?.flagEvaluations.inc({
        result: result.enabled ? 'enabled' : 'disabled',
        reason: result.reason,
      });
      return result;
    },
    async pauseFor(target): Promise<ActivePause | undefined> {
      return pauseFor((await state()).pauses, target);
    },
  };
}

function reportPauses(
  count: Metrics['rolloutPauses'],
  since: Metrics['rolloutPausedSince'],
  pauses: readonly ActivePause[],
): void {
  for (const scope of PAUSE_SCOPES) {
    const of = pauses.filter((p) => p.target.scope === scope);
    count.set({ scope }, of.length);
    const oldest = Math.min(...of.map((p) => p.pausedAt.getTime()));
    since.set({ scope }, of.length === 0 ? 0 : oldest / 1000);
  }
}
