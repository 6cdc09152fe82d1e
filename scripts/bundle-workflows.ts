import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { tracingBundlePath, workflowBundleOptions } from '../workers/workflow-bundle-options';

/**
 * The pre-built workflow bundle the production worker loads through WORKFLOW_BUNDLE_PATH, so a
 * worker starts without webpack and every replica runs byte-identical workflow code. Part of
 * `npm run build`: compiled, it runs as `node dist/scripts/bundle-workflows.js [out]` and bundles
 * the compiled dist/workflows (what production runs) into dist/workflow-bundle.js, and its tracing twin
 * into dist/workflow-bundle.tracing.js.
 */
async function main(): Promise<void> {
  // dist/ when compiled; the workflows and their interceptors sit beside scripts/ in either tree.
  const root = path.resolve(__dirname, '..');
  const out = path.resolve(process.argv[2] ?? path.join(root, 'workflow-bundle.js'));
  // Two bundles: the one workers load, and its twin with the OpenTelemetry workflow interceptors
  // that a worker with tracing on loads instead (workers/workflow-bundle-options.ts).
  for (const [file, tracing] of [
    [out, false],
    [tracingBundlePath(out), true],
  ] as const) {
    const { code } = await bundleWorkflowCode({
      ...workflowBundleOptions({ tracing }),
      // webpack's module listing is noise in a build log; its warnings and errors still show.
      logger: new DefaultLogger('WARN'),
    });
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // Written whole, then renamed: a worker starting meanwhile never reads half a bundle.
    fs.writeFileSync(`${file}.tmp`, code);
    fs.renameSync(`${file}.tmp`, file);
    console.log(
      `workflow bundle: ${path.relative(process.cwd(), file)} (${(code.length / 1024).toFixed(0)} KiB)`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
