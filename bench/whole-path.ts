import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode } from '@temporalio/worker';
import { loadConfig, type Config } from '../config';
import { createRepositories, type Repositories } from '../db';
import { createKnex } from '../db/knex';
import { migrateLatest } from '../db/migrate';
import { parseOrderEvent } from '../domain/order-event';
import { SimulatorStore } from '../providers/simulator/simulator-store';
import { startDevServer, freePort, type DevServer } from '../scripts/temporal-cli';
import { connectTemporalClient, type TemporalClientHandle } from '../temporal/client';
import { signalConsentChange } from '../temporal/consent-signal';
import { sendTaskQueue } from '../temporal/contracts';
import { orderWorkflowId } from '../temporal/ids';
import { startOrderConfirmation } from '../temporal/start-order';
import { writeWorkflowBundle } from '../test/support/workflow-bundle';
import { optIn, sampleEvent } from '../test/support/workers';
import type { CeilingInput } from './ceiling/activities';
import {
  killChildren,
  PRODUCTION_ENV,
  ROOT,
  spawnRole,
  stopRole,
  treeCpuMs,
  treeRssMb,
  waitUntilHealthy,
  type Role,
} from './support/processes';
import { countActions, meanActions, type ActionCount } from './support/actions';
import { Progress } from './support/progress';
import { perUnit, scrapeServerCounters, type Counters as ServerCounters } from './support/server-metrics';
import { batches, meanWaits, mergePhases, rounded, sum, type Phase } from './support/phases';
import { percentiles, phoneFor } from './support/stats';
import { temporalConnectionOptions } from '../temporal/connection-options';

/**
 * `npm run bench [-- --orders N --concurrency C1,C2,… --batches B --quick --compiled | --tsx
 * --opt-in sql|entity --cpu-prof [--cpu-prof-at C]]`, optionally against a running stack: `--temporal host:port --api URL
 * --token T [--database-url URL --simulator-db FILE --worker-pid PID]`.
 *
 * In one run, at each concurrency in turn: the same-shape ceiling (N no-op workflows of five
 * sequential activities, C open at a time) on a worker with the SDK's defaults and on one with our
 * WORKER_* settings, the better of the two being the ceiling; and the whole path (N orders through
 * POST /api/events/… on a warm venue, C open at a time, each until its workflow closed, read from the
 * client). The three phases take turns in B batches (default 3) so that drift in the machine's speed
 * weighs on them alike. Each phase
 * counts CPU per workflow by process and (own stack) the server's round trips and actions by kind;
 * the path's histories give Temporal Cloud billable actions per order. Then an open loop at 50 % of
 * the best measured saturation for latency, and the worker's RSS with 1,000 orders held before their
 * send. Progress on stderr; the last stdout line is one JSON object.
 */

const EVENTS_PATH = '/api/events/send-order-confirmation-sms';
const ORDER_QUEUE = 'bench-orders';
const CEILING_QUEUE = 'bench-ceiling';
const LOCAL_TOKEN = 'bench-token-0123456789';
const VENUE_ID = 9100;
const { EventType } = temporal.api.enums.v1;

interface Options {
  orders: number;
  /** The ceilings and the whole path run at each, in turn. */
  concurrencies: number[];
  openLoopOrders: number;
  heldOrders: number;
  runtime: 'tsx' | 'compiled';
  temporal?: string;
  api?: string;
  token?: string;
  databaseUrl?: string;
  simulatorDb?: string;
  workerPid?: number;
  keepLogs: boolean;
  /** Own stack only: the worker and the API under V8's CPU profiler for the whole path at this concurrency. */
  cpuProfAt?: number;
  /** Own stack only: customers opted in through their consent entities (open 10 minutes after) instead of SQL. */
  optInVia: 'sql' | 'entity';
  /** Each concurrency's N workflows per phase go in this many turns: ceilings, path, ceilings, path… */
  batches: number;
}

function parseArgs(argv: string[]): Options {
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value`);
    return v;
  };
  const count = (flag: string, fallback: number, min = 1): number => {
    const v = value(flag);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`${flag} needs an integer ≥ ${min}`);
    return n;
  };
  const quick = argv.includes('--quick');
  const orders = count('--orders', quick ? 60 : 300);
  const compiledBuild = path.join(ROOT, 'dist/workers/main.js');
  const hasBuild = fs.existsSync(compiledBuild) && fs.existsSync(path.join(ROOT, 'dist/workflow-bundle.js'));
  if (argv.includes('--compiled') && !hasBuild)
    throw new Error(
      '--compiled needs dist/workers/main.js and dist/workflow-bundle.js: run `npm run build` first',
    );
  const concurrencies = (value('--concurrency') ?? (quick ? '10' : '10,30,50')).split(',').map((v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error('--concurrency needs integers ≥ 1, comma-separated');
    return n;
  });
  const cpuProf = argv.includes('--cpu-prof');
  const optInVia = value('--opt-in') ?? 'sql';
  if (optInVia !== 'sql' && optInVia !== 'entity') throw new Error('--opt-in is sql or entity');
  const o: Options = {
    orders,
    concurrencies,
    openLoopOrders: count('--open-loop-orders', orders),
    heldOrders: count('--held', quick ? 200 : 1000, 0),
    // Whatever is available: the compiled worker when it is built, unless --tsx asks otherwise.
    runtime: argv.includes('--tsx') || (!argv.includes('--compiled') && !hasBuild) ? 'tsx' : 'compiled',
    temporal: value('--temporal'),
    api: value('--api')?.replace(/\/+$/, ''),
    token: value('--token'),
    databaseUrl: value('--database-url'),
    simulatorDb: value('--simulator-db'),
    workerPid: value('--worker-pid') === undefined ? undefined : count('--worker-pid', 0),
    // The profiles are in the work folder: keep it.
    keepLogs: argv.includes('--keep-logs') || cpuProf,
    cpuProfAt: cpuProf
      ? value('--cpu-prof-at') === undefined
        ? concurrencies.reduce((best, c) => (Math.abs(c - 30) < Math.abs(best - 30) ? c : best))
        : count('--cpu-prof-at', 30)
      : undefined,
    optInVia,
    batches: count('--batches', 3),
  };
  if (o.cpuProfAt !== undefined && !concurrencies.includes(o.cpuProfAt))
    throw new Error('--cpu-prof-at must be one of the --concurrency values');
  if ((o.temporal === undefined) !== (o.api === undefined))
    throw new Error('--temporal and --api go together (a running stack), or neither (the bench starts one)');
  return o;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const progress = new Progress('bench');

/** Runs `fn` over `items`, at most `concurrency` at a time. */
async function pool<T>(
  items: T[],
  concurrency: number,
  fn: (item: T, i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  });
  await Promise.all(lanes);
}

/** What the stack under test is and how to reach it. */
interface Stack {
  own: boolean;
  temporalAddress: string;
  apiBase: string;
  token: string;
  taskQueue: string;
  /** For the bench's own client: the same namespace, TLS and (when configured) payload codec as the roles. */
  config: Config;
  repos?: Repositories;
  simulator?: SimulatorStore;
  workerPid?: () => number | undefined;
  /** Own stack only: the processes whose CPU time is counted per phase. */
  apiPid?: () => number | undefined;
  serverPid?: number;
  /** Own stack only: the dev server's Prometheus endpoint. */
  serverMetricsUrl?: string;
  /** Own stack only: replaces the worker (a different WORKER_QUEUES, say). */
  restartWorker?: (env: Record<string, string>) => Promise<void>;
  /** Own stack only: restarts the worker and the API, under the CPU profiler when given a folder. */
  restartProfiled?: (cpuProfDir: string | undefined) => Promise<void>;
  /**
   * The ceiling's worker process: with the order worker's WORKER_* settings and V8 flags (`ours`), or
   * with none of them, as the SDK and Node come (`sdk-defaults`), on a task queue of its own.
   */
  startCeilingWorker(tuning: CeilingTuning): Promise<Role>;
  close(): Promise<void>;
}

type CeilingTuning = 'sdk-defaults' | 'ours';
const ceilingQueue = (tuning: CeilingTuning) => `${CEILING_QUEUE}-${tuning}`;

async function startOwnStack(opt: Options, workDir: string): Promise<Stack> {
  const metricsPort = await freePort();
  const server: DevServer = await startDevServer({
    headless: true,
    dbFilename: path.join(workDir, 'temporal.sqlite'),
    logLevel: 'error',
    log: (m) => progress.log(m),
    metricsPort,
  });
  const databaseUrl = `sqlite:${path.join(workDir, 'sms.sqlite')}`;
  const knex = createKnex(databaseUrl);
  await migrateLatest(knex);
  const simulatorPath = path.join(workDir, 'simulator.sqlite');
  const apiPort = await freePort();
  const apiBase = `http://127.0.0.1:${apiPort}`;
  const common: Record<string, string> = {
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_TASK_QUEUE: ORDER_QUEUE,
    API_TOKEN: LOCAL_TOKEN,
    PUBLIC_BASE_URL: apiBase,
    SMS_PROVIDER: 'simulator',
    SIMULATOR_DB_PATH: simulatorPath,
    SIMULATOR_LATENCY_MS: '0',
    SEND_RATE_PER_SECOND: '1000',
    // Several processes on one machine: ephemeral metrics ports (see the metrics contract).
    METRICS_PORT: '0',
    TEMPORAL_METRICS_PORT: '0',
    // The V8 flags and malloc arenas the image runs every role with (Dockerfile), the ceiling's
    // worker with our tuning included.
    ...PRODUCTION_ENV,
  };
  const bundles = await Promise.all([
    opt.runtime === 'compiled' ? path.join(ROOT, 'dist/workflow-bundle.js') : writeWorkflowBundle(),
    writeCeilingBundle(workDir),
  ]);
  const [orderBundle, ceilingBundle] = bundles;
  const workerEntry = opt.runtime === 'compiled' ? 'dist/workers/main.js' : 'workers/main.ts';
  const workerEnv = { ...common, WORKFLOW_BUNDLE_PATH: orderBundle };
  const apiOptions = {
    entry:
      opt.runtime === 'compiled' && fs.existsSync(path.join(ROOT, 'dist/api/main.js'))
        ? 'dist/api/main.js'
        : 'api/main.ts',
    env: { ...common, HOST: '127.0.0.1', PORT: String(apiPort) },
    logDir: workDir,
  };
  let api = spawnRole('api', apiOptions);
  let worker = spawnRole('worker', { entry: workerEntry, env: workerEnv, logDir: workDir });
  const config = loadConfig({ ...process.env, ...common });
  const repos = createRepositories(knex);
  const simulator = new SimulatorStore(simulatorPath);
  await waitUntilHealthy(`${apiBase}/health/ready`, api, workDir);
  const stack: Stack = {
    own: true,
    temporalAddress: server.address,
    apiBase,
    token: LOCAL_TOKEN,
    taskQueue: ORDER_QUEUE,
    config,
    repos,
    simulator,
    workerPid: () => worker.child.pid,
    apiPid: () => api.child.pid,
    serverPid: server.pid,
    serverMetricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    restartProfiled: async (cpuProfDir) => {
      // SIGTERM: the roles drain and exit, which is when V8 writes a profile.
      await Promise.all([stopRole(api), stopRole(worker)]);
      const suffix = cpuProfDir ? 'profiled' : 'restarted';
      api = spawnRole(`api-${suffix}`, {
        ...apiOptions,
        cpuProfDir: cpuProfDir && path.join(cpuProfDir, 'api'),
      });
      worker = spawnRole(`worker-${suffix}`, {
        entry: workerEntry,
        env: workerEnv,
        logDir: workDir,
        cpuProfDir: cpuProfDir && path.join(cpuProfDir, 'worker'),
      });
      await waitUntilHealthy(`${apiBase}/health/ready`, api, workDir);
    },
    restartWorker: async (env) => {
      await stopRole(worker);
      worker = spawnRole(`worker-${env.WORKER_QUEUES ? 'held' : 'restarted'}`, {
        entry: workerEntry,
        env: { ...workerEnv, ...env },
        logDir: workDir,
      });
    },
    startCeilingWorker: async (tuning) =>
      spawnRole(`ceiling-worker-${tuning}`, {
        entry: 'bench/ceiling/worker.ts',
        env: {
          ...common,
          TEMPORAL_TASK_QUEUE: ceilingQueue(tuning),
          CEILING_BUNDLE_PATH: ceilingBundle,
          CEILING_TUNING: tuning,
          // Node as it comes: no young-generation cap or arena limit either.
          ...(tuning === 'sdk-defaults' ? { NODE_OPTIONS: '', MALLOC_ARENA_MAX: '' } : {}),
        },
        logDir: workDir,
      }),
    close: async () => {
      await Promise.all([stopRole(api), stopRole(worker)]);
      await simulator.close();
      await knex.destroy();
      await server.stop();
    },
  };
  return stack;
}

async function givenStack(opt: Options, workDir: string): Promise<Stack> {
  const config = loadConfig({ ...process.env, TEMPORAL_ADDRESS: opt.temporal });
  const knex = opt.databaseUrl ? createKnex(opt.databaseUrl) : undefined;
  const simulator = opt.simulatorDb ? new SimulatorStore(opt.simulatorDb) : undefined;
  const ceilingBundle = await writeCeilingBundle(workDir);
  return {
    own: false,
    temporalAddress: opt.temporal!,
    apiBase: opt.api!,
    token: opt.token ?? process.env.API_TOKEN ?? 'local-dev-token',
    taskQueue: config.temporal.taskQueue,
    config,
    repos: knex ? createRepositories(knex) : undefined,
    simulator,
    workerPid: opt.workerPid ? () => opt.workerPid : undefined,
    startCeilingWorker: async (tuning) =>
      spawnRole(`ceiling-worker-${tuning}`, {
        entry: 'bench/ceiling/worker.ts',
        env: {
          TEMPORAL_ADDRESS: opt.temporal!,
          TEMPORAL_TASK_QUEUE: ceilingQueue(tuning),
          CEILING_BUNDLE_PATH: ceilingBundle,
          CEILING_TUNING: tuning,
        },
        logDir: workDir,
      }),
    close: async () => {
      await simulator?.close();
      await knex?.destroy();
    },
  };
}

async function writeCeilingBundle(workDir: string): Promise<string> {
  const silent = () => undefined;
  const bundle = await bundleWorkflowCode({
    workflowsPath: path.join(__dirname, 'ceiling/workflow.ts'),
    logger: { log: silent, trace: silent, debug: silent, info: silent, warn: silent, error: console.error },
  });
  const file = path.join(workDir, 'ceiling-bundle.js');
  fs.writeFileSync(file, bundle.code);
  return file;
}

/** Until a worker polls `taskQueue` for the given kind of task. */
async function waitForPollers(
  connection: Connection,
  namespace: string,
  taskQueue: string,
  kind: 'workflow' | 'activity',
  role?: Role,
): Promise<void> {
  const deadline = Date.now() + 120_000;
  const taskQueueType =
    kind === 'workflow'
      ? temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW
      : temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY;
  for (;;) {
    const { pollers } = await connection.workflowService.describeTaskQueue({
      namespace,
      taskQueue: { name: taskQueue },
      taskQueueType,
    });
    if ((pollers ?? []).length > 0) return;
    if (role && (role.child.exitCode !== null || role.child.signalCode !== null))
      throw new Error(`${role.name} exited before polling ${taskQueue}`);
    if (Date.now() > deadline) throw new Error(`no ${kind} poller on ${taskQueue} after 120 s`);
    await sleep(200);
  }
}

/** The activity task backlog of `taskQueue` (the server's approximate count). */
async function activityBacklog(
  connection: Connection,
  namespace: string,
  taskQueue: string,
): Promise<number> {
  const r = await connection.workflowService.describeTaskQueue({
    namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    reportStats: true,
  });
  return Number(r.stats?.approximateBacklogCount ?? 0);
}

interface Posted {
  orderId: string;
  phone: string;
  postedAt: number;
  ackedAt: number;
}

interface Counters {
  rejected429: number;
  retried: number;
}

/** POSTs one event through the HTTP ingress; retries 429/503/network errors as a publisher would. */
async function postOrder(stack: Stack, event: Record<string, unknown>, counters: Counters): Promise<Posted> {
  const postedAt = Date.now();
  for (let attempt = 0; ; attempt++) {
    const r = await fetch(`${stack.apiBase}${EVENTS_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.token}` },
      body: JSON.stringify(event),
      signal: AbortSignal.timeout(30_000),
    }).catch(() => undefined);
    if (r?.status === 202) {
      await r.body?.cancel();
      return {
        orderId: String(event.OrderId),
        phone: String(event.PhoneNumber),
        postedAt,
        ackedAt: Date.now(),
      };
    }
    if (r?.status === 429) counters.rejected429++;
    if (r && r.status !== 429 && r.status !== 503)
      throw new Error(`ingress answered HTTP ${r.status}: ${await r.text()}`);
    if (attempt >= 20) throw new Error(`ingress kept refusing (last HTTP ${r?.status ?? 'network error'})`);
    counters.retried++;
    await r?.body?.cancel();
    await sleep(Math.min(5_000, 100 * 2 ** attempt));
  }
}

/** The order's outcome once its workflow closed ("workflow-failed" when the run failed). */
async function orderOutcome(client: Client, orderId: string): Promise<string> {
  const handle: WorkflowHandle = client.workflow.getHandle(orderWorkflowId(orderId));
  try {
    const result = (await handle.result()) as { outcome?: string } | undefined;
    return result?.outcome ?? 'unknown';
  } catch (err) {
    if (err instanceof WorkflowFailedError) return 'workflow-failed';
    throw err;
  }
}

interface HistoryFacts {
  events: number;
  actions: ActionCount;
  workflowTasks: number;
  startedAt: number;
  closedAt?: number;
  /** When the sendSms activity's completion reached the server: an upper bound of provider acceptance. */
  sendCompletedAt?: number;
  /** Where the order's time went: ms from each event to the next, by the pair's types. */
  waits: Record<string, number>;
}

/** `WORKFLOW_TASK_SCHEDULED` → `WorkflowTaskScheduled`, for short keys. */
const eventName = (type: number | null | undefined): string =>
  (EventType[type ?? 0] ?? 'Unknown')
    .replace(/^EVENT_TYPE_/, '')
    .toLowerCase()
    .replace(/(^|_)([a-z])/g, (_, _sep: string, c: string) => c.toUpperCase());

async function historyFacts(client: Client, workflowId: string): Promise<HistoryFacts> {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const facts: HistoryFacts = {
    events: events.length,
    actions: countActions(events),
    workflowTasks: 0,
    startedAt: 0,
    waits: {},
  };
  const sendScheduled = new Set<string>();
  let previous: { name: string; at: number } | undefined;
  for (const e of events) {
    const at = tsToMs(e.eventTime);
    const name = eventName(e.eventType);
    if (previous) {
      const key = `${previous.name}→${name}`;
      facts.waits[key] = (facts.waits[key] ?? 0) + (at - previous.at);
    }
    previous = { name, at };
    switch (e.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        facts.startedAt = at;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        facts.workflowTasks++;
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        if (e.activityTaskScheduledEventAttributes?.activityType?.name === 'sendSms')
          sendScheduled.add(String(e.eventId));
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
        if (sendScheduled.has(String(e.activityTaskCompletedEventAttributes?.scheduledEventId)))
          facts.sendCompletedAt = at;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
        facts.closedAt = at;
        break;
      default:
    }
  }
  return facts;
}

/** Customers opted in before the run (checkout): straight into SQL when reachable, else the internal API. */
async function optInAll(
  stack: Stack,
  client: Client,
  phones: string[],
  concurrency: number,
  via: Options['optInVia'],
): Promise<void> {
  let done = 0;
  if (stack.repos && via === 'entity') {
    // As the internal API does at checkout: through each customer's consent entity, which then stays
    // open (idle) for ten minutes, so every order's consent read finds it running.
    const entities = {
      client,
      taskQueue: stack.taskQueue,
      workflowIdHashKey: stack.config.temporal.workflowIdHashKey,
    };
    await pool(phones, concurrency, async (phone) => {
      await signalConsentChange(entities, VENUE_ID, phone, {
        status: 'opted_in',
        source: 'checkout',
        occurredAt: new Date(Date.now() - 60_000).toISOString(),
      });
      progress.update('opt-in (entities)', ++done, phones.length);
    });
    // Until every entity has written its change: their writes are not part of what is measured.
    let written = 0;
    await pool(phones, concurrency, async (phone) => {
      for (const deadline = Date.now() + 300_000; ; await sleep(200)) {
        if ((await stack.repos!.consent.get(VENUE_ID, phone))?.status === 'opted_in') break;
        if (Date.now() > deadline) throw new Error('a consent entity did not write its opt-in in 5 minutes');
      }
      progress.update('opt-ins written', ++written, phones.length);
    });
    return;
  }
  await pool(phones, concurrency, async (phone) => {
    if (stack.repos) {
      await optIn(stack.repos, { venueId: VENUE_ID, phoneNumber: phone });
    } else {
      const r = await fetch(`${stack.apiBase}/api/internal/consent`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.token}` },
        body: JSON.stringify({
          venueId: VENUE_ID,
          phoneNumber: phone,
          status: 'opted_in',
          source: 'checkout',
          occurredAt: new Date(Date.now() - 60_000).toISOString(),
        }),
      });
      if (r.status !== 202) throw new Error(`consent API answered HTTP ${r.status}`);
    }
    progress.update('opt-in', ++done, phones.length);
  });
}

const SERVER_METRICS_SETTLE_MS = 2_500;

/** One phase's rate and cost: CPU per workflow by process, server round trips and server-counted actions. */

interface Round {
  concurrency: number;
  ordersPerSecond: number;
  /** The better of the two ceilings. */
  ceilingPerSecond: number;
  ratio: number;
  ceilingSdkDefaultsPerSecond: number;
  ceilingOursPerSecond: number;
  outcomes: Record<string, number>;
  historyEventsPerOrder: number | null;
  workflowTasksPerOrder: number | null;
  /** Temporal Cloud billable actions per sent order, from its history (bench/support/actions.ts). */
  actionsPerOrder: ActionCount | null;
  /**
   * Mean ms per sent order between consecutive history events, by the pair's types (a workflow
   * task's wait for a worker is `WorkflowTaskScheduled→WorkflowTaskStarted`), longest first.
   */
  msBetweenEventsPerOrder: Record<string, number>;
  wholePath: Phase;
  ceilingSdkDefaults: Phase;
  ceilingOurs: Phase;
}

/** Runs `fn`, timing it and counting what it cost each process and the server, per workflow. */
async function measurePhase(
  stack: Stack,
  ceilingWorker: Role | undefined,
  workflows: number,
  fn: () => Promise<void>,
): Promise<Phase> {
  const pids: Record<string, number | undefined> = {
    server: stack.serverPid,
    worker: stack.workerPid?.(),
    api: stack.apiPid?.(),
    ceilingWorker: ceilingWorker?.child.pid,
  };
  const cpu = () =>
    Object.fromEntries(
      Object.entries(pids).flatMap(([name, pid]) => {
        const ms = pid === undefined ? null : treeCpuMs(pid);
        return ms === null ? [] : [[name, ms] as const];
      }),
    );
  const scrape = () =>
    stack.serverMetricsUrl
      ? scrapeServerCounters(stack.serverMetricsUrl, stack.config.temporal.namespace)
      : Promise.resolve(undefined);
  // The server's metrics reach its endpoint about a second late (tally's reporting interval).
  await sleep(SERVER_METRICS_SETTLE_MS);
  const server = await scrape();
  const before = { cpu: cpu(), bench: process.cpuUsage(), server };
  const started = Date.now();
  await fn();
  const seconds = (Date.now() - started) / 1000;
  const after = {
    cpu: cpu(),
    bench: process.cpuUsage(before.bench),
    server: undefined as ServerCounters | undefined,
  };
  await sleep(SERVER_METRICS_SETTLE_MS);
  after.server = await scrape();
  const cpuMsPerWorkflow: Record<string, number> = {};
  for (const [name, ms] of Object.entries(after.cpu))
    if (before.cpu[name] !== undefined) cpuMsPerWorkflow[name] = rounded((ms - before.cpu[name]) / workflows);
  cpuMsPerWorkflow.bench = rounded((after.bench.user + after.bench.system) / 1000 / workflows);
  return {
    perSecond: workflows / seconds,
    workflows,
    seconds: rounded(seconds),
    cpuMsPerWorkflow,
    ...(before.server && after.server
      ? {
          roundTripsPerWorkflow: perUnit(before.server, after.server, 'requests', workflows),
          serverActionsPerWorkflow: perUnit(before.server, after.server, 'actions', workflows),
        }
      : {}),
  };
}

/** Samples RSS for `ms` and keeps the highest: a single sample can fall between two GCs. */
async function peakRss(pid: number | undefined, ms: number): Promise<number | null> {
  if (pid === undefined) return null;
  let peak: number | null = null;
  for (const end = Date.now() + ms; Date.now() < end; await sleep(250)) {
    const rss = treeRssMb(pid);
    if (rss !== null) peak = Math.max(peak ?? 0, rss);
  }
  return peak;
}

async function main(): Promise<void> {
  const opt = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sms-bench-'));
  progress.log(`options ${JSON.stringify(opt)}; logs in ${workDir}`);
  let stack: Stack | undefined;
  let handle: TemporalClientHandle | undefined;
  try {
    stack = opt.api ? await givenStack(opt, workDir) : await startOwnStack(opt, workDir);
    handle = connectTemporalClient(stack.config.temporal);
    const { client, connection } = handle;
    const namespace = stack.config.temporal.namespace;
    if (stack.own) {
      await waitForPollers(connection, namespace, stack.taskQueue, 'workflow');
      await waitForPollers(connection, namespace, sendTaskQueue(stack.taskQueue, 'simulator'), 'activity');
    }
    progress.log(
      `stack ${stack.own ? 'started' : 'given'} in ${((Date.now() - t0) / 1000).toFixed(1)} s: temporal ${stack.temporalAddress}, api ${stack.apiBase}`,
    );
    const workerRssMbIdle = stack.workerPid ? treeRssMb(stack.workerPid() ?? -1) : null;

    // Every customer of the run, distinct phones, opted in at one venue before anything is measured.
    const runId = Math.floor(Math.random() * 5) * 10_000; // another run against a given stack gets fresh customers
    const pathOrders = opt.orders * opt.concurrencies.length;
    const total = 1 + pathOrders + opt.openLoopOrders + (stack.own ? opt.heldOrders : 0);
    const phones = Array.from({ length: total }, (_, i) => phoneFor(runId + i));
    await optInAll(stack, client, phones, Math.max(...opt.concurrencies), opt.optInVia);
    const eventFor = (phone: string) => sampleEvent({ VenueId: VENUE_ID, PhoneNumber: phone });
    const counters: Counters = { rejected429: 0, retried: 0 };

    // --- warm-up: the venue's first order buys its number; every later order finds it -------------
    const warm = await postOrder(stack, eventFor(phones[0]), counters);
    const warmOutcome = await orderOutcome(client, warm.orderId);
    if (warmOutcome !== 'sent') throw new Error(`warm-up order ended ${warmOutcome}, not sent`);
    progress.log('venue warm: its number is bought');

    // --- per concurrency: the ceiling with the SDK's defaults and with ours, then the whole path ----
    const ceilingWorkers = new Map<CeilingTuning, Role>();
    const plainConnection = await Connection.connect({
      ...temporalConnectionOptions(stack.config.temporal),
      address: stack.temporalAddress,
    });
    // No codec here: the ceiling's worker runs without one (a codec's cost belongs to the whole path).
    const plain = new Client({ connection: plainConnection, namespace });
    const rounds: Round[] = [];
    let workerRssMbAfterN: number | null = null;
    let pathRound = 0;
    const pathPhones = (round: number) => phones.slice(1 + round * opt.orders, 1 + (round + 1) * opt.orders);
    try {
      for (const tuning of ['sdk-defaults', 'ours'] as const) {
        const role = await stack.startCeilingWorker(tuning);
        ceilingWorkers.set(tuning, role);
        await waitForPollers(plainConnection, namespace, ceilingQueue(tuning), 'workflow', role);
        // Unmeasured, as the venue's first order is for the path: the first runs load the bundle.
        await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            plain.workflow.execute('ceilingWorkflow', {
              workflowId: `bench-ceiling-${t0}-${tuning}-warm-${i}`,
              taskQueue: ceilingQueue(tuning),
              args: [{ event: sampleEvent() } satisfies CeilingInput],
            }),
          ),
        );
      }
      for (const concurrency of opt.concurrencies) {
        // The whole path's profile, if asked for, spans every batch at this concurrency (the order
        // worker and the API idle while the ceilings run).
        const profileDir =
          stack.restartProfiled && opt.cpuProfAt === concurrency ? path.join(workDir, 'profiles') : undefined;
        if (profileDir) {
          await stack.restartProfiled!(profileDir);
          await waitForPollers(connection, namespace, stack.taskQueue, 'workflow');
          await waitForPollers(
            connection,
            namespace,
            sendTaskQueue(stack.taskQueue, 'simulator'),
            'activity',
          );
        }
        // The profiles' clock (V8's, CLOCK_MONOTONIC) is process.hrtime's: the window cuts start-up out.
        const fromUs = Number(process.hrtime.bigint() / 1000n);
        const outcomes: Record<string, number> = {};
        const outcomeOf = new Map<string, string>();
        const roundPhones = pathPhones(pathRound++);
        const parts: Record<'sdk-defaults' | 'ours' | 'path', Phase[]> = {
          'sdk-defaults': [],
          ours: [],
          path: [],
        };
        let closed = 0;
        // The three phases take turns, a batch each, so a machine that slows down or speeds up over
        // the minutes they take weighs on all three alike.
        for (const batch of batches(opt.orders, opt.batches)) {
          for (const tuning of ['sdk-defaults', 'ours'] as const) {
            const ids = batch.map((i) => `bench-ceiling-${t0}-${tuning}-${concurrency}-${i}`);
            // C workflows open at a time: the next starts when one closes.
            parts[tuning].push(
              await measurePhase(stack, ceilingWorkers.get(tuning), ids.length, () =>
                pool(ids, concurrency, async (workflowId) => {
                  const input: CeilingInput = { event: sampleEvent() };
                  const h = await plain.workflow.start('ceilingWorkflow', {
                    workflowId,
                    taskQueue: ceilingQueue(tuning),
                    args: [input],
                  });
                  await h.result();
                }),
              ),
            );
          }
          // The whole path: orders through the HTTP ingress, C open at a time as for the ceiling.
          const phones = batch.map((i) => roundPhones[i]);
          parts.path.push(
            await measurePhase(stack, undefined, phones.length, () =>
              pool(phones, concurrency, async (phone) => {
                const posted = await postOrder(stack!, eventFor(phone), counters);
                const outcome = await orderOutcome(client, posted.orderId);
                outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
                outcomeOf.set(posted.orderId, outcome);
              }),
            ),
          );
          closed += batch.length;
          progress.update(`c=${concurrency}: ceilings and whole path`, closed, opt.orders);
        }
        const ceiling = { 'sdk-defaults': mergePhases(parts['sdk-defaults']), ours: mergePhases(parts.ours) };
        const wholePath = mergePhases(parts.path);
        for (const tuning of ['sdk-defaults', 'ours'] as const)
          progress.log(
            `ceiling ${tuning} at ${concurrency}: ${ceiling[tuning].perSecond.toFixed(1)} workflows/s`,
          );
        if (profileDir) {
          const toUs = Number(process.hrtime.bigint() / 1000n);
          const window = { fromUs, toUs, orders: roundPhones.length, concurrency };
          fs.mkdirSync(profileDir, { recursive: true });
          fs.writeFileSync(path.join(profileDir, 'window.json'), JSON.stringify(window));
          await stack.restartProfiled!(undefined); // writes the profiles
          await waitForPollers(connection, namespace, stack.taskQueue, 'workflow');
          progress.log(`CPU profiles of the whole path at ${concurrency} in ${profileDir}`);
        }
        workerRssMbAfterN = stack.workerPid ? await peakRss(stack.workerPid(), 2_000) : null;

        // History events, workflow tasks and billable actions per sent order, from the real histories.
        const sentIds = [...outcomeOf].filter(([, o]) => o === 'sent').map(([id]) => id);
        const facts: HistoryFacts[] = [];
        await pool(sentIds, 10, async (orderId) => {
          facts.push(await historyFacts(client, orderWorkflowId(orderId)));
          progress.update('histories', facts.length, sentIds.length);
        });
        const best = Math.max(ceiling['sdk-defaults'].perSecond, ceiling.ours.perSecond);
        const round = rounded(wholePath.perSecond / best);
        rounds.push({
          concurrency,
          ordersPerSecond: rounded(wholePath.perSecond),
          ceilingPerSecond: rounded(best),
          ratio: round,
          ceilingSdkDefaultsPerSecond: rounded(ceiling['sdk-defaults'].perSecond),
          ceilingOursPerSecond: rounded(ceiling.ours.perSecond),
          outcomes,
          historyEventsPerOrder: facts.length
            ? rounded(sum(facts.map((f) => f.events)) / facts.length)
            : null,
          workflowTasksPerOrder: facts.length
            ? rounded(sum(facts.map((f) => f.workflowTasks)) / facts.length)
            : null,
          actionsPerOrder: meanActions(facts.map((f) => f.actions)),
          msBetweenEventsPerOrder: meanWaits(facts.map((f) => f.waits)),
          wholePath: { ...wholePath, perSecond: rounded(wholePath.perSecond) },
          ceilingSdkDefaults: {
            ...ceiling['sdk-defaults'],
            perSecond: rounded(ceiling['sdk-defaults'].perSecond),
          },
          ceilingOurs: { ...ceiling.ours, perSecond: rounded(ceiling.ours.perSecond) },
        });
        progress.log(
          `whole path at ${concurrency}: ${wholePath.perSecond.toFixed(1)} orders/s, ratio ${round} to the best ceiling; outcomes ${JSON.stringify(outcomes)}`,
        );
      }
    } finally {
      await plainConnection.close();
      await Promise.all([...ceilingWorkers.values()].map((w) => stopRole(w)));
    }
    const ordersPerSecond = Math.max(...rounds.map((r) => r.ordersPerSecond));

    // --- open loop at 50 % of saturation: latency without a queue of our own making ----------------
    const rate = ordersPerSecond / 2;
    const loopPhones = phones.slice(1 + pathOrders, 1 + pathOrders + opt.openLoopOrders);
    const posted: Posted[] = [];
    let loopClosed = 0;
    const loopStart = Date.now();
    const loop = loopPhones.map(async (phone, i) => {
      await sleep(Math.max(0, loopStart + (i / rate) * 1000 - Date.now()));
      const p = await postOrder(stack!, eventFor(phone), counters);
      posted.push(p);
      await orderOutcome(client, p.orderId);
      progress.update(`open loop ${rate.toFixed(1)}/s`, ++loopClosed, loopPhones.length);
    });
    await Promise.all(loop);
    const loopSeconds = (Date.now() - loopStart) / 1000;
    const accepted = new Map<string, number>();
    const simulatorAccepted = stack.simulator !== undefined;
    if (stack.simulator) {
      // This run's messages only: a given stack's simulator may remember these phones from an earlier run.
      for (const m of await stack.simulator.messages({ sentAfter: new Date(loopStart) })) {
        const prev = accepted.get(m.to);
        if (prev === undefined || m.acceptedAt.getTime() < prev) accepted.set(m.to, m.acceptedAt.getTime());
      }
    }
    const toProvider: number[] = [];
    const toClosed: number[] = [];
    await pool(posted, 10, async (p) => {
      const f = await historyFacts(client, orderWorkflowId(p.orderId));
      const providerAt = simulatorAccepted ? accepted.get(p.phone) : f.sendCompletedAt;
      if (providerAt !== undefined) toProvider.push(providerAt - f.startedAt);
      if (f.closedAt !== undefined) toClosed.push(f.closedAt - f.startedAt);
    });
    progress.log(`open loop: ${posted.length} orders at ${rate.toFixed(1)}/s offered`);

    // --- RSS with many orders open: a worker without the send queue holds them before their send ----
    let workerRssMbWithHeldOpen: number | null = null;
    if (stack.own && stack.restartWorker && opt.heldOrders > 0) {
      await stack.restartWorker({ WORKER_QUEUES: 'orders,consent' });
      await waitForPollers(connection, namespace, stack.taskQueue, 'workflow');
      const heldPhones = phones.slice(1 + pathOrders + opt.openLoopOrders);
      let held = 0;
      // Started through the same function the ingress calls (the API's rate limit is not under test here).
      await pool(heldPhones, Math.max(...opt.concurrencies), async (phone) => {
        const parsed = parseOrderEvent(eventFor(phone));
        if (!parsed.ok) throw new Error('bench event is invalid');
        await startOrderConfirmation(client, stack!.taskQueue, parsed.event, { correlationId: 'bench-held' });
        progress.update('held orders started', ++held, heldPhones.length);
      });
      const sendQueue = sendTaskQueue(stack.taskQueue, 'simulator');
      const deadline = Date.now() + 600_000;
      for (
        let backlog = 0;
        backlog < heldPhones.length;
        backlog = await activityBacklog(connection, namespace, sendQueue)
      ) {
        progress.update('held at their send', backlog, heldPhones.length);
        if (Date.now() > deadline) throw new Error(`only ${backlog} orders reached their send in 10 minutes`);
        await sleep(500);
      }
      workerRssMbWithHeldOpen = await peakRss(stack.workerPid?.(), 3_000);
      progress.log(
        `${heldPhones.length} orders held before their send: worker RSS ${workerRssMbWithHeldOpen} MB`,
      );
    }

    progress.clear();
    const result = {
      // Each concurrency: the whole path against the better of the two ceilings, and what it cost.
      ratios: Object.fromEntries(rounds.map((r) => [r.concurrency, r.ratio])),
      lowestRatio: Math.min(...rounds.map((r) => r.ratio)),
      byConcurrency: rounds,
      saturationPerSecond: ordersPerSecond,
      acceptedToProviderMs: percentiles(toProvider),
      acceptedToClosedMs: percentiles(toClosed),
      ingressMs: percentiles(posted.map((p) => p.ackedAt - p.postedAt)),
      openLoopOfferedPerSecond: rounded(rate),
      openLoopAchievedPerSecond: rounded(posted.length / loopSeconds),
      workerRssMbIdle,
      workerRssMbAfterN,
      // The figure is with 1,000 open; --quick or --held N measure another count (heldOpenOrders).
      workerRssMbWith1000Open: opt.heldOrders === 1000 ? workerRssMbWithHeldOpen : null,
      workerRssMbWithHeldOpen,
      heldOpenOrders: stack.own ? opt.heldOrders : 0,
      orders: opt.orders,
      concurrencies: opt.concurrencies,
      optInVia: stack.own ? opt.optInVia : 'api',
      ingressRetries: counters.retried,
      ingress429: counters.rejected429,
      providerAcceptedFrom: simulatorAccepted ? 'simulator' : 'sendSms completion in history',
      stack: stack.own ? 'own' : 'given',
      workerRuntime: stack.own ? opt.runtime : 'given',
      workerSettings: stack.config.worker,
      loadAverageAtEnd: os.loadavg().map(rounded),
      seconds: Math.round((Date.now() - t0) / 1000),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    progress.clear();
    await handle?.close().catch(() => undefined);
    await stack?.close().catch(() => undefined);
    killChildren();
    if (!opt.keepLogs) fs.rmSync(workDir, { recursive: true, force: true });
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress.log(`${signal}: stopping every child`);
    killChildren();
    process.exit(130);
  });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    progress.log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    killChildren();
    process.exit(1);
  },
);
