import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { createOrderQueueActivities, SendActivities } from '../../activities';
import { loadConfig } from '../../config';
import { PROVIDER_NAMES, type ProviderName } from '../../domain/enums';
import { ensureTestServer } from '../../scripts/test-server';
import { sendTaskQueue } from '../../temporal/contracts';
import { createDataConverter } from '../../temporal/data-converter';
import { ensureSearchAttributes } from '../../temporal/search-attributes-setup';
import { useResource } from './lifecycle';
import { quietRuntime } from './runtime';
import { uniqueTaskQueue, workflowBundle } from './temporal';

/** The service's codec with the local default key, on the test environment's client and its workers. */
const dataConverter = createDataConverter(loadConfig({ NODE_ENV: 'test' }).temporal);

/** First use on a fresh machine downloads the server from Maven Central: allow for it in beforeAll. */
export const TIME_SKIPPING_SETUP_TIMEOUT_MS = 5 * 60_000;

/**
 * The Java time-skipping test server, provisioned by scripts/test-server.ts (Maven Central, no
 * GitHub download), with the workflows' search attributes registered: upserting an unknown one
 * fails the workflow task. One per test file: time skipping is global to the server.
 */
export async function startTimeSkippingEnvironment(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  const path = await ensureTestServer((msg) => process.stderr.write(`${msg}\n`));
  const create = () =>
    TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path } },
      client: { dataConverter },
    });
  // sdk-core gives the server 5 s to answer; a JVM starting cold on a busy 2-core machine can miss
  // that once, and starts faster the second time.
  const env = await create().catch((err: unknown) => {
    process.stderr.write(`time-skipping test server did not start (${String(err)}); trying once more\n`);
    return create();
  });
  try {
    const setup = await ensureSearchAttributes(env.connection, env.namespace ?? 'default');
    if (setup.kind !== 'ready') throw new Error(`search attributes not registered: ${setup.reason}`);
  } catch (err) {
    await env.teardown();
    throw err;
  }
  return env;
}

/** The enclosing suite's time-skipping environment, started in beforeAll and torn down after. */
export function useTimeSkippingEnvironment(): TestWorkflowEnvironment {
  return useResource(startTimeSkippingEnvironment, (env) => env.teardown(), {
    timeoutMs: TIME_SKIPPING_SETUP_TIMEOUT_MS,
  });
}

export type StubbableActivities = ReturnType<typeof createOrderQueueActivities> & SendActivities;
export type ActivityName = keyof StubbableActivities;
/** Stubs take the real activities' inputs and return their results; any left out fails loudly. */
export type StubActivities = { [K in ActivityName]?: StubbableActivities[K] };
type InputOf<K extends ActivityName> = Parameters<StubbableActivities[K]>[0];

export interface ActivityCall {
  activity: ActivityName;
  input: unknown;
  taskQueue: string;
  attempt: number;
}

/** Every attempt of every stubbed activity, in the order the worker started them. */
export class ActivityCalls {
  readonly all: ActivityCall[] = [];

  inputs<K extends ActivityName>(activity: K): InputOf<K>[] {
    return this.all.filter((c) => c.activity === activity).map((c) => c.input as InputOf<K>);
  }

  count(activity: ActivityName): number {
    return this.all.filter((c) => c.activity === activity).length;
  }

  names(): ActivityName[] {
    return this.all.map((c) => c.activity);
  }
}

export interface StubWorkers {
  client: Client;
  /** The order queue; each provider's send queue is derived from it (sendTaskQueue). */
  taskQueue: string;
  calls: ActivityCalls;
  /** Starts serving a send queue held back with `holdSendQueues`, as a backlog clears. */
  startSendWorker(provider: ProviderName): Promise<void>;
}

export interface StubWorkerOptions {
  /** Send queues nobody polls until `startSendWorker`: their sends wait in the queue, unstarted. */
  holdSendQueues?: ProviderName[];
}

/**
 * Runs `fn` while workers serve the real workflow bundle and `stubs` on a fresh order queue and on
 * every provider's send queue, as production splits them. A fresh queue per call keeps a workflow
 * left over from an earlier test from reaching this test's stubs.
 */
export async function withStubWorkers<T>(
  env: TestWorkflowEnvironment,
  stubs: StubActivities,
  fn: (w: StubWorkers) => Promise<T>,
  options: StubWorkerOptions = {},
): Promise<T> {
  const taskQueue = uniqueTaskQueue('time-skipping');
  const calls = new ActivityCalls();
  const activities = recording(stubs, calls);
  const workers: Worker[] = [];
  const runs: Promise<void>[] = [];
  let crash: (err: unknown) => void = () => undefined;
  // A worker that dies mid-test fails the test instead of leaving it waiting on a result.
  const crashed = new Promise<never>((_, reject) => (crash = reject));
  crashed.catch(() => undefined);
  const run = (worker: Worker) => {
    workers.push(worker);
    runs.push(
      worker.run().then(
        () => undefined,
        (err: unknown) => crash(err),
      ),
    );
  };
  const sendWorker = (provider: ProviderName) =>
    Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace,
      taskQueue: sendTaskQueue(taskQueue, provider),
      activities,
      dataConverter,
    });

  try {
    run(
      await Worker.create({
        connection: env.nativeConnection,
        namespace: env.namespace,
        taskQueue,
        workflowBundle: workflowBundle(),
        activities,
        dataConverter,
      }),
    );
    const held = new Set(options.holdSendQueues ?? []);
    for (const provider of PROVIDER_NAMES) if (!held.has(provider)) run(await sendWorker(provider));
    const startSendWorker = async (provider: ProviderName) => {
      if (!held.delete(provider)) throw new Error(`the ${provider} send queue is already served`);
      run(await sendWorker(provider));
    };
    return await Promise.race([fn({ client: env.client, taskQueue, calls, startSendWorker }), crashed]);
  } finally {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    await Promise.all(runs);
  }
}

/** Wraps each stub so its calls are recorded; an activity the test did not stub fails without retry. */
function recording(
  stubs: StubActivities,
  calls: ActivityCalls,
): Record<ActivityName, (input: unknown) => unknown> {
  const names = new Set<ActivityName>([
    'checkConsent',
    'findVenueNumber',
    'renderMessage',
    'sendSms',
    'findAcceptedSms',
    'recordHistory',
    'recordProviderOptOut',
    ...(Object.keys(stubs) as ActivityName[]),
  ]);
  return Object.fromEntries(
    [...names].map((activity) => [
      activity,
      async (input: unknown) => {
        const { taskQueue, attempt } = Context.current().info;
        calls.all.push({ activity, input, taskQueue, attempt });
        const stub = stubs[activity] as ((input: unknown) => unknown) | undefined;
        if (!stub) throw ApplicationFailure.nonRetryable(`no stub for activity ${activity}`, 'MissingStub');
        return stub(input);
      },
    ]),
  ) as Record<ActivityName, (input: unknown) => unknown>;
}
