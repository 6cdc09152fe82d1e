import fs from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import {
  ConfigError,
  DEFAULT_SMS_HELP_TEXT,
  LOCAL_API_TOKEN,
  LOCAL_PAYLOAD_CODEC_KEYS,
  LOCAL_SIMULATOR_WEBHOOK_SECRET,
  LOCAL_WORKFLOW_ID_HASH_KEY,
  loadConfig,
  usesLocalPayloadCodecKey,
} from '../../config';

/** What production needs besides its token: its own codec key and id hash key. */
const PROD_SECRETS = {
  PAYLOAD_CODEC_KEYS: `k2026:${Buffer.alloc(32, 7).toString('base64')}`,
  WORKFLOW_ID_HASH_KEY: 'a-real-id-hash-key-value',
};

describe('loadConfig', () => {
  test('an empty environment gives the embedded local defaults', () => {
    const config = loadConfig({});
    expect(config.api).toMatchObject({
      port: 3000,
      token: LOCAL_API_TOKEN,
      publicBaseUrl: 'http://localhost:3000',
    });
    expect(config.databaseUrl).toBe('sqlite:./data/sms.sqlite');
    expect(config.temporal).toMatchObject({
      address: '127.0.0.1:7233',
      namespace: 'default',
      taskQueue: 'sms-orders',
      tls: false,
    });
    expect(config.sms).toMatchObject({
      provider: 'simulator',
      providers: ['simulator'],
      providerByVenue: {},
      failover: undefined,
      sendRatePerSecond: { simulator: 20, plivo: 5, twilio: 1 },
      defaultPhoneRegion: 'US',
    });
  });

  test.each([
    ['false', false],
    ['0', false],
    ['1', 1],
    ['10.0.0.0/8, 192.168.1.7,fd00::/8', '10.0.0.0/8,192.168.1.7,fd00::/8'],
  ])('TRUST_PROXY=%s trusts %p', (value, expected) => {
    expect(loadConfig({ TRUST_PROXY: value }).api.trustProxy).toEqual(expected);
  });

  test.each(['true', '10.0.0.0/33', 'proxy.internal'])('TRUST_PROXY=%s is refused', (value) => {
    expect(() => loadConfig({ TRUST_PROXY: value })).toThrow(/TRUST_PROXY/);
  });

  test('a worker polls every queue unless WORKER_QUEUES names its roles', () => {
    expect(loadConfig({}).worker).toMatchObject({
      queues: ['orders', 'consent', 'send'],
      activitySlots: 100,
      shutdownGraceMs: 30_000,
    });
    expect(loadConfig({ WORKER_QUEUES: 'consent' }).worker.queues).toEqual(['consent']);
    expect(() => loadConfig({ WORKER_QUEUES: 'orders,mail' })).toThrow(/WORKER_QUEUES/);
  });

  test('the sticky cache holds 20 runs and poller counts are the SDK defaults unless set; both bounded', () => {
    expect(loadConfig({}).worker).toMatchObject({
      maxCachedWorkflows: 20,
      workflowPollers: undefined,
      activityPollers: undefined,
    });
    expect(
      loadConfig({
        WORKER_MAX_CACHED_WORKFLOWS: '0',
        WORKER_WORKFLOW_POLLERS: '4',
        WORKER_ACTIVITY_POLLERS: '8',
      }).worker,
    ).toMatchObject({ maxCachedWorkflows: 0, workflowPollers: 4, activityPollers: 8 });
    expect(() => loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '-1' })).toThrow(/WORKER_MAX_CACHED_WORKFLOWS/);
    // The SDK needs two workflow pollers (one sticky, one not).
    expect(() => loadConfig({ WORKER_WORKFLOW_POLLERS: '1' })).toThrow(/WORKER_WORKFLOW_POLLERS/);
    expect(() => loadConfig({ WORKER_ACTIVITY_POLLERS: 'many' })).toThrow(/WORKER_ACTIVITY_POLLERS/);
  });

  test('every problem is reported at once', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        SMS_PROVIDER: 'carrier-pigeon',
        SIMULATOR_FAILURE_RATE: '2',
        DEFAULT_TIME_ZONE: 'Mars/Base',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const key of ['PORT', 'SMS_PROVIDER', 'SIMULATOR_FAILURE_RATE', 'DEFAULT_TIME_ZONE'])
      expect(problems).toContain(key);
  });

  test('production refuses to run with the local token or none', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', ...PROD_SECRETS })).toThrow(
      /API_TOKEN: is required in production/,
    );
    expect(
      loadConfig({ NODE_ENV: 'production', API_TOKEN: 'a-real-secret-token-value', ...PROD_SECRETS }).api
        .token,
    ).toBe('a-real-secret-token-value');
  });

  test('an API key switches Temporal TLS on; lists are parsed', () => {
    const config = loadConfig({
      TEMPORAL_API_KEY: 'key',
      SIMULATOR_OPTED_OUT_NUMBERS: '+14155550100, +14155550101',
    });
    expect(config.temporal.tls).toEqual({});
    expect(config.simulator.optedOutNumbers).toEqual(['+14155550100', '+14155550101']);
  });

  test('Service Bus: off without a connection string or namespace; defaults from DESIGN.md when on', () => {
    expect(loadConfig({}).serviceBus).toBeUndefined();
    expect(
      loadConfig({ SERVICEBUS_CONNECTION_STRING: 'Endpoint=sb://x/;SharedAccessKeyName=k;SharedAccessKey=v' })
        .serviceBus,
    ).toEqual({
      auth: { connectionString: 'Endpoint=sb://x/;SharedAccessKeyName=k;SharedAccessKey=v' },
      topic: 'send-order-confirmation-sms',
      subscription: 'sms-service',
      maxConcurrentCalls: 10,
      startRetryDelaysMs: [1000, 2000, 4000],
      startTimeoutMs: 5000,
      maxBodyBytes: 262144,
      healthPort: 3001,
    });
    expect(loadConfig({ SERVICEBUS_NAMESPACE: 'ns.servicebus.windows.net' }).serviceBus?.auth).toEqual({
      namespace: 'ns.servicebus.windows.net',
    });
  });

  test('Service Bus: conflicting auth and bad retry delays are reported together', () => {
    expect(() =>
      loadConfig({
        SERVICEBUS_CONNECTION_STRING: 'Endpoint=sb://x/',
        SERVICEBUS_NAMESPACE: 'ns.servicebus.windows.net',
        SERVICEBUS_START_RETRY_DELAYS_MS: '1s,2s',
      }),
    ).toThrow(
      /SERVICEBUS_START_RETRY_DELAYS_MS: must be comma-separated milliseconds[\s\S]*SERVICEBUS_NAMESPACE: set either/,
    );
  });

  test('providers: overrides and failover are in use, and each needs its credentials at start-up', () => {
    expect(() => loadConfig({ SMS_PROVIDER: 'twilio', SMS_FAILOVER_PROVIDER: 'plivo' })).toThrow(
      /TWILIO_ACCOUNT_SID: is required when twilio is in use[\s\S]*PLIVO_AUTH_ID: is required when plivo is in use/,
    );
    const config = loadConfig({
      SMS_PROVIDER_BY_VENUE: '42=plivo',
      SMS_FAILOVER_PROVIDER: 'twilio',
      SMS_FAILOVER_AFTER_SECONDS: '60',
      TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`,
      TWILIO_AUTH_TOKEN: 'secret',
      TWILIO_API_BASE_URL: 'http://127.0.0.1:9999',
      PLIVO_AUTH_ID: 'MAXXXXXXXXXXXXXXXXXX',
      PLIVO_AUTH_TOKEN: 'secret',
    });
    expect(config.sms).toMatchObject({
      provider: 'simulator',
      providerByVenue: { 42: 'plivo' },
      providers: ['simulator', 'plivo', 'twilio'],
      failover: { provider: 'twilio', afterMs: 60_000 },
    });
    expect(config.twilio).toEqual({
      accountSid: `AC${'0'.repeat(32)}`,
      authToken: 'secret',
      apiBaseUrl: 'http://127.0.0.1:9999',
    });
    expect(() => loadConfig({ SMS_PROVIDER_BY_VENUE: '42=pigeon' })).toThrow(
      /SMS_PROVIDER_BY_VENUE: must be venueId=provider/,
    );
  });
});

describe('webhook configuration', () => {
  test('locally: the documented simulator secret, the default help text, no status callbacks', () => {
    const config = loadConfig({});
    expect(config.simulator.webhookSecret).toBe(LOCAL_SIMULATOR_WEBHOOK_SECRET);
    expect(config.sms.helpText).toBe(DEFAULT_SMS_HELP_TEXT);
    expect(config.api.statusCallbackBaseUrl).toBeUndefined();
  });

  test('PUBLIC_BASE_URL (trailing slash dropped) is both the signed URL base and the status callback base', () => {
    const config = loadConfig({ PUBLIC_BASE_URL: 'https://sms.example.com/', SMS_HELP_TEXT: 'Call 555' });
    expect(config.api.publicBaseUrl).toBe('https://sms.example.com');
    expect(config.api.statusCallbackBaseUrl).toBe('https://sms.example.com');
    expect(config.sms.helpText).toBe('Call 555');
  });

  test('production: no simulator webhook without an explicit secret, and never the local one', () => {
    const prod = { NODE_ENV: 'production', API_TOKEN: 'a-real-secret-token-value', ...PROD_SECRETS };
    expect(loadConfig(prod).simulator.webhookSecret).toBeUndefined();
    expect(() => loadConfig({ ...prod, SIMULATOR_WEBHOOK_SECRET: LOCAL_SIMULATOR_WEBHOOK_SECRET })).toThrow(
      /SIMULATOR_WEBHOOK_SECRET: must not be the documented local value/,
    );
    expect(() => loadConfig({ SMS_HELP_TEXT: 'x'.repeat(321) })).toThrow(/SMS_HELP_TEXT/);
  });
});

describe('payload codec keys and the workflow id hash key', () => {
  const prod = { NODE_ENV: 'production', API_TOKEN: 'a-real-secret-token-value' };

  test('outside production the documented local values apply', () => {
    const { temporal, codecEndpoint } = loadConfig({});
    expect(temporal.payloadCodecKeys.map((k) => k.id)).toEqual([LOCAL_PAYLOAD_CODEC_KEYS.split(':')[0]]);
    expect(temporal.workflowIdHashKey).toBe(LOCAL_WORKFLOW_ID_HASH_KEY);
    expect(codecEndpoint.corsOrigins).toEqual(['http://localhost:8233']);
    // Only then does the codec endpoint skip the token (the key is public anyway).
    expect(usesLocalPayloadCodecKey(temporal)).toBe(true);
    expect(usesLocalPayloadCodecKey(loadConfig(PROD_SECRETS).temporal)).toBe(false);
    const both = `${PROD_SECRETS.PAYLOAD_CODEC_KEYS},${LOCAL_PAYLOAD_CODEC_KEYS}`;
    expect(usesLocalPayloadCodecKey(loadConfig({ PAYLOAD_CODEC_KEYS: both }).temporal)).toBe(false);
  });

  test('production requires both, and refuses the local ones', () => {
    expect(() => loadConfig(prod)).toThrow(/PAYLOAD_CODEC_KEYS: is required in production/);
    expect(() => loadConfig(prod)).toThrow(/WORKFLOW_ID_HASH_KEY: is required in production/);
    expect(() =>
      loadConfig({
        ...prod,
        ...PROD_SECRETS,
        PAYLOAD_CODEC_KEYS: `${PROD_SECRETS.PAYLOAD_CODEC_KEYS},${LOCAL_PAYLOAD_CODEC_KEYS}`,
      }),
    ).toThrow(/PAYLOAD_CODEC_KEYS: must not contain the documented local key/);
    expect(() =>
      loadConfig({ ...prod, ...PROD_SECRETS, WORKFLOW_ID_HASH_KEY: LOCAL_WORKFLOW_ID_HASH_KEY }),
    ).toThrow(/WORKFLOW_ID_HASH_KEY/);
    expect(loadConfig({ ...prod, ...PROD_SECRETS }).temporal.payloadCodecKeys[0].id).toBe('k2026');
  });

  test('keys parse in order (the first encrypts); bad entries are named without their material', () => {
    const a = Buffer.alloc(32, 1).toString('base64');
    const b = Buffer.alloc(32, 2).toString('base64');
    const keys = loadConfig({ PAYLOAD_CODEC_KEYS: `new:${a}, old:${b}` }).temporal.payloadCodecKeys;
    expect(keys.map((k) => k.id)).toEqual(['new', 'old']);
    expect(keys[1].key.equals(Buffer.alloc(32, 2))).toBe(true);
    // A key object in a log line shows its id only.
    expect(JSON.stringify(keys)).toBe('[{"id":"new"},{"id":"old"}]');
    const short = Buffer.alloc(16, 3).toString('base64');
    let message = '';
    try {
      loadConfig({ PAYLOAD_CODEC_KEYS: `k1:${short}` });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/PAYLOAD_CODEC_KEYS: entry 1 payload codec key "k1" must be 32 bytes, got 16/);
    expect(message).not.toContain(short);
    expect(() => loadConfig({ PAYLOAD_CODEC_KEYS: `a:${a},a:${b}` })).toThrow(/"a" appears twice/);
    expect(() => loadConfig({ PAYLOAD_CODEC_KEYS: a })).toThrow(/<id>:<base64>/);
  });

  test('CODEC_CORS_ORIGINS lists the UI origins, normalised', () => {
    const config = loadConfig({
      CODEC_CORS_ORIGINS: 'https://temporal-ui.example.com/, http://localhost:8080',
    });
    expect(config.codecEndpoint.corsOrigins).toEqual([
      'https://temporal-ui.example.com',
      'http://localhost:8080',
    ]);
    expect(() => loadConfig({ CODEC_CORS_ORIGINS: 'not a url' })).toThrow(/CODEC_CORS_ORIGINS/);
  });
});

describe('CODEC_AUTH: who may call /codec', () => {
  const real = { ...PROD_SECRETS, API_TOKEN: 'a-real-secret-token-value' };
  const problems = (env: Record<string, string>): string => {
    try {
      loadConfig(env);
      return '';
    } catch (err) {
      return (err as Error).message;
    }
  };

  test('unset: the token, except on the published local key (as before the setting)', () => {
    expect(loadConfig(real).codecEndpoint.auth).toEqual({ mode: 'bearer' });
    expect(loadConfig({}).codecEndpoint.auth).toEqual({ mode: 'none', why: 'local-key' });
    expect(loadConfig({ CODEC_AUTH: 'bearer' }).codecEndpoint.auth).toEqual({ mode: 'bearer' });
    expect(problems({ CODEC_AUTH: 'basic' })).toMatch(/CODEC_AUTH: must be bearer, oidc or none/);
  });

  test('none: only where no one but this machine reaches the codec, for a local UI', () => {
    expect(loadConfig({ ...real, CODEC_AUTH: 'none' }).codecEndpoint).toMatchObject({
      auth: { mode: 'none', why: 'loopback' },
      listener: undefined,
    });
    expect(loadConfig({ ...real, CODEC_AUTH: 'none', HOST: '::1' }).codecEndpoint.auth.mode).toBe('none');
    expect(problems({ ...real, CODEC_AUTH: 'none', HOST: '0.0.0.0' })).toMatch(
      /CODEC_AUTH: none decrypts for anyone who reaches 0\.0\.0\.0/,
    );
    // A loopback codec listener beside a public API is fine; a public one needs the deployer's word.
    const container = { ...real, CODEC_AUTH: 'none', HOST: '0.0.0.0', CODEC_PORT: '3002' };
    expect(loadConfig({ ...container, CODEC_HOST: '127.0.0.1' }).codecEndpoint.listener).toEqual({
      host: '127.0.0.1',
      port: 3002,
    });
    expect(problems(container)).toMatch(/CODEC_PUBLISHED_ON_LOOPBACK_ONLY=true/);
    expect(
      loadConfig({ ...container, CODEC_PUBLISHED_ON_LOOPBACK_ONLY: 'true' }).codecEndpoint.listener,
    ).toEqual({
      host: '0.0.0.0',
      port: 3002,
    });
    expect(
      problems({ ...real, CODEC_AUTH: 'none', CODEC_CORS_ORIGINS: 'https://temporal.example.com' }),
    ).toMatch(
      /CODEC_CORS_ORIGINS: with CODEC_AUTH=none only a local Web UI .* not https:\/\/temporal\.example\.com/,
    );
  });

  test('the codec listener', () => {
    expect(problems({ CODEC_PORT: '3000' })).toMatch(/CODEC_PORT: must differ from PORT/);
    expect(problems({ CODEC_HOST: '127.0.0.1' })).toMatch(/CODEC_HOST: needs CODEC_PORT/);
  });

  test('oidc: issuer and audience required, keys over TLS, no stray OIDC settings', () => {
    const oidc = {
      ...real,
      CODEC_AUTH: 'oidc',
      CODEC_OIDC_ISSUER: 'https://login.example.com/',
      CODEC_OIDC_AUDIENCE: 'temporal-ui, api://temporal',
    };
    expect(loadConfig(oidc).codecEndpoint.auth).toEqual({
      mode: 'oidc',
      issuer: 'https://login.example.com/',
      audience: ['temporal-ui', 'api://temporal'],
      jwksUrl: undefined,
    });
    const missing = problems({ ...real, CODEC_AUTH: 'oidc' });
    expect(missing).toMatch(/CODEC_OIDC_ISSUER: is required with CODEC_AUTH=oidc/);
    expect(missing).toMatch(/CODEC_OIDC_AUDIENCE: is required with CODEC_AUTH=oidc/);
    expect(problems({ ...oidc, CODEC_OIDC_JWKS_URL: 'http://login.example.com/keys' })).toMatch(
      /CODEC_OIDC_JWKS_URL: must be https \(http only to localhost\)/,
    );
    expect(loadConfig({ ...oidc, CODEC_OIDC_ISSUER: 'http://127.0.0.1:8080' }).codecEndpoint.auth.mode).toBe(
      'oidc',
    );
    expect(problems({ ...real, CODEC_OIDC_ISSUER: 'https://login.example.com/' })).toMatch(
      /CODEC_AUTH: is not oidc, so CODEC_OIDC_ISSUER would be ignored/,
    );
  });
});

test('.env.example copies to a working .env', () => {
  const example = parseEnv(fs.readFileSync(path.resolve(__dirname, '../../.env.example'), 'utf8'));
  expect(() => loadConfig(example)).not.toThrow();
});
