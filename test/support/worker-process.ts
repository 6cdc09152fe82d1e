import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { createRepositories, type Repositories } from '../../db';
import { SimulatorStore } from '../../providers/simulator/simulator-store';
import { createTestDatabase, type TestDatabase } from './db';
import { connectTestClient, testTemporalAddress, uniqueTaskQueue, waitFor, workflowBundle } from './temporal';
import { startTestWorkers, tempSimulatorPath, type TestWorkers } from './workers';

const ROOT = path.resolve(__dirname, '../..');

/** What a worker process needs to join this test run: the shared dev server and the run's bundle. */
export function workerProcessEnv(options: {
  taskQueue: string;
  databaseUrl: string;
  simulatorPath: string;
}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    TEMPORAL_ADDRESS: testTemporalAddress(),
    TEMPORAL_TASK_QUEUE: options.taskQueue,
    DATABASE_URL: options.databaseUrl,
    SIMULATOR_DB_PATH: options.simulatorPath,
    WORKFLOW_BUNDLE_PATH: workflowBundle().codePath,
    // Several workers run on one machine at once: an ephemeral metrics port each, no SDK exporter.
    METRICS_PORT: '0',
    TEMPORAL_METRICS_PORT: '0',
  };
}

/** The real worker entry (npm run worker) as its own process, so it can be killed like a crashed pod. */
export function spawnWorker(env: Record<string, string>): { child: ChildProcess; output: () => string } {
  let output = '';
  // node itself with tsx's loader, not the tsx CLI: the CLI runs the script in a grandchild that a
  // signal to the CLI would leave running, and tests must reach the process doing the work.
  const child = spawn(process.execPath, ['--import', 'tsx', 'workers/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

/** Resolves with the exit code (or signal name) once the process has exited. */
export function exited(child: ChildProcess): Promise<number | string> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  if (child.signalCode !== null) return Promise.resolve(child.signalCode);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
}

/** What `withDoomedWorker` hands its callback: the order side's own files, queue and client, and the process. */
export interface DoomedWorkerRun {
  db: TestDatabase;
  repos: Repositories;
  taskQueue: string;
  simulatorPath: string;
  /** The simulator's file as the test reads it. */
  store: SimulatorStore;
  client: Client;
  /** The worker process, started and polling `taskQueue`. */
  doomed: ReturnType<typeof spawnWorker>;
  /** SIGKILLs the process, as a crashed pod dies, and waits until it is gone. */
  kill(): Promise<void>;
  /** Starts the in-process worker that takes over the queue and the files (stopped after `fn`). */
  takeOver(): Promise<TestWorkers>;
}

/**
 * For the tests that kill a worker mid-order: a worker process (with `env`) on a fresh database,
 * task queue and simulator file, started, handed to `fn`; the process, the replacement and every
 * file and connection are cleaned up after, pass or fail.
 */
export async function withDoomedWorker(
  name: string,
  env: Record<string, string>,
  fn: (run: DoomedWorkerRun) => Promise<void>,
): Promise<void> {
  const db = await createTestDatabase();
  const taskQueue = uniqueTaskQueue(name);
  const simulatorPath = tempSimulatorPath();
  const store = new SimulatorStore(simulatorPath);
  const { client, close } = await connectTestClient();
  let replacement: TestWorkers | undefined;
  const doomed = spawnWorker({
    ...workerProcessEnv({ taskQueue, databaseUrl: db.url, simulatorPath }),
    ...env,
  });
  const alive = () => doomed.child.exitCode === null && doomed.child.signalCode === null;
  try {
    await waitFor(async () => doomed.output().includes('worker started'), {
      timeoutMs: 90_000,
      description: 'the worker process started',
    });
    await fn({
      db,
      repos: createRepositories(db.knex),
      taskQueue,
      simulatorPath,
      store,
      client,
      doomed,
      async kill() {
        if (alive()) doomed.child.kill('SIGKILL');
        await exited(doomed.child);
      },
      async takeOver() {
        replacement = await startTestWorkers({ knex: db.knex, taskQueue, simulatorPath });
        return replacement;
      },
    });
  } finally {
    if (alive()) doomed.child.kill('SIGKILL');
    await replacement?.shutdown();
    await store.close();
    await close();
    await db.destroy();
  }
}
