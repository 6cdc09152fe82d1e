import type { Client } from '@temporalio/client';
import { parseOrderEvent, type FieldError } from '../domain/order-event';
import { startOrderConfirmation, type StartOrderMeta, type StartOrderResult } from '../temporal/start-order';

/**
 * What the bridge knows about one event type: how to validate its body and how to start its
 * workflow idempotently. A new event type is an entry here (a schema, a workflow, an id function),
 * not a new subscriber.
 */
export interface EventType<E = unknown> {
  parse(
    body: unknown,
    options: { defaultRegion: string },
  ): { ok: true; event: E } | { ok: false; errors: FieldError[] };
  /** The business key named in logs (OrderId for orders). */
  key(event: E): string;
  start(client: Client, taskQueue: string, event: E, meta: StartOrderMeta): Promise<StartOrderResult>;
}

export const SEND_ORDER_CONFIRMATION_SMS = 'SendOrderConfirmationSms';

const sendOrderConfirmationSms: EventType<Parameters<typeof startOrderConfirmation>[2]> = {
  parse: (body, { defaultRegion }) => parseOrderEvent(body, { defaultRegion }),
  key: (event) => event.orderId,
  start: startOrderConfirmation,
};

// EventType<E> is invariant in E; the registry erases it, and each entry pairs its own parse and start.
export const EVENT_TYPES: ReadonlyMap<string, EventType> = new Map([
  [SEND_ORDER_CONFIRMATION_SMS, sendOrderConfirmationSms as EventType],
]);
