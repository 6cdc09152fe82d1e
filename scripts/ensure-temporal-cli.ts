import { ensureTemporalCli } from './temporal-cli';

/** `npm run temporal:cli`: provisions the pinned Temporal CLI if needed and prints its path. */
ensureTemporalCli((msg) => console.error(msg)).then(
  (bin) => console.log(bin),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
