import fs from 'node:fs';
import type { DatabaseAuth } from '../db/knex';
import { z } from 'zod';
import { apiConfig, apiEnv, checkApi, type ApiConfig } from './api';
import { checkCodec, codecEndpointConfig, codecEnv, type CodecEndpointConfig } from './codec';
import { bridgeEnv, checkBridge, serviceBusConfig, type ServiceBusConfig } from './bridge';
import { azureEnv } from './azure';
import { checkDatabase, databaseAuth, databaseEnv } from './database';
import { metricsEnv, type MetricsConfig } from './metrics';
import { nodeEnv } from './primitives';
import { rolloutEnv, type RolloutConfig } from './rollout';
import {
  checkProviders,
  plivoConfig,
  providersEnv,
  simulatorConfig,
  smsConfig,
  twilioConfig,
  type PlivoConfig,
  type SimulatorConfig,
  type SmsConfig,
  type TwilioConfig,
} from './providers';
import { checkTemporal, temporalConfig, temporalEnv, type TemporalConfig } from './temporal';
import { checkTracing, tracingConfig, tracingEnv, type TracingConfig } from './tracing';
import { workerConfig, workerEnv, type WorkerConfig } from './worker';

export { LOCAL_API_TOKEN, type ApiConfig } from './api';
export type { ServiceBusConfig } from './bridge';
export { payloadCodecKey, type PayloadCodecKey } from './codec-keys';
export { DEFAULT_METRICS_PORTS, metricsPort, type MetricsConfig } from './metrics';
export {
  DEFAULT_SMS_HELP_TEXT,
  LOCAL_SIMULATOR_WEBHOOK_SECRET,
  type PlivoConfig,
  type SimulatorConfig,
  type SmsConfig,
  type TwilioConfig,
} from './providers';
export {
  LOCAL_PAYLOAD_CODEC_KEYS,
  LOCAL_UI_ORIGIN,
  LOCAL_WORKFLOW_ID_HASH_KEY,
  usesLocalPayloadCodecKey,
  type TemporalConfig,
} from './temporal';
export { isLoopbackHost, type CodecAuth, type CodecEndpointConfig } from './codec';
export type { WorkerConfig, WorkerQueue } from './worker';
export { DEFAULT_ROLLOUT_CACHE_MS, type RolloutConfig } from './rollout';
export type { TracingConfig, TracingSampler } from './tracing';

// One schema over every area, so a bad environment is reported whole. Problems are listed in the
// order of the keys below, then of the checks.
const schema = z
  .object({
    NODE_ENV: nodeEnv,
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    ...apiEnv.shape,
    ...databaseEnv.shape,
    ...azureEnv.shape,
    ...temporalEnv.shape,
    ...codecEnv.shape,
    ...workerEnv.shape,
    ...providersEnv.shape,
    ...bridgeEnv.shape,
    ...metricsEnv.shape,
    ...rolloutEnv.shape,
    ...tracingEnv.shape,
  })
  .superRefine((env, ctx) => {
    checkDatabase(env, ctx);
    checkBridge(env, ctx);
    checkProviders(env, ctx);
    checkTemporal(env, ctx);
    checkApi(env, ctx);
    checkCodec(env, ctx);
    checkTracing(env, ctx);
  });

export type Env = z.infer<typeof schema>;

/** Every environment name loadConfig reads (deployment checks tie their settings to these). */
export const CONFIG_ENV_NAMES: readonly string[] = Object.keys(schema.shape);

export interface Config {
  env: Env['NODE_ENV'];
  logLevel: Env['LOG_LEVEL'];
  api: ApiConfig;
  databaseUrl: string;
  /** How the process logs in to the database: DATABASE_URL's password, or an Entra ID identity (SQL Server). */
  databaseAuth: DatabaseAuth;
  temporal: TemporalConfig;
  /** The API's /codec/encode and /codec/decode, which the Temporal Web UI calls from the browser, and who may call them. */
  codecEndpoint: CodecEndpointConfig;
  worker: WorkerConfig;
  sms: SmsConfig;
  twilio?: TwilioConfig;
  plivo?: PlivoConfig;
  /** Absent when neither a connection string nor a namespace is configured: no bridge then. */
  serviceBus?: ServiceBusConfig;
  metrics: MetricsConfig;
  /** OpenTelemetry tracing (OTEL_*); absent when off, the default. */
  tracing?: TracingConfig;
  simulator: SimulatorConfig;
  rollout: RolloutConfig;
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
  const temporal = temporalConfig(env);
  return {
    env: env.NODE_ENV,
    logLevel: env.LOG_LEVEL,
    api: apiConfig(env),
    codecEndpoint: codecEndpointConfig(env, temporal),
    databaseUrl: env.DATABASE_URL,
    databaseAuth: databaseAuth(env),
    temporal,
    worker: workerConfig(env),
    sms: smsConfig(env),
    twilio: twilioConfig(env),
    plivo: plivoConfig(env),
    serviceBus: serviceBusConfig(env),
    metrics: { port: env.METRICS_PORT, temporalPort: env.TEMPORAL_METRICS_PORT },
    tracing: tracingConfig(env),
    simulator: simulatorConfig(env),
    rollout: { cacheMs: env.ROLLOUT_CACHE_MS },
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
