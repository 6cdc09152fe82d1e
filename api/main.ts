import { loadConfigOrExit } from '../config';
import { createLogger } from '../config/logger';
import { createRepositories, pingDatabase } from '../db';
import { createKnex, redactDatabaseUrl } from '../db/knex';
import { connectTemporalClient } from '../temporal/client';
import { AesGcmPayloadCodec } from '../temporal/payload-codec';
import { version } from '../package.json';
import { exitOnSignal } from '../runtime/shutdown';
import { startTracing } from '../runtime/tracing';
import { buildApp } from './app';
import { buildCodecApp, type CodecDeps } from './codec-app';
import { temporalAuthMode } from '../temporal/connection-options';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger({ level: config.logLevel, name: 'api' });
  const knex = createKnex(config.databaseUrl, config.databaseAuth);
  // Before the client: the HTTP instrumentation and the client interceptors need the SDK in place.
  const tracing = await startTracing(config.tracing, 'api');
  const temporal = connectTemporalClient(config.temporal, { interceptors: tracing?.clientInterceptors });
  const codec: CodecDeps = {
    codec: new AesGcmPayloadCodec(config.temporal.payloadCodecKeys),
    endpoint: config.codecEndpoint,
  };
  const codecListener = config.codecEndpoint.listener;

  const app = await buildApp({
    config,
    logger,
    repos: createRepositories(knex),
    temporal: {
      client: temporal.client,
      taskQueue: config.temporal.taskQueue,
      workflowIdHashKey: config.temporal.workflowIdHashKey,
    },
    readinessChecks: { database: () => pingDatabase(knex), temporal: temporal.ping },
    // Ready while the database is down: webhooks (a STOP must win) and the Temporal-only routes work.
    optionalReadinessChecks: ['database'],
    version,
    // On its own listener (CODEC_PORT) the codec is served there only.
    codec: codecListener ? undefined : codec,
  });
  const codecApp = codecListener
    ? await buildCodecApp({ ...codec, logger, apiToken: config.api.token })
    : undefined;

  exitOnSignal(logger, 'api', async (signal) => {
    logger.info({ signal }, 'api stopping: finishing in-flight requests');
    await Promise.all([app.close(), codecApp?.close()]);
    await temporal.close();
    await tracing?.shutdown();
    await knex.destroy();
  });

  await app.listen({ host: config.api.host, port: config.api.port });
  if (codecApp && codecListener) await codecApp.listen(codecListener);
  const codecPort = codecListener?.port ?? config.api.port;
  logger.info(
    {
      url: `http://localhost:${config.api.port}`,
      docs: `http://localhost:${config.api.port}/docs`,
      temporal: config.temporal.address,
      taskQueue: config.temporal.taskQueue,
      temporalAuth: temporalAuthMode(config.temporal),
      database: redactDatabaseUrl(config.databaseUrl),
      databaseAuth: config.databaseAuth.kind,
      codecEndpoint: `http://localhost:${codecPort}/codec`,
      codecAuth: config.codecEndpoint.auth.mode,
      codecCorsOrigins: config.codecEndpoint.corsOrigins,
    },
    'api started',
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`api failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
