import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';

export type PhoneResult = { ok: true; e164: string } | { ok: false; error: string };

/**
 * E.164 from whatever the monolith or a webhook sends ("(415) 555-2671", "+44 7911 123456").
 * The `max` metadata checks real number ranges, not just lengths, so a typo is caught here rather
 * than as a provider error after a retry budget is spent.
 */
export function normalizePhone(raw: string, defaultRegion: CountryCode | string = 'US'): PhoneResult {
  const input = raw.trim();
  if (input === '') return { ok: false, error: 'is empty' };
  const parsed = parsePhoneNumberFromString(input, defaultRegion as CountryCode);
  if (!parsed) return { ok: false, error: 'is not a phone number' };
  if (!parsed.isValid()) return { ok: false, error: 'is not a valid phone number' };
  return { ok: true, e164: parsed.number };
}

/** For logs: keeps the country code and the last two digits of an E.164 number, never the whole. */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  if (digits.length < 6) return '***';
  if (!phone.startsWith('+')) return `***${digits.slice(-2)}`;
  const parsed = parsePhoneNumberFromString(phone);
  const country = parsed?.countryCallingCode ?? '';
  const hidden = digits.length - country.length - 2;
  return `+${country}${'*'.repeat(Math.max(hidden, 3))}${digits.slice(-2)}`;
}

/**
 * Masks, through maskPhone, every run long enough to be a phone number: six or more characters from
 * a digit to a digit, with only the spaces, dots, dashes and brackets people write inside a number
 * (an optional leading "+" is kept for the country code). Provider error text echoes
 * the recipient ("The 'To' number +14155550140 is not valid"; Plivo echoes `dst`), and it must not
 * reach a log or a workflow history whole. Shorter runs (Twilio's five-digit error codes) are kept.
 */
export function redactPhones(text: string): string {
  return text.replace(/\+?\d[\d\s().-]{4,}\d/g, (match) => maskPhone(match.replace(/[\s().-]/g, '')));
}
