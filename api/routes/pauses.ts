import type { FastifyPluginAsync, onRequestHookHandler } from 'fastify';
import type { FromSchema } from 'json-schema-to-ts';
import type { RolloutRepository } from '../../db/rollout-repository';
import { PROVIDER_NAMES, type ProviderName } from '../../domain/enums';
import { VENUE_ID_MAX } from '../../domain/limits';
import type { ActivePause, PauseScope } from '../../rollout/control';
import type { SqlRolloutControl } from '../../rollout/sql-control';
import { badRequest } from '../errors';
import { bearerSecurity, errorRef } from '../schemas';
import { changeContext, changeFields } from './flags';

export interface PauseRoutesOptions {
  rollout: RolloutRepository;
  control: SqlRolloutControl;
  authenticate: onRequestHookHandler;
  /** The providers this deployment sends through: a pause of another known one is allowed, and said. */
  configuredProviders: readonly ProviderName[];
  /**
   * After a resume's SQL write: wake the paused orders in that scope. Runs in the background; the
   * HTTP answer never waits for it nor fails with it.
   */
  wakePausedOrders: (scope: PauseScope, requestId: string) => Promise<void>;
}

const scopeBody = {
  type: 'object',
  required: ['scope', 'reason'],
  additionalProperties: false,
  properties: {
    scope: { type: 'string', enum: ['global', 'provider', 'venue'] },
    provider: {
      type: 'string',
      maxLength: 50,
      description: `with scope "provider": ${PROVIDER_NAMES.join(', ')}`,
    },
    venueId: { type: 'integer', minimum: 1, maximum: VENUE_ID_MAX, description: 'with scope "venue"' },
    ...changeFields,
  },
} as const;

const pauseJson = {
  type: 'object',
  properties: {
    scope: { type: 'string', enum: ['global', 'provider', 'venue'] },
    provider: { type: 'string' },
    venueId: { type: 'integer' },
    reason: { type: 'string' },
    pausedBy: { type: 'string' },
    pausedAt: { type: 'string', format: 'date-time' },
  },
} as const;

type ScopeBody = FromSchema<typeof scopeBody>;

/** The body's target, or a 400 that says exactly what is wrong with it. */
function targetOf(body: ScopeBody): PauseScope {
  const { scope, provider, venueId } = body;
  const misplaced = (field: string) =>
    badRequest(`${field} does not go with scope "${scope}"`, [
      { field, message: `is not allowed with scope ${scope}` },
    ]);
  if (scope === 'global') {
    if (provider !== undefined) throw misplaced('provider');
    if (venueId !== undefined) throw misplaced('venueId');
    return { scope };
  }
  if (scope === 'provider') {
    if (venueId !== undefined) throw misplaced('venueId');
    if (provider === undefined) {
      throw badRequest('scope "provider" needs provider', [{ field: 'provider', message: 'is required' }]);
    }
    if (!(PROVIDER_NAMES as readonly string[]).includes(provider)) {
      const message = `is not a known provider (${PROVIDER_NAMES.join(', ')})`;
      throw badRequest(`provider "${provider}" ${message}`, [{ field: 'provider', message }]);
    }
    return { scope, provider: provider as ProviderName };
  }
  if (provider !== undefined) throw misplaced('provider');
  if (venueId === undefined) {
    throw badRequest('scope "venue" needs venueId', [{ field: 'venueId', message: 'is required' }]);
  }
  return { scope, venueId };
}

function toJson(pause: ActivePause) {
  return {
    ...pause.target,
    reason: pause.reason,
    pausedBy: pause.pausedBy,
    pausedAt: pause.pausedAt.toISOString(),
  };
}

/**
 * The kill switch (issue 21): a pause holds sends globally, through one provider or to one venue;
 * paused orders wait in their workflows and go out after the resume, at the provider's pace.
 */
export const pauseRoutes: FastifyPluginAsync<PauseRoutesOptions> = async (app, options) => {
  const { rollout, control, authenticate } = options;

  app.get(
    '/api/pause',
    {
      onRequest: authenticate,
      schema: {
        tags: ['rollout'],
        summary: 'The pauses in force',
        security: bearerSecurity,
        response: {
          200: { type: 'object', properties: { pauses: { type: 'array', items: pauseJson } } },
          401: errorRef,
        },
      },
    },
    async () => ({ pauses: (await rollout.pauses()).map(toJson) }),
  );

  app.post<{ Body: ScopeBody }>(
    '/api/pause',
    {
      onRequest: authenticate,
      schema: {
        tags: ['rollout'],
        summary:
          'Hold sends globally, for one provider or one venue; every worker sees it within ROLLOUT_CACHE_MS (audited)',
        security: bearerSecurity,
        body: scopeBody,
        response: {
          200: {
            type: 'object',
            properties: {
              pause: pauseJson,
              created: { type: 'boolean', description: 'false: already paused (the first pause stays)' },
              providerConfigured: {
                type: 'boolean',
                description: 'scope provider only: false when this deployment does not send through it',
              },
            },
          },
          400: errorRef,
          401: errorRef,
        },
      },
    },
    async (request) => {
      const target = targetOf(request.body);
      const ctx = changeContext(request, request.body);
      const { pause, created } = await rollout.pause(target, ctx);
      control.invalidate();
      if (created) request.log.warn({ target, actor: ctx.actor }, 'sends paused');
      return {
        pause: toJson(pause),
        created,
        ...(target.scope === 'provider'
          ? { providerConfigured: options.configuredProviders.includes(target.provider) }
          : {}),
      };
    },
  );

  app.post<{ Body: ScopeBody }>(
    '/api/resume',
    {
      onRequest: authenticate,
      schema: {
        tags: ['rollout'],
        summary:
          "Lift exactly this scope's pause (a global resume leaves provider and venue pauses) and wake the paused orders (audited)",
        security: bearerSecurity,
        body: scopeBody,
        response: {
          200: {
            type: 'object',
            properties: {
              lifted: {
                anyOf: [pauseJson, { type: 'null' }],
                description: 'null: this scope was not paused',
              },
              stillPaused: { type: 'array', items: pauseJson, description: 'the pauses still in force' },
            },
          },
          400: errorRef,
          401: errorRef,
        },
      },
    },
    async (request) => {
      const target = targetOf(request.body);
      const ctx = changeContext(request, request.body);
      const { lifted } = await rollout.resume(target, ctx);
      control.invalidate();
      if (lifted) request.log.warn({ target, actor: ctx.actor }, 'sends resumed');
      // Also when nothing was lifted: a resume repeated after a lost wake-up wakes the orders again.
      void options.wakePausedOrders(target, request.id);
      return { lifted: lifted && toJson(lifted), stillPaused: (await rollout.pauses()).map(toJson) };
    },
  );
};
