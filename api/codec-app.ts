import bearerAuth from '@fastify/bearer-auth';
import helmet from '@fastify/helmet';
import type { PayloadCodec } from '@temporalio/common';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type onRequestHookHandler } from 'fastify';
import type { CodecEndpointConfig } from '../config';
import type { Logger } from '../config/logger';
import { codecAuthenticator } from './codec-auth';
import { installErrorHandler } from './errors';
import { codecRoutes } from './routes/codec';
import { sharedSchemas } from './schemas';

/** What /codec needs: the payload codec, and who may call it (config.codecEndpoint). */
export interface CodecDeps {
  codec: PayloadCodec;
  endpoint: Pick<CodecEndpointConfig, 'auth' | 'corsOrigins'>;
}

/** The API token check, as a hook routes opt into (failures reach the app's error handler). */
export async function registerBearerAuth(app: FastifyInstance, token: string): Promise<onRequestHookHandler> {
  await app.register(bearerAuth, { keys: new Set([token]), addHook: false });
  const authenticate = app.verifyBearerAuth;
  if (!authenticate) throw new Error('@fastify/bearer-auth did not decorate verifyBearerAuth');
  return authenticate;
}

/** /codec/encode and /codec/decode on an app, guarded as CODEC_AUTH says. */
export async function registerCodec(
  app: FastifyInstance,
  deps: CodecDeps,
  bearer: onRequestHookHandler,
): Promise<void> {
  const { auth, corsOrigins } = deps.endpoint;
  await app.register(codecRoutes, {
    codec: deps.codec,
    corsOrigins,
    authenticate: codecAuthenticator(auth, { bearer, corsOrigins }),
  });
}

/**
 * The codec on a listener of its own (CODEC_PORT), serving nothing else: a port that can be
 * published differently from the API's, e.g. on the host's loopback only for CODEC_AUTH=none
 * (docs/adr/0010-payload-codec-and-ids.md).
 */
export async function buildCodecApp(
  deps: CodecDeps & { logger: Logger; apiToken: string },
): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger.child({ listener: 'codec' }) as FastifyBaseLogger,
  });
  installErrorHandler(app);
  for (const schema of sharedSchemas) app.addSchema(schema);
  await app.register(helmet);
  await registerCodec(app, deps, await registerBearerAuth(app, deps.apiToken));
  return app;
}
