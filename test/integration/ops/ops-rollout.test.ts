import type { AddressInfo } from 'node:net';
import { buildApp } from '../../../api/app';
import { loadConfig } from '../../../config';
import { createLogger } from '../../../config/logger';
import { createRepositories, type Repositories } from '../../../db';
import { ORDER_CONFIRMATION_SMS_FLAG as FLAG } from '../../../rollout/control';
import { freePort } from '../../../scripts/temporal-cli';
import { useTestDatabase } from '../../support/db';
import { useResource } from '../../support/lifecycle';
import { jsonOf, runOpsCli } from '../../support/ops-cli';
import { uniqueTaskQueue, useTestClient } from '../../support/temporal';

/** The rollout commands as an operator runs them, against a real API on an ephemeral port. */
const TOKEN = 'ops-rollout-token-0123456789';
const db = useTestDatabase();
const temporal = useTestClient();
let repos: Repositories;
let env: Record<string, string>;

useResource(
  async () => {
    const config = loadConfig({ NODE_ENV: 'test' });
    repos = createRepositories(db.knex);
    const app = await buildApp({
      config: { ...config, api: { ...config.api, token: TOKEN } },
      logger: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent', name: 'ops-rollout-test' }),
      repos,
      temporal: {
        client: temporal.client,
        taskQueue: uniqueTaskQueue('ops-rollout'),
        workflowIdHashKey: config.temporal.workflowIdHashKey,
      },
      readinessChecks: {},
      version: 'test',
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    env = { API_URL: `http://127.0.0.1:${port}`, API_TOKEN: TOKEN, OPS_ACTOR: 'carol' };
    return app;
  },
  (app) => app.close(),
);

test('flags: get the default, roll out to 10 %, force a venue, read the audit trail', async () => {
  const initial = await runOpsCli(['flags', 'get'], { env });
  expect(initial).toMatchObject({ code: 0, stderr: '' });
  expect(initial.stdout).toContain(`${FLAG}: on, 100 % of venues (never set: the default)`);

  const set = await runOpsCli(['flags', 'set', '--percent', '10', '--reason', 'first step'], { env });
  expect(set).toMatchObject({ code: 0, stdout: `${FLAG}: on at 100 % → on at 10 %\n` });
  const venue = await runOpsCli(['flags', 'venue', '42', '--on', '--reason', 'pilot', '--by', 'dave'], {
    env,
  });
  expect(venue).toMatchObject({ code: 0, stdout: 'venue 42: no override → forced on\n' });
  const answer = jsonOf<{ venueId: number; enabled: boolean; reason: string }>(
    await runOpsCli(['flags', 'get', '--venue', '42', '--json'], { env }),
  );
  expect(answer).toEqual({ venueId: 42, enabled: true, reason: 'venue_override_on' });

  const audit = jsonOf<{ items: Array<{ changedBy: string; action: string; reason: string }> }>(
    await runOpsCli(['flags', 'audit', '--json'], { env }),
  );
  expect(audit.items.map((e) => [e.changedBy, e.action, e.reason])).toEqual([
    ['dave', 'venue_override_set', 'pilot'],
    ['carol', 'flag_set', 'first step'],
  ]);
  expect(await repos.rollout.flag(FLAG)).toMatchObject({ rolloutPercent: 10, updatedBy: 'carol' });
}, 120_000);

test('pause, pauses and resume, with a note for a provider this deployment does not use', async () => {
  const paused = await runOpsCli(['pause', '--provider', 'plivo', '--reason', 'plivo incident'], { env });
  expect(paused.code).toBe(0);
  expect(paused.stdout).toMatch(/^paused: provider plivo paused since .* by carol: plivo incident\n$/);
  expect(paused.stderr).toContain('does not send through plivo');
  const listed = jsonOf<{ pauses: Array<{ scope: string; provider: string }> }>(
    await runOpsCli(['pauses', '--json'], { env }),
  );
  expect(listed.pauses).toEqual([expect.objectContaining({ scope: 'provider', provider: 'plivo' })]);
  const resumed = await runOpsCli(['resume', '--provider', 'plivo', '--reason', 'over'], { env });
  expect(resumed).toMatchObject({ code: 0, stdout: 'resumed: provider plivo\n' });
  expect((await runOpsCli(['pauses'], { env })).stdout).toBe('no pauses: sends flow\n');
}, 120_000);

test('bad usage and refusals exit 64, a wrong token 78, an API that is not there 69; nothing on stdout', async () => {
  const closed = { ...env, API_URL: `http://127.0.0.1:${await freePort()}` };
  const runs = await Promise.all(
    [
      { args: ['flags', 'set', '--percent', '10'], env, code: 64, err: /--reason is required/ },
      { args: ['flags', 'set', '--percent', '150', '--reason', 'x'], env, code: 64, err: /0 to 100/ },
      { args: ['flags', 'set', '--on', '--off', '--reason', 'x'], env, code: 64, err: /exclude/ },
      { args: ['flags', 'venue', '42', '--reason', 'x'], env, code: 64, err: /exactly one of --on/ },
      { args: ['flags'], env, code: 64, err: /name a subcommand/ },
      { args: ['pause', '--reason', 'x'], env, code: 64, err: /exactly one of --global/ },
      // The API's 400, passed on with the field it names.
      {
        args: ['pause', '--provider', 'sinch', '--reason', 'x'],
        env,
        code: 64,
        err: /400.*\n\s+provider: is not a known provider/,
      },
      {
        args: ['pauses'],
        env: { ...env, API_TOKEN: 'not-the-token-0123456789' },
        code: 78,
        err: /401.*API_TOKEN/,
      },
      { args: ['pauses'], env: closed, code: 69, err: /did not answer/ },
    ].map(async (c) => ({ c, run: await runOpsCli(c.args, { env: c.env }) })),
  );
  for (const { c, run } of runs) {
    expect({ args: c.args, code: run.code, stdout: run.stdout }).toEqual({
      args: c.args,
      code: c.code,
      stdout: '',
    });
    expect(run.stderr).toMatch(c.err);
  }
  expect(await repos.rollout.pauses()).toEqual([]);
}, 120_000);

test('help for each rollout command exits 0 with its usage', async () => {
  const runs = await Promise.all(
    ['flags', 'pause', 'resume', 'pauses'].map(async (name) => ({
      name,
      run: await runOpsCli([name, '--help'], { env }),
    })),
  );
  for (const { name, run } of runs) {
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(new RegExp(`^usage: node dist/scripts/ops\\.js ${name} `));
    expect(run.stdout).toContain('78 the API refused API_TOKEN');
  }
}, 120_000);
