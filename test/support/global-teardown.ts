import fs from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  await globalThis.__temporalDevServer?.stop();
  if (globalThis.__workflowBundleDir)
    fs.rmSync(globalThis.__workflowBundleDir, { recursive: true, force: true });
}
