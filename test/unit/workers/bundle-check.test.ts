import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NativeConnection } from '@temporalio/worker';
import type { ActivityDeps } from '../../../activities';
import { loadConfig } from '../../../config';
import { createWorkers } from '../../../workers/create-workers';
import { workflowBundle } from '../../support/temporal';

const config = loadConfig({ NODE_ENV: 'test' });
const setup = (codePath: string) => ({
  // Never reached: the bundle is checked before any worker is created.
  connection: {} as NativeConnection,
  namespace: 'default',
  taskQueue: 'bundle-check',
  deps: {} as ActivityDeps,
  providers: [],
  sendRatePerSecond: {},
  tuning: { ...config.worker, queues: ['orders' as const] },
  payloadCodecKeys: config.temporal.payloadCodecKeys,
  workflowBundle: { codePath },
});

test('a pre-built workflow bundle without the failure converter is refused at start', async () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sms-bad-bundle-')), 'workflow-bundle.js');
  fs.writeFileSync(file, 'module.exports = {};');
  await expect(createWorkers(setup(file))).rejects.toThrow(/built without the failure converter/);
});

test("the run's bundle, built with workflowBundleOptions(), carries it", () => {
  expect(fs.readFileSync(workflowBundle().codePath, 'utf8')).toMatch(/temporal\/failure-converter\.(ts|js)"/);
});
