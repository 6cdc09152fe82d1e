import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../../config';
import { redactPhoneNumbers } from '../../../runtime/tracing';

const ROOT = path.resolve(__dirname, '../../..');

describe('tracing config (the standard OTEL_* variables)', () => {
  test('off by default, and with OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).tracing).toBeUndefined();
    const endpoint = { NODE_ENV: 'test', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    expect(loadConfig({ ...endpoint, OTEL_SDK_DISABLED: 'true' }).tracing).toBeUndefined();
    expect(loadConfig({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' }).tracing).toBeUndefined();
  });

  test('the endpoint gets /v1/traces; the traces endpoint is taken as is; headers merge, traces ones win', () => {
    const tracing = loadConfig({
      NODE_ENV: 'test',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
      OTEL_EXPORTER_OTLP_HEADERS: 'a=1,b=x%20y',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'b=2',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
      OTEL_SERVICE_NAME: 'sms',
    }).tracing;
    expect(tracing).toMatchObject({
      url: 'http://collector:4318/v1/traces',
      headers: { a: '1', b: '2' },
      sampler: 'parentbased_traceidratio',
      samplerRatio: 0.25,
      serviceName: 'sms',
    });
    expect(
      loadConfig({ NODE_ENV: 'test', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://otel.example/t' }).tracing
        ?.url,
    ).toBe('https://otel.example/t');
  });

  test('what this service cannot do is refused at start, and a header value is never echoed', () => {
    const bad = () =>
      loadConfig({
        NODE_ENV: 'test',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_TRACES_SAMPLER: 'sometimes',
      });
    expect(bad).toThrow(ConfigError);
    try {
      bad();
    } catch (err) {
      const problems = (err as ConfigError).problems.join('\n');
      expect(problems).toMatch(/OTEL_EXPORTER_OTLP_PROTOCOL: .*http\/json/);
      expect(problems).toMatch(/OTEL_TRACES_SAMPLER/);
    }
    expect(() =>
      loadConfig({ NODE_ENV: 'test', OTEL_EXPORTER_OTLP_HEADERS: 'secret-api-key-without-a-name' }),
    ).toThrow(/OTEL_EXPORTER_OTLP_HEADERS: must be key=value pairs separated by commas$/);
    expect(() => loadConfig({ NODE_ENV: 'test', OTEL_EXPORTER_OTLP_HEADERS: 'secret-api-key' })).not.toThrow(
      /secret-api-key/,
    );
  });
});

test('phone numbers are redacted from span text; order ids and uuids survive', () => {
  const uuid = '550e8400-e29b-41d4-a716-446655440000';
  expect(redactPhoneNumbers("The 'To' number +15551234567 is not a valid phone number.")).toBe(
    "The 'To' number [redacted] is not a valid phone number.",
  );
  expect(redactPhoneNumbers('/Messages.json?To=%2B447700900123')).toBe('/Messages.json?To=[redacted]');
  expect(redactPhoneNumbers('dst 447700900123 rejected')).toBe('dst [redacted] rejected');
  expect(redactPhoneNumbers(`order-sms-${uuid}`)).toBe(`order-sms-${uuid}`);
});

test('with tracing off, no OpenTelemetry SDK module is loaded by the roles', () => {
  // A fresh process (jest's module registry is not node's): load what the worker, API and bridge
  // load on the tracing path, call startTracing as they do with tracing off, list what is loaded.
  const script = `
    require('./workers/create-workers'); require('./api/app'); require('./bridge/message-handler');
    const { startTracing } = require('./runtime/tracing');
    const { loadConfig } = require('./config');
    startTracing(loadConfig({ NODE_ENV: 'test' }).tracing, 'worker').then((t) => {
      const sdk = Object.keys(require.cache).filter((f) =>
        /node_modules\\/@opentelemetry\\/(sdk-|exporter-|instrumentation)|interceptors-opentelemetry/.test(f));
      console.log(JSON.stringify({ tracing: t === undefined ? 'off' : 'on', sdk }));
    });`;
  const out = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: '' },
    timeout: 60_000,
  });
  expect(out.stderr).toBe('');
  expect(JSON.parse(out.stdout.trim().split('\n').pop()!)).toEqual({ tracing: 'off', sdk: [] });
});
