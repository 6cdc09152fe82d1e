import { SmsProviderError } from '../../../domain/errors';
import { TwilioProvider, type TwilioProviderOptions } from '../../../providers/twilio/twilio-provider';
import type { InjectedError } from '../../support/provider-fakes/fake-server';
import {
  startTwilioFake,
  twilioProviderOptions,
  type TwilioFake,
} from '../../support/provider-fakes/twilio-fake';
import { rejectionOf } from '../../support/rejection';

const to = '+14155550140';
const from = '+16282345678';
const statusCallbackUrl = 'https://hooks.example.com/sms/status';

const failure = (promise: Promise<unknown>) => rejectionOf(promise, SmsProviderError);

describe('Twilio adapter (real SDK against an HTTP fake)', () => {
  let fake: TwilioFake;

  const provider = (options: Partial<TwilioProviderOptions> = {}) =>
    new TwilioProvider({ ...twilioProviderOptions(fake), timeoutMs: 2_000, ...options });

  beforeEach(async () => {
    fake = await startTwilioFake();
  });
  afterEach(async () => {
    await fake.settled();
    await fake.stop();
  });

  test('send: the message reaches the fake, ids and status come back, statusCallback is passed', async () => {
    const accepted = await provider().send({ to, from, body: 'Order 1001 confirmed', statusCallbackUrl });

    expect(fake.messages()).toHaveLength(1);
    const [stored] = fake.messages();
    expect(stored).toMatchObject({
      to,
      from,
      body: 'Order 1001 confirmed',
      statusCallback: statusCallbackUrl,
    });
    expect(accepted.providerMessageId).toBe(stored.sid);
    expect(accepted.providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
    expect(accepted.status).toBe('queued');
    expect(Math.abs(accepted.acceptedAt.getTime() - stored.dateCreated.getTime())).toBeLessThan(1_000);
    expect(fake.requests).toEqual([
      expect.objectContaining({
        method: 'POST',
        path: `/2010-04-01/Accounts/${fake.accountSid}/Messages.json`,
        status: 201,
      }),
    ]);
  });

  test('send without a status callback sends no StatusCallback field', async () => {
    await provider().send({ to, from, body: 'no callback' });
    expect(fake.requests[0].body).not.toHaveProperty('StatusCallback');
  });

  const cases: { name: string; injected: InjectedError; type: string; code: string; retryable: boolean }[] = [
    {
      name: 'opted out',
      injected: { status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' },
      type: 'OptedOut',
      code: '21610',
      retryable: false,
    },
    {
      name: 'invalid To',
      injected: { status: 400, code: 21211, message: `The 'To' number ${to} is not a valid phone number.` },
      type: 'InvalidPhone',
      code: '21211',
      retryable: false,
    },
    {
      name: 'not a mobile number',
      injected: { status: 400, code: 21614, message: `'To' number ${to} is not a valid mobile number` },
      type: 'InvalidPhone',
      code: '21614',
      retryable: false,
    },
    {
      name: 'region not enabled',
      injected: { status: 400, code: 21408, message: 'Permission to send an SMS has not been enabled' },
      type: 'InvalidPhone',
      code: '21408',
      retryable: false,
    },
    {
      name: 'rate limited (20429)',
      injected: { status: 429, code: 20429, message: 'Too Many Requests' },
      type: 'RateLimited',
      code: '20429',
      retryable: true,
    },
    {
      name: 'rate limited (bare 429, no JSON)',
      injected: { status: 429, rawBody: 'Too Many Requests' },
      type: 'RateLimited',
      code: 'HTTP_429',
      retryable: true,
    },
    {
      name: 'auth (20003)',
      injected: { status: 401, code: 20003, message: 'Authenticate' },
      type: 'ProviderAuth',
      code: '20003',
      retryable: true,
    },
    {
      name: 'forbidden',
      injected: { status: 403, code: 20403, message: 'Forbidden' },
      type: 'ProviderAuth',
      code: '20403',
      retryable: true,
    },
    {
      name: 'server error',
      injected: { status: 500, code: 20500, message: 'Internal Server Error' },
      type: 'ProviderUnavailable',
      code: '20500',
      retryable: true,
    },
    {
      name: "a proxy's 503 page",
      injected: { status: 503, rawBody: '<html><body>503 Service Unavailable</body></html>' },
      type: 'ProviderUnavailable',
      code: 'HTTP_503',
      retryable: true,
    },
    {
      name: 'other 4xx',
      injected: {
        status: 400,
        code: 21606,
        message: "The 'From' phone number is not a valid message-capable number",
      },
      type: 'Misconfiguration',
      code: '21606',
      retryable: false,
    },
  ];

  test.each(cases)(
    '$name → $type ($code), retryable: $retryable',
    async ({ injected, type, code, retryable }) => {
      fake.fail({ to }, injected);
      const error = await failure(provider().send({ to, from, body: 'x' }));
      expect(error).toMatchObject({ type, code, httpStatus: injected.status });
      expect(error.retryable).toBe(retryable);
      expect(error.message).not.toContain(to);
      expect(String((error.cause as Error).message)).not.toContain(to);
      expect(fake.messages()).toHaveLength(0);
      // The fault was consumed: the next send goes through.
      await expect(provider().send({ to, from, body: 'x' })).resolves.toBeDefined();
    },
  );

  test('fail(next N) hits any call, then stops', async () => {
    fake.fail(2, { status: 503, code: 20503, message: 'Service Unavailable' });
    const p = provider();
    await failure(p.send({ to, from, body: 'a' }));
    await failure(p.findAcceptedMessage({ to, from, body: 'a', sentAfter: new Date() }));
    await expect(p.send({ to, from, body: 'a' })).resolves.toBeDefined();
  });

  test('wrong credentials → ProviderAuth from the 401 answer', async () => {
    const error = await failure(provider({ authToken: 'not-the-token' }).send({ to, from, body: 'x' }));
    expect(error).toMatchObject({ type: 'ProviderAuth', code: '20003', httpStatus: 401 });
    expect(error.retryable).toBe(true);
    expect(fake.requests[0]).toMatchObject({ outcome: 'unauthorized', status: 401 });
  });

  test('an answer slower than the timeout → ProviderUnavailable, nothing accepted', async () => {
    fake.delay(5_000);
    const error = await failure(provider({ timeoutMs: 300 }).send({ to, from, body: 'slow' }));
    expect(error).toMatchObject({ type: 'ProviderUnavailable', code: 'ETIMEDOUT' });
    expect(error.retryable).toBe(true);
    await fake.settled();
    expect(fake.requests[0].outcome).toBe('abandoned');
    expect(fake.messages()).toHaveLength(0);
  });

  test('nobody listening → ProviderUnavailable (ECONNREFUSED)', async () => {
    const baseUrl = fake.baseUrl;
    await fake.stop();
    fake = await startTwilioFake();
    const error = await failure(provider({ apiBaseUrl: baseUrl }).send({ to, from, body: 'x' }));
    expect(error).toMatchObject({ type: 'ProviderUnavailable', code: 'ECONNREFUSED' });
  });

  test('accepted then dropped: send fails as ProviderUnavailable, reconciliation finds exactly that message', async () => {
    const p = provider();
    await p.send({ to, from, body: 'Order 1000 confirmed' }); // an older, different message to the same person
    const sentAfter = new Date();
    fake.acceptThenDrop();

    const error = await failure(p.send({ to, from, body: 'Order 1001 confirmed' }));
    expect(error).toMatchObject({ type: 'ProviderUnavailable', code: 'ECONNRESET' });
    expect(fake.requests.at(-1)?.outcome).toBe('dropped');

    const stored = fake.messages().filter((m) => m.body === 'Order 1001 confirmed');
    expect(stored).toHaveLength(1);
    const found = await p.findAcceptedMessage({ to, from, body: 'Order 1001 confirmed', sentAfter });
    expect(found).toEqual({
      providerMessageId: stored[0].sid,
      status: 'sent',
      acceptedAt: expect.any(Date),
    });
    expect(fake.requests.at(-1)?.query).toMatchObject({
      To: to,
      From: from,
      'DateSent>': expect.any(String),
    });
  });

  test('reconciliation also finds a dropped message still queued at Twilio (no date_sent yet)', async () => {
    await fake.stop();
    fake = await startTwilioFake({ dispatch: false });
    const p = provider();
    const sentAfter = new Date();
    fake.acceptThenDrop();
    await failure(p.send({ to, from, body: 'Order 1002 confirmed' }));
    const [stored] = fake.messages();
    expect(stored).toMatchObject({ status: 'queued', dateSent: null });

    const found = await p.findAcceptedMessage({ to, from, body: 'Order 1002 confirmed', sentAfter });
    expect(found).toEqual({ providerMessageId: stored.sid, status: 'queued', acceptedAt: expect.any(Date) });
    const lists = fake.requests.filter((r) => r.method === 'GET');
    expect(lists.map((r) => 'DateSent>' in r.query)).toEqual([true, false]);
  });

  test('findAcceptedMessage is null when nothing matches to/from/body', async () => {
    const p = provider();
    await p.send({ to, from, body: 'Order 1 confirmed' });
    const sentAfter = new Date(Date.now() - 1_000);
    await expect(
      p.findAcceptedMessage({ to, from, body: 'Order 2 confirmed', sentAfter }),
    ).resolves.toBeNull();
    await expect(
      p.findAcceptedMessage({ to: '+14155550199', from, body: 'Order 1 confirmed', sentAfter }),
    ).resolves.toBeNull();
  });

  test('findAcceptedMessage follows next_page_uri (absolute api.twilio.com links are rebased too)', async () => {
    await fake.stop();
    fake = await startTwilioFake({ maxPageSize: 2 });
    const p = provider();
    const sentAfter = new Date(Date.now() - 1_000);
    const first = await p.send({ to, from, body: 'the one' });
    for (let i = 0; i < 4; i++) await p.send({ to, from, body: `later ${i}` });

    const found = await p.findAcceptedMessage({ to, from, body: 'the one', sentAfter });
    expect(found?.providerMessageId).toBe(first.providerMessageId);
    expect(fake.requests.filter((r) => r.method === 'GET').length).toBeGreaterThanOrEqual(3);
  });

  test('buyNumber / findOwnedNumber / releaseNumber', async () => {
    const p = provider();
    const smsWebhookUrl = 'https://hooks.example.com/sms/inbound';
    const bought = await p.buyNumber({ friendlyName: 'venue-42', country: 'US', smsWebhookUrl });

    expect(bought.phoneNumber).toMatch(/^\+1628\d{7}$/);
    expect(bought.providerId).toMatch(/^PN[0-9a-f]{32}$/);
    expect(bought.friendlyName).toBe('venue-42');
    expect(fake.purchases()).toEqual([
      expect.objectContaining({
        sid: bought.providerId,
        phoneNumber: bought.phoneNumber,
        friendlyName: 'venue-42',
        smsUrl: smsWebhookUrl,
        smsMethod: 'POST',
      }),
    ]);
    const search = fake.requests.find((r) => r.path.endsWith('/AvailablePhoneNumbers/US/Local.json'));
    expect(search?.query).toMatchObject({ SmsEnabled: 'true', PageSize: '1' });

    await p.buyNumber({ friendlyName: 'venue-7', country: 'US' });
    await expect(p.findOwnedNumber('venue-42')).resolves.toEqual(bought);
    await expect(p.findOwnedNumber('venue-4')).resolves.toBeNull();

    await p.releaseNumber(bought.providerId);
    expect(fake.ownedNumbers().map((n) => n.friendlyName)).toEqual(['venue-7']);
    await expect(p.findOwnedNumber('venue-42')).resolves.toBeNull();
    // Releasing again (a retry after a lost answer) is not an error.
    await expect(p.releaseNumber(bought.providerId)).resolves.toBeUndefined();
  });

  test('buyNumber where Twilio has no inventory → Misconfiguration', async () => {
    const error = await failure(provider().buyNumber({ friendlyName: 'venue-1', country: 'ZZ' }));
    expect(error).toMatchObject({ type: 'Misconfiguration', code: '20404', httpStatus: 404 });
    expect(fake.purchases()).toHaveLength(0);
  });

  test('buyNumber: the picked number was taken meanwhile (21422) → retryable, nothing bought', async () => {
    fake.fail(
      { path: '/IncomingPhoneNumbers.json', method: 'POST' },
      { status: 400, code: 21422, message: 'PhoneNumber requested is not available' },
    );
    const p = provider();
    const error = await failure(p.buyNumber({ friendlyName: 'venue-2', country: 'US' }));
    expect(error).toMatchObject({ type: 'ProviderUnavailable', code: '21422', httpStatus: 400 });
    expect(error.retryable).toBe(true);
    expect(fake.purchases()).toHaveLength(0);
    await expect(p.buyNumber({ friendlyName: 'venue-2', country: 'US' })).resolves.toMatchObject({
      friendlyName: 'venue-2',
    });
  });
});
