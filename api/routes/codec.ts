import type { Payload, PayloadCodec } from '@temporalio/common';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { FromSchema } from 'json-schema-to-ts';
import { bearerSecurity, errorRef } from '../schemas';

export interface CodecRoutesOptions {
  /** The service's payload codec (temporal/payload-codec.ts), built from PAYLOAD_CODEC_KEYS. */
  codec: PayloadCodec;
  /** Origins of the Web UIs whose browsers call this (CODEC_CORS_ORIGINS). */
  corsOrigins: string[];
  /**
   * The CODEC_AUTH check (api/codec-auth.ts): the API token, the UI's OIDC access token, or the
   * local-only guard. Absent only while the codec uses the documented local key, which anyone can
   * read anyway: then the local Web UI decodes with no setup.
   */
  authenticate?: onRequestHookHandler;
}

/** Temporal's remote codec wire format: payloads as JSON, every byte field base64. */
const payloadsBody = {
  type: 'object',
  required: ['payloads'],
  properties: {
    payloads: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          metadata: { type: 'object', additionalProperties: { type: 'string' } },
          data: { type: 'string' },
        },
      },
    },
  },
} as const;
type PayloadsJson = FromSchema<typeof payloadsBody>;

/** A history page the UI decodes at once can be large; Temporal's own blob limit is 2 MB per payload. */
const BODY_LIMIT_BYTES = 16 * 1024 * 1024;
/** Headers the Temporal Web UI sends with its codec calls. */
const ALLOWED_HEADERS = 'Content-Type, Authorization, X-Namespace';

/**
 * `POST /codec/encode` and `POST /codec/decode`: the Temporal Web UI's remote codec
 * (`--ui-codec-endpoint http://localhost:3000/codec`, or TEMPORAL_CODEC_ENDPOINT for the UI image), so
 * an operator sees decrypted inputs, results and failures while the server stores ciphertext.
 * CORS is answered here for the configured UI origins only; who may call the routes is CODEC_AUTH's
 * (docs/adr/0010-payload-codec-and-ids.md).
 */
export const codecRoutes: FastifyPluginAsync<CodecRoutesOptions> = async (app, options) => {
  const origins = new Set(options.corsOrigins);

  // The UI is another origin: every answer, errors included, carries the CORS headers it needs to
  // read it. Credentials are allowed for the UI's "include cross-origin credentials" setting.
  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin;
    if (origin && origins.has(origin)) {
      reply.header('Access-Control-Allow-Origin', origin);
      reply.header('Access-Control-Allow-Credentials', 'true');
    }
    reply.header('Vary', 'Origin');
  });

  const preflight = async (request: FastifyRequest, reply: FastifyReply) => {
    const origin = request.headers.origin;
    if (!origin || !origins.has(origin)) {
      return reply.code(403).send({ error: 'Forbidden', message: 'origin not in CODEC_CORS_ORIGINS' });
    }
    return reply
      .code(204)
      .header('Access-Control-Allow-Methods', 'POST, OPTIONS')
      .header('Access-Control-Allow-Headers', ALLOWED_HEADERS)
      .header('Access-Control-Max-Age', '600')
      .send();
  };

  for (const direction of ['encode', 'decode'] as const) {
    app.options(`/codec/${direction}`, { schema: { hide: true } }, preflight);
    app.post<{ Body: PayloadsJson }>(
      `/codec/${direction}`,
      {
        bodyLimit: BODY_LIMIT_BYTES,
        ...(options.authenticate ? { onRequest: options.authenticate } : {}),
        schema: {
          tags: ['codec'],
          summary:
            direction === 'decode'
              ? 'Decrypt Temporal payloads (the Web UI remote codec)'
              : 'Encrypt Temporal payloads (the Web UI remote codec)',
          security: bearerSecurity,
          body: payloadsBody,
          response: { 200: payloadsBody, 400: errorRef, 401: errorRef, 413: errorRef },
        },
      },
      async (request) => {
        const payloads = request.body.payloads.map(fromJson);
        if (direction === 'encode') return { payloads: (await options.codec.encode(payloads)).map(toJson) };
        // One payload this deployment cannot open (a key removed too early) must not hide the rest of
        // the page: it goes back as it came, and the log names the reason (the key id, no content).
        const decoded = await Promise.all(
          payloads.map(async (payload) => {
            try {
              const [one] = await options.codec.decode([payload]);
              return one;
            } catch (err) {
              request.log.warn(
                { reason: err instanceof Error ? err.message : String(err) },
                'payload not decoded',
              );
              return payload;
            }
          }),
        );
        return { payloads: decoded.map(toJson) };
      },
    );
  }
};

type PayloadJson = PayloadsJson['payloads'][number];

function fromJson(json: PayloadJson): Payload {
  return {
    metadata: Object.fromEntries(
      Object.entries(json.metadata ?? {}).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))]),
    ),
    data: new Uint8Array(Buffer.from(json.data ?? '', 'base64')),
  };
}

function toJson(payload: Payload): { metadata: Record<string, string>; data: string } {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')]),
    ),
    data: Buffer.from(payload.data ?? []).toString('base64'),
  };
}
