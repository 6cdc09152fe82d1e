import { measureChaos, orderNumberIn, type ProviderText } from '../../../bench/support/chaos-measure';

const text = (orderNumber: string) =>
  `Hi Ada, your order ${orderNumber} for The Analytical Engines on Dec 31, 2026 is confirmed: 2 tickets. Reply STOP to opt out.`;

// One customer with two orders (a and b) at a Plivo venue, another with one at a Twilio venue.
const orders = [
  { orderId: 'A', orderNumber: 'C-1-a', phone: '+14155552001', firstDeliveredAt: 1_000 },
  { orderId: 'B', orderNumber: 'C-1-b', phone: '+14155552001', firstDeliveredAt: 2_000 },
  { orderId: 'C', orderNumber: 'C-17-a', phone: '+14155552017', firstDeliveredAt: 1_000 },
];
const msg = (id: string, orderNumber: string, at: number, to = '14155552001'): ProviderText => ({
  provider: 'plivo',
  id,
  to,
  text: text(orderNumber),
  at,
});

describe('chaos measurement', () => {
  test('a text names its order by the whole OrderNumber: C-1-a is not C-17-a', () => {
    expect(orderNumberIn(text('C-1-a'))).toBe('C-1-a');
    expect(orderNumberIn(text('C-17-a'))).toBe('C-17-a');
    expect(orderNumberIn('Hi Ada, your order is confirmed: 1 ticket.')).toBeNull();
  });

  test('each order texted once with its own content, reported once: all zero', () => {
    const m = measureChaos({
      orders,
      texts: [
        msg('m1', 'C-1-a', 1_500),
        msg('m2', 'C-1-b', 3_000),
        { ...msg('SM3', 'C-17-a', 1_200), to: '+14155552017' },
      ],
      history: [
        { orderId: 'a', status: 'sent', providerMessageId: 'm1' },
        { orderId: 'b', status: 'sent', providerMessageId: 'm2' },
        { orderId: 'c', status: 'sent', providerMessageId: 'SM3' },
        { orderId: 'c', status: 'duplicate', providerMessageId: 'SM3' },
      ],
      claims: [
        { orderId: 'A', providerMessageId: 'm1' },
        { orderId: 'B', providerMessageId: 'm2' },
        { orderId: 'C', providerMessageId: 'SM3' },
      ],
    });
    expect(m).toMatchObject({
      outcomes: { sent: 3, duplicate: 1 },
      ordersWithSeveralHistoryRows: 1,
      textsPerOrder: { '0': 0, '1': 3, '2+': 0 },
      contended: 0, // B arrived at 2 000, after A's text at 1 500
      doubled: 0,
      wrongContent: 0,
      sentWithoutText: 0,
      unreported: 0,
      afterStop: 0,
    });
    expect(m.latenciesMs.sort((x, y) => x - y)).toEqual([200, 500, 1_000]);
  });

  test("ADR 0012's interleaving: A adopts B's unclaimed text, B sends again", () => {
    const m = measureChaos({
      orders: orders.slice(0, 2),
      texts: [msg('m-b1', 'C-1-b', 2_100), msg('m-b2', 'C-1-b', 2_900)],
      history: [
        { orderId: 'A', status: 'sent', providerMessageId: 'm-b1' },
        { orderId: 'B', status: 'sent', providerMessageId: 'm-b2' },
      ],
      claims: [
        { orderId: 'A', providerMessageId: 'm-b1' },
        { orderId: 'B', providerMessageId: 'm-b2' },
      ],
    });
    expect(m).toMatchObject({
      textsPerOrder: { '0': 1, '1': 0, '2+': 1 },
      contended: 1, // B arrived at 2 000; A has no text of its own

      doubled: 1,
      wrongContent: 1,
      sentWithoutText: 1,
      unreported: 0,
      examples: {
        doubled: ['B'],
        wrongContent: [{ orderId: 'A', messageId: 'm-b1', textNames: 'C-1-b' }],
        sentWithoutText: ['A'],
      },
    });
  });

  test("a second order arriving before the customer's first was texted is contended; a later one is not", () => {
    const measure = (firstTextAt: number) =>
      measureChaos({
        orders: orders.slice(0, 2),
        texts: [msg('m1', 'C-1-a', firstTextAt), msg('m2', 'C-1-b', 5_000)],
        history: [],
        claims: [],
      }).contended;
    expect(measure(2_500)).toBe(1); // B arrived at 2 000
    expect(measure(1_500)).toBe(0);
  });

  test('a text nobody names is unreported, unless its order is still retrying', () => {
    const input = {
      orders: orders.slice(0, 1),
      texts: [msg('m1', 'C-1-a', 1_500)],
      history: [],
      claims: [{ orderId: 'A', providerMessageId: null }],
    };
    expect(measureChaos(input)).toMatchObject({
      unreported: 1,
      textsPerOrder: { '0': 0, '1': 1, '2+': 0 },
      examples: { unreported: [{ messageId: 'm1', textNames: 'C-1-a' }] },
    });
    expect(measureChaos({ ...input, openOrderIds: new Set(['a']) }).unreported).toBe(0);
  });

  test("a STOP counts the customer's texts accepted after its 200, whichever order they name", () => {
    const m = measureChaos({
      orders: [{ ...orders[0], stopAckAt: 2_000 }, orders[1]],
      texts: [msg('m1', 'C-1-a', 1_500), msg('m2', 'C-1-b', 2_500)],
      history: [
        { orderId: 'A', status: 'sent', providerMessageId: 'm1' },
        { orderId: 'B', status: 'sent', providerMessageId: 'm2' },
      ],
      claims: [],
    });
    expect(m.afterStop).toBe(1);
    expect(m.unreported).toBe(0);
  });

  test('an order blocked by its STOP has no text and is not missing one', () => {
    const m = measureChaos({
      orders: orders.slice(0, 1),
      texts: [],
      history: [{ orderId: 'A', status: 'blocked_opted_out', providerMessageId: null }],
      claims: [],
    });
    expect(m).toMatchObject({ textsPerOrder: { '0': 1, '1': 0, '2+': 0 }, sentWithoutText: 0, doubled: 0 });
  });
});
