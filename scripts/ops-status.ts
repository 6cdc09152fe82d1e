import type { OrderStatus } from '../temporal/contracts';
import { latestOrderRun, orderRunJson, queryOrderStep, type OrderRun } from '../temporal/order-runs';
import {
  EXIT,
  EXIT_CODES_TEXT,
  OPS,
  orderIdArg,
  parseOptions,
  UsageError,
  type OpsCommand,
} from './ops-common';

const USAGE = `usage: ${OPS} status <OrderId>... [--json]
Shows each order's latest run in Temporal: workflow status, outcome (SmsOutcome), error code
(SmsErrorCode), venue, provider, and, while it runs, its current step (the workflow's status query,
answered by a worker). An unknown order says "not found" (exit 3). The SQL history rows are
GET /api/orders/:orderId.
  --json   one JSON document: { orders: [{ orderId, found, workflowStatus, outcome, step, ... }] }
${EXIT_CODES_TEXT}`;

type StatusEntry =
  | { orderId: string; found: false }
  | { orderId: string; found: true; run: OrderRun; step?: OrderStatus; stepError?: string };

export const statusCommand: OpsCommand = {
  name: 'status',
  summary: "show orders' workflow status, outcome, error code and current step",
  usage: USAGE,
  async run(connect, args, io) {
    const { values, positionals } = parseOptions(args, { json: { type: 'boolean', default: false } }, true);
    if (positionals.length === 0) throw new UsageError('name at least one OrderId');
    const orderIds = positionals.map((id) => orderIdArg(id));
    const client = await connect();
    const entries: StatusEntry[] = [];
    for (const orderId of orderIds) {
      const run = await latestOrderRun(client, orderId);
      if (!run) {
        entries.push({ orderId, found: false });
        continue;
      }
      // Only a running order has a step worth asking for; a closed one's is its outcome.
      const step = run.status === 'RUNNING' ? await queryOrderStep(client, run) : undefined;
      entries.push({
        orderId,
        found: true,
        run,
        ...(step && ('status' in step ? { step: step.status } : { stepError: step.error })),
      });
    }
    if (values.json) io.out(JSON.stringify({ orders: entries.map(entryJson) }));
    else for (const entry of entries) io.out(entryLine(entry));
    return entries.some((e) => !e.found) ? EXIT.notFound : EXIT.ok;
  },
};

function entryJson(entry: StatusEntry) {
  if (!entry.found) return { orderId: entry.orderId, found: false };
  return {
    ...orderRunJson(entry.run),
    found: true,
    step: entry.step?.step ?? null,
    ...(entry.stepError ? { stepError: entry.stepError } : {}),
  };
}

function entryLine(entry: StatusEntry): string {
  if (!entry.found) return `${entry.orderId}  not found (never started, or past the namespace's retention)`;
  const { run } = entry;
  return [
    run.orderId,
    run.status,
    `outcome ${run.outcome ?? '-'}`,
    entry.step ? `step ${entry.step.step}` : undefined,
    entry.stepError ? `step unknown (${entry.stepError})` : undefined,
    `error ${run.errorCode ?? '-'}`,
    `venue ${run.venueId ?? '-'}`,
    run.provider ? `provider ${run.provider}` : undefined,
    run.closeTime
      ? `closed ${run.closeTime.toISOString()}`
      : `started ${run.startTime?.toISOString() ?? '-'}`,
  ]
    .filter(Boolean)
    .join('  ');
}
