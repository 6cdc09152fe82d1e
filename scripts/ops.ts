import { loadConfigOrExit } from '../config';
import { connectTemporalClient } from '../temporal/client';
import { opsRerun, RERUN_USAGE } from './ops-rerun';

/**
 * `npm run ops -- <command> ...`: operator commands against the configured Temporal namespace.
 * The client comes from connectTemporalClient, so it reads (and decodes) payloads like the API.
 */
async function main(): Promise<number> {
  const [command, ...args] = process.argv.slice(2);
  if (command !== 'rerun') {
    process.stderr.write(`unknown command ${command ?? '(none)'}\n${RERUN_USAGE}\n`);
    return 64;
  }
  const config = loadConfigOrExit();
  const temporal = connectTemporalClient(config.temporal);
  try {
    return await opsRerun(temporal.client, args, {
      out: (line) => process.stdout.write(`${line}\n`),
      err: (text) => process.stderr.write(text),
      tty: process.stderr.isTTY,
    });
  } finally {
    await temporal.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
