import { parseArgs } from 'node:util';
import type { Client } from '@temporalio/client';
import {
  checkOrderRerun,
  describeRun,
  findRerunCandidates,
  rerunOrder,
  type OrderRun,
  type RerunResult,
} from '../temporal/rerun';

export const RERUN_USAGE = `usage:
  npm run ops -- rerun --order <OrderId> [--yes]
  npm run ops -- rerun --failed-since <ISO time> [--venue <VenueId>] [--error-code <code>]
                       [--limit <n>] [--rate <per second>] [--yes]
Without --yes nothing is started: each order that would be rerun is listed with why.`;

/** Reruns per second by default: gentle on the providers a recovered outage has just come back to. */
const DEFAULT_RATE = 2;
const MAX_RATE = 50;

export interface OpsIo {
  /** One line per order: the listing or the result (stdout, for scripts and pipes). */
  out(line: string): void;
  /** Progress and messages for the person at the terminal (stderr). */
  err(text: string): void;
  /** Whether stderr is a terminal, so the progress bar can redraw one line instead of printing many. */
  tty?: boolean;
  /** Waits between reruns; tests pass one that does not wait. */
  sleep?: (ms: number) => Promise<void>;
}

/** Exit codes: 0 done (or nothing to do), 1 some order was refused or failed, 64 bad usage. */
export async function opsRerun(connect: () => Promise<Client>, args: string[], io: OpsIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        order: { type: 'string' },
        'failed-since': { type: 'string' },
        venue: { type: 'string' },
        'error-code': { type: 'string' },
        limit: { type: 'string' },
        rate: { type: 'string' },
        yes: { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    io.err(`${err instanceof Error ? err.message : String(err)}\n${RERUN_USAGE}\n`);
    return 64;
  }
  const usage = (problem: string) => {
    io.err(`${problem}\n${RERUN_USAGE}\n`);
    return 64;
  };
  const rate = values.rate === undefined ? DEFAULT_RATE : Number(values.rate);
  if (!(rate > 0 && rate <= MAX_RATE)) return usage(`--rate must be a number in (0, ${MAX_RATE}]`);

  if (values.order !== undefined) {
    if (
      values['failed-since'] !== undefined ||
      values.venue !== undefined ||
      values['error-code'] !== undefined
    )
      return usage('--order names one order: it takes no batch filters');
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(values.order))
      return usage('--order must be an OrderId (uuid)');
    return rerunOne(await connect(), values.order, values.yes, io);
  }

  if (values['failed-since'] === undefined) return usage('give --order or --failed-since');
  const failedSince = new Date(values['failed-since']);
  if (Number.isNaN(failedSince.getTime())) return usage('--failed-since must be an ISO-8601 time');
  const venueId = values.venue === undefined ? undefined : Number(values.venue);
  if (venueId !== undefined && !(Number.isInteger(venueId) && venueId > 0))
    return usage('--venue must be a positive integer');
  const limit = values.limit === undefined ? 500 : Number(values.limit);
  if (!(Number.isInteger(limit) && limit > 0)) return usage('--limit must be a positive integer');

  // Connected only once the arguments are known to be good: a usage error never waits on Temporal.
  const client = await connect();
  const listing = await findRerunCandidates(client, {
    failedSince,
    venueId,
    errorCode: values['error-code'],
    limit,
  });
  for (const { run, reason } of listing.skipped)
    io.out(`skip ${run.orderId}  ${describeRun(run)}: ${reason}`);
  if (!values.yes) {
    for (const { run, why } of listing.candidates) io.out(`would rerun ${run.orderId}  ${why}`);
    io.out(
      `dry run: ${listing.candidates.length} order(s) would be rerun, ${listing.skipped.length} skipped` +
        (listing.candidates.length ? '; add --yes to rerun them' : ''),
    );
    return 0;
  }
  return rerunBatch(
    client,
    listing.candidates.map((c) => c.run),
    rate,
    io,
  );
}

async function rerunOne(client: Client, orderId: string, yes: boolean, io: OpsIo): Promise<number> {
  if (!yes) {
    const check = await checkOrderRerun(client, orderId);
    if (!check.rerunnable) {
      io.out(`refused ${orderId.toLowerCase()}: ${check.reason}: ${check.message}`);
      return 1;
    }
    io.out(`would rerun ${check.run.orderId}  ${check.why}`);
    io.out('dry run: 1 order would be rerun; add --yes to rerun it');
    return 0;
  }
  const result = await rerunOrder(client, orderId, 'ops-cli');
  io.out(resultLine(result));
  return result.rerun ? 0 : 1;
}

function resultLine(result: RerunResult): string {
  return result.rerun
    ? `rerun ${result.orderId}  new run ${result.runId} (was ${result.why}; run ${result.rerunOf.runId})`
    : `refused ${result.orderId}: ${result.reason}: ${result.message}`;
}

/**
 * One rerun at a time, no faster than `rate` per second: a batch after an outage is often hundreds
 * of orders, and the provider that just recovered should not get them all in the same second (the
 * send queue's own rate limit paces the SMS; this paces the starts and the first activities).
 */
async function rerunBatch(client: Client, runs: OrderRun[], rate: number, io: OpsIo): Promise<number> {
  const sleep = io.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const interval = 1000 / rate;
  const bar = progressBar(runs.length, io);
  let failed = 0;
  for (const [i, run] of runs.entries()) {
    const startedAt = Date.now();
    try {
      const result = await rerunOrder(client, run.orderId, 'ops-cli');
      if (!result.rerun) failed += 1;
      io.out(resultLine(result));
    } catch (err) {
      failed += 1;
      io.out(`error ${run.orderId}: ${err instanceof Error ? err.message : String(err)}`);
    }
    bar(i + 1, failed);
    const wait = interval - (Date.now() - startedAt);
    if (i < runs.length - 1 && wait > 0) await sleep(wait);
  }
  io.err(`\n${runs.length - failed} rerun, ${failed} refused or failed\n`);
  return failed ? 1 : 0;
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
