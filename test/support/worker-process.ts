import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { testTemporalAddress, workflowBundle } from './temporal';

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
