import { randomUUID } from 'node:crypto';
import { WebhookNonces } from '../../../api/webhook-nonces';
import { createLogger } from '../../../config/logger';
import { createRepositories } from '../../../db';
import { useCuttableDatabase } from '../../support/db-outage';
import { useResource } from '../../support/lifecycle';

/**
 * The V2 nonce store (issue 18) against a real database, each WebhookNonces standing for one API
 * replica: a nonce is used once across replicas and restarts, a retry is told from a forgery by its
 * body, and an outage neither loses a nonce nor lets this replica forget one it has seen.
 */
const log = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent', name: 'nonces-test' });

const cuttable = useCuttableDatabase();
const repos = useResource(
  async () => createRepositories(cuttable.knex),
  () => undefined,
);

const replica = (onLateForgery = jest.fn(), now?: () => Date) =>
  new WebhookNonces(repos.webhookNonces, log, onLateForgery, now);
const nonce = () => randomUUID();
const body = (from: string, text: string) =>
  `From=${from}&To=14155550102&Text=${text}&MessageUUID=${randomUUID()}`;

test('first use, a retry with the same body (handled or not), another body: across replicas', async () => {
  const [a, b] = [replica(), replica()];
  const n = nonce();
  const stop = body('14155550123', 'STOP');
  expect(await a.use('plivo', 'inbound', n, stop)).toMatchObject({ verdict: 'first', handled: false });
  const retry = await b.use('plivo', 'inbound', n, stop);
  expect(retry).toMatchObject({ verdict: 'retry', handled: false });
  await a.handled('plivo', n);
  expect(await b.use('plivo', 'inbound', n, stop)).toMatchObject({ verdict: 'retry', handled: true });
  expect(await b.use('plivo', 'inbound', n, body('14155550999', 'START'))).toEqual({ verdict: 'replayed' });
  // A restart: a replica with no memory at all.
  expect(await replica().use('plivo', 'inbound', n, body('14155550999', 'START'))).toEqual({
    verdict: 'replayed',
  });
  // The same nonce string at another provider is another provider's.
  expect(await a.use('twilio', 'inbound', n, stop)).toMatchObject({ verdict: 'first' });
  const rows = await cuttable.knex('WebhookNonces');
  expect(rows.length).toBeGreaterThanOrEqual(2);
  for (const row of rows) expect(JSON.stringify(row)).not.toContain(n);
});

test('replicas racing on one nonce: exactly one first use', async () => {
  const n = nonce();
  const text = body('14155550123', 'STOP');
  const verdicts = await Promise.all(
    Array.from({ length: 6 }, () => replica().use('plivo', 'inbound', n, text)),
  );
  expect(verdicts.filter((v) => v.verdict === 'first')).toHaveLength(1);
  expect(verdicts.filter((v) => v.verdict === 'retry')).toHaveLength(5);
});

describe('while the database is down', () => {
  afterEach(async () => {
    await cuttable.restore();
  });

  test('what this replica saw stays checked; a new nonce is unverifiable and written once the database is back', async () => {
    const late = jest.fn();
    const a = replica(late);
    const known = nonce();
    const knownBody = body('14155550123', 'STOP');
    await a.use('plivo', 'inbound', known, knownBody);
    await a.handled('plivo', known);

    await cuttable.cut();
    expect(await a.use('plivo', 'inbound', known, body('14155550999', 'START'))).toEqual({
      verdict: 'replayed',
    });
    expect(await a.use('plivo', 'inbound', known, knownBody)).toMatchObject({
      verdict: 'retry',
      handled: true,
    });

    const fresh = nonce();
    const freshBody = body('14155550124', 'STOP');
    expect(await a.use('plivo', 'inbound', fresh, freshBody)).toMatchObject({ verdict: 'unverifiable' });
    // Its body was never checked against the database: the same again is still unverifiable...
    expect(await a.use('plivo', 'inbound', fresh, freshBody)).toMatchObject({ verdict: 'unverifiable' });
    expect(await a.use('plivo', 'inbound', fresh, body('14155550999', 'START'))).toEqual({
      verdict: 'replayed',
    });
    // ...until it was acted on.
    await a.handled('plivo', fresh);
    expect(await a.use('plivo', 'inbound', fresh, freshBody)).toMatchObject({
      verdict: 'retry',
      handled: true,
    });
    await a.flush();
    expect(a.waiting).toBe(1);

    await cuttable.restore();
    await a.flush();
    expect(a.waiting).toBe(0);
    const b = replica();
    expect(await b.use('plivo', 'inbound', fresh, body('14155550999', 'START'))).toEqual({
      verdict: 'replayed',
    });
    expect(await b.use('plivo', 'inbound', fresh, freshBody)).toMatchObject({
      verdict: 'retry',
      handled: true,
    });
    expect(late).not.toHaveBeenCalled();
  });

  test('a nonce another replica wrote, reused here with another body during the outage, is reported once written', async () => {
    const late = jest.fn();
    const [a, b] = [replica(), replica(late)];
    const n = nonce();
    await a.use('plivo', 'inbound', n, body('14155550123', 'STOP'));

    await cuttable.cut();
    // b never saw it: unverifiable, and the route accepts an opt-out on that.
    expect(await b.use('plivo', 'status', n, body('14155550999', 'STOP'))).toMatchObject({
      verdict: 'unverifiable',
    });
    await cuttable.restore();
    await b.flush();
    expect(late).toHaveBeenCalledWith('plivo', 'status');
    expect(b.waiting).toBe(0);
  });
});

test('nonces past the retention are pruned, younger ones kept', async () => {
  const longAgo = new Date(Date.now() - 401 * 24 * 60 * 60_000);
  const old = nonce();
  const young = nonce();
  await replica(jest.fn(), () => longAgo).use('plivo', 'inbound', old, 'x');
  await replica().use('plivo', 'inbound', young, 'x');
  await replica().prune();
  // Pruned: the old nonce is new again (V2 signatures never expire, hence the long retention).
  expect(await replica().use('plivo', 'inbound', old, 'y')).toMatchObject({ verdict: 'first' });
  expect(await replica().use('plivo', 'inbound', young, 'y')).toEqual({ verdict: 'replayed' });
});
