import { ServiceBusClient } from '@azure/service-bus';
import { SEND_ORDER_CONFIRMATION_SMS } from '../../../bridge/event-types';
import { createBridge } from '../../../bridge/subscriber';
import { loadConfig } from '../../../config';
import { createLogger } from '../../../config/logger';
import { signSimulatorWebhook, simulatorInbound } from '../../../providers/simulator/simulator-webhook';
import { createMetrics } from '../../../runtime/metrics';
import { startMetricsServer } from '../../../runtime/metrics-server';
import { freePort } from '../../../scripts/temporal-cli';
import { connectTemporalClient } from '../../../temporal/client';
import { ORDER_WORKFLOW_TYPE } from '../../../temporal/contracts';
import { startOrderConfirmation } from '../../../temporal/start-order';
import { startLongRunningWorkflowsGauge } from '../../../workers/long-running-gauge';
import { useTestApi } from '../../support/api';
import { useResource } from '../../support/lifecycle';
import { metricValue, scrape } from '../../support/metrics';
import { startServiceBusPeer, type ServiceBusPeer } from '../../support/servicebus-peer';
import { testTemporalAddress, uniqueTaskQueue, waitFor } from '../../support/temporal';
import { exited, spawnWorker, workerProcessEnv } from '../../support/worker-process';
import { optIn, parsedEvent, sampleEvent, useTestWorkers } from '../../support/workers';

const TOKEN = 'metrics-test-token-0123456789';
const SIM_SECRET = 'simulator-secret-for-metrics-tests';
const PUBLIC = 'http://sms.metrics.test';
/** The simulator answers a send to this number as Twilio's 21610 (the customer unsubscribed). */
const OPTED_OUT_AT_PROVIDER = '+14155550999';
const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent', name: 'metrics-test' });

const { w, db, taskQueue } = useTestWorkers('metrics', {
  env: { SIMULATOR_OPTED_OUT_NUMBERS: OPTED_OUT_AT_PROVIDER },
});
// What workers/main.ts serves on METRICS_PORT, on an ephemeral port.
const workerMetrics = useResource(
  () => startMetricsServer({ registry: w.metrics.registry, host: '127.0.0.1', port: 0, logger }),
  (server) => server.close(),
);
const app = useTestApi(() => ({
  token: TOKEN,
  logName: 'metrics-test',
  publicBaseUrl: PUBLIC,
  workers: w,
  config: { simulator: { ...w.config.simulator, webhookSecret: SIM_SECRET } },
  metrics: createMetrics(),
}));

const workerScrape = () => scrape(`http://127.0.0.1:${workerMetrics.port}/metrics`);
const apiScrape = async () => {
  const res = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain/);
  return res.body;
};

/** A customer texting the venue's simulator number, signed as the simulator signs (or not). */
function inbound(from: string, to: string, text: string, secret = SIM_SECRET) {
  const signed = signSimulatorWebhook(
    secret,
    `${PUBLIC}/webhooks/simulator`,
    simulatorInbound(from, to, text),
  );
  return app.inject({
    method: 'POST',
    url: '/webhooks/simulator',
    headers: signed.headers,
    payload: signed.body,
  });
}

async function sendThroughIngress(overrides: Record<string, unknown>) {
  const raw = sampleEvent(overrides);
  const e = parsedEvent(raw);
  await optIn(w.repos, e);
  const res = await app.inject({
    method: 'POST',
    url: '/api/events/send-order-confirmation-sms',
    headers: { authorization: `Bearer ${TOKEN}` },
    payload: raw,
  });
  expect(res.statusCode).toBe(202);
  const [row] = await waitFor(
    async () => {
      const rows = await w.repos.history.findByOrderId(e.orderId);
      return rows.length > 0 ? rows : undefined;
    },
    { timeoutMs: 60_000, description: 'the order history row' },
  );
  return { e, row };
}

const VENUE = 930_001;

describe('API and worker', () => {
  test('/metrics on the API takes the bearer token', async () => {
    expect((await app.inject({ url: '/metrics' })).statusCode).toBe(401);
    expect(
      (await app.inject({ url: '/metrics', headers: { authorization: 'Bearer wrong' } })).statusCode,
    ).toBe(401);
  });

  test('a send through the dev server and the simulator: sends, duration, provider call and purchase counted', async () => {
    const sent = { provider: 'simulator', outcome: 'sent' };
    const before = await workerScrape();
    const apiBefore = await apiScrape();
    const route = { route: '/api/events/send-order-confirmation-sms', method: 'POST', status_code: '202' };

    const { row } = await sendThroughIngress({ VenueId: VENUE, PhoneNumber: '+14155550301' });
    expect(row.status).toBe('sent');

    const after = await waitFor(
      async () => {
        const text = await workerScrape();
        return (
          metricValue(text, 'sms_sends_total', sent) > metricValue(before, 'sms_sends_total', sent) && text
        );
      },
      { description: 'sms_sends_total to move' },
    );
    expect(metricValue(after, 'sms_sends_total', sent) - metricValue(before, 'sms_sends_total', sent)).toBe(
      1,
    );
    expect(
      metricValue(after, 'sms_send_duration_seconds_count', sent) -
        metricValue(before, 'sms_send_duration_seconds_count', sent),
    ).toBe(1);
    const call = { provider: 'simulator', operation: 'send', result: 'ok' };
    expect(
      metricValue(after, 'sms_provider_requests_total', call) -
        metricValue(before, 'sms_provider_requests_total', call),
    ).toBe(1);
    // The venue's first order bought its number.
    const bought = { provider: 'simulator', result: 'purchased' };
    expect(
      metricValue(after, 'sms_number_purchases_total', bought) -
        metricValue(before, 'sms_number_purchases_total', bought),
    ).toBe(1);
    // No venue, no phone number in any label.
    expect(after).not.toContain(String(VENUE));
    expect(after).not.toMatch(/4155550301/);

    const apiAfter = await apiScrape();
    expect(
      metricValue(apiAfter, 'sms_http_requests_total', route) -
        metricValue(apiBefore, 'sms_http_requests_total', route),
    ).toBe(1);
  });

  test('a provider opt-out answer: the send attempt counted as opted_out, the consent change as source provider', async () => {
    const optedOut = { provider: 'simulator', outcome: 'opted_out' };
    const consent = { direction: 'opt_out', source: 'provider' };
    const before = await workerScrape();
    const { row } = await sendThroughIngress({ VenueId: VENUE, PhoneNumber: OPTED_OUT_AT_PROVIDER });
    expect(row.status).toBe('blocked_opted_out');
    const after = await workerScrape();
    expect(
      metricValue(after, 'sms_sends_total', optedOut) - metricValue(before, 'sms_sends_total', optedOut),
    ).toBe(1);
    expect(
      metricValue(after, 'sms_consent_changes_total', consent) -
        metricValue(before, 'sms_consent_changes_total', consent),
    ).toBe(1);
  });

  test('STOP and START webhooks move the consent counter by direction; a bad signature moves the failure counter only', async () => {
    const number = await w.repos.venueNumbers.findActive(VENUE, 'simulator');
    if (!number) throw new Error('the first test gives the venue its number');
    const optOut = { direction: 'opt_out', source: 'webhook' };
    const optInLabels = { direction: 'opt_in', source: 'webhook' };
    const failure = { provider: 'simulator', kind: 'inbound' };
    const before = await apiScrape();

    expect((await inbound('+14155550302', number.phoneNumber, 'STOP')).statusCode).toBe(200);
    const afterStop = await apiScrape();
    expect(
      metricValue(afterStop, 'sms_consent_changes_total', optOut) -
        metricValue(before, 'sms_consent_changes_total', optOut),
    ).toBe(1);

    expect((await inbound('+14155550302', number.phoneNumber, 'START')).statusCode).toBe(200);
    const afterStart = await apiScrape();
    expect(
      metricValue(afterStart, 'sms_consent_changes_total', optInLabels) -
        metricValue(afterStop, 'sms_consent_changes_total', optInLabels),
    ).toBe(1);

    const forged = await inbound(
      '+14155550303',
      number.phoneNumber,
      'STOP',
      'not-the-simulator-secret-at-all',
    );
    expect(forged.statusCode).toBe(403);
    const afterForged = await apiScrape();
    expect(
      metricValue(afterForged, 'sms_webhook_signature_failures_total', failure) -
        metricValue(afterStart, 'sms_webhook_signature_failures_total', failure),
    ).toBe(1);
    expect(metricValue(afterForged, 'sms_consent_changes_total', optOut)).toBe(
      metricValue(afterStart, 'sms_consent_changes_total', optOut),
    );
    expect(afterForged).not.toMatch(/4155550302|4155550303/);
  });

  test('the internal consent API counts its acknowledged changes as source api', async () => {
    const labels = { direction: 'opt_in', source: 'api' };
    const before = await apiScrape();
    const res = await app.inject({
      method: 'POST',
      url: '/api/internal/consent',
      headers: { authorization: `Bearer ${TOKEN}` },
      payload: {
        venueId: VENUE,
        phoneNumber: '+14155550304',
        status: 'opted_in',
        source: 'checkout',
        occurredAt: new Date(Date.now() - 60_000).toISOString(),
      },
    });
    expect(res.statusCode).toBe(202);
    const after = await apiScrape();
    expect(
      metricValue(after, 'sms_consent_changes_total', labels) -
        metricValue(before, 'sms_consent_changes_total', labels),
    ).toBe(1);
    // Routes are labelled by pattern: the phone number in a consent URL never becomes a label.
    await app.inject({
      url: '/api/consent/930001/+14155550304',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const routes = await apiScrape();
    expect(
      metricValue(routes, 'sms_http_requests_total', { route: '/api/consent/:venueId/:phone' }),
    ).toBeGreaterThan(0);
    expect(routes).not.toMatch(/4155550304/);
  });

  test('the long-running gauge counts this deployment\u2019s running workflows older than its threshold', async () => {
    // A queue nobody polls: the order stays running.
    const idleQueue = uniqueTaskQueue('metrics-idle');
    const metrics = createMetrics();
    await startOrderConfirmation(w.client, idleQueue, parsedEvent(), { correlationId: 'corr-long-running' });
    const gauge = startLongRunningWorkflowsGauge({
      client: w.client,
      taskQueue: idleQueue,
      metrics,
      logger,
      thresholdMs: 1,
      refreshMs: 60_000,
    });
    try {
      await waitFor(
        async () => {
          await gauge.refresh();
          const text = await metrics.registry.metrics();
          return (
            metricValue(text, 'sms_workflows_running_long', { workflow_type: ORDER_WORKFLOW_TYPE }) === 1
          );
        },
        { description: 'the gauge to see the running order' },
      );
      // With the real threshold (an hour) the same just-started order is not counted.
      const hourly = startLongRunningWorkflowsGauge({
        client: w.client,
        taskQueue: idleQueue,
        metrics,
        logger,
      });
      hourly.stop();
      await hourly.refresh();
      const text = await metrics.registry.metrics();
      expect(metricValue(text, 'sms_workflows_running_long', { workflow_type: ORDER_WORKFLOW_TYPE })).toBe(0);
    } finally {
      gauge.stop();
    }
  });
});

describe('bridge', () => {
  const TOPIC = 'send-order-confirmation-sms';
  const SUBSCRIPTION = 'sms-service';
  let peer: ServiceBusPeer;

  beforeAll(async () => {
    peer = await startServiceBusPeer({ topics: { [TOPIC]: { subscriptions: { [SUBSCRIPTION]: {} } } } });
  });
  afterAll(() => peer?.stop());

  test('a dead-lettered message moves sms_dead_letters_total{reason}; a valid one counts a start', async () => {
    const config = loadConfig({
      SERVICEBUS_CONNECTION_STRING: peer.connectionString,
      TEMPORAL_ADDRESS: testTemporalAddress(),
    });
    const temporal = connectTemporalClient(config.temporal);
    const metrics = createMetrics();
    const server = await startMetricsServer({
      registry: metrics.registry,
      host: '127.0.0.1',
      port: 0,
      logger,
    });
    const bridge = createBridge({
      serviceBus: config.serviceBus!,
      temporal: { client: temporal.client, taskQueue },
      defaultRegion: 'US',
      logger,
      metrics,
    });
    const sbClient = new ServiceBusClient(peer.connectionString);
    const sender = sbClient.createSender(TOPIC);
    try {
      await bridge.start();
      await sender.sendMessages([
        {
          body: Buffer.from('{"OrderId": "not json'),
          subject: SEND_ORDER_CONFIRMATION_SMS,
          messageId: 'bad-1',
        },
        {
          body: Buffer.from(JSON.stringify(sampleEvent())),
          subject: SEND_ORDER_CONFIRMATION_SMS,
          messageId: 'ok-1',
        },
      ]);
      const url = `http://127.0.0.1:${server.port}/metrics`;
      const text = await waitFor(
        async () => {
          const body = await scrape(url);
          return metricValue(body, 'sms_bridge_messages_settled_total') === 2 && body;
        },
        { description: 'both messages settled' },
      );
      expect(peer.deadLetters(TOPIC, SUBSCRIPTION)).toHaveLength(1);
      expect(metricValue(text, 'sms_dead_letters_total', { reason: 'InvalidPayload' })).toBe(1);
      expect(metricValue(text, 'sms_dead_letters_total')).toBe(1);
      expect(metricValue(text, 'sms_bridge_messages_received_total')).toBe(2);
      expect(metricValue(text, 'sms_bridge_messages_settled_total', { action: 'dead_letter' })).toBe(1);
      expect(metricValue(text, 'sms_bridge_workflow_starts_total', { result: 'started' })).toBe(1);
    } finally {
      await sender.close();
      await sbClient.close();
      await bridge.close();
      await server.close();
      await temporal.close();
    }
  });
});

describe('worker process', () => {
  test('serves sms_* on METRICS_PORT (ephemeral here) and the SDK\u2019s temporal_* on TEMPORAL_METRICS_PORT', async () => {
    const sdkPort = await freePort();
    const worker = spawnWorker({
      ...workerProcessEnv({
        taskQueue: uniqueTaskQueue('metrics-proc'),
        databaseUrl: db.url,
        simulatorPath: w.simulatorPath,
      }),
      TEMPORAL_METRICS_PORT: String(sdkPort),
    });
    try {
      const started = await waitFor(
        async () =>
          worker
            .output()
            .split('\n')
            .find((line) => line.includes('"worker started"')),
        { timeoutMs: 60_000, description: 'worker started' },
      );
      const { metricsPort, temporalMetricsPort } = JSON.parse(started) as {
        metricsPort: number;
        temporalMetricsPort: number;
      };
      expect(metricsPort).toBeGreaterThan(0);
      expect(temporalMetricsPort).toBe(sdkPort);
      const ours = await scrape(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(ours).toContain('# TYPE sms_sends_total counter');
      expect(ours).toContain('# TYPE sms_send_duration_seconds histogram');
      expect(ours).toContain('nodejs_eventloop_lag_seconds');
      const sdk = await waitFor(
        async () => {
          const text = await scrape(`http://127.0.0.1:${sdkPort}/metrics`);
          return /^temporal_request_latency_seconds_bucket/m.test(text) && text;
        },
        { description: 'the SDK exporter to report temporal_* metrics' },
      );
      expect(sdk).toMatch(/^temporal_(worker|num_pollers|request)\w*/m);
      // Prometheus conventions (issue 19): seconds with the unit in the name, counters with _total,
      // and every series names the service and the role.
      expect(sdk).toContain('# TYPE temporal_request_latency_seconds histogram');
      expect(sdk).toContain('# TYPE temporal_request_total counter');
      const series = sdk.split('\n').filter((line) => line.startsWith('temporal_'));
      for (const line of series) {
        expect(line).toMatch(/[{,]role="worker"[,}]/);
        expect(line).toMatch(/[{,]service_name="sms-order-confirmation"[,}]/);
      }
      // The unit suffix follows the unit: milliseconds would have named every duration …_milliseconds.
      expect(sdk).not.toContain('_milliseconds');
    } finally {
      worker.child.kill('SIGTERM');
      await exited(worker.child);
    }
  }, 120_000);
});
