import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';

export interface OidcVerifierOptions {
  /** The `iss` every token must carry, and where discovery starts (CODEC_OIDC_ISSUER). */
  issuer: string;
  /** Accepted `aud` values: a token naming any of them passes (CODEC_OIDC_AUDIENCE). */
  audience: string[];
  /** The issuer's key set; discovered from `<issuer>/.well-known/openid-configuration` when absent. */
  jwksUrl?: string;
}

/** Why a token was refused, for the log: a jose error code, never the token itself. */
export class OidcTokenError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'OidcTokenError';
  }
}

/**
 * Verifies an access token's signature against the issuer's published keys, and its issuer,
 * audience and lifetime. jose's remote key set caches the keys and refetches them (at most every 30
 * s) when a token names a key it does not hold, so the issuer's key rotation needs no restart.
 */
export function oidcVerifier(options: OidcVerifierOptions): (token: string) => Promise<JWTPayload> {
  let keys: Promise<JWTVerifyGetKey> | undefined;
  const keySet = (): Promise<JWTVerifyGetKey> => {
    keys ??= resolveJwksUrl(options).then((url) => createRemoteJWKSet(url));
    // A failed discovery (issuer down at start) is tried again on the next request, not remembered.
    keys.catch(() => (keys = undefined));
    return keys;
  };
  return async (token) => {
    const getKey = await keySet();
    try {
      const { payload } = await jwtVerify(token, getKey, {
        issuer: options.issuer,
        audience: options.audience,
        // An access token without an expiry would be valid forever once leaked.
        requiredClaims: ['exp'],
        clockTolerance: 30,
      });
      return payload;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      throw new OidcTokenError(typeof code === 'string' ? code : 'ERR_JWT_INVALID');
    }
  };
}

async function resolveJwksUrl(options: OidcVerifierOptions): Promise<URL> {
  if (options.jwksUrl) return new URL(options.jwksUrl);
  const discovery = `${options.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  const response = await fetch(discovery, { signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`OIDC discovery ${discovery} answered ${response.status}`);
  const document = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
  // OpenID Connect Discovery 1.0 §4.3: the document must name exactly the issuer it was fetched for.
  if (document.issuer !== options.issuer) {
    throw new Error(
      `OIDC discovery ${discovery} names issuer ${String(document.issuer)}, not ${options.issuer}`,
    );
  }
  if (typeof document.jwks_uri !== 'string') throw new Error(`OIDC discovery ${discovery} has no jwks_uri`);
  return new URL(document.jwks_uri);
}
