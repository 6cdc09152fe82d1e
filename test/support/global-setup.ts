import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startDevServer, type DevServer } from '../../scripts/temporal-cli';

declare global {
  var __temporalDevServer: DevServer | undefined;
  var __workflowBundleDir: string | undefined;
}

/**
 * One Temporal dev server and one workflow bundle for the whole run. Test files reach them through
 * the environment (jest workers inherit it) — see test/support/temporal.ts.
 */
export default async function globalSetup(): Promise<void> {
  if (!process.env.TEMPORAL_TEST_ADDRESS) {
    const server = await startDevServer({ headless: true, logLevel: 'error' });
    globalThis.__temporalDevServer = server;
    process.env.TEMPORAL_TEST_ADDRESS = server.address;
    process.env.TEMPORAL_TEST_NAMESPACE = server.namespace;
  }
  const root = path.resolve(__dirname, '../..');
  const bundle = await bundleWorkflowCode({
    workflowsPath: path.join(root, 'workflows/index.ts'),
    workflowInterceptorModules: [path.join(root, 'workflows/interceptors.ts')],
    logger: {
      log: () => undefined,
      trace: () => undefined,
      debug: () => undefined,
      info: () => undefined,
      warn: console.warn,
      error: console.error,
    },
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sms-workflow-bundle-'));
  fs.writeFileSync(path.join(dir, 'workflow-bundle.js'), bundle.code);
  globalThis.__workflowBundleDir = dir;
  process.env.WORKFLOW_BUNDLE_PATH = path.join(dir, 'workflow-bundle.js');
}
