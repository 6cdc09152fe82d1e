import { z } from 'zod';
import { codecKeys, payloadCodecKey, type PayloadCodecKey } from './codec-keys';
import { bool, csv, type NodeEnv } from './primitives';

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

// CODEC_CORS_ORIGINS belongs with the codec: the origins are the Temporal Web UI's.
export const temporalEnv = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('sms-orders'),
  TEMPORAL_API_KEY: z.string().optional(),
  TEMPORAL_TLS: bool.default(false),
  WORKFLOW_BUNDLE_PATH: z.string().optional(),
  PAYLOAD_CODEC_KEYS: codecKeys.optional(),
  WORKFLOW_ID_HASH_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  CODEC_CORS_ORIGINS: csv
    .pipe(z.array(z.url().transform((u) => new URL(u).origin)))
    .default([LOCAL_UI_ORIGIN]),
});
type TemporalEnv = z.infer<typeof temporalEnv>;

export interface TemporalConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  apiKey?: string;
  tls: boolean;
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

export interface CodecEndpointConfig {
  /** Web UI origins allowed to call it (CODEC_CORS_ORIGINS, default the local UI). */
  corsOrigins: string[];
}

/**
 * Whether the payload codec runs on the documented local key alone: payloads are then readable by
 * anyone who has the repository, so the codec endpoint asks no token of the local Web UI.
 */
export function usesLocalPayloadCodecKey(temporal: Pick<TemporalConfig, 'payloadCodecKeys'>): boolean {
  return temporal.payloadCodecKeys.every((k) => k.key.equals(LOCAL_CODEC_KEY.key));
}

export function checkTemporal(env: TemporalEnv & { NODE_ENV: NodeEnv }, ctx: z.RefinementCtx): void {
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

export function temporalConfig(env: TemporalEnv): TemporalConfig {
  return {
    address: env.TEMPORAL_ADDRESS,
    namespace: env.TEMPORAL_NAMESPACE,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    apiKey: env.TEMPORAL_API_KEY,
    tls: env.TEMPORAL_TLS || env.TEMPORAL_API_KEY !== undefined,
    workflowBundlePath: env.WORKFLOW_BUNDLE_PATH,
    payloadCodecKeys: env.PAYLOAD_CODEC_KEYS ?? [LOCAL_CODEC_KEY],
    workflowIdHashKey: env.WORKFLOW_ID_HASH_KEY ?? LOCAL_WORKFLOW_ID_HASH_KEY,
  };
}
