import { processMetrics, type Metrics } from '../runtime/metrics';
import { ReadinessReason } from '../runtime/readiness';
import { DefaultAzureCredential } from '@azure/identity';
import {
  isServiceBusError,
  ServiceBusClient,
  type ProcessErrorArgs,
  type ServiceBusReceivedMessage,
  type ServiceBusReceiver,
} from '@azure/service-bus';
import type { Client } from '@temporalio/client';
import type { Config, ServiceBusConfig } from '../config';
import type { Logger } from '../config/logger';
import { EVENT_TYPES, SEND_ORDER_CONFIRMATION_SMS, type EventType } from './event-types';
import { DEAD_LETTER_REASONS, handleMessage, type Settlement } from './message-handler';
import { StartGate, type StartGateStatus } from './start-gate';

export interface BridgeOptions {
  serviceBus: NonNullable<Config['serviceBus']>;
  temporal: { client: Client; taskQueue: string };
  defaultRegion: string;
  logger: Logger;
  eventTypes?: ReadonlyMap<string, EventType>;
  /** Where messages are counted; the process's registry unless a test brings its own. */
  metrics?: Metrics;
}

export interface Bridge {
  /**
   * Subscribes; the SDK attaches the link in the background and retries it, and a failure to reach
   * Service Bus surfaces through check() (readiness), not here.
   */
  start(): Promise<void>;
  /** Stops receiving, lets in-flight messages finish and settle, then closes the connection. */
  close(): Promise<void>;
  /**
   * Readiness of the Service Bus side: rejects while the last receive error is newer than the last
   * success. The rejection names the error's source and code only, never its text.
   */
  check(): Promise<void>;
  /**
   * Readiness of the start side: rejects with `paused: <reason>` while workflow starts fail and the
   * bridge holds its messages (Temporal away, or refusing: NamespaceNotFound,
   * SearchAttributeNotRegistered, PermissionDenied...). The log has the error text.
   */
  startCheck(): Promise<void>;
  stats(): BridgeStats;
}

export interface BridgeStats {
  completed: number;
  deadLettered: number;
  abandoned: number;
  /** Messages whose lock could not be kept while they waited (the broker redelivers them). */
  lockLost: number;
  inFlight: number;
  starts: StartGateStatus;
}

/**
 * The Service Bus client for the configured auth: the connection string's SAS key, or Entra ID
 * through DefaultAzureCredential, given the user-assigned identity's client id from config when
 * there is one (left alone, it reads AZURE_CLIENT_ID from process.env, out of loadConfig's sight).
 */
export function createServiceBusClient(auth: ServiceBusConfig['auth']): ServiceBusClient {
  if ('connectionString' in auth) return new ServiceBusClient(auth.connectionString);
  return new ServiceBusClient(auth.namespace, serviceBusCredential(auth));
}

export function serviceBusCredential(
  auth: Extract<ServiceBusConfig['auth'], { namespace: string }>,
): DefaultAzureCredential {
  return new DefaultAzureCredential(
    auth.managedIdentityClientId ? { managedIdentityClientId: auth.managedIdentityClientId } : {},
  );
}

/** A receive error this recent, with no message handled since, makes the bridge not ready. */
const ERROR_MEMORY_MS = 60_000;

/**
 * The only door from the Service Bus topic into Temporal. Settlement is explicit: complete once
 * Temporal accepted the start (or the order already had its workflow), dead-letter what can never
 * succeed. While starts fail the bridge holds the messages it has, renewing their locks for as long
 * as it takes, and receives no more valid work: the SDK grants a new credit only when a handler
 * returns, so at most maxConcurrentCalls messages are held and the rest wait in the subscription
 * without a delivery being spent (docs/adr/0005-bridge-outage.md).
 */
export function createBridge(options: BridgeOptions): Bridge {
  const { serviceBus, logger } = options;
  const metrics = options.metrics ?? processMetrics();
  // Every reason exported at 0 from the start: the alert's increase() sees the first dead letter.
  for (const reason of DEAD_LETTER_REASONS) metrics.deadLetters.inc({ reason }, 0);
  const sbClient = createServiceBusClient(serviceBus.auth);
  const receiver: ServiceBusReceiver = sbClient.createReceiver(serviceBus.topic, serviceBus.subscription, {
    receiveMode: 'peekLock',
    // The SDK's renewal stops after a fixed time; keepLock below renews for as long as the handler
    // holds the message, which is as long as Temporal is away.
    maxAutoLockRenewalDurationInMs: 0,
  });
  // Exported at 0 from the start, so "not holding" and "not scraped" differ.
  const showGate = (status: StartGateStatus) => {
    metrics.bridgeHeld.set(status.state === 'paused' ? 1 : 0);
    metrics.bridgeMessagesHeld.set(status.waiting);
  };
  const gate = new StartGate({
    delaysMs: serviceBus.startRetryDelaysMs,
    logger,
    onChange: showGate,
  });
  showGate(gate.status());
  const holds = new Set<AbortController>();
  const inFlight = new Set<Promise<void>>();
  // Aborting ends a connection attempt in progress, so a bridge cut off from Service Bus still
  // shuts down at once instead of waiting out the SDK's retry delay.
  const stopReceiving = new AbortController();
  const counts = { completed: 0, deadLettered: 0, abandoned: 0, lockLost: 0 };
  let closing = false;
  let subscription: { close(): Promise<void> } | undefined;
  let lastError: { at: number; message: string } | undefined;
  let lastSuccessAt = 0;

  // Counted once the broker took the settlement: a failed one is redelivered and counted then.
  const settle = async (message: ServiceBusReceivedMessage, settlement: Settlement) => {
    switch (settlement.action) {
      case 'complete':
        await receiver.completeMessage(message);
        counts.completed++;
        metrics.bridgeMessagesSettled.inc({ action: 'complete' });
        metrics.bridgeWorkflowStarts.inc({ result: settlement.started ? 'started' : 'already_started' });
        break;
      case 'deadLetter':
        await receiver.deadLetterMessage(message, {
          deadLetterReason: settlement.reason,
          deadLetterErrorDescription: settlement.description,
        });
        counts.deadLettered++;
        metrics.bridgeMessagesSettled.inc({ action: 'dead_letter' });
        metrics.deadLetters.inc({ reason: settlement.reason });
        break;
      case 'abandon':
        await receiver.abandonMessage(message);
        counts.abandoned++;
        metrics.bridgeMessagesSettled.inc({ action: 'abandon' });
        break;
      case 'lockLost':
        counts.lockLost++;
        metrics.bridgeMessagesSettled.inc({ action: 'lock_lost' });
        break;
    }
  };

  const processMessage = async (message: ServiceBusReceivedMessage) => {
    metrics.bridgeMessagesReceived.inc();
    const hold = new AbortController();
    if (closing) hold.abort('shutdown');
    holds.add(hold);
    const stopKeeping = keepLock(receiver, message, () => hold.abort('lockLost'));
    const work = (async () => {
      const settlement = await handleMessage(message, {
        client: options.temporal.client,
        taskQueue: options.temporal.taskQueue,
        eventTypes: options.eventTypes ?? EVENT_TYPES,
        defaultEventType: SEND_ORDER_CONFIRMATION_SMS,
        defaultRegion: options.defaultRegion,
        maxBodyBytes: serviceBus.maxBodyBytes,
        gate,
        startTimeoutMs: serviceBus.startTimeoutMs,
        signal: hold.signal,
        logger,
      });
      stopKeeping();
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
      stopKeeping();
      holds.delete(hold);
      inFlight.delete(work);
    }
  };

  const processError = async (args: ProcessErrorArgs) => {
    lastError = { at: Date.now(), message: `${args.errorSource}: ${errorName(args.error)}` };
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
      closing = true;
      stopReceiving.abort();
      await subscription?.close();
      // Held messages get one last try each, then go back to the subscription.
      for (const hold of holds) hold.abort('shutdown');
      gate.close();
      await Promise.allSettled([...inFlight]);
      await receiver.close();
      await sbClient.close();
      logger.info(counts, 'bridge stopped');
    },

    async check() {
      if (!subscription) throw new Error('not subscribed');
      if (lastError && lastError.at > lastSuccessAt && Date.now() - lastError.at < ERROR_MEMORY_MS) {
        throw new ReadinessReason(lastError.message);
      }
    },

    async startCheck() {
      const { state, reason } = gate.status();
      if (state === 'paused') throw new ReadinessReason(`paused: ${reason ?? 'StartFailed'}`);
    },

    stats: () => ({ ...counts, inFlight: inFlight.size, starts: gate.status() }),
  };
}

/**
 * Keeps a held message's lock until stopped: renews shortly before it expires (as the SDK does),
 * retries a failed renewal while the lock still has time, and calls `onLost` once it cannot be kept.
 */
function keepLock(
  receiver: ServiceBusReceiver,
  message: ServiceBusReceivedMessage,
  onLost: () => void,
): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const lockedUntil = () => message.lockedUntilUtc?.getTime() ?? 0;
  const schedule = (ms: number) => {
    timer = setTimeout(() => void renew(), Math.max(0, ms));
    timer.unref();
  };
  // 10 s before expiry, or half-way for short locks (the SDK renews at once under 1 s left, which
  // for a short lock means renewing in a tight loop).
  const renewAfter = () => {
    const remaining = lockedUntil() - Date.now();
    return remaining <= 0 ? 0 : remaining - Math.min(remaining / 2, 10_000);
  };
  const renew = async () => {
    if (stopped) return;
    try {
      await receiver.renewMessageLock(message); // updates message.lockedUntilUtc
      if (!stopped) schedule(renewAfter());
    } catch (err) {
      if (stopped) return;
      const remaining = lockedUntil() - Date.now();
      if ((isServiceBusError(err) && err.code === 'MessageLockLost') || remaining <= 0) {
        stopped = true;
        onLost();
        return;
      }
      schedule(Math.min(1_000, remaining / 2));
    }
  };
  if (message.lockedUntilUtc) schedule(renewAfter());
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/** An error's code or class name: what the public health body may show. */
function errorName(err: unknown): string {
  if (isServiceBusError(err)) return err.code;
  return err instanceof Error ? err.name : 'Error';
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
