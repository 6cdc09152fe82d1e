import { Context } from '@temporalio/activity';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { toApplicationFailure } from '../../activities/failures';
import { SmsProviderError, type SmsErrorType } from '../../domain/errors';
import type { OrderConfirmationEvent } from '../../domain/order-event';
import {
  ORDER_STATUS_QUERY,
  ORDER_WORKFLOW_TYPE,
  type OrderStatus,
  type VenueSender,
} from '../../temporal/contracts';
import { orderWorkflowId } from '../../temporal/ids';
import type { orderConfirmationSms } from '../../workflows/order-confirmation';
import type { StubActivities } from './time-skipping';
import { parsedEvent } from './workers';

/** The venue's number at the configured provider and at the failover provider. */
export const PRIMARY: VenueSender = {
  venuePhoneNumberId: 11,
  phoneNumber: '+14155550111',
  provider: 'twilio',
};
export const SECONDARY: VenueSender = {
  venuePhoneNumberId: 22,
  phoneNumber: '+14155550122',
  provider: 'plivo',
};
export const MESSAGE = 'Thanks Ada! Order A-1001 is confirmed.';

/**
 * Stubs for an opted-in customer whose SMS goes out at the first try through PRIMARY; tests
 * override the activities they are about. With `failoverAfterMs` the primary carries the failover
 * policy, as findVenueNumber returns it when SMS_FAILOVER_PROVIDER is configured.
 */
export function orderStubs(options: { failoverAfterMs?: number } = {}): StubActivities {
  const { failoverAfterMs } = options;
  return {
    checkConsent: async () => 'opted_in',
    findVenueNumber: async ({ provider }) => {
      if (provider === SECONDARY.provider) return { provider: SECONDARY.provider, sender: SECONDARY };
      if (provider && provider !== PRIMARY.provider) throw new Error(`no stub sender at ${provider}`);
      if (failoverAfterMs === undefined) return { provider: PRIMARY.provider, sender: PRIMARY };
      const failover = { provider: SECONDARY.provider, afterMs: failoverAfterMs };
      return { provider: PRIMARY.provider, failover, sender: { ...PRIMARY, failover } };
    },
    renderMessage: async () => ({ body: MESSAGE, encoding: 'GSM-7', segments: 1, warnings: [] }),
    sendSms: async ({ provider }) => ({
      kind: 'sent',
      providerMessageId: acceptedId(provider),
      reconciled: false,
    }),
    findAcceptedSms: async () => null,
    recordHistory: async () => ({ historyId: 1 }),
    recordProviderOptOut: async () => undefined,
  };
}

export const acceptedId = (provider: string) => `${provider}-accepted-1`;

/** What the real activity throws for a provider error of this type (activities/failures.ts). */
export function providerFailure(type: SmsErrorType, code: string): Error {
  return toApplicationFailure(
    new SmsProviderError(type, code, `provider said ${code}`),
    Context.current().info.attempt,
  );
}

/**
 * Workflow time since the first call, read from the test server's clock: time skipping moves it,
 * Date.now() does not.
 */
export function workflowClock(env: TestWorkflowEnvironment): () => Promise<number> {
  let first: number | undefined;
  return async () => {
    const now = await env.currentTimeMs();
    first ??= now;
    return now - first;
  };
}

export type OrderHandle = WorkflowHandle<typeof orderConfirmationSms>;

/** Starts the order workflow for a fresh order, as the bridge names it. */
export async function startOrder(
  client: Client,
  taskQueue: string,
  event: OrderConfirmationEvent = parsedEvent(),
): Promise<{ event: OrderConfirmationEvent; handle: OrderHandle }> {
  const handle = await client.workflow.start<typeof orderConfirmationSms>(ORDER_WORKFLOW_TYPE, {
    taskQueue,
    workflowId: orderWorkflowId(event.orderId),
    args: [{ event, correlationId: `corr-${event.orderId}` }],
  });
  return { event, handle };
}

export const orderStatus = (handle: OrderHandle) => handle.query<OrderStatus>(ORDER_STATUS_QUERY);
