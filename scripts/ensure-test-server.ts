import { ensureTestServer } from './test-server';

/** `npm run temporal:test-server`: provisions the pinned time-skipping test server if needed and prints its launcher. */
ensureTestServer((msg) => console.error(msg)).then(
  (bin) => console.log(bin),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
