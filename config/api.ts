import net from 'node:net';
import { z } from 'zod';
import { port, type NodeEnv } from './primitives';

/** The token `npm start` prints; refused when NODE_ENV=production so it never guards a real deployment. */
export const LOCAL_API_TOKEN = 'local-dev-token';

/** An address or a CIDR range, v4 or v6. */
function isAddressOrCidr(value: string): boolean {
  const [address, bits, ...rest] = value.split('/');
  const version = net.isIP(address);
  if (!version || rest.length > 0) return false;
  if (bits === undefined) return true;
  return /^\d+$/.test(bits) && Number(bits) <= (version === 4 ? 32 : 128);
}

/**
 * Which proxies' X-Forwarded-For to believe: `false`, a hop count, or the proxies' addresses and
 * CIDR ranges. `true` (every hop) is refused: any client could then choose the address it is
 * rate-limited and logged as.
 */
const trustProxy = z.string().transform((v, ctx): false | number | string => {
  const value = v.trim();
  if (value === 'false' || value === '0') return false;
  if (/^\d+$/.test(value)) return Number(value);
  const entries = value.split(',').map((s) => s.trim());
  if (entries.every(isAddressOrCidr)) return entries.join(',');
  ctx.addIssue({
    code: 'custom',
    message:
      'must be false, a hop count (e.g. 1 behind one load balancer) or the proxies\' addresses/CIDR ranges, comma-separated; "true" would trust any client\'s X-Forwarded-For',
  });
  return z.NEVER;
});

export const apiEnv = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: port.default(3000),
  PUBLIC_BASE_URL: z.url().optional(),
  TRUST_PROXY: trustProxy.default(false),
  API_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
});
type ApiEnv = z.infer<typeof apiEnv>;

export interface ApiConfig {
  host: string;
  port: number;
  token: string;
  /** Where providers reach this API (PUBLIC_BASE_URL, else http://localhost:PORT); no trailing slash. */
  publicBaseUrl: string;
  /**
   * PUBLIC_BASE_URL when it is set, else undefined: sends ask for delivery callbacks only then, so a
   * provider is never told to call a localhost it cannot reach.
   */
  statusCallbackBaseUrl?: string;
  /** Behind a load balancer: whose X-Forwarded-For to believe (hop count or proxy addresses). */
  trustProxy: false | number | string;
}

export function checkApi(env: ApiEnv & { NODE_ENV: NodeEnv }, ctx: z.RefinementCtx): void {
  if (env.NODE_ENV === 'production' && (!env.API_TOKEN || env.API_TOKEN === LOCAL_API_TOKEN)) {
    ctx.addIssue({ code: 'custom', path: ['API_TOKEN'], message: 'is required in production' });
  }
}

export function apiConfig(env: ApiEnv): ApiConfig {
  const publicBaseUrl = env.PUBLIC_BASE_URL?.replace(/\/+$/, '');
  return {
    host: env.HOST,
    port: env.PORT,
    token: env.API_TOKEN ?? LOCAL_API_TOKEN,
    publicBaseUrl: publicBaseUrl ?? `http://localhost:${env.PORT}`,
    statusCallbackBaseUrl: publicBaseUrl,
    trustProxy: env.TRUST_PROXY,
  };
}
