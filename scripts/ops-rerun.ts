import { orderRunJson } from '../temporal/order-runs';
import { checkOrderRerun, describeRun, findRerunCandidates } from '../temporal/rerun';
import {
  EXIT,
  EXIT_CODES_TEXT,
  OPS,
  orderIdArg,
  parseOptions,
  positiveIntArg,
  runCommand,
  sinceArg,
  UsageError,
  type Connect,
  type OpsCommand,
  type OpsIo,
} from './ops-common';
import { refusalExitCode, rerunAndReport } from './ops-rerun-batch';

export type { OpsIo } from './ops-common';

export const RERUN_USAGE = `usage:
  ${OPS} rerun --order <OrderId> [--yes [--wait]] [--json]
  ${OPS} rerun --failed-since <ISO time> [--venue <VenueId>] [--error-code <code>]
                       [--limit <n>] [--rate <per second>] [--yes [--wait]] [--json]
Without --yes nothing is started: each order that would be rerun is listed with why.
  --yes    rerun them, at most --rate per second (default 2, max 50); a summary line ends the output
  --wait   then watch every started run to its end and print its outcome (exit 1 if one fails again)
  --json   one JSON document instead of lines (the progress bar stays on stderr)
${EXIT_CODES_TEXT}`;

/** Reruns per second by default: gentle on the providers a recovered outage has just come back to. */
const DEFAULT_RATE = 2;
const MAX_RATE = 50;

export const rerunCommand: OpsCommand = {
  name: 'rerun',
  summary: 'rerun one failed order, or every failed order since a time (dry run without --yes)',
  usage: RERUN_USAGE,
  run: rerun,
};

/** The rerun command as `ops rerun …` runs it (tests call it in process with their own io). */
export function opsRerun(connect: Connect, args: string[], io: OpsIo): Promise<number> {
  return runCommand(rerunCommand, connect, args, io);
}

async function rerun(connect: Connect, args: string[], io: OpsIo): Promise<number> {
  const { values } = parseOptions(args, {
    order: { type: 'string' },
    'failed-since': { type: 'string' },
    venue: { type: 'string' },
    'error-code': { type: 'string' },
    limit: { type: 'string' },
    rate: { type: 'string' },
    yes: { type: 'boolean', default: false },
    wait: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  });
  const rate = values.rate === undefined ? DEFAULT_RATE : Number(values.rate);
  if (!(rate > 0 && rate <= MAX_RATE)) throw new UsageError(`--rate must be a number in (0, ${MAX_RATE}]`);
  if (values.wait && !values.yes) throw new UsageError('--wait watches the runs --yes starts: add --yes');
  const run = { rate, wait: values.wait, json: values.json };

  if (values.order !== undefined) {
    if (
      values['failed-since'] !== undefined ||
      values.venue !== undefined ||
      values['error-code'] !== undefined
    )
      throw new UsageError('--order names one order: it takes no batch filters');
    const orderId = orderIdArg(values.order, '--order');
    const client = await connect();
    if (values.yes) return rerunAndReport(client, [orderId], run, io);
    const check = await checkOrderRerun(client, orderId);
    if (values.json) {
      io.out(
        JSON.stringify({
          dryRun: true,
          candidates: check.rerunnable ? [{ ...orderRunJson(check.run), why: check.why }] : [],
          skipped: [],
          refused: check.rerunnable ? [] : [{ orderId, reason: check.reason, message: check.message }],
        }),
      );
    } else if (check.rerunnable) {
      io.out(`would rerun ${check.run.orderId}  ${check.why}`);
      io.out('dry run: 1 order would be rerun; add --yes to rerun it');
    } else {
      io.out(`refused ${orderId}: ${check.reason}: ${check.message}`);
    }
    return check.rerunnable ? EXIT.ok : refusalExitCode([check.reason]);
  }

  if (values['failed-since'] === undefined) throw new UsageError('give --order or --failed-since');
  const failedSince = sinceArg(values['failed-since'], '--failed-since');
  const venueId = positiveIntArg(values.venue, '--venue');
  const limit = positiveIntArg(values.limit, '--limit') ?? 500;

  // Connected only once the arguments are known to be good: a usage error never waits on Temporal.
  const client = await connect();
  const listing = await findRerunCandidates(client, {
    failedSince,
    venueId,
    errorCode: values['error-code'],
    limit,
  });
  if (!values.json)
    for (const { run, reason } of listing.skipped)
      io.out(`skip ${run.orderId}  ${describeRun(run)}: ${reason}`);
  if (values.yes)
    return rerunAndReport(
      client,
      listing.candidates.map((c) => c.run.orderId),
      run,
      io,
      listing.skipped.length,
    );
  if (values.json) {
    io.out(
      JSON.stringify({
        dryRun: true,
        candidates: listing.candidates.map(({ run, why }) => ({ ...orderRunJson(run), why })),
        skipped: listing.skipped.map(({ run, reason }) => ({ ...orderRunJson(run), reason })),
        refused: [],
      }),
    );
    return EXIT.ok;
  }
  for (const { run, why } of listing.candidates) io.out(`would rerun ${run.orderId}  ${why}`);
  io.out(
    `dry run: ${listing.candidates.length} order(s) would be rerun, ${listing.skipped.length} skipped` +
      (listing.candidates.length ? '; add --yes to rerun them' : ''),
  );
  return EXIT.ok;
}
