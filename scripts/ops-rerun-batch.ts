import { WorkflowFailedError, type Client } from '@temporalio/client';
import { describeRun, orderRun, orderRunJson, type OrderRun } from '../temporal/order-runs';
import { rerunOrder, type RefusalReason, type RerunResult } from '../temporal/rerun';
import { EXIT, type OpsIo } from './ops-common';

export interface RerunRunOptions {
  /** Starts per second at most. */
  rate: number;
  /** Watch every started run to its end and report its outcome. */
  wait: boolean;
  json: boolean;
}

type Started = Extract<RerunResult, { rerun: true }>;
type Attempt = RerunResult | { rerun: false; orderId: string; error: string };

/** 3 when every refusal is "not found" (the operator named an order Temporal does not have), else 1. */
export function refusalExitCode(reasons: Array<RefusalReason | 'error'>): number {
  return reasons.every((r) => r === 'not_found') ? EXIT.notFound : EXIT.refused;
}

/**
 * Reruns the orders one at a time, no faster than `rate` per second: a batch after an outage is often
 * hundreds of orders, and the provider that just recovered should not get them all in the same
 * second (the send queue's own rate limit paces the SMS; this paces the starts and the first
 * activities). Ends with a summary; with `wait`, only once every started run has closed.
 */
export async function rerunAndReport(
  client: Client,
  orderIds: string[],
  options: RerunRunOptions,
  io: OpsIo,
  skipped = 0,
): Promise<number> {
  const sleep = io.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const interval = 1000 / options.rate;
  const bar = progressBar(orderIds.length, io);
  const attempts: Attempt[] = [];
  for (const [i, orderId] of orderIds.entries()) {
    const startedAt = Date.now();
    let attempt: Attempt;
    try {
      attempt = await rerunOrder(client, orderId, 'ops-cli');
    } catch (err) {
      // One order's trouble (an input the codec cannot read, say) must not stop the batch's others.
      attempt = { rerun: false, orderId, error: err instanceof Error ? err.message : String(err) };
    }
    attempts.push(attempt);
    if (!options.json) io.out(attemptLine(attempt));
    bar(i + 1, attempts.filter((a) => !a.rerun).length);
    const wait = interval - (Date.now() - startedAt);
    if (i < orderIds.length - 1 && wait > 0) await sleep(wait);
  }
  if (io.tty) io.err('\n'); // the bar redraws one line: end it before anything else is printed
  const started = attempts.filter((a): a is Started => a.rerun);
  // Printed as each run ends, so a long batch shows progress; the order of the lines is the order of the ends.
  const ended = new Map<string, OrderRun>();
  if (options.wait) {
    if (started.length) io.err(`waiting for ${started.length} run(s) to end\n`);
    await Promise.all(
      started.map(async (s) => {
        const end = await runEnd(client, s);
        ended.set(s.orderId, end);
        if (!options.json) io.out(`ended ${s.orderId}  ${endText(end)}`);
      }),
    );
  }
  const refused = attempts.filter((a) => !a.rerun && !('error' in a)).length;
  const failed = attempts.length - started.length - refused;
  const endedBadly = [...ended.values()].filter((e) => e.status !== 'COMPLETED').length;
  const summary = {
    started: started.length,
    refused,
    failed,
    skipped,
    ...(options.wait ? { ended: countBy([...ended.values()].map(endKey)) } : {}),
  };
  if (options.json)
    io.out(JSON.stringify({ dryRun: false, results: attempts.map((a) => attemptJson(a, ended)), summary }));
  else io.out(summaryLine(summary));

  const problems: Array<RefusalReason | 'error'> = attempts.flatMap((a) =>
    a.rerun ? [] : ['error' in a ? 'error' : a.reason],
  );
  if (endedBadly) problems.push('error');
  return problems.length ? refusalExitCode(problems) : EXIT.ok;
}

/** Waits for the started run to close, then reads its status and search attributes. */
async function runEnd(client: Client, started: Started): Promise<OrderRun> {
  const handle = client.workflow.getHandle(started.workflowId, started.runId);
  await handle.result().catch((err: unknown) => {
    // A failed (timed-out, terminated…) run is an outcome to report, not an error of the CLI.
    if (!(err instanceof WorkflowFailedError)) throw err;
  });
  return orderRun(started.orderId, await handle.describe());
}

/** `sent`, `duplicate`, or the status when it did not complete: `FAILED`, `TERMINATED`… */
const endKey = (end: OrderRun) => (end.status === 'COMPLETED' ? (end.outcome ?? 'completed') : end.status);

const endText = (end: OrderRun) =>
  end.status === 'COMPLETED' ? `outcome ${end.outcome ?? '-'}` : describeRun(end);

function countBy(keys: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const key of keys) counts[key] = (counts[key] ?? 0) + 1;
  return counts;
}

function summaryLine(s: {
  started: number;
  refused: number;
  failed: number;
  skipped: number;
  ended?: Record<string, number>;
}): string {
  const ended = s.ended
    ? `; ended: ${
        Object.entries(s.ended)
          .map(([key, n]) => `${n} ${key}`)
          .join(', ') || 'none'
      }`
    : '';
  return `summary: ${s.started} started, ${s.refused} refused, ${s.failed} failed, ${s.skipped} skipped${ended}`;
}

function attemptLine(a: Attempt): string {
  if (a.rerun) return `rerun ${a.orderId}  new run ${a.runId} (was ${a.why}; run ${a.rerunOf.runId})`;
  if ('error' in a) return `error ${a.orderId}: ${a.error}`;
  return `refused ${a.orderId}: ${a.reason}: ${a.message}`;
}

function attemptJson(a: Attempt, ended: Map<string, OrderRun>) {
  if (!a.rerun)
    return 'error' in a
      ? a
      : {
          orderId: a.orderId,
          rerun: false,
          reason: a.reason,
          message: a.message,
          workflowStatus: a.run?.status ?? null,
        };
  const end = ended.get(a.orderId);
  return {
    orderId: a.orderId,
    rerun: true,
    workflowId: a.workflowId,
    runId: a.runId,
    rerunOf: orderRunJson(a.rerunOf),
    ...(end ? { ended: orderRunJson(end) } : {}),
  };
}

/** `[##########----------]  5/10  1 failed`, redrawn in place on a terminal, a line per step otherwise. */
function progressBar(total: number, io: OpsIo): (done: number, failed: number) => void {
  const width = 30;
  const draw = (done: number, failed: number) => {
    const filled = total ? Math.round((done / total) * width) : width;
    const line = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total}${failed ? `  ${failed} failed` : ''}`;
    io.err(io.tty ? `\r${line}` : `${line}\n`);
  };
  draw(0, 0);
  return draw;
}
