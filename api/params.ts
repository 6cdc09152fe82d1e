import { normalizePhone } from '../domain/phone';
import { badRequest } from './errors';

/** A phone number from a path or body, as E.164, or a 400 naming the field. */
export function requireE164(raw: string, field: string, defaultRegion: string): string {
  const phone = normalizePhone(raw, defaultRegion);
  if (!phone.ok) throw badRequest(`${field} ${phone.error}`, [{ field, message: phone.error }]);
  return phone.e164;
}
