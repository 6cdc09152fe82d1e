import { randomUUID } from 'node:crypto';
import { loadConfigOrExit } from '../config';

/**
 * `npm run demo` against a running `npm start`: records consent for a few customers and posts orders,
 * so the Web UI shows a sent, a skipped, a blocked and a duplicate order within a minute.
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
  });
  await post('/api/internal/consent', {
    venueId,
    phoneNumber: customers.optedOut.phone,
    status: 'opted_in',
    source: 'checkout',
  });
  await post('/api/internal/consent', {
    venueId,
    phoneNumber: customers.optedOut.phone,
    status: 'opted_out',
    source: 'support_request',
  });
  console.log(`consent recorded for venue ${venueId}`);
  // The consent entities apply changes within a second; give them a moment before the orders arrive.
  await waitUntil(async () => {
    const res = await fetch(`${api}/api/consent/${venueId}/${encodeURIComponent(customers.optedOut.phone)}`, {
      headers,
    });
    return res.ok && ((await res.json()) as { consentStatus?: string }).consentStatus === 'opted_out';
  });

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
  }
  console.log(
    `\nWatch them in the Web UI: http://localhost:8233/namespaces/${config.temporal.namespace}/workflows`,
  );
  console.log(`Or: curl -H 'authorization: Bearer ${config.api.token}' ${api}/api/orders/${sent.OrderId}`);
}

async function waitUntil(probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('timed out waiting for consent to be applied; is `npm start` running?');
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
