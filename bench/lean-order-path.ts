import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { startOrderConfirmation } from '../temporal/start-order';
import { orderWorkflowId } from '../temporal/ids';
import { createTestDatabase } from '../test/support/db';
import { startStandaloneTemporal } from '../test/support/workflow-bundle';
import { optIn, parsedEvent, startTestWorkers } from '../test/support/workers';

/**
 * `npx tsx bench/lean-order-path.ts [orders]`: a quick before/after probe of the order path (ADR
 * 0009), not the full `npm run bench`. A throwaway dev server, SQLite and the production workers in
 * this process; N opted-in orders for one warm venue (its number already stored) started at once,
 * then the same number of no-op workflows of the old shape (five sequential activities). Prints
 * one JSON line: orders/s, the ceiling's workflows/s, their ratio, p50/p95 of workflow start →
 * sendSms completed (server event times), and one order's history event count and activity shape.
 */
const EventType = temporal.api.enums.v1.EventType;
const N = Number(process.argv[2] ?? 100);

async function main(): Promise<void> {
  const server = await startStandaloneTemporal();
  const cpu = cpuMeter(server.pid);
  const db = await createTestDatabase();
  const taskQueue = `bench-lean-${randomUUID().slice(0, 8)}`;
  const w = await startTestWorkers({ knex: db.knex, taskQueue });
  try {
    const venueId = 4242;
    await w.repos.venueNumbers.insertActive({
      venueId,
      provider: 'simulator',
      phoneNumber: '+14155550199',
      providerId: 'PN-bench',
    });
    const events = Array.from({ length: N + 10 }, (_, i) =>
      parsedEvent({ VenueId: venueId, PhoneNumber: `+1415555${String(1000 + i).padStart(4, '0')}` }),
    );
    for (const e of events) await optIn(w.repos, e);

    const runOrders = async (batch: typeof events) => {
      const t0 = Date.now();
      cpu.mark();
      await Promise.all(
        batch.map((e) =>
          startOrderConfirmation(w.client, taskQueue, e, { correlationId: `bench-${e.orderId}` }),
        ),
      );
      await Promise.all(batch.map((e) => w.client.workflow.getHandle(orderWorkflowId(e.orderId)).result()));
      return Date.now() - t0;
    };
    await runOrders(events.slice(0, 10)); // warm-up: caches, JIT
    const orders = events.slice(10);
    const orderMs = await runOrders(orders);
    const orderCpu = cpu.perItem(N);

    const latencies: number[] = [];
    const eventCounts: number[] = [];
    /** Total time between consecutive event types, summed over the orders (where the time goes). */
    const phases = new Map<string, number>();
    let shape: { events: number; activities: string[]; markers: number } | undefined;
    for (const e of orders) {
      const { events: hist } = await w.client.workflow.getHandle(orderWorkflowId(e.orderId)).fetchHistory();
      const list = hist ?? [];
      eventCounts.push(list.length);
      for (let i = 1; i < list.length; i++) {
        const step =
          `${EventType[list[i - 1].eventType ?? 0]} → ${EventType[list[i].eventType ?? 0]}`.replace(
            /EVENT_TYPE_/g,
            '',
          );
        phases.set(step, (phases.get(step) ?? 0) + millis(list[i].eventTime) - millis(list[i - 1].eventTime));
      }
      const start = millis(list[0]?.eventTime);
      const scheduled = new Map<number, string>();
      for (const ev of list) {
        if (ev.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
          scheduled.set(
            Number(ev.eventId),
            ev.activityTaskScheduledEventAttributes?.activityType?.name ?? '',
          );
        if (
          ev.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED &&
          scheduled.get(Number(ev.activityTaskCompletedEventAttributes?.scheduledEventId)) === 'sendSms'
        )
          latencies.push(millis(ev.eventTime) - start);
      }
      shape ??= {
        events: list.length,
        activities: [...scheduled.values()],
        markers: list.filter((ev) => ev.eventType === EventType.EVENT_TYPE_MARKER_RECORDED).length,
      };
    }
    latencies.sort((a, b) => a - b);
    if (process.env.BENCH_PHASES)
      for (const [step, total] of phases) console.error(`${Math.round(total / N)} ms  ${step}`);
    const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];

    const ceilingMs = await sameShapeCeiling(w.client, N, cpu);
    const ceilingCpu = cpu.perItem(N);
    const ordersPerSecond = round((N / orderMs) * 1000);
    const ceilingPerSecond = round((N / ceilingMs) * 1000);
    console.log(
      JSON.stringify({
        orders: N,
        ordersPerSecond,
        ceilingPerSecond,
        ratio: round(ordersPerSecond / ceilingPerSecond),
        startToSentMs: { p50: pct(0.5), p95: pct(0.95) },
        // CPU per order (this process: client + worker; the dev server), robust to a busy machine.
        cpuMsPerOrder: orderCpu,
        cpuMsPerCeilingWorkflow: ceilingCpu,
        history: shape,
        eventsPerOrder: { min: Math.min(...eventCounts), max: Math.max(...eventCounts) },
      }),
    );
  } finally {
    await w.shutdown();
    await db.destroy();
    await server.stop();
  }
}

/** N no-op workflows of the old order shape on their own queue and worker, started at once. */
async function sameShapeCeiling(client: Client, n: number, cpu: CpuMeter): Promise<number> {
  const taskQueue = `bench-ceiling-${randomUUID().slice(0, 8)}`;
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_TEST_ADDRESS });
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowBundle: await bundleWorkflowCode({
      workflowsPath: path.join(__dirname, 'lean-order-path-noop.ts'),
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error },
    }),
    activities: { noop: async (step: number) => step },
  });
  const running = worker.run();
  try {
    const run = async (count: number) => {
      const t0 = Date.now();
      const handles = await Promise.all(
        Array.from({ length: count }, () =>
          client.workflow.start('sameShapeCeiling', { taskQueue, workflowId: `ceiling-${randomUUID()}` }),
        ),
      );
      await Promise.all(handles.map((h) => h.result()));
      return Date.now() - t0;
    };
    await run(10);
    cpu.mark();
    return await run(n);
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
  }
}

interface CpuMeter {
  mark(): void;
  perItem(n: number): { process: number; server: number };
}

/** CPU time of this process and of the dev server (Linux /proc) since the last mark. */
function cpuMeter(serverPid: number): CpuMeter {
  const serverMs = () => {
    try {
      const fields = fs.readFileSync(`/proc/${serverPid}/stat`, 'utf8').split(') ')[1].split(' ');
      return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, 100 ticks/s
    } catch {
      return NaN;
    }
  };
  const processMs = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  let at = { process: processMs(), server: serverMs() };
  return {
    mark: () => (at = { process: processMs(), server: serverMs() }),
    perItem: (n) => ({
      process: round((processMs() - at.process) / n),
      server: round((serverMs() - at.server) / n),
    }),
  };
}

function millis(t: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  return Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);
}

const round = (x: number) => Math.round(x * 100) / 100;

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
