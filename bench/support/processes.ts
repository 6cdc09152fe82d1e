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
  /** Run under V8's CPU profiler; the profile is written to this folder when the role exits cleanly. */
  cpuProfDir?: string;
}

/**
 * The V8 flags production runs every role with (the Dockerfile's NODE_OPTIONS, `npm run
 * start:worker`): a 4 MB young generation keeps the worker's RSS down with many orders open
 * (README, Benchmarks). The bench runs its roles the same way; test/unit/bench checks they agree.
 */
export const PRODUCTION_NODE_OPTIONS = '--max-semi-space-size=4';

/**
 * glibc's malloc arenas production allows per process (the Dockerfile, `npm run start:worker`):
 * the worker's Rust and V8 threads otherwise each grow an arena of their own (README, Benchmarks).
 */
export const PRODUCTION_MALLOC_ARENA_MAX = '2';

/** The environment production starts every role with, for the bench's roles. */
export const PRODUCTION_ENV = {
  NODE_OPTIONS: PRODUCTION_NODE_OPTIONS,
  MALLOC_ARENA_MAX: PRODUCTION_MALLOC_ARENA_MAX,
};

export function spawnRole(name: string, options: SpawnOptions): Role {
  const out = fs.openSync(path.join(options.logDir, `${name}.log`), 'a');
  const entry = options.entry.endsWith('.js') ? [options.entry] : ['--import', 'tsx', options.entry];
  const profile = options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`] : [];
  const args = [...profile, ...entry];
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
  const pids = processTree(pid);
  if (pids === null) return null;
  const kb = pids.reduce(
    (sum, p) => sum + Number(/^VmRSS:\s+(\d+) kB/m.exec(procStatus(p) ?? '')?.[1] ?? 0),
    0,
  );
  return Math.round(kb / 1024);
}

/** CPU time (user + system) a process and its live descendants have used, in ms; null once it is gone. */
export function treeCpuMs(pid: number): number | null {
  const pids = processTree(pid);
  if (pids === null) return null;
  let ticks = 0;
  for (const p of pids) {
    try {
      // Fields after the command (which may hold spaces): utime and stime are the 12th and 13th.
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited meanwhile
    }
  }
  return ticks * (1000 / CLOCK_TICKS_PER_SECOND);
}

/** USER_HZ: 100 on every Linux this runs on (sysconf(_SC_CLK_TCK)). */
const CLOCK_TICKS_PER_SECOND = 100;

function procStatus(p: number): string | null {
  try {
    return fs.readFileSync(`/proc/${p}/status`, 'utf8');
  } catch {
    return null;
  }
}

/** `pid` and all its descendants (Linux /proc), or null when `pid` is not running. */
function processTree(pid: number): number[] | null {
  if (procStatus(pid) === null) return null;
  const parentOf = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const ppid = /^PPid:\s+(\d+)/m.exec(procStatus(Number(entry)) ?? '')?.[1];
    if (ppid) parentOf.set(Number(ppid), [...(parentOf.get(Number(ppid)) ?? []), Number(entry)]);
  }
  const out: number[] = [];
  for (const queue = [pid]; queue.length > 0;) {
    const p = queue.pop()!;
    out.push(p);
    queue.push(...(parentOf.get(p) ?? []));
  }
  return out;
}
