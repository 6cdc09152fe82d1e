import type { FastifyPluginAsync, onRequestHookHandler } from 'fastify';
import type { FromSchema } from 'json-schema-to-ts';
import type {
  ConsentChangeCursor,
  ConsentChangeRecord,
  ConsentRepository,
} from '../../db/consent-repository';
import { acknowledgedOccurredAt, occurredAtProblem, readAcknowledgedConsent } from '../../domain/consent';
import { CONSENT_CHANGE_OUTCOMES, PROVIDER_NAMES } from '../../domain/enums';
import { VENUE_ID_MAX } from '../../domain/limits';
import {
  pendingConsentChanges,
  signalConsentChange,
  type ConsentEntities,
} from '../../temporal/consent-signal';
import type { Metrics } from '../../runtime/metrics';
import { HttpError, badRequest, notFound } from '../errors';
import { requireE164 } from '../params';
import { bearerSecurity, consentSource, consentStatus, errorRef } from '../schemas';

export interface ConsentRoutesOptions {
  consent: ConsentRepository;
  temporal: ConsentEntities;
  defaultPhoneRegion: string;
  authenticate: onRequestHookHandler;
  /** Counts acknowledged changes (source `api`). */
  metrics: Pick<Metrics, 'consentChanges'>;
}

/** Idempotency keys share the change id column with provider message ids, under their own prefix. */
const API_CHANGE_ID_PREFIX = 'api:';
const IDEMPOTENCY_KEY_MAX = 64;

const consentRecord = {
  type: 'object',
  properties: {
    venueId: { type: 'integer' },
    phoneNumber: { type: 'string', description: 'E.164' },
    consentStatus,
    source: { anyOf: [consentSource, { type: 'null' }] },
    updatedAt: { type: 'string', format: 'date-time' },
  },
} as const;

const consentParams = {
  type: 'object',
  required: ['venueId', 'phone'],
  properties: {
    venueId: { type: 'integer', minimum: 1, maximum: VENUE_ID_MAX },
    phone: { type: 'string', description: 'E.164, URL-encoded (%2B for +)' },
  },
} as const;

/** One row of the consent audit trail (SmsConsentChanges). */
const consentChange = {
  type: 'object',
  required: ['id', 'status', 'source', 'outcome', 'occurredAt', 'receivedAt'],
  properties: {
    id: { type: 'integer' },
    status: consentStatus,
    source: consentSource,
    provider: { anyOf: [{ type: 'string', enum: [...PROVIDER_NAMES] }, { type: 'null' }] },
    providerMessageId: { type: ['string', 'null'] },
    outcome: {
      type: 'string',
      enum: [...CONSENT_CHANGE_OUTCOMES],
      description: 'applied, or why not: duplicate (redelivered webhook), stale (older than the row)',
    },
    occurredAt: { type: 'string', format: 'date-time', description: 'when the customer decided' },
    receivedAt: { type: 'string', format: 'date-time', description: 'when the service acknowledged it' },
    correlationId: { type: ['string', 'null'] },
    changeId: {
      type: ['string', 'null'],
      description: 'the consent workflow run and activity that handled it',
    },
  },
} as const;

const consentHistory = {
  type: 'object',
  required: ['venueId', 'phoneNumber', 'items', 'nextBefore'],
  properties: {
    venueId: { type: 'integer' },
    phoneNumber: { type: 'string', description: 'E.164' },
    items: { type: 'array', items: consentChange },
    nextBefore: {
      type: ['string', 'null'],
      description: 'pass as `before` for the next (older) page; null on the last page',
    },
  },
} as const;

const historyQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
    before: {
      type: 'string',
      maxLength: 64,
      description: "the previous page's nextBefore (opaque)",
    },
  },
} as const;

/**
 * A keyset cursor (the trail is append-only: an offset would shift while changes arrive), opaque to
 * clients: base64url of `<occurredAt epoch ms>.<id>`.
 */
export function encodeChangeCursor(cursor: ConsentChangeCursor): string {
  return Buffer.from(`${cursor.occurredAt.getTime()}.${cursor.id}`).toString('base64url');
}

export function decodeChangeCursor(raw: string): ConsentChangeCursor {
  const match = /^(\d{1,15})\.(\d{1,15})$/.exec(Buffer.from(raw, 'base64url').toString('utf8'));
  if (!match)
    throw badRequest('before is not a cursor this API returned', [
      { field: 'before', message: 'is invalid' },
    ]);
  return { occurredAt: new Date(Number(match[1])), id: Number(match[2]) };
}

function toChangeJson(change: ConsentChangeRecord) {
  return {
    id: change.id,
    status: change.status,
    source: change.source,
    provider: change.provider,
    providerMessageId: change.providerMessageId,
    outcome: change.outcome,
    occurredAt: change.occurredAt.toISOString(),
    receivedAt: change.receivedAt.toISOString(),
    correlationId: change.correlationId,
    changeId: change.changeId,
  };
}

const changeBody = {
  type: 'object',
  required: ['venueId', 'phoneNumber', 'status', 'source'],
  additionalProperties: false,
  properties: {
    venueId: { type: 'integer', minimum: 1, maximum: VENUE_ID_MAX },
    phoneNumber: { type: 'string', minLength: 1, maxLength: 32 },
    status: consentStatus,
    source: consentSource,
    occurredAt: {
      type: 'string',
      format: 'date-time',
      description:
        'When the customer decided; defaults to now. A real instant, at most 5 minutes ahead. An opt-in ' +
        'needs it or an Idempotency-Key: dated on arrival, a retried old opt-in would undo a later STOP.',
    },
  },
} as const;

const changeHeaders = {
  type: 'object',
  properties: {
    'idempotency-key': {
      type: 'string',
      minLength: 1,
      maxLength: IDEMPOTENCY_KEY_MAX,
      pattern: '^[\\x21-\\x7e]+$',
      description:
        "The caller's id for this change (an outbox message id): the change is applied once, however " +
        'often it is posted, for as long as its audit row is kept.',
    },
  },
} as const;

type ChangeBody = FromSchema<typeof changeBody>;
type ChangeHeaders = FromSchema<typeof changeHeaders>;
type ConsentParams = FromSchema<typeof consentParams>;

/**
 * Consent is written only through the (venue, phone) consent workflow, so a STOP from a webhook and a
 * change from the monolith are applied one at a time, in order. It is read as acknowledged: the table
 * plus what that workflow holds and has not written yet (domain/consent.ts).
 */
export const consentRoutes: FastifyPluginAsync<ConsentRoutesOptions> = async (app, options) => {
  const toE164 = (raw: string, field: string) => requireE164(raw, field, options.defaultPhoneRegion);

  app.get<{ Params: ConsentParams }>(
    '/api/consent/:venueId/:phone',
    {
      // Whether a phone number is a venue's customer is personal data.
      onRequest: options.authenticate,
      schema: {
        tags: ['consent'],
        summary: 'Consent of one phone number at one venue, every acknowledged change included',
        security: bearerSecurity,
        params: consentParams,
        response: { 200: consentRecord, 400: errorRef, 401: errorRef, 404: errorRef, 503: errorRef },
      },
    },
    async (request) => {
      const { venueId } = request.params;
      const phoneNumber = toE164(request.params.phone, 'phone');
      const record = await readAcknowledgedConsent({
        pending: () =>
          pendingConsentChanges(options.temporal, venueId, phoneNumber).catch((err: unknown) => {
            request.log.error({ err, venueId }, 'consent workflow did not answer');
            throw new HttpError(
              503,
              'ServiceUnavailable',
              'consent changes in flight could not be read; retry',
            );
          }),
        handled: (ids) => options.consent.handledMessageIds(venueId, phoneNumber, ids),
        stored: () => options.consent.get(venueId, phoneNumber),
      });
      if (!record) throw notFound('no consent recorded for this phone number at this venue');
      return {
        venueId,
        phoneNumber,
        consentStatus: record.status,
        source: record.source,
        updatedAt: record.updatedAt.toISOString(),
      };
    },
  );

  app.get<{ Params: ConsentParams; Querystring: FromSchema<typeof historyQuery> }>(
    '/api/consent/:venueId/:phone/history',
    {
      onRequest: options.authenticate,
      schema: {
        tags: ['consent'],
        summary: 'Every consent change for one phone at one venue, applied or ignored, newest first',
        security: bearerSecurity,
        params: consentParams,
        querystring: historyQuery,
        response: { 200: consentHistory, 400: errorRef, 401: errorRef, 404: errorRef },
      },
    },
    async (request) => {
      const { venueId } = request.params;
      const phoneNumber = toE164(request.params.phone, 'phone');
      const { limit, before } = request.query;
      const page = await options.consent.changes(venueId, phoneNumber, {
        limit,
        before: before === undefined ? undefined : decodeChangeCursor(before),
      });
      // An empty first page: 404 unless a consent row predates the audit trail.
      if (
        before === undefined &&
        page.items.length === 0 &&
        !(await options.consent.get(venueId, phoneNumber))
      ) {
        throw notFound('no consent recorded for this phone number at this venue');
      }
      return {
        venueId,
        phoneNumber,
        items: page.items.map(toChangeJson),
        nextBefore: page.next ? encodeChangeCursor(page.next) : null,
      };
    },
  );

  app.post<{ Body: ChangeBody; Headers: ChangeHeaders }>(
    '/api/internal/consent',
    {
      onRequest: options.authenticate,
      schema: {
        tags: ['consent'],
        summary: 'Record a consent change (durable in Temporal when this answers 202)',
        security: bearerSecurity,
        headers: changeHeaders,
        body: changeBody,
        response: {
          202: {
            type: 'object',
            properties: { accepted: { type: 'boolean' }, workflowId: { type: 'string' } },
          },
          400: errorRef,
          401: errorRef,
        },
      },
    },
    async (request, reply) => {
      const { venueId, status, source, occurredAt } = request.body;
      const phoneNumber = toE164(request.body.phoneNumber, 'phoneNumber');
      // Checked before the change is acknowledged: the consent workflow could never apply it.
      const problem = occurredAt === undefined ? null : occurredAtProblem(occurredAt);
      if (problem) throw badRequest(`occurredAt ${problem}`, [{ field: 'occurredAt', message: problem }]);
      const key = request.headers['idempotency-key'];
      // An opt-out may be dated on arrival (a late one only stops texts); an opt-in must be told apart
      // from a retry of an old one, or an outbox retrying it after a STOP re-subscribes the customer.
      if (status === 'opted_in' && occurredAt === undefined && key === undefined) {
        const message = 'is required for an opt-in, unless an Idempotency-Key header identifies the change';
        throw badRequest(`occurredAt ${message}`, [{ field: 'occurredAt', message }]);
      }
      const { workflowId } = await signalConsentChange(options.temporal, venueId, phoneNumber, {
        status,
        source,
        occurredAt: acknowledgedOccurredAt(occurredAt),
        ...(key === undefined ? {} : { providerMessageId: `${API_CHANGE_ID_PREFIX}${key}` }),
        correlationId: request.id,
      });
      options.metrics.consentChanges.inc({
        direction: status === 'opted_out' ? 'opt_out' : 'opt_in',
        source: 'api',
      });
      return reply.code(202).send({ accepted: true, workflowId });
    },
  );
};
