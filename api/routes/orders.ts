import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { FastifyPluginAsync, onRequestHookHandler } from 'fastify';
import type { FromSchema } from 'json-schema-to-ts';
import type { HistoryRecord, HistoryRepository } from '../../db/history-repository';
import { orderWorkflowId } from '../../temporal/ids';
import { SmsOutcomeKey, SmsProviderKey } from '../../temporal/search-attributes';
import { notFound } from '../errors';
import { bearerSecurity, errorRef } from '../schemas';

export interface OrderRoutesOptions {
  history: HistoryRepository;
  temporal: { client: Client };
  authenticate: onRequestHookHandler;
}

const orderView = {
  type: 'object',
  properties: {
    orderId: { type: 'string' },
    workflowId: { type: 'string' },
    workflowStatus: {
      type: ['string', 'null'],
      description: 'RUNNING, COMPLETED, FAILED, TERMINATED, …; null once Temporal no longer retains the run',
    },
    outcome: {
      type: ['string', 'null'],
      description: 'sent, failed, skipped_no_consent, blocked_opted_out, or pending',
    },
    provider: { type: ['string', 'null'] },
    startTime: { type: ['string', 'null'], format: 'date-time' },
    closeTime: { type: ['string', 'null'], format: 'date-time' },
    history: { type: 'array', items: { $ref: 'HistoryRecord#' } },
  },
} as const;

const orderParams = {
  type: 'object',
  required: ['orderId'],
  properties: { orderId: { type: 'string', format: 'uuid' } },
} as const;

/** What ops asks first about an order: did its workflow run, how did it end, what did we record. */
export const orderRoutes: FastifyPluginAsync<OrderRoutesOptions> = async (app, options) => {
  app.get<{ Params: FromSchema<typeof orderParams> }>(
    '/api/orders/:orderId',
    {
      onRequest: options.authenticate,
      schema: {
        tags: ['orders'],
        summary: 'Workflow status and history rows of one order',
        security: bearerSecurity,
        params: orderParams,
        response: { 200: orderView, 400: errorRef, 401: errorRef, 404: errorRef },
      },
    },
    async (request) => {
      const orderId = request.params.orderId.toLowerCase();
      const workflowId = orderWorkflowId(orderId);
      const [description, history] = await Promise.all([
        describeOrNull(options.temporal.client, workflowId),
        options.history.findByOrderId(orderId),
      ]);
      if (!description && history.length === 0)
        throw notFound(`no workflow and no history for order ${orderId}`);
      const last: HistoryRecord | undefined = history.at(-1);
      return {
        orderId,
        workflowId,
        workflowStatus: description?.status.name ?? null,
        outcome: description?.typedSearchAttributes.get(SmsOutcomeKey) ?? last?.status ?? null,
        provider: description?.typedSearchAttributes.get(SmsProviderKey) ?? last?.provider ?? null,
        startTime: description?.startTime.toISOString() ?? null,
        closeTime: description?.closeTime?.toISOString() ?? null,
        history,
      };
    },
  );
};

async function describeOrNull(client: Client, workflowId: string) {
  try {
    return await client.workflow.getHandle(workflowId).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}
