import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startDevServer, type DevServer } from '../../scripts/temporal-cli';
import { workflowBundleOptions } from '../../workers/workflow-bundle-options';

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
 * For scripts outside jest (benches, the history recorder): a throwaway dev server and a bundle,
 * announced through the same environment globalSetup sets, so test/support works unchanged.
 */
export async function startStandaloneTemporal(): Promise<DevServer> {
  const server = await startDevServer({ headless: true, logLevel: 'error', log: (m) => console.error(m) });
  process.env.TEMPORAL_TEST_ADDRESS = server.address;
  process.env.WORKFLOW_BUNDLE_PATH = await writeWorkflowBundle();
  return server;
}
