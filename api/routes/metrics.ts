import type { FastifyInstance, FastifyPluginAsync, onRequestHookHandler } from 'fastify';
import type { Metrics } from '../../runtime/metrics';
import { bearerSecurity, errorRef } from '../schemas';

export interface MetricsRoutesOptions {
  metrics: Metrics;
  authenticate: onRequestHookHandler;
}

/**
 * GET /metrics in Prometheus' text format. Behind the bearer token: the API's port is the one the
 * providers' webhooks reach from the internet, and traffic figures are nobody else's business
 * (Prometheus sends it with `authorization: { credentials_file: … }`). The worker's and the
 * bridge's metrics ports are internal and open. Outside the rate limit (api/app.ts), so a scrape is
 * never refused.
 */
export const metricsRoutes: FastifyPluginAsync<MetricsRoutesOptions> = async (app, options) => {
  const { registry } = options.metrics;
  app.get(
    '/metrics',
    {
      onRequest: options.authenticate,
      schema: {
        tags: ['health'],
        summary: 'Prometheus metrics (docs/metrics.md)',
        security: bearerSecurity,
        response: { 200: { type: 'string' }, 401: errorRef },
      },
    },
    async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()),
  );
};

/**
 * Counts and times every request by method, route pattern and status. The pattern
 * (`/api/consent/:venueId/:phone`), never the URL, which carries phone numbers and would make a
 * series per customer; a request that matched no route is `unmatched`.
 */
export function installRequestMetrics(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const { method } = request;
    metrics.httpRequests.inc({ method, route, status_code: String(reply.statusCode) });
    metrics.httpRequestDuration.observe({ method, route }, reply.elapsedTime / 1000);
  });
}
