import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { createOrderQueueActivities, createSendActivities, type ActivityDeps } from '../activities';
import type { ProviderName } from '../domain/enums';
import { sendTaskQueue } from '../temporal/contracts';

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
 * The order queue runs the workflows and every activity but the send. Each provider's send queue
 * is paced by the server (maxTaskQueueActivitiesPerSecond), so the rate holds across all replicas.
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
  return [orderWorker, ...sendWorkers];
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
