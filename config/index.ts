import fs from 'node:fs';
import net from 'node:net';
import { z } from 'zod';
import { PROVIDER_NAMES } from '../domain/enums';
import { isLocale, isTimeZone } from '../domain/intl';
import { SEND_ATTEMPT_TIMEOUT_MS } from '../domain/limits';
import { codecKeys, payloadCodecKey, type PayloadCodecKey } from './codec-keys';

export { payloadCodecKey, type PayloadCodecKey } from './codec-keys';

/** The token `npm start` prints; refused when NODE_ENV=production so it never guards a real deployment. */
export const LOCAL_API_TOKEN = 'local-dev-token';
/** The simulator's webhook secret `npm run sms:reply` signs with locally; refused when NODE_ENV=production. */
export const LOCAL_SIMULATOR_WEBHOOK_SECRET = 'local-simulator-webhook-secret';
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
/** What a customer texting HELP gets back (SMS_HELP_TEXT overrides it). */
export const DEFAULT_SMS_HELP_TEXT =
  'Order confirmations for your tickets. Reply STOP to unsubscribe, START to resubscribe. Msg & data rates may apply.';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const csv = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);
const port = z.coerce.number().int().min(0).max(65535);

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

const WORKER_QUEUE_NAMES = ['orders', 'consent', 'send'] as const;
export type WorkerQueue = (typeof WORKER_QUEUE_NAMES)[number];
const positive = z.coerce.number().positive();

const schema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    HOST: z.string().min(1).default('127.0.0.1'),
    PORT: port.default(3000),
    PUBLIC_BASE_URL: z.url().optional(),
    TRUST_PROXY: trustProxy.default(false),
    API_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    DATABASE_URL: z.string().min(1).default('sqlite:./data/sms.sqlite'),
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
    WORKER_QUEUES: csv.pipe(z.array(z.enum(WORKER_QUEUE_NAMES)).min(1)).default([...WORKER_QUEUE_NAMES]),
    WORKER_ACTIVITY_SLOTS: z.coerce.number().int().min(1).max(1000).default(100),
    WORKER_WORKFLOW_SLOTS: z.coerce.number().int().min(2).max(1000).default(100),
    // Measured (README, Benchmarks): 50 held a worker with 1,000 open orders at 325 MB against 671 MB
    // with the SDK's heap-sized default, at the same throughput. 0 turns the cache off.
    WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).max(100_000).default(20),
    // Unset: the SDK's default, min(10, slots); no setting measured better on 2 cores.
    WORKER_WORKFLOW_POLLERS: z.coerce.number().int().min(2).max(100).optional(),
    WORKER_ACTIVITY_POLLERS: z.coerce.number().int().min(1).max(100).optional(),
    WORKER_SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
    SMS_PROVIDER: z.enum(PROVIDER_NAMES).default('simulator'),
    // Two SMS segments at most: the reply goes out as one message the customer pays to receive.
    SMS_HELP_TEXT: z.string().trim().min(1).max(320).default(DEFAULT_SMS_HELP_TEXT),
    SEND_RATE_PER_SECOND: positive.optional(),
    DEFAULT_PHONE_REGION: z
      .string()
      .regex(/^[A-Z]{2}$/, 'must be an ISO 3166 alpha-2 code')
      .default('US'),
    DEFAULT_LOCALE: z.string().refine(isLocale, 'is not a valid BCP-47 locale').default('en-US'),
    DEFAULT_TIME_ZONE: z.string().refine(isTimeZone, 'is not a valid IANA time zone').default('UTC'),
    DEFAULT_CURRENCY: z
      .string()
      .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code')
      .default('USD'),
    SIMULATOR_DB_PATH: z.string().min(1).default('./data/simulator.sqlite'),
    SIMULATOR_LATENCY_MS: z.coerce.number().int().min(0).default(150),
    SIMULATOR_PURCHASE_LATENCY_MS: z.coerce.number().int().min(0).default(0),
    SIMULATOR_FAILURE_RATE: z.coerce.number().min(0).max(1).default(0),
    SIMULATOR_OPTED_OUT_NUMBERS: csv.default([]),
    SIMULATOR_INVALID_NUMBERS: csv.default([]),
    SIMULATOR_COUNTRY: z.string().default('US'),
    SIMULATOR_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
    SMS_PROVIDER_BY_VENUE: z
      .string()
      .regex(
        new RegExp(`^\\d+=(${PROVIDER_NAMES.join('|')})(,\\d+=(${PROVIDER_NAMES.join('|')}))*$`),
        `must be venueId=provider pairs, e.g. 42=plivo,77=twilio (providers: ${PROVIDER_NAMES.join(', ')})`,
      )
      .optional(),
    SMS_FAILOVER_PROVIDER: z.enum(PROVIDER_NAMES).optional(),
    SMS_FAILOVER_AFTER_SECONDS: z.coerce
      .number()
      .int()
      .min(
        SEND_ATTEMPT_TIMEOUT_MS / 1000,
        `must be at least the send attempt's own timeout (${SEND_ATTEMPT_TIMEOUT_MS / 1000} s): a shorter one would fail over while the primary's attempt may still be sending`,
      )
      .default(300),
    MAX_EVENT_AGE_HOURS: z.coerce.number().positive().default(48),
    TWILIO_ACCOUNT_SID: z
      .string()
      .regex(/^AC[0-9a-fA-F]{32}$/, 'must look like AC followed by 32 hex digits')
      .optional(),
    TWILIO_AUTH_TOKEN: z.string().min(1).optional(),
    TWILIO_API_BASE_URL: z.url().optional(),
    PLIVO_AUTH_ID: z
      .string()
      .regex(/^[A-Z0-9]{20}$/, 'must be 20 upper-case letters and digits')
      .optional(),
    PLIVO_AUTH_TOKEN: z.string().min(1).optional(),
    PLIVO_API_BASE_URL: z.url().optional(),
    SERVICEBUS_CONNECTION_STRING: z.string().optional(),
    SERVICEBUS_NAMESPACE: z
      .string()
      .regex(/^[\w.-]+$/, 'must be a host name such as my-namespace.servicebus.windows.net')
      .optional(),
    SERVICEBUS_TOPIC: z.string().min(1).default('send-order-confirmation-sms'),
    SERVICEBUS_SUBSCRIPTION: z.string().min(1).default('sms-service'),
    SERVICEBUS_MAX_CONCURRENT_CALLS: z.coerce.number().int().min(1).max(1000).default(10),
    SERVICEBUS_START_RETRY_DELAYS_MS: z
      .string()
      .regex(/^\d+(,\d+)*$/, 'must be comma-separated milliseconds, e.g. 1000,2000,4000')
      .transform((v) => v.split(',').map(Number))
      .default([1000, 2000, 4000]),
    SERVICEBUS_START_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
    SERVICEBUS_MAX_BODY_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .default(256 * 1024),
    BRIDGE_HEALTH_PORT: port.default(3001),
    // Unset: the role's default (worker 9464, bridge 9465); 0 asks for an ephemeral port.
    METRICS_PORT: port.optional(),
    // 0 turns the Temporal SDK's own exporter off.
    TEMPORAL_METRICS_PORT: port.default(9466),
  })
  .superRefine((env, ctx) => {
    if (env.SERVICEBUS_CONNECTION_STRING && env.SERVICEBUS_NAMESPACE) {
      ctx.addIssue({
        code: 'custom',
        path: ['SERVICEBUS_NAMESPACE'],
        message: 'set either SERVICEBUS_CONNECTION_STRING or SERVICEBUS_NAMESPACE (Azure AD), not both',
      });
    }
    // Credentials are checked for every provider in use, at start-up rather than on the first order.
    for (const provider of providersInUse(env)) {
      const required =
        provider === 'twilio'
          ? (['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN'] as const)
          : provider === 'plivo'
            ? (['PLIVO_AUTH_ID', 'PLIVO_AUTH_TOKEN'] as const)
            : [];
      for (const key of required) {
        if (!env[key])
          ctx.addIssue({ code: 'custom', path: [key], message: `is required when ${provider} is in use` });
      }
    }
    // Bought numbers point their SMS webhook at PUBLIC_BASE_URL: localhost would lose every STOP.
    const realProvider = providersInUse(env).some((p) => p !== 'simulator');
    if (env.NODE_ENV === 'production' && realProvider && !env.PUBLIC_BASE_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['PUBLIC_BASE_URL'],
        message: 'is required in production with twilio or plivo (their webhooks call it)',
      });
    }
    if (env.SMS_FAILOVER_PROVIDER && env.SMS_FAILOVER_PROVIDER === env.SMS_PROVIDER) {
      ctx.addIssue({
        code: 'custom',
        path: ['SMS_FAILOVER_PROVIDER'],
        message: 'must differ from SMS_PROVIDER',
      });
    }
    if (env.NODE_ENV === 'production' && env.SIMULATOR_WEBHOOK_SECRET === LOCAL_SIMULATOR_WEBHOOK_SECRET) {
      ctx.addIssue({
        code: 'custom',
        path: ['SIMULATOR_WEBHOOK_SECRET'],
        message: 'must not be the documented local value in production',
      });
    }
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
    if (env.NODE_ENV === 'production' && (!env.API_TOKEN || env.API_TOKEN === LOCAL_API_TOKEN)) {
      ctx.addIssue({ code: 'custom', path: ['API_TOKEN'], message: 'is required in production' });
    }
  });

export type Env = z.infer<typeof schema>;
type ProviderName = (typeof PROVIDER_NAMES)[number];

function venueOverrides(value: string | undefined): Record<number, ProviderName> {
  if (!value) return {};
  return Object.fromEntries(
    value.split(',').map((pair) => {
      const [venue, provider] = pair.split('=');
      return [Number(venue), provider as ProviderName];
    }),
  );
}

/** The default, every per-venue override and the failover provider: each needs credentials and a send queue. */
function providersInUse(
  env: Pick<Env, 'SMS_PROVIDER' | 'SMS_PROVIDER_BY_VENUE' | 'SMS_FAILOVER_PROVIDER'>,
): ProviderName[] {
  const all = [env.SMS_PROVIDER, ...Object.values(venueOverrides(env.SMS_PROVIDER_BY_VENUE))];
  if (env.SMS_FAILOVER_PROVIDER) all.push(env.SMS_FAILOVER_PROVIDER);
  return [...new Set(all)];
}

const LOCAL_CODEC_KEY = (() => {
  const [id, base64] = LOCAL_PAYLOAD_CODEC_KEYS.split(':');
  return payloadCodecKey(id, Buffer.from(base64, 'base64'));
})();

/**
 * Whether the payload codec runs on the documented local key alone: payloads are then readable by
 * anyone who has the repository, so the codec endpoint asks no token of the local Web UI.
 */
export function usesLocalPayloadCodecKey(temporal: Pick<Config['temporal'], 'payloadCodecKeys'>): boolean {
  return temporal.payloadCodecKeys.every((k) => k.key.equals(LOCAL_CODEC_KEY.key));
}

/** Account-level rates the providers document (messages per second); the simulator's is ours. */
const DEFAULT_SEND_RATE: Record<Env['SMS_PROVIDER'], number> = { twilio: 1, plivo: 5, simulator: 20 };

export interface Config {
  env: Env['NODE_ENV'];
  logLevel: Env['LOG_LEVEL'];
  api: {
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
  };
  databaseUrl: string;
  temporal: {
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
  };
  /** The API's /codec/encode and /codec/decode, which the Temporal Web UI calls from the browser. */
  codecEndpoint: {
    /** Web UI origins allowed to call it (CODEC_CORS_ORIGINS, default the local UI). */
    corsOrigins: string[];
  };
  worker: {
    /** Which task queues this worker process polls: all by default, or a role when scaled apart. */
    queues: WorkerQueue[];
    /** Activity slots per queue's worker (maxConcurrentActivityTaskExecutions). */
    activitySlots: number;
    /** Workflow task slots per queue's worker (maxConcurrentWorkflowTaskExecutions). */
    workflowSlots: number;
    /**
     * Sticky cache size per queue's worker (maxCachedWorkflows): each cached run keeps its workflow
     * state in memory; an evicted one is replayed from its history on its next task.
     */
    maxCachedWorkflows: number;
    /** Concurrent workflow / activity task polls per queue's worker (at most the slot count). */
    workflowPollers?: number;
    activityPollers?: number;
    /** On SIGTERM/SIGINT, how long running activities get before they are cancelled. */
    shutdownGraceMs: number;
  };
  sms: {
    /** The default provider; `providerByVenue` overrides it for some venues. */
    provider: Env['SMS_PROVIDER'];
    providerByVenue: Record<number, ProviderName>;
    /** Every provider some order may use: each gets a client and a paced send queue. */
    providers: ProviderName[];
    /** Off unless configured: after `afterMs` of the primary failing, send through `provider`. */
    failover?: { provider: ProviderName; afterMs: number };
    /** Send-queue rate per provider (SEND_RATE_PER_SECOND overrides every provider's documented rate). */
    sendRatePerSecond: Record<ProviderName, number>;
    /** An order whose event is older than this when it could be sent is recorded `expired`, not texted. */
    maxEventAgeMs: number;
    defaultPhoneRegion: string;
    defaultLocale: string;
    defaultTimeZone: string;
    defaultCurrency: string;
    /** The answer to HELP / INFO (SMS_HELP_TEXT). */
    helpText: string;
  };
  twilio?: { accountSid: string; authToken: string; apiBaseUrl?: string };
  plivo?: { authId: string; authToken: string; apiBaseUrl?: string };
  /** Absent when neither a connection string nor a namespace is configured: no bridge then. */
  serviceBus?: {
    /** A connection string, or a namespace host reached with DefaultAzureCredential (Azure AD). */
    auth: { connectionString: string } | { namespace: string };
    topic: string;
    subscription: string;
    maxConcurrentCalls: number;
    /**
     * Waits between workflow start attempts while starts fail (the last one repeats: the bridge
     * holds its messages for as long as Temporal fails, see docs/adr/0005-bridge-outage.md).
     */
    startRetryDelaysMs: number[];
    /** Each start attempt's deadline. */
    startTimeoutMs: number;
    maxBodyBytes: number;
    healthPort: number;
  };
  metrics: {
    /** METRICS_PORT as given; undefined means the role's default (metricsPort()). */
    port?: number;
    /** The worker's Temporal SDK runtime metrics (Prometheus); 0 = off. */
    temporalPort: number;
  };
  simulator: {
    dbPath: string;
    latencyMs: number;
    purchaseLatencyMs: number;
    failureRate: number;
    optedOutNumbers: string[];
    invalidNumbers: string[];
    country: string;
    /**
     * Signs the simulator's inbound webhooks (`npm run sms:reply`). The documented local default
     * outside production; in production only an explicit SIMULATOR_WEBHOOK_SECRET enables the route.
     */
    webhookSecret?: string;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment once at start-up; every problem is reported together, then the process stops. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const input = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`));
  }
  const env = parsed.data;
  const port = env.PORT;
  const publicBaseUrl = env.PUBLIC_BASE_URL?.replace(/\/+$/, '');
  return {
    env: env.NODE_ENV,
    logLevel: env.LOG_LEVEL,
    api: {
      host: env.HOST,
      port,
      token: env.API_TOKEN ?? LOCAL_API_TOKEN,
      publicBaseUrl: publicBaseUrl ?? `http://localhost:${port}`,
      statusCallbackBaseUrl: publicBaseUrl,
      trustProxy: env.TRUST_PROXY,
    },
    codecEndpoint: { corsOrigins: env.CODEC_CORS_ORIGINS },
    databaseUrl: env.DATABASE_URL,
    temporal: {
      address: env.TEMPORAL_ADDRESS,
      namespace: env.TEMPORAL_NAMESPACE,
      taskQueue: env.TEMPORAL_TASK_QUEUE,
      apiKey: env.TEMPORAL_API_KEY,
      tls: env.TEMPORAL_TLS || env.TEMPORAL_API_KEY !== undefined,
      workflowBundlePath: env.WORKFLOW_BUNDLE_PATH,
      payloadCodecKeys: env.PAYLOAD_CODEC_KEYS ?? [LOCAL_CODEC_KEY],
      workflowIdHashKey: env.WORKFLOW_ID_HASH_KEY ?? LOCAL_WORKFLOW_ID_HASH_KEY,
    },
    worker: {
      queues: env.WORKER_QUEUES,
      activitySlots: env.WORKER_ACTIVITY_SLOTS,
      workflowSlots: env.WORKER_WORKFLOW_SLOTS,
      maxCachedWorkflows: env.WORKER_MAX_CACHED_WORKFLOWS,
      workflowPollers: env.WORKER_WORKFLOW_POLLERS,
      activityPollers: env.WORKER_ACTIVITY_POLLERS,
      shutdownGraceMs: env.WORKER_SHUTDOWN_GRACE_SECONDS * 1000,
    },
    sms: {
      provider: env.SMS_PROVIDER,
      providerByVenue: venueOverrides(env.SMS_PROVIDER_BY_VENUE),
      providers: providersInUse(env),
      failover: env.SMS_FAILOVER_PROVIDER
        ? { provider: env.SMS_FAILOVER_PROVIDER, afterMs: env.SMS_FAILOVER_AFTER_SECONDS * 1000 }
        : undefined,
      sendRatePerSecond: {
        twilio: env.SEND_RATE_PER_SECOND ?? DEFAULT_SEND_RATE.twilio,
        plivo: env.SEND_RATE_PER_SECOND ?? DEFAULT_SEND_RATE.plivo,
        simulator: env.SEND_RATE_PER_SECOND ?? DEFAULT_SEND_RATE.simulator,
      },
      maxEventAgeMs: env.MAX_EVENT_AGE_HOURS * 3_600_000,
      defaultPhoneRegion: env.DEFAULT_PHONE_REGION,
      defaultLocale: env.DEFAULT_LOCALE,
      defaultTimeZone: env.DEFAULT_TIME_ZONE,
      defaultCurrency: env.DEFAULT_CURRENCY,
      helpText: env.SMS_HELP_TEXT,
    },
    twilio:
      env.TWILIO_ACCOUNT_SID && env.TWILIO_AUTH_TOKEN
        ? {
            accountSid: env.TWILIO_ACCOUNT_SID,
            authToken: env.TWILIO_AUTH_TOKEN,
            apiBaseUrl: env.TWILIO_API_BASE_URL,
          }
        : undefined,
    plivo:
      env.PLIVO_AUTH_ID && env.PLIVO_AUTH_TOKEN
        ? { authId: env.PLIVO_AUTH_ID, authToken: env.PLIVO_AUTH_TOKEN, apiBaseUrl: env.PLIVO_API_BASE_URL }
        : undefined,
    serviceBus: serviceBusConfig(env),
    metrics: { port: env.METRICS_PORT, temporalPort: env.TEMPORAL_METRICS_PORT },
    simulator: {
      dbPath: env.SIMULATOR_DB_PATH,
      latencyMs: env.SIMULATOR_LATENCY_MS,
      purchaseLatencyMs: env.SIMULATOR_PURCHASE_LATENCY_MS,
      failureRate: env.SIMULATOR_FAILURE_RATE,
      optedOutNumbers: env.SIMULATOR_OPTED_OUT_NUMBERS,
      invalidNumbers: env.SIMULATOR_INVALID_NUMBERS,
      country: env.SIMULATOR_COUNTRY,
      webhookSecret:
        env.SIMULATOR_WEBHOOK_SECRET ??
        (env.NODE_ENV === 'production' ? undefined : LOCAL_SIMULATOR_WEBHOOK_SECRET),
    },
  };
}

/** Where each role serves Prometheus metrics unless METRICS_PORT says otherwise. */
export const DEFAULT_METRICS_PORTS = { worker: 9464, bridge: 9465 } as const;

/** The port a worker or bridge serves /metrics on (0: an ephemeral one, as tests and the chaos suite ask). */
export function metricsPort(
  config: Pick<Config, 'metrics'>,
  role: keyof typeof DEFAULT_METRICS_PORTS,
): number {
  return config.metrics.port ?? DEFAULT_METRICS_PORTS[role];
}

function serviceBusConfig(env: Env): Config['serviceBus'] {
  const auth = env.SERVICEBUS_CONNECTION_STRING
    ? { connectionString: env.SERVICEBUS_CONNECTION_STRING }
    : env.SERVICEBUS_NAMESPACE
      ? { namespace: env.SERVICEBUS_NAMESPACE }
      : undefined;
  if (!auth) return undefined;
  return {
    auth,
    topic: env.SERVICEBUS_TOPIC,
    subscription: env.SERVICEBUS_SUBSCRIPTION,
    maxConcurrentCalls: env.SERVICEBUS_MAX_CONCURRENT_CALLS,
    startRetryDelaysMs: env.SERVICEBUS_START_RETRY_DELAYS_MS,
    startTimeoutMs: env.SERVICEBUS_START_TIMEOUT_MS,
    maxBodyBytes: env.SERVICEBUS_MAX_BODY_BYTES,
    healthPort: env.BRIDGE_HEALTH_PORT,
  };
}

/**
 * Entry points call this: a git-ignored ./.env is read first (real environment variables win), and
 * a bad environment prints every problem and exits non-zero.
 */
export function loadConfigOrExit(source: NodeJS.ProcessEnv = process.env): Config {
  if (source === process.env && fs.existsSync('.env')) process.loadEnvFile('.env');
  try {
    return loadConfig(source);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}
