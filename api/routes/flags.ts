import type { FastifyPluginAsync, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { FromSchema } from 'json-schema-to-ts';
import type { ChangeContext, RolloutRepository } from '../../db/rollout-repository';
import { VENUE_ID_MAX } from '../../domain/limits';
import { ORDER_CONFIRMATION_SMS_FLAG as FLAG } from '../../rollout/control';
import type { SqlRolloutControl } from '../../rollout/sql-control';
import { badRequest } from '../errors';
import { bearerSecurity, errorRef } from '../schemas';

export interface FlagRoutesOptions {
  rollout: RolloutRepository;
  /** The API process's cached view, which the evaluation reads and every change invalidates. */
  control: SqlRolloutControl;
  authenticate: onRequestHookHandler;
}

/** The monolith caches the answer this long (seed 000: flag changes propagate within 5 minutes). */
export const FLAG_CACHE_CONTROL = 'max-age=300';

/** Who changed it, as the audit trail records it, when the request names nobody. */
export const DEFAULT_ACTOR = 'api-token';

/** Every change says why, and may say who (the API token is shared: it identifies no one). */
export const changeFields = {
  reason: { type: 'string', minLength: 1, maxLength: 500, description: 'Why; kept in the audit trail.' },
  changedBy: {
    type: 'string',
    minLength: 1,
    maxLength: 200,
    description: `Who, for the audit trail (the CLI sends $OPS_ACTOR or $USER); default "${DEFAULT_ACTOR}".`,
  },
} as const;

/** The audit context of a change request: its actor, reason, time and request id. */
export function changeContext(
  request: FastifyRequest,
  body: { reason: string; changedBy?: string },
): ChangeContext {
  const reason = body.reason.trim();
  if (reason === '') throw badRequest('reason must not be blank', [{ field: 'reason', message: 'is blank' }]);
  return { actor: body.changedBy?.trim() || DEFAULT_ACTOR, reason, at: new Date(), requestId: request.id };
}

const flagPath = `/api/flags/${FLAG}`;

const evaluationQuery = {
  type: 'object',
  required: ['venueId'],
  additionalProperties: false,
  properties: { venueId: { type: 'integer', minimum: 1, maximum: VENUE_ID_MAX } },
} as const;

const evaluation = {
  type: 'object',
  required: ['enabled', 'reason'],
  properties: {
    enabled: { type: 'boolean' },
    reason: {
      type: 'string',
      enum: ['global_off', 'venue_override_on', 'venue_override_off', 'in_rollout', 'outside_rollout'],
    },
  },
} as const;

const definition = {
  type: 'object',
  properties: {
    flag: { type: 'string' },
    enabled: { type: 'boolean', description: 'the global switch' },
    rolloutPercent: { type: 'integer' },
    stored: { type: 'boolean', description: 'false: never set, the default (on, 100 %) applies' },
    updatedAt: { type: ['string', 'null'], format: 'date-time' },
    updatedBy: { type: ['string', 'null'] },
    overrides: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          venueId: { type: 'integer' },
          enabled: { type: 'boolean' },
          reason: { type: 'string' },
          updatedAt: { type: 'string', format: 'date-time' },
          updatedBy: { type: 'string' },
        },
      },
    },
  },
} as const;

const setFlagBody = {
  type: 'object',
  required: ['reason'],
  additionalProperties: false,
  properties: {
    enabled: { type: 'boolean', description: 'the global switch; false turns SMS off for every venue' },
    rolloutPercent: {
      type: 'integer',
      minimum: 0,
      maximum: 100,
      description: 'whole percent of venues, by stable bucket: raising it keeps the venues already in',
    },
    ...changeFields,
  },
} as const;

const setFlagResult = {
  type: 'object',
  properties: {
    flag: { type: 'string' },
    enabled: { type: 'boolean' },
    rolloutPercent: { type: 'integer' },
    changed: {
      type: 'boolean',
      description: 'false when the flag already had these values (nothing audited)',
    },
    previous: {
      type: 'object',
      properties: { enabled: { type: 'boolean' }, rolloutPercent: { type: 'integer' } },
    },
  },
} as const;

const venueParams = {
  type: 'object',
  required: ['venueId'],
  properties: { venueId: { type: 'integer', minimum: 1, maximum: VENUE_ID_MAX } },
} as const;

const overrideBody = {
  type: 'object',
  required: ['enabled', 'reason'],
  additionalProperties: false,
  properties: {
    enabled: { type: 'boolean', description: 'true: on whatever the bucket; false: off' },
    ...changeFields,
  },
} as const;

const clearBody = {
  type: 'object',
  required: ['reason'],
  additionalProperties: false,
  properties: { ...changeFields },
} as const;

const overrideResult = {
  type: 'object',
  properties: {
    venueId: { type: 'integer' },
    override: {
      type: ['boolean', 'null'],
      description: 'the override now in force; null: none, the bucket decides',
    },
    previous: { type: ['boolean', 'null'] },
    changed: { type: 'boolean' },
  },
} as const;

const auditQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
    subject: { type: 'string', enum: ['flag', 'pause'], description: 'only flag changes, or only pauses' },
  },
} as const;

const auditEntry = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    changedAt: { type: 'string', format: 'date-time' },
    changedBy: { type: 'string' },
    requestId: { type: ['string', 'null'] },
    subject: { type: 'string' },
    action: { type: 'string' },
    from: {},
    to: {},
    reason: { type: 'string' },
  },
} as const;

type VenueParams = FromSchema<typeof venueParams>;

/**
 * The order-confirmation-sms flag (issue 21): the monolith's evaluation, and the admin changes,
 * each written with its audit row (docs/adr/0014-rollout-control.md).
 */
export const flagRoutes: FastifyPluginAsync<FlagRoutesOptions> = async (app, options) => {
  const { rollout, control, authenticate } = options;

  app.get<{ Querystring: FromSchema<typeof evaluationQuery> }>(
    flagPath,
    {
      onRequest: authenticate,
      schema: {
        tags: ['rollout'],
        summary: 'Whether SMS order confirmations are on for a venue (cache the answer 5 minutes; fail open)',
        security: bearerSecurity,
        querystring: evaluationQuery,
        response: { 200: evaluation, 400: errorRef, 401: errorRef },
      },
    },
    async (request, reply) => {
      const result = await control.evaluate(request.query.venueId);
      return reply.header('cache-control', FLAG_CACHE_CONTROL).send(result);
    },
  );

  app.get(
    `${flagPath}/definition`,
    {
      onRequest: authenticate,
      schema: {
        tags: ['rollout'],
        summary: 'The flag as stored: global switch, percentage and every venue override',
        security: bearerSecurity,
        response: { 200: definition, 401: errorRef },
      },
    },
    async () => {
      const [flag, overrides] = await Promise.all([rollout.flag(FLAG), rollout.overrides(FLAG)]);
      return {
        flag: FLAG,
        enabled: flag.enabled,
        rolloutPercent: flag.rolloutPercent,
        stored: flag.stored,
        updatedAt: flag.updatedAt?.toISOString() ?? null,
        updatedBy: flag.updatedBy,
        overrides: overrides.map((o) => ({ ...o, updatedAt: o.updatedAt.toISOString() })),
      };
    },
  );

  app.put<{ Body: FromSchema<typeof setFlagBody> }>(
    flagPath,
    {
      onRequest: authenticate,
      schema: {
        tags: ['rollout'],
        summary: 'Change the global switch and/or the rollout percentage (audited)',
        security: bearerSecurity,
        body: setFlagBody,
        response: { 200: setFlagResult, 400: errorRef, 401: errorRef },
      },
    },
    async (request) => {
      const { enabled, rolloutPercent } = request.body;
      if (enabled === undefined && rolloutPercent === undefined) {
        const message = 'give enabled, rolloutPercent or both';
        throw badRequest(message, [
          { field: 'enabled', message },
          { field: 'rolloutPercent', message },
        ]);
      }
      const ctx = changeContext(request, request.body);
      const { before, after, changed } = await rollout.setFlag(FLAG, { enabled, rolloutPercent }, ctx);
      control.invalidate();
      if (changed) request.log.info({ flag: FLAG, before, after, actor: ctx.actor }, 'flag changed');
      return {
        flag: FLAG,
        enabled: after.enabled,
        rolloutPercent: after.rolloutPercent,
        changed,
        previous: { enabled: before.enabled, rolloutPercent: before.rolloutPercent },
      };
    },
  );

  app.put<{ Params: VenueParams; Body: FromSchema<typeof overrideBody> }>(
    `${flagPath}/venues/:venueId`,
    {
      onRequest: authenticate,
      schema: {
        tags: ['rollout'],
        summary: 'Force one venue on or off whatever its bucket (the global switch still wins; audited)',
        security: bearerSecurity,
        params: venueParams,
        body: overrideBody,
        response: { 200: overrideResult, 400: errorRef, 401: errorRef },
      },
    },
    async (request) => {
      const { venueId } = request.params;
      const ctx = changeContext(request, request.body);
      const { before, after, changed } = await rollout.setVenueOverride(
        FLAG,
        venueId,
        request.body.enabled,
        ctx,
      );
      control.invalidate();
      if (changed)
        request.log.info(
          { flag: FLAG, venueId, enabled: after.enabled, actor: ctx.actor },
          'venue override set',
        );
      return { venueId, override: after.enabled, previous: before?.enabled ?? null, changed };
    },
  );

  app.delete<{ Params: VenueParams; Body: FromSchema<typeof clearBody> }>(
    `${flagPath}/venues/:venueId`,
    {
      onRequest: authenticate,
      schema: {
        tags: ['rollout'],
        summary: "Remove a venue's override: its bucket decides again (audited)",
        security: bearerSecurity,
        params: venueParams,
        body: clearBody,
        response: { 200: overrideResult, 400: errorRef, 401: errorRef },
      },
    },
    async (request) => {
      const { venueId } = request.params;
      const ctx = changeContext(request, request.body);
      const { before } = await rollout.clearVenueOverride(FLAG, venueId, ctx);
      control.invalidate();
      if (before) request.log.info({ flag: FLAG, venueId, actor: ctx.actor }, 'venue override cleared');
      return { venueId, override: null, previous: before?.enabled ?? null, changed: before !== null };
    },
  );

  app.get<{ Querystring: FromSchema<typeof auditQuery> }>(
    '/api/rollout/audit',
    {
      onRequest: authenticate,
      schema: {
        tags: ['rollout'],
        summary: 'Every change to the flag, its overrides and the pauses, newest first',
        security: bearerSecurity,
        querystring: auditQuery,
        response: {
          200: { type: 'object', properties: { items: { type: 'array', items: auditEntry } } },
          400: errorRef,
          401: errorRef,
        },
      },
    },
    async (request) => {
      const { limit, subject } = request.query;
      const items = await rollout.auditTrail({ limit: limit ?? 50, subjectPrefix: subject && `${subject}:` });
      return { items: items.map((e) => ({ ...e, changedAt: e.changedAt.toISOString() })) };
    },
  );
};
