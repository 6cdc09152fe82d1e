import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import pretty from 'pino-pretty';
import { LOCAL_API_TOKEN, loadConfigOrExit, metricsPort } from '../config';
import { createKnex, redactDatabaseUrl } from '../db/knex';
import { migrateLatest } from '../db/migrate';
import { assertSupportedNode } from './node-version';
import { ensureTemporalCli, startDevServer, type DevServer } from './temporal-cli';

const ROOT = path.resolve(__dirname, '..');
const UI_PORT = 8233;

/**
 * `npm start`: the whole service on embedded defaults — a Temporal dev server with its Web UI (state
 * in ./data), the SQLite database, the worker and the API — and Ctrl-C stops all of it.
 */
async function main(): Promise<void> {
  assertSupportedNode();
  const config = loadConfigOrExit();
  const children: ChildProcess[] = [];
  let devServer: DevServer | undefined;
  let stopping = false;

  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping…');
    await Promise.all(children.map((c) => stopChild(c)));
    await devServer?.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  const [host, port] = splitAddress(config.temporal.address);
  // The UI decrypts payloads through the API (its browser calls it: CODEC_CORS_ORIGINS lets it).
  const codecEndpoint = `http://localhost:${config.api.port}/codec`;
  let uiUrl: string | undefined;
  if (await isListening(host, port)) {
    console.log(`using the Temporal server already at ${config.temporal.address}`);
  } else {
    const cliPath = await ensureTemporalCli((msg) => console.log(msg));
    devServer = await startDevServer({
      cliPath,
      ip: host,
      port,
      uiPort: UI_PORT,
      dbFilename: path.join(ROOT, 'data', 'temporal.sqlite'),
      namespace: config.temporal.namespace,
      uiCodecEndpoint: codecEndpoint,
      log: (msg) => console.log(msg),
    });
    uiUrl = devServer.uiUrl;
  }

  const knex = createKnex(config.databaseUrl, config.databaseAuth);
  const applied = await migrateLatest(knex);
  await knex.destroy();
  console.log(`database ${redactDatabaseUrl(config.databaseUrl)}: ${applied.length} migration(s) applied`);

  // Readable lines on a terminal; JSON, as in production, when the output goes to a file or a pipe.
  const prettyLogs = process.stdout.isTTY && process.env.LOG_FORMAT !== 'json';
  // The bridge joins when Service Bus is configured; otherwise the API's local ingress is the way in.
  const roles = config.serviceBus ? (['worker', 'api', 'bridge'] as const) : (['worker', 'api'] as const);
  for (const role of roles) {
    // node with tsx's loader rather than the tsx CLI, whose grandchild would outlive a SIGKILL.
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, `${role === 'worker' ? 'workers' : role}/main.ts`)],
      {
        cwd: ROOT,
        env: process.env,
        stdio: ['ignore', prettyLogs ? 'pipe' : 'inherit', 'inherit'],
      },
    );
    if (prettyLogs)
      child.stdout?.pipe(
        pretty({ colorize: true, singleLine: true, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss.l' }),
      );
    child.on('exit', (code, signal) => {
      if (!stopping) {
        console.error(`${role} exited (${signal ?? code}); stopping the stack`);
        void stop(1);
      }
    });
    children.push(child);
  }

  const api = `http://localhost:${config.api.port}`;
  console.log(
    [
      '',
      'SMS order-confirmation service is starting:',
      `  API            ${api}  (OpenAPI: ${api}/docs, readiness: ${api}/health/ready)`,
      `  Temporal UI    ${uiUrl ?? `http://localhost:${UI_PORT}`}  (payloads decoded through ${codecEndpoint}${devServer ? '' : ": set it under the UI's Data Encoder settings"})`,
      `  Temporal       ${config.temporal.address}  namespace ${config.temporal.namespace}, task queue ${config.temporal.taskQueue}`,
      `  Database       ${redactDatabaseUrl(config.databaseUrl)}`,
      `  Provider       ${config.sms.provider}`,
      `  Metrics        ${api}/metrics (bearer token), worker http://localhost:${metricsPort(config, 'worker')}/metrics` +
        (config.metrics.temporalPort > 0
          ? `, Temporal SDK http://localhost:${config.metrics.temporalPort}/metrics`
          : '') +
        (config.serviceBus ? `, bridge http://localhost:${metricsPort(config, 'bridge')}/metrics` : ''),
      config.serviceBus
        ? `  Service Bus    topic ${config.serviceBus.topic}, subscription ${config.serviceBus.subscription} (bridge health: http://localhost:${config.serviceBus.healthPort}/health/ready)`
        : '  Service Bus    not configured: events arrive through POST /api/events/send-order-confirmation-sms',
      // Only the documented local token is printed; a real one from .env stays out of the terminal.
      config.api.token === LOCAL_API_TOKEN
        ? `  API token      ${config.api.token}  (Authorization: Bearer …, for every /api route)`
        : '  API token      from API_TOKEN (not printed)',
      '',
      'Try `npm run demo` in another terminal. Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
}

function splitAddress(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i), Number(address.slice(i + 1))];
}

function isListening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
