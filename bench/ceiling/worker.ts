import { NativeConnection, Runtime, DefaultLogger, Worker } from '@temporalio/worker';
import { loadConfigOrExit } from '../../config';
import { workerTuningOptions } from '../../workers/create-workers';
import { ceilingActivities } from './activities';
import { temporalConnectionOptions } from '../../temporal/connection-options';

/**
 * The ceiling's worker, a process of its own like the order worker, with a pre-built bundle
 * (CEILING_BUNDLE_PATH) and either the same WORKER_* settings (workerTuningOptions; CEILING_TUNING
 * `ours`, the default) or the SDK's own defaults (`sdk-defaults`): the bench takes the better of the
 * two, since a ceiling tuned down by our settings would flatter the order path.
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const bundlePath = process.env.CEILING_BUNDLE_PATH;
  if (!bundlePath) throw new Error('CEILING_BUNDLE_PATH is required');
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const connection = await NativeConnection.connect(temporalConnectionOptions(config.temporal));
  try {
    const worker = await Worker.create({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      workflowBundle: { codePath: bundlePath },
      activities: ceilingActivities,
      ...(process.env.CEILING_TUNING === 'sdk-defaults' ? {} : workerTuningOptions(config.worker)),
    });
    await worker.run();
  } finally {
    await connection.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(
    `ceiling worker failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
