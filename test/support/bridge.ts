import type { Client } from '@temporalio/client';
import { EVENT_TYPES, SEND_ORDER_CONFIRMATION_SMS } from '../../bridge/event-types';
import type { MessageHandlerDeps } from '../../bridge/message-handler';
import { StartGate } from '../../bridge/start-gate';
import type { Logger } from '../../config/logger';

/**
 * handleMessage's dependencies as the subscriber wires them (the order event types, US numbers,
 * 256 KiB bodies), on a test's client and queue, with a start gate retrying after `gateDelaysMs`.
 */
export function messageHandlerDeps(options: {
  client: Client;
  taskQueue: string;
  logger: Logger;
  gateDelaysMs: number[];
}): MessageHandlerDeps {
  const { client, taskQueue, logger, gateDelaysMs } = options;
  return {
    client,
    taskQueue,
    eventTypes: EVENT_TYPES,
    defaultEventType: SEND_ORDER_CONFIRMATION_SMS,
    defaultRegion: 'US',
    maxBodyBytes: 256 * 1024,
    gate: new StartGate({ delaysMs: gateDelaysMs, logger }),
    logger,
  };
}
