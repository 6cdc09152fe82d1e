import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import {
  createConsentActivities,
  createOrderQueueActivities,
  createSendActivities,
  type ActivityDeps,
} from '../activities';
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
}

/**
 * The order queue runs the order and provisioning workflows and every activity but the send. Each
 * provider's send queue is paced by the server (maxTaskQueueActivitiesPerSecond), so the rate holds
 * across all replicas. Consent entities have a queue of their own: an order backlog never delays an
 * opt-out, nor the pending-changes query every send decision asks.
 */
export async function createWorkers(setup: WorkerSetup): Promise<Worker[]> {
  const workflows: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath' | 'interceptors'> =
    setup.workflowBundle
      ? { workflowBundle: setup.workflowBundle }
      : {
          workflowsPath: require.resolve('../workflows'),
          interceptors: { workflowModules: [require.resolve('../workflows/interceptors')] },
        };
  const orderWorker = await Worker.create({
    connection: setup.connection,
    namespace: setup.namespace,
    taskQueue: setup.taskQueue,
    ...workflows,
    activities: createOrderQueueActivities(setup.deps),
  });
  const consentWorker = await Worker.create({
    connection: setup.connection,
    namespace: setup.namespace,
    taskQueue: consentTaskQueue(setup.taskQueue),
    ...workflows,
    activities: createConsentActivities(setup.deps),
  });
  const sendWorkers = await Promise.all(
    setup.providers.map((provider) =>
      Worker.create({
        connection: setup.connection,
        namespace: setup.namespace,
        taskQueue: sendTaskQueue(setup.taskQueue, provider),
        activities: createSendActivities(setup.deps),
        maxTaskQueueActivitiesPerSecond: setup.sendRatePerSecond[provider],
      }),
    ),
  );
  return [orderWorker, consentWorker, ...sendWorkers];
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
