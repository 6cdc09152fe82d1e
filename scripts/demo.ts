import { randomUUID } from 'node:crypto';
import { loadConfigOrExit } from '../config';
import { createRepositories } from '../db';
import { createKnex } from '../db/knex';
import { postSimulatedReply, venueSimulatorNumber } from './simulated-reply';

/**
 * `npm run demo` against a running `npm start`: records consent for a few customers and posts orders,
 * so the Web UI shows a sent, a skipped, a blocked and a duplicate order within a minute; then the
 * customer who got the first SMS texts STOP back (a signed simulator webhook) and their next order
 * ends `blocked_opted_out`. Each outcome is checked: the demo exits 1 on any other, so CI runs it
 * against `npm start` (scripts/ci-quick-start.sh).
 */
const config = loadConfigOrExit();
const api = process.env.API_URL ?? `http://localhost:${config.api.port}`;
const headers = { 'content-type': 'application/json', authorization: `Bearer ${config.api.token}` };
const venueId = 4200 + Math.floor(Math.random() * 100);

async function post(path: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${api}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  const json: unknown = await res.json();
  if (!res.ok) throw new Error(`${path} → ${res.status} ${JSON.stringify(json)}`);
  return json;
}

function order(name: string, phone: string) {
  return {
    OrderId: randomUUID(),
    VenueId: venueId,
    CustomerId: randomUUID(),
    PhoneNumber: phone,
    CustomerName: name,
    OrderTotal: 89.5,
    TicketCount: 2,
    EventTimestamp: new Date().toISOString(),
    OrderNumber: `D-${Math.floor(Math.random() * 100000)}`,
    EventName: 'Symphony No. 9',
    EventDate: new Date(Date.now() + 14 * 86_400_000).toISOString(),
    Currency: 'USD',
    Locale: 'en-US',
    TimeZone: 'America/New_York',
  };
}

async function main(): Promise<void> {
  const customers = {
    optedIn: { name: 'Grace Hopper', phone: '+14155552671' },
    optedOut: { name: 'Alan Turing', phone: '+14155552672' },
    unknown: { name: 'Edsger Dijkstra', phone: '+14155552673' },
  };
  await post('/api/internal/consent', {
    venueId,
    phoneNumber: customers.optedIn.phone,
    status: 'opted_in',
    source: 'checkout',
    occurredAt: new Date(Date.now() - 60_000).toISOString(),
  });
  await post('/api/internal/consent', {
    venueId,
    phoneNumber: customers.optedOut.phone,
    status: 'opted_in',
    source: 'checkout',
    occurredAt: new Date(Date.now() - 60_000).toISOString(),
  });
  await post('/api/internal/consent', {
    venueId,
    phoneNumber: customers.optedOut.phone,
    status: 'opted_out',
    source: 'support_request',
  });
  console.log(`consent recorded for venue ${venueId}`);
  // The consent entities apply changes within a second; give them a moment before the orders arrive.
  await waitUntil('consent to be applied', () => consentIs(customers.optedOut.phone, 'opted_out'));

  const sent = order(customers.optedIn.name, customers.optedIn.phone);
  const orders = [
    ['sent', sent],
    ['blocked_opted_out', order(customers.optedOut.name, customers.optedOut.phone)],
    ['skipped_no_consent', order(customers.unknown.name, customers.unknown.phone)],
    ['duplicate of the first (no second workflow)', sent],
  ] as const;
  for (const [expected, body] of orders) {
    const result = (await post('/api/events/send-order-confirmation-sms', body)) as {
      workflowId: string;
      started: boolean;
    };
    console.log(`${expected.padEnd(45)} ${result.workflowId} started=${result.started}`);
    // The duplicate is the first order's event again: it must start nothing, and every other must start.
    const duplicate = expected.startsWith('duplicate');
    if (result.started === duplicate) throw new Error(`${expected}: started=${result.started}`);
  }
  for (const [expected, body] of orders.slice(0, 3)) await expectOutcome(body.OrderId, expected);
  // The first order was sent, so the venue has its number: the customer can text it back.
  await stopThenOrderAgain(customers.optedIn);
  console.log(
    `\nWatch them in the Web UI: http://localhost:8233/namespaces/${config.temporal.namespace}/workflows`,
  );
  console.log(`Or: curl -H 'authorization: Bearer ${config.api.token}' ${api}/api/orders/${sent.OrderId}`);
}

/** The customer replies STOP to the venue's number (as the provider would post it); their next order is blocked. */
async function stopThenOrderAgain(customer: { name: string; phone: string }): Promise<void> {
  const provider = config.sms.providerByVenue[venueId] ?? config.sms.provider;
  const secret = config.simulator.webhookSecret;
  if (provider !== 'simulator' || !secret) {
    console.log(`\n(STOP reply skipped: it needs the simulator provider and SIMULATOR_WEBHOOK_SECRET)`);
    return;
  }
  const knex = createKnex(config.databaseUrl, config.databaseAuth);
  const venueNumber = await venueSimulatorNumber(createRepositories(knex).venueNumbers, venueId).finally(() =>
    knex.destroy(),
  );
  const reply = await postSimulatedReply({
    baseUrl: config.api.publicBaseUrl,
    secret,
    from: customer.phone,
    to: venueNumber,
    text: 'STOP',
  });
  if (reply.status !== 200) throw new Error(`the STOP webhook was answered ${reply.status} ${reply.body}`);
  console.log(
    `\n${customer.name} texts STOP to the venue's number (POST /webhooks/simulator → ${reply.status})`,
  );
  await waitUntil('the STOP to be applied', () => consentIs(customer.phone, 'opted_out'));

  const later = order(customer.name, customer.phone);
  const result = (await post('/api/events/send-order-confirmation-sms', later)) as { workflowId: string };
  await expectOutcome(later.OrderId, 'blocked_opted_out');
  console.log(`${'later order after the STOP: blocked_opted_out'.padEnd(45)} ${result.workflowId}`);
}

/** Waits for the order to finish and fails the demo (exit 1) when it ended otherwise than shown. */
async function expectOutcome(orderId: string, expected: string): Promise<void> {
  await waitUntil(`order ${orderId} to finish`, async () => finished(await outcomeOf(orderId)));
  const outcome = await outcomeOf(orderId);
  if (outcome !== expected) throw new Error(`order ${orderId} ended ${outcome}, expected ${expected}`);
}

/** The order API reports `pending` (the search attribute) until the workflow wrote its outcome. */
function finished(outcome: string | undefined): boolean {
  return outcome !== undefined && outcome !== 'pending';
}

async function consentIs(phone: string, status: string): Promise<boolean> {
  const res = await fetch(`${api}/api/consent/${venueId}/${encodeURIComponent(phone)}`, { headers });
  return res.ok && ((await res.json()) as { consentStatus?: string }).consentStatus === status;
}

async function outcomeOf(orderId: string): Promise<string | undefined> {
  const res = await fetch(`${api}/api/orders/${orderId}`, { headers });
  if (!res.ok) return undefined;
  return ((await res.json()) as { outcome?: string | null }).outcome ?? undefined;
}

async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}; is \`npm start\` running?`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
