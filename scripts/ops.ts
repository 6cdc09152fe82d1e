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
    // The SDK retries an unreachable server for a long time: say so at once instead of hanging.
    const connect = async () => {
      await temporal.ping(10_000).catch((err: unknown) => {
        throw new Error(
          `Temporal at ${config.temporal.address} (namespace ${config.temporal.namespace}) did not answer: ${err instanceof Error ? err.message : String(err)}`,
        );
      });
      return temporal.client;
    };
    return await opsRerun(connect, args, {
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
