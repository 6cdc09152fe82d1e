import Fastify, { type FastifyBaseLogger } from 'fastify';
import { createReadiness } from '../runtime/readiness';
import { healthRoutes } from '../runtime/health-routes';
import { loadConfigOrExit, metricsPort } from '../config';
import { createLogger } from '../config/logger';
import { version } from '../package.json';
import { processMetrics } from '../runtime/metrics';
import { startMetricsServer } from '../runtime/metrics-server';
import { exitOnSignal } from '../runtime/shutdown';
import { startTracing } from '../runtime/tracing';
import { connectTemporalClient } from '../temporal/client';
import { createBridge } from './subscriber';
import { temporalAuthMode } from '../temporal/connection-options';

/**
 * `npm run bridge`: the Service Bus subscriber as its own process, with /health/live and
 * /health/ready (Service Bus, Temporal, and whether starts go through) on BRIDGE_HEALTH_PORT for
 * the orchestrator's probes.
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger({ level: config.logLevel, name: 'bridge' });
  if (!config.serviceBus) {
    logger.fatal(
      'set SERVICEBUS_CONNECTION_STRING or SERVICEBUS_NAMESPACE; without them the local ingress is the way in',
    );
    process.exit(78);
  }
  const metrics = processMetrics();
  const metricsServer = await startMetricsServer({
    registry: metrics.registry,
    host: config.api.host,
    port: metricsPort(config, 'bridge'),
    logger,
  });
  // Before the client: the HTTP instrumentation and the client interceptors need the SDK in place.
  const tracing = await startTracing(config.tracing, 'bridge');
  const temporal = connectTemporalClient(config.temporal, { interceptors: tracing?.clientInterceptors });
  const bridge = createBridge({
    metrics,
    serviceBus: config.serviceBus,
    temporal: { client: temporal.client, taskQueue: config.temporal.taskQueue },
    defaultRegion: config.sms.defaultPhoneRegion,
    logger,
  });

  // Probes arrive every few seconds: their request lines would drown the bridge's own.
  const probeLogger = logger.child({ component: 'health' }, { level: 'warn' });
  const health = Fastify({ loggerInstance: probeLogger as FastifyBaseLogger });
  await health.register(healthRoutes, {
    // `bridge` is down while workflow starts fail and the bridge holds its messages; it names the
    // reason (TemporalUnavailable, NamespaceNotFound, SearchAttributeNotRegistered...), the log has the text.
    readiness: createReadiness(
      { servicebus: bridge.check, temporal: temporal.ping, bridge: bridge.startCheck },
      { onDown: (check, err) => logger.warn({ check, err }, 'readiness check failed') },
    ),
    version,
  });

  exitOnSignal(logger, 'bridge', async (signal) => {
    logger.info({ signal, ...bridge.stats() }, 'bridge stopping: finishing in-flight messages');
    await bridge.close();
    await health.close();
    await metricsServer.close();
    await temporal.close();
    await tracing?.shutdown();
  });

  await bridge.start();
  await health.listen({ host: config.api.host, port: config.serviceBus.healthPort });
  logger.info(
    {
      topic: config.serviceBus.topic,
      subscription: config.serviceBus.subscription,
      serviceBusAuth: 'connectionString' in config.serviceBus.auth ? 'connection-string' : 'entra-id',
      temporal: config.temporal.address,
      temporalAuth: temporalAuthMode(config.temporal),
      taskQueue: config.temporal.taskQueue,
      health: `http://localhost:${config.serviceBus.healthPort}/health/ready`,
      metricsPort: metricsServer.port,
    },
    'bridge started',
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`bridge failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
