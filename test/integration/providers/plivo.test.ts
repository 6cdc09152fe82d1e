import path from 'node:path';
import axios from 'axios';
import { SmsProviderError } from '../../../domain/errors';
import { PlivoProvider, type PlivoProviderOptions } from '../../../providers/plivo/plivo-provider';
import { waitFor, type InjectedError } from '../../support/provider-fakes/fake-server';
import {
  plivoProviderOptions,
  startPlivoFake,
  type PlivoFake,
} from '../../support/provider-fakes/plivo-fake';
import { rejectionOf } from '../../support/rejection';

const to = '+14155550140';
const from = '+16282345678';
const statusCallbackUrl = 'https://hooks.example.com/sms/status';

const failure = (promise: Promise<unknown>) => rejectionOf(promise, SmsProviderError);

function isPlivoAgent(agent: unknown): boolean {
  return (
    (agent as { options?: { freeSocketTimeout?: unknown } } | undefined)?.options?.freeSocketTimeout === 30000
  );
}

describe('Plivo adapter (real SDK against an HTTP fake)', () => {
  let fake: PlivoFake;

  const provider = (options: Partial<PlivoProviderOptions> = {}) =>
    new PlivoProvider({ ...plivoProviderOptions(fake), timeoutMs: 2_000, ...options });

  beforeEach(async () => {
    fake = await startPlivoFake();
  });
  afterEach(async () => {
    await fake.settled();
    await fake.stop();
  });

  test('send: the message reaches the fake, the uuid comes back, url (status callback) is passed', async () => {
    const accepted = await provider().send({ to, from, body: 'Order 1001 confirmed', statusCallbackUrl });

    expect(fake.messages()).toHaveLength(1);
    const [stored] = fake.messages();
    expect(stored).toMatchObject({
      src: '16282345678',
      dst: '14155550140',
      text: 'Order 1001 confirmed',
      url: statusCallbackUrl,
      method: 'POST',
    });
    expect(accepted).toEqual({
      providerMessageId: stored.uuid,
      status: 'queued',
      acceptedAt: expect.any(Date),
    });
    expect(fake.requests).toEqual([
      expect.objectContaining({
        method: 'POST',
        path: `/v1/Account/${fake.authId}/Message/`,
        body: { src: from, dst: to, text: 'Order 1001 confirmed', url: statusCallbackUrl, method: 'POST' },
        status: 202,
      }),
    ]);
  });

  test('send without a status callback sends no url', async () => {
    await provider().send({ to, from, body: 'no callback' });
    expect(fake.requests[0].body).toEqual({ src: from, dst: to, text: 'no callback' });
  });

  const cases: { name: string; injected: InjectedError; type: string; code: string; retryable: boolean }[] = [
    {
      name: 'opted out (400 text)',
      injected: { status: 400, message: `Destination number ${to} has opted out (replied STOP)` },
      type: 'OptedOut',
      code: 'HTTP_400',
      retryable: false,
    },
    {
      name: 'invalid destination (400 text)',
      injected: { status: 400, message: `dst number ${to} is not a valid phone number` },
      type: 'InvalidPhone',
      code: 'HTTP_400',
      retryable: false,
    },
    {
      name: 'geo permission (403 on send)',
      injected: {
        status: 403,
        message: 'Destination country is not enabled for this account (geo permissions)',
      },
      type: 'InvalidPhone',
      code: 'HTTP_403',
      retryable: false,
    },
    {
      name: 'forbidden (403, other text)',
      injected: { status: 403, message: 'Forbidden' },
      type: 'ProviderAuth',
      code: 'HTTP_403',
      retryable: true,
    },
    {
      name: 'auth (401)',
      injected: { status: 401, message: 'authentication failed' },
      type: 'ProviderAuth',
      code: 'HTTP_401',
      retryable: true,
    },
    {
      name: 'rate limited (429 JSON: a plain Error, status only in the text)',
      injected: { status: 429, message: 'too many requests' },
      type: 'RateLimited',
      code: 'HTTP_429',
      retryable: true,
    },
    {
      name: 'rate limited (429 text body)',
      injected: { status: 429, rawBody: 'Too Many Requests' },
      type: 'RateLimited',
      code: 'HTTP_429',
      retryable: true,
    },
    {
      name: 'server error (500)',
      injected: { status: 500, message: 'internal server error' },
      type: 'ProviderUnavailable',
      code: 'HTTP_500',
      retryable: true,
    },
    {
      name: 'unavailable (503 JSON: a plain Error)',
      injected: { status: 503, message: 'service unavailable' },
      type: 'ProviderUnavailable',
      code: 'HTTP_503',
      retryable: true,
    },
    {
      name: "a proxy's 502 page",
      injected: { status: 502, rawBody: '<html><body>502 Bad Gateway</body></html>' },
      type: 'ProviderUnavailable',
      code: 'HTTP_502',
      retryable: true,
    },
    {
      name: 'other 400',
      injected: { status: 400, message: 'src parameter is not a Plivo number on this account' },
      type: 'Misconfiguration',
      code: 'HTTP_400',
      retryable: false,
    },
    {
      name: '404',
      injected: { status: 404, message: 'not found' },
      type: 'Misconfiguration',
      code: 'HTTP_404',
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
      expect(error.message).not.toContain(to.slice(1));
      expect(String((error.cause as Error).message)).not.toContain(to.slice(1));
      expect(fake.messages()).toHaveLength(0);
      await expect(provider().send({ to, from, body: 'x' })).resolves.toBeDefined();
    },
  );

  test('wrong credentials → ProviderAuth from the 401 answer', async () => {
    const error = await failure(provider({ authToken: 'not-the-token' }).send({ to, from, body: 'x' }));
    expect(error).toMatchObject({ type: 'ProviderAuth', code: 'HTTP_401', httpStatus: 401 });
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
    fake = await startPlivoFake();
    const error = await failure(provider({ apiBaseUrl: baseUrl }).send({ to, from, body: 'x' }));
    expect(error).toMatchObject({ type: 'ProviderUnavailable', code: 'ECONNREFUSED' });
  });

  test('accepted then dropped: send fails as ProviderUnavailable, reconciliation finds exactly that message', async () => {
    const p = provider();
    await p.send({ to, from, body: 'Order 1000 confirmed' }); // an earlier message to the same person
    await waitFor(() => Date.now() > fake.messages()[0].time.getTime(), { what: 'the clock to move on' });
    const sentAfter = new Date();
    fake.acceptThenDrop();

    const error = await failure(p.send({ to, from, body: 'Order 1001 confirmed' }));
    expect(error).toMatchObject({ type: 'ProviderUnavailable', code: 'ECONNRESET' });
    expect(fake.requests.at(-1)?.outcome).toBe('dropped');
    const stored = fake.messages().filter((m) => m.text === 'Order 1001 confirmed');
    expect(stored).toHaveLength(1);

    const found = await p.findAcceptedMessage({ to, from, body: 'Order 1001 confirmed', sentAfter });
    expect(found).toEqual({
      providerMessageId: stored[0].uuid,
      status: 'sent',
      acceptedAt: expect.any(Date),
    });
    expect(Math.abs((found?.acceptedAt.getTime() ?? 0) - stored[0].time.getTime())).toBeLessThan(1);
    expect(fake.requests.at(-1)?.query).toMatchObject({
      message_direction: 'outbound',
      from_number: '16282345678',
      to_number: '14155550140',
      message_time__gte: expect.stringMatching(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/),
    });
  });

  test('findAcceptedMessage is null when no message went from `from` to `to`', async () => {
    const p = provider();
    const sentAfter = new Date();
    await expect(p.findAcceptedMessage({ to, from, body: 'x', sentAfter })).resolves.toBeNull();
    await p.send({ to: '+14155550199', from, body: 'x' });
    await expect(p.findAcceptedMessage({ to, from, body: 'x', sentAfter })).resolves.toBeNull();
  });

  test('findAcceptedMessage pages through newest-first results to the earliest match', async () => {
    const p = provider();
    const sentAfter = new Date(Date.now() - 1);
    const first = await p.send({ to, from, body: 'the one' });
    await waitFor(() => Date.now() > fake.messages()[0].time.getTime(), { what: 'the clock to move on' });
    for (let i = 0; i < 24; i++) await p.send({ to, from, body: `later ${i}` });

    const found = await p.findAcceptedMessage({ to, from, body: 'the one', sentAfter });
    expect(found?.providerMessageId).toBe(first.providerMessageId);
    expect(fake.requests.filter((r) => r.method === 'GET').map((r) => r.query.offset)).toEqual(['0', '20']);
  });

  test('buyNumber (application with message_url, number, alias) / findOwnedNumber / releaseNumber', async () => {
    const p = provider();
    const smsWebhookUrl = 'https://hooks.example.com/sms/inbound';
    const bought = await p.buyNumber({ friendlyName: 'venue-42', country: 'US', smsWebhookUrl });

    expect(bought.phoneNumber).toMatch(/^\+1628\d{7}$/);
    expect(bought.providerId).toBe(bought.phoneNumber.slice(1));
    expect(bought.friendlyName).toBe('venue-42');
    const [app] = fake.applications();
    expect(app).toMatchObject({ appName: 'venue-42', messageUrl: smsWebhookUrl, messageMethod: 'POST' });
    expect(fake.purchases()).toEqual([
      expect.objectContaining({ number: bought.providerId, alias: 'venue-42', appId: app.appId }),
    ]);
    const search = fake.requests.find((r) => r.method === 'GET' && r.path.endsWith('/PhoneNumber/'));
    expect(search?.query).toMatchObject({ country_iso: 'US', type: 'local', services: 'sms', limit: '1' });

    await p.buyNumber({ friendlyName: 'venue-7', country: 'US' });
    await expect(p.findOwnedNumber('venue-42')).resolves.toEqual(bought);
    await expect(p.findOwnedNumber('venue-4')).resolves.toBeNull();

    await p.releaseNumber(bought.providerId);
    expect(fake.ownedNumbers().map((n) => n.alias)).toEqual(['venue-7']);
    await expect(p.findOwnedNumber('venue-42')).resolves.toBeNull();
    await expect(p.releaseNumber(bought.providerId)).resolves.toBeUndefined();
  });

  test('a second purchase for a venue reuses its application and moves its message_url', async () => {
    const p = provider();
    await p.buyNumber({
      friendlyName: 'venue-9',
      country: 'US',
      smsWebhookUrl: 'https://old.example.com/sms',
    });
    await p.buyNumber({
      friendlyName: 'venue-9',
      country: 'US',
      smsWebhookUrl: 'https://new.example.com/sms',
    });
    expect(fake.applications()).toEqual([
      expect.objectContaining({ appName: 'venue-9', messageUrl: 'https://new.example.com/sms' }),
    ]);
  });

  test('a purchase interrupted before its alias was set is still found through its application', async () => {
    const p = provider();
    fake.fail({ path: '/Number/', method: 'POST' }, { status: 503, message: 'service unavailable' });
    const error = await failure(
      p.buyNumber({ friendlyName: 'venue-5', country: 'US', smsWebhookUrl: 'https://hooks.example.com/sms' }),
    );
    expect(error).toMatchObject({ type: 'ProviderUnavailable', code: 'HTTP_503' });
    const [orphan] = fake.ownedNumbers();
    expect(orphan).toMatchObject({ alias: '' });

    await expect(p.findOwnedNumber('venue-5')).resolves.toEqual({
      phoneNumber: `+${orphan.number}`,
      providerId: orphan.number,
      friendlyName: 'venue-5',
    });
  });

  describe('a venue number on an account that already holds 500', () => {
    const smsWebhookUrl = 'https://hooks.example.com/sms';
    /** Half of them named for other venues, half never named. */
    const strangers = (i: number) => ({ alias: i % 2 === 0 ? `venue-${1000 + i}` : '' });
    const listReads = () =>
      fake.requests.filter((r) => r.method === 'GET' && r.path === `/v1/Account/${fake.authId}/Number/`);

    /** A purchase for `venue` whose alias update Plivo refused: bought and linked, never named. */
    async function interruptedPurchase(p: PlivoProvider, venue: string) {
      let chosen: string | undefined;
      fake.fail({ path: '/Number/', method: 'POST' }, { status: 500, message: 'internal server error' });
      const error = await failure(
        p.buyNumber({
          friendlyName: venue,
          country: 'US',
          smsWebhookUrl,
          onChosen: (providerId) => (chosen = providerId),
        }),
      );
      expect(error).toMatchObject({ type: 'ProviderUnavailable', code: 'HTTP_500' });
      const orphan = fake.ownedNumbers().at(-1);
      expect(orphan).toMatchObject({ number: chosen, alias: '' });
      return orphan as NonNullable<typeof orphan>;
    }

    beforeEach(() => {
      fake.seedOwnedNumbers(500, strangers);
    });

    test("the venue's number is found among them by one request, filtered by its alias", async () => {
      const p = provider();
      const bought = await p.buyNumber({ friendlyName: 'venue-42', country: 'US', smsWebhookUrl });
      fake.resetFaults();

      await expect(p.findOwnedNumber('venue-42')).resolves.toEqual(bought);
      expect(fake.requests).toEqual([
        expect.objectContaining({ method: 'GET', query: expect.objectContaining({ alias: 'venue-42' }) }),
      ]);
      expect(listReads()).toHaveLength(1);
    });

    test('a venue nothing was ever bought for costs two requests, no scan', async () => {
      await expect(provider().findOwnedNumber('venue-4')).resolves.toBeNull();
      expect(fake.requests.map((r) => r.path.split('/').at(-2))).toEqual(['Number', 'Application']);
    });

    test('a purchase whose alias update failed is found past every page, adopted and named', async () => {
      const p = provider();
      // Another venue's interrupted purchase, further down still: never mistaken for this one's.
      const orphan = await interruptedPurchase(p, 'venue-5');
      const strangersOrphan = await interruptedPurchase(p, 'venue-6');
      expect(fake.ownedNumbers()).toHaveLength(502);
      fake.resetFaults();

      await expect(p.findOwnedNumber('venue-5')).resolves.toEqual({
        phoneNumber: `+${orphan.number}`,
        providerId: orphan.number,
        friendlyName: 'venue-5',
      });
      // Every page was read: the orphan was on the 26th.
      expect(
        listReads()
          .filter((r) => r.query.alias === undefined)
          .map((r) => Number(r.query.offset)),
      ).toEqual(Array.from({ length: 26 }, (_, i) => i * 20));
      expect(fake.ownedNumbers().find((n) => n.number === orphan.number)?.alias).toBe('venue-5');
      expect(fake.ownedNumbers().find((n) => n.number === strangersOrphan.number)?.alias).toBe('');

      // Named now: the next look-up is the single filtered request again.
      fake.resetFaults();
      await expect(p.findOwnedNumber('venue-5')).resolves.toMatchObject({ providerId: orphan.number });
      expect(fake.requests).toHaveLength(1);
      await expect(p.findOwnedNumber('venue-6')).resolves.toMatchObject({
        providerId: strangersOrphan.number,
      });
    });

    test('told which number an interrupted attempt chose, the look-up reads that number alone', async () => {
      const p = provider();
      const orphan = await interruptedPurchase(p, 'venue-5');
      fake.resetFaults();

      const found = await p.findOwnedNumber('venue-5', undefined, ['16280000000', orphan.number]);
      expect(found).toMatchObject({ providerId: orphan.number, friendlyName: 'venue-5' });
      expect(listReads().filter((r) => r.query.alias === undefined)).toEqual([]);
      expect(
        fake.requests.map((r) => `${r.method} ${r.path.replace(`/v1/Account/${fake.authId}/`, '')}`),
      ).toEqual([
        'GET Number/',
        'GET Application/',
        'GET Number/16280000000/',
        `GET Number/${orphan.number}/`,
        `POST Number/${orphan.number}/`,
      ]);
    });

    test("a chosen number that is another venue's is not adopted", async () => {
      const p = provider();
      const theirs = await interruptedPurchase(p, 'venue-6');
      // venue-7 has its application (its purchase failed at the buy itself), yet nothing was bought.
      fake.fail({ path: '/PhoneNumber/', method: 'POST' }, { status: 503, message: 'service unavailable' });
      await failure(p.buyNumber({ friendlyName: 'venue-7', country: 'US', smsWebhookUrl }));
      expect(fake.applications().map((a) => a.appName)).toEqual(['venue-6', 'venue-7']);

      await expect(p.findOwnedNumber('venue-7', undefined, [theirs.number])).resolves.toBeNull();
      expect(fake.ownedNumbers().find((n) => n.number === theirs.number)?.alias).toBe('');
    });
  });

  test('buyNumber where Plivo has no inventory → Misconfiguration', async () => {
    const error = await failure(provider().buyNumber({ friendlyName: 'venue-1', country: 'ZZ' }));
    expect(error).toMatchObject({ type: 'Misconfiguration', code: 'NO_AVAILABLE_NUMBERS' });
    expect(fake.purchases()).toHaveLength(0);
  });

  test("plivo's global axios defaults do not leak into the rest of the process", async () => {
    // Loaded raw, plivo replaces the shared axios singleton's default agents...
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh registry, to load plivo raw
      const rawAxios = require('axios') as typeof axios;
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh registry, to load plivo raw
      require('plivo');
      expect(isPlivoAgent(rawAxios.defaults.httpAgent)).toBe(true);
      expect(isPlivoAgent(rawAxios.defaults.httpsAgent)).toBe(true);
    });

    // ...the adapter loads it without that effect.
    expect(require.resolve('axios')).toBe(
      require.resolve('axios', { paths: [path.dirname(require.resolve('plivo'))] }),
    );
    const before = { http: axios.defaults.httpAgent, https: axios.defaults.httpsAgent };
    const p = provider();
    await p.send({ to, from, body: 'x' });
    expect(axios.defaults.httpAgent).toBe(before.http);
    expect(axios.defaults.httpsAgent).toBe(before.https);

    const response = await axios.get(`${fake.baseUrl}/elsewhere`, { validateStatus: () => true });
    expect(response.status).toBe(401);
    expect(isPlivoAgent((response.request as { agent?: unknown }).agent)).toBe(false);
    expect(fake.requests.at(-1)?.path).toBe('/elsewhere');
  });
});
