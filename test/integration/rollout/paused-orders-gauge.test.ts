import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { createLogger } from '../../../config/logger';
import { PAUSED_OUTCOME } from '../../../rollout/control';
import { createMetrics } from '../../../runtime/metrics';
import { ORDER_WORKFLOW_TYPE } from '../../../temporal/contracts';
import { SmsOutcomeKey } from '../../../temporal/search-attributes';
import { startPausedOrdersGauge } from '../../../workers/paused-orders-gauge';
import { metricValue } from '../../support/metrics';
import { uniqueTaskQueue, useTestClient, waitFor } from '../../support/temporal';

const temporal = useTestClient();
const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent', name: 'paused-gauge-test' });

test("sms_orders_paused counts this deployment's running orders with SmsOutcome=paused, and reloads the rollout state", async () => {
  // A queue nobody polls: the orders stay running with the attributes they were started with.
  const taskQueue = uniqueTaskQueue('paused-gauge');
  const handles: WorkflowHandle[] = [];
  for (const outcome of [PAUSED_OUTCOME, PAUSED_OUTCOME, 'pending']) {
    handles.push(
      await temporal.client.workflow.start(ORDER_WORKFLOW_TYPE, {
        workflowId: `paused-gauge-${randomUUID()}`,
        taskQueue,
        typedSearchAttributes: [{ key: SmsOutcomeKey, value: outcome }],
      }),
    );
  }
  const metrics = createMetrics();
  let loads = 0;
  const rollout = {
    state: async () => {
      loads++;
      return {
        flag: { enabled: true, rolloutPercent: 100, stored: false, updatedAt: null, updatedBy: null },
        overrides: new Map(),
        pauses: [],
      };
    },
  };
  const gauge = startPausedOrdersGauge({
    client: temporal.client,
    taskQueue,
    metrics,
    logger,
    rollout,
    refreshMs: 60_000,
  });
  try {
    await waitFor(
      async () => {
        await gauge.refresh();
        return metricValue(await metrics.registry.metrics(), 'sms_orders_paused') === 2;
      },
      { description: 'the gauge to count the two paused orders' },
    );
    expect(loads).toBeGreaterThan(0);
    // Closed orders leave the count.
    await handles[0]?.terminate('test');
    await waitFor(
      async () => {
        await gauge.refresh();
        return metricValue(await metrics.registry.metrics(), 'sms_orders_paused') === 1;
      },
      { description: 'the gauge to drop the terminated order' },
    );
  } finally {
    gauge.stop();
    await Promise.all(handles.map((h) => h.terminate('test over').catch(() => undefined)));
  }
});
