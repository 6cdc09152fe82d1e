import { bundleWorkflowCode, Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import {
  createConsentActivities,
  createOrderQueueActivities,
  createSendActivities,
  type ActivityDeps,
} from '../activities';
import type { Config } from '../config';
import type { ProviderName } from '../domain/enums';
import { consentTaskQueue, sendTaskQueue } from '../temporal/contracts';

export interface WorkerSetup {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** Providers this worker sends through; each gets its own rate-limited send queue. */
  providers: ProviderName[];
  /** Send-queue rate per provider (maxTaskQueueActivitiesPerSecond, enforced by the server). */
  sendRatePerSecond: Partial<Record<ProviderName, number>>;
  /** A pre-built bundle (tests bundle once per run); otherwise the workflows are bundled at start. */
  workflowBundle?: { codePath: string };
  /** Which queues to poll, slot counts and the shutdown grace time (WORKER_* settings). */
  tuning: Config['worker'];
}

/**
 * The order queue runs the order and provisioning workflows and every activity but the send. Each
 * provider's send queue is paced by the server (maxTaskQueueActivitiesPerSecond), so the rate holds
 * across all replicas. Consent entities have a queue of their own: an order backlog never delays an
 * opt-out, nor the pending-changes query every send decision asks.
 */
export async function createWorkers(setup: WorkerSetup): Promise<Worker[]> {
  const { tuning } = setup;
  // Bundled once for the order and consent workers alike, and only if one runs here (tests and
  // images bring a bundle built ahead).
  const runsWorkflows = tuning.queues.includes('orders') || tuning.queues.includes('consent');
  const workflowBundle =
    setup.workflowBundle ??
    (runsWorkflows
      ? await bundleWorkflowCode({
          workflowsPath: require.resolve('../workflows'),
          workflowInterceptorModules: [require.resolve('../workflows/interceptors')],
        })
      : undefined);
  const workflows: Pick<WorkerOptions, 'workflowBundle'> = { workflowBundle };
  // Explicit, so capacity is a decision; the grace time bounds how long SIGTERM waits on activities
  // (they see the cancellation through their heartbeats and stop).
  const common = {
    connection: setup.connection,
    namespace: setup.namespace,
    ...workerTuningOptions(tuning),
  };
  const workers: Array<Promise<Worker>> = [];
  if (tuning.queues.includes('orders')) {
    workers.push(
      Worker.create({
        ...common,
        ...workflows,
        taskQueue: setup.taskQueue,
        activities: createOrderQueueActivities(setup.deps),
      }),
    );
  }
  if (tuning.queues.includes('consent')) {
    workers.push(
      Worker.create({
        ...common,
        ...workflows,
        taskQueue: consentTaskQueue(setup.taskQueue),
        activities: createConsentActivities(setup.deps),
      }),
    );
  }
  if (tuning.queues.includes('send')) {
    for (const provider of setup.providers) {
      workers.push(
        Worker.create({
          ...common,
          taskQueue: sendTaskQueue(setup.taskQueue, provider),
          activities: createSendActivities(setup.deps),
          maxTaskQueueActivitiesPerSecond: setup.sendRatePerSecond[provider],
        }),
      );
    }
  }
  return Promise.all(workers);
}

/**
 * The WORKER_* settings as SDK options, shared with the bench's ceiling worker so both run with the
 * same capacity. Unset poller counts stay out, leaving the SDK's own default.
 */
export function workerTuningOptions(tuning: Config['worker']): Partial<WorkerOptions> {
  return {
    maxConcurrentActivityTaskExecutions: tuning.activitySlots,
    // A workflow task runs on a cached workflow: with the cache on, the SDK allows no more slots than
    // cache entries (it would lower them itself, with a warning at every start).
    maxConcurrentWorkflowTaskExecutions:
      tuning.maxCachedWorkflows > 0
        ? Math.min(tuning.workflowSlots, tuning.maxCachedWorkflows)
        : tuning.workflowSlots,
    maxCachedWorkflows: tuning.maxCachedWorkflows,
    shutdownGraceTime: tuning.shutdownGraceMs,
    // Never more pollers than slots (the SDK refuses that); a small slot count caps them.
    ...(tuning.workflowPollers !== undefined
      ? { maxConcurrentWorkflowTaskPolls: Math.min(tuning.workflowPollers, tuning.workflowSlots) }
      : {}),
    ...(tuning.activityPollers !== undefined
      ? { maxConcurrentActivityTaskPolls: Math.min(tuning.activityPollers, tuning.activitySlots) }
      : {}),
  };
}

/** Runs workers together; when one stops (signal or fatal error) the others are shut down too. */
export async function runWorkers(workers: Worker[]): Promise<void> {
  try {
    await Promise.all(
      workers.map((w) =>
        w.run().finally(() => {
          for (const other of workers) if (other.getState() === 'RUNNING') other.shutdown();
        }),
      ),
    );
  } finally {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
  }
}
