import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Logger } from '../config/logger';
import { fitCorrelationId } from '../domain/correlation-id';
import { describeFieldErrors, type FieldError } from '../domain/order-event';
import type { EventType } from './event-types';

/** The parts of a received Service Bus message the bridge reads. */
export interface IncomingMessage {
  body: unknown;
  messageId?: string | number | Buffer;
  correlationId?: string | number | Buffer;
  subject?: string;
  applicationProperties?: Record<string, unknown>;
  deliveryCount?: number;
}

export type DeadLetterReason = 'InvalidPayload' | 'UnknownEventType';

/** What to do with the message once handled. */
export type Settlement =
  | { action: 'complete'; workflowId: string; started: boolean }
  | { action: 'deadLetter'; reason: DeadLetterReason; description: string }
  | { action: 'abandon'; error: string };

export interface MessageHandlerDeps {
  client: Client;
  taskQueue: string;
  eventTypes: ReadonlyMap<string, EventType>;
  /** Used when a message names no type: the topic carries one event type. */
  defaultEventType: string;
  defaultRegion: string;
  maxBodyBytes: number;
  /** Waits between start attempts; after the last one fails the message is abandoned. */
  startRetryDelaysMs: number[];
  /** Each start attempt's own deadline, so a hung Temporal cannot hold a message's lock forever. */
  startTimeoutMs?: number;
  logger: Logger;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Decides a message's fate. Never throws: bad input is dead-lettered with every field error, a
 * Temporal that does not answer is retried in-process and then abandoned so the broker redelivers
 * (its MaxDeliveryCount is the last resort), and a start is only "complete" once Temporal accepted
 * it or said the order already has its workflow.
 */
export async function handleMessage(message: IncomingMessage, deps: MessageHandlerDeps): Promise<Settlement> {
  const messageId = idText(message.messageId);
  // Fitted to the CorrelationID columns, never refused: docs/adr/0005-column-limits.md.
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
  const delays = deps.startRetryDelaysMs;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let attempt = 0; ; attempt++) {
    try {
      const result = await withDeadline(deps.client, deps.startTimeoutMs ?? 5_000, () =>
        eventType.start(deps.client, deps.taskQueue, parsed.event, { correlationId, messageId }),
      );
      startLog.info({ workflowId: result.workflowId, started: result.started }, 'order event accepted');
      return { action: 'complete', ...result };
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      if (attempt >= delays.length) {
        startLog.error(
          { err: error, attempts: attempt + 1 },
          'workflow start failed; abandoning for redelivery',
        );
        return { action: 'abandon', error };
      }
      startLog.warn(
        { err: error, attempt: attempt + 1, retryInMs: delays[attempt] },
        'workflow start failed; retrying',
      );
      await sleep(delays[attempt]);
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
