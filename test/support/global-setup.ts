import path from 'node:path';
import { assertSupportedNode } from '../../scripts/node-version';
import { startDevServer, type DevServer } from '../../scripts/temporal-cli';
import { TEST_SUGGEST_CONTINUE_AS_NEW_EVENTS } from './histories';
import { writeWorkflowBundle } from './workflow-bundle';

declare global {
  var __temporalDevServer: DevServer | undefined;
  var __workflowBundleDir: string | undefined;
}

/**
 * One Temporal dev server and one workflow bundle for the whole run. Test files reach them through
 * the environment (jest workers inherit it) — see test/support/temporal.ts.
 */
export default async function globalSetup(): Promise<void> {
  assertSupportedNode();
  if (!process.env.TEMPORAL_TEST_ADDRESS) {
    const server = await startDevServer({
      headless: true,
      logLevel: 'error',
      // The server suggests continue-as-new after this many events (production: 4K), so a consent
      // entity reaches its continue-as-new in a test within seconds; no other workflow acts on it.
      dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': TEST_SUGGEST_CONTINUE_AS_NEW_EVENTS },
    });
    globalThis.__temporalDevServer = server;
    process.env.TEMPORAL_TEST_ADDRESS = server.address;
    process.env.TEMPORAL_TEST_NAMESPACE = server.namespace;
  }
  const bundlePath = await writeWorkflowBundle();
  globalThis.__workflowBundleDir = path.dirname(bundlePath);
  process.env.WORKFLOW_BUNDLE_PATH = bundlePath;
}
