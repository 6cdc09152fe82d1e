import { SmsProviderError } from '../../../domain/errors';
import { PlivoProvider } from '../../../providers/plivo/plivo-provider';
import type { SmsProvider } from '../../../providers/sms-provider';
import { TwilioProvider } from '../../../providers/twilio/twilio-provider';
import { useResource } from '../../support/lifecycle';
import { waitFor, type FakeControls } from '../../support/provider-fakes/fake-server';
import { plivoProviderOptions, startPlivoFake } from '../../support/provider-fakes/plivo-fake';
import { startTwilioFake, twilioProviderOptions } from '../../support/provider-fakes/twilio-fake';
import { rejectionOf } from '../../support/rejection';

// Both adapters, through their real SDKs over real sockets to the fakes: the caller's abort signal
// reaches the HTTP request (the fake sees the client leave and never handles the call), and
// reconciliation neither looks back before the order's first attempt nor adopts another order's message.

const to = '+14155550160';
const from = '+16282345670';

interface Subject {
  fake: FakeControls;
  provider: SmsProvider;
  /** Ids of what the fake accepted, oldest first. */
  accepted(): string[];
}

async function twilioSubject(): Promise<Subject> {
  const fake = await startTwilioFake();
  const provider = new TwilioProvider(twilioProviderOptions(fake));
  return { fake, provider, accepted: () => fake.messages().map((m) => m.sid) };
}

async function plivoSubject(): Promise<Subject> {
  const fake = await startPlivoFake();
  const provider = new PlivoProvider(plivoProviderOptions(fake));
  return { fake, provider, accepted: () => fake.messages().map((m) => m.uuid) };
}

const rejection = (promise: Promise<unknown>) => rejectionOf(promise, Error);

/** The call is held at the fake; abort it there and measure how long the rejection takes. */
async function abortWhileHeld(s: Subject, call: (signal: AbortSignal) => Promise<unknown>) {
  s.fake.delay(30_000);
  const controller = new AbortController();
  const settled = rejection(call(controller.signal));
  await waitFor(() => s.fake.requests.length === 1, { what: 'the call to reach the fake' });
  const abortedAt = Date.now();
  controller.abort(new Error('attempt timed out'));
  const error = await settled;
  const tookMs = Date.now() - abortedAt;
  await s.fake.settled();
  return { error, tookMs, outcome: s.fake.requests[0].outcome };
}

describe.each<[string, () => Promise<Subject>]>([
  ['twilio', twilioSubject],
  ['plivo', plivoSubject],
])('%s adapter: abort signals and message ownership', (_name, start) => {
  const s = useResource(
    start,
    async ({ fake }) => {
      fake.resetFaults();
      await fake.settled();
      await fake.stop();
    },
    { perTest: true },
  );

  test('a send aborted mid-request rejects at once (ABORTED) and the provider never handles it', async () => {
    const { error, tookMs, outcome } = await abortWhileHeld(s, (signal) =>
      s.provider.send({ to, from, body: 'Order 1 confirmed', signal }),
    );
    expect(error).toBeInstanceOf(SmsProviderError);
    expect(error).toMatchObject({ type: 'ProviderUnavailable', code: 'ABORTED' });
    expect(tookMs).toBeLessThan(1_000);
    expect(outcome).toBe('abandoned');
    expect(s.accepted()).toHaveLength(0);
  });

  test('a send whose signal is already aborted makes no request', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await rejection(s.provider.send({ to, from, body: 'x', signal: controller.signal }));
    expect(error).toMatchObject({ type: 'ProviderUnavailable', code: 'ABORTED' });
    expect(s.fake.requests).toHaveLength(0);
  });

  test('reconciliation aborted mid-request rejects at once; its list request is abandoned', async () => {
    const { error, tookMs, outcome } = await abortWhileHeld(s, (signal) =>
      s.provider.findAcceptedMessage({ to, from, body: 'x', sentAfter: new Date(), signal }),
    );
    expect(error).toMatchObject({ type: 'ProviderUnavailable', code: 'ABORTED' });
    expect(tookMs).toBeLessThan(1_000);
    expect(outcome).toBe('abandoned');
  });

  test('number look-up and purchase take the signal too', async () => {
    const found = await abortWhileHeld(s, (signal) => s.provider.findOwnedNumber('venue-7', signal));
    expect(found).toMatchObject({ error: { code: 'ABORTED' }, outcome: 'abandoned' });
    expect(found.tookMs).toBeLessThan(1_000);

    s.fake.resetFaults();
    const bought = await abortWhileHeld(s, (signal) =>
      s.provider.buyNumber({ friendlyName: 'venue-7', country: 'US', signal }),
    );
    expect(bought).toMatchObject({ error: { code: 'ABORTED' }, outcome: 'abandoned' });
    expect(bought.tookMs).toBeLessThan(1_000);
  });

  test("reconciliation does not look back before the order's first attempt", async () => {
    // Another order's identical message, accepted 3 s before this order's first attempt was scheduled.
    await s.provider.send({ to, from, body: 'Order confirmed' });
    const sentAfter = new Date(Date.now() + 3_000);
    await expect(
      s.provider.findAcceptedMessage({ to, from, body: 'Order confirmed', sentAfter }),
    ).resolves.toBeNull();
  });

  test("reconciliation skips messages another order owns and adopts this order's own", async () => {
    const sentAfter = new Date(Date.now() - 1);
    const other = await s.provider.send({ to, from, body: 'Order confirmed' });
    const asked: string[][] = [];
    const claimedElsewhere = async (ids: string[]) => {
      asked.push(ids);
      return new Set(ids.filter((id) => id === other.providerMessageId));
    };
    const query = { to, from, body: 'Order confirmed', sentAfter, claimedElsewhere };

    await expect(s.provider.findAcceptedMessage(query)).resolves.toBeNull();
    expect(asked[0]).toEqual([other.providerMessageId]);

    const own = await s.provider.send({ to, from, body: 'Order confirmed' });
    const found = await s.provider.findAcceptedMessage(query);
    expect(found?.providerMessageId).toBe(own.providerMessageId);
    expect(asked.at(-1)).toEqual(expect.arrayContaining([other.providerMessageId, own.providerMessageId]));
  });

  test('a failing ownership look-up fails reconciliation with its own error, not as a provider error', async () => {
    await s.provider.send({ to, from, body: 'Order confirmed' });
    const dbDown = new Error('database unavailable');
    const error = await rejection(
      s.provider.findAcceptedMessage({
        to,
        from,
        body: 'Order confirmed',
        sentAfter: new Date(Date.now() - 1_000),
        claimedElsewhere: () => Promise.reject(dbDown),
      }),
    );
    expect(error).toBe(dbDown);
  });
});
