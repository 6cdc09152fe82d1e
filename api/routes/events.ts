import type { Client } from '@temporalio/client';
import type { FastifyPluginAsync, onRequestHookHandler } from 'fastify';
import { startOrderConfirmation } from '../../temporal/start-order';
import { CORRELATION_ID_MAX } from '../../domain/limits';
import { parseOrderEvent } from '../../domain/order-event';
import { HttpError, badRequest } from '../errors';
import { bearerSecurity, errorRef } from '../schemas';

const START_DEADLINE_MS = 10_000;

export interface EventRoutesOptions {
  temporal: { client: Client; taskQueue: string };
  defaultPhoneRegion: string;
  authenticate: onRequestHookHandler;
}

/** Service Bus (standard tier) refuses messages above 256 KB; the local door accepts no more. */
const MAX_EVENT_BYTES = 256 * 1024;

/**
 * The local ingress: the same idempotent start the Service Bus bridge uses, so what works here works
 * there. The body is validated by domain/order-event rather than a route schema because the event
 * accepts both casings and must report every field error at once, exactly as the bridge does.
 */
export const eventRoutes: FastifyPluginAsync<EventRoutesOptions> = async (app, options) => {
  app.post<{ Body: unknown }>(
    '/api/events/send-order-confirmation-sms',
    {
      onRequest: options.authenticate,
      bodyLimit: MAX_EVENT_BYTES,
      schema: {
        tags: ['events'],
        summary: 'Start the order-confirmation workflow for one SendOrderConfirmationSms event',
        description:
          'Idempotent per OrderId: a repeated event answers 202 with started=false. Fields in PascalCase ' +
          '(OrderId, VenueId, CustomerId, PhoneNumber, CustomerName, OrderTotal, TicketCount, EventTimestamp, …) or camelCase.',
        security: bearerSecurity,
        headers: {
          type: 'object',
          properties: {
            'x-correlation-id': {
              type: 'string',
              minLength: 1,
              maxLength: CORRELATION_ID_MAX,
              description: `Carried into the workflow memo, every log line and the history row (at most ${CORRELATION_ID_MAX} characters, the CorrelationID column)`,
            },
          },
        },
        response: {
          202: {
            type: 'object',
            properties: {
              workflowId: { type: 'string' },
              started: { type: 'boolean', description: 'false when the order already had a workflow' },
              correlationId: { type: 'string' },
            },
          },
          400: errorRef,
          401: errorRef,
          503: errorRef,
        },
      },
    },
    async (request, reply) => {
      const parsed = parseOrderEvent(request.body, { defaultRegion: options.defaultPhoneRegion });
      if (!parsed.ok) throw badRequest('the event is invalid', parsed.errors);
      const correlationId = request.headers['x-correlation-id']?.toString() ?? request.id;
      const { client, taskQueue } = options.temporal;
      // A deadline, so a Temporal outage answers 503 (the caller retries) instead of hanging.
      const result = await client.connection
        .withDeadline(Date.now() + START_DEADLINE_MS, () =>
          startOrderConfirmation(client, taskQueue, parsed.event, { correlationId }),
        )
        .catch((err: unknown) => {
          request.log.error({ err, orderId: parsed.event.orderId, correlationId }, 'workflow start failed');
          throw new HttpError(503, 'ServiceUnavailable', 'Temporal did not accept the order in time; retry');
        });
      request.log.info(
        { orderId: parsed.event.orderId, correlationId, started: result.started },
        'order event accepted',
      );
      return reply.code(202).send({ ...result, correlationId });
    },
  );
};
