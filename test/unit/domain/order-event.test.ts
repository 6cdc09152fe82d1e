import { describeFieldErrors, parseOrderEvent, parseOrderEventJson } from '../../../domain/order-event';

const PASCAL = {
  OrderId: '6F1C2B8E-9D7A-4C55-8A43-3F0E2D1C9B7A',
  VenueId: 42,
  CustomerId: 'A1B2C3D4-0000-4000-8000-000000000001',
  PhoneNumber: '(415) 555-2671',
  CustomerName: 'Ada',
  OrderTotal: 59.5,
  TicketCount: 2,
  EventTimestamp: '2026-11-23T10:00:00Z',
};
const camel = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k[0].toLowerCase() + k.slice(1), v]));

test('PascalCase and camelCase parse to the same event, normalised', () => {
  const a = parseOrderEvent(PASCAL);
  const b = parseOrderEvent(camel(PASCAL));
  expect(a).toEqual(b);
  expect(a).toEqual({
    ok: true,
    event: {
      orderId: '6f1c2b8e-9d7a-4c55-8a43-3f0e2d1c9b7a',
      venueId: 42,
      customerId: 'a1b2c3d4-0000-4000-8000-000000000001',
      phoneNumber: '+14155552671',
      customerName: 'Ada',
      orderTotal: 59.5,
      ticketCount: 2,
      eventTimestamp: '2026-11-23T10:00:00Z',
    },
  });
});

test('optional fields are read, a decimal may arrive as a string', () => {
  const result = parseOrderEvent({
    ...PASCAL,
    OrderTotal: '12.50',
    OrderNumber: 'A-100',
    EventName: 'Jazz night',
    EventDate: '2026-12-31',
    Currency: 'eur',
    Locale: 'de-DE',
    TimeZone: 'Europe/Berlin',
  });
  expect(result).toMatchObject({
    ok: true,
    event: {
      orderTotal: 12.5,
      orderNumber: 'A-100',
      eventName: 'Jazz night',
      eventDate: '2026-12-31',
      currency: 'EUR',
      locale: 'de-DE',
      timeZone: 'Europe/Berlin',
    },
  });
});

test('every field error is reported at once, named as in the contract', () => {
  const result = parseOrderEvent({
    OrderId: 'not-a-guid',
    VenueId: 1.5,
    PhoneNumber: '12',
    CustomerName: '   ',
    OrderTotal: -1,
    TicketCount: 0,
    EventTimestamp: 'yesterday',
    Currency: 'euro',
    Locale: 'not a locale!',
    TimeZone: 'Mars/Olympus',
  });
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.errors.map((e) => e.field).sort()).toEqual([
    'Currency',
    'CustomerId',
    'CustomerName',
    'EventTimestamp',
    'Locale',
    'OrderId',
    'OrderTotal',
    'PhoneNumber',
    'TicketCount',
    'TimeZone',
    'VenueId',
  ]);
  expect(result.errors.find((e) => e.field === 'CustomerId')?.message).toBe('is required');
  expect(describeFieldErrors(result.errors)).toMatch(/^(\w+: [^;]+; )+\w+: [^;]+$/);
});

test('a field given in both casings with different values is an error, not a silent pick', () => {
  const result = parseOrderEvent({ ...PASCAL, orderId: '00000000-0000-4000-8000-000000000000' });
  expect(result).toEqual({
    ok: false,
    errors: [{ field: 'OrderId', message: expect.stringMatching(/given twice/) }],
  });
  // The same value twice is fine.
  expect(parseOrderEvent({ ...PASCAL, venueId: 42 }).ok).toBe(true);
});

test.each([
  ['not JSON', '{"OrderId":', 'body is not valid JSON'],
  ['an array', '[1,2]', 'body must be a JSON object'],
  ['null', 'null', 'body must be a JSON object'],
  ['a string', '"hello"', 'body must be a JSON object'],
])('a body that is %s is one error on $', (_name, body, message) => {
  expect(parseOrderEventJson(body)).toEqual({ ok: false, errors: [{ field: '$', message }] });
});

test('a phone number is read in the default region, and an invalid one is refused', () => {
  const uk = parseOrderEvent({ ...PASCAL, PhoneNumber: '07911 123456' }, { defaultRegion: 'GB' });
  expect(uk).toMatchObject({ ok: true, event: { phoneNumber: '+447911123456' } });
  const bad = parseOrderEvent({ ...PASCAL, PhoneNumber: '+1 555 000' });
  expect(bad).toEqual({ ok: false, errors: [{ field: 'PhoneNumber', message: expect.any(String) }] });
});

test('a dead-letter description stays within Service Bus limits', () => {
  const errors = Array.from({ length: 500 }, (_, i) => ({ field: `F${i}`, message: 'x'.repeat(20) }));
  const text = describeFieldErrors(errors);
  expect(text.length).toBeLessThanOrEqual(4000);
  expect(text.endsWith('...')).toBe(true);
});

describe('limits agree with the columns the values end up in (domain/limits.ts)', () => {
  const LONG = (n: number) => 'x'.repeat(n);
  // Two UTF-16 code units each: nvarchar counts them as two characters, so must the door.
  const EMOJI = '🎫';
  test.each<[string, Record<string, unknown>, string | null]>([
    ['VenueId at the int maximum', { VenueId: 2_147_483_647 }, null],
    ['VenueId one past the int maximum', { VenueId: 2_147_483_648 }, 'VenueId'],
    ['VenueId far past it', { VenueId: 1e15 }, 'VenueId'],
    ['OrderNumber of 50 characters', { OrderNumber: LONG(50) }, null],
    ['OrderNumber of 51 characters', { OrderNumber: LONG(51) }, 'OrderNumber'],
    ['OrderNumber of 25 emoji (50 code units)', { OrderNumber: EMOJI.repeat(25) }, null],
    ['OrderNumber of 26 emoji (52 code units)', { OrderNumber: EMOJI.repeat(26) }, 'OrderNumber'],
    ['CustomerName of 100 characters', { CustomerName: LONG(100) }, null],
    ['CustomerName of 101 characters', { CustomerName: LONG(101) }, 'CustomerName'],
    ['EventName of 200 characters', { EventName: LONG(200) }, null],
    ['EventName of 201 characters', { EventName: LONG(201) }, 'EventName'],
  ])('%s', (_name, fields, field) => {
    const result = parseOrderEvent({ ...PASCAL, ...fields });
    if (field === null) expect(result.ok).toBe(true);
    else
      expect(result).toEqual({ ok: false, errors: [{ field, message: expect.stringMatching(/at most/) }] });
  });

  test('every field over its limit is reported at once', () => {
    const result = parseOrderEvent({
      ...PASCAL,
      VenueId: 3_000_000_000,
      OrderNumber: LONG(60),
      CustomerName: LONG(150),
      EventName: LONG(250),
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => e.field).sort()).toEqual([
      'CustomerName',
      'EventName',
      'OrderNumber',
      'VenueId',
    ]);
  });
});

describe('EventDate', () => {
  test.each([
    ['a date', '2026-12-31'],
    ['a UTC date-time', '2026-12-31T19:00:00Z'],
    ['a date-time with an offset', '2026-12-31T20:00:00+01:00'],
    ['a .NET DateTimeOffset with seven fractional digits', '2026-12-31T20:00:00.1234567+01:00'],
    ['a .NET Unspecified DateTime (no offset)', '2026-12-31T20:00:00'],
    ['the same with seven fractional digits', '2026-12-31T20:00:00.0000000'],
    ['a wall time without seconds', '2026-12-31T20:00'],
  ])('accepts %s, kept as sent', (_name, value) => {
    expect(parseOrderEvent({ ...PASCAL, EventDate: value })).toMatchObject({
      ok: true,
      event: { eventDate: value },
    });
  });

  test.each([
    ['not a date', 'next Friday'],
    ['an impossible day', '2026-02-30T20:00:00'],
    ['an impossible hour', '2026-12-31T24:30:00'],
    ['a space instead of T', '2026-12-31 20:00:00'],
    ['a number', 1767211200000],
  ])('refuses %s', (_name, value) => {
    expect(parseOrderEvent({ ...PASCAL, EventDate: value })).toEqual({
      ok: false,
      errors: [{ field: 'EventDate', message: expect.stringMatching(/ISO-8601 date/) }],
    });
  });
});
