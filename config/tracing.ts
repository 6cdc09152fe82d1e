import { z } from 'zod';
import { bool } from './primitives';

/**
 * OpenTelemetry tracing, read from the standard OTEL_* variables (the spec's names and meanings),
 * validated here with the rest of the environment. Off unless an OTLP endpoint is set, so a process
 * without one loads no OpenTelemetry SDK at all (runtime/tracing.ts imports it lazily).
 */
export const tracingEnv = z.object({
  OTEL_SDK_DISABLED: bool.default(false),
  // `none` turns traces off while an endpoint stays set (e.g. for logs or metrics elsewhere).
  OTEL_TRACES_EXPORTER: z.enum(['otlp', 'none']).default('otlp'),
  // The collector's base URL (/v1/traces is appended), or the traces URL itself.
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  // What we send is OTLP over HTTP with JSON bodies; every OTLP/HTTP receiver (the collector,
  // Azure Monitor's OTLP ingestion through a collector) accepts it.
  OTEL_EXPORTER_OTLP_PROTOCOL: z
    .literal('http/json', {
      error: 'this service exports OTLP over HTTP as JSON: set http/json or leave unset',
    })
    .optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: z
    .literal('http/json', {
      error: 'this service exports OTLP over HTTP as JSON: set http/json or leave unset',
    })
    .optional(),
  // `key=value,key2=value2` (values URL-encoded), e.g. a collector's auth header: never logged.
  OTEL_EXPORTER_OTLP_HEADERS: z.string().optional(),
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: z.string().optional(),
  OTEL_EXPORTER_OTLP_TIMEOUT: z.coerce.number().int().positive().optional(),
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
  OTEL_RESOURCE_ATTRIBUTES: z.string().optional(),
  OTEL_TRACES_SAMPLER: z
    .enum([
      'always_on',
      'always_off',
      'traceidratio',
      'parentbased_always_on',
      'parentbased_always_off',
      'parentbased_traceidratio',
    ])
    .default('parentbased_always_on'),
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).optional(),
});

type TracingEnv = z.infer<typeof tracingEnv>;

export type TracingSampler = TracingEnv['OTEL_TRACES_SAMPLER'];

export interface TracingConfig {
  /** The OTLP/HTTP traces URL (…/v1/traces). */
  url: string;
  headers: Record<string, string>;
  timeoutMs?: number;
  /** OTEL_SERVICE_NAME; unset, each role names itself (sms-api, sms-worker, sms-bridge). */
  serviceName?: string;
  resourceAttributes: Record<string, string>;
  sampler: TracingSampler;
  /** The ratio for the traceidratio samplers (OTEL_TRACES_SAMPLER_ARG, default 1). */
  samplerRatio: number;
}

/** `k=v,k2=v2` as the spec writes it (W3C Baggage-like, values percent-encoded); undefined when malformed. */
export function parseKeyValueList(value: string | undefined): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  if (value === undefined) return out;
  for (const entry of value.split(',')) {
    if (entry.trim() === '') continue;
    const at = entry.indexOf('=');
    if (at <= 0) return undefined;
    try {
      out[decodeURIComponent(entry.slice(0, at).trim())] = decodeURIComponent(entry.slice(at + 1).trim());
    } catch {
      return undefined;
    }
  }
  return out;
}

export function checkTracing(env: TracingEnv, ctx: z.RefinementCtx): void {
  for (const key of [
    'OTEL_EXPORTER_OTLP_HEADERS',
    'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
    'OTEL_RESOURCE_ATTRIBUTES',
  ] as const) {
    // The value may hold a secret: the message names the format, never the value.
    if (parseKeyValueList(env[key]) === undefined) {
      ctx.addIssue({ code: 'custom', path: [key], message: 'must be key=value pairs separated by commas' });
    }
  }
}

/** Undefined when tracing is off: no endpoint, OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none. */
export function tracingConfig(env: TracingEnv): TracingConfig | undefined {
  if (env.OTEL_SDK_DISABLED || env.OTEL_TRACES_EXPORTER === 'none') return undefined;
  const url =
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
    (env.OTEL_EXPORTER_OTLP_ENDPOINT
      ? `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`
      : undefined);
  if (!url) return undefined;
  return {
    url,
    // The traces-specific headers win over the general ones, key by key, as the spec says.
    headers: {
      ...parseKeyValueList(env.OTEL_EXPORTER_OTLP_HEADERS),
      ...parseKeyValueList(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS),
    },
    timeoutMs: env.OTEL_EXPORTER_OTLP_TIMEOUT,
    serviceName: env.OTEL_SERVICE_NAME,
    resourceAttributes: parseKeyValueList(env.OTEL_RESOURCE_ATTRIBUTES) ?? {},
    sampler: env.OTEL_TRACES_SAMPLER,
    samplerRatio: env.OTEL_TRACES_SAMPLER_ARG ?? 1,
  };
}
