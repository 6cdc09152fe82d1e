import { loadConfigOrExit, usesLocalPayloadCodecKey } from '../config';
import { createLogger } from '../config/logger';
import { createRepositories, pingDatabase } from '../db';
import { createKnex, redactDatabaseUrl } from '../db/knex';
import { connectTemporalClient } from '../temporal/client';
import { AesGcmPayloadCodec } from '../temporal/payload-codec';
import { version } from '../package.json';
import { exitOnSignal } from '../runtime/shutdown';
import { buildApp } from './app';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger({ level: config.logLevel, name: 'api' });
  const knex = createKnex(config.databaseUrl);
  const temporal = connectTemporalClient(config.temporal);

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
    codec: {
      codec: new AesGcmPayloadCodec(config.temporal.payloadCodecKeys),
      corsOrigins: config.codecEndpoint.corsOrigins,
      requireToken: !usesLocalPayloadCodecKey(config.temporal),
    },
  });

  exitOnSignal(logger, 'api', async (signal) => {
    logger.info({ signal }, 'api stopping: finishing in-flight requests');
    await app.close();
    await temporal.close();
    await knex.destroy();
  });

  await app.listen({ host: config.api.host, port: config.api.port });
  logger.info(
    {
      url: `http://localhost:${config.api.port}`,
      docs: `http://localhost:${config.api.port}/docs`,
      temporal: config.temporal.address,
      taskQueue: config.temporal.taskQueue,
      database: redactDatabaseUrl(config.databaseUrl),
      codecEndpoint: `http://localhost:${config.api.port}/codec`,
      codecCorsOrigins: config.codecEndpoint.corsOrigins,
    },
    'api started',
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`api failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
