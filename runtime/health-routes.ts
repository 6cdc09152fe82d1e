import type { FastifyPluginAsync } from 'fastify';
import type { ReadinessReport } from './readiness';

const checkResult = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['up', 'down'] },
    durationMs: { type: 'number' },
    reason: { type: 'string', description: 'a short name for why, when the check gives one' },
  },
} as const;

const readyResponse = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ready', 'not_ready'] },
    checkedAt: { type: 'string', format: 'date-time' },
    checks: { type: 'object', additionalProperties: checkResult },
  },
} as const;

export interface HealthRoutesOptions {
  readiness: () => Promise<ReadinessReport>;
  version: string;
}

/** Liveness never touches a dependency (a restart would not fix one); readiness checks them all. */
export const healthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (app, { readiness, version }) => {
  const startedAt = Date.now();

  app.get(
    '/health',
    {
      schema: {
        tags: ['health'],
        summary: 'Health summary with the readiness checks',
        response: {
          200: {
            type: 'object',
            properties: {
              status: { type: 'string', enum: ['healthy', 'degraded'] },
              version: { type: 'string' },
              uptimeSeconds: { type: 'number' },
              checks: readyResponse.properties.checks,
            },
          },
        },
      },
    },
    async () => {
      const report = await readiness();
      return {
        status: Object.values(report.checks).every((c) => c.status === 'up') ? 'healthy' : 'degraded',
        version,
        uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
        checks: report.checks,
      };
    },
  );

  app.get(
    '/health/live',
    {
      schema: {
        tags: ['health'],
        summary: 'Liveness probe',
        response: { 200: { type: 'object', properties: { status: { type: 'string' } } } },
      },
    },
    async () => ({ status: 'alive' }),
  );

  app.get(
    '/health/ready',
    {
      schema: {
        tags: ['health'],
        summary: 'Readiness probe: database, Temporal and Service Bus when configured (cached 10 s)',
        response: { 200: readyResponse, 503: readyResponse },
      },
    },
    async (_request, reply) => {
      const report = await readiness();
      return reply.code(report.ready ? 200 : 503).send({
        status: report.ready ? 'ready' : 'not_ready',
        checkedAt: report.checkedAt,
        checks: report.checks,
      });
    },
  );
};
