import { isGrpcServiceError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { FastifyPluginAsync, onRequestHookHandler } from 'fastify';
import type { FromSchema } from 'json-schema-to-ts';
import type { HistoryRecord, HistoryRepository } from '../../db/history-repository';
import { orderWorkflowId } from '../../temporal/ids';
import { rerunOrder } from '../../temporal/rerun';
import { SmsOutcomeKey, SmsProviderKey } from '../../temporal/search-attributes';
import { HttpError, notFound } from '../errors';
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

const rerunAccepted = {
  type: 'object',
  required: ['orderId', 'workflowId', 'runId', 'rerunOf'],
  properties: {
    orderId: { type: 'string' },
    workflowId: { type: 'string' },
    runId: { type: 'string', description: 'The new run' },
    rerunOf: {
      type: 'object',
      description: 'The run that is rerun (its status, error code and close time)',
      properties: {
        runId: { type: 'string' },
        status: { type: 'string' },
        errorCode: { type: ['string', 'null'] },
        closeTime: { type: ['string', 'null'], format: 'date-time' },
      },
    },
  },
} as const;

const rerunRefused = {
  type: 'object',
  required: ['error', 'message', 'reason'],
  properties: {
    error: { type: 'string' },
    message: { type: 'string' },
    reason: { type: 'string', enum: ['completed', 'running', 'not_rerunnable'] },
    workflowStatus: { type: 'string' },
  },
} as const;

/** A rerun is a few calls to Temporal; past this the caller hears 503 and may retry (a rerun is checked each time). */
const RERUN_DEADLINE_MS = 10_000;

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

  app.post<{ Params: FromSchema<typeof orderParams> }>(
    '/api/orders/:orderId/rerun',
    {
      onRequest: options.authenticate,
      schema: {
        tags: ['orders'],
        summary: "Rerun an order whose workflow failed (a fresh run with the failed run's input)",
        description:
          'Failed, timed-out, terminated or cancelled orders start a new run of the same workflow id ' +
          '(docs/adr/0008-rerun.md). The new run never texts a customer the failed run already texted: ' +
          "the order's SQL claim and the provider's records decide, and the outcome is then `duplicate`. " +
          'A Completed or Running order answers 409 with the reason.',
        security: bearerSecurity,
        params: orderParams,
        response: {
          202: rerunAccepted,
          400: errorRef,
          401: errorRef,
          404: errorRef,
          409: rerunRefused,
          503: errorRef,
        },
      },
    },
    async (request, reply) => {
      const orderId = request.params.orderId.toLowerCase();
      const { client } = options.temporal;
      const result = await client.connection
        .withDeadline(Date.now() + RERUN_DEADLINE_MS, () => rerunOrder(client, orderId, 'api'))
        .catch((err: unknown) => {
          request.log.error({ err, orderId }, 'rerun failed');
          // Temporal away or slow: the caller may retry (each try checks the order again). Anything
          // else (an input the codec cannot decode, say) is ours to look into: a 500.
          if (isGrpcServiceError(err))
            throw new HttpError(503, 'ServiceUnavailable', 'Temporal did not answer in time; retry');
          throw err;
        });
      if (!result.rerun) {
        if (result.reason === 'not_found') throw notFound(result.message);
        request.log.info({ orderId, reason: result.reason }, 'rerun refused');
        return reply.code(409).send({
          error: 'Conflict',
          message: result.message,
          reason: result.reason,
          workflowStatus: result.run?.status,
        });
      }
      request.log.info(
        { orderId, runId: result.runId, rerunOf: result.rerunOf.runId, status: result.rerunOf.status },
        'order rerun started',
      );
      return reply.code(202).send({
        orderId,
        workflowId: result.workflowId,
        runId: result.runId,
        rerunOf: {
          runId: result.rerunOf.runId,
          status: result.rerunOf.status,
          errorCode: result.rerunOf.errorCode ?? null,
          closeTime: result.rerunOf.closeTime?.toISOString() ?? null,
        },
      });
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
