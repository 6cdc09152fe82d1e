import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startDevServer, type DevServer } from '../../scripts/temporal-cli';
import { tracingBundlePath, workflowBundleOptions } from '../../workers/workflow-bundle-options';

const quiet = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: console.warn,
  error: console.error,
};

/** Bundles the workflows as production does (interceptors, failure converter) once into a temp file. */
export async function writeWorkflowBundle(): Promise<string> {
  const bundle = await bundleWorkflowCode({ ...workflowBundleOptions(), logger: quiet });
  const file = path.join(
    fs.mkdtempSync(path.join(os.tmpdir(), 'sms-workflow-bundle-')),
    'workflow-bundle.js',
  );
  fs.writeFileSync(file, bundle.code);
  return file;
}

/**
 * The tracing twin of the run's bundle (with the OpenTelemetry workflow interceptors), where a worker
 * with tracing on looks for it: beside WORKFLOW_BUNDLE_PATH. Bundled on first use, written whole.
 */
export async function tracingWorkflowBundle(): Promise<{ codePath: string }> {
  const plain = process.env.WORKFLOW_BUNDLE_PATH;
  if (!plain)
    throw new Error('WORKFLOW_BUNDLE_PATH is not set: run tests through jest (globalSetup bundles once)');
  const codePath = tracingBundlePath(plain);
  if (!fs.existsSync(codePath)) {
    const bundle = await bundleWorkflowCode({ ...workflowBundleOptions({ tracing: true }), logger: quiet });
    const tmp = `${codePath}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, bundle.code);
    fs.renameSync(tmp, codePath);
  }
  return { codePath };
}

/**
 * For scripts outside jest (benches, the history recorder): a throwaway dev server and a bundle,
 * announced through the same environment globalSetup sets, so test/support works unchanged.
 */
export async function startStandaloneTemporal(): Promise<DevServer> {
  const server = await startDevServer({ headless: true, logLevel: 'error', log: (m) => console.error(m) });
  process.env.TEMPORAL_TEST_ADDRESS = server.address;
  process.env.WORKFLOW_BUNDLE_PATH = await writeWorkflowBundle();
  return server;
}
