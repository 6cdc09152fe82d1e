import querystring from 'node:querystring';
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { HistoryRepository } from '../../db/history-repository';
import { classifyInboundText } from '../../domain/consent-keywords';
import type { ConsentStatus, ProviderName } from '../../domain/enums';
import { maskPhone, normalizePhone } from '../../domain/phone';
import {
  webhookPath,
  type InboundSms,
  type ProviderWebhook,
  type WebhookEncoding,
  type WebhookParams,
  type WebhookRequest,
} from '../../providers/webhook';
import type { Metrics } from '../../runtime/metrics';
import { signalConsentChange, type ConsentEntities } from '../../temporal/consent-signal';
import type { ConsentChangeSignal } from '../../temporal/contracts';
import { HttpError, badRequest } from '../errors';
import { errorRef } from '../schemas';
import { VenueNumberUnknown, type VenueMatch, type VenueNumberDirectory } from '../venue-number-directory';
import type { NonceUse, WebhookNonces } from '../webhook-nonces';

/** Delivers one consent change to the (venue, phone) consent workflow; resolves once it is durable. */
export type ConsentSignaller = (
  venueId: number,
  phoneNumber: string,
  change: ConsentChangeSignal,
) => Promise<void>;

export interface WebhookRoutesOptions {
  /** One per provider whose secret is configured; a provider without one has no route (404). */
  webhooks: readonly ProviderWebhook[];
  /** PUBLIC_BASE_URL (no trailing slash): the URL the providers call, hence the one they sign. */
  publicBaseUrl: string;
  /** The venue of a To number: the database, or while it is down the directory's copy. */
  venueNumbers: Pick<VenueNumberDirectory, 'lookup'>;
  /** Spends the nonce of a signature that does not cover the body (Plivo V2), once. */
  nonces: Pick<WebhookNonces, 'use' | 'handled'>;
  history: Pick<HistoryRepository, 'updateDeliveryStatus'>;
  signalConsent: ConsentSignaller;
  helpText: string;
  defaultPhoneRegion: string;
  /** Per client address; providers post from a handful of addresses, so this is high. */
  rateLimitPerMinute?: number;
  /** Signature failures and acknowledged consent changes (source `webhook`). */
  metrics: Pick<Metrics, 'consentChanges' | 'webhookSignatureFailures'>;
}

/** Inbound texts and delivery reports are small; Plivo's MMS bodies carry media URLs, not media. */
const WEBHOOK_BODY_LIMIT = 64 * 1024;
/** Delivery reports come in bursts (up to three per message) from few provider addresses. */
const DEFAULT_RATE_LIMIT_PER_MINUTE = 6_000;
/** Within the providers' own webhook timeouts (Twilio 15 s): past this, 503 and let them retry. */
const SIGNAL_DEADLINE_MS = 10_000;

/** A request whose signature verified; `nonce` when the signature does not cover the body. */
interface Verified {
  req: WebhookRequest;
  nonce?: string;
  /** What the nonce allows; undefined when there is none (the signature covers the body). */
  use?: Exclude<NonceUse, { verdict: 'replayed' }>;
}

const unavailable = (message: string) => new HttpError(503, 'ServiceUnavailable', message);

/** What the content-type parser hands the handlers: the raw text (for signatures) and its fields. */
interface ParsedBody {
  encoding: WebhookEncoding;
  rawBody: string;
  params: WebhookParams;
}

/**
 * The single call to the consent workflow from webhooks, with a deadline so a Temporal outage
 * answers 503 (the provider retries) instead of hanging. Adapt here when the signal's shape changes.
 */
export function webhookConsentSignaller(temporal: ConsentEntities): ConsentSignaller {
  return async (venueId, phoneNumber, change) => {
    await temporal.client.connection.withDeadline(Date.now() + SIGNAL_DEADLINE_MS, () =>
      signalConsentChange(temporal, venueId, phoneNumber, change),
    );
  };
}

/**
 * Provider webhooks: `POST /webhooks/<provider>` (inbound SMS) and `POST /webhooks/<provider>/status`
 * (delivery reports) for every configured provider, through its ProviderWebhook. An encapsulated
 * plugin: its own body parsers (raw body kept for signatures), body limit and rate limit.
 * Nothing is read, written or signalled before the signature is verified; a failed check is a 403.
 */
export const webhookRoutes: FastifyPluginAsync<WebhookRoutesOptions> = async (app, options) => {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    ['application/x-www-form-urlencoded', 'application/json'],
    { parseAs: 'string', bodyLimit: WEBHOOK_BODY_LIMIT },
    (request, body, done) => {
      try {
        done(null, parseBody(request.headers['content-type'] ?? '', String(body)));
      } catch (err) {
        done(err as FastifyError);
      }
    },
  );

  const routeConfig = {
    bodyLimit: WEBHOOK_BODY_LIMIT,
    config: {
      rateLimit: { max: options.rateLimitPerMinute ?? DEFAULT_RATE_LIMIT_PER_MINUTE, timeWindow: '1 minute' },
    },
  };
  const responses = {
    200: { type: 'string', description: 'TwiML (Twilio), Plivo XML (Plivo) or JSON (simulator)' },
    400: errorRef,
    403: errorRef,
    415: errorRef,
    503: errorRef,
  } as const;

  for (const webhook of options.webhooks) {
    const { provider } = webhook;
    // Exported at 0 from the start, so the alert's increase() sees the first failure.
    for (const kind of ['inbound', 'status'] as const) {
      options.metrics.webhookSignatureFailures.inc({ provider, kind }, 0);
    }

    const refuse = (
      request: FastifyRequest,
      reply: FastifyReply,
      kind: 'inbound' | 'status',
      reason: string,
    ) => {
      options.metrics.webhookSignatureFailures.inc({ provider, kind });
      // Never the body or the signature: a forged request's content is the attacker's, and a real one's is personal.
      request.log.warn({ provider, route: request.url.split('?')[0], reason }, 'webhook signature rejected');
      void reply.code(403).send({ error: 'Forbidden', message: 'webhook signature is missing or invalid' });
    };

    /**
     * The verified request, its nonce spent, or a 403 already sent (null). The nonce is spent before
     * the body is even parsed: a nonce whose genuine request went unrecorded could carry any body later.
     */
    const verified = async (
      request: FastifyRequest,
      reply: FastifyReply,
      kind: 'inbound' | 'status',
    ): Promise<Verified | null> => {
      const body = (request.body as ParsedBody | undefined) ?? { encoding: 'form', rawBody: '', params: {} };
      if (!webhook.accepts.includes(body.encoding)) {
        throw new HttpError(
          415,
          'UnsupportedMediaType',
          `${provider} webhooks are ${webhook.accepts.join(' or ')}`,
        );
      }
      const req: WebhookRequest = {
        method: request.method,
        url: `${options.publicBaseUrl}${request.url}`,
        headers: request.headers,
        ...body,
      };
      const verdict = webhook.verify(req);
      if (!verdict.ok) {
        refuse(request, reply, kind, verdict.reason);
        return null;
      }
      if (!verdict.nonce) return { req };
      const use = await options.nonces.use(provider, kind, verdict.nonce, req.rawBody);
      if (use.verdict !== 'replayed') return { req, nonce: verdict.nonce, use };
      refuse(request, reply, kind, 'signature nonce used before with another body');
      return null;
    };

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

        log.info(
          { venueId: number.venueId, intent, rule, venueFrom: number.source },
          'inbound SMS classified',
        );
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

    app.post(
      webhookPath(provider, 'status'),
      {
        ...routeConfig,
        schema: {
          tags: ['webhooks'],
          summary: `Delivery report from ${provider} (signed): updates the history row (kept until it exists), never backwards`,
          response: responses,
        },
      },
      async (request, reply) => {
        const checked = await verified(request, reply, 'status');
        if (!checked) return reply;
        const { req, use } = checked;
        // The report is a database write anyway: without the database, the provider retries it.
        if (use?.verdict === 'unverifiable') throw unavailable('the database is unavailable; retry');
        const report = webhook.parseStatus(req.params);
        if (!report) throw badRequest(`not a ${provider} delivery report`);
        const log = request.log.child({
          provider,
          providerMessageId: report.messageId,
          providerStatus: report.providerStatus,
        });
        if (report.status) {
          const result = await options.history.updateDeliveryStatus({
            provider,
            providerMessageId: report.messageId,
            status: report.status,
            errorCode: report.errorCode,
          });
          if (result.updated > 0) log.info({ deliveryStatus: report.status }, 'delivery status updated');
          else if (result.pending) {
            // Often the provider calling back before its API answered us; else not our message, pruned later.
            log.info(
              { deliveryStatus: report.status },
              'delivery report kept until a history row names its message',
            );
          } else log.info({ deliveryStatus: report.status }, 'delivery report not newer than the stored one');
        } else {
          log.info('delivery report with a status that is not a delivery state; ignored');
        }
        const { contentType, body } = webhook.reply(null);
        return reply.code(200).type(contentType).send(body);
      },
    );
  }
};

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

function parseBody(contentType: string, rawBody: string): ParsedBody {
  if (/^application\/json\b/i.test(contentType)) {
    let parsed: unknown;
    try {
      parsed = rawBody.trim() === '' ? {} : JSON.parse(rawBody);
    } catch {
      throw badRequest('the body is not valid JSON');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw badRequest('the body must be a JSON object');
    }
    return { encoding: 'json', rawBody, params: parsed as WebhookParams };
  }
  // Node's querystring gives repeated keys as arrays, as the providers' own signers expect them.
  return { encoding: 'form', rawBody, params: { ...querystring.parse(rawBody) } };
}
