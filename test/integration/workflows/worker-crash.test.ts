import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { startOrderConfirmation } from '../../../bridge/start-order';
import { parseOrderEvent } from '../../../domain/order-event';
import { SimulatorStore } from '../../../providers/simulator/simulator-store';
import { orderWorkflowId } from '../../../temporal/ids';
import { createTestDatabase } from '../../support/db';
import {
  connectTestClient,
  testTemporalAddress,
  uniqueTaskQueue,
  waitFor,
  workflowBundle,
} from '../../support/temporal';
import { sampleEvent, startTestWorkers, tempSimulatorPath, type TestWorkers } from '../../support/workers';

const ROOT = path.resolve(__dirname, '../../..');

/** The real worker entry (npm run worker) as its own process, so it can be killed like a crashed pod. */
function spawnWorker(env: Record<string, string>): { child: ChildProcess; output: () => string } {
  let output = '';
  // node itself with tsx's loader, not the tsx CLI: the CLI runs the script in a grandchild that a
  // SIGKILL of the CLI would leave running, and this test must kill the process doing the work.
  const child = spawn(process.execPath, ['--import', 'tsx', 'workers/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

test('a worker killed between the provider accepting and the history write: one SMS after a new worker takes over', async () => {
  const db = await createTestDatabase();
  const taskQueue = uniqueTaskQueue('worker-crash');
  const simulatorPath = tempSimulatorPath();
  const store = new SimulatorStore(simulatorPath);
  const { client, close } = await connectTestClient();
  let replacement: TestWorkers | undefined;
  const doomed = spawnWorker({
    NODE_ENV: 'test',
    TEMPORAL_ADDRESS: testTemporalAddress(),
    TEMPORAL_TASK_QUEUE: taskQueue,
    DATABASE_URL: db.url,
    SIMULATOR_DB_PATH: simulatorPath,
    // The provider holds its answer long after accepting: the kill lands inside that window.
    SIMULATOR_LATENCY_MS: '60000',
    WORKFLOW_BUNDLE_PATH: workflowBundle().codePath,
  });
  try {
    const parsed = parseOrderEvent(sampleEvent({ PhoneNumber: '+14155550199' }));
    if (!parsed.ok) throw new Error('bad sample');
    const e = parsed.event;
    const repos = (await import('../../../db')).createRepositories(db.knex);
    await repos.consent.applyChange({
      venueId: e.venueId,
      phoneNumber: e.phoneNumber,
      status: 'opted_in',
      source: 'checkout',
      occurredAt: new Date(Date.now() - 1000),
    });
    await waitFor(async () => doomed.output().includes('worker started'), {
      timeoutMs: 60_000,
      description: 'child worker started',
    });
    await startOrderConfirmation(client, taskQueue, e, { correlationId: 'crash-test' });

    await waitFor(
      async () => ((await store.messages({ to: e.phoneNumber })).length === 1 ? true : undefined),
      {
        description: 'the provider accepted the message',
      },
    );
    doomed.child.kill('SIGKILL');
    await new Promise((resolve) => doomed.child.once('exit', resolve));
    expect(await repos.history.findByOrderId(e.orderId)).toHaveLength(0);

    replacement = await startTestWorkers({ knex: db.knex, taskQueue, simulatorPath });
    const result = await client.workflow.getHandle(orderWorkflowId(e.orderId)).result();

    const messages = await store.messages({ to: e.phoneNumber });
    expect(messages).toHaveLength(1);
    expect(result).toMatchObject({ outcome: 'sent', providerMessageId: messages[0].sid });
    expect((await repos.history.findByOrderId(e.orderId))[0]).toMatchObject({
      status: 'sent',
      providerMessageId: messages[0].sid,
    });
  } finally {
    if (doomed.child.exitCode === null && doomed.child.signalCode === null) doomed.child.kill('SIGKILL');
    await replacement?.shutdown();
    await store.close();
    await close();
    await db.destroy();
  }
});
