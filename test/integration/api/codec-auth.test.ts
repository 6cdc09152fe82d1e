import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { buildCodecApp } from '../../../api/codec-app';
import { loadConfig, type Config } from '../../../config';
import { createLogger } from '../../../config/logger';
import { AesGcmPayloadCodec } from '../../../temporal/payload-codec';
import { dockerfileEnv, loadCompose, readRepoFiles, serviceEnv } from '../../support/compose-check';

/**
 * Issue 19: the codec endpoint under each CODEC_AUTH, called as the Temporal Web UI calls it from
 * the browser (a CORS preflight, then POST /codec/decode with the UI's headers). Compose's own
 * configuration answers its UI with no token; bearer and OIDC refuse without valid credentials.
 */

const UI_ORIGIN = 'http://localhost:8233';
const PLAIN = { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"+14155550123"') };
const logger = createLogger({ level: 'silent', name: 'codec-auth-test' });
const apps: FastifyInstance[] = [];
const servers: http.Server[] = [];

afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

/** The codec listener as api/main.ts builds it from config, on an ephemeral loopback port. */
async function codecListener(config: Config): Promise<string> {
  const app = await buildCodecApp({
    codec: new AesGcmPayloadCodec(config.temporal.payloadCodecKeys),
    endpoint: config.codecEndpoint,
    logger,
    apiToken: config.api.token,
  });
  apps.push(app);
  // Not the configured 0.0.0.0:3002 (a container's bind): a test binds loopback only.
  await app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/codec`;
}

/** One encrypted payload, as the Temporal server hands it to the UI: JSON, bytes in base64. */
async function encryptedBody(config: Config) {
  const [encrypted] = await new AesGcmPayloadCodec(config.temporal.payloadCodecKeys).encode([PLAIN]);
  const b64 = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('base64');
  const metadata = Object.fromEntries(Object.entries(encrypted.metadata ?? {}).map(([k, v]) => [k, b64(v)]));
  return { payloads: [{ metadata, data: b64(encrypted.data) }] };
}

/** What the UI's browser does: preflight from its origin, then the POST with its headers. */
async function uiDecode(endpoint: string, body: unknown, authorization?: string) {
  const preflight = await fetch(`${endpoint}/decode`, {
    method: 'OPTIONS',
    headers: {
      origin: UI_ORIGIN,
      'access-control-request-method': 'POST',
      'access-control-request-headers': authorization
        ? 'content-type,authorization,x-namespace'
        : 'content-type,x-namespace',
    },
  });
  expect(preflight.status).toBe(204);
  const response = await fetch(`${endpoint}/decode`, {
    method: 'POST',
    headers: {
      origin: UI_ORIGIN,
      'content-type': 'application/json',
      'x-namespace': 'default',
      ...(authorization ? { authorization } : {}),
    },
    body: JSON.stringify(body),
  });
  // Answers, refusals included, are readable by the UI (it shows a 401 rather than a network error).
  expect(response.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
  const json = (await response.json()) as { payloads?: { data: string }[] };
  return {
    status: response.status,
    data: json.payloads?.map((p) => Buffer.from(p.data, 'base64').toString()),
  };
}

const DECODED = [PLAIN.data.toString()];
const PROD = {
  NODE_ENV: 'production',
  API_TOKEN: crypto.randomBytes(24).toString('hex'),
  PAYLOAD_CODEC_KEYS: `k1:${crypto.randomBytes(32).toString('base64')}`,
  WORKFLOW_ID_HASH_KEY: crypto.randomBytes(32).toString('hex'),
  CODEC_CORS_ORIGINS: UI_ORIGIN,
};

describe("compose's configuration (CODEC_AUTH=none on a codec port published on the host's loopback)", () => {
  const files = readRepoFiles();
  const operator = { ACCEPT_EULA: 'Y', MSSQL_SA_PASSWORD: 'ComposeCheck42Secret', ...PROD };
  const { compose } = loadCompose(files.text, operator);
  const config = loadConfig({ ...dockerfileEnv(files.dockerfile), ...serviceEnv(compose.services.api) });

  test('is what the api service gets', () => {
    expect(config.codecEndpoint.auth).toEqual({ mode: 'none', why: 'loopback' });
    expect(config.codecEndpoint.listener).toEqual({ host: '0.0.0.0', port: 3002 });
  });

  test('the UI decodes without a token', async () => {
    const endpoint = await codecListener(config);
    expect(await uiDecode(endpoint, await encryptedBody(config))).toEqual({ status: 200, data: DECODED });
  });

  test('refuses a public peer, a page whose DNS name was rebound to 127.0.0.1, and another origin', async () => {
    const app = await buildCodecApp({
      codec: new AesGcmPayloadCodec(config.temporal.payloadCodecKeys),
      endpoint: config.codecEndpoint,
      logger,
      apiToken: config.api.token,
    });
    apps.push(app);
    const post = (headers: Record<string, string>, remoteAddress = '172.18.0.1') =>
      app.inject({
        method: 'POST',
        url: '/codec/decode',
        remoteAddress,
        headers: { host: 'localhost:3002', ...headers },
        payload: { payloads: [] },
      });
    // Docker's gateway for a port published on the host's 127.0.0.1: the browser on the host.
    expect((await post({ origin: UI_ORIGIN })).statusCode).toBe(200);
    expect((await post({ origin: UI_ORIGIN }, '203.0.113.7')).statusCode).toBe(403);
    expect((await post({ origin: UI_ORIGIN }, '::ffff:203.0.113.7')).statusCode).toBe(403);
    expect(
      (await post({ host: 'attacker.example:3002', origin: 'http://attacker.example:3002' })).statusCode,
    ).toBe(403);
    expect((await post({ origin: 'https://evil.example.com' })).statusCode).toBe(403);
  });
});

describe('CODEC_AUTH=bearer', () => {
  const config = loadConfig({ ...PROD, CODEC_AUTH: 'bearer', CODEC_PORT: '3002' });

  test('refuses the UI without the API token or with another, decodes with it', async () => {
    const endpoint = await codecListener(config);
    const body = await encryptedBody(config);
    expect((await uiDecode(endpoint, body)).status).toBe(401);
    expect((await uiDecode(endpoint, body, `Bearer ${'x'.repeat(48)}`)).status).toBe(401);
    expect(await uiDecode(endpoint, body, `Bearer ${PROD.API_TOKEN}`)).toEqual({
      status: 200,
      data: DECODED,
    });
  });
});

/** A local OIDC issuer: discovery document and key set over loopback HTTP, tokens signed by its key. */
async function startIssuer(options: { discovery: boolean }) {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  let issuer = '';
  const server = http.createServer((req, res) => {
    const send = (body: unknown) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.url === '/.well-known/openid-configuration' && options.discovery) {
      send({ issuer, jwks_uri: `${issuer}/jwks` });
    } else if (req.url === '/jwks') send({ keys: [jwk] });
    else res.writeHead(404).end();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const sign = (claims: { iss?: string; aud?: string; exp?: number | null }, key: CryptoKey = privateKey) => {
    const jwt = new SignJWT({ sub: 'operator@example.com' })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(claims.iss ?? issuer)
      .setAudience(claims.aud ?? 'temporal-ui')
      .setIssuedAt();
    if (claims.exp !== null) jwt.setExpirationTime(claims.exp ?? '5m');
    return jwt.sign(key).then((token) => `Bearer ${token}`);
  };
  return { issuer, sign };
}

describe('CODEC_AUTH=oidc', () => {
  test.each([
    ['discovered from the issuer', true],
    ['named by CODEC_OIDC_JWKS_URL', false],
  ])('checks signature, issuer, audience and expiry; keys %s', async (_how, discovery) => {
    const idp = await startIssuer({ discovery });
    const config = loadConfig({
      ...PROD,
      CODEC_AUTH: 'oidc',
      CODEC_PORT: '3002',
      CODEC_OIDC_ISSUER: idp.issuer,
      CODEC_OIDC_AUDIENCE: 'temporal-ui, other-client',
      ...(discovery ? {} : { CODEC_OIDC_JWKS_URL: `${idp.issuer}/jwks` }),
    });
    const endpoint = await codecListener(config);
    const body = await encryptedBody(config);
    const foreignKey = (await generateKeyPair('RS256')).privateKey;

    expect((await uiDecode(endpoint, body)).status).toBe(401);
    expect((await uiDecode(endpoint, body, `Bearer ${PROD.API_TOKEN}`)).status).toBe(401);
    expect((await uiDecode(endpoint, body, await idp.sign({}, foreignKey))).status).toBe(401);
    expect(
      (await uiDecode(endpoint, body, await idp.sign({ iss: 'https://other.example.com' }))).status,
    ).toBe(401);
    expect((await uiDecode(endpoint, body, await idp.sign({ aud: 'someone-else' }))).status).toBe(401);
    const anHourAgo = Math.floor(Date.now() / 1000) - 3600;
    expect((await uiDecode(endpoint, body, await idp.sign({ exp: anHourAgo }))).status).toBe(401);
    expect((await uiDecode(endpoint, body, await idp.sign({ exp: null }))).status).toBe(401);

    expect(await uiDecode(endpoint, body, await idp.sign({}))).toEqual({ status: 200, data: DECODED });
    expect(await uiDecode(endpoint, body, await idp.sign({ aud: 'other-client' }))).toEqual({
      status: 200,
      data: DECODED,
    });
  });

  test("an unreachable issuer is a 503 (the operator's problem), not a 401", async () => {
    const idp = await startIssuer({ discovery: true });
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const config = loadConfig({
      ...PROD,
      CODEC_AUTH: 'oidc',
      CODEC_PORT: '3002',
      CODEC_OIDC_ISSUER: `http://127.0.0.1:${deadPort}`,
      CODEC_OIDC_AUDIENCE: 'temporal-ui',
    });
    const endpoint = await codecListener(config);
    const body = await encryptedBody(config);
    expect(
      (await uiDecode(endpoint, body, await idp.sign({ iss: `http://127.0.0.1:${deadPort}` }))).status,
    ).toBe(503);
  });
});
