import { DefaultAzureCredential } from '@azure/identity';
import {
  ServiceBusClient,
  type ProcessErrorArgs,
  type ServiceBusReceivedMessage,
  type ServiceBusReceiver,
} from '@azure/service-bus';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import type { Logger } from '../config/logger';
import { EVENT_TYPES, SEND_ORDER_CONFIRMATION_SMS, type EventType } from './event-types';
import { handleMessage, type Settlement } from './message-handler';

export interface BridgeOptions {
  serviceBus: NonNullable<Config['serviceBus']>;
  temporal: { client: Client; taskQueue: string };
  defaultRegion: string;
  logger: Logger;
  eventTypes?: ReadonlyMap<string, EventType>;
}

export interface Bridge {
  /**
   * Subscribes; the SDK attaches the link in the background and retries it, and a failure to reach
   * Service Bus surfaces through check() (readiness), not here.
   */
  start(): Promise<void>;
  /** Stops receiving, lets in-flight messages finish and settle, then closes the connection. */
  close(): Promise<void>;
  /** The readiness check: rejects while the last receive error is newer than the last success. */
  check(): Promise<void>;
  stats(): { completed: number; deadLettered: number; abandoned: number; inFlight: number };
}

/** A receive error this recent, with no message handled since, makes the bridge not ready. */
const ERROR_MEMORY_MS = 60_000;

/**
 * The only door from the Service Bus topic into Temporal. Settlement is explicit: complete once
 * Temporal accepted the start (or the order already had its workflow), dead-letter what can never
 * succeed, abandon what might succeed later. Lock renewal stays on for slow starts.
 */
export function createBridge(options: BridgeOptions): Bridge {
  const { serviceBus, logger } = options;
  const sbClient =
    'connectionString' in serviceBus.auth
      ? new ServiceBusClient(serviceBus.auth.connectionString)
      : new ServiceBusClient(serviceBus.auth.namespace, new DefaultAzureCredential());
  const receiver: ServiceBusReceiver = sbClient.createReceiver(serviceBus.topic, serviceBus.subscription, {
    receiveMode: 'peekLock',
    maxAutoLockRenewalDurationInMs: 5 * 60_000,
  });
  const inFlight = new Set<Promise<void>>();
  // Aborting ends a connection attempt in progress, so a bridge cut off from Service Bus still
  // shuts down at once instead of waiting out the SDK's retry delay.
  const stopReceiving = new AbortController();
  const counts = { completed: 0, deadLettered: 0, abandoned: 0 };
  let subscription: { close(): Promise<void> } | undefined;
  let lastError: { at: number; message: string } | undefined;
  let lastSuccessAt = 0;

  const settle = async (message: ServiceBusReceivedMessage, settlement: Settlement) => {
    switch (settlement.action) {
      case 'complete':
        await receiver.completeMessage(message);
        counts.completed++;
        break;
      case 'deadLetter':
        await receiver.deadLetterMessage(message, {
          deadLetterReason: settlement.reason,
          deadLetterErrorDescription: settlement.description,
        });
        counts.deadLettered++;
        break;
      case 'abandon':
        await receiver.abandonMessage(message);
        counts.abandoned++;
        break;
    }
  };

  const processMessage = async (message: ServiceBusReceivedMessage) => {
    const work = (async () => {
      const settlement = await handleMessage(message, {
        client: options.temporal.client,
        taskQueue: options.temporal.taskQueue,
        eventTypes: options.eventTypes ?? EVENT_TYPES,
        defaultEventType: SEND_ORDER_CONFIRMATION_SMS,
        defaultRegion: options.defaultRegion,
        maxBodyBytes: serviceBus.maxBodyBytes,
        startRetryDelaysMs: serviceBus.startRetryDelaysMs,
        startTimeoutMs: serviceBus.startTimeoutMs,
        logger,
      });
      try {
        await settle(message, settlement);
        lastSuccessAt = Date.now();
      } catch (err) {
        // A lost lock: the broker redelivers, and the idempotent start makes that harmless.
        logger.warn(
          { messageId: message.messageId, action: settlement.action, err: errorText(err) },
          'settling the message failed; it will be redelivered',
        );
      }
    })();
    inFlight.add(work);
    try {
      await work;
    } finally {
      inFlight.delete(work);
    }
  };

  const processError = async (args: ProcessErrorArgs) => {
    lastError = { at: Date.now(), message: `${args.errorSource}: ${errorText(args.error)}` };
    logger.error(
      { errorSource: args.errorSource, entityPath: args.entityPath, err: errorText(args.error) },
      'service bus error',
    );
  };

  return {
    async start() {
      subscription = receiver.subscribe(
        { processMessage, processError },
        {
          autoCompleteMessages: false,
          maxConcurrentCalls: serviceBus.maxConcurrentCalls,
          abortSignal: stopReceiving.signal,
        },
      );
      logger.info(
        {
          topic: serviceBus.topic,
          subscription: serviceBus.subscription,
          maxConcurrentCalls: serviceBus.maxConcurrentCalls,
        },
        'bridge subscribed',
      );
    },

    async close() {
      stopReceiving.abort();
      await subscription?.close();
      await Promise.allSettled([...inFlight]);
      await receiver.close();
      await sbClient.close();
      logger.info(counts, 'bridge stopped');
    },

    async check() {
      if (!subscription) throw new Error('not subscribed');
      if (lastError && lastError.at > lastSuccessAt && Date.now() - lastError.at < ERROR_MEMORY_MS) {
        throw new Error(lastError.message);
      }
    },

    stats: () => ({ ...counts, inFlight: inFlight.size }),
  };
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
