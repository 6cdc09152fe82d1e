import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { SMS_ERROR_TYPES, type SmsErrorType } from '../domain/errors';

/**
 * Every Prometheus metric the service exports, defined once (docs/metrics.md lists them). Labels
 * take values from fixed lists only — provider, outcome, source, reason, failure type, route
 * pattern — never a venue, a phone number or an order id: a label value per customer would grow
 * the time series without bound and put personal data into the monitoring system.
 *
 * Each process (API, worker, bridge) has one registry, `processMetrics()`; tests build their own
 * with `createMetrics()` to read counters in isolation.
 */

/** An attempt's outcome as the sends counter names it; provider failures in snake case. */
export type SendOutcome =
  | 'sent'
  | 'reconciled'
  | 'duplicate'
  | 'blocked_opted_out'
  | 'skipped_no_consent'
  | 'expired'
  | 'skipped_disabled'
  | 'paused'
  | ErrorLabel
  | 'cancelled'
  | 'error';

export type ErrorLabel =
  | 'invalid_phone'
  | 'opted_out'
  | 'rate_limited'
  | 'provider_unavailable'
  | 'provider_auth'
  | 'misconfiguration';

const ERROR_LABELS: Record<SmsErrorType, ErrorLabel> = {
  InvalidPhone: 'invalid_phone',
  OptedOut: 'opted_out',
  RateLimited: 'rate_limited',
  ProviderUnavailable: 'provider_unavailable',
  ProviderAuth: 'provider_auth',
  Misconfiguration: 'misconfiguration',
};

/** The label of a taxonomy failure type; anything outside the taxonomy is `error` (bounded). */
export function errorLabel(type: string | null | undefined): ErrorLabel | 'error' {
  return (SMS_ERROR_TYPES as readonly string[]).includes(type ?? '')
    ? ERROR_LABELS[type as SmsErrorType]
    : 'error';
}

/**
 * Send attempts the provider did not take (the failure-rate alert's numerator). Opt-outs and
 * consent outcomes are business results, not failures.
 */
export const SEND_FAILURE_OUTCOMES: readonly SendOutcome[] = [
  'invalid_phone',
  'rate_limited',
  'provider_unavailable',
  'provider_auth',
  'misconfiguration',
  'cancelled',
  'error',
];

export type ConsentDirection = 'opt_out' | 'opt_in';
/** Where an acknowledged consent change came from: a provider webhook, the internal API, a provider's send error. */
export type ConsentChangeSource = 'webhook' | 'api' | 'provider';
export const PROVIDER_OPERATIONS = [
  'send',
  'find_accepted',
  'buy_number',
  'find_owned_number',
  'release_number',
] as const;
export type ProviderOperation = (typeof PROVIDER_OPERATIONS)[number];

/** Seconds; 3 s is a bucket boundary because the latency alert's threshold is 3 s. */
const SEND_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60];
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(registry: Registry = new Registry()) {
  const registers = [registry];
  return {
    registry,

    // Worker: the send activity, measured where each attempt finishes (workers/metrics-interceptor.ts).
    sends: new Counter({
      name: 'sms_sends_total',
      help: 'sendSms attempts by provider and outcome (sent, reconciled, duplicate, blocked_opted_out, skipped_no_consent, expired, or the failure: rate_limited, provider_unavailable, provider_auth, invalid_phone, opted_out, misconfiguration, cancelled, error)',
      labelNames: ['provider', 'outcome'] as const,
      registers,
    }),
    sendDuration: new Histogram({
      name: 'sms_send_duration_seconds',
      help: 'Duration of one sendSms attempt (claim, consent re-read, provider call), by provider and outcome',
      labelNames: ['provider', 'outcome'] as const,
      buckets: SEND_BUCKETS,
      registers,
    }),
    // Worker: every provider call (workers/instrumented-provider.ts), so auth errors show on purchases too.
    providerRequests: new Counter({
      name: 'sms_provider_requests_total',
      help: 'Provider API calls by provider, operation and result (ok or the failure type)',
      labelNames: ['provider', 'operation', 'result'] as const,
      registers,
    }),
    providerRequestDuration: new Histogram({
      name: 'sms_provider_request_duration_seconds',
      help: 'Duration of provider API calls by provider and operation',
      labelNames: ['provider', 'operation'] as const,
      buckets: SEND_BUCKETS,
      registers,
    }),
    numberPurchases: new Counter({
      name: 'sms_number_purchases_total',
      help: 'Venue sender number purchases by provider and result (purchased, adopted, or the failure type)',
      labelNames: ['provider', 'result'] as const,
      registers,
    }),
    // Where a consent change is acknowledged: the webhook's 200, the internal API's 202, the
    // provider_error opt-out signalled by the worker.
    consentChanges: new Counter({
      name: 'sms_consent_changes_total',
      help: 'Acknowledged consent changes by direction (opt_out, opt_in) and source (webhook, api, provider)',
      labelNames: ['direction', 'source'] as const,
      registers,
    }),
    webhookSignatureFailures: new Counter({
      name: 'sms_webhook_signature_failures_total',
      help: 'Webhook requests refused (403) for a missing or invalid signature, by provider and kind (inbound, status)',
      labelNames: ['provider', 'kind'] as const,
      registers,
    }),
    // Bridge.
    bridgeMessagesReceived: new Counter({
      name: 'sms_bridge_messages_received_total',
      help: 'Service Bus messages the bridge received (redeliveries included)',
      registers,
    }),
    bridgeMessagesSettled: new Counter({
      name: 'sms_bridge_messages_settled_total',
      help: 'Service Bus messages the bridge settled, by action (complete, dead_letter, abandon, lock_lost)',
      labelNames: ['action'] as const,
      registers,
    }),
    bridgeWorkflowStarts: new Counter({
      name: 'sms_bridge_workflow_starts_total',
      help: 'Order events the bridge handed to Temporal, by result (started, already_started)',
      labelNames: ['result'] as const,
      registers,
    }),
    deadLetters: new Counter({
      name: 'sms_dead_letters_total',
      help: 'Messages the bridge dead-lettered, by reason (InvalidPayload, UnknownEventType, StartRejected)',
      labelNames: ['reason'] as const,
      registers,
    }),
    // Bridge: the start gate (bridge/start-gate.ts). A Temporal outage holds every message without
    // settling any, so no counter moves: only these show it.
    bridgeHeld: new Gauge({
      name: 'sms_bridge_held',
      help: '1 while the bridge holds its messages because workflow starts fail (Temporal unavailable or refusing), else 0',
      registers,
    }),
    bridgeMessagesHeld: new Gauge({
      name: 'sms_bridge_messages_held',
      help: 'Messages waiting at the bridge start gate for their turn to start a workflow',
      registers,
    }),
    // API.
    httpRequests: new Counter({
      name: 'sms_http_requests_total',
      help: 'API requests by method, route pattern and status code',
      labelNames: ['method', 'route', 'status_code'] as const,
      registers,
    }),
    httpRequestDuration: new Histogram({
      name: 'sms_http_request_duration_seconds',
      help: 'API request duration by method and route pattern',
      labelNames: ['method', 'route'] as const,
      buckets: HTTP_BUCKETS,
      registers,
    }),
    // Worker: from Temporal's visibility store (workers/long-running-gauge.ts).
    workflowsRunningLong: new Gauge({
      name: 'sms_workflows_running_long',
      help: 'Workflows of this deployment running for more than 1 hour, by workflow type (from Temporal visibility, refreshed at most every 30 s)',
      labelNames: ['workflow_type'] as const,
      registers,
    }),
    // Worker: from Temporal's visibility store (workers/failed-orders-gauge.ts).
    ordersFailed: new Gauge({
      name: 'sms_orders_failed',
      help: 'Orders whose latest run failed (Failed or TimedOut) in the last 24 hours: the ones to rerun (from Temporal visibility, refreshed every 60 s)',
      registers,
    }),
    // Rollout control (rollout/sql-control.ts). The API counts the monolith's flag reads, the worker
    // the send step's re-checks; `reason` is a FlagReason, never a venue. The pause gauges: worker.
    flagEvaluations: new Counter({
      name: 'sms_flag_evaluations_total',
      help: 'order-confirmation-sms flag evaluations by result (enabled, disabled) and reason (global_off, venue_override_on, venue_override_off, in_rollout, outside_rollout)',
      labelNames: ['result', 'reason'] as const,
      registers,
    }),
    rolloutPauses: new Gauge({
      name: 'sms_rollout_pauses',
      help: 'Active send pauses by scope (global, provider, venue), as of the last rollout state this process loaded',
      labelNames: ['scope'] as const,
      registers,
    }),
    rolloutPausedSince: new Gauge({
      name: 'sms_rollout_oldest_pause_timestamp_seconds',
      help: 'When the oldest active pause began (Unix seconds), by scope; 0 when none',
      labelNames: ['scope'] as const,
      registers,
    }),
    // Worker: from Temporal's visibility store (workers/paused-orders-gauge.ts).
    ordersPaused: new Gauge({
      name: 'sms_orders_paused',
      help: 'Running orders waiting out a pause (SmsOutcome="paused"; from Temporal visibility, refreshed every 30 s)',
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

let processWide: Metrics | undefined;

/**
 * The process's registry, with Node's default metrics (event loop lag, heap, GC, CPU) beside ours.
 * Created on first use, so a module that only imports the types costs nothing.
 */
export function processMetrics(): Metrics {
  if (!processWide) {
    processWide = createMetrics();
    collectDefaultMetrics({ register: processWide.registry });
  }
  return processWide;
}
