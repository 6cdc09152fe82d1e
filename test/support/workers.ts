import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { Knex } from 'knex';
import { loadConfig, type Config } from '../../config';
import { createLogger } from '../../config/logger';
import { createRepositories, type Repositories } from '../../db';
import type { ConsentEntities } from '../../temporal/consent-signal';
import { createDataConverter } from '../../temporal/data-converter';
import { startOrderConfirmation } from '../../temporal/start-order';
import { parseOrderEvent, type OrderConfirmationEvent } from '../../domain/order-event';
import { createProviders } from '../../providers';
import { createMetrics, type Metrics } from '../../runtime/metrics';
import { SimulatorStore } from '../../providers/simulator/simulator-store';
import { createActivityDeps } from '../../workers/activity-deps';
import { createRolloutControl, type SqlRolloutControl } from '../../rollout/sql-control';
import { createWorkers, runWorkers } from '../../workers/create-workers';
import { useTestDatabase, type TestDatabase } from './db';
import { standIn, useResource } from './lifecycle';
import { quietRuntime } from './runtime';
import { testTemporalAddress, uniqueTaskQueue, workflowBundle } from './temporal';

export interface TestWorkers {
  config: Config;
  repos: Repositories;
  store: SimulatorStore;
  simulatorPath: string;
  client: Client;
  /** These workers' own registry: a test reads the counters its actions moved. */
  metrics: Metrics;
  /** How this run reaches consent entities (signalConsentChange, pendingConsentChanges). */
  consentEntities: ConsentEntities;
  /** The activities' flag and pause state (ROLLOUT_CACHE_MS from `env`); invalidate() to skip the wait. */
  rollout: SqlRolloutControl;
  /** Stops the workers (waiting for them to drain) and closes what they opened. */
  shutdown(): Promise<void>;
}

export function tempSimulatorPath(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sms-sim-')), 'simulator.sqlite');
}

/**
 * The production workers (order queue + a paced send queue per provider in use) on the shared dev
 * server, in this process. Providers come from `env` as in production (SMS_PROVIDER, TWILIO_* …);
 * the simulator answers at once unless SIMULATOR_LATENCY_MS says otherwise.
 */
export async function startTestWorkers(options: {
  knex: Knex;
  taskQueue: string;
  simulatorPath?: string;
  env?: Record<string, string>;
}): Promise<TestWorkers> {
  const simulatorPath = options.simulatorPath ?? tempSimulatorPath();
  const config = loadConfig({
    NODE_ENV: 'test',
    TEMPORAL_ADDRESS: testTemporalAddress(),
    TEMPORAL_TASK_QUEUE: options.taskQueue,
    SIMULATOR_DB_PATH: simulatorPath,
    SEND_RATE_PER_SECOND: '100',
    SIMULATOR_LATENCY_MS: '0',
    ...options.env,
  });
  const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent', name: 'test-worker' });
  // The test's own view of the simulator's file, as another process would read it.
  const store = new SimulatorStore(simulatorPath);
  const { providers, close: closeProviders } = createProviders(config);
  const repos = createRepositories(options.knex);
  quietRuntime();
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const client = new Client({
    connection,
    namespace: config.temporal.namespace,
    dataConverter: createDataConverter(config.temporal),
  });
  const metrics = createMetrics();
  const rollout = createRolloutControl({ repos, cacheMs: config.rollout.cacheMs, metrics, logger });
  const workers: Worker[] = await createWorkers({
    metrics,
    connection,
    namespace: config.temporal.namespace,
    taskQueue: options.taskQueue,
    providers: config.sms.providers,
    sendRatePerSecond: config.sms.sendRatePerSecond,
    tuning: config.worker,
    payloadCodecKeys: config.temporal.payloadCodecKeys,
    workflowBundle: workflowBundle(),
    deps: createActivityDeps({ config, logger, repos, providers, client, metrics, rollout }),
  });
  const running = runWorkers(workers);
  return {
    config,
    repos,
    store,
    simulatorPath,
    client,
    metrics,
    rollout,
    consentEntities: {
      client,
      taskQueue: options.taskQueue,
      workflowIdHashKey: config.temporal.workflowIdHashKey,
    },
    async shutdown() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await running;
      await connection.close();
      await closeProviders();
      await store.close();
    },
  };
}

/** What `useTestWorkers` gives a suite: its workers, their database, queue and client. */
export interface SuiteWorkers {
  w: TestWorkers;
  db: TestDatabase;
  taskQueue: string;
  client: Client;
}

/**
 * The enclosing suite's own database, unique task queue and production workers on it, started in
 * beforeAll and stopped (workers, then the database) after: every dev-server file's set-up. `env`
 * is read when the workers start, so it may name a provider fake started before.
 */
export function useTestWorkers(
  name: string,
  options: { env?: Record<string, string> | (() => Record<string, string>) } = {},
): SuiteWorkers {
  const taskQueue = uniqueTaskQueue(name);
  const db = useTestDatabase();
  let running: TestWorkers | undefined;
  const w = useResource(
    async () =>
      (running = await startTestWorkers({
        knex: db.knex,
        taskQueue,
        env: typeof options.env === 'function' ? options.env() : options.env,
      })),
    async (started) => {
      running = undefined;
      await started.shutdown();
    },
  );
  return { w, db, taskQueue, client: standIn(() => running?.client) };
}

/** A valid event with fresh ids; override any field. */
export function sampleEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    OrderId: randomUUID(),
    VenueId: 1000 + Math.floor(Math.random() * 1_000_000),
    CustomerId: randomUUID(),
    PhoneNumber: '+14155552671',
    CustomerName: 'Ada Lovelace',
    OrderTotal: 42.5,
    TicketCount: 2,
    EventTimestamp: new Date().toISOString(),
    OrderNumber: 'A-1001',
    EventName: 'The Analytical Engines',
    EventDate: '2026-12-31T20:00:00Z',
    Currency: 'USD',
    Locale: 'en-US',
    TimeZone: 'America/New_York',
    ...overrides,
  };
}

/** `sampleEvent` parsed as the bridge and the ingress parse it. */
export function parsedEvent(overrides: Record<string, unknown> = {}): OrderConfirmationEvent {
  const parsed = parseOrderEvent(sampleEvent(overrides));
  if (!parsed.ok) throw new Error(`sample event is invalid: ${JSON.stringify(parsed.errors)}`);
  return parsed.event;
}

/** Records the customer's opt-in for the venue a minute ago, as checkout would. */
export async function optIn(repos: Repositories, e: { venueId: number; phoneNumber: string }): Promise<void> {
  await repos.consent.applyChange({
    venueId: e.venueId,
    phoneNumber: e.phoneNumber,
    status: 'opted_in',
    source: 'checkout',
    occurredAt: new Date(Date.now() - 60_000),
  });
}

/** An order for an opted-in customer, started the way the bridge starts one. */
export async function startOptedInOrder(
  w: Pick<TestWorkers, 'client' | 'repos'>,
  taskQueue: string,
  overrides: Record<string, unknown> = {},
): Promise<OrderConfirmationEvent> {
  const e = parsedEvent(overrides);
  await optIn(w.repos, e);
  await startOrderConfirmation(w.client, taskQueue, e, { correlationId: `corr-${e.orderId}` });
  return e;
}
