import type { OrderConfirmationEvent } from '../../../domain/order-event';
import { MESSAGE_MAX_LENGTH } from '../../../domain/enums';
import {
  MessageTooLongError,
  ORDER_CONFIRMATION_TEMPLATE,
  TemplateError,
  renderOrderConfirmation,
  renderTemplate,
} from '../../../domain/template';

const EVENT: OrderConfirmationEvent = {
  orderId: '6f1c2b8e-9d7a-4c55-8a43-3f0e2d1c9b7a',
  venueId: 42,
  customerId: 'a1b2c3d4-0000-4000-8000-000000000001',
  phoneNumber: '+14155552671',
  customerName: 'Ada',
  orderTotal: 59.5,
  ticketCount: 2,
  eventTimestamp: '2026-11-23T10:00:00Z',
};

test('every placeholder filled', () => {
  const { body, encoding, segments, warnings } = renderOrderConfirmation({
    ...EVENT,
    orderNumber: 'A-100',
    eventName: 'Jazz night',
    eventDate: '2026-12-31',
  });
  expect(body).toBe(
    'Hi Ada, your order A-100 for Jazz night on Dec 31, 2026 is confirmed: 2 tickets, total $59.50. Reply STOP to opt out.',
  );
  expect({ encoding, segments, warnings }).toEqual({ encoding: 'GSM-7', segments: 1, warnings: [] });
});

test('missing optional fields drop their whole part, never leaving a placeholder or a gap', () => {
  const { body } = renderOrderConfirmation({ ...EVENT, ticketCount: 1 });
  expect(body).toBe('Hi Ada, your order is confirmed: 1 ticket, total $59.50. Reply STOP to opt out.');
  expect(body).not.toMatch(/[{}[\]]|\s{2}/);
});

test('money and dates follow the locale, currency and time zone', () => {
  const { body, encoding } = renderOrderConfirmation({
    ...EVENT,
    orderTotal: 1234.5,
    currency: 'EUR',
    locale: 'de-DE',
    timeZone: 'Europe/Berlin',
    eventDate: '2026-12-31T23:30:00Z',
  });
  // 23:30 UTC is already 1 January in Berlin; Intl's no-break spaces become plain ones (GSM-7).
  expect(body).toContain('on 01.01.2027, 00:30');
  expect(body).toContain('total 1.234,50 €.');
  expect(encoding).toBe('GSM-7');
  expect(
    renderOrderConfirmation(
      { ...EVENT, orderTotal: 1234.5 },
      { defaultCurrency: 'GBP', defaultLocale: 'en-GB' },
    ).body,
  ).toContain('total £1,234.50.');
});

test('a date-only event date is a calendar day in every time zone', () => {
  const { body } = renderOrderConfirmation({
    ...EVENT,
    eventDate: '2026-12-31',
    timeZone: 'Pacific/Honolulu',
  });
  expect(body).toContain('on Dec 31, 2026');
});

test('customer text cannot smuggle in placeholders or control characters', () => {
  const { body } = renderOrderConfirmation({ ...EVENT, customerName: 'Ada {OrderTotal}\n[x]' });
  expect(body.startsWith('Hi Ada OrderTotalx, your order')).toBe(true);
});

test('a non-GSM character makes the message UCS-2, and more than one segment warns', () => {
  const long = renderOrderConfirmation({ ...EVENT, customerName: 'Łucja', eventName: 'x'.repeat(60) });
  expect(long.encoding).toBe('UCS-2');
  expect(long.segments).toBe(3);
  expect(long.warnings).toEqual(['message needs 3 UCS-2 segments; each is billed']);
});

test('a message longer than the history column is refused', () => {
  const event = {
    ...EVENT,
    eventName: 'x'.repeat(200),
    orderNumber: 'y'.repeat(50),
    customerName: 'z'.repeat(100),
  };
  const render = () =>
    renderOrderConfirmation({ ...event, eventName: `${event.eventName}${'w'.repeat(200)}` });
  expect(render).toThrow(MessageTooLongError);
  expect(render).toThrow(new RegExp(`history column holds ${MESSAGE_MAX_LENGTH}`));
});

test('template errors: unknown or missing required placeholders, unbalanced brackets', () => {
  expect(() => renderTemplate('Hi {Nickname}', {})).toThrow(TemplateError);
  expect(() => renderTemplate('Hi {CustomerName}', {})).toThrow(/required placeholder \{CustomerName\}/);
  expect(() => renderTemplate('Hi [{CustomerName}', { CustomerName: 'Ada' })).toThrow(/unbalanced/);
  expect(
    renderTemplate(ORDER_CONFIRMATION_TEMPLATE, {
      CustomerName: 'A',
      TicketCount: '1',
      TicketWord: 'ticket',
    }),
  ).toBe('Hi A, your order is confirmed: 1 ticket. Reply STOP to opt out.');
});

describe('an EventDate without an offset is the wall-clock time at the venue', () => {
  test.each<[string, Partial<OrderConfirmationEvent>, { defaultTimeZone?: string }, string]>([
    [
      "in the event's time zone",
      { eventDate: '2026-12-31T20:00:00', timeZone: 'Europe/Berlin', locale: 'de-DE' },
      {},
      'on 31.12.2026, 20:00',
    ],
    [
      'with .NET fractional digits',
      { eventDate: '2026-07-04T19:30:00.0000000', timeZone: 'America/New_York' },
      {},
      'on Jul 4, 2026, 7:30 PM',
    ],
    [
      'in the default time zone when the event names none',
      { eventDate: '2026-12-31T20:00:00' },
      { defaultTimeZone: 'Asia/Kolkata' },
      'on Dec 31, 2026, 8:00 PM',
    ],
    [
      'the event zone winning over the default',
      { eventDate: '2026-12-31T20:00', timeZone: 'Australia/Sydney' },
      { defaultTimeZone: 'America/Los_Angeles' },
      'on Dec 31, 2026, 8:00 PM',
    ],
    [
      'a time the clocks skip moving forward by the gap',
      { eventDate: '2026-03-08T02:30:00', timeZone: 'America/New_York' },
      {},
      'on Mar 8, 2026, 3:30 AM',
    ],
  ])('%s', (_name, fields, options, expected) => {
    expect(renderOrderConfirmation({ ...EVENT, ...fields }, options).body).toContain(expected);
  });
});
