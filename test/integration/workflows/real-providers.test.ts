import type { OrderConfirmationEvent } from '../../../domain/order-event';
import type { ProviderName } from '../../../domain/enums';
import { orderWorkflowId } from '../../../temporal/ids';
import { releaseVenueNumber } from '../../../temporal/venue-number';
import { useResource } from '../../support/lifecycle';
import type { FakeControls, InjectedError } from '../../support/provider-fakes/fake-server';
import { plivoEnv, startPlivoFake } from '../../support/provider-fakes/plivo-fake';
import { startTwilioFake, twilioEnv } from '../../support/provider-fakes/twilio-fake';
import { waitFor } from '../../support/temporal';
import { startOptedInOrder, useTestWorkers } from '../../support/workers';

/** What the tests read off either fake, in one shape. */
interface ProviderFake {
  controls: FakeControls;
  env: Record<string, string>;
  messages(): Array<{ id: string; to: string; from: string; text: string }>;
  purchases(): Array<{ phoneNumber: string; released: boolean }>;
  optedOut: InjectedError;
  invalidPhone: InjectedError;
  /** Retryable answers: rate limited, unavailable, auth. */
  retryable: InjectedError[];
  /** The code history records for each. */
  codes: { optedOut: string; invalidPhone: string };
}

async function twilioFake(): Promise<ProviderFake> {
  const fake = await startTwilioFake();
  return {
    controls: fake,
    env: twilioEnv(fake),
    messages: () => fake.messages().map((m) => ({ id: m.sid, to: m.to, from: m.from, text: m.body })),
    purchases: () => fake.purchases().map((n) => ({ phoneNumber: n.phoneNumber, released: !!n.releasedAt })),
    optedOut: { status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' },
    retryable: [
      { status: 429, code: 20429, message: 'Too Many Requests' },
      { status: 503, message: 'Service Unavailable' },
      { status: 401, code: 20003, message: 'Authenticate' },
    ],
    invalidPhone: { status: 400, code: 21211, message: "The 'To' number is not a valid phone number." },
    codes: { optedOut: '21610', invalidPhone: '21211' },
  };
}

async function plivoFake(): Promise<ProviderFake> {
  const fake = await startPlivoFake();
  return {
    controls: fake,
    env: plivoEnv(fake),
    messages: () =>
      fake.messages().map((m) => ({ id: m.uuid, to: `+${m.dst}`, from: `+${m.src}`, text: m.text })),
    purchases: () => fake.purchases().map((n) => ({ phoneNumber: `+${n.number}`, released: !!n.releasedAt })),
    optedOut: { status: 400, message: 'destination number has opted out (replied STOP)' },
    retryable: [
      { status: 429, message: 'Too many requests' },
      { status: 503, message: 'Service Unavailable' },
      { status: 401, message: 'Authentication failed' },
    ],
    invalidPhone: { status: 400, message: 'invalid destination number' },
    codes: { optedOut: 'HTTP_400', invalidPhone: 'HTTP_400' },
  };
}

describe.each<[ProviderName, () => Promise<ProviderFake>]>([
  ['twilio', twilioFake],
  ['plivo', plivoFake],
])('orders through %s, its real SDK and a local fake', (provider, startFake) => {
  const fake = useResource(startFake, (f) => f.controls.stop());
  const { w, db, client, taskQueue } = useTestWorkers(`real-${provider}`, { env: () => fake.env });
  afterEach(() => fake.controls.resetFaults());

  const order = (overrides: Record<string, unknown> = {}) => startOptedInOrder(w, taskQueue, overrides);
  const result = (e: OrderConfirmationEvent) =>
    client.workflow.getHandle(orderWorkflowId(e.orderId)).result();
  const sentTo = (to: string) => fake.messages().filter((m) => m.to === to);

  test('the first order buys the venue number there and sends from it; history names the message', async () => {
    const e = await order({ PhoneNumber: '+14155550401' });
    expect(await result(e)).toMatchObject({ outcome: 'sent' });
    const [message] = sentTo(e.phoneNumber);
    const bought = fake.purchases().filter((p) => p.phoneNumber === message.from);
    expect(bought).toEqual([{ phoneNumber: message.from, released: false }]);
    expect(await w.repos.history.findByOrderId(e.orderId)).toEqual([
      expect.objectContaining({ status: 'sent', provider, providerMessageId: message.id }),
    ]);
  });

  test('releasing a venue number frees it at the provider and keeps the row; the next order buys anew', async () => {
    const first = await order({ PhoneNumber: '+14155550405' });
    await result(first);
    const before = await w.repos.venueNumbers.findActive(first.venueId, provider);
    expect(await releaseVenueNumber(client, taskQueue, first.venueId, provider)).toEqual({ released: true });
    expect(fake.purchases().find((p) => p.phoneNumber === before?.phoneNumber)).toMatchObject({
      released: true,
    });
    expect(await w.repos.venueNumbers.findActive(first.venueId, provider)).toBeNull();
    const rows = await db.knex('VenuePhoneNumbers').where({ VenueID: first.venueId });
    expect(rows).toEqual([expect.objectContaining({ StatusID: 3, PhoneNumber: before?.phoneNumber })]);
    // Releasing again has nothing to do.
    expect(await releaseVenueNumber(client, taskQueue, first.venueId, provider)).toEqual({ released: false });

    const next = await order({ PhoneNumber: '+14155550406', VenueId: first.venueId });
    expect(await result(next)).toMatchObject({ outcome: 'sent' });
    const [message] = sentTo(next.phoneNumber);
    expect(message.from).not.toBe(before?.phoneNumber);
  });

  test('accepted, then the response is lost: the retry finds the accepted message and adopts its id', async () => {
    fake.controls.acceptThenDrop(1);
    const e = await order({ PhoneNumber: '+14155550402' });
    expect(await result(e)).toMatchObject({ outcome: 'sent' });
    const messages = sentTo(e.phoneNumber);
    expect(messages).toHaveLength(1);
    expect(await w.repos.history.findByOrderId(e.orderId)).toEqual([
      expect.objectContaining({ status: 'sent', providerMessageId: messages[0].id }),
    ]);
  });

  test('two close orders for one customer at one venue both go out, each recorded with its own message', async () => {
    // Same customer, same venue, same text (no order number): only time and ownership tell them apart.
    const phone = '+14155550408';
    const first = await order({ PhoneNumber: phone, OrderNumber: undefined });
    expect(await result(first)).toMatchObject({ outcome: 'sent' });
    // The second order's first send is refused without being accepted; its retry reconciles.
    fake.controls.fail({ to: phone }, { status: 503, message: 'Service Unavailable' });
    const second = await order({ PhoneNumber: phone, OrderNumber: undefined, VenueId: first.venueId });
    expect(await result(second)).toMatchObject({ outcome: 'sent' });

    const messages = sentTo(phone);
    expect(messages).toHaveLength(2);
    const [firstRow] = await w.repos.history.findByOrderId(first.orderId);
    const [secondRow] = await w.repos.history.findByOrderId(second.orderId);
    expect(firstRow).toMatchObject({ status: 'sent', providerMessageId: messages[0].id });
    expect(secondRow).toMatchObject({ status: 'sent', providerMessageId: messages[1].id });
  });

  test("a customer's two orders seconds apart, the first refused and the second's answer lost: each texts its own message, once", async () => {
    const phone = '+14155550409';
    // A's first send is refused (nothing sent); B's is accepted and its answer lost. Before the
    // recipient hold, A's retry adopted B's unclaimed message and B's retry sent B's text again.
    fake.controls.fail({ to: phone }, { status: 503, message: 'Service Unavailable' });
    const a = await order({ PhoneNumber: phone, OrderNumber: 'A-2001' });
    await waitFor(async () => fake.controls.requests.some((r) => r.outcome === 'injected'), {
      description: "A's first send refused",
    });
    fake.controls.acceptThenDrop(1);
    const b = await order({ PhoneNumber: phone, OrderNumber: 'B-2002', VenueId: a.venueId });
    expect(await result(a)).toMatchObject({ outcome: 'sent' });
    expect(await result(b)).toMatchObject({ outcome: 'sent' });

    const messages = sentTo(phone);
    expect(messages).toHaveLength(2);
    for (const [e, number] of [
      [a, 'A-2001'],
      [b, 'B-2002'],
    ] as const) {
      const [row] = await w.repos.history.findByOrderId(e.orderId);
      const own = messages.find((m) => m.id === row.providerMessageId);
      expect(own?.text).toContain(number);
    }
  });

  test('the provider says the customer opted out: blocked_opted_out, and consent records it (provider_error)', async () => {
    fake.controls.fail({ to: '+14155550403' }, fake.optedOut);
    const e = await order({ PhoneNumber: '+14155550403' });
    expect(await result(e)).toMatchObject({ outcome: 'blocked_opted_out' });
    expect(sentTo(e.phoneNumber)).toHaveLength(0);
    expect(await w.repos.history.findByOrderId(e.orderId)).toEqual([
      expect.objectContaining({ status: 'blocked_opted_out', errorCode: fake.codes.optedOut }),
    ]);
    // The consent workflow writes it moments later; the send decisions saw it from the signal on.
    const consent = await waitFor(
      async () => {
        const row = await w.repos.consent.get(e.venueId, e.phoneNumber);
        return row?.status === 'opted_out' && row;
      },
      { description: 'the provider opt-out in SQL' },
    );
    expect(consent).toMatchObject({ status: 'opted_out', source: 'provider_error' });
  });

  test('rate limited, unavailable and auth answers are retried until the send goes through', async () => {
    const phone = '+14155550407';
    for (const error of fake.retryable) fake.controls.fail({ to: phone }, error);
    const e = await order({ PhoneNumber: phone });
    expect(await result(e)).toMatchObject({ outcome: 'sent' });
    expect(sentTo(phone)).toHaveLength(1);
    const refused = fake.controls.requests.filter((r) => r.outcome === 'injected').map((r) => r.status);
    expect(refused).toEqual(fake.retryable.map((err) => err.status));
  }, 60_000);

  test('the provider says the number is invalid: failed with its code, one attempt only', async () => {
    fake.controls.fail({ to: '+14155550404', times: 5 }, fake.invalidPhone);
    const e = await order({ PhoneNumber: '+14155550404' });
    expect(await result(e)).toMatchObject({ outcome: 'failed', errorCode: fake.codes.invalidPhone });
    const sends = fake.controls.requests.filter((r) => r.method === 'POST' && r.outcome === 'injected');
    expect(sends).toHaveLength(1);
  });
});
