import type { OrderConfirmationEvent } from '../domain/order-event';
import {
  MessageTooLongError,
  renderOrderConfirmation,
  TemplateError,
  type RenderedMessage,
} from '../domain/template';
import type { OrderContext } from '../temporal/contracts';
import { activityLogger } from './context';
import type { ActivityDeps } from './deps';
import { nonRetryableFailure } from './failures';

export interface RenderMessageInput extends OrderContext {
  event: OrderConfirmationEvent;
}

export function createRenderActivities(deps: ActivityDeps) {
  return {
    async renderMessage(input: RenderMessageInput): Promise<RenderedMessage> {
      const log = activityLogger(deps.logger, input);
      try {
        const rendered = renderOrderConfirmation(input.event, {
          defaultLocale: deps.config.sms.defaultLocale,
          defaultTimeZone: deps.config.sms.defaultTimeZone,
          defaultCurrency: deps.config.sms.defaultCurrency,
        });
        for (const warning of rendered.warnings) log.warn({ segments: rendered.segments }, warning);
        log.info({ encoding: rendered.encoding, segments: rendered.segments }, 'message rendered');
        return rendered;
      } catch (err) {
        // Same input, same template: a retry would fail the same way.
        if (err instanceof MessageTooLongError) throw nonRetryableFailure('MessageTooLong', err.message);
        if (err instanceof TemplateError) throw nonRetryableFailure('Misconfiguration', err.message);
        throw err;
      }
    },
  };
}
