import type { FastifyPluginAsync, onRequestHookHandler } from 'fastify';
import type { FromSchema } from 'json-schema-to-ts';
import type { HistoryRepository } from '../../db/history-repository';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../../domain/delivery-status';
import { HISTORY_STATUSES, PROVIDER_NAMES, type ProviderName } from '../../domain/enums';
import { VENUE_ID_MAX } from '../../domain/limits';
import { badRequest } from '../errors';
import { bearerSecurity, errorRef } from '../schemas';

/** Longest window one stats request may cover: a year (plus a leap day), one indexed range scan. */
export const MAX_STATS_SPAN_DAYS = 366;
/** The window when the caller names none: the last 30 days. */
export const DEFAULT_STATS_SPAN_DAYS = 30;

export const venueParams = {
  type: 'object',
  required: ['venueId'],
  properties: { venueId: { type: 'integer', minimum: 1, maximum: VENUE_ID_MAX } },
} as const;

export const statsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    from: {
      type: 'string',
      format: 'date-time',
      description: `inclusive; an instant with its offset. Default: ${DEFAULT_STATS_SPAN_DAYS} days before \`to\``,
    },
    to: { type: 'string', format: 'date-time', description: 'exclusive; default: now' },
  },
} as const;

const countsOf = (keys: readonly string[]) =>
  ({
    type: 'object',
    required: [...keys],
    properties: Object.fromEntries(keys.map((k) => [k, { type: 'integer' }])),
  }) as const;

const byOutcome = countsOf(HISTORY_STATUSES);
/** `none`: sent, but no delivery callback yet (or no callback URL configured). */
const byDeliveryStatus = countsOf([...DELIVERY_STATUSES, 'none']);

export const venueStatsResponse = {
  type: 'object',
  properties: {
    venueId: { type: 'integer' },
    from: { type: 'string', format: 'date-time' },
    to: { type: 'string', format: 'date-time' },
    total: { type: 'integer', description: 'history rows (one per order run) in the window' },
    byOutcome: { ...byOutcome, description: 'rows by outcome (sent, failed, skipped_no_consent, …)' },
    byDeliveryStatus: {
      ...byDeliveryStatus,
      description: "sent rows by the provider's latest delivery report; `none` when none arrived",
    },
    deliveryRate: {
      type: ['number', 'null'],
      description: 'delivered ÷ (delivered + undelivered + failed); null before any final report',
    },
    byProvider: {
      type: 'object',
      description: 'per provider that sent for the venue in the window',
      propertyNames: { enum: [...PROVIDER_NAMES] },
      additionalProperties: {
        type: 'object',
        properties: { total: { type: 'integer' }, byOutcome, byDeliveryStatus },
      },
    },
  },
} as const;

export interface VenueRoutesOptions {
  history: Pick<HistoryRepository, 'venueStats'>;
  authenticate: onRequestHookHandler;
  now?: () => Date;
}

type Counts<K extends string> = Record<K, number>;
type DeliveryKey = DeliveryStatus | 'none';

const zeros = <K extends string>(keys: readonly K[]): Counts<K> =>
  Object.fromEntries(keys.map((k) => [k, 0])) as Counts<K>;

/**
 * What a venue manager asks (seeds 002–004: message stats, delivery rates, per provider): one venue's
 * sends over a window, from SQL history rather than metrics, whose labels never name a venue.
 * Bearer token: counts per venue are the business's own figures.
 */
export const venueRoutes: FastifyPluginAsync<VenueRoutesOptions> = async (app, options) => {
  const now = options.now ?? (() => new Date());
  app.get<{ Params: FromSchema<typeof venueParams>; Querystring: FromSchema<typeof statsQuery> }>(
    '/api/venues/:venueId/stats',
    {
      onRequest: options.authenticate,
      schema: {
        tags: ['venues'],
        summary: "A venue's sends over a window: by outcome, delivery status and provider",
        security: bearerSecurity,
        params: venueParams,
        querystring: statsQuery,
        response: { 200: venueStatsResponse, 400: errorRef, 401: errorRef },
      },
    },
    async (request) => {
      const { venueId } = request.params;
      const to = request.query.to ? new Date(request.query.to) : now();
      const from = request.query.from
        ? new Date(request.query.from)
        : new Date(to.getTime() - DEFAULT_STATS_SPAN_DAYS * DAY_MS);
      if (!(from < to)) {
        throw badRequest('from must be before to', [{ field: 'from', message: 'must be before to' }]);
      }
      if (to.getTime() - from.getTime() > MAX_STATS_SPAN_DAYS * DAY_MS) {
        const message = `the window is longer than ${MAX_STATS_SPAN_DAYS} days`;
        throw badRequest(message, [{ field: 'to', message }]);
      }

      const groups = await options.history.venueStats(venueId, from, to);
      const deliveryKeys: DeliveryKey[] = [...DELIVERY_STATUSES, 'none'];
      const fresh = () => ({
        total: 0,
        byOutcome: zeros(HISTORY_STATUSES),
        byDeliveryStatus: zeros(deliveryKeys),
      });
      const all = fresh();
      const byProvider: Partial<Record<ProviderName, ReturnType<typeof fresh>>> = {};
      for (const g of groups) {
        for (const into of [all, (byProvider[g.provider] ??= fresh())]) {
          into.total += g.count;
          into.byOutcome[g.status] += g.count;
          // Only sent rows have a delivery to report on; the rest never reached a carrier.
          if (g.status === 'sent') into.byDeliveryStatus[g.deliveryStatus ?? 'none'] += g.count;
        }
      }
      const { delivered, undelivered, failed } = all.byDeliveryStatus;
      const final = delivered + undelivered + failed;
      return {
        venueId,
        from: from.toISOString(),
        to: to.toISOString(),
        ...all,
        deliveryRate: final > 0 ? delivered / final : null,
        byProvider,
      };
    },
  );
};

const DAY_MS = 86_400_000;
