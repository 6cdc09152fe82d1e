import { moduleOf, summarizeProfile, type CpuProfile } from '../../../bench/support/cpu-profile';

describe('CPU profile summary', () => {
  test('a function belongs to its package, our folder, Node or V8', () => {
    expect(moduleOf('file:///app/node_modules/@temporalio/worker/lib/worker.js', 'run')).toBe(
      '@temporalio/worker',
    );
    expect(moduleOf('/app/node_modules/.pnpm/x/node_modules/better-sqlite3/lib/index.js', 'f')).toBe(
      'better-sqlite3',
    );
    expect(moduleOf('file:///app/dist/activities/consent.js', 'checkConsent')).toBe('ours: activities');
    expect(moduleOf('node:internal/streams/readable', 'read')).toBe('node:internal/streams');
    expect(moduleOf('node:events', 'emit')).toBe('node:events');
    expect(moduleOf('', '(garbage collector)')).toBe('(garbage collector)');
    expect(moduleOf('', 'writev')).toBe('(native)');
  });

  test('self time by module inside the window, idle apart', () => {
    const frame = (functionName: string, url = '') => ({ functionName, url });
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2, 3, 4] },
        { id: 2, callFrame: frame('(idle)') },
        { id: 3, callFrame: frame('query', 'file:///app/node_modules/knex/lib/a.js') },
        { id: 4, callFrame: frame('checkConsent', 'file:///app/activities/consent.ts') },
      ],
      startTime: 1_000_000,
      endTime: 1_010_000,
      // Samples at 1,001,000 (idle), 1,002,000 (knex), 1,004,000 (ours), 1,005,000 (knex), 1,009,000 (idle).
      samples: [2, 3, 4, 3, 2],
      timeDeltas: [1_000, 1_000, 2_000, 1_000, 4_000],
    };
    expect(summarizeProfile(profile)).toEqual({
      busyMs: 7, // a sample stands until the next: knex 2 + 4, ours 1
      idleMs: 1,
      byModule: [
        { module: 'knex', ms: 6 },
        { module: 'ours: activities', ms: 1 },
      ],
    });
    // From 1,003,000: the first knex sample is outside; until 1,006,000: the last idle one too.
    expect(summarizeProfile(profile, { fromUs: 1_003_000, toUs: 1_006_000 })).toEqual({
      busyMs: 5,
      idleMs: 0,
      byModule: [
        { module: 'knex', ms: 4 },
        { module: 'ours: activities', ms: 1 },
      ],
    });
  });
});
