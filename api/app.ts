import { setTimeout as setTimeoutPromise } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import { DEFAULT_ROLLOUT_CACHE_MS, type Config } from '../config';
import type { Logger } from '../config/logger';
import type { Repositories } from '../db';
import { fitCorrelationId } from '../domain/correlation-id';
import { createProviderWebhooks } from '../providers';
import type { ConsentEntities } from '../temporal/consent-signal';
import { installErrorHandler } from './errors';
import { processMetrics, type Metrics } from '../runtime/metrics';
import type { PauseScope } from '../rollout/control';
import { createRolloutControl, type SqlRolloutControl } from '../rollout/sql-control';
import { wakePausedOrders } from '../temporal/rollout-resume';
import { createReadiness, type ReadinessCheck } from '../runtime/readiness';
import { registerBearerAuth, registerCodec, type CodecDeps } from './codec-app';
import { consentRoutes } from './routes/consent';
import { flagRoutes } from './routes/flags';
import { pauseRoutes } from './routes/pauses';
import { eventRoutes } from './routes/events';
import { healthRoutes } from '../runtime/health-routes';
import { historyRoutes } from './routes/history';
import { installRequestMetrics, metricsRoutes } from './routes/metrics';
import { orderRoutes } from './routes/orders';
import { venueRoutes } from './routes/venues';
import { webhookConsentSignaller, webhookRoutes } from './routes/webhooks';
import { sharedSchemas } from './schemas';
import { VenueNumberDirectory } from './venue-number-directory';
import { WebhookNonces } from './webhook-nonces';

export interface ApiDeps {
  /** Provider secrets, when present, enable their webhook routes (simulator: its webhook secret). */
  config: Pick<Config, 'api' | 'sms'> & Partial<Pick<Config, 'twilio' | 'plivo' | 'simulator' | 'rollout'>>;
  logger: Logger;
  repos: Repositories;
  /** The client, the order queue and the consent id key (WORKFLOW_ID_HASH_KEY). */
  temporal: ConsentEntities;
  /** Dependency checks behind /health/ready, by name (database, temporal, servicebus…). */
  readinessChecks: Record<string, ReadinessCheck>;
  /**
   * Of those, the ones reported (and /health degraded) without making the API unready: the
   * database, which the webhooks do without (docs/adr/0013-webhooks-without-the-database.md).
   */
  optionalReadinessChecks?: readonly string[];
  /** The webhooks' venue-number directory and nonce store; the app builds its own unless a test brings them. */
  venueNumberDirectory?: VenueNumberDirectory;
  webhookNonces?: WebhookNonces;
  version: string;
  /** The registry GET /metrics serves; the process's unless a test brings its own. */
  metrics?: Metrics;
  /**
   * The Web UI's remote codec (/codec/encode, /codec/decode), guarded as CODEC_AUTH says; not served
   * here when absent (none configured, or on its own listener: api/codec-app.ts).
   */
  codec?: CodecDeps;
  /** The flag and pause state this process reads; built over `repos` (ROLLOUT_CACHE_MS) unless given. */
  rollout?: SqlRolloutControl;
}

/** Signals in flight at once while waking paused orders after a resume. */
const WAKE_CONCURRENCY = 20;

/** The Fastify app without listening, so tests drive it with inject() or on an ephemeral port. */
export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    // Request URLs carry phone numbers (/api/consent/:venueId/:phone); keep them out of the log.
    loggerInstance: deps.logger.child({}, { serializers: { req: serializeRequest } }) as FastifyBaseLogger,
    // The caller's x-request-id, fitted to the CorrelationID columns (a proxy's id is not a reason to
    // refuse a webhook), else a UUID: unique across restarts and replicas. The id becomes the
    // correlation id of an order or consent change when the caller sends none.
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && given !== '' ? fitCorrelationId(given) : randomUUID();
    },
    trustProxy: trustedProxies(deps.config.api.trustProxy),
    // The 400 names every field in error, and an unknown property is an error, not silently dropped.
    ajv: { customOptions: { allErrors: true, removeAdditional: false } },
  });
  installErrorHandler(app);
  const metrics = deps.metrics ?? processMetrics();
  installRequestMetrics(app, metrics);
  for (const schema of sharedSchemas) app.addSchema(schema);

  await app.register(helmet);
  await app.register(rateLimit, {
    max: 1000,
    timeWindow: '1 minute',
    // Probes come from the orchestrator, often through one address: a 429 there would restart pods.
    // Prometheus' scrapes likewise: a refused scrape is a gap in every graph.
    allowList: (request) => request.url.startsWith('/health') || request.url.split('?')[0] === '/metrics',
  });
  await app.register(formbody);
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'SMS order confirmation',
        version: deps.version,
        description:
          'Order-confirmation SMS on Temporal: event ingress, consent, history, provider webhooks and health.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  // Routes opt in with onRequest: authenticate; failures reach the shared error handler.
  const authenticate = await registerBearerAuth(app, deps.config.api.token);

  const { defaultPhoneRegion } = deps.config.sms;
  const webhooks = createProviderWebhooks(deps.config);
  const venueNumbers =
    deps.venueNumberDirectory ?? new VenueNumberDirectory(deps.repos.venueNumbers, deps.logger);
  const nonces =
    deps.webhookNonces ??
    new WebhookNonces(deps.repos.webhookNonces, deps.logger, (provider, kind) =>
      metrics.webhookSignatureFailures.inc({ provider, kind }),
    );
  if (webhooks.length > 0) {
    app.addHook('onReady', async () => {
      venueNumbers.start();
      nonces.start();
    });
    app.addHook('onClose', async () => {
      venueNumbers.stop();
      nonces.stop();
    });
  }
  const readiness = createReadiness(
    // A replica that has never loaded the venue numbers cannot answer a STOP during an outage.
    webhooks.length > 0
      ? { ...deps.readinessChecks, venueNumbers: venueNumbers.check }
      : deps.readinessChecks,
    {
      onDown: (check, err) => deps.logger.warn({ check, err }, 'readiness check failed'),
      optional: deps.optionalReadinessChecks,
    },
  );
  await app.register(healthRoutes, { readiness, version: deps.version });
  await app.register(metricsRoutes, { metrics, authenticate });
  await app.register(consentRoutes, {
    metrics,
    consent: deps.repos.consent,
    temporal: deps.temporal,
    defaultPhoneRegion,
    authenticate,
  });
  await app.register(eventRoutes, { temporal: deps.temporal, defaultPhoneRegion, authenticate });
  await app.register(orderRoutes, { history: deps.repos.history, temporal: deps.temporal, authenticate });
  await app.register(historyRoutes, { history: deps.repos.history, defaultPhoneRegion, authenticate });
  await app.register(venueRoutes, { history: deps.repos.history, authenticate });
  const rolloutCacheMs = deps.config.rollout?.cacheMs ?? DEFAULT_ROLLOUT_CACHE_MS;
  const rollout =
    deps.rollout ??
    createRolloutControl({
      repos: deps.repos,
      cacheMs: rolloutCacheMs,
      // Evaluations only: the workers report the pause gauges, reloading on a timer.
      metrics: { flagEvaluations: metrics.flagEvaluations },
      logger: deps.logger,
    });
  await app.register(flagRoutes, { rollout: deps.repos.rollout, control: rollout, authenticate });
  const wakes = new Set<Promise<void>>();
  const wake = (scope: PauseScope, reqId: string): Promise<void> => {
    const started = Date.now();
    // Wake only once every worker's cached state (ROLLOUT_CACHE_MS, the same setting in every role)
    // has expired: an order woken sooner could still read the pause and wait for its re-check.
    const done = setTimeoutPromise(rolloutCacheMs)
      .then(() =>
        wakePausedOrders({
          client: deps.temporal.client,
          taskQueue: deps.temporal.taskQueue,
          scope,
          concurrency: WAKE_CONCURRENCY,
        }),
      )
      .then(
        (counts) =>
          deps.logger.info({ reqId, scope, ...counts, ms: Date.now() - started }, 'paused orders woken'),
        (err: unknown) =>
          deps.logger.warn(
            { reqId, err, scope },
            'waking paused orders failed; they resume at their own re-check',
          ),
      )
      .finally(() => wakes.delete(done));
    wakes.add(done);
    return done;
  };
  app.addHook('onClose', async () => {
    await Promise.all(wakes);
  });
  await app.register(pauseRoutes, {
    rollout: deps.repos.rollout,
    control: rollout,
    authenticate,
    configuredProviders: deps.config.sms.providers,
    wakePausedOrders: wake,
  });
  if (deps.codec) await registerCodec(app, deps.codec, authenticate);
  await app.register(webhookRoutes, {
    webhooks,
    publicBaseUrl: deps.config.api.publicBaseUrl,
    venueNumbers,
    nonces,
    history: deps.repos.history,
    signalConsent: webhookConsentSignaller(deps.temporal),
    helpText: deps.config.sms.helpText,
    defaultPhoneRegion,
    metrics,
  });
  return app;
}

/** Fastify's types take a hop count only as a function (its runtime builds the same one). */
function trustedProxies(
  trust: Config['api']['trustProxy'],
): string | boolean | ((address: string, hop: number) => boolean) {
  return typeof trust === 'number' ? (_address, hop) => hop < trust : trust;
}

/**
 * The request URL for the log: every phone-like run in a path segment or a query key or value is cut
 * to its last two digits ("***71"). A client writes a number as it likes ("(415) 867-5309",
 * "+1 415.867.5309", any character percent-encoded) and the route still reads it, so runs are sought
 * in the decoded piece. A piece holding one is logged decoded and masked; every other piece exactly
 * as sent.
 */
export function maskUrl(url: string): string {
  return url.replace(/[^/?&=;#]+/g, (piece) => {
    const decoded = decodeForLog(piece);
    const masked = decoded.replace(PHONE_OR_READABLE, (run: string, readable: string | undefined) => {
      if (readable !== undefined) return run;
      const digits = run.match(/\p{Nd}/gu) ?? [];
      return digits.length >= 6 ? `***${digits.slice(-2).join('')}` : run;
    });
    return masked === decoded ? piece : masked;
  });
}

// libphonenumber's VALID_PUNCTUATION after NFKC (every dash, U+2212 minus, the katakana long vowel
// mark, tildes) and "+", which a query string may carry for a space.
const PHONE_SEPARATOR = String.raw`[\s\p{Pd}().\[\]/~+\u2212\u30FC\u2053\u223C]`;

/**
 * First what must stay readable (group 1), then a phone-like run: an optional "+", an optional
 * bracket, then digits with the separators libphonenumber accepts between them (a slash too: an
 * encoded one is inside the piece). Six digits or more make it a number. Trying a UUID or an ISO date
 * first at each position keeps one from being read as a number, even a UUID whose groups are all
 * digits; a date touching more digits is no date, so it cannot hide part of a number.
 */
const PHONE_OR_READABLE = new RegExp(
  [
    '(',
    // a UUID
    String.raw`(?<![0-9a-f])[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![0-9a-f])`,
    '|',
    // an ISO date, year-month to date-time with zone; not a part of a longer run of digits
    String.raw`(?<!\p{Nd}${PHONE_SEPARATOR}?)(?:19|20)\d\d-(?:0[1-9]|1[0-2])`,
    String.raw`(?:-(?:0[1-9]|[12]\d|3[01])(?:[T\s]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d(?::?\d\d)?)?)?)?`,
    String.raw`(?!${PHONE_SEPARATOR}?\p{Nd})`,
    ')|',
    String.raw`(?:\+\s*)?[(\[]?\p{Nd}(?:${PHONE_SEPARATOR}*\p{Nd})*`,
  ].join(''),
  'giu',
);

/**
 * decodeURIComponent, NFKC so full-width digits are digits, and invisible characters (zero-width
 * spaces, bidi controls) dropped so they neither split a number nor reach the log. A malformed escape
 * (the route refuses it, but the request is logged anyway) leaves the piece's ASCII escapes decoded
 * one by one.
 */
function decodeForLog(piece: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(piece);
  } catch {
    decoded = piece.replace(/%[0-7][0-9a-f]/gi, (escape) =>
      String.fromCharCode(parseInt(escape.slice(1), 16)),
    );
  }
  return decoded.normalize('NFKC').replace(/[\p{Cf}\p{Default_Ignorable_Code_Point}]/gu, '');
}

function serializeRequest(request: FastifyRequest) {
  return { method: request.method, url: maskUrl(request.url), remoteAddress: request.ip };
}
