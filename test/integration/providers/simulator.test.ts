import { SmsProviderError } from '../../../domain/errors';
import { SimulatorProvider } from '../../../providers/simulator/simulator-provider';
import { SimulatorStore, type SimulatorFault } from '../../../providers/simulator/simulator-store';
import { tempSimulatorPath } from '../../support/workers';

const to = '+14155550140';
const from = '+16282345678';

function simulator(
  store: SimulatorStore,
  options: Partial<ConstructorParameters<typeof SimulatorProvider>[0]> = {},
) {
  return new SimulatorProvider({
    store,
    latencyMs: 0,
    failureRate: 0,
    optedOutNumbers: [],
    invalidNumbers: [],
    ...options,
  });
}

describe('simulator provider', () => {
  let store: SimulatorStore;
  beforeEach(() => {
    store = new SimulatorStore(tempSimulatorPath());
  });
  afterEach(() => store.close());

  test('records what it accepted in its own file, visible to another process-like reader', async () => {
    const accepted = await simulator(store).send({ to, from, body: 'hello' });
    expect(accepted.providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
    const reader = new SimulatorStore(store.filePath);
    try {
      expect(await reader.messages({ to })).toEqual([
        expect.objectContaining({ sid: accepted.providerMessageId, body: 'hello' }),
      ]);
    } finally {
      await reader.close();
    }
  });

  test.each<[SimulatorFault, string, string]>([
    ['unavailable', 'ProviderUnavailable', '503'],
    ['auth', 'ProviderAuth', '20003'],
    ['rate_limited', 'RateLimited', '20429'],
    ['invalid_phone', 'InvalidPhone', '21211'],
    ['opted_out', 'OptedOut', '21610'],
  ])('fault %s → %s (%s), nothing accepted, consumed once', async (fault, type, code) => {
    const sim = simulator(store);
    await store.addFault(fault, { to, times: 1 });
    const error = await sim.send({ to, from, body: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SmsProviderError);
    expect(error).toMatchObject({ type, code });
    expect(await store.messages({ to })).toHaveLength(0);
    await expect(sim.send({ to, from, body: 'x' })).resolves.toBeDefined();
  });

  test('accept_then_drop accepts the message, fails the call, and reconciliation finds it', async () => {
    const sim = simulator(store);
    const before = new Date(Date.now() - 1000);
    await store.addFault('accept_then_drop', { to });
    await expect(sim.send({ to, from, body: 'order 1' })).rejects.toMatchObject({
      type: 'ProviderUnavailable',
    });
    const found = await sim.findAcceptedMessage({ to, from, body: 'order 1', sentAfter: before });
    expect(found?.providerMessageId).toBe((await store.messages({ to }))[0].sid);
    expect(await sim.findAcceptedMessage({ to, from, body: 'order 2', sentAfter: before })).toBeNull();
  });

  test('a fault for another recipient does not apply; configured lists and failure rate do', async () => {
    await store.addFault('unavailable', { to: '+14155550141', times: -1 });
    await expect(simulator(store).send({ to, from, body: 'x' })).resolves.toBeDefined();
    await expect(
      simulator(store, { optedOutNumbers: [to] }).send({ to, from, body: 'x' }),
    ).rejects.toMatchObject({
      code: '21610',
    });
    await expect(
      simulator(store, { invalidNumbers: [to] }).send({ to, from, body: 'x' }),
    ).rejects.toMatchObject({
      code: '21211',
    });
    await expect(
      simulator(store, { failureRate: 0.5, random: () => 0.4 }).send({ to, from, body: 'x' }),
    ).rejects.toMatchObject({
      type: 'ProviderUnavailable',
    });
    await expect(
      simulator(store, { failureRate: 0.5, random: () => 0.6 }).send({ to, from, body: 'x' }),
    ).resolves.toBeDefined();
  });

  test('buys distinct valid US numbers named for the venue, finds them by name and releases them', async () => {
    const sim = simulator(store);
    const a = await sim.buyNumber({ friendlyName: 'venue-1', country: 'US' });
    const b = await sim.buyNumber({ friendlyName: 'venue-2', country: 'US' });
    expect(a.phoneNumber).toMatch(/^\+1628\d{7}$/);
    expect(a.phoneNumber).not.toBe(b.phoneNumber);
    expect(await sim.findOwnedNumber('venue-1')).toEqual(a);
    await sim.releaseNumber(a.providerId);
    expect((await store.numbers()).find((n) => n.sid === a.providerId)?.status).toBe('released');
    expect(await sim.findOwnedNumber('venue-1')).toBeNull();
    // Releasing again (a retry after a lost answer) is not an error, as at the real providers.
    await expect(sim.releaseNumber(a.providerId)).resolves.toBeUndefined();
  });
});
