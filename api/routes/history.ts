import type { FastifyPluginAsync, onRequestHookHandler } from 'fastify';
import type { FromSchema } from 'json-schema-to-ts';
import type { HistoryRepository } from '../../db/history-repository';
import { HISTORY_STATUSES } from '../../domain/enums';
import { requireE164 } from '../params';
import { bearerSecurity, errorRef } from '../schemas';

export interface HistoryRoutesOptions {
  history: HistoryRepository;
  defaultPhoneRegion: string;
  authenticate: onRequestHookHandler;
}

const historyQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    orderId: { type: 'string', format: 'uuid' },
    phoneNumber: { type: 'string', maxLength: 32 },
    venueId: { type: 'integer', minimum: 1 },
    status: { type: 'string', enum: [...HISTORY_STATUSES] },
    from: { type: 'string', format: 'date-time', description: 'inclusive' },
    to: { type: 'string', format: 'date-time', description: 'exclusive' },
    page: { type: 'integer', minimum: 1, default: 1 },
    pageSize: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
  },
} as const;

type HistoryQuery = FromSchema<typeof historyQuery>;

/** Send history for support and audits (seed 000, story 7.4); internal only, it holds phone numbers. */
export const historyRoutes: FastifyPluginAsync<HistoryRoutesOptions> = async (app, options) => {
  app.get<{ Querystring: HistoryQuery }>(
    '/api/history',
    {
      onRequest: options.authenticate,
      schema: {
        tags: ['history'],
        summary: 'Search the send history, newest first',
        security: bearerSecurity,
        querystring: historyQuery,
        response: {
          200: {
            type: 'object',
            properties: {
              items: { type: 'array', items: { $ref: 'HistoryRecord#' } },
              page: { type: 'integer' },
              pageSize: { type: 'integer' },
              total: { type: 'integer' },
            },
          },
          400: errorRef,
          401: errorRef,
        },
      },
    },
    async (request) => {
      const { page, pageSize, phoneNumber, from, to, ...filter } = request.query;
      const { items, total } = await options.history.search({
        ...filter,
        phoneNumber:
          phoneNumber === undefined
            ? undefined
            : requireE164(phoneNumber, 'phoneNumber', options.defaultPhoneRegion),
        from: from ? new Date(from) : undefined,
        to: to ? new Date(to) : undefined,
        limit: pageSize,
        offset: (page - 1) * pageSize,
      });
      return { items, page, pageSize, total };
    },
  );
};
