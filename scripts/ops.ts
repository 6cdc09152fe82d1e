import type { Client } from '@temporalio/client';
import { loadConfigOrExit } from '../config';
import { connectTemporalClient, type TemporalClientHandle } from '../temporal/client';
import {
  EXIT,
  EXIT_CODES_TEXT,
  exitCodeFor,
  OPS,
  runCommand,
  TemporalUnavailableError,
  type OpsCommand,
  type OpsIo,
} from './ops-common';
import { failedCommand } from './ops-failed';
import { rerunCommand } from './ops-rerun';
import { flagsCommand, pauseCommand, pausesCommand, resumeCommand } from './ops-rollout';
import { statusCommand } from './ops-status';

/**
 * The ops CLI: `node dist/scripts/ops.js <command> …` in the image (`npm run ops:prod --` after a
 * build), `npm run ops -- <command> …` in a checkout. Operator commands against the configured
 * Temporal namespace; the client comes from connectTemporalClient, so it reads (and decodes)
 * payloads like the API.
 */
const COMMANDS: OpsCommand[] = [
  failedCommand,
  statusCommand,
  rerunCommand,
  flagsCommand,
  pauseCommand,
  resumeCommand,
  pausesCommand,
];

const USAGE = `usage: ${OPS} <command> [options]     (in a checkout: npm run ops -- <command> [options])
commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(8)}${c.summary}`).join('\n')}
  help     ${OPS} help <command>, or <command> --help: that command's usage
Temporal and the payload codec come from the environment (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS /
API key, PAYLOAD_CODEC_KEYS), as for the API. flags, pause, resume and pauses call the API instead:
API_URL (default http://127.0.0.1:$PORT) with API_TOKEN; their exit codes are in their --help.
${EXIT_CODES_TEXT}`;

/** How long to wait for Temporal's first answer: the SDK would otherwise retry an unreachable server for a long time. */
const CONNECT_TIMEOUT_MS = 10_000;

export async function main(argv: string[], io: OpsIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined) {
    io.err(`name a command\n${USAGE}\n`);
    return EXIT.usage;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? args[0] : undefined;
    if (topic === undefined) {
      io.out(USAGE);
      return EXIT.ok;
    }
    const command = COMMANDS.find((c) => c.name === topic);
    if (command) io.out(command.usage);
    else io.err(`unknown command ${topic}\n${USAGE}\n`);
    return command ? EXIT.ok : EXIT.usage;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(`unknown command ${name}\n${USAGE}\n`);
    return EXIT.usage;
  }
  let temporal: TemporalClientHandle | undefined;
  const connect = async (): Promise<Client> => {
    const config = loadConfigOrExit();
    temporal = connectTemporalClient(config.temporal);
    await temporal.ping(CONNECT_TIMEOUT_MS).catch((err: unknown) => {
      throw new TemporalUnavailableError(
        `Temporal at ${config.temporal.address} (namespace ${config.temporal.namespace}) did not answer: ${err instanceof Error ? err.message : String(err)}`,
      );
    });
    return temporal.client;
  };
  try {
    return await runCommand(command, connect, args, io);
  } finally {
    await temporal?.close();
  }
}

if (require.main === module) {
  main(process.argv.slice(2), {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (text) => process.stderr.write(text),
    tty: process.stderr.isTTY,
  }).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(exitCodeFor(err));
    },
  );
}
