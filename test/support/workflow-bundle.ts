import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startDevServer, type DevServer } from '../../scripts/temporal-cli';

const ROOT = path.resolve(__dirname, '../..');
const quiet = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: console.warn,
  error: console.error,
};

/** Bundles the workflows (with their interceptors) once into a temp file; returns its path. */
export async function writeWorkflowBundle(): Promise<string> {
  const bundle = await bundleWorkflowCode({
    workflowsPath: path.join(ROOT, 'workflows/index.ts'),
    workflowInterceptorModules: [path.join(ROOT, 'workflows/interceptors.ts')],
    logger: quiet,
  });
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
