import net from 'node:net';
import { z } from 'zod';
import { bool, csv, port } from './primitives';
import { LOCAL_UI_ORIGIN, usesLocalPayloadCodecKey, type TemporalConfig } from './temporal';

/**
 * Who may call the API's /codec/encode and /codec/decode (docs/adr/0010-payload-codec-and-ids.md):
 * - `bearer`: the API token (API_TOKEN), as every /api route; the Temporal CLI sends it, the Web UI
 *   cannot.
 * - `oidc`: the access token the Web UI forwards from its own login
 *   (TEMPORAL_CODEC_PASS_ACCESS_TOKEN), checked against the issuer's keys, issuer and audience.
 * - `none`: no credentials, so only where no one but the machine's own users reaches the listener
 *   (`loopback`), or while the payloads use the published local key anyway (`local-key`).
 */
export type CodecAuth =
  | { mode: 'bearer' }
  | { mode: 'oidc'; issuer: string; audience: string[]; jwksUrl?: string }
  | { mode: 'none'; why: 'loopback' | 'local-key' };

export interface CodecEndpointConfig {
  /** Web UI origins allowed to call it (CODEC_CORS_ORIGINS, default the local UI). */
  corsOrigins: string[];
  auth: CodecAuth;
  /** Its own listener (CODEC_PORT): /codec is then served there only, not on PORT. */
  listener?: { host: string; port: number };
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/** A host name or address that only this machine reaches. */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_NAMES.has(host) || (net.isIPv4(host) && host.startsWith('127.'));
}

export const codecEnv = z.object({
  CODEC_AUTH: z.enum(['bearer', 'oidc', 'none'], { error: 'must be bearer, oidc or none' }).optional(),
  CODEC_CORS_ORIGINS: csv
    .pipe(z.array(z.url().transform((u) => new URL(u).origin)))
    .default([LOCAL_UI_ORIGIN]),
  CODEC_HOST: z.string().min(1).optional(),
  CODEC_PORT: port.optional(),
  CODEC_PUBLISHED_ON_LOOPBACK_ONLY: bool.default(false),
  CODEC_OIDC_ISSUER: z.url().optional(),
  CODEC_OIDC_AUDIENCE: csv.optional(),
  CODEC_OIDC_JWKS_URL: z.url().optional(),
});
type CodecEnv = z.infer<typeof codecEnv> & { HOST: string; PORT: number };

/** Plain http is fine to the machine itself (tests, a local issuer); elsewhere keys must come over TLS. */
function httpsOrLoopback(value: string): boolean {
  const url = new URL(value);
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
}

export function checkCodec(env: CodecEnv, ctx: z.RefinementCtx): void {
  const issue = (path: keyof CodecEnv, message: string) =>
    ctx.addIssue({ code: 'custom', path: [path], message });
  if (env.CODEC_PORT !== undefined && env.CODEC_PORT === env.PORT) {
    issue('CODEC_PORT', 'must differ from PORT: the codec listener is a second one');
  }
  if (env.CODEC_HOST !== undefined && env.CODEC_PORT === undefined) {
    issue('CODEC_HOST', 'needs CODEC_PORT (without it /codec is served on HOST:PORT)');
  }
  const oidcVars = (['CODEC_OIDC_ISSUER', 'CODEC_OIDC_AUDIENCE', 'CODEC_OIDC_JWKS_URL'] as const).filter(
    (name) => env[name] !== undefined,
  );
  if (env.CODEC_AUTH === 'oidc') {
    if (!env.CODEC_OIDC_ISSUER) issue('CODEC_OIDC_ISSUER', 'is required with CODEC_AUTH=oidc');
    if (!env.CODEC_OIDC_AUDIENCE?.length) {
      issue(
        'CODEC_OIDC_AUDIENCE',
        "is required with CODEC_AUTH=oidc (the tokens' aud, e.g. the UI's client id)",
      );
    }
    for (const name of ['CODEC_OIDC_ISSUER', 'CODEC_OIDC_JWKS_URL'] as const) {
      const value = env[name];
      if (value && !httpsOrLoopback(value)) issue(name, 'must be https (http only to localhost)');
    }
  } else if (oidcVars.length > 0) {
    issue('CODEC_AUTH', `is not oidc, so ${oidcVars.join(', ')} would be ignored: set CODEC_AUTH=oidc`);
  }
  if (env.CODEC_AUTH === 'none') checkNone(env, issue);
}

/**
 * `none` decrypts for whoever reaches the listener, so the config must show that only this machine
 * does: a loopback bind, or (in a container, which must bind 0.0.0.0 to be reached at all) a codec
 * listener of its own that the deployer publishes on the host's loopback only — compose's test checks
 * that for our file. The browsers allowed to read the answers must be a local UI's too.
 */
function checkNone(env: CodecEnv, issue: (path: keyof CodecEnv, message: string) => void): void {
  const host = env.CODEC_PORT !== undefined ? (env.CODEC_HOST ?? env.HOST) : env.HOST;
  const ownListener = env.CODEC_PORT !== undefined && env.CODEC_PORT !== env.PORT;
  if (!isLoopbackHost(host) && !(ownListener && env.CODEC_PUBLISHED_ON_LOOPBACK_ONLY)) {
    issue(
      'CODEC_AUTH',
      `none decrypts for anyone who reaches ${host}: bind the codec to loopback (HOST, or CODEC_HOST with CODEC_PORT), ` +
        "or give it its own CODEC_PORT published on the host's 127.0.0.1 only and set CODEC_PUBLISHED_ON_LOOPBACK_ONLY=true; " +
        'otherwise use bearer or oidc',
    );
  }
  const remote = env.CODEC_CORS_ORIGINS.filter((origin) => !isLoopbackHost(new URL(origin).hostname));
  if (remote.length > 0) {
    issue(
      'CODEC_CORS_ORIGINS',
      `with CODEC_AUTH=none only a local Web UI (http://localhost:…) may call the codec, not ${remote.join(', ')}: use bearer or oidc`,
    );
  }
}

export function codecEndpointConfig(
  env: CodecEnv,
  temporal: Pick<TemporalConfig, 'payloadCodecKeys'>,
): CodecEndpointConfig {
  return {
    corsOrigins: env.CODEC_CORS_ORIGINS,
    auth: codecAuth(env, temporal),
    listener:
      env.CODEC_PORT === undefined ? undefined : { host: env.CODEC_HOST ?? env.HOST, port: env.CODEC_PORT },
  };
}

function codecAuth(env: CodecEnv, temporal: Pick<TemporalConfig, 'payloadCodecKeys'>): CodecAuth {
  switch (env.CODEC_AUTH) {
    case 'none':
      return { mode: 'none', why: 'loopback' };
    case 'oidc':
      return {
        mode: 'oidc',
        issuer: env.CODEC_OIDC_ISSUER ?? '',
        audience: env.CODEC_OIDC_AUDIENCE ?? [],
        jwksUrl: env.CODEC_OIDC_JWKS_URL,
      };
    case 'bearer':
      return { mode: 'bearer' };
    default:
      // As before the setting existed: the token, except on the published local key, which anyone
      // can read anyway, so the local Web UI decodes with no setup.
      return usesLocalPayloadCodecKey(temporal) ? { mode: 'none', why: 'local-key' } : { mode: 'bearer' };
  }
}
