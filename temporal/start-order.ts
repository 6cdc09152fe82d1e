import { SpanStatusCode, trace } from '@opentelemetry/api';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { fitCorrelationId } from '../domain/correlation-id';
import type { OrderConfirmationEvent } from '../domain/order-event';
import { maskPhone } from '../domain/phone';
import { ORDER_WORKFLOW_TYPE, type OrderConfirmationInput } from './contracts';
import { orderWorkflowId } from './ids';
import { OrderIdKey, SmsOutcomeKey, VenueIdKey } from './search-attributes';
import { PENDING_OUTCOME } from '../rollout/control';

export interface StartOrderMeta {
  correlationId: string;
  messageId?: string;
}

export interface StartOrderResult {
  workflowId: string;
  /** false when this OrderId already had a workflow (running or closed): nothing new was started. */
  started: boolean;
}

/** The order's summary (one line in lists) and details (markdown on its page), nothing personal. */
export function orderUserMetadata(event: OrderConfirmationEvent): {
  staticSummary: string;
  staticDetails: string;
} {
  const order = event.orderNumber ?? event.orderId;
  const phone = maskPhone(event.phoneNumber);
  return {
    staticSummary: `Order ${order} · venue ${event.venueId} · ${phone}`,
    staticDetails: [
      `**Order:** ${order}`,
      `**Order id:** ${event.orderId}`,
      `**Venue:** ${event.venueId}`,
      `**Phone:** ${phone}`,
    ].join('\n\n'),
  };
}

/**
 * The one door from an event into Temporal, shared by the Service Bus bridge and the local HTTP
 * ingress. The id is derived from the OrderId alone and REJECT_DUPLICATE forbids a second run even
 * after the first closed, so redeliveries and replays can never text a customer twice. The "already
 * started" answer is success for the caller (docs/adr/0001-idempotent-start.md).
 */
export async function startOrderConfirmation(
  client: Client,
  taskQueue: string,
  event: OrderConfirmationEvent,
  meta: StartOrderMeta,
): Promise<StartOrderResult> {
  const workflowId = orderWorkflowId(event.orderId);
  // Both doors fit it already; a script or test starting orders directly gets the same guarantee, so
  // the history row can always store it.
  const correlationId = fitCorrelationId(meta.correlationId);
  const input: OrderConfirmationInput = { event, correlationId, messageId: meta.messageId };
  // With tracing on (runtime/tracing.ts) this span carries the order's ids and parents the client's
  // StartWorkflow span; without an SDK, @opentelemetry/api hands out a no-op span.
  return trace.getTracer('sms-order-confirmation').startActiveSpan(
    'startOrderConfirmation',
    {
      attributes: {
        'sms.order_id': event.orderId,
        'sms.correlation_id': correlationId,
        'sms.venue_id': event.venueId,
        ...(meta.messageId ? { 'messaging.message.id': meta.messageId } : {}),
      },
    },
    async (span) => {
      try {
        const result = await start(client, taskQueue, event, input, workflowId);
        span.setAttribute('sms.workflow_started', result.started);
        return result;
      } catch (err) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.name : 'error' });
        throw err;
      } finally {
        span.end();
      }
    },
  );
}

async function start(
  client: Client,
  taskQueue: string,
  event: OrderConfirmationEvent,
  input: OrderConfirmationInput,
  workflowId: string,
): Promise<StartOrderResult> {
  const { correlationId, messageId } = input;
  try {
    await client.workflow.start(ORDER_WORKFLOW_TYPE, {
      workflowId,
      taskQueue,
      args: [input],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      workflowIdConflictPolicy: 'FAIL',
      memo: { orderId: event.orderId, correlationId, messageId },
      typedSearchAttributes: [
        { key: OrderIdKey, value: event.orderId },
        { key: VenueIdKey, value: event.venueId },
        { key: SmsOutcomeKey, value: PENDING_OUTCOME },
      ],
      // What the Web UI lists and shows; the phone masked. The outcome and provider follow in the
      // workflow's current details (workflows/order-details.ts).
      ...orderUserMetadata(event),
    });
    return { workflowId, started: true };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { workflowId, started: false };
    throw err;
  }
}
