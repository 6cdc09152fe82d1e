import { orderRunJson } from '../temporal/order-runs';
import { findRerunCandidates } from '../temporal/rerun';
import {
  EXIT,
  EXIT_CODES_TEXT,
  OPS,
  parseOptions,
  positiveIntArg,
  sinceArg,
  UsageError,
  type OpsCommand,
} from './ops-common';

const USAGE = `usage: ${OPS} failed --since <ISO time> [--venue <VenueId>] [--error-code <code>] [--limit <n>] [--json]
Lists the orders whose latest run failed (Failed or TimedOut) and closed since the given time: order id,
close time, error code (SmsErrorCode), venue. These are what \`rerun --failed-since\` with the same
filters would rerun. An order rerun since is not listed (the last line counts them).
  --limit  at most this many orders (default 500)
  --json   one JSON document: { since, orders: [...], rerunSince: [...] }
${EXIT_CODES_TEXT}`;

export const failedCommand: OpsCommand = {
  name: 'failed',
  summary: 'list failed orders since a time, with their error codes',
  usage: USAGE,
  async run(connect, args, io) {
    const { values } = parseOptions(args, {
      since: { type: 'string' },
      venue: { type: 'string' },
      'error-code': { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean', default: false },
    });
    const since = sinceArg(values.since, '--since');
    const venueId = positiveIntArg(values.venue, '--venue');
    const limit = positiveIntArg(values.limit, '--limit') ?? 500;
    if (values['error-code'] === '') throw new UsageError('--error-code must not be empty');

    // The rerun's own listing: the same visibility query (values quoted) and the same check that
    // each failed run is still its order's latest, so `failed` and a batch dry run never disagree.
    const listing = await findRerunCandidates(await connect(), {
      failedSince: since,
      venueId,
      errorCode: values['error-code'],
      limit,
    });
    const orders = listing.candidates.map(({ run }) => run);
    if (values.json) {
      io.out(
        JSON.stringify({
          since: since.toISOString(),
          orders: orders.map(orderRunJson),
          rerunSince: listing.skipped.map(({ run }) => run.orderId),
        }),
      );
      return EXIT.ok;
    }
    for (const run of orders)
      io.out(
        [
          run.orderId,
          run.status,
          run.closeTime?.toISOString() ?? '-',
          `error ${run.errorCode ?? '-'}`,
          `venue ${run.venueId ?? '-'}`,
        ].join('  '),
      );
    io.out(
      `${orders.length} failed order(s) closed since ${since.toISOString()}` +
        (listing.skipped.length ? `; ${listing.skipped.length} more failed and were rerun since` : ''),
    );
    return EXIT.ok;
  },
};
