import { buildApp } from '../api/app';
import { createLogger } from '../config/logger';
import { createMetrics } from '../runtime/metrics';
import { orderWorkflowId } from '../temporal/ids';
import { startOrderConfirmation } from '../temporal/start-order';
import { optIn, parsedEvent } from '../test/support/workers';
import { startPacedStack } from './support/paced-stack';
import { phoneFor } from './support/stats';

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
  const { w, fake, taskQueue, pacing, stop } = await startPacedStack({
    taskQueue: 'bench-pause',
    rate: RATE,
    env: { ROLLOUT_CACHE_MS: '2000' },
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
    const paced = pacing();
    const perPhone = new Map<string, number>();
    for (const m of fake.messages()) perPhone.set(m.to, (perPhone.get(m.to) ?? 0) + 1);
    const lost = events.filter((e) => !perPhone.has(e.phoneNumber)).length;
    const doubled = [...perPhone.values()].filter((n) => n > 1).length;
    const notSent = results.filter((r) => r.outcome !== 'sent').length;
    console.log(
      JSON.stringify({
        orders: ORDERS,
        limitPerSecond: Number(RATE),
        sentWhilePaused,
        firstSendAfterResumeSeconds: +((paced.firstAt - resumedAt) / 1000).toFixed(2),
        observedPerSecond: paced.observedPerSecond,
        peakInAnySecond: paced.peakInAnySecond,
        lost,
        doubled,
        notSent,
      }),
    );
    if (lost > 0 || doubled > 0 || notSent > 0 || sentWhilePaused > 0) process.exitCode = 1;
  } finally {
    await api.close();
    await stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
