import { z } from 'zod';
import { csv } from './primitives';

const WORKER_QUEUE_NAMES = ['orders', 'consent', 'send'] as const;
export type WorkerQueue = (typeof WORKER_QUEUE_NAMES)[number];

export const workerEnv = z.object({
  WORKER_QUEUES: csv.pipe(z.array(z.enum(WORKER_QUEUE_NAMES)).min(1)).default([...WORKER_QUEUE_NAMES]),
  WORKER_ACTIVITY_SLOTS: z.coerce.number().int().min(1).max(1000).default(100),
  WORKER_WORKFLOW_SLOTS: z.coerce.number().int().min(2).max(1000).default(100),
  // Measured (README, Benchmarks): 20 held a worker with 1,000 open orders at 299 MB, 50 at 325 MB,
  // against 671 MB with the SDK's heap-sized default, at the same throughput. 0 turns the cache off.
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).max(100_000).default(20),
  // Unset: the SDK's default, min(10, slots); no setting measured better on 2 cores.
  WORKER_WORKFLOW_POLLERS: z.coerce.number().int().min(2).max(100).optional(),
  WORKER_ACTIVITY_POLLERS: z.coerce.number().int().min(1).max(100).optional(),
  WORKER_SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
});
type WorkerEnv = z.infer<typeof workerEnv>;

export interface WorkerConfig {
  /** Which task queues this worker process polls: all by default, or a role when scaled apart. */
  queues: WorkerQueue[];
  /** Activity slots per queue's worker (maxConcurrentActivityTaskExecutions). */
  activitySlots: number;
  /** Workflow task slots per queue's worker (maxConcurrentWorkflowTaskExecutions). */
  workflowSlots: number;
  /**
   * Sticky cache size per queue's worker (maxCachedWorkflows): each cached run keeps its workflow
   * state in memory; an evicted one is replayed from its history on its next task.
   */
  maxCachedWorkflows: number;
  /** Concurrent workflow / activity task polls per queue's worker (at most the slot count). */
  workflowPollers?: number;
  activityPollers?: number;
  /** On SIGTERM/SIGINT, how long running activities get before they are cancelled. */
  shutdownGraceMs: number;
}

export function workerConfig(env: WorkerEnv): WorkerConfig {
  return {
    queues: env.WORKER_QUEUES,
    activitySlots: env.WORKER_ACTIVITY_SLOTS,
    workflowSlots: env.WORKER_WORKFLOW_SLOTS,
    maxCachedWorkflows: env.WORKER_MAX_CACHED_WORKFLOWS,
    workflowPollers: env.WORKER_WORKFLOW_POLLERS,
    activityPollers: env.WORKER_ACTIVITY_POLLERS,
    shutdownGraceMs: env.WORKER_SHUTDOWN_GRACE_SECONDS * 1000,
  };
}
