import querystring from 'node:querystring';
import type {
  FastifyError,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  RouteShorthandOptions,
} from 'fastify';
import type { HistoryRepository } from '../../db/history-repository';
import type {
  ProviderWebhook,
  WebhookEncoding,
  WebhookParams,
  WebhookRequest,
} from '../../providers/webhook';
import type { Metrics } from '../../runtime/metrics';
import { signalConsentChange, type ConsentEntities } from '../../temporal/consent-signal';
import type { ConsentChangeSignal } from '../../temporal/contracts';
import { HttpError, badRequest } from '../errors';
import { errorRef } from '../schemas';
import type { VenueNumberDirectory } from '../venue-number-directory';
import type { NonceUse, WebhookNonces } from '../webhook-nonces';
import { registerInboundRoute } from './webhook-inbound';
import { registerStatusRoute } from './webhook-status';

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

/** What a provider's two routes (webhook-inbound.ts, webhook-status.ts) share. */
export interface WebhookRoute {
  webhook: ProviderWebhook;
  options: WebhookRoutesOptions;
  /** The plugin's signature check (`verified` in webhookRoutes). */
  verified: (
    request: FastifyRequest,
    reply: FastifyReply,
    kind: 'inbound' | 'status',
  ) => Promise<Verified | null>;
  /** The body and rate limits of every webhook route. */
  routeConfig: Pick<RouteShorthandOptions, 'bodyLimit' | 'config'>;
  /** The answers every webhook route documents. */
  responses: Record<number, unknown>;
}

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

    const route: WebhookRoute = { webhook, options, verified, routeConfig, responses };
    registerInboundRoute(app, route);
    registerStatusRoute(app, route);
  }
};

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
