import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { buildApp } from '../../../api/app';
import { loadConfig } from '../../../config';
import { createRepositories, type Repositories } from '../../../db';
import {
  ORDER_CONFIRMATION_SMS_FLAG as FLAG,
  PAUSED_OUTCOME,
  ROLLOUT_RESUMED_SIGNAL,
} from '../../../rollout/control';
import { inRollout } from '../../../rollout/evaluate';
import { createMetrics } from '../../../runtime/metrics';
import { ORDER_WORKFLOW_TYPE } from '../../../temporal/contracts';
import { SmsOutcomeKey, SmsProviderKey, VenueIdKey } from '../../../temporal/search-attributes';
import { useResource } from '../../support/lifecycle';
import { capturedLogger } from '../../support/logs';
import { useTestDatabase } from '../../support/db';
import { uniqueTaskQueue, useTestClient, waitFor } from '../../support/temporal';

const TOKEN = 'rollout-test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
const taskQueue = uniqueTaskQueue('rollout-api');
const db = useTestDatabase();
const temporal = useTestClient();
const { logger, lines } = capturedLogger('rollout-api-test');
const metrics = createMetrics();
let repos: Repositories;

const app = useResource(
  async () => {
    const config = loadConfig({ NODE_ENV: 'test', SMS_PROVIDER: 'simulator' });
    repos = createRepositories(db.knex);
    return buildApp({
      config: { ...config, api: { ...config.api, token: TOKEN }, rollout: { cacheMs: 1_500 } },
      logger,
      repos,
      temporal: { client: temporal.client, taskQueue, workflowIdHashKey: config.temporal.workflowIdHashKey },
      readinessChecks: {},
      version: 'test',
      metrics,
    });
  },
  (a) => a.close(),
);

beforeEach(async () => {
  for (const table of ['RolloutAudit', 'RolloutPauses', 'RolloutVenueOverrides', 'RolloutFlags']) {
    await db.knex(table).delete();
  }
});

/** Resumes accepted so far: each wakes paused orders in the background, after the cache's lifetime. */
let resumesSent = 0;
const inject = async (method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, payload?: object) => {
  const res = await app.inject({ method, url, headers: auth, payload });
  if (method === 'POST' && url === '/api/resume' && res.statusCode === 200) resumesSent++;
  return res;
};
const flagUrl = `/api/flags/${FLAG}`;
const venues = Array.from({ length: 2000 }, (_, i) => i + 1);
const insideTen = venues.find((v) => inRollout(FLAG, v, 10)) ?? 0;
const outsideTen = venues.find((v) => !inRollout(FLAG, v, 10)) ?? 0;

describe('the flag API', () => {
  test('GET answers { enabled, reason } with Cache-Control: max-age=300, and needs the token', async () => {
    const res = await inject('GET', `${flagUrl}?venueId=${outsideTen}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('max-age=300');
    expect(res.json()).toEqual({ enabled: true, reason: 'in_rollout' });
    const anonymous = await app.inject({ method: 'GET', url: `${flagUrl}?venueId=1` });
    expect(anonymous.statusCode).toBe(401);
  });

  test('PUT sets the percentage and the switch; the answer changes at once in this process; audited with the request id', async () => {
    const put = await app.inject({
      method: 'PUT',
      url: flagUrl,
      headers: { ...auth, 'x-request-id': 'req-rollout-1' },
      payload: { rolloutPercent: 10, reason: 'start at 10 %', changedBy: 'alice' },
    });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toEqual({
      flag: FLAG,
      enabled: true,
      rolloutPercent: 10,
      changed: true,
      previous: { enabled: true, rolloutPercent: 100 },
    });
    expect((await inject('GET', `${flagUrl}?venueId=${insideTen}`)).json()).toEqual({
      enabled: true,
      reason: 'in_rollout',
    });
    expect((await inject('GET', `${flagUrl}?venueId=${outsideTen}`)).json()).toEqual({
      enabled: false,
      reason: 'outside_rollout',
    });

    expect((await inject('PUT', flagUrl, { enabled: false, reason: 'bad template' })).statusCode).toBe(200);
    expect((await inject('GET', `${flagUrl}?venueId=${insideTen}`)).json()).toEqual({
      enabled: false,
      reason: 'global_off',
    });

    const audit = (await inject('GET', '/api/rollout/audit?subject=flag')).json<{ items: object[] }>();
    expect(audit.items).toEqual([
      expect.objectContaining({
        changedBy: 'api-token',
        action: 'flag_set',
        from: { enabled: true, rolloutPercent: 10, stored: true },
        to: { enabled: false, rolloutPercent: 10 },
        reason: 'bad template',
      }),
      expect.objectContaining({ changedBy: 'alice', requestId: 'req-rollout-1', reason: 'start at 10 %' }),
    ]);
    const definition = (await inject('GET', `${flagUrl}/definition`)).json();
    expect(definition).toMatchObject({ enabled: false, rolloutPercent: 10, stored: true, overrides: [] });
    expect(await metrics.registry.metrics()).toMatch(
      /sms_flag_evaluations_total\{result="disabled",reason="global_off"\} [1-9]/,
    );
  });

  test('a venue override wins over the bucket, and DELETE gives the venue back to it', async () => {
    await inject('PUT', flagUrl, { rolloutPercent: 10, reason: 'start' });
    const on = await inject('PUT', `${flagUrl}/venues/${outsideTen}`, {
      enabled: true,
      reason: 'pilot venue',
    });
    expect(on.json()).toEqual({ venueId: outsideTen, override: true, previous: null, changed: true });
    expect((await inject('GET', `${flagUrl}?venueId=${outsideTen}`)).json()).toEqual({
      enabled: true,
      reason: 'venue_override_on',
    });
    const cleared = await inject('DELETE', `${flagUrl}/venues/${outsideTen}`, { reason: 'pilot over' });
    expect(cleared.json()).toEqual({ venueId: outsideTen, override: null, previous: true, changed: true });
    expect((await inject('GET', `${flagUrl}?venueId=${outsideTen}`)).json()).toMatchObject({
      reason: 'outside_rollout',
    });
    const audit = (await inject('GET', '/api/rollout/audit?subject=flag')).json<{ items: object[] }>();
    expect(audit.items.map((e) => (e as { action: string }).action)).toEqual([
      'venue_override_cleared',
      'venue_override_set',
      'flag_set',
    ]);
  });

  test.each([
    ['a percentage above 100', 'PUT', flagUrl, { rolloutPercent: 101, reason: 'x' }, 'rolloutPercent'],
    ['a negative percentage', 'PUT', flagUrl, { rolloutPercent: -1, reason: 'x' }, 'rolloutPercent'],
    ['a fractional percentage', 'PUT', flagUrl, { rolloutPercent: 12.5, reason: 'x' }, 'rolloutPercent'],
    ['a change with nothing to change', 'PUT', flagUrl, { reason: 'x' }, 'enabled'],
    ['a missing reason', 'PUT', flagUrl, { enabled: true }, 'reason'],
    ['a blank reason', 'PUT', flagUrl, { enabled: true, reason: '   ' }, 'reason'],
    [
      'an override that is not a boolean',
      'PUT',
      `${flagUrl}/venues/5`,
      { enabled: 'yes', reason: 'x' },
      'enabled',
    ],
    ['an override of another shape', 'PUT', `${flagUrl}/venues/5`, { on: true, reason: 'x' }, 'enabled'],
    ['an override for venue 0', 'PUT', `${flagUrl}/venues/0`, { enabled: true, reason: 'x' }, 'venueId'],
    ['an unknown field', 'PUT', flagUrl, { enabled: true, reason: 'x', percent: 5 }, 'percent'],
    [
      'a pause of an unknown provider',
      'POST',
      '/api/pause',
      { scope: 'provider', provider: 'sinch', reason: 'x' },
      'provider',
    ],
    [
      'a provider pause without a provider',
      'POST',
      '/api/pause',
      { scope: 'provider', reason: 'x' },
      'provider',
    ],
    ['a venue pause without a venue', 'POST', '/api/pause', { scope: 'venue', reason: 'x' }, 'venueId'],
    [
      'a global pause naming a venue',
      'POST',
      '/api/pause',
      { scope: 'global', venueId: 3, reason: 'x' },
      'venueId',
    ],
    ['an unknown scope', 'POST', '/api/pause', { scope: 'region', reason: 'x' }, 'scope'],
    ['a pause without a reason', 'POST', '/api/pause', { scope: 'global' }, 'reason'],
    [
      'a resume of an unknown provider',
      'POST',
      '/api/resume',
      { scope: 'provider', provider: 'sinch', reason: 'x' },
      'provider',
    ],
  ] as const)('400 for %s, naming the field', async (_what, method, url, payload, field) => {
    const res = await inject(method, url, payload);
    expect(res.statusCode).toBe(400);
    const body = res.json<{ error: string; fields: Array<{ field: string }> }>();
    expect(body.error).toBe('ValidationError');
    expect(body.fields.map((f) => f.field)).toContain(field);
    expect(await repos.rollout.auditTrail({ limit: 5 })).toEqual([]);
  });
});

describe('the pause API', () => {
  test('pause, list and resume by scope; a pause of a known provider this deployment does not use is allowed and said', async () => {
    const global = await inject('POST', '/api/pause', {
      scope: 'global',
      reason: 'incident',
      changedBy: 'ops',
    });
    expect(global.statusCode).toBe(200);
    expect(global.json()).toMatchObject({
      created: true,
      pause: { scope: 'global', reason: 'incident', pausedBy: 'ops' },
    });
    const twice = await inject('POST', '/api/pause', { scope: 'global', reason: 'again' });
    expect(twice.json()).toMatchObject({ created: false, pause: { reason: 'incident' } });
    const twilio = await inject('POST', '/api/pause', {
      scope: 'provider',
      provider: 'twilio',
      reason: 'twilio 5xx',
    });
    expect(twilio.json()).toMatchObject({ created: true, providerConfigured: false });
    await inject('POST', '/api/pause', { scope: 'venue', venueId: 77, reason: 'venue template' });

    const listed = (await inject('GET', '/api/pause')).json<{ pauses: Array<{ scope: string }> }>();
    expect(listed.pauses.map((p) => p.scope).sort()).toEqual(['global', 'provider', 'venue']);

    const resumed = await inject('POST', '/api/resume', { scope: 'global', reason: 'fixed' });
    expect(resumed.statusCode).toBe(200);
    expect(resumed.json()).toMatchObject({
      lifted: { scope: 'global', reason: 'incident' },
      stillPaused: [
        expect.objectContaining({ scope: 'provider' }),
        expect.objectContaining({ scope: 'venue' }),
      ],
    });
    const audit = (await inject('GET', '/api/rollout/audit?subject=pause')).json<{ items: object[] }>();
    expect(
      audit.items.map((e) => [(e as { subject: string }).subject, (e as { action: string }).action]),
    ).toEqual([
      ['pause:global', 'resume'],
      ['pause:venue:77', 'pause'],
      ['pause:provider:twilio', 'pause'],
      ['pause:global', 'pause'],
    ]);
  });

  test('a resume signals exactly the running paused orders of this deployment in its scope', async () => {
    const started: Array<{ handle: WorkflowHandle; provider: string; venueId: number; outcome: string }> = [];
    const start = async (provider: string, venueId: number, outcome: string) => {
      // No worker polls this queue: the orders stay Running with the search attributes they were
      // started with, as a paused order of the real workflow does, and a signal lands in their history.
      const handle = await temporal.client.workflow.start(ORDER_WORKFLOW_TYPE, {
        workflowId: `rollout-wake-${randomUUID()}`,
        taskQueue,
        args: [],
        typedSearchAttributes: [
          { key: SmsOutcomeKey, value: outcome },
          { key: SmsProviderKey, value: provider },
          { key: VenueIdKey, value: venueId },
        ],
      });
      started.push({ handle, provider, venueId, outcome });
    };
    // The earlier tests' wake-ups end first: they would signal these orders too.
    await waitFor(async () => lines.filter((l) => l.includes('paused orders woken')).length >= resumesSent, {
      description: "the earlier tests' wake-ups",
    });
    await start('twilio', 501, PAUSED_OUTCOME);
    await start('twilio', 502, PAUSED_OUTCOME);
    await start('plivo', 501, PAUSED_OUTCOME);
    await start('twilio', 503, 'pending');
    try {
      await waitFor(
        async () =>
          (
            await temporal.client.workflow.count(
              `TaskQueue = '${taskQueue}' AND SmsOutcome = '${PAUSED_OUTCOME}'`,
            )
          ).count === 3,
        { description: 'visibility to list the three paused orders' },
      );
      const signalled = async (handle: WorkflowHandle) =>
        ((await handle.fetchHistory()).events ?? []).filter(
          (e) => e.workflowExecutionSignaledEventAttributes?.signalName === ROLLOUT_RESUMED_SIGNAL,
        ).length;
      // Each resume's wake-up runs in the background after the cache's lifetime, logged with its
      // request's id: an earlier test's may end meanwhile.
      const resume = async (body: Record<string, unknown>) => {
        const reqId = JSON.stringify(`resume-${randomUUID()}`);
        resumesSent++;
        const res = await app.inject({
          method: 'POST',
          url: '/api/resume',
          headers: { ...auth, 'x-request-id': JSON.parse(reqId) as string },
          payload: body,
        });
        expect(res.statusCode).toBe(200);
        return waitFor(
          async () => {
            const line = lines.find(
              (l) => l.includes('paused orders woken') && l.includes(`"reqId":${reqId}`),
            );
            return line && (JSON.parse(line) as { matched: number; signalled: number; failed: number });
          },
          { description: `the wake-up of ${JSON.stringify(body)}` },
        );
      };

      await inject('POST', '/api/pause', { scope: 'provider', provider: 'twilio', reason: 'twilio down' });
      expect(await resume({ scope: 'provider', provider: 'twilio', reason: 'back' })).toMatchObject({
        matched: 2,
        signalled: 2,
        failed: 0,
      });
      expect(await Promise.all(started.map((s) => signalled(s.handle)))).toEqual([1, 1, 0, 0]);

      // A global resume (nothing was globally paused) wakes every paused order.
      await resume({ scope: 'global', reason: 'wake everything' });
      expect(await Promise.all(started.map((s) => signalled(s.handle)))).toEqual([2, 2, 1, 0]);

      await resume({ scope: 'venue', venueId: 501, reason: 'venue 501' });
      expect(await Promise.all(started.map((s) => signalled(s.handle)))).toEqual([3, 2, 2, 0]);
    } finally {
      await Promise.all(started.map((s) => s.handle.terminate('test over').catch(() => undefined)));
    }
  });
});
