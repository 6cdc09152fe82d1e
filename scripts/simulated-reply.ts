import type { VenueNumbersRepository } from '../db/venue-numbers-repository';
import { signSimulatorWebhook, simulatorInbound } from '../providers/simulator/simulator-webhook';
import { webhookPath } from '../providers/webhook';

/**
 * A customer texting a venue's simulator number, as a provider would deliver it: a signed POST to
 * `<baseUrl>/webhooks/simulator`, verified by the API like any provider webhook. `baseUrl` must be
 * the API's PUBLIC_BASE_URL (or http://localhost:$PORT): that URL is what is signed.
 * Used by `npm run sms:reply` and `npm run demo`.
 */
export async function postSimulatedReply(options: {
  baseUrl: string;
  secret: string;
  /** The customer (E.164). */
  from: string;
  /** The venue's simulator number (E.164). */
  to: string;
  text: string;
}): Promise<{ status: number; body: string; messageId: string }> {
  const url = `${options.baseUrl.replace(/\/+$/, '')}${webhookPath('simulator', 'inbound')}`;
  const inbound = simulatorInbound(options.from, options.to, options.text);
  const signed = signSimulatorWebhook(options.secret, url, inbound);
  const res = await fetch(url, { method: 'POST', headers: signed.headers, body: signed.body });
  return { status: res.status, body: await res.text(), messageId: inbound.messageId };
}

/** The venue's active simulator number, or an error saying how to get one. */
export async function venueSimulatorNumber(
  venueNumbers: Pick<VenueNumbersRepository, 'findActive'>,
  venueId: number,
): Promise<string> {
  const number = await venueNumbers.findActive(venueId, 'simulator');
  if (!number) {
    throw new Error(
      `venue ${venueId} has no simulator number yet: send an order first (npm run demo, or POST /api/events/send-order-confirmation-sms)`,
    );
  }
  return number.phoneNumber;
}
