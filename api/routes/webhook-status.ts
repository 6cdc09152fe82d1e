import type { FastifyInstance } from 'fastify';
import { webhookPath } from '../../providers/webhook';
import { badRequest, unavailable } from '../errors';
import type { WebhookRoute } from './webhooks';

/** `POST /webhooks/<provider>/status`: a delivery report; the history row moves forward only. */
export function registerStatusRoute(app: FastifyInstance, route: WebhookRoute): void {
  const { webhook, options, verified, routeConfig, responses } = route;
  const { provider } = webhook;
  app.post(
    webhookPath(provider, 'status'),
    {
      ...routeConfig,
      schema: {
        tags: ['webhooks'],
        summary: `Delivery report from ${provider} (signed): updates the history row (kept until it exists), never backwards`,
        response: responses,
      },
    },
    async (request, reply) => {
      const checked = await verified(request, reply, 'status');
      if (!checked) return reply;
      const { req, use } = checked;
      // The report is a database write anyway: without the database, the provider retries it.
      if (use?.verdict === 'unverifiable') throw unavailable('the database is unavailable; retry');
      const report = webhook.parseStatus(req.params);
      if (!report) throw badRequest(`not a ${provider} delivery report`);
      const log = request.log.child({
        provider,
        providerMessageId: report.messageId,
        providerStatus: report.providerStatus,
      });
      if (report.status) {
        const result = await options.history.updateDeliveryStatus({
          provider,
          providerMessageId: report.messageId,
          status: report.status,
          errorCode: report.errorCode,
        });
        if (result.updated > 0) log.info({ deliveryStatus: report.status }, 'delivery status updated');
        else if (result.pending) {
          // Often the provider calling back before its API answered us; else not our message, pruned later.
          log.info(
            { deliveryStatus: report.status },
            'delivery report kept until a history row names its message',
          );
        } else log.info({ deliveryStatus: report.status }, 'delivery report not newer than the stored one');
      } else {
        log.info('delivery report with a status that is not a delivery state; ignored');
      }
      const { contentType, body } = webhook.reply(null);
      return reply.code(200).type(contentType).send(body);
    },
  );
}
