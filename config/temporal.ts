import { createPrivateKey, X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { codecKeys, payloadCodecKey, type PayloadCodecKey } from './codec-keys';
import { bool, type NodeEnv } from './primitives';

/**
 * The payload codec key outside production (PAYLOAD_CODEC_KEYS unset): a published value, so local
 * histories are encrypted the same way as production's but anyone can read them. Refused when
 * NODE_ENV=production, as a key there or as an old one kept for decryption.
 */
export const LOCAL_PAYLOAD_CODEC_KEYS = 'local-dev:BTUgb5EGXBlPLLSfVnvfXSvcPZzYQOfG98NZnG/sXMw=';
/** The consent workflow ids' HMAC key outside production; refused when NODE_ENV=production. */
export const LOCAL_WORKFLOW_ID_HASH_KEY = 'local-workflow-id-hash-key';
/** Where the local stack's Temporal Web UI runs: the codec endpoint answers its browser calls. */
export const LOCAL_UI_ORIGIN = 'http://localhost:8233';

const LOCAL_CODEC_KEY = (() => {
  const [id, base64] = LOCAL_PAYLOAD_CODEC_KEYS.split(':');
  return payloadCodecKey(id, Buffer.from(base64, 'base64'));
})();

/**
 * A PEM value. An env value that reached us with its line breaks written as `\n` (a one-line
 * secret) gets them back: OpenSSL and rustls want real ones.
 */
const pem = z
  .string()
  .transform((v) => (v.includes('\n') ? v : v.replace(/\\n/g, '\n')).trim())
  .refine(isPem, 'must be PEM contents (-----BEGIN …), not a path or base64 DER');

function isPem(value: string | undefined): value is string {
  return value?.startsWith('-----BEGIN ') ?? false;
}

export const temporalEnv = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('sms-orders'),
  TEMPORAL_API_KEY: z.string().optional(),
  TEMPORAL_TLS: bool.optional(),
  // PEM contents, not paths: Container Apps hands Key Vault secrets to the process as env values.
  TEMPORAL_TLS_CERT: pem.optional(),
  TEMPORAL_TLS_KEY: pem.optional(),
  TEMPORAL_TLS_CA: pem.optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
  WORKFLOW_BUNDLE_PATH: z.string().optional(),
  PAYLOAD_CODEC_KEYS: codecKeys.optional(),
  WORKFLOW_ID_HASH_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
});
type TemporalEnv = z.infer<typeof temporalEnv>;

export interface TemporalConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  apiKey?: string;
  /** false: plaintext (the local dev server). TLS is on with an API key or any TEMPORAL_TLS_* value. */
  tls: false | TemporalTls;
  /** A bundle prepared ahead (Docker image, tests); the worker bundles at start when absent. */
  workflowBundlePath?: string;
  /**
   * The payload codec's AES-256 keys (PAYLOAD_CODEC_KEYS): the first encrypts, all decrypt. Every
   * client and worker applies them (temporal/data-converter.ts); the local default outside production.
   */
  payloadCodecKeys: PayloadCodecKey[];
  /** HMAC key of the consent workflow ids (WORKFLOW_ID_HASH_KEY): changing it splits every entity. */
  workflowIdHashKey: string;
}

/** TLS to the Temporal frontend: server-only with the system's roots, or mTLS, or with a private CA. */
export interface TemporalTls {
  /** mTLS client certificate and its key (PEM), from TEMPORAL_TLS_CERT / TEMPORAL_TLS_KEY. */
  clientCert?: { crt: string; key: string };
  /** PEM of a private CA that signed the server's certificate (TEMPORAL_TLS_CA). */
  serverRootCa?: string;
  /** The name the server's certificate is checked against when it differs from the address' host. */
  serverName?: string;
}

/**
 * Whether the payload codec runs on the documented local key alone: payloads are then readable by
 * anyone who has the repository, so by default the codec endpoint asks no token of the local Web UI
 * (config/codec.ts).
 */
export function usesLocalPayloadCodecKey(temporal: Pick<TemporalConfig, 'payloadCodecKeys'>): boolean {
  return temporal.payloadCodecKeys.every((k) => k.key.equals(LOCAL_CODEC_KEY.key));
}

export function checkTemporal(env: TemporalEnv & { NODE_ENV: NodeEnv }, ctx: z.RefinementCtx): void {
  checkTemporalTls(env, ctx);
  if (env.NODE_ENV === 'production') {
    const localKey = LOCAL_CODEC_KEY.key;
    if (!env.PAYLOAD_CODEC_KEYS) {
      ctx.addIssue({ code: 'custom', path: ['PAYLOAD_CODEC_KEYS'], message: 'is required in production' });
    } else if (env.PAYLOAD_CODEC_KEYS.some((k) => k.key.equals(localKey))) {
      ctx.addIssue({
        code: 'custom',
        path: ['PAYLOAD_CODEC_KEYS'],
        message: 'must not contain the documented local key in production',
      });
    }
    if (!env.WORKFLOW_ID_HASH_KEY || env.WORKFLOW_ID_HASH_KEY === LOCAL_WORKFLOW_ID_HASH_KEY) {
      ctx.addIssue({
        code: 'custom',
        path: ['WORKFLOW_ID_HASH_KEY'],
        message: 'is required in production (and must never change casually: see docs/adr/0010)',
      });
    }
  }
}

/**
 * The client certificate is checked here, where the message can name the variable: a bad pair
 * otherwise surfaces as a TLS error from deep inside gRPC or the worker's Rust core.
 */
function checkTemporalTls(env: TemporalEnv, ctx: z.RefinementCtx): void {
  const { TEMPORAL_TLS_CERT: crt, TEMPORAL_TLS_KEY: key } = env;
  const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  if (crt && !key)
    issue('TEMPORAL_TLS_KEY', "is required with TEMPORAL_TLS_CERT (the client certificate's key)");
  if (key && !crt)
    issue('TEMPORAL_TLS_CERT', "is required with TEMPORAL_TLS_KEY (the key's client certificate)");
  if ((crt || key) && env.TEMPORAL_API_KEY) {
    // A connection authenticates one way: Temporal Cloud gives each its own endpoint (outside High
    // Availability namespaces: <ns>.<account>.tmprl.cloud for mTLS, <region>.api.temporal.io for keys).
    issue(
      'TEMPORAL_API_KEY',
      'set either TEMPORAL_API_KEY or the client certificate (TEMPORAL_TLS_CERT/TEMPORAL_TLS_KEY), not both',
    );
  }
  if (env.TEMPORAL_TLS === false && (crt || key || env.TEMPORAL_TLS_CA || env.TEMPORAL_TLS_SERVER_NAME)) {
    issue('TEMPORAL_TLS', 'is false, but a TEMPORAL_TLS_* value is set (each of them means TLS)');
  }
  // What is not PEM at all has its message from the field's own check already.
  let certificate: X509Certificate | undefined;
  if (isPem(crt)) {
    try {
      certificate = new X509Certificate(crt);
    } catch (err) {
      issue('TEMPORAL_TLS_CERT', `is not a readable PEM certificate (${(err as Error).message})`);
    }
  }
  if (isPem(key)) {
    try {
      const privateKey = createPrivateKey(key);
      if (certificate && !certificate.checkPrivateKey(privateKey)) {
        issue('TEMPORAL_TLS_KEY', 'is not the key of the certificate in TEMPORAL_TLS_CERT');
      }
    } catch (err) {
      // Not the error's message alone: some quote the input. The reason codes never do.
      const code = (err as { code?: string }).code ?? 'unreadable';
      issue('TEMPORAL_TLS_KEY', `is not a readable, unencrypted PEM private key (${code})`);
    }
  }
  if (isPem(env.TEMPORAL_TLS_CA)) {
    try {
      new X509Certificate(env.TEMPORAL_TLS_CA);
    } catch (err) {
      issue('TEMPORAL_TLS_CA', `is not a readable PEM certificate (${(err as Error).message})`);
    }
  }
}

export function temporalConfig(env: TemporalEnv): TemporalConfig {
  return {
    address: env.TEMPORAL_ADDRESS,
    namespace: env.TEMPORAL_NAMESPACE,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    apiKey: env.TEMPORAL_API_KEY,
    tls: temporalTls(env),
    workflowBundlePath: env.WORKFLOW_BUNDLE_PATH,
    payloadCodecKeys: env.PAYLOAD_CODEC_KEYS ?? [LOCAL_CODEC_KEY],
    workflowIdHashKey: env.WORKFLOW_ID_HASH_KEY ?? LOCAL_WORKFLOW_ID_HASH_KEY,
  };
}

function temporalTls(env: TemporalEnv): false | TemporalTls {
  const { TEMPORAL_TLS_CERT: crt, TEMPORAL_TLS_KEY: key, TEMPORAL_TLS_CA, TEMPORAL_TLS_SERVER_NAME } = env;
  const on =
    env.TEMPORAL_TLS === true ||
    env.TEMPORAL_API_KEY !== undefined ||
    [crt, key, TEMPORAL_TLS_CA, TEMPORAL_TLS_SERVER_NAME].some((v) => v !== undefined);
  if (!on) return false;
  return {
    ...(crt && key ? { clientCert: { crt, key } } : {}),
    ...(TEMPORAL_TLS_CA ? { serverRootCa: TEMPORAL_TLS_CA } : {}),
    ...(TEMPORAL_TLS_SERVER_NAME ? { serverName: TEMPORAL_TLS_SERVER_NAME } : {}),
  };
}
