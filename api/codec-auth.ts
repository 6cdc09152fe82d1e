import net from 'node:net';
import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import { isLoopbackHost, type CodecAuth } from '../config';
import { HttpError } from './errors';
import { OidcTokenError, oidcVerifier } from './oidc';

/**
 * The hook that guards /codec for the configured CODEC_AUTH, or undefined when nothing is asked
 * (the published local key). `bearer` is the app's API token check.
 */
export function codecAuthenticator(
  auth: CodecAuth,
  options: { bearer: onRequestHookHandler; corsOrigins: string[] },
): onRequestHookHandler | undefined {
  switch (auth.mode) {
    case 'bearer':
      return options.bearer;
    case 'oidc':
      return oidcAuthenticator(auth);
    case 'none':
      return auth.why === 'loopback' ? localOnly(new Set(options.corsOrigins)) : undefined;
  }
}

function oidcAuthenticator(auth: Extract<CodecAuth, { mode: 'oidc' }>): onRequestHookHandler {
  const verify = oidcVerifier(auth);
  const refuse = (reply: Parameters<onRequestHookHandler>[1], why: string) => {
    reply.header('WWW-Authenticate', `Bearer realm="codec", error="invalid_token"`);
    return new HttpError(401, 'Unauthorized', why);
  };
  return async (request, reply) => {
    const match = /^Bearer +(\S+)$/i.exec(request.headers.authorization ?? '');
    if (!match) throw refuse(reply, `an access token from ${auth.issuer} is required`);
    try {
      await verify(match[1]);
    } catch (err) {
      if (!(err instanceof OidcTokenError)) {
        // The issuer's keys could not be fetched: not the caller's fault, and worth an operator's look.
        request.log.error({ err }, 'codec: OIDC keys unavailable');
        throw new HttpError(503, 'Unavailable', 'the token issuer cannot be reached');
      }
      request.log.info({ reason: err.reason }, 'codec: access token refused');
      throw refuse(reply, `the access token is not valid for this codec (${err.reason})`);
    }
  };
}

// Addresses no one outside the machine or its private networks (a compose network, Docker's
// gateway for a port published on the host's loopback) can connect from.
const LOCAL_PEERS = new net.BlockList();
for (const [address, bits] of [
  ['127.0.0.0', 8],
  ['10.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['169.254.0.0', 16],
] as const) {
  LOCAL_PEERS.addSubnet(address, bits, 'ipv4');
}
for (const [address, bits] of [
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
] as const) {
  LOCAL_PEERS.addSubnet(address, bits, 'ipv6');
}

function isLocalPeer(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (v4) return LOCAL_PEERS.check(v4, 'ipv4');
  return LOCAL_PEERS.check(address, net.isIPv6(address) ? 'ipv6' : 'ipv4');
}

/**
 * CODEC_AUTH=none: config already refused a listener others reach; this is the second line, per
 * request. The TCP peer (never X-Forwarded-For, which a client writes) must be local, the Host must
 * name this machine (a public site rebinding its DNS name to 127.0.0.1 sends its own name), and a
 * browser's Origin must be the Web UI's.
 */
function localOnly(origins: Set<string>): onRequestHookHandler {
  return async (request: FastifyRequest) => {
    const host = hostName(request.headers.host);
    const origin = request.headers.origin;
    if (!isLocalPeer(request.raw.socket.remoteAddress)) {
      throw new HttpError(403, 'Forbidden', 'CODEC_AUTH=none answers local callers only');
    }
    if (!host || !isLoopbackHost(host)) {
      throw new HttpError(403, 'Forbidden', 'CODEC_AUTH=none answers requests to localhost only');
    }
    if (origin !== undefined && !origins.has(origin)) {
      throw new HttpError(403, 'Forbidden', 'origin not in CODEC_CORS_ORIGINS');
    }
  };
}

function hostName(header: string | undefined): string | undefined {
  if (!header) return undefined;
  try {
    return new URL(`http://${header}`).hostname;
  } catch {
    return undefined;
  }
}
