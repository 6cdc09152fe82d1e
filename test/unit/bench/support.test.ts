import { spawn } from 'node:child_process';
import { normalizePhone } from '../../../domain/phone';
import fs from 'node:fs';
import path from 'node:path';
import {
  PRODUCTION_MALLOC_ARENA_MAX,
  PRODUCTION_NODE_OPTIONS,
  ROOT,
  treeCpuMs,
  treeRssMb,
} from '../../../bench/support/processes';
import { percentile, percentiles, phoneFor } from '../../../bench/support/stats';

describe('bench statistics', () => {
  test('percentiles are nearest-rank over the sorted values', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 … 1, unsorted on purpose
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 95)).toBe(95);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentiles([])).toEqual({ p50: null, p95: null, p99: null, count: 0 });
    expect(percentiles([1.4, 2.6])).toEqual({ p50: 1, p95: 3, p99: 3, count: 2 });
  });

  test('bench customers are distinct, valid E.164 numbers', () => {
    const phones = Array.from({ length: 12_000 }, (_, i) => phoneFor(i));
    expect(new Set(phones).size).toBe(phones.length);
    for (const phone of [phones[0], phones[4999], phones[5000], phones[11_999]]) {
      const result = normalizePhone(phone);
      expect(result).toMatchObject({ ok: true });
    }
  });
});

describe('treeRssMb', () => {
  const linux = process.platform === 'linux' ? test : test.skip;

  linux('counts the descendants a process spawned, not only the process itself', async () => {
    const before = treeRssMb(process.pid)!;
    // A child that holds ~150 MB resident until it is killed.
    const child = spawn(
      process.execPath,
      [
        '-e',
        "const b = Buffer.alloc(150 * 2 ** 20, 1); console.log('ready'); setInterval(() => b[0]++, 1000);",
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
      expect(treeRssMb(child.pid!)).toBeGreaterThan(150);
      // Counting this process alone would miss the child's 150 MB.
      expect(treeRssMb(process.pid)! - before).toBeGreaterThan(120);
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('is null for a process that does not exist', () => {
    expect(treeRssMb(2 ** 22 + 1)).toBeNull();
  });
});

describe('treeCpuMs', () => {
  const linux = process.platform === 'linux' ? test : test.skip;

  linux("counts a child's CPU time in its parent's tree", async () => {
    // A child that spins for 300 ms of CPU, then idles until it is killed.
    const child = spawn(
      process.execPath,
      [
        '-e',
        "const end = process.cpuUsage().user + 300e3; while (process.cpuUsage().user < end); console.log('spun'); setInterval(() => {}, 1000);",
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
      expect(treeCpuMs(child.pid!)).toBeGreaterThanOrEqual(300);
      expect(treeCpuMs(process.pid)).toBeGreaterThanOrEqual(treeCpuMs(child.pid!)!);
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('is null for a process that does not exist', () => {
    expect(treeCpuMs(2 ** 22 + 1)).toBeNull();
  });
});

test('the bench runs its roles with the V8 flags and malloc arenas production uses (Dockerfile, npm run start:worker)', () => {
  const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  expect(dockerfile).toContain(`NODE_OPTIONS=${PRODUCTION_NODE_OPTIONS} `);
  expect(dockerfile).toContain(`MALLOC_ARENA_MAX=${PRODUCTION_MALLOC_ARENA_MAX} `);
  const scripts = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts as Record<
    string,
    string
  >;
  expect(scripts['start:worker']).toContain(
    `MALLOC_ARENA_MAX=\${MALLOC_ARENA_MAX:-${PRODUCTION_MALLOC_ARENA_MAX}} node ${PRODUCTION_NODE_OPTIONS} `,
  );
});
