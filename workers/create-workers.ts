import fs from 'node:fs';
import { bundleWorkflowCode, Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import {
  createConsentActivities,
  createOrderQueueActivities,
  createSendActivities,
  type ActivityDeps,
} from '../activities';
import type { Config, PayloadCodecKey } from '../config';
import type { ProviderName } from '../domain/enums';
import { processMetrics, type Metrics } from '../runtime/metrics';
import { consentTaskQueue, sendTaskQueue } from '../temporal/contracts';
import { metricsInterceptors } from './metrics-interceptor';
import { createDataConverter } from '../temporal/data-converter';
import type { Tracing } from '../runtime/tracing';
import {
  TRACING_INTERCEPTORS_MODULE,
  tracingBundlePath,
  workflowBundleOptions,
} from './workflow-bundle-options';

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
  /** Where activity outcomes are counted; the process's registry unless a test brings its own. */
  metrics?: Metrics;
  /** The payload codec's keys (PAYLOAD_CODEC_KEYS): every worker encrypts and decrypts with them. */
  payloadCodecKeys: PayloadCodecKey[];
  /**
   * OpenTelemetry (runtime/tracing.ts), when on: activity spans, the workflow spans' sink, and the
   * tracing twin of the workflow bundle (a pre-built one's sibling, <bundle>.tracing.js).
   */
  tracing?: Tracing;
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
  const tracing = setup.tracing;
  const prebuilt = setup.workflowBundle && {
    codePath: tracing ? tracingBundlePath(setup.workflowBundle.codePath) : setup.workflowBundle.codePath,
  };
  if (prebuilt && runsWorkflows) await assertBundleEncodesFailures(prebuilt.codePath, { tracing: !!tracing });
  const workflowBundle =
    prebuilt ??
    (runsWorkflows ? await bundleWorkflowCode(workflowBundleOptions({ tracing: !!tracing })) : undefined);
  const workflows: Pick<WorkerOptions, 'workflowBundle'> = { workflowBundle };
  // Explicit, so capacity is a decision; the grace time bounds how long SIGTERM waits on activities
  // (they see the cancellation through their heartbeats and stop).
  const common = {
    connection: setup.connection,
    namespace: setup.namespace,
    dataConverter: createDataConverter({ payloadCodecKeys: setup.payloadCodecKeys }),
    ...workerTuningOptions(tuning),
    interceptors: {
      // Tracing first, so the metrics interceptor's work (and the activity) runs inside the span.
      activity: [
        ...(tracing?.activityInterceptors ?? []),
        metricsInterceptors(setup.metrics ?? processMetrics()),
      ],
    },
    ...(tracing ? { sinks: tracing.workflowSinks } : {}),
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
 * A bundle built without workflowBundleOptions() would run, but the failures its workflows raise
 * would keep their messages in plain text on the server: refuse it at start instead.
 */
async function assertBundleEncodesFailures(codePath: string, options: { tracing: boolean }): Promise<void> {
  const code = await fs.promises.readFile(codePath, 'utf8');
  if (!/temporal\/failure-converter\.(ts|js)"/.test(code)) {
    throw new Error(
      `the workflow bundle ${codePath} was built without the failure converter: build it with workflowBundleOptions() (workers/workflow-bundle-options.ts)`,
    );
  }
  // Tracing on with a bundle lacking the interceptors would export activity spans cut off from
  // their workflow: refuse at start, naming the build that makes the right one.
  if (options.tracing && !code.includes(TRACING_INTERCEPTORS_MODULE.split('/lib/')[0])) {
    throw new Error(
      `tracing is on (OTEL_EXPORTER_OTLP_ENDPOINT) but ${codePath} lacks the OpenTelemetry workflow interceptors: build it with workflowBundleOptions({ tracing: true }) (npm run build writes it beside the plain bundle)`,
    );
  }
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
