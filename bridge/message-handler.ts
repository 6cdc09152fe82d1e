import { randomUUID } from 'node:crypto';
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import type { Client } from '@temporalio/client';
import type { Logger } from '../config/logger';
import { fitCorrelationId } from '../domain/correlation-id';
import { describeFieldErrors, type FieldError } from '../domain/order-event';
import type { EventType } from './event-types';
import { classifyStartError } from './start-errors';
import type { StartGate } from './start-gate';

/** The parts of a received Service Bus message the bridge reads. */
export interface IncomingMessage {
  body: unknown;
  messageId?: string | number | Buffer;
  correlationId?: string | number | Buffer;
  subject?: string;
  applicationProperties?: Record<string, unknown>;
  deliveryCount?: number;
}

export const DEAD_LETTER_REASONS = ['InvalidPayload', 'UnknownEventType', 'StartRejected'] as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

/** What to do with the message once handled. */
export type Settlement =
  | { action: 'complete'; workflowId: string; started: boolean }
  | { action: 'deadLetter'; reason: DeadLetterReason; description: string }
  /** Only when the bridge is closing and Temporal still does not take the start. */
  | { action: 'abandon'; error: string }
  /** The lock was lost while the message waited: the broker has it back, there is nothing to settle. */
  | { action: 'lockLost' };

export interface MessageHandlerDeps {
  client: Client;
  taskQueue: string;
  eventTypes: ReadonlyMap<string, EventType>;
  /** Used when a message names no type: the topic carries one event type. */
  defaultEventType: string;
  defaultRegion: string;
  maxBodyBytes: number;
  /** Paces start attempts while Temporal fails; shared by every message the bridge holds. */
  gate: StartGate;
  /** Each start attempt's own deadline, so a hung Temporal cannot hold a message forever. */
  startTimeoutMs?: number;
  /**
   * Aborted with reason 'shutdown' when the bridge closes (one last attempt, then abandon) or
   * 'lockLost' when the message's lock could not be kept (stop waiting, settle nothing).
   */
  signal?: AbortSignal;
  logger: Logger;
}

/**
 * Decides a message's fate. Never throws. Bad input is dead-lettered at once with every field
 * error. A valid event is only "complete" once Temporal accepted the start or said the order already
 * has its workflow; until then the message is held (its lock kept by the subscriber) and retried
 * through the shared gate for as long as Temporal fails, so no outage spends a delivery count.
 * A start Temporal refuses for this message alone (others start fine meanwhile) is dead-lettered
 * as StartRejected.
 */
export async function handleMessage(message: IncomingMessage, deps: MessageHandlerDeps): Promise<Settlement> {
  // With tracing on, the order's trace continues the publisher's: its W3C traceparent, or the
  // Diagnostic-Id the Azure SDKs write in the same format. A no-op without an SDK.
  const props = message.applicationProperties ?? {};
  const traceparent = props['traceparent'] ?? props['Diagnostic-Id'] ?? props['diagnostic-id'];
  const carrier: Record<string, string> = typeof traceparent === 'string' ? { traceparent } : {};
  if (typeof props['tracestate'] === 'string') carrier.tracestate = props['tracestate'];
  const parent = propagation.extract(context.active(), carrier);
  return trace
    .getTracer('sms-order-confirmation')
    .startActiveSpan(
      'servicebus process',
      { kind: SpanKind.CONSUMER, attributes: { 'messaging.system': 'servicebus' } },
      parent,
      async (span) => {
        try {
          const settlement = await settle(message, deps);
          span.setAttribute('sms.settlement', settlement.action);
          if (settlement.action === 'deadLetter')
            span.setAttribute('sms.dead_letter_reason', settlement.reason);
          return settlement;
        } finally {
          span.end();
        }
      },
    );
}

async function settle(message: IncomingMessage, deps: MessageHandlerDeps): Promise<Settlement> {
  const messageId = idText(message.messageId);
  // Fitted to the CorrelationID columns, never refused: docs/adr/0007-column-limits.md.
  const correlationId = fitCorrelationId(idText(message.correlationId) ?? messageId ?? randomUUID());
  const log = deps.logger.child({ messageId, correlationId, deliveryCount: message.deliveryCount });

  const typeName = eventTypeOf(message) ?? deps.defaultEventType;
  const eventType = deps.eventTypes.get(typeName);
  if (!eventType) {
    const description = `event type "${typeName.slice(0, 100)}" is not one this subscriber handles (${[...deps.eventTypes.keys()].join(', ')})`;
    log.warn({ reason: 'UnknownEventType', eventType: typeName.slice(0, 100) }, 'dead-lettering message');
    return { action: 'deadLetter', reason: 'UnknownEventType', description };
  }

  const decoded = decodeBody(message.body, deps.maxBodyBytes);
  const parsed = decoded.ok ? eventType.parse(decoded.value, { defaultRegion: deps.defaultRegion }) : decoded;
  if (!parsed.ok) {
    const description = describeFieldErrors(parsed.errors);
    log.warn(
      { reason: 'InvalidPayload', fields: parsed.errors.map((e) => e.field) },
      'dead-lettering message',
    );
    return { action: 'deadLetter', reason: 'InvalidPayload', description };
  }

  const key = eventType.key(parsed.event);
  const startLog = log.child({ orderId: key });
  const { gate, signal } = deps;
  /** One start attempt; on success the message is complete. */
  const attempt = async (): Promise<Settlement> => {
    const began = Date.now();
    const result = await withDeadline(deps.client, deps.startTimeoutMs ?? 5_000, () =>
      eventType.start(deps.client, deps.taskQueue, parsed.event, { correlationId, messageId }),
    );
    gate.succeeded(began);
    startLog.info({ workflowId: result.workflowId, started: result.started }, 'order event accepted');
    return { action: 'complete', ...result };
  };
  let firstRefusedAt: number | undefined;
  for (let attempts = 1; ; attempts++) {
    const go = await gate.turn(signal);
    if (!go) {
      if (signal?.reason === 'lockLost') {
        startLog.warn({ attempts }, 'message lock lost while waiting for Temporal; the broker redelivers it');
        return { action: 'lockLost' };
      }
      // Closing: one last try (Temporal may be back already), then the message goes back.
      try {
        return await attempt();
      } catch (err) {
        const failure = classifyStartError(err);
        startLog.warn(
          { reason: failure.reason, err: failure.detail, attempts },
          'bridge closing with Temporal still failing; abandoning for redelivery',
        );
        return { action: 'abandon', error: failure.reason };
      }
    }
    try {
      return await attempt();
    } catch (err) {
      const failure = classifyStartError(err);
      if (!failure.transient) {
        // Refused again although another start succeeded since the first refusal: it is this
        // message, not the system. Holding it would block its slot and keep readiness down forever.
        if (firstRefusedAt !== undefined && gate.lastSuccessAt > firstRefusedAt) {
          startLog.error(
            { reason: failure.reason, err: failure.detail, attempts },
            'Temporal refuses this event while others start: dead-lettering',
          );
          gate.skip();
          return {
            action: 'deadLetter',
            reason: 'StartRejected',
            description: `Temporal refused the workflow start (${failure.reason}): ${failure.detail}`.slice(
              0,
              1024,
            ),
          };
        }
        firstRefusedAt ??= Date.now();
      }
      startLog.debug(
        { reason: failure.reason, err: failure.detail, attempts },
        'workflow start failed; holding',
      );
      gate.failed(failure);
    }
  }
}

function eventTypeOf(message: IncomingMessage): string | undefined {
  const fromProperty = message.applicationProperties?.EventType;
  if (typeof fromProperty === 'string' && fromProperty !== '') return fromProperty;
  return message.subject || undefined;
}

type Decoded = { ok: true; value: unknown } | { ok: false; errors: FieldError[] };

/**
 * A .NET publisher sends the JSON as bytes (a data section); the JS SDK may send an object or a
 * string (an AMQP value). Size is checked before parsing, so a huge body costs nothing.
 */
function decodeBody(body: unknown, maxBytes: number): Decoded {
  const invalid = (message: string): Decoded => ({ ok: false, errors: [{ field: '$', message }] });
  let text: string | undefined;
  if (Buffer.isBuffer(body) || body instanceof Uint8Array) text = Buffer.from(body).toString('utf8');
  else if (typeof body === 'string') text = body;

  const size = text !== undefined ? Buffer.byteLength(text) : Buffer.byteLength(JSON.stringify(body) ?? '');
  if (size > maxBytes) return invalid(`body is ${size} bytes; the limit is ${maxBytes}`);
  if (text === undefined) return { ok: true, value: body };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return invalid('body is not valid JSON');
  }
}

function idText(id: IncomingMessage['messageId']): string | undefined {
  if (id === undefined || id === null || id === '') return undefined;
  return Buffer.isBuffer(id) ? id.toString('hex') : String(id);
}

function withDeadline<T>(client: Client, ms: number, fn: () => Promise<T>): Promise<T> {
  return client.connection.withDeadline(Date.now() + ms, fn);
}
