import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection, Client } from '@temporalio/client';
import { ServiceBusClient, type ServiceBusSender } from '@azure/service-bus';
import { SEND_ORDER_CONFIRMATION_SMS } from '../bridge/event-types';
import { loadConfig } from '../config';
import { createRepositories } from '../db';
import { createDataConverter } from '../temporal/data-converter';
import { orderWorkflowId } from '../temporal/ids';
import { freePort, startDevServer, type DevServer } from '../scripts/temporal-cli';
import { createTestDatabase, type TestDatabase } from '../test/support/db';
import type { FakeControls } from '../test/support/provider-fakes/fake-server';
import { plivoEnv, startPlivoFake, type PlivoFake } from '../test/support/provider-fakes/plivo-fake';
import { startTwilioFake, twilioEnv, type TwilioFake } from '../test/support/provider-fakes/twilio-fake';
import { startServiceBusPeer, type ServiceBusPeer } from '../test/support/servicebus-peer';
import { startTcpProxy, type TcpProxy } from '../test/support/tcp-proxy';
import { formBody, plivoV3Headers, twilioHeaders } from '../test/support/webhook-signing';
import { writeWorkflowBundle } from '../test/support/workflow-bundle';
import { optIn, sampleEvent } from '../test/support/workers';
import { exited, killChildren, ROOT, spawnRole, stopRole, type Role } from './support/processes';
import { measureChaos, type ClaimRow, type HistoryRow, type ProviderText } from './support/chaos-measure';
import { percentile, phoneFor } from './support/stats';

/**
 * `npm run chaos [-- --orders N --kills K --db-outage-seconds S --pause-seconds P | --ci]`: the real roles as real
 * processes (Temporal dev server, API, two workers, the bridge on the test AMQP peer, PostgreSQL
 * behind a TCP proxy) under faults: every event delivered 3× (Service Bus and HTTP ingress), a
 * quarter of the customers ordering twice within seconds (ADR 0012: the second order waits for the
 * first's send), 10 % of customers texting STOP mid-run through their provider's signed webhook,
 * workers SIGKILLed at random instants, the dev server killed and restarted on its database file,
 * the database cut for S seconds, all sends paused through the API for P seconds and resumed, and
 * both provider fakes — Twilio for even venues, Plivo for odd ones — answering 30 % 5xx, 429
 * bursts and 5 % accept-then-drop.
 * Every accepted text is matched to the order it names (bench/support/chaos-measure.ts). Progress
 * on stderr; the last stdout line is one JSON object. Exits 1 when an order was lost, texted twice,
 * recorded with another order's text or with none, a text went out that nothing reports, a text
 * went out after an acknowledged STOP or while sends were paused, or a valid event was dead-lettered.
 */

const TOPIC = 'send-order-confirmation-sms';
const SUBSCRIPTION = 'sms-service';
const TASK_QUEUE = 'chaos';
const API_TOKEN = 'chaos-token-0123456789';
/** How soon a pause must hold every worker (issue 21): ROLLOUT_CACHE_MS is at most this. */
const PAUSE_REACH_MS = 5_000;

interface Options {
  orders: number;
  kills: number;
  dbOutageSeconds: number;
  /** A global pause through the API for this long, mid-run, then the resume (issue 21). */
  pauseSeconds: number;
  venues: number;
  stopRate: number;
  /** Share of customers with a second order for the same venue 0.5–3 s after their first. */
  secondOrderRate: number;
  injectSeconds: number;
  deadlineSeconds: number;
  keepLogs: boolean;
}

function parseArgs(argv: string[]): Options {
  const ci = argv.includes('--ci');
  const o: Options = {
    orders: ci ? 200 : 1000,
    kills: ci ? 3 : 10,
    dbOutageSeconds: ci ? 10 : 30,
    pauseSeconds: ci ? 12 : 30,
    venues: ci ? 4 : 10,
    stopRate: 0.1,
    secondOrderRate: 0.25,
    injectSeconds: 0,
    deadlineSeconds: 0,
    keepLogs: argv.includes('--keep-logs'),
  };
  const num = (flag: string): number | undefined => {
    const i = argv.indexOf(flag);
    if (i < 0) return undefined;
    const v = Number(argv[i + 1]);
    if (!Number.isFinite(v) || v < 0) throw new Error(`${flag} needs a non-negative number`);
    return v;
  };
  o.orders = num('--orders') ?? o.orders;
  o.kills = num('--kills') ?? o.kills;
  o.dbOutageSeconds = num('--db-outage-seconds') ?? o.dbOutageSeconds;
  o.pauseSeconds = num('--pause-seconds') ?? o.pauseSeconds;
  o.venues = Math.max(1, num('--venues') ?? o.venues);
  // Traffic is spread over a window long enough for every fault to land while orders flow.
  o.injectSeconds = num('--inject-seconds') ?? Math.max(30, o.dbOutageSeconds * 2, Math.ceil(o.orders / 10));
  o.deadlineSeconds = num('--deadline-seconds') ?? o.injectSeconds + 180;
  return o;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (m: string) => process.stderr.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
const rand = (min: number, max: number) => min + Math.random() * (max - min);

function postgresBaseUrl(): string {
  if (process.env.TEST_DATABASE_URL?.startsWith('postgres')) return process.env.TEST_DATABASE_URL;
  const out = execFileSync('bash', [path.join(ROOT, 'scripts/ci-postgres.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return out.trim().split('\n').pop() ?? '';
}

type Provider = 'twilio' | 'plivo';
/** Twilio for even venues, Plivo for odd ones (SMS_PROVIDER_BY_VENUE). */
const providerOf = (venueId: number): Provider => (venueId % 2 === 1 ? 'plivo' : 'twilio');
const digits = (phone: string) => phone.replace(/\D/g, '');

interface Order {
  event: Record<string, unknown>;
  orderId: string;
  /** `C-<customer>-a`, `-b` for the customer's second order: the text names exactly one order. */
  orderNumber: string;
  venueId: number;
  phone: string;
  /** Its first delivery, from the start of injection. */
  deliverAtMs: number;
  firstSentAt?: number;
  stop?: { at: number; ackAt?: number; attempts: number };
}

/**
 * `--orders` orders in all: customers come in until it is reached, their first orders spread evenly
 * over the injection window, a share of them with a second order (same venue, phone and customer)
 * 0.5–3 s after the first.
 */
function buildOrders(opt: Options, venueIds: number[]): Order[] {
  const injectMs = opt.injectSeconds * 1000;
  const orders: Order[] = [];
  for (let i = 0; orders.length < opt.orders; i++) {
    const venueId = venueIds[i % venueIds.length];
    const phone = phoneFor(i);
    const customerId = randomUUID();
    const order = (suffix: 'a' | 'b', deliverAtMs: number): Order => {
      const orderNumber = `C-${i}-${suffix}`;
      const event = sampleEvent({
        VenueId: venueId,
        PhoneNumber: phone,
        CustomerId: customerId,
        OrderNumber: orderNumber,
      });
      return { event, orderId: String(event.OrderId), orderNumber, venueId, phone, deliverAtMs };
    };
    const first = order('a', (orders.length / opt.orders) * injectMs);
    orders.push(first);
    if (orders.length < opt.orders && Math.random() < opt.secondOrderRate)
      orders.push(order('b', first.deliverAtMs + rand(500, 3000)));
  }
  return orders;
}

interface ProviderFaultCounts {
  sendCalls: number;
  errors5xx: number;
  errors429: number;
  dropped: number;
}

/** What a fake did: send calls, 5xx injected into them, 429s on any call, sends accepted then dropped. */
function providerFaultCounts(fake: FakeControls): ProviderFaultCounts {
  // Twilio's POST …/Messages.json, Plivo's POST …/Message/.
  const sends = fake.requests.filter(
    (r) => r.method === 'POST' && /\/(Messages\.json|Message\/)$/.test(r.path),
  );
  return {
    sendCalls: sends.length,
    errors5xx: sends.filter((r) => r.outcome === 'injected' && r.status !== undefined && r.status >= 500)
      .length,
    errors429: fake.requests.filter((r) => r.status === 429).length,
    dropped: sends.filter((r) => r.outcome === 'dropped').length,
  };
}

async function main(): Promise<void> {
  const opt = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const deadline = t0 + opt.deadlineSeconds * 1000;
  // The last resort: whatever hangs, the run ends (and takes its children with it).
  setTimeout(
    () => {
      log('hard deadline passed: stopping');
      killChildren();
      process.exit(3);
    },
    (opt.deadlineSeconds + 90) * 1000,
  );
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sms-chaos-'));
  log(`options ${JSON.stringify(opt)}; logs in ${workDir}`);

  let db: TestDatabase | undefined;
  let proxy: TcpProxy | undefined;
  let server: DevServer | undefined;
  let twilio: TwilioFake | undefined;
  let plivo: PlivoFake | undefined;
  let peer: ServiceBusPeer | undefined;
  let sbClient: ServiceBusClient | undefined;
  let sender: ServiceBusSender | undefined;
  let temporalConnection: Connection | undefined;
  const roles: Role[] = [];
  let failed = false;
  try {
    // --- infrastructure ------------------------------------------------------------------------
    process.env.TEST_DATABASE_URL = postgresBaseUrl();
    db = await createTestDatabase(); // fresh database, migrated
    const pgUrl = new URL(db.url);
    proxy = await startTcpProxy(`${pgUrl.hostname}:${pgUrl.port || '5432'}`);
    const appDbUrl = new URL(db.url);
    const [proxyHost, proxyPort] = proxy.address.split(':');
    appDbUrl.hostname = proxyHost;
    appDbUrl.port = proxyPort;

    const bundlePath = await writeWorkflowBundle();
    const temporalPort = await freePort();
    const temporalDb = path.join(workDir, 'temporal.sqlite');
    const startServer = () =>
      startDevServer({ headless: true, port: temporalPort, dbFilename: temporalDb, logLevel: 'error' });
    server = await startServer();

    twilio = await startTwilioFake();
    plivo = await startPlivoFake();
    const fakes: FakeControls[] = [twilio, plivo];
    const venueIds = Array.from({ length: opt.venues }, (_, i) => 7000 + i);
    peer = await startServiceBusPeer({ topics: { [TOPIC]: { subscriptions: { [SUBSCRIPTION]: {} } } } });
    const apiPort = await freePort();
    const apiBase = `http://127.0.0.1:${apiPort}`;
    const common: Record<string, string> = {
      NODE_ENV: 'test',
      DATABASE_URL: appDbUrl.toString(),
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_TASK_QUEUE: TASK_QUEUE,
      API_TOKEN,
      PUBLIC_BASE_URL: apiBase,
      SEND_RATE_PER_SECOND: '200',
      // Two workers and the bridge on one machine: ephemeral metrics ports, no SDK exporter.
      METRICS_PORT: '0',
      TEMPORAL_METRICS_PORT: '0',
      // Twilio by default (SMS_PROVIDER), Plivo for the venues SMS_PROVIDER_BY_VENUE names.
      ...plivoEnv(plivo),
      ...twilioEnv(twilio),
      SMS_PROVIDER_BY_VENUE: venueIds
        .filter((v) => providerOf(v) === 'plivo')
        .map((v) => `${v}=plivo`)
        .join(','),
    };
    const api = spawnRole('api', {
      entry: 'api/main.ts',
      env: { ...common, HOST: '127.0.0.1', PORT: String(apiPort) },
      logDir: workDir,
    });
    const bridge = spawnRole('bridge', {
      entry: 'bridge/main.ts',
      env: { ...common, SERVICEBUS_CONNECTION_STRING: peer.connectionString, BRIDGE_HEALTH_PORT: '0' },
      logDir: workDir,
    });
    roles.push(api, bridge);
    const workerEnv = { ...common, WORKFLOW_BUNDLE_PATH: bundlePath };
    const workers: Role[] = [0, 1].map((i) =>
      spawnRole(`worker-${i}`, { entry: 'workers/main.ts', env: workerEnv, logDir: workDir }),
    );
    roles.push(...workers);

    // The API answers once it is up (it needs the database and Temporal to be ready).
    for (;;) {
      if (Date.now() > deadline) throw new Error('API not ready before the deadline');
      if (api.child.exitCode !== null) throw new Error(`API exited; see ${workDir}/api.log`);
      const ok = await fetch(`${apiBase}/health/ready`)
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) break;
      await sleep(250);
    }
    log(`stack up in ${((Date.now() - t0) / 1000).toFixed(1)} s: temporal ${server.address}, api ${apiBase}`);

    // --- customers, opted in beforehand (checkout), straight into SQL -------------------------------
    const repos = createRepositories(db.knex);
    const orders = buildOrders(opt, venueIds);
    // A customer's first order stands for the customer (its STOP, its opt-in).
    const customers = orders.filter((o) => o.orderNumber.endsWith('-a'));
    for (const o of customers) await optIn(repos, { venueId: o.venueId, phoneNumber: o.phone });
    const stoppers = customers.filter(() => Math.random() < opt.stopRate);
    log(
      `${customers.length} customers opted in, ${orders.length - customers.length} of them order twice, ` +
        `${stoppers.length} will text STOP (${stoppers.filter((o) => providerOf(o.venueId) === 'plivo').length} to Plivo)`,
    );

    // Warm-up: the first order of each venue goes through a healthy provider, so every venue has its
    // number before the faults start (STOPs need the venue's number, and a purchase under 30 % 5xx
    // can back off for minutes). These orders count like the others.
    const warmups = venueIds.flatMap((v) => orders.find((o) => o.venueId === v) ?? []);
    for (const o of warmups) {
      o.firstSentAt = Date.now();
      const r = await fetch(`${apiBase}/api/events/send-order-confirmation-sms`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${API_TOKEN}` },
        body: JSON.stringify(o.event),
      });
      if (r.status !== 202) throw new Error(`warm-up order refused: HTTP ${r.status}`);
    }
    for (const venueId of venueIds) {
      while (!(await db.knex('VenuePhoneNumbers').where({ VenueID: venueId }).first('ID'))) {
        if (Date.now() > deadline) throw new Error(`venue ${venueId} has no number`);
        await sleep(250);
      }
    }
    log(`warm-up: ${venueIds.length} venues have their numbers`);
    // --- faults at both providers -------------------------------------------------------------------
    const normalFaults = { errorRate: 0.3, dropRate: 0.05, error: { status: 503, message: 'chaos' } };
    const providerFaults = (faults: Parameters<FakeControls['randomFaults']>[0]) =>
      fakes.forEach((f) => f.randomFaults(faults));
    providerFaults(normalFaults);

    sbClient = new ServiceBusClient(peer.connectionString);
    sender = sbClient.createSender(TOPIC);
    const injectMs = opt.injectSeconds * 1000;
    const injectStart = Date.now();
    const counters = { sbSent: 0, httpSent: 0, httpRetries: 0, stopsAcked: 0, kills: 0 };

    const deliver = async (o: Order, channel: 'sb' | 'http', copy: number): Promise<void> => {
      o.firstSentAt ??= Date.now();
      if (channel === 'sb') {
        for (let attempt = 0; ; attempt++) {
          try {
            await sender!.sendMessages({
              body: o.event,
              messageId: `${o.orderId}-${copy}-${randomUUID()}`,
              correlationId: `chaos-${o.orderId}`,
              subject: SEND_ORDER_CONFIRMATION_SMS,
              contentType: 'application/json',
            });
            counters.sbSent++;
            return;
          } catch (err) {
            if (attempt > 20 || Date.now() > deadline) throw err;
            await sleep(500);
          }
        }
      }
      for (let attempt = 0; Date.now() < deadline; attempt++) {
        const status = await fetch(`${apiBase}/api/events/send-order-confirmation-sms`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${API_TOKEN}` },
          body: JSON.stringify(o.event),
          signal: AbortSignal.timeout(15_000),
        })
          .then((r) => r.status)
          .catch(() => 0);
        if (status === 202 || status === 200) {
          counters.httpSent++;
          return;
        }
        if (status === 400) throw new Error(`ingress refused a valid event: ${o.orderId}`);
        counters.httpRetries++;
        // A publisher's retry: back off (429 from the API's rate limit, 503 while Temporal is away).
        await sleep(Math.min(5000, 250 * 2 ** Math.min(attempt, 5)) * rand(0.5, 1.5));
      }
      throw new Error(`HTTP ingress never took order ${o.orderId} before the deadline`);
    };

    // Each order delivered 3×, its copies split between the two channels, a few seconds apart.
    const deliveries = orders.map((o, i) => {
      return (async () => {
        await sleep(o.deliverAtMs);
        const copies = [0, 1, 2].map(async (copy) => {
          await sleep(copy === 0 ? 0 : rand(0, 5000));
          await deliver(o, (i + copy) % 2 === 0 ? 'sb' : 'http', copy);
        });
        await Promise.all(copies);
      })();
    });

    // STOPs through the venue's provider's signed webhook, once the venue has its number, at random
    // instants mid-run.
    const venueNumber = async (venueId: number): Promise<string | undefined> => {
      const row = (await db!
        .knex('VenuePhoneNumbers')
        .where({ VenueID: venueId })
        .whereNull('ReleasedAt')
        .first('PhoneNumber')) as { PhoneNumber: string } | undefined;
      return row?.PhoneNumber;
    };
    const stops = stoppers.map(async (o) => {
      await sleep(rand(0.2, 1) * injectMs);
      let to: string | undefined;
      while (!(to = await venueNumber(o.venueId))) {
        if (Date.now() > injectStart + 2 * injectMs) return;
        await sleep(500);
      }
      o.stop = { at: Date.now(), attempts: 0 };
      const plivoStop = providerOf(o.venueId) === 'plivo';
      const stopUrl = `${apiBase}/webhooks/${providerOf(o.venueId)}`;
      const fields: Record<string, string> = plivoStop
        ? { From: digits(o.phone), To: digits(to), Text: 'STOP', Type: 'sms', MessageUUID: randomUUID() }
        : {
            MessageSid: `SM${randomUUID().replace(/-/g, '')}`,
            AccountSid: twilio!.accountSid,
            From: o.phone,
            To: to,
            Body: 'STOP',
            NumMedia: '0',
          };
      while (Date.now() < deadline) {
        o.stop.attempts++;
        const status = await fetch(stopUrl, {
          method: 'POST',
          // Plivo signs each attempt with a fresh nonce; Twilio's signature is the same every time.
          headers: plivoStop
            ? plivoV3Headers(plivo!.authToken, stopUrl, fields)
            : twilioHeaders(twilio!.authToken, stopUrl, fields),
          body: formBody(fields),
          signal: AbortSignal.timeout(15_000),
        })
          .then((r) => r.status)
          .catch(() => 0);
        if (status === 200) {
          o.stop.ackAt = Date.now();
          counters.stopsAcked++;
          return;
        }
        if (status === 403) throw new Error('webhook signature refused');
        await sleep(rand(250, 1000));
      }
    });

    // --- faults in processes ---------------------------------------------------------------------
    const restartWorker = async (i: number) => {
      const w = workers[i];
      w.child.kill('SIGKILL');
      await exited(w.child);
      counters.kills++;
      await sleep(rand(500, 3000));
      workers[i] = spawnRole(`worker-${i}`, { entry: 'workers/main.ts', env: workerEnv, logDir: workDir });
      roles.push(workers[i]);
    };
    const killTimes = Array.from({ length: opt.kills }, () => rand(0.05, 1) * injectMs).sort((a, b) => a - b);
    const workerKills = (async () => {
      for (const at of killTimes) {
        await sleep(Math.max(0, injectStart + at - Date.now()));
        const both = Math.random() < 0.2;
        const which = Math.random() < 0.5 ? 0 : 1;
        log(`SIGKILL worker${both ? 's 0 and 1' : ` ${which}`}`);
        if (both) {
          // Both at once counts as two kills.
          await Promise.all([restartWorker(0), restartWorker(1)]);
        } else await restartWorker(which);
      }
    })();
    const serverKill = (async () => {
      await sleep(rand(0.3, 0.7) * injectMs);
      log(`SIGKILL the Temporal dev server (pid ${server!.pid})`);
      process.kill(server!.pid, 'SIGKILL');
      await sleep(rand(2000, 5000));
      for (;;) {
        try {
          server = await startServer();
          break;
        } catch (err) {
          if (Date.now() > deadline) throw err;
          log(`dev server restart failed, retrying: ${String(err).slice(0, 200)}`);
          await sleep(1000);
        }
      }
      log('Temporal dev server restarted on its database file');
    })();
    const dbOutage = (async () => {
      if (opt.dbOutageSeconds <= 0) return;
      await sleep(rand(0.1, 0.5) * Math.max(0, injectMs - opt.dbOutageSeconds * 1000));
      log(`database cut for ${opt.dbOutageSeconds} s`);
      proxy!.cut();
      await sleep(opt.dbOutageSeconds * 1000);
      proxy!.restore();
      log('database back');
    })();
    // A global pause (the "stop all SMS now" of the runbook) through the API, then the resume: every
    // held order must still go out once, and nothing may go out once the pause has reached the
    // workers (ROLLOUT_CACHE_MS, 2 s by default; 5 s is the promise).
    const pauseWindow = { pausedAt: 0, resumedAt: 0 };
    const pausePhase = (async () => {
      if (opt.pauseSeconds <= 0) return;
      await sleep(rand(0.2, 0.6) * injectMs);
      const admin = async (route: string, body: object) => {
        for (;;) {
          const res = await fetch(`${apiBase}${route}`, {
            method: 'POST',
            headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
            body: JSON.stringify({ ...body, changedBy: 'chaos' }),
          }).catch(() => undefined);
          if (res?.ok) return;
          if (Date.now() > deadline) throw new Error(`${route} never answered 200 (${res?.status})`);
          await sleep(500); // the database may be cut right now
        }
      };
      await admin('/api/pause', { scope: 'global', reason: 'chaos: stop all SMS now' });
      pauseWindow.pausedAt = Date.now();
      log(`all sends paused for ${opt.pauseSeconds} s`);
      await sleep(opt.pauseSeconds * 1000);
      pauseWindow.resumedAt = Date.now();
      await admin('/api/resume', { scope: 'global', reason: 'chaos: incident over' });
      log('sends resumed');
    })();
    // 429 bursts: every 5–15 s, for 0.5–2 s, every call is rate limited (a window in time, as at
    // Twilio: a count of calls would starve a quiet moment for as long as nobody calls).
    let injecting = true;
    const bursts = (async () => {
      while (injecting && Date.now() < deadline) {
        await sleep(rand(5000, 15000));
        if (!injecting) break;
        providerFaults({
          errorRate: 1,
          dropRate: 0,
          error: { status: 429, code: 20429, message: 'Too Many Requests' },
        });
        await sleep(rand(500, 2000));
        providerFaults(normalFaults);
      }
    })();

    // --- progress and completion -------------------------------------------------------------------
    const historyRows = async (): Promise<HistoryRow[]> =>
      (
        (await db!
          .knex('SmsSendHistory as h')
          .join('SmsSendHistoryStatuses as s', 's.ID', 'h.StatusID')
          .select(
            'h.OrderID as orderId',
            's.Name as status',
            'h.ProviderMessageID as providerMessageId',
          )) as HistoryRow[]
      ).map((r) => ({ ...r, orderId: String(r.orderId).toLowerCase() }));
    /** Orders with a history row (an outcome), by lower-case id. */
    const historyOrders = async (): Promise<Set<string>> =>
      new Set((await historyRows()).map((r) => r.orderId));
    const providerTexts = (): ProviderText[] => [
      ...twilio!.messages().map((m) => ({
        provider: 'twilio',
        id: m.sid,
        to: m.to,
        text: m.body,
        at: m.dateCreated.getTime(),
      })),
      ...plivo!
        .messages()
        .map((m) => ({ provider: 'plivo', id: m.uuid, to: m.dst, text: m.text, at: m.time.getTime() })),
    ];
    const progress = setInterval(() => {
      void historyOrders()
        .then((h) =>
          log(
            `${Math.round((Date.now() - t0) / 1000)} s: sent sb ${counters.sbSent} http ${counters.httpSent} ` +
              `(retries ${counters.httpRetries}), stops acked ${counters.stopsAcked}/${stoppers.length}, ` +
              `kills ${counters.kills}, history ${h.size}/${orders.length}, texts ${providerTexts().length}, ` +
              `dead letters ${peer!.deadLetters(TOPIC, SUBSCRIPTION).length}`,
          ),
        )
        .catch(() => undefined);
    }, 10_000);
    try {
      await Promise.all([...deliveries, ...stops, workerKills, serverKill, dbOutage, pausePhase]);
      // Provider faults go on until 95 % of the orders have an outcome (most sends happen after the
      // last event went in), then the provider recovers: what still retries finishes on its next attempt.
      while (Date.now() < deadline - 60_000 && (await historyOrders()).size < 0.95 * orders.length)
        await sleep(1000);
      injecting = false;
      await bursts;
      providerFaults({});
      log(
        'all events delivered and faults played; providers healthy again; waiting for every order to close',
      );

      temporalConnection = await Connection.connect({ address: server.address });
      // The spawned roles encrypt with the local default key; describe decodes the memo with it.
      const client = new Client({
        connection: temporalConnection,
        dataConverter: createDataConverter(loadConfig({ NODE_ENV: 'test' }).temporal),
      });
      const closed = new Set<string>();
      while (Date.now() < deadline && closed.size < orders.length) {
        const h = await historyOrders();
        for (const o of orders) {
          if (closed.has(o.orderId) || !h.has(o.orderId.toLowerCase())) continue;
          const d = await client.workflow
            .getHandle(orderWorkflowId(o.orderId))
            .describe()
            .catch(() => undefined);
          if (d && d.status.name !== 'RUNNING') closed.add(o.orderId);
        }
        if (closed.size < orders.length) await sleep(2000);
      }
      // Let the bridge settle what it still holds, so the DLQ count is final.
      while (Date.now() < deadline && peer.activeCount(TOPIC, SUBSCRIPTION) > 0) await sleep(500);
      await Promise.all(fakes.map((f) => f.settled()));

      // --- measure -----------------------------------------------------------------------------------
      const h = await historyOrders();
      // Not closed by the deadline: still retrying a provider call in Temporal's backoff (it finishes
      // on a later attempt: not lost), or lost (no workflow, closed with no history, or stuck).
      const lostOrders: Order[] = [];
      const stillRetrying = new Set<string>();
      const retryingWhy: string[] = [];
      for (const o of orders) {
        if (closed.has(o.orderId) && h.has(o.orderId.toLowerCase())) continue;
        const d = await client.workflow
          .getHandle(orderWorkflowId(o.orderId))
          .describe()
          .catch(() => undefined);
        const retrying =
          d?.status.name === 'RUNNING'
            ? (d.raw.pendingActivities ?? []).find((a) => (a.attempt ?? 0) > 1)
            : undefined;
        if (!retrying) {
          lostOrders.push(o);
          continue;
        }
        stillRetrying.add(o.orderId);
        // What it retries: a provider fault, or waiting its turn behind the customer's other order.
        const failure = retrying.lastFailure?.applicationFailureInfo?.type ?? retrying.lastFailure?.message;
        retryingWhy.push(`${o.orderNumber} ${retrying.activityType?.name} #${retrying.attempt}: ${failure}`);
      }
      if (retryingWhy.length > 0) log(`still retrying: ${retryingWhy.join('; ')}`);
      const history = await historyRows();
      const claims = (await db
        .knex('SmsOrderClaims')
        .select('OrderID as orderId', 'ProviderMessageID as providerMessageId')) as ClaimRow[];
      const texts = providerTexts();
      const m = measureChaos({
        orders: orders.map((o) => ({
          orderId: o.orderId,
          orderNumber: o.orderNumber,
          phone: o.phone,
          firstDeliveredAt: o.firstSentAt,
          stopAckAt: o.stop?.ackAt,
        })),
        texts,
        history,
        claims,
        openOrderIds: stillRetrying,
      });
      const deadLettered = peer.deadLetters(TOPIC, SUBSCRIPTION);
      const byProvider = { twilio: providerFaultCounts(twilio), plivo: providerFaultCounts(plivo) };
      const total = (k: keyof ProviderFaultCounts) => byProvider.twilio[k] + byProvider.plivo[k];
      const result = {
        orders: orders.length,
        customers: customers.length,
        secondOrders: orders.length - customers.length,
        deliveriesPerOrder: 3,
        outcomes: m.outcomes,
        lost: lostOrders.length,
        stillRetrying: stillRetrying.size,
        textsPerOrder: m.textsPerOrder,
        contended: m.contended,
        doubled: m.doubled,
        wrongContent: m.wrongContent,
        sentWithoutText: m.sentWithoutText,
        unreported: m.unreported,
        afterStop: m.afterStop,
        deadLetteredValid: deadLettered.length,
        // Texts the provider accepted after the pause had had 5 s to reach every worker, before the resume.
        sentWhilePaused: texts.filter(
          (t) => t.at > pauseWindow.pausedAt + PAUSE_REACH_MS && t.at < pauseWindow.resumedAt,
        ).length,
        p95LatencyMs: percentile(m.latenciesMs, 95),
        p50LatencyMs: percentile(m.latenciesMs, 50),
        seconds: Math.round((Date.now() - t0) / 1000),
        faults: {
          workerKills: counters.kills,
          devServerRestarts: 1,
          dbOutageSeconds: opt.dbOutageSeconds,
          pauseSeconds: opt.pauseSeconds,
          stopsAcked: counters.stopsAcked,
          stopsUnacked: stoppers.length - counters.stopsAcked,
          providerSendCalls: total('sendCalls'),
          provider5xx: total('errors5xx'),
          provider429: total('errors429'),
          providerDropped: total('dropped'),
          byProvider,
          httpIngressRetries: counters.httpRetries,
        },
        ordersWithSeveralHistoryRows: m.ordersWithSeveralHistoryRows,
        numbersBought: twilio.purchases().length + plivo.purchases().length,
      };
      if (lostOrders.length > 0)
        log(
          `lost orders (first 10): ${lostOrders
            .slice(0, 10)
            .map((o) => o.orderId)
            .join(', ')}`,
        );
      for (const [what, examples] of Object.entries(m.examples))
        if (examples.length > 0) log(`${what} (first 10): ${JSON.stringify(examples)}`);
      if (deadLettered.length > 0)
        log(
          `dead-lettered (first 3): ${JSON.stringify(deadLettered.slice(0, 3).map((d) => [d.reason, d.description]))}`,
        );
      failed =
        result.lost +
          result.doubled +
          result.wrongContent +
          result.sentWithoutText +
          result.unreported +
          result.afterStop +
          result.sentWhilePaused +
          result.deadLetteredValid >
        0;
      if (failed) {
        // Everything about the customers concerned, for the investigation: orders, history, claims,
        // texts, and each fake's request log for their numbers.
        const suspects = new Set<string>([
          ...lostOrders.map((o) => o.orderId),
          ...m.examples.doubled,
          ...m.examples.wrongContent.map((w) => w.orderId),
          ...m.examples.sentWithoutText,
        ]);
        const phones = new Set(orders.filter((o) => suspects.has(o.orderId)).map((o) => digits(o.phone)));
        for (const u of m.examples.unreported) phones.add(digits(u.to));
        const mine = (phone: unknown) => typeof phone === 'string' && phones.has(digits(phone));
        const ids = new Set(
          orders.filter((o) => phones.has(digits(o.phone))).map((o) => o.orderId.toLowerCase()),
        );
        const details = {
          orders: orders
            .filter((o) => phones.has(digits(o.phone)))
            .map(({ orderId, orderNumber, venueId, phone, firstSentAt, stop }) => ({
              orderId,
              orderNumber,
              venueId,
              phone,
              firstSentAt,
              stop,
            })),
          history: history.filter((r) => ids.has(r.orderId)),
          claims: await db.knex('SmsOrderClaims').whereIn('OrderID', [...ids]),
          leases: await db.knex('SmsRecipientLeases'),
          texts: texts.filter((t) => mine(t.to)),
          twilioRequests: twilio.requests.filter((r) => mine(r.body.To) || mine(r.query.To)),
          plivoRequests: plivo.requests.filter((r) => mine(r.body.dst) || mine(r.query.to_number)),
        };
        fs.writeFileSync(path.join(workDir, 'failure-details.json'), JSON.stringify(details, null, 2));
        log(`details of the failing customers in ${workDir}/failure-details.json`);
      }
      if (failed || opt.keepLogs) log(`process logs kept in ${workDir}`);
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } finally {
      injecting = false;
      clearInterval(progress);
    }
  } finally {
    await Promise.all(roles.map((r) => stopRole(r).catch(() => undefined)));
    killChildren();
    await sender?.close().catch(() => undefined);
    await sbClient?.close().catch(() => undefined);
    await temporalConnection?.close().catch(() => undefined);
    await peer?.stop().catch(() => undefined);
    await twilio?.stop().catch(() => undefined);
    await plivo?.stop().catch(() => undefined);
    await server?.stop().catch(() => undefined);
    await proxy?.close().catch(() => undefined);
    await db?.destroy().catch(() => undefined);
    if (!failed && !opt.keepLogs) fs.rmSync(workDir, { recursive: true, force: true });
  }
  process.exit(failed ? 1 : 0);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping every child`);
    killChildren();
    process.exit(130);
  });
}

main().catch((err: unknown) => {
  log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  killChildren();
  process.exit(2);
});
