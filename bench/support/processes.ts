import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * The real roles as real processes, for the benches and the chaos suite: each child's output goes to
 * a log file, and every child still running is killed when this process exits, whatever the way out.
 */
export const ROOT = path.resolve(__dirname, '../..');

const children = new Set<ChildProcess>();
export function killChildren(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}
process.on('exit', killChildren);

export interface Role {
  name: string;
  child: ChildProcess;
}

export interface SpawnOptions {
  /**
   * The entry: a TypeScript file run by node with tsx's loader (not the tsx CLI, whose grandchild
   * would outlive a SIGKILL), or compiled JavaScript (.js) run by node alone.
   */
  entry: string;
  env: Record<string, string>;
  logDir: string;
}

/**
 * The V8 flags production runs every role with (the Dockerfile's NODE_OPTIONS, `npm run
 * start:worker`): a 4 MB young generation keeps the worker's RSS down with many orders open
 * (README, Benchmarks). The bench runs its roles the same way; test/unit/bench checks they agree.
 */
export const PRODUCTION_NODE_OPTIONS = '--max-semi-space-size=4';

export function spawnRole(name: string, options: SpawnOptions): Role {
  const out = fs.openSync(path.join(options.logDir, `${name}.log`), 'a');
  const args = options.entry.endsWith('.js') ? [options.entry] : ['--import', 'tsx', options.entry];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...options.env },
    stdio: ['ignore', out, out],
  });
  fs.closeSync(out);
  children.add(child);
  child.once('exit', () => children.delete(child));
  return { name, child };
}

export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** SIGTERM (the roles drain), SIGKILL after 10 s. */
export async function stopRole(role: Role): Promise<void> {
  if (role.child.exitCode !== null || role.child.signalCode !== null) return;
  const timer = setTimeout(() => role.child.kill('SIGKILL'), 10_000);
  role.child.kill('SIGTERM');
  await exited(role.child);
  clearTimeout(timer);
}

/** Polls `url` until it answers 2xx; fails early when `role` exits, or after `timeoutMs`. */
export async function waitUntilHealthy(
  url: string,
  role: Role,
  logDir: string,
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (role.child.exitCode !== null || role.child.signalCode !== null)
      throw new Error(`${role.name} exited; see ${path.join(logDir, `${role.name}.log`)}`);
    const ok = await fetch(url, { signal: AbortSignal.timeout(2_000) })
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${url} not ready after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Resident memory of a process and all its descendants in MB (Linux /proc; null elsewhere or once
 * the process is gone): a loader that runs the script in a child process must not hide its memory.
 */
export function treeRssMb(pid: number): number | null {
  const status = (p: number): string | null => {
    try {
      return fs.readFileSync(`/proc/${p}/status`, 'utf8');
    } catch {
      return null;
    }
  };
  if (status(pid) === null) return null;
  const parentOf = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const ppid = /^PPid:\s+(\d+)/m.exec(status(Number(entry)) ?? '')?.[1];
    if (ppid) parentOf.set(Number(ppid), [...(parentOf.get(Number(ppid)) ?? []), Number(entry)]);
  }
  let kb = 0;
  for (const queue = [pid]; queue.length > 0;) {
    const p = queue.pop()!;
    kb += Number(/^VmRSS:\s+(\d+) kB/m.exec(status(p) ?? '')?.[1] ?? 0);
    queue.push(...(parentOf.get(p) ?? []));
  }
  return Math.round(kb / 1024);
}
