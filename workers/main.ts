import { Client } from '@temporalio/client';
import { NativeConnection, Runtime } from '@temporalio/worker';
import { loadConfigOrExit, metricsPort } from '../config';
import { createLogger } from '../config/logger';
import { createKnex, redactDatabaseUrl } from '../db/knex';
import { createRepositories } from '../db';
import { createProviders } from '../providers';
import { processMetrics } from '../runtime/metrics';
import { startMetricsServer } from '../runtime/metrics-server';
import { startTracing } from '../runtime/tracing';
import { createDataConverter } from '../temporal/data-converter';
import { temporalLogger } from '../temporal/logger';
import { ensureSearchAttributes } from '../temporal/search-attributes-setup';
import { createActivityDeps } from './activity-deps';
import { createWorkers, runWorkers } from './create-workers';
import { startFailedOrdersGauge } from './failed-orders-gauge';
import { startLongRunningWorkflowsGauge } from './long-running-gauge';
import { startPausedOrdersGauge } from './paused-orders-gauge';
import { createRolloutControl } from '../rollout/sql-control';
import { temporalAuthMode, temporalConnectionOptions } from '../temporal/connection-options';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger({ level: config.logLevel, name: 'worker' });
  // Installs SIGINT/SIGTERM handlers that drain the workers before the process exits. The SDK's
  // own metrics (temporal_*: task slots, poll and schedule-to-start latencies, activity and workflow
  // outcomes) get their own Prometheus port; 0 turns them off.
  const sdkMetricsPort = config.metrics.temporalPort;
  Runtime.install({
    logger: temporalLogger(logger),
    telemetryOptions:
      sdkMetricsPort > 0
        ? {
            metrics: {
              // Prometheus conventions, as our own metrics follow them: durations in seconds with the
              // unit in the name (…_latency_seconds), counters ending in _total (docs/metrics.md).
              prometheus: {
                bindAddress: socketAddress(config.api.host, sdkMetricsPort),
                useSecondsForDurations: true,
                unitSuffix: true,
                countersTotalSuffix: true,
              },
              // Core's own service_name is "temporal-core-sdk" on every service that embeds it: ours
              // names this service, and role tells worker series apart on a shared dashboard.
              attachServiceName: false,
              globalTags: { service_name: SERVICE_NAME, role: 'worker' },
            },
          }
        : undefined,
  });
  const metrics = processMetrics();
  const metricsServer = await startMetricsServer({
    registry: metrics.registry,
    host: config.api.host,
    port: metricsPort(config, 'worker'),
    logger,
  });

  // Before the providers: their SDKs' HTTP requests become the send's child spans.
  const tracing = await startTracing(config.tracing, 'worker');
  const knex = createKnex(config.databaseUrl, config.databaseAuth);
  const { providers, close: closeProviders } = createProviders(config);
  const connection = await NativeConnection.connect(temporalConnectionOptions(config.temporal));
  try {
    const attributes = await ensureSearchAttributes(connection, config.temporal.namespace);
    if (attributes.kind === 'manual') {
      logger.error(
        { missing: attributes.missing, reason: attributes.reason },
        'create these search attributes in the namespace (Temporal Cloud: tcld namespace search-attributes add)',
      );
    } else if (attributes.added.length > 0) {
      logger.info({ added: attributes.added }, 'search attributes registered');
    }

    // The activities' own client (consent signals, provisioning) encrypts like the workers do.
    const client = new Client({
      connection,
      namespace: config.temporal.namespace,
      dataConverter: createDataConverter(config.temporal),
      ...(tracing ? { interceptors: tracing.clientInterceptors } : {}),
    });
    const longRunning = startLongRunningWorkflowsGauge({
      client,
      taskQueue: config.temporal.taskQueue,
      metrics,
      logger,
    });
    // Every replica counts and reports the same number (max() in the alert); once a minute is cheap.
    const failedOrders = startFailedOrdersGauge({ client, metrics, logger });
    const repos = createRepositories(knex);
    // One cache per process: every send of this worker reads the same state, at most ROLLOUT_CACHE_MS old.
    const rollout = createRolloutControl({ repos, cacheMs: config.rollout.cacheMs, metrics, logger });
    const pausedOrders = startPausedOrdersGauge({
      client,
      taskQueue: config.temporal.taskQueue,
      metrics,
      logger,
      rollout,
    });
    const workers = await createWorkers({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      providers: config.sms.providers,
      sendRatePerSecond: config.sms.sendRatePerSecond,
      tuning: config.worker,
      payloadCodecKeys: config.temporal.payloadCodecKeys,
      workflowBundle: config.temporal.workflowBundlePath
        ? { codePath: config.temporal.workflowBundlePath }
        : undefined,
      metrics,
      tracing,
      deps: createActivityDeps({
        config,
        logger,
        repos,
        providers,
        client,
        metrics,
        rollout,
      }),
    });
    logger.info(
      {
        temporal: config.temporal.address,
        namespace: config.temporal.namespace,
        taskQueue: config.temporal.taskQueue,
        provider: config.sms.provider,
        providers: config.sms.providers,
        failover: config.sms.failover,
        sendRatePerSecond: config.sms.sendRatePerSecond,
        rolloutCacheMs: config.rollout.cacheMs,
        worker: config.worker,
        // Which workflow code this replica runs: the pre-built bundle, or one bundled at start.
        workflowBundle: config.temporal.workflowBundlePath ?? 'bundled at start',
        temporalAuth: temporalAuthMode(config.temporal),
        database: redactDatabaseUrl(config.databaseUrl),
        databaseAuth: config.databaseAuth.kind,
        metricsPort: metricsServer.port,
        temporalMetricsPort: sdkMetricsPort || 'off',
        payloadCodecKeyId: config.temporal.payloadCodecKeys[0].id,
        tracing: config.tracing ? new URL(config.tracing.url).origin : 'off',
      },
      'worker started',
    );
    try {
      await runWorkers(workers);
    } finally {
      longRunning.stop();
      failedOrders.stop();
      pausedOrders.stop();
    }
  } finally {
    await metricsServer.close();
    await connection.close();
    await closeProviders();
    await knex.destroy();
    await tracing?.shutdown();
    logger.info('worker stopped');
  }
}

/** host:port as a socket address; an IPv6 host goes in brackets. */
/** The service_name label of the SDK's metrics. */
const SERVICE_NAME = 'sms-order-confirmation';

function socketAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

main().catch((err: unknown) => {
  process.stderr.write(`worker failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
