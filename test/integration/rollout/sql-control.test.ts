import { createRepositories, type Repositories } from '../../../db';
import { DatabaseError } from '../../../db/errors';
import type { ChangeContext } from '../../../db/rollout-repository';
import { ORDER_CONFIRMATION_SMS_FLAG as FLAG } from '../../../rollout/control';
import { inRollout } from '../../../rollout/evaluate';
import { createRolloutControl } from '../../../rollout/sql-control';
import { createMetrics } from '../../../runtime/metrics';
import { useTestDatabase } from '../../support/db';
import { rejectionOf } from '../../support/rejection';

const db = useTestDatabase();
let repos: Repositories;
beforeEach(async () => {
  repos = createRepositories(db.knex);
  for (const table of ['RolloutAudit', 'RolloutPauses', 'RolloutVenueOverrides', 'RolloutFlags']) {
    await db.knex(table).delete();
  }
});

const ctx = (reason: string, extra: Partial<ChangeContext> = {}): ChangeContext => ({
  actor: 'ops@example.test',
  reason,
  at: new Date('2026-12-03T12:00:00.000Z'),
  requestId: 'req-1',
  ...extra,
});
const outsideTen = Array.from({ length: 1000 }, (_, i) => i + 1).find((v) => !inRollout(FLAG, v, 10)) ?? 0;

describe('the rollout repository', () => {
  test('with no row the flag is on at 100 %', async () => {
    expect(await repos.rollout.flag(FLAG)).toMatchObject({
      enabled: true,
      rolloutPercent: 100,
      stored: false,
    });
    const control = createRolloutControl({ repos, cacheMs: 0 });
    expect(await control.evaluate(outsideTen)).toEqual({ enabled: true, reason: 'in_rollout' });
    expect(await control.pauseFor({ venueId: 1, provider: 'twilio' })).toBeUndefined();
  });

  test('every flag change writes one audit row with who, when, what, from, to, why and the request', async () => {
    await repos.rollout.setFlag(FLAG, { rolloutPercent: 10 }, ctx('start the rollout'));
    await repos.rollout.setFlag(FLAG, { rolloutPercent: 50 }, ctx('step two', { actor: 'alice' }));
    // No change: nothing written, nothing audited.
    const same = await repos.rollout.setFlag(FLAG, { rolloutPercent: 50 }, ctx('again'));
    expect(same.changed).toBe(false);
    await repos.rollout.setFlag(FLAG, { enabled: false }, ctx('bad template', { requestId: undefined }));

    expect(await repos.rollout.flag(FLAG)).toMatchObject({
      enabled: false,
      rolloutPercent: 50,
      stored: true,
      updatedBy: 'ops@example.test',
    });
    const trail = await repos.rollout.auditTrail({ limit: 10 });
    expect(trail.map(({ id: _id, ...rest }) => rest)).toEqual([
      {
        changedAt: new Date('2026-12-03T12:00:00.000Z'),
        changedBy: 'ops@example.test',
        requestId: null,
        subject: `flag:${FLAG}`,
        action: 'flag_set',
        from: { enabled: true, rolloutPercent: 50, stored: true },
        to: { enabled: false, rolloutPercent: 50 },
        reason: 'bad template',
      },
      expect.objectContaining({
        changedBy: 'alice',
        requestId: 'req-1',
        from: { enabled: true, rolloutPercent: 10, stored: true },
        to: { enabled: true, rolloutPercent: 50 },
        reason: 'step two',
      }),
      expect.objectContaining({
        from: { enabled: true, rolloutPercent: 100, stored: false },
        to: { enabled: true, rolloutPercent: 10 },
        reason: 'start the rollout',
      }),
    ]);
  });

  test('venue overrides are set, changed and cleared, each audited', async () => {
    await repos.rollout.setVenueOverride(FLAG, 7, false, ctx('venue asked'));
    await repos.rollout.setVenueOverride(FLAG, 7, true, ctx('venue changed its mind'));
    expect(await repos.rollout.overrides(FLAG)).toEqual([
      expect.objectContaining({ venueId: 7, enabled: true, reason: 'venue changed its mind' }),
    ]);
    expect((await repos.rollout.clearVenueOverride(FLAG, 7, ctx('back to the bucket'))).before).toMatchObject(
      {
        enabled: true,
      },
    );
    expect((await repos.rollout.clearVenueOverride(FLAG, 7, ctx('nothing there'))).before).toBeNull();
    expect(await repos.rollout.overrides(FLAG)).toEqual([]);
    const trail = await repos.rollout.auditTrail({ limit: 10, subjectPrefix: `flag:${FLAG}:venue:` });
    expect(trail.map((e) => [e.action, e.from, e.to])).toEqual([
      ['venue_override_cleared', { enabled: true }, null],
      ['venue_override_set', { enabled: false }, { enabled: true }],
      ['venue_override_set', null, { enabled: false }],
    ]);
  });

  test('pauses by scope: a second pause of one target keeps the first; resume lifts exactly that target', async () => {
    const first = await repos.rollout.pause({ scope: 'global' }, ctx('incident'));
    expect(first.created).toBe(true);
    const again = await repos.rollout.pause({ scope: 'global' }, ctx('incident, again', { actor: 'bob' }));
    expect(again).toMatchObject({
      created: false,
      pause: { reason: 'incident', pausedBy: 'ops@example.test' },
    });
    await repos.rollout.pause({ scope: 'provider', provider: 'twilio' }, ctx('twilio 5xx'));
    await repos.rollout.pause({ scope: 'venue', venueId: 42 }, ctx('venue template'));
    expect((await repos.rollout.pauses()).map((p) => p.target)).toEqual(
      expect.arrayContaining([
        { scope: 'global' },
        { scope: 'provider', provider: 'twilio' },
        { scope: 'venue', venueId: 42 },
      ]),
    );

    expect((await repos.rollout.resume({ scope: 'global' }, ctx('fixed'))).lifted).toMatchObject({
      reason: 'incident',
    });
    expect((await repos.rollout.resume({ scope: 'global' }, ctx('fixed twice'))).lifted).toBeNull();
    expect((await repos.rollout.pauses()).map((p) => p.target.scope).sort()).toEqual(['provider', 'venue']);

    const trail = await repos.rollout.auditTrail({ limit: 10, subjectPrefix: 'pause:' });
    expect(trail.map((e) => [e.subject, e.action, e.reason])).toEqual([
      ['pause:global', 'resume', 'fixed'],
      ['pause:venue:42', 'pause', 'venue template'],
      ['pause:provider:twilio', 'pause', 'twilio 5xx'],
      ['pause:global', 'pause', 'incident'],
    ]);
    expect(trail[0]?.from).toMatchObject({
      scope: 'global',
      reason: 'incident',
      pausedBy: 'ops@example.test',
    });
  });

  test('the database refuses a percentage outside 0..100 (the API checks first)', async () => {
    const outcome = await rejectionOf(
      repos.rollout.setFlag(FLAG, { rolloutPercent: 101 }, ctx('typo')),
      DatabaseError,
    );
    expect(outcome.problem).toBe('check');
    expect(await repos.rollout.auditTrail({ limit: 10 })).toEqual([]);
  });

  test('two first writers racing on the flag row both land, one after the other', async () => {
    await Promise.all([
      repos.rollout.setFlag(FLAG, { rolloutPercent: 10 }, ctx('a')),
      repos.rollout.setFlag(FLAG, { enabled: false }, ctx('b')),
    ]);
    const trail = await repos.rollout.auditTrail({ limit: 10 });
    expect(trail).toHaveLength(2);
    expect(await repos.rollout.flag(FLAG)).toMatchObject({ enabled: false, rolloutPercent: 10 });
  });
});

describe('createRolloutControl', () => {
  test('a change is seen once the cache is cacheMs old, not before', async () => {
    let now = 1_000_000;
    const control = createRolloutControl({ repos, cacheMs: 2000, now: () => now });
    expect(await control.evaluate(7)).toMatchObject({ enabled: true });
    await repos.rollout.setFlag(FLAG, { enabled: false }, ctx('off'));
    await repos.rollout.pause({ scope: 'provider', provider: 'plivo' }, ctx('plivo down'));

    now += 1999;
    expect(await control.evaluate(7)).toMatchObject({ enabled: true });
    expect(await control.pauseFor({ venueId: 7, provider: 'plivo' })).toBeUndefined();
    now += 1;
    expect(await control.evaluate(7)).toEqual({ enabled: false, reason: 'global_off' });
    expect(await control.pauseFor({ venueId: 7, provider: 'plivo' })).toMatchObject({ reason: 'plivo down' });
  });

  test('invalidate() makes this process read its own change at once', async () => {
    const control = createRolloutControl({ repos, cacheMs: 5000, now: () => 0 });
    expect(await control.evaluate(7)).toMatchObject({ enabled: true });
    await repos.rollout.setVenueOverride(FLAG, 7, false, ctx('off for 7'));
    control.invalidate();
    expect(await control.evaluate(7)).toEqual({ enabled: false, reason: 'venue_override_off' });
  });

  test('concurrent callers share one load', async () => {
    let loads = 0;
    const counting = {
      rollout: {
        ...repos.rollout,
        snapshot: (key: string) => {
          loads++;
          return repos.rollout.snapshot(key);
        },
      },
    };
    const control = createRolloutControl({ repos: counting, cacheMs: 1000, now: () => 0 });
    await Promise.all(Array.from({ length: 20 }, (_, i) => control.evaluate(i + 1)));
    expect(loads).toBe(1);
  });

  test('a failed load serves the last good state; with none it throws', async () => {
    let now = 0;
    let down = false;
    const flaky = {
      rollout: {
        ...repos.rollout,
        snapshot: (key: string) =>
          down ? Promise.reject(new Error('database unavailable')) : repos.rollout.snapshot(key),
      },
    };
    const cold = createRolloutControl({ repos: flaky, cacheMs: 1000, now: () => now });
    down = true;
    expect((await rejectionOf(cold.pauseFor({ venueId: 1, provider: 'twilio' }), Error)).message).toMatch(
      /unavailable/,
    );

    down = false;
    await repos.rollout.pause({ scope: 'global' }, ctx('stop'));
    const warm = createRolloutControl({ repos: flaky, cacheMs: 1000, now: () => now });
    expect(await warm.pauseFor({ venueId: 1, provider: 'twilio' })).toMatchObject({ reason: 'stop' });
    down = true;
    now += 5000;
    expect(await warm.pauseFor({ venueId: 1, provider: 'twilio' })).toMatchObject({ reason: 'stop' });
    // Back up: the next load after the cache's age reads SQL again.
    down = false;
    await repos.rollout.resume({ scope: 'global' }, ctx('go'));
    now += 1000;
    expect(await warm.pauseFor({ venueId: 1, provider: 'twilio' })).toBeUndefined();
  });

  test('evaluations are counted by result and reason; pauses are reported by scope', async () => {
    const metrics = createMetrics();
    await repos.rollout.setVenueOverride(FLAG, 3, false, ctx('off'));
    await repos.rollout.pause({ scope: 'venue', venueId: 9 }, ctx('x'));
    await repos.rollout.pause({ scope: 'venue', venueId: 10 }, ctx('y'));
    const control = createRolloutControl({ repos, cacheMs: 1000, metrics, now: () => 0 });
    await control.evaluate(3);
    await control.evaluate(3);
    const text = await metrics.registry.metrics();
    expect(text).toContain('sms_flag_evaluations_total{result="disabled",reason="venue_override_off"} 2');
    expect(text).toContain('sms_rollout_pauses{scope="venue"} 2');
    expect(text).toContain('sms_rollout_pauses{scope="global"} 0');
    expect(text).toContain(
      `sms_rollout_oldest_pause_timestamp_seconds{scope="venue"} ${Date.parse('2026-12-03T12:00:00Z') / 1000}`,
    );
  });
});
