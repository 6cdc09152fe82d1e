import { MESSAGE_MAX_LENGTH } from './enums';
import { dateTimeFormat, numberFormat } from './intl';
import type { OrderConfirmationEvent } from './order-event';
import { countSegments } from './sms-segments';
import { isLocalDateTime, zonedDateTimeToInstant } from './zoned-time';

/**
 * Seed 000 story 3.2's placeholders. Bracketed parts are optional: a part is dropped whole when any
 * placeholder inside it has no value, so a missing OrderNumber or EventName never leaves a literal
 * "{OrderNumber}" or a dangling "for  on" in a customer's SMS.
 */
export const ORDER_CONFIRMATION_TEMPLATE =
  'Hi {CustomerName}, your order[ {OrderNumber}][ for {EventName}][ on {EventDate}] is confirmed: ' +
  '{TicketCount} {TicketWord}[, total {OrderTotal}]. Reply STOP to opt out.';

const PLACEHOLDERS = [
  'CustomerName',
  'OrderNumber',
  'EventName',
  'EventDate',
  'TicketCount',
  'TicketWord',
  'OrderTotal',
] as const;

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

export class MessageTooLongError extends Error {
  constructor(
    readonly length: number,
    readonly max: number,
  ) {
    super(`rendered message is ${length} characters; the history column holds ${max}`);
    this.name = 'MessageTooLongError';
  }
}

export interface RenderedMessage {
  body: string;
  encoding: 'GSM-7' | 'UCS-2';
  segments: number;
  warnings: string[];
}

/** Fills `{Name}` placeholders; `[...]` parts vanish when a placeholder inside them has no value. */
export function renderTemplate(template: string, values: Record<string, string | undefined>): string {
  const fill = (text: string, optional: boolean): string | null => {
    let missing = false;
    const out = text.replace(/\{([A-Za-z]+)\}/g, (_match, name: string) => {
      if (!(PLACEHOLDERS as readonly string[]).includes(name))
        throw new TemplateError(`unknown placeholder {${name}}`);
      const value = values[name];
      if (value === undefined || value === '') {
        if (!optional) throw new TemplateError(`required placeholder {${name}} has no value`);
        missing = true;
        return '';
      }
      return value;
    });
    return missing ? null : out;
  };
  const body = template.replace(/\[([^\]]*)\]/g, (_match, part: string) => fill(part, true) ?? '');
  const result = fill(body, false) ?? '';
  // Values are cleaned of brackets, so any left over come from a malformed template.
  if (/[{}[\]]/.test(result)) throw new TemplateError('unbalanced brackets in template');
  return result;
}

/** The customer's confirmation SMS for an order, in the event's locale, currency and time zone. */
export function renderOrderConfirmation(
  event: OrderConfirmationEvent,
  options: { defaultLocale?: string; defaultTimeZone?: string; defaultCurrency?: string } = {},
): RenderedMessage {
  const locale = event.locale ?? options.defaultLocale ?? 'en-US';
  const timeZone = event.timeZone ?? options.defaultTimeZone ?? 'UTC';
  const currency = event.currency ?? options.defaultCurrency ?? 'USD';

  const body = plainSpaces(
    renderTemplate(ORDER_CONFIRMATION_TEMPLATE, {
      CustomerName: clean(event.customerName),
      OrderNumber: event.orderNumber ? clean(event.orderNumber) : undefined,
      EventName: event.eventName ? clean(event.eventName) : undefined,
      EventDate: event.eventDate ? formatEventDate(event.eventDate, locale, timeZone) : undefined,
      TicketCount: String(event.ticketCount),
      TicketWord: event.ticketCount === 1 ? 'ticket' : 'tickets',
      OrderTotal: numberFormat(locale, { style: 'currency', currency }).format(event.orderTotal),
    }),
  );
  if (body.length > MESSAGE_MAX_LENGTH) throw new MessageTooLongError(body.length, MESSAGE_MAX_LENGTH);

  const { encoding, segments } = countSegments(body);
  const warnings = segments > 1 ? [`message needs ${segments} ${encoding} segments; each is billed`] : [];
  return { body, encoding, segments, warnings };
}

/**
 * A date-only value is a calendar day: formatting it in a time zone must not move it. A date-time
 * without an offset is a wall-clock time in the event's time zone (else the default one).
 */
function formatEventDate(value: string, locale: string, timeZone: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    return dateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' }).format(
      new Date(`${value}T00:00:00Z`),
    );
  }
  const instant = isLocalDateTime(value) ? zonedDateTimeToInstant(value, timeZone) : new Date(value);
  return dateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone }).format(instant);
}

/** Customer-supplied text: no control characters, no braces that could pose as placeholders. */
function clean(value: string): string {
  // eslint-disable-next-line no-control-regex -- stripping control characters is the point
  return value.replace(/[\u0000-\u001f\u007f-\u009f{}[\]]/g, '').trim();
}

/** Intl emits no-break and narrow no-break spaces, which would force an otherwise GSM-7 SMS into UCS-2. */
function plainSpaces(value: string): string {
  return value.replace(/[\u00a0\u202f\u2009]/g, ' ');
}
