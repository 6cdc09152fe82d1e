import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import type { OpenTelemetrySinks } from '@temporalio/interceptors-opentelemetry';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { TracingConfig } from '../config';

export type TracingRole = 'api' | 'worker' | 'bridge';

/** What a role wires into Temporal when tracing is on (runtime/tracing.ts builds it, lazily). */
export interface Tracing {
  /** Client start, signal and signalWithStart carry the current trace into the workflow's headers. */
  clientInterceptors: { workflow: WorkflowClientInterceptor[] };
  /** Each activity runs in a span that continues the workflow's trace, with the order's ids on it. */
  activityInterceptors: ActivityInterceptorsFactory[];
  /** Where the workflow isolates' spans leave the sandbox (the tracing bundle's interceptors call it). */
  workflowSinks: InjectedSinks<OpenTelemetrySinks>;
  /** Exports what is buffered and stops; after it nothing is traced. */
  shutdown(): Promise<void>;
}

/** The span attributes that carry an order across processes (docs/runbook.md: Tracing). */
export const ORDER_ID_ATTRIBUTE = 'sms.order_id';
export const CORRELATION_ID_ATTRIBUTE = 'sms.correlation_id';

// A customer's number must never leave in a span: E.164 with its plus (also URL-encoded), or a bare
// run of 10-15 digits standing alone (not the tail of a uuid or an id with a dash before it).
const PHONE_LIKE = /(?:\+|%2B)\d{7,15}|(?<![\w-])\d{10,15}(?![\w-])/gi;

export function redactPhoneNumbers(text: string): string {
  return text.replace(PHONE_LIKE, '[redacted]');
}

/**
 * Starts the OpenTelemetry SDK for one role, or returns undefined when tracing is off: then not one
 * OpenTelemetry SDK module is loaded (only @opentelemetry/api, whose calls are no-ops without one).
 * Call it before the first provider request: the HTTP instrumentation patches node's http/https.
 */
export async function startTracing(
  config: TracingConfig | undefined,
  role: TracingRole,
): Promise<Tracing | undefined> {
  if (!config) return undefined;
  const api = await import('@opentelemetry/api');
  const { NodeTracerProvider } = await import('@opentelemetry/sdk-trace-node');
  const base = await import('@opentelemetry/sdk-trace-base');
  const { Resource } = await import('@opentelemetry/resources');
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
  const { registerInstrumentations } = await import('@opentelemetry/instrumentation');
  const { HttpInstrumentation } = await import('@opentelemetry/instrumentation-http');
  const otelTemporal = await import('@temporalio/interceptors-opentelemetry');

  const resource = new Resource({
    ...config.resourceAttributes,
    'service.name': config.serviceName ?? `sms-${role}`,
    'service.namespace': config.resourceAttributes['service.namespace'] ?? 'sms-order-confirmation',
    'sms.role': role,
  });
  const exporter = redactingExporter(
    new OTLPTraceExporter({ url: config.url, headers: config.headers, timeoutMillis: config.timeoutMs }),
  );
  const processor = new base.BatchSpanProcessor(exporter, { scheduledDelayMillis: 1_000 });
  const provider = new NodeTracerProvider({
    resource,
    sampler: sampler(base, config),
    spanProcessors: [processor],
  });
  // The W3C trace-context propagator and the async-hooks context manager, process-wide.
  provider.register();
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => /^\/(health|metrics)/.test(request.url ?? ''),
      }),
    ],
  });
  // node's http/https were loaded long before this, and the instrumentation patches a module when it
  // is next required: require them now, by their bare names (what the hook matches), not import().
  /* eslint-disable @typescript-eslint/no-require-imports -- the require hook sees only require() */
  require('http');
  require('https');
  /* eslint-enable @typescript-eslint/no-require-imports */

  const tracer = provider.getTracer('sms-order-confirmation');
  const activityIds: ActivityInterceptorsFactory = (ctx) => ({
    inbound: {
      async execute(input, next) {
        const first = input.args[0] as { orderId?: unknown; correlationId?: unknown } | undefined;
        const span = api.trace.getActiveSpan();
        if (typeof first?.orderId === 'string') span?.setAttribute(ORDER_ID_ATTRIBUTE, first.orderId);
        if (typeof first?.correlationId === 'string')
          span?.setAttribute(CORRELATION_ID_ATTRIBUTE, first.correlationId);
        span?.setAttribute('temporal.activity_type', ctx.info.activityType);
        return next(input);
      },
    },
  });
  const inner = otelTemporal.makeWorkflowExporter(processor, resource);
  return {
    clientInterceptors: { workflow: [new otelTemporal.OpenTelemetryWorkflowClientInterceptor({ tracer })] },
    activityInterceptors: [
      (ctx) => ({
        inbound: new otelTemporal.OpenTelemetryActivityInboundInterceptor(ctx, { tracer }),
        outbound: new otelTemporal.OpenTelemetryActivityOutboundInterceptor(ctx),
      }),
      activityIds,
    ],
    workflowSinks: {
      exporter: {
        export: {
          // The stock sink copies the whole WorkflowInfo onto every span (memo, search attributes,
          // last failure…): only these named fields go, and the order's ids from the memo.
          fn: (info, spans) => {
            const memo = info.memo as { orderId?: unknown; correlationId?: unknown } | undefined;
            const attributes: Record<string, string | number> = {
              temporalWorkflowId: info.workflowId,
              run_id: info.runId,
              workflowType: info.workflowType,
              taskQueue: info.taskQueue,
              namespace: info.namespace,
              attempt: info.attempt,
              ...(typeof memo?.orderId === 'string' ? { [ORDER_ID_ATTRIBUTE]: memo.orderId } : {}),
              ...(typeof memo?.correlationId === 'string'
                ? { [CORRELATION_ID_ATTRIBUTE]: memo.correlationId }
                : {}),
            };
            // The stock fn assigns its first argument onto each span's attributes: hand it only these.
            return inner.export.fn(attributes as unknown as typeof info, spans);
          },
        },
      },
    },
    async shutdown() {
      unregister();
      await provider.shutdown();
    },
  };
}

function sampler(
  base: typeof import('@opentelemetry/sdk-trace-base'),
  config: TracingConfig,
): import('@opentelemetry/sdk-trace-base').Sampler {
  const ratio = new base.TraceIdRatioBasedSampler(config.samplerRatio);
  switch (config.sampler) {
    case 'always_on':
      return new base.AlwaysOnSampler();
    case 'always_off':
      return new base.AlwaysOffSampler();
    case 'traceidratio':
      return ratio;
    case 'parentbased_always_off':
      return new base.ParentBasedSampler({ root: new base.AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new base.ParentBasedSampler({ root: ratio });
    case 'parentbased_always_on':
      return new base.ParentBasedSampler({ root: new base.AlwaysOnSampler() });
  }
}

/**
 * The last line of defence before spans leave the process: every string a span carries (name,
 * attributes, event attributes such as an exception's message, status) with phone numbers redacted.
 * A provider's error text names the number it refused, and activity failures are recorded on spans.
 */
function redactingExporter(inner: SpanExporter): SpanExporter {
  return {
    export: (spans, done) => inner.export(spans.map(redactSpan), done),
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
}

const URL_ATTRIBUTES = new Set(['http.url', 'http.target', 'url.full', 'url.query', 'http.route']);

function redactSpan(span: ReadableSpan): ReadableSpan {
  const clean = <T>(value: T): T => (typeof value === 'string' ? (redactPhoneNumbers(value) as T) : value);
  const cleanAll = (attributes: ReadableSpan['attributes']) =>
    Object.fromEntries(
      Object.entries(attributes).map(([k, v]) => [
        k,
        // A query string can hold a number (a provider's message search by To): URLs keep their path.
        URL_ATTRIBUTES.has(k) && typeof v === 'string'
          ? redactPhoneNumbers(v.split('?')[0])
          : Array.isArray(v)
            ? v.map(clean)
            : clean(v),
      ]),
    ) as ReadableSpan['attributes'];
  // A plain object (the SDK's spans keep state in getters): the exporter reads these fields only.
  return {
    name: redactPhoneNumbers(span.name),
    kind: span.kind,
    spanContext: () => span.spanContext(),
    parentSpanId: span.parentSpanId,
    startTime: span.startTime,
    endTime: span.endTime,
    status: { ...span.status, ...(span.status.message ? { message: clean(span.status.message) } : {}) },
    attributes: cleanAll(span.attributes),
    links: span.links,
    events: span.events.map((e) => ({
      ...e,
      ...(e.attributes ? { attributes: cleanAll(e.attributes) } : {}),
    })),
    duration: span.duration,
    ended: span.ended,
    resource: span.resource,
    instrumentationLibrary: span.instrumentationLibrary,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  };
}
