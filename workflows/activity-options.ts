/**
 * Timeouts and retries of every activity the workflows call, each named for the work it covers and
 * written once with its reason. Workflows import these; changing one changes every caller.
 */
import type { ActivityOptions, LocalActivityOptions, RetryPolicy } from '@temporalio/workflow';
import type { FailureType } from '../domain/errors';
import { SEND_ATTEMPT_TIMEOUT_MS } from '../domain/limits';

/** Failure types a retry cannot fix, checked against the taxonomy in domain/errors.ts. */
const nonRetryable = (...types: FailureType[]): string[] => types;

/** A database or Temporal blip must not lose an order or a consent change: retry without limit, capped at a minute. */
const DEPENDENCY_RETRY: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
};

/** A provider outage or a rate limit heals in minutes to hours: back off to five minutes between tries. */
const PROVIDER_RETRY: RetryPolicy = {
  initialInterval: '2 seconds',
  backoffCoefficient: 2,
  maximumInterval: '5 minutes',
};

/** Single reads and writes: consent look-up, history row, consent change. */
export const QUICK_CALL_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '10 seconds',
  retry: DEPENDENCY_RETRY,
};

/**
 * A number purchase or release is a slow provider call. The purchase adopts a number bought by an
 * attempt that died before storing it, so retrying never buys twice. The activity heartbeats through
 * the provider calls, so a dead worker is noticed in seconds.
 */
export const VENUE_NUMBER_PURCHASE_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '5 seconds',
  retry: { ...PROVIDER_RETRY, nonRetryableErrorTypes: nonRetryable('Misconfiguration') },
};

/** Pure CPU work: a failure is the template or the data, so retrying changes nothing. */
export const RENDER_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '5 seconds',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: nonRetryable('MessageTooLong', 'Misconfiguration') },
};

/**
 * The order path's quick reads and the history write as local activities (docs/adr/0009): they run
 * inside the workflow task on the order's own worker, one marker each instead of a server round
 * trip. An attempt gets as long as its regular twin (the consent read's entity query alone may take
 * 5 s), fast retries absorb a blip within the task (an attempt or backoff past the 10 s workflow
 * task timeout heartbeats the task: three events, no failure). After 30 s the dependency is down,
 * not blipping: the call fails with a timeout and the workflow hands it to the regular activity
 * (QUICK_CALL_ACTIVITY, retries without limit on the server), so an outage neither holds workflow
 * slots nor grows the history by a heartbeat every 8 s. The threshold keeps every backoff local: a
 * server timer per retry would cost more events than the fallback.
 */
export const LOCAL_QUICK_CALL_ACTIVITY: LocalActivityOptions = {
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '30 seconds',
  localRetryThreshold: '30 seconds',
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '5 seconds' },
};

/** The render as a local activity: the same three tries as RENDER_ACTIVITY, backoff inside the task. */
export const LOCAL_RENDER_ACTIVITY: LocalActivityOptions = {
  startToCloseTimeout: '5 seconds',
  retry: {
    initialInterval: '200 milliseconds',
    maximumAttempts: 3,
    nonRetryableErrorTypes: nonRetryable('MessageTooLong', 'Misconfiguration'),
  },
};

/**
 * The customer-facing call. The heartbeat timeout notices a dead worker in seconds; the retry that
 * follows reconciles with the provider before sending again. A day of retries covers a provider
 * outage or revoked credentials (ProviderAuth sets its own longer delays); after that the order fails.
 * Answers about the customer (invalid number, opted out) are final.
 */
export const SEND_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: SEND_ATTEMPT_TIMEOUT_MS,
  heartbeatTimeout: '5 seconds',
  scheduleToCloseTimeout: '24 hours',
  retry: {
    ...PROVIDER_RETRY,
    nonRetryableErrorTypes: nonRetryable('InvalidPhone', 'OptedOut', 'Misconfiguration'),
  },
};

/** The look-up at a failing primary before failover: a few quick tries, then fail over anyway. */
export const RECONCILE_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '15 seconds',
  scheduleToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumAttempts: 3 },
};
