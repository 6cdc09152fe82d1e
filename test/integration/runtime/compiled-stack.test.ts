import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../../../scripts/temporal-cli';
import { createTestDatabase, type TestDatabase } from '../../support/db';
import { replayRecordedHistories } from '../../support/histories';
import { uniqueTaskQueue, waitFor } from '../../support/temporal';
import { sampleEvent, tempSimulatorPath } from '../../support/workers';
import { workerProcessEnv } from '../../support/worker-process';

/**
 * What production runs: `npm run build` (tsc, then the pre-built workflow bundle), and the
 * production scripts (`migrate:prod`, `start:worker`, `start:api`) on the compiled JavaScript, no
 * tsx anywhere. The worker must load dist/workflow-bundle.js through WORKFLOW_BUNDLE_PATH (the
 * script's default) and carry an order from the API's ingress to `sent`.
 */

const ROOT = path.resolve(__dirname, '../../..');
const DIST = path.join(ROOT, 'dist');
const BUNDLE = path.join(DIST, 'workflow-bundle.js');
const API_TOKEN = 'compiled-stack-token-0123456789';

interface Proc {
  child: ChildProcess;
  output: () => string;
}

const running = new Set<ChildProcess>();
// Each npm script runs in a process group of its own, so npm and the node it starts stop together.
const killGroup = (child: ChildProcess, signal: NodeJS.Signals) => {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
};
const killAll = () => running.forEach((child) => killGroup(child, 'SIGKILL'));
process.once('exit', killAll);

function npmRun(script: string, args: string[], env: Record<string, string | undefined>): Proc {
  let output = '';
  const child = spawn('npm', ['run', '-s', script, ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

function exitCode(proc: Proc): Promise<number | string> {
  const { child } = proc;
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve(child.exitCode ?? child.signalCode ?? -1);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
}

async function stop(proc: Proc | undefined): Promise<void> {
  if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  const timer = setTimeout(() => killGroup(proc.child, 'SIGKILL'), 15_000);
  killGroup(proc.child, 'SIGTERM');
  await exitCode(proc);
  clearTimeout(timer);
}

/** A failed wait names what the process printed, which is what one needs to see. */
const withOutput =
  (proc: Proc) =>
  (err: unknown): never => {
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- output ---\n${proc.output()}`);
  };

/** The environment of this jest worker without the test run's own bundle, so the script's default counts. */
function baseEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env };
  delete env.WORKFLOW_BUNDLE_PATH;
  return env;
}

beforeAll(async () => {
  const build = npmRun('build', [], baseEnv());
  const code = await exitCode(build);
  if (code !== 0) throw new Error(`npm run build exited ${code}:\n${build.output()}`);
}, 300_000);

test('npm run build emits the dist/ layout the image and the production scripts use', () => {
  for (const file of [
    'api/main.js',
    'workers/main.js',
    'bridge/main.js',
    'scripts/migrate.js',
    'workflow-bundle.js',
  ])
    expect(fs.existsSync(path.join(DIST, file))).toBe(true);
});

test('the compiled workflow bundle replays every recorded history', async () => {
  const { failures, replayed } = await replayRecordedHistories({ codePath: BUNDLE });
  expect(failures).toEqual([]);
  expect(replayed).toBeGreaterThan(0);
});

describe('the compiled worker and API', () => {
  let db: TestDatabase;
  let worker: Proc | undefined;
  let api: Proc | undefined;

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
  });

  afterAll(async () => {
    await Promise.all([stop(worker), stop(api)]);
    await db.destroy();
  });

  test('migrate, start both roles, and an order posted to the API comes out sent', async () => {
    const taskQueue = uniqueTaskQueue('compiled-stack');
    const port = await freePort();
    const env: Record<string, string | undefined> = {
      ...baseEnv(),
      ...workerProcessEnv({ taskQueue, databaseUrl: db.url, simulatorPath: tempSimulatorPath() }),
      API_TOKEN,
      PORT: String(port),
      LOG_LEVEL: 'info',
      // Several processes of one test run share this machine: ephemeral or no metrics ports.
      METRICS_PORT: '0',
      TEMPORAL_METRICS_PORT: '0',
    };
    delete env.WORKFLOW_BUNDLE_PATH;

    const migrate = npmRun('migrate:prod', [], env);
    expect(await exitCode(migrate)).toBe(0);
    expect(migrate.output()).toMatch(/applied \S+/);

    worker = npmRun('start:worker', [], env);
    api = npmRun('start:api', [], env);
    const started = await waitFor(
      async () =>
        worker!
          .output()
          .split('\n')
          .find((line) => line.includes('"worker started"')),
      { timeoutMs: 90_000, description: 'the compiled worker started' },
    ).catch(withOutput(worker));
    // The script's default: the pre-built bundle, not one bundled at start.
    expect(JSON.parse(started)).toMatchObject({ workflowBundle: 'dist/workflow-bundle.js' });

    const base = `http://127.0.0.1:${port}`;
    const headers = { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' };
    await waitFor(async () => (await fetch(`${base}/health/ready`)).ok, {
      timeoutMs: 90_000,
      description: 'the compiled API ready',
    }).catch(withOutput(api));

    const event = sampleEvent();
    const consent = await fetch(`${base}/api/internal/consent`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        venueId: event.VenueId,
        phoneNumber: event.PhoneNumber,
        status: 'opted_in',
        source: 'checkout',
      }),
    });
    expect(consent.status).toBe(202);
    const posted = await fetch(`${base}/api/events/send-order-confirmation-sms`, {
      method: 'POST',
      headers,
      body: JSON.stringify(event),
    });
    expect(posted.status).toBe(202);

    const order = await waitFor(
      async () => {
        const res = await fetch(`${base}/api/orders/${String(event.OrderId)}`, { headers });
        const body = (await res.json()) as { workflowStatus: string | null; outcome: string | null };
        return body.workflowStatus === 'COMPLETED' ? body : undefined;
      },
      { timeoutMs: 90_000, description: 'the order workflow completed' },
    ).catch(withOutput(worker));
    expect(order.outcome).toBe('sent');
    expect(worker.child.exitCode).toBeNull();
  }, 300_000);
});
