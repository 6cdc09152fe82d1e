import { z } from 'zod';

export const DEFAULT_ROLLOUT_CACHE_MS = 2000;

export const rolloutEnv = z.object({
  // How long a process keeps the flag and pause state before reading SQL again: the bound on how
  // late a pause or a flag change reaches a worker. Issue 21 asks for a pause everywhere within 5 s.
  ROLLOUT_CACHE_MS: z.coerce.number().int().min(0).max(5000).default(DEFAULT_ROLLOUT_CACHE_MS),
});

export interface RolloutConfig {
  /** ROLLOUT_CACHE_MS: the rollout state's cache lifetime in each process (docs/adr/0014-rollout-control.md). */
  cacheMs: number;
}
