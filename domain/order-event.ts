import { z } from 'zod';
import { normalizePhone } from './phone';
import { isLocale, isTimeZone } from './intl';
import { CUSTOMER_NAME_MAX, EVENT_NAME_MAX, ORDER_NUMBER_MAX, VENUE_ID_MAX } from './limits';
import { isLocalDateTime } from './zoned-time';

/** SendOrderConfirmationSms after validation (DESIGN.md, Event contract). */
export interface OrderConfirmationEvent {
  orderId: string;
  venueId: number;
  customerId: string;
  /** E.164 */
  phoneNumber: string;
  customerName: string;
  orderTotal: number;
  ticketCount: number;
  eventTimestamp: string;
  orderNumber?: string;
  eventName?: string;
  /**
   * As sent: a date ("2026-12-31"), a date-time with an offset, or a wall-clock date-time without one
   * (what .NET emits for an Unspecified DateTime), which means the time in `timeZone`, else the
   * service's DEFAULT_TIME_ZONE (domain/zoned-time.ts; the template reads it so).
   */
  eventDate?: string;
  currency?: string;
  locale?: string;
  timeZone?: string;
}

export interface FieldError {
  /** The contract's PascalCase name, whichever casing the sender used. */
  field: string;
  message: string;
}

export type ParseResult = { ok: true; event: OrderConfirmationEvent } | { ok: false; errors: FieldError[] };

const isoDateTime = z.iso.datetime({ offset: true, error: 'must be an ISO-8601 date-time with an offset' });
const EVENT_DATE_FORMAT = 'must be an ISO-8601 date or date-time (with or without an offset)';
const eventDate = z
  .string(EVENT_DATE_FORMAT)
  .refine(
    (v) =>
      z.iso.date().safeParse(v).success ||
      z.iso.datetime({ offset: true }).safeParse(v).success ||
      isLocalDateTime(v),
    EVENT_DATE_FORMAT,
  );
// .NET serialises decimals as numbers or, with some settings, as strings: accept both.
const decimal = z.union([
  z.number(),
  z
    .string()
    .regex(/^\d+(\.\d+)?$/, 'must be a decimal')
    .transform(Number),
]);

/**
 * Lengths count UTF-16 code units (`.length`), as SQL Server's nvarchar does (domain/limits.ts); zod's
 * own .max() counts code points, which would let 26 emoji through into an nvarchar(50).
 */
const text = (max: number) =>
  z
    .string('must be a string')
    .trim()
    .min(1, 'must not be empty')
    .refine((v) => v.length <= max, `must be at most ${max} characters`);

const FIELDS = {
  OrderId: z.uuid('must be a UUID').transform((v) => v.toLowerCase()),
  VenueId: z
    .number('must be a number')
    .int('must be an integer')
    .positive('must be positive')
    .max(VENUE_ID_MAX, `must be at most ${VENUE_ID_MAX}`),
  CustomerId: z.uuid('must be a UUID').transform((v) => v.toLowerCase()),
  PhoneNumber: z.string('must be a string'),
  CustomerName: text(CUSTOMER_NAME_MAX),
  OrderTotal: decimal.pipe(z.number().min(0, 'must be ≥ 0').max(1e9, 'is implausibly large')),
  TicketCount: z.number('must be a number').int('must be an integer').min(1, 'must be ≥ 1'),
  EventTimestamp: isoDateTime,
  OrderNumber: text(ORDER_NUMBER_MAX).optional(),
  EventName: text(EVENT_NAME_MAX).optional(),
  EventDate: eventDate.optional(),
  Currency: z
    .string()
    .regex(/^[A-Za-z]{3}$/, 'must be an ISO 4217 code')
    .transform((v) => v.toUpperCase())
    .optional(),
  Locale: z.string().refine(isLocale, 'must be a BCP-47 locale').optional(),
  TimeZone: z.string().refine(isTimeZone, 'must be an IANA time zone').optional(),
} satisfies Record<string, z.ZodType>;

type FieldName = keyof typeof FIELDS;
const REQUIRED: readonly FieldName[] = [
  'OrderId',
  'VenueId',
  'CustomerId',
  'PhoneNumber',
  'CustomerName',
  'OrderTotal',
  'TicketCount',
  'EventTimestamp',
];

/**
 * Validates a decoded event body. Every field error is reported at once, named as in the contract,
 * so a dead-letter description or a 400 tells the producer everything it has to fix.
 */
export function parseOrderEvent(input: unknown, options: { defaultRegion?: string } = {}): ParseResult {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, errors: [{ field: '$', message: 'body must be a JSON object' }] };
  }
  const body = input as Record<string, unknown>;
  const errors: FieldError[] = [];
  const values: Partial<Record<FieldName, unknown>> = {};

  for (const field of Object.keys(FIELDS) as FieldName[]) {
    const camel = field[0].toLowerCase() + field.slice(1);
    const pascalValue = body[field] ?? undefined;
    const camelValue = body[camel] ?? undefined;
    if (
      pascalValue !== undefined &&
      camelValue !== undefined &&
      JSON.stringify(pascalValue) !== JSON.stringify(camelValue)
    ) {
      errors.push({ field, message: `given twice with different values (${field} and ${camel})` });
      continue;
    }
    const raw = pascalValue ?? camelValue;
    if (raw === undefined) {
      if (REQUIRED.includes(field)) errors.push({ field, message: 'is required' });
      continue;
    }
    const parsed = FIELDS[field].safeParse(raw);
    if (!parsed.success) {
      errors.push({ field, message: parsed.error.issues.map((i) => i.message).join(', ') });
      continue;
    }
    values[field] = parsed.data;
  }

  if (typeof values.PhoneNumber === 'string') {
    const phone = normalizePhone(values.PhoneNumber, options.defaultRegion ?? 'US');
    // E.164 is at most 16 characters: every normalised number fits the 20-character columns.
    if (phone.ok) values.PhoneNumber = phone.e164;
    else errors.push({ field: 'PhoneNumber', message: phone.error });
  }
  if (errors.length > 0) return { ok: false, errors };

  const v = values as { [K in FieldName]: z.output<(typeof FIELDS)[K]> };
  return {
    ok: true,
    event: withoutUndefined({
      orderId: v.OrderId,
      venueId: v.VenueId,
      customerId: v.CustomerId,
      phoneNumber: v.PhoneNumber,
      customerName: v.CustomerName,
      orderTotal: v.OrderTotal,
      ticketCount: v.TicketCount,
      eventTimestamp: v.EventTimestamp,
      orderNumber: v.OrderNumber,
      eventName: v.EventName,
      eventDate: v.EventDate,
      currency: v.Currency,
      locale: v.Locale,
      timeZone: v.TimeZone,
    }),
  };
}

/** Same, from the raw message body. */
export function parseOrderEventJson(
  body: string | Buffer,
  options: { defaultRegion?: string } = {},
): ParseResult {
  let decoded: unknown;
  try {
    decoded = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch {
    return { ok: false, errors: [{ field: '$', message: 'body is not valid JSON' }] };
  }
  return parseOrderEvent(decoded, options);
}

/** One line for a dead-letter description (Service Bus caps it at 4096 characters). */
export function describeFieldErrors(errors: FieldError[]): string {
  const line = errors.map((e) => `${e.field}: ${e.message}`).join('; ');
  return line.length > 4000 ? `${line.slice(0, 3997)}...` : line;
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/**
 * When an order's event stops being confirmed by SMS (MAX_EVENT_AGE_HOURS after it); undefined when
 * it carries no readable time (orders started before the field existed).
 */
export function eventExpiresAt(eventTimestamp: string | undefined, maxAgeMs: number): number | undefined {
  if (eventTimestamp === undefined) return undefined;
  const at = Date.parse(eventTimestamp);
  return Number.isFinite(at) ? at + maxAgeMs : undefined;
}

/** Whether an order's event is older than MAX_EVENT_AGE_HOURS now: it is not confirmed by SMS any more. */
export function isEventExpired(
  eventTimestamp: string | undefined,
  maxAgeMs: number,
  now = Date.now(),
): boolean {
  const expiresAt = eventExpiresAt(eventTimestamp, maxAgeMs);
  return expiresAt !== undefined && now > expiresAt;
}
