import { buildApp } from '../api/app';
import { createLogger } from '../config/logger';
import { createMetrics } from '../runtime/metrics';
import { orderWorkflowId } from '../temporal/ids';
import { startOrderConfirmation } from '../temporal/start-order';
import { createTestDatabase } from '../test/support/db';
import { startTwilioFake, twilioEnv } from '../test/support/provider-fakes/twilio-fake';
import { startStandaloneTemporal } from '../test/support/workflow-bundle';
import { optIn, parsedEvent, startTestWorkers } from '../test/support/workers';
import { peakInAnySecond, phoneFor } from './support/stats';

/**
 * `npm run bench:pause [-- orders rate]`: a global pause through the API, `orders` first orders for
 * one venue held by it (each waits in workflow code, SmsOutcome=paused), then the resume through the
 * API. Every order must go out exactly once, through the real Twilio SDK to the local fake, at the
 * send queue's `rate` per second (the server's maxTaskQueueActivitiesPerSecond), never as a burst.
 * Prints the observed rate; exits 1 when an order was lost or texted twice.
 */
const ORDERS = Number(process.argv[2] ?? 500);
const RATE = process.argv[3] ?? '25';
const TOKEN = 'bench-pause-token-0123456789';

async function main(): Promise<void> {
  const server = await startStandaloneTemporal();
  const fake = await startTwilioFake();
  const db = await createTestDatabase();
  const taskQueue = 'bench-pause';
  const w = await startTestWorkers({
    knex: db.knex,
    taskQueue,
    env: { ...twilioEnv(fake), SEND_RATE_PER_SECOND: RATE, ROLLOUT_CACHE_MS: '2000' },
  });
  const api = await buildApp({
    config: { ...w.config, api: { ...w.config.api, token: TOKEN } },
    logger: createLogger({ level: 'silent', name: 'bench-api' }),
    repos: w.repos,
    temporal: { client: w.client, taskQueue, workflowIdHashKey: w.config.temporal.workflowIdHashKey },
    readinessChecks: {},
    version: 'bench',
    metrics: createMetrics(),
  });
  const post = async (url: string, payload: object) => {
    const res = await api.inject({
      method: 'POST',
      url,
      headers: { authorization: `Bearer ${TOKEN}` },
      payload,
    });
    if (res.statusCode !== 200) throw new Error(`${url} answered ${res.statusCode}: ${res.body}`);
  };
  try {
    await post('/api/pause', { scope: 'global', reason: 'bench: provider incident', changedBy: 'bench' });
    const events = Array.from({ length: ORDERS }, (_, i) =>
      parsedEvent({ VenueId: 4343, PhoneNumber: phoneFor(i) }),
    );
    for (const e of events) await optIn(w.repos, e);
    await Promise.all(
      events.map((e) => startOrderConfirmation(w.client, taskQueue, e, { correlationId: 'bench-pause' })),
    );
    const pausedQuery = `TaskQueue = '${taskQueue}' AND SmsOutcome = 'paused' AND ExecutionStatus = 'Running'`;
    const heldSince = performance.now();
    for (;;) {
      const { count } = await w.client.workflow.count(pausedQuery);
      if (count === ORDERS) break;
      if (performance.now() - heldSince > 300_000)
        throw new Error(`only ${count} of ${ORDERS} orders paused`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const sentWhilePaused = fake.messages().length;

    const resumedAt = Date.now();
    await post('/api/resume', { scope: 'global', reason: 'bench: incident over', changedBy: 'bench' });
    const results = await Promise.all(
      events.map((e) => w.client.workflow.getHandle(orderWorkflowId(e.orderId)).result()),
    );
    const times = fake
      .messages()
      .map((m) => m.dateCreated.getTime())
      .sort((a, b) => a - b);
    const perPhone = new Map<string, number>();
    for (const m of fake.messages()) perPhone.set(m.to, (perPhone.get(m.to) ?? 0) + 1);
    const lost = events.filter((e) => !perPhone.has(e.phoneNumber)).length;
    const doubled = [...perPhone.values()].filter((n) => n > 1).length;
    const notSent = results.filter((r) => r.outcome !== 'sent').length;
    const spanS = (times[times.length - 1] - times[0]) / 1000;
    console.log(
      JSON.stringify({
        orders: ORDERS,
        limitPerSecond: Number(RATE),
        sentWhilePaused,
        firstSendAfterResumeSeconds: +((times[0] - resumedAt) / 1000).toFixed(2),
        observedPerSecond: +((times.length - 1) / spanS).toFixed(2),
        peakInAnySecond: peakInAnySecond(times),
        lost,
        doubled,
        notSent,
      }),
    );
    if (lost > 0 || doubled > 0 || notSent > 0 || sentWhilePaused > 0) process.exitCode = 1;
  } finally {
    await api.close();
    await w.shutdown();
    await db.destroy();
    await fake.stop();
    await server.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
