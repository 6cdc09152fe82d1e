import { z } from 'zod';
import { PROVIDER_NAMES, type ProviderName } from '../domain/enums';
import { isLocale, isTimeZone } from '../domain/intl';
import { SEND_ATTEMPT_TIMEOUT_MS } from '../domain/limits';
import { csv, type NodeEnv } from './primitives';

/** The simulator's webhook secret `npm run sms:reply` signs with locally; refused when NODE_ENV=production. */
export const LOCAL_SIMULATOR_WEBHOOK_SECRET = 'local-simulator-webhook-secret';
/** What a customer texting HELP gets back (SMS_HELP_TEXT overrides it). */
export const DEFAULT_SMS_HELP_TEXT =
  'Order confirmations for your tickets. Reply STOP to unsubscribe, START to resubscribe. Msg & data rates may apply.';

const positive = z.coerce.number().positive();

export const providersEnv = z.object({
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
});
type ProvidersEnv = z.infer<typeof providersEnv>;

export interface SmsConfig {
  /** The default provider; `providerByVenue` overrides it for some venues. */
  provider: ProviderName;
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
}

export interface TwilioConfig {
  accountSid: string;
  authToken: string;
  apiBaseUrl?: string;
}

export interface PlivoConfig {
  authId: string;
  authToken: string;
  apiBaseUrl?: string;
}

export interface SimulatorConfig {
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
}

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
  env: Pick<ProvidersEnv, 'SMS_PROVIDER' | 'SMS_PROVIDER_BY_VENUE' | 'SMS_FAILOVER_PROVIDER'>,
): ProviderName[] {
  const all = [env.SMS_PROVIDER, ...Object.values(venueOverrides(env.SMS_PROVIDER_BY_VENUE))];
  if (env.SMS_FAILOVER_PROVIDER) all.push(env.SMS_FAILOVER_PROVIDER);
  return [...new Set(all)];
}

/** Account-level rates the providers document (messages per second); the simulator's is ours. */
const DEFAULT_SEND_RATE: Record<ProviderName, number> = { twilio: 1, plivo: 5, simulator: 20 };

export function checkProviders(
  env: ProvidersEnv & { NODE_ENV: NodeEnv; PUBLIC_BASE_URL?: string },
  ctx: z.RefinementCtx,
): void {
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
}

export function smsConfig(env: ProvidersEnv): SmsConfig {
  return {
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
  };
}

export function twilioConfig(env: ProvidersEnv): TwilioConfig | undefined {
  return env.TWILIO_ACCOUNT_SID && env.TWILIO_AUTH_TOKEN
    ? {
        accountSid: env.TWILIO_ACCOUNT_SID,
        authToken: env.TWILIO_AUTH_TOKEN,
        apiBaseUrl: env.TWILIO_API_BASE_URL,
      }
    : undefined;
}

export function plivoConfig(env: ProvidersEnv): PlivoConfig | undefined {
  return env.PLIVO_AUTH_ID && env.PLIVO_AUTH_TOKEN
    ? { authId: env.PLIVO_AUTH_ID, authToken: env.PLIVO_AUTH_TOKEN, apiBaseUrl: env.PLIVO_API_BASE_URL }
    : undefined;
}

export function simulatorConfig(env: ProvidersEnv & { NODE_ENV: NodeEnv }): SimulatorConfig {
  return {
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
  };
}
