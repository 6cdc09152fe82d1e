import type { FastifyInstance } from 'fastify';
import { classifyInboundText } from '../../domain/consent-keywords';
import type { ConsentStatus, ProviderName } from '../../domain/enums';
import { maskPhone, normalizePhone } from '../../domain/phone';
import { webhookPath, type InboundSms } from '../../providers/webhook';
import { badRequest, unavailable } from '../errors';
import { VenueNumberUnknown, type VenueMatch } from '../venue-number-directory';
import type { ConsentSignaller, WebhookRoute } from './webhooks';

/** `POST /webhooks/<provider>`: an inbound SMS; STOP / START change consent, HELP is answered. */
export function registerInboundRoute(app: FastifyInstance, route: WebhookRoute): void {
  const { webhook, options, verified, routeConfig, responses } = route;
  const { provider } = webhook;
  app.post(
    webhookPath(provider, 'inbound'),
    {
      ...routeConfig,
      schema: {
        tags: ['webhooks'],
        summary: `Inbound SMS from ${provider} (signed): STOP / START / HELP change consent or answer`,
        response: responses,
      },
    },
    async (request, reply) => {
      const checked = await verified(request, reply, 'inbound');
      if (!checked) return reply;
      const { req, nonce, use } = checked;
      const inbound = webhook.parseInbound(req.params);
      if (!inbound) throw badRequest(`not a ${provider} inbound message`);
      const answer = async (text?: string) => {
        if (nonce && !use?.handled) await options.nonces.handled(provider, nonce);
        const { contentType, body } = webhook.reply(inbound, text);
        return reply.code(200).type(contentType).send(body);
      };

      const to = normalizePhone(inbound.to, options.defaultPhoneRegion);
      const from = normalizePhone(inbound.from, options.defaultPhoneRegion);
      const log = request.log.child({
        provider,
        providerMessageId: inbound.messageId,
        venueNumber: maskPhone(inbound.to),
        customer: maskPhone(inbound.from),
      });
      if (use?.handled) {
        // The provider retrying a request whose answer it missed, or a replay: either way, done once.
        log.info('inbound SMS already handled under this nonce; not acted on again');
        return answer();
      }
      // 200 for what we cannot act on: an error would only make the provider retry the same request.
      if (!to.ok || !from.ok) {
        log.warn({ toValid: to.ok, fromValid: from.ok }, 'inbound SMS ignored: not a phone number');
        return answer();
      }
      const { intent, rule } = classifyInboundText(inbound.text, provider, inbound.hints);
      // The nonce could not be checked (the database is down), so this may be a captured signature
      // on a forged body. Acted on only where a forgery costs less than losing the real text: a
      // forged STOP stops someone's confirmations, a lost STOP texts someone who said stop. A
      // START or HELP (a reply text to whatever number the body names) waits: the provider retries
      // (Plivo: after 1, 3 and 7 minutes). Anything else has no effect to forge.
      if (use?.verdict === 'unverifiable' && (intent === 'opt_in' || intent === 'help')) {
        log.warn(
          { intent },
          'inbound SMS deferred: its signature nonce cannot be checked without the database',
        );
        throw unavailable('the request cannot be verified while the database is unavailable; retry');
      }
      let number: VenueMatch | null;
      try {
        number = await options.venueNumbers.lookup(to.e164, provider);
      } catch (err) {
        if (!(err instanceof VenueNumberUnknown)) throw err;
        log.error(
          { err, intent },
          'inbound SMS to a number the directory does not know, with the database down',
        );
        throw unavailable('the venue number cannot be looked up while the database is unavailable; retry');
      }
      if (!number) {
        log.warn('inbound SMS to a number that is no active venue number here; ignored');
        return answer();
      }

      log.info({ venueId: number.venueId, intent, rule, venueFrom: number.source }, 'inbound SMS classified');
      if (intent === 'opt_out' || intent === 'opt_in') {
        const status: ConsentStatus = intent === 'opt_out' ? 'opted_out' : 'opted_in';
        await changeConsent(options.signalConsent, number.venueId, from.e164, inbound, {
          status,
          // A retry is the text first received then: the consent rules order it there.
          occurredAt: use?.firstSeenAt ?? new Date(),
          correlationId: request.id,
          provider,
        }).catch((err: unknown) => {
          log.error({ err, venueId: number.venueId, status }, 'consent change not accepted by Temporal');
          throw unavailable('the consent change could not be stored; retry');
        });
        log.info({ venueId: number.venueId, status }, 'consent change accepted');
        options.metrics.consentChanges.inc({ direction: intent, source: 'webhook' });
        // The carrier confirms STOP / START itself: answering too would send the customer a second text.
        return answer();
      }
      return intent === 'help' ? answer(options.helpText) : answer();
    },
  );
}

function changeConsent(
  signal: ConsentSignaller,
  venueId: number,
  phoneNumber: string,
  inbound: InboundSms,
  change: { status: ConsentStatus; occurredAt: Date; correlationId: string; provider: ProviderName },
): Promise<void> {
  const { status, occurredAt, correlationId, provider } = change;
  return signal(venueId, phoneNumber, {
    status,
    source: 'provider_webhook',
    // The audit trail names the provider whose customer texted.
    provider,
    // Neither provider dates an inbound SMS: the time we received it is the time of the change.
    occurredAt: occurredAt.toISOString(),
    // The same webhook delivered twice carries the same id: the consent entity applies it once.
    providerMessageId: inbound.messageId,
    correlationId,
  });
}
