import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment, defaultActivityInfo } from '@temporalio/testing';
import type { Info } from '@temporalio/activity';
import { DefaultLogger } from '@temporalio/worker';
import { PAUSE_RECHECK_MS, pauseRecheckMs } from '../../../activities/rollout';
import { createSendActivities, type SendSmsInput } from '../../../activities/send';
import { ORDER_CONFIRMATION_SMS_FLAG } from '../../../rollout/control';
import type { ActivityDeps } from '../../../activities/deps';
import { SEND_ATTEMPT_TIMEOUT_MS } from '../../../domain/limits';
import { loadConfig } from '../../../config';
import { createLogger } from '../../../config/logger';
import { createRepositories, type Repositories } from '../../../db';
import type { ConsentRecord } from '../../../db/consent-repository';
import type { PendingConsentChange } from '../../../domain/consent';
import { useTestDatabase } from '../../support/db';
import { createRolloutControl } from '../../../rollout/sql-control';
import { rejectionOf } from '../../support/rejection';
import type { ConsentStatus } from '../../../domain/enums';
import { SmsProviderError } from '../../../domain/errors';
import type {
  AcceptedMessage,
  AcceptedMessageQuery,
  SendRequest,
  SmsProvider,
} from '../../../providers/sms-provider';

// The real sendSms activity in a mocked activity context, on a real SQLite database for the order's
// claim: only the provider and the consent reads are stand-ins, so the claim, reconciliation, the
// consent re-read and the error mapping are what is tested.

const INPUT: SendSmsInput = {
  orderId: '7f1c1d3e-0a4b-4c55-9a1e-1b2c3d4e5f60',
  correlationId: 'corr-1',
  venueId: 42,
  provider: 'twilio',
  to: '+14155552671',
  from: '+14155550111',
  body: 'Thanks Ada! Order A-1001 is confirmed.',
};
/** When the send was first scheduled: the reconciliation look-up reaches back to here. */
const SCHEDULED_AT = Date.parse('2026-11-28T10:00:00Z');

const accepted = (providerMessageId: string): AcceptedMessage => ({
  providerMessageId,
  status: 'queued',
  acceptedAt: new Date(SCHEDULED_AT + 1_000),
});

function fakeProvider() {
  const unused = () => Promise.reject(new Error('not used by sendSms'));
  return {
    name: 'twilio',
    send: jest.fn<Promise<AcceptedMessage>, [SendRequest]>().mockResolvedValue(accepted('SM-new')),
    findAcceptedMessage: jest
      .fn<Promise<AcceptedMessage | null>, [AcceptedMessageQuery]>()
      .mockResolvedValue(null),
    buyNumber: unused,
    findOwnedNumber: unused,
    releaseNumber: unused,
  } satisfies SmsProvider;
}

const db = useTestDatabase();
let repos: Repositories;
beforeAll(() => {
  repos = createRepositories(db.knex);
});

/** Each test is its own order. */
let input: SendSmsInput;
const RUN_ID = defaultActivityInfo.workflowExecution?.runId ?? '';

/** An earlier attempt (this run's by default) claimed the order when the send was first scheduled. */
async function claimedEarlier(
  options: {
    runId?: string;
    providerMessageId?: string;
    provider?: SendSmsInput['provider'];
    fromNumber?: string;
  } = {},
) {
  await repos.orderClaims.claim({
    orderId: input.orderId,
    venueId: input.venueId,
    provider: options.provider ?? input.provider,
    fromNumber: options.fromNumber ?? input.from,
    workflowId: 'test',
    runId: options.runId ?? RUN_ID,
    claimedAt: new Date(SCHEDULED_AT),
  });
  if (options.providerMessageId) await repos.orderClaims.markSent(input.orderId, options.providerMessageId);
}

let provider: ReturnType<typeof fakeProvider>;
let consent: Map<string, ConsentStatus>;
/** Provider message ids other orders' history rows name. */
let otherOrdersMessages: Set<string>;
let historyLookups: Array<{ provider: string; ids: readonly string[]; orderId: string }>;
/** Changes the consent workflow has acknowledged and not yet written. */
let pending: PendingConsentChange[];

beforeEach(async () => {
  // Every test texts the same customer from the same number: a hold an earlier test's order left
  // (a failure that may have reached the provider keeps it) would make this one wait its turn.
  await db.knex('SmsRecipientLeases').delete();
  provider = fakeProvider();
  consent = new Map([[`${INPUT.venueId}:${INPUT.to}`, 'opted_in']]);
  pending = [];
  input = { ...INPUT, orderId: randomUUID() };
  otherOrdersMessages = new Set();
  historyLookups = [];
});

/** The send activities' dependencies, real but for the stand-ins the tests set. */
function testDeps(overrides: Partial<ActivityDeps>): ActivityDeps {
  return {
    // The claim is real (SQLite); consent reads and the history's answer about other orders'
    // messages are stand-ins the tests set.
    repos: {
      ...repos,
      history: {
        ...repos.history,
        messageIdsOfOtherOrders: async (name: string, ids: readonly string[], orderId: string) => {
          historyLookups.push({ provider: name, ids, orderId });
          return new Set(ids.filter((id) => otherOrdersMessages.has(id)));
        },
      },
      consent: {
        get: async (venueId: number, phoneNumber: string) => {
          const status = consent.get(`${venueId}:${phoneNumber}`);
          const lastChangeAt = new Date(SCHEDULED_AT - 60_000);
          return status ? ({ venueId, phoneNumber, status, lastChangeAt } as ConsentRecord) : null;
        },
        handledMessageIds: async () => new Set<string>(),
      } as unknown as Repositories['consent'],
    },
    providers: { twilio: provider },
    config: loadConfig({}),
    logger: createLogger({ level: 'silent', name: 'send-sms-test' }),
    rollout: createRolloutControl({ repos, cacheMs: 0 }),
    pendingConsentChanges: async () => pending,
    signalConsentChange: () => Promise.reject(new Error('not used by sendSms')),
    // Every other run still going, unless a test says otherwise.
    runClosedAt: async () => null,
    requestVenueNumber: () => Promise.reject(new Error('not used by sendSms')),
    ...overrides,
  };
}

/** The SDK's logger would print every failure these tests provoke on purpose. */
const mockEnv = (info: Partial<Info>) =>
  new MockActivityEnvironment(
    { scheduledTimestampMs: SCHEDULED_AT, ...info },
    { logger: new DefaultLogger('ERROR') },
  );

function sendSms(
  info: Partial<Info>,
  overrides: Partial<ActivityDeps> = {},
  onEnv?: (env: MockActivityEnvironment) => void,
) {
  const env = mockEnv(info);
  onEnv?.(env);
  return env.run(createSendActivities(testDeps(overrides)).sendSms, input);
}

/** The workflow's look-up at the primary before it fails over. */
function findAcceptedSms() {
  return mockEnv({ attempt: 1 }).run(createSendActivities(testDeps({})).findAcceptedSms, {
    ...input,
    sentAfterMs: SCHEDULED_AT,
  });
}

const failureOf = (promise: Promise<unknown>) => rejectionOf(promise, ApplicationFailure);

test('first attempt: sends without asking the provider first', async () => {
  expect(await sendSms({ attempt: 1 })).toEqual({
    kind: 'sent',
    providerMessageId: 'SM-new',
    reconciled: false,
  });
  expect(provider.findAcceptedMessage).not.toHaveBeenCalled();
  expect(provider.send).toHaveBeenCalledTimes(1);
  expect(provider.send).toHaveBeenCalledWith(
    expect.objectContaining({ to: INPUT.to, from: INPUT.from, body: INPUT.body }),
  );
});

test('the first attempt claims the order, sends, and records the message id on the claim', async () => {
  expect(await sendSms({ attempt: 1 })).toMatchObject({ kind: 'sent', providerMessageId: 'SM-new' });
  expect(await repos.orderClaims.find(input.orderId)).toMatchObject({
    runId: RUN_ID,
    providerMessageId: 'SM-new',
  });
});

test('an order an earlier run already texted (a reset, a re-driven event): duplicate, nothing sent', async () => {
  await claimedEarlier({ runId: 'an-earlier-run', providerMessageId: 'SM-first' });
  expect(await sendSms({ attempt: 1 })).toEqual({
    kind: 'not_sent',
    outcome: 'duplicate',
    providerMessageId: 'SM-first',
  });
  expect(provider.findAcceptedMessage).not.toHaveBeenCalled();
  expect(provider.send).not.toHaveBeenCalled();
});

test('an earlier run that claimed but never heard back: asked at the provider since its claim, adopted', async () => {
  await claimedEarlier({ runId: 'an-earlier-run' });
  provider.findAcceptedMessage.mockResolvedValue(accepted('SM-lost-answer'));
  expect(await sendSms({ attempt: 1 })).toEqual({
    kind: 'not_sent',
    outcome: 'duplicate',
    providerMessageId: 'SM-lost-answer',
  });
  expect(provider.send).not.toHaveBeenCalled();
  expect((await repos.orderClaims.find(input.orderId))?.providerMessageId).toBe('SM-lost-answer');
});

describe('an earlier run went through another provider (a rerun after ops switched providers)', () => {
  /** The number the earlier run sent from, and the venue's number there now (it changed since). */
  const PLIVO_NUMBER = '+14155550222';
  const PLIVO_NUMBER_NOW = '+14155550333';
  let plivo: ReturnType<typeof fakeProvider>;
  beforeEach(async () => {
    plivo = { ...fakeProvider(), name: 'plivo' } as unknown as ReturnType<typeof fakeProvider>; // same shape, other name
    input = { ...input, venueId: 10_000 + Math.floor(Math.random() * 1_000_000) };
    consent.set(`${input.venueId}:${input.to}`, 'opted_in');
    await repos.venueNumbers.insertActive({
      venueId: input.venueId,
      provider: 'plivo',
      phoneNumber: PLIVO_NUMBER_NOW,
      providerId: `PN-${input.venueId}`,
    });
    await claimedEarlier({ runId: 'an-earlier-run', provider: 'plivo', fromNumber: PLIVO_NUMBER });
  });

  test('its provider is asked, from the number it sent from: adopted as duplicate, nothing sent', async () => {
    plivo.findAcceptedMessage.mockResolvedValue(accepted('PL-lost-answer'));
    expect(await sendSms({ attempt: 1 }, { providers: { twilio: provider, plivo } })).toEqual({
      kind: 'not_sent',
      outcome: 'duplicate',
      providerMessageId: 'PL-lost-answer',
    });
    // No attempt of the order went through the new provider yet: nothing to ask there.
    expect(provider.findAcceptedMessage).not.toHaveBeenCalled();
    expect(plivo.findAcceptedMessage).toHaveBeenCalledWith(
      expect.objectContaining({ to: input.to, from: PLIVO_NUMBER, sentAfter: new Date(SCHEDULED_AT) }),
    );
    expect(provider.send).not.toHaveBeenCalled();
    expect(plivo.send).not.toHaveBeenCalled();
    expect((await repos.orderClaims.find(input.orderId))?.providerMessageId).toBe('PL-lost-answer');
  });

  test('neither has it: sent through the new provider, which the claim names from then on', async () => {
    expect(await sendSms({ attempt: 1 }, { providers: { twilio: provider, plivo } })).toMatchObject({
      kind: 'sent',
      providerMessageId: 'SM-new',
    });
    expect(plivo.findAcceptedMessage).toHaveBeenCalledTimes(1);
    expect(await repos.orderClaims.find(input.orderId)).toMatchObject({
      provider: 'twilio',
      fromNumber: INPUT.from,
      runId: RUN_ID,
      providerMessageId: 'SM-new',
    });
  });

  test('its provider is not configured here any more: fails for good rather than risk a second SMS', async () => {
    const failure = await failureOf(sendSms({ attempt: 1 }));
    expect(failure).toMatchObject({ type: 'Misconfiguration', nonRetryable: true });
    expect(provider.send).not.toHaveBeenCalled();
  });

  test("the same run's failover (the workflow asked the primary itself) is not asked again", async () => {
    await db.knex('SmsOrderClaims').where({ OrderID: input.orderId }).update({ RunID: RUN_ID });
    expect(await sendSms({ attempt: 1 }, { providers: { twilio: provider, plivo } })).toMatchObject({
      kind: 'sent',
    });
    expect(plivo.findAcceptedMessage).not.toHaveBeenCalled();
  });
});

test('an event older than MAX_EVENT_AGE_HOURS: expired, nothing sent', async () => {
  input.eventTimestamp = new Date(Date.now() - 49 * 3_600_000).toISOString();
  expect(await sendSms({ attempt: 1 })).toEqual({ kind: 'not_sent', outcome: 'expired' });
  expect(provider.send).not.toHaveBeenCalled();
});

test('a retry whose earlier attempt was accepted adopts that message and does not send again', async () => {
  await claimedEarlier();
  provider.findAcceptedMessage.mockResolvedValue(accepted('SM-earlier'));

  expect(await sendSms({ attempt: 2 })).toEqual({
    kind: 'sent',
    providerMessageId: 'SM-earlier',
    reconciled: true,
  });
  expect(provider.send).not.toHaveBeenCalled();
  expect(provider.findAcceptedMessage).toHaveBeenCalledWith({
    to: input.to,
    from: INPUT.from,
    body: INPUT.body,
    sentAfter: new Date(SCHEDULED_AT),
    claimedElsewhere: expect.any(Function),
    signal: expect.any(AbortSignal),
  });
});

test("reconciliation asks the history which candidates are other orders' messages", async () => {
  await claimedEarlier();
  otherOrdersMessages = new Set(['SM-other-order']);
  provider.findAcceptedMessage.mockImplementation(async (query) => {
    const claimed = (await query.claimedElsewhere?.(['SM-other-order', 'SM-mine'])) ?? new Set();
    expect([...claimed]).toEqual(['SM-other-order']);
    return null;
  });

  await sendSms({ attempt: 2 });
  expect(historyLookups).toEqual([
    { provider: 'twilio', ids: ['SM-other-order', 'SM-mine'], orderId: input.orderId },
  ]);
});

test('a retry with nothing accepted earlier asks first, then sends', async () => {
  await claimedEarlier();
  expect(await sendSms({ attempt: 2 })).toEqual({
    kind: 'sent',
    providerMessageId: 'SM-new',
    reconciled: false,
  });
  expect(provider.findAcceptedMessage).toHaveBeenCalledTimes(1);
  expect(provider.send).toHaveBeenCalledTimes(1);
  expect(provider.findAcceptedMessage.mock.invocationCallOrder[0]).toBeLessThan(
    provider.send.mock.invocationCallOrder[0],
  );
});

test('a retry that cannot ask the provider fails retryably instead of risking a second SMS', async () => {
  await claimedEarlier();
  provider.findAcceptedMessage.mockRejectedValue(new SmsProviderError('ProviderUnavailable', '503', 'down'));

  const failure = await failureOf(sendSms({ attempt: 3 }));
  expect(failure).toMatchObject({ type: 'ProviderUnavailable', nonRetryable: false });
  expect(provider.send).not.toHaveBeenCalled();
});

test.each([
  ['opted_out', 'blocked_opted_out'],
  ['none', 'skipped_no_consent'],
] as const)('consent %s at send time: not sent (%s), the provider is not called', async (status, outcome) => {
  if (status === 'none') consent.clear();
  else consent.set(`${INPUT.venueId}:${INPUT.to}`, status);

  expect(await sendSms({ attempt: 1 })).toEqual({ kind: 'not_sent', outcome });
  expect(provider.send).not.toHaveBeenCalled();
});

test('an opt-out acknowledged but not yet in SQL wins: not sent, the provider is not called', async () => {
  pending = [
    { status: 'opted_out', source: 'provider_webhook', occurredAt: new Date(SCHEDULED_AT).toISOString() },
  ];
  expect(await sendSms({ attempt: 1 })).toEqual({ kind: 'not_sent', outcome: 'blocked_opted_out' });
  expect(provider.send).not.toHaveBeenCalled();
});

test('an acknowledged opt-out older than the stored opt-in is stale, as SQL will find it', async () => {
  pending = [
    {
      status: 'opted_out',
      source: 'provider_webhook',
      occurredAt: new Date(SCHEDULED_AT - 120_000).toISOString(),
    },
  ];
  expect(await sendSms({ attempt: 1 })).toMatchObject({ kind: 'sent' });
});

test('consent changes that cannot be read: a retryable failure, and nothing sent', async () => {
  const deps = { pendingConsentChanges: () => Promise.reject(new Error('query timed out')) };
  await expect(sendSms({ attempt: 1 }, deps)).rejects.toThrow('query timed out');
  expect(provider.send).not.toHaveBeenCalled();
});

test('an attempt cancelled (timed out) while it asks the provider never goes on to send', async () => {
  await claimedEarlier();
  let answer: (value: AcceptedMessage | null) => void = () => undefined;
  provider.findAcceptedMessage.mockReturnValue(new Promise((resolve) => (answer = resolve)));
  let env: MockActivityEnvironment | undefined;
  const attempt = sendSms({ attempt: 2 }, {}, (e) => (env = e));
  await waitUntil(() => provider.findAcceptedMessage.mock.calls.length === 1);
  env?.cancel();
  await expect(attempt).rejects.toBeInstanceOf(CancelledFailure);
  answer(null); // the provider answers after all: too late for this attempt
  await new Promise((resolve) => setImmediate(resolve));
  expect(provider.send).not.toHaveBeenCalled();
});

test('the provider unavailable: a retryable failure that carries the provider code', async () => {
  provider.send.mockRejectedValue(
    new SmsProviderError('ProviderUnavailable', '503', 'Service Unavailable', { httpStatus: 503 }),
  );

  const failure = await failureOf(sendSms({ attempt: 1 }));
  expect(failure).toMatchObject({
    type: 'ProviderUnavailable',
    nonRetryable: false,
    details: [{ code: '503', httpStatus: 503 }],
  });
});

test('the provider says opted out: a non-retryable failure', async () => {
  provider.send.mockRejectedValue(
    new SmsProviderError('OptedOut', '21610', 'Attempt to send to unsubscribed recipient'),
  );

  const failure = await failureOf(sendSms({ attempt: 1 }));
  expect(failure).toMatchObject({ type: 'OptedOut', nonRetryable: true, details: [{ code: '21610' }] });
});

test('an error that is not the provider taxonomy is passed on unchanged', async () => {
  const bug = new TypeError('cannot read properties of undefined');
  provider.send.mockRejectedValue(bug);

  await expect(sendSms({ attempt: 1 })).rejects.toBe(bug);
});

async function waitUntil(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setImmediate(resolve));
}

describe('one unresolved send per recipient (docs/adr/0012)', () => {
  const OTHER_ORDER = { workflowId: 'order-sms-other', runId: 'other-run' };
  const holders = async () =>
    (await db.knex('SmsRecipientLeases').select('OrderID')).map((r: { OrderID: string }) => r.OrderID);

  /** Another order of the same customer, its send to them from the same number unresolved. */
  async function otherOrderInDoubt(
    run: { workflowId: string; runId: string } = OTHER_ORDER,
  ): Promise<string> {
    const orderId = randomUUID();
    const hold = await repos.orderClaims.holdRecipient({
      orderId,
      ...run,
      from: INPUT.from,
      to: INPUT.to,
    });
    expect(hold).toEqual({ held: true, notBefore: null });
    return orderId;
  }

  test("another order's send in doubt: this one waits (RecipientBusy, retried shortly), nothing asked or sent", async () => {
    await otherOrderInDoubt();
    const failure = await failureOf(sendSms({ attempt: 1 }));
    expect(failure).toMatchObject({ type: 'RecipientBusy', nonRetryable: false });
    expect(failure.nextRetryDelay).toBeDefined();
    expect(provider.findAcceptedMessage).not.toHaveBeenCalled();
    expect(provider.send).not.toHaveBeenCalled();
  });

  test('the hold ends with the message id, and the next order goes', async () => {
    expect(await sendSms({ attempt: 1 })).toMatchObject({ kind: 'sent' });
    expect(await holders()).toEqual([]);
    input = { ...INPUT, orderId: randomUUID() };
    expect(await sendSms({ attempt: 1 })).toMatchObject({ kind: 'sent' });
  });

  test('an answer that may have reached the provider (unavailable, cut off) keeps the hold; a refusal ends it', async () => {
    provider.send.mockRejectedValueOnce(new SmsProviderError('ProviderUnavailable', 'ECONNRESET', 'reset'));
    await failureOf(sendSms({ attempt: 1 }));
    expect(await holders()).toEqual([input.orderId]);

    provider.send.mockRejectedValueOnce(new SmsProviderError('RateLimited', '429', 'slow down'));
    await failureOf(sendSms({ attempt: 2 }));
    expect(await holders()).toEqual([]);
  });

  test('an order that does not send after all (consent withdrawn) ends its hold', async () => {
    consent.set(`${INPUT.venueId}:${INPUT.to}`, 'opted_out');
    expect(await sendSms({ attempt: 1 })).toMatchObject({ kind: 'not_sent', outcome: 'blocked_opted_out' });
    expect(await holders()).toEqual([]);
  });

  test('a holder whose run is over is taken over, and reconciliation starts at the takeover', async () => {
    const other = await otherOrderInDoubt();
    // The other order's run failed with its send still in doubt: its history row is written.
    await repos.history.record({
      idempotencyKey: `${OTHER_ORDER.workflowId}/${OTHER_ORDER.runId}`,
      orderId: other,
      orderNumber: null,
      venueId: INPUT.venueId,
      venuePhoneNumberId: null,
      customerId: randomUUID(),
      customerPhoneNumber: INPUT.to,
      message: '',
      provider: 'twilio',
      status: 'failed',
      providerMessageId: null,
      errorCode: '503',
      errorMessage: null,
      correlationId: 'corr-other',
    });
    await claimedEarlier();
    const before = Date.now();
    expect(await sendSms({ attempt: 2 })).toMatchObject({ kind: 'sent' });
    // Its message, if it went out, was accepted before the takeover: never a candidate for this order.
    const [query] = provider.findAcceptedMessage.mock.calls[0];
    expect(query.sentAfter.getTime()).toBeGreaterThanOrEqual(before);
  });

  describe('a holder whose run closed without a history row (terminated mid-send)', () => {
    // A run of its own per test: no other test wrote a history row for it.
    let terminated: { workflowId: string; runId: string };
    const asked: string[] = [];
    const closedSecondsAgo = (seconds: number) => async (workflowId: string, runId: string) => {
      asked.push(`${workflowId}/${runId}`);
      const isIt = workflowId === terminated.workflowId && runId === terminated.runId;
      return isIt ? new Date(Date.now() - seconds * 1000) : null;
    };
    beforeEach(async () => {
      terminated = { workflowId: 'order-sms-terminated', runId: randomUUID() };
      asked.length = 0;
      await otherOrderInDoubt(terminated);
    });

    test('is taken over once its last attempt can no longer reach the provider', async () => {
      const runClosedAt = closedSecondsAgo(SEND_ATTEMPT_TIMEOUT_MS / 1000 + 1);
      expect(await sendSms({ attempt: 1 }, { runClosedAt })).toMatchObject({ kind: 'sent' });
      expect(asked).toEqual([`${terminated.workflowId}/${terminated.runId}`]);
      expect(provider.send).toHaveBeenCalledTimes(1);
      expect(await holders()).toEqual([]);
    });

    test('keeps the hold while an attempt of it may still be on its way (closed within the attempt timeout)', async () => {
      const runClosedAt = closedSecondsAgo(SEND_ATTEMPT_TIMEOUT_MS / 1000 - 5);
      expect(await failureOf(sendSms({ attempt: 1 }, { runClosedAt }))).toMatchObject({
        type: 'RecipientBusy',
      });
      expect(asked).toHaveLength(1);
      expect(provider.send).not.toHaveBeenCalled();
    });
  });

  test('a retry whose own attempt created the claim still reconciles first', async () => {
    provider.findAcceptedMessage.mockResolvedValue(accepted('SM-earlier'));
    expect(await sendSms({ attempt: 2 })).toEqual({
      kind: 'sent',
      providerMessageId: 'SM-earlier',
      reconciled: true,
    });
    expect(provider.send).not.toHaveBeenCalled();
  });

  test('before failing over: a message the primary accepted after all is adopted onto the claim', async () => {
    await claimedEarlier();
    provider.send.mockRejectedValueOnce(
      new SmsProviderError('ProviderUnavailable', 'ETIMEDOUT', 'timed out'),
    );
    await failureOf(sendSms({ attempt: 1 }));
    provider.findAcceptedMessage.mockResolvedValue(accepted('SM-late'));
    expect(await findAcceptedSms()).toBe('SM-late');
    expect(await repos.orderClaims.find(input.orderId)).toMatchObject({ providerMessageId: 'SM-late' });
    expect(await holders()).toEqual([]);
  });

  test('before failing over: the primary has nothing, so the hold on its number ends', async () => {
    await claimedEarlier();
    provider.send.mockRejectedValueOnce(
      new SmsProviderError('ProviderUnavailable', 'ETIMEDOUT', 'timed out'),
    );
    await failureOf(sendSms({ attempt: 1 }));
    expect(await holders()).toEqual([input.orderId]);
    expect(await findAcceptedSms()).toBeNull();
    expect(await holders()).toEqual([]);
  });

  test("a rerun that sends owns the claim: its own retry reads 'sent', not 'duplicate'", async () => {
    await claimedEarlier({ runId: 'an-earlier-run' });
    expect(await sendSms({ attempt: 1 })).toMatchObject({ kind: 'sent', providerMessageId: 'SM-new' });
    expect(await repos.orderClaims.find(input.orderId)).toMatchObject({ runId: RUN_ID });
    expect(await sendSms({ attempt: 2 })).toEqual({
      kind: 'sent',
      providerMessageId: 'SM-new',
      reconciled: true,
    });
  });
});

describe('rollout control at the send (issue 21)', () => {
  const change = (reason: string) => ({ actor: 'send-sms-test', reason, at: new Date() });
  const venuePause = () => ({ scope: 'venue' as const, venueId: input.venueId });
  const holders = async () =>
    (await db.knex('SmsRecipientLeases').select('OrderID')).map((r: { OrderID: string }) => r.OrderID);
  /** The real SQL rollout control, read afresh on every look (no cache). */
  const rollout = () => createRolloutControl({ repos, cacheMs: 0 });
  const sendWithRollout = (attempt = 1, overrides: Partial<ActivityDeps> = {}) =>
    mockEnv({ attempt }).run(createSendActivities(testDeps({ rollout: rollout(), ...overrides })).sendSms, {
      ...input,
      rollout: true as const,
    });

  beforeEach(() => {
    // Each test its own venue, so a pause or override one leaves behind touches no other.
    input = { ...input, venueId: 20_000 + Math.floor(Math.random() * 1_000_000) };
    consent.set(`${input.venueId}:${input.to}`, 'opted_in');
  });

  test('paused, never claimed: answers paused at once, with no claim, no hold and no provider call', async () => {
    await repos.rollout.pause(venuePause(), change('bad template'));
    expect(await sendWithRollout()).toEqual({
      kind: 'paused',
      target: venuePause(),
      reason: 'bad template',
      recheckAfterMs: PAUSE_RECHECK_MS,
    });
    expect(await repos.orderClaims.find(input.orderId)).toBeNull();
    expect(await holders()).toEqual([]);
    expect(provider.findAcceptedMessage).not.toHaveBeenCalled();
    expect(provider.send).not.toHaveBeenCalled();
  });

  test('switched off, never claimed: skipped_disabled, nothing claimed or sent', async () => {
    await repos.rollout.setVenueOverride(ORDER_CONFIRMATION_SMS_FLAG, input.venueId, false, change('off'));
    expect(await sendWithRollout()).toEqual({ kind: 'not_sent', outcome: 'skipped_disabled' });
    expect(await repos.orderClaims.find(input.orderId)).toBeNull();
    expect(provider.send).not.toHaveBeenCalled();
  });

  test('paused after an attempt that may have reached the provider: its message is found first (sent, not paused)', async () => {
    await claimedEarlier();
    provider.findAcceptedMessage.mockResolvedValue(accepted('SM-before-the-pause'));
    await repos.rollout.pause(venuePause(), change('incident'));
    expect(await sendWithRollout(2)).toEqual({
      kind: 'sent',
      providerMessageId: 'SM-before-the-pause',
      reconciled: true,
    });
    expect(provider.send).not.toHaveBeenCalled();
  });

  test('paused after an attempt the provider never got: paused, and the hold on the customer ends', async () => {
    await claimedEarlier();
    await repos.rollout.pause(venuePause(), change('incident'));
    expect(await sendWithRollout(2)).toMatchObject({ kind: 'paused' });
    expect(provider.findAcceptedMessage).toHaveBeenCalledTimes(1);
    expect(provider.send).not.toHaveBeenCalled();
    expect(await holders()).toEqual([]);
  });

  test('a pause landing while the attempt is on its way (after the first look) still wins', async () => {
    // The consent read is the last step before the provider call: the pause lands during it.
    const pendingDuringPause = async () => {
      await repos.rollout.pause(venuePause(), change('landed mid-attempt'));
      return [];
    };
    expect(await sendWithRollout(1, { pendingConsentChanges: pendingDuringPause })).toMatchObject({
      kind: 'paused',
      reason: 'landed mid-attempt',
    });
    expect(provider.send).not.toHaveBeenCalled();
    expect(await holders()).toEqual([]);
    // The claim this attempt made names nothing sent; the next attempt reconciles from it.
    expect(await repos.orderClaims.find(input.orderId)).toMatchObject({ providerMessageId: null });
  });

  test('paused past MAX_EVENT_AGE_HOURS: expired instead of paused', async () => {
    const maxAgeMs = loadConfig({}).sms.maxEventAgeMs;
    input = { ...input, eventTimestamp: new Date(Date.now() - maxAgeMs - 1_000).toISOString() };
    await repos.rollout.pause(venuePause(), change('long incident'));
    expect(await sendWithRollout()).toEqual({ kind: 'not_sent', outcome: 'expired' });
    expect(provider.send).not.toHaveBeenCalled();
  });

  test('a paused order looks again just after its event ages out, if that comes before the backstop', () => {
    const now = Date.parse('2026-12-03T12:00:00Z');
    const hour = 3_600_000;
    const at = (msAgo: number) => new Date(now - msAgo).toISOString();
    expect(pauseRecheckMs(at(48 * hour - 60_000), 48 * hour, now)).toBe(61_000);
    expect(pauseRecheckMs(at(hour), 48 * hour, now)).toBe(PAUSE_RECHECK_MS);
    expect(pauseRecheckMs(at(49 * hour), 48 * hour, now)).toBe(1_000);
    expect(pauseRecheckMs(undefined, 48 * hour, now)).toBe(PAUSE_RECHECK_MS);
  });

  test('the rollout state cannot be read (and never was): the attempt fails, nothing is sent', async () => {
    const unreadable = createRolloutControl({
      repos: {
        rollout: {
          ...repos.rollout,
          snapshot: () => Promise.reject(new Error('database unavailable')),
        },
      },
      cacheMs: 0,
    });
    await expect(sendWithRollout(1, { rollout: unreadable })).rejects.toThrow('database unavailable');
    expect(provider.send).not.toHaveBeenCalled();
    expect(await repos.orderClaims.find(input.orderId)).toBeNull();
  });
});
