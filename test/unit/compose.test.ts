import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../config';
import {
  checkCompose,
  dockerfileEnv,
  EMULATOR_CONFIG_PATH,
  ROOT,
  interpolate,
  loadCompose,
  readRepoFiles,
  requiredVariables,
  serviceEnv,
  type ComposeFile,
} from '../support/compose-check';

/** What an operator puts in compose.env: values the app's validators accept. */
const operatorEnv = (): Record<string, string> => ({
  ACCEPT_EULA: 'Y',
  MSSQL_SA_PASSWORD: 'ComposeCheck42Secret',
  API_TOKEN: crypto.randomBytes(24).toString('hex'),
  PAYLOAD_CODEC_KEYS: `k1:${crypto.randomBytes(32).toString('base64')}`,
  WORKFLOW_ID_HASH_KEY: crypto.randomBytes(32).toString('hex'),
});

const files = readRepoFiles();

function check(compose: ComposeFile, text = files.text): string[] {
  return checkCompose({ compose, text, dockerfile: files.dockerfile, envExample: files.envExample });
}

function loaded(env = operatorEnv(), text = files.text): ComposeFile {
  const { compose, errors } = loadCompose(text, env);
  expect(errors).toEqual([]);
  return compose;
}

describe('docker-compose.yml', () => {
  test('holds: every role passes the config loader, every reference and port matches', () => {
    expect(check(loaded())).toEqual([]);
  });

  test('each app role resolves to the containers it needs, through the real config loader', () => {
    const compose = loaded();
    const env = (service: string) => ({
      ...dockerfileEnv(files.dockerfile),
      ...serviceEnv(compose.services[service]),
    });
    const api = loadConfig(env('api'));
    expect(api.env).toBe('production');
    expect(api.api).toMatchObject({ host: '0.0.0.0', port: 3000 });
    expect(api.databaseUrl).toMatch(/^mssql:\/\/sa:.+@sqlserver:1433\/sms\?/);
    expect(api.temporal).toMatchObject({ address: 'temporal:7233', namespace: 'default' });
    expect(loadConfig(env('worker')).temporal.workflowBundlePath).toBe('/app/dist/workflow-bundle.js');
    const bridge = loadConfig(env('bridge'));
    expect(bridge.serviceBus).toMatchObject({
      topic: 'send-order-confirmation-sms',
      subscription: 'sms-service',
      healthPort: 3001,
    });
  });

  test('every secret the file requires is documented in compose.env.example', () => {
    expect(requiredVariables(files.text)).toEqual(
      expect.arrayContaining([
        'API_TOKEN',
        'MSSQL_SA_PASSWORD',
        'PAYLOAD_CODEC_KEYS',
        'WORKFLOW_ID_HASH_KEY',
      ]),
    );
  });

  test('fails when a required secret is not a line to fill in compose.env.example', () => {
    const envExample = files.envExample.replace(/^API_TOKEN=/m, '# API_TOKEN=');
    expect(envExample).not.toBe(files.envExample);
    const problems = checkCompose({
      compose: loaded(),
      text: files.text,
      dockerfile: files.dockerfile,
      envExample,
    });
    expect(problems).toEqual([
      'API_TOKEN is required by docker-compose.yml but missing from compose.env.example',
    ]);
  });

  test.each(Object.keys(operatorEnv()))('fails when %s is missing from the operator environment', (name) => {
    const env: Record<string, string | undefined> = operatorEnv();
    delete env[name];
    const { errors } = loadCompose(files.text, env);
    expect(errors).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^${name}: `))]));
  });

  test('fails when the API_TOKEN line is removed from the file', () => {
    const text = files.text.replace(/^ *API_TOKEN:.*\n/m, '');
    expect(text).not.toBe(files.text);
    const problems = check(loaded(operatorEnv(), text), text);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^api: the app's config loader refuses .*API_TOKEN: is required in production/),
      ]),
    );
  });

  test.each(['Pass#1word', 'Pass/1word', 'Pass?1word'])(
    'fails on an SQL Server password that breaks DATABASE_URL (%s)',
    (password) => {
      const problems = check(loaded({ ...operatorEnv(), MSSQL_SA_PASSWORD: password }));
      expect(problems).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^worker: (DATABASE_URL is not a URL|the DATABASE_URL password)/),
        ]),
      );
    },
  );

  test('a real provider without a public URL is refused by the app, so by the check', () => {
    const twilio = {
      ...operatorEnv(),
      SMS_PROVIDER: 'twilio',
      TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`,
      TWILIO_AUTH_TOKEN: 'twilio-auth-token',
    };
    expect(check(loaded(twilio))).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^worker: .*PUBLIC_BASE_URL: is required in production with twilio/),
      ]),
    );
    expect(check(loaded({ ...twilio, PUBLIC_BASE_URL: 'https://sms.example.com' }))).toEqual([]);
  });

  type Mutation = (c: ComposeFile) => void;
  const env = (c: ComposeFile, service: string) => c.services[service].environment as Record<string, unknown>;
  const mutations: [string, Mutation, RegExp][] = [
    [
      'API_TOKEN removed from api',
      (c) => delete env(c, 'api').API_TOKEN,
      /^api: the app's config loader refuses .*API_TOKEN/,
    ],
    [
      'DATABASE_URL removed from worker',
      (c) => delete env(c, 'worker').DATABASE_URL,
      /^worker: DATABASE_URL is SQLite/,
    ],
    [
      'TEMPORAL_ADDRESS removed from api',
      (c) => delete env(c, 'api').TEMPORAL_ADDRESS,
      /^api: TEMPORAL_ADDRESS names host "127.0.0.1"/,
    ],
    [
      'SERVICEBUS_CONNECTION_STRING removed from bridge',
      (c) => delete env(c, 'bridge').SERVICEBUS_CONNECTION_STRING,
      /^bridge: no Service Bus configured/,
    ],
    [
      'the temporal service removed',
      (c) => delete c.services.temporal,
      /depends_on names "temporal", which is not a service/,
    ],
    [
      'the servicebus service removed',
      (c) => delete c.services.servicebus,
      /^bridge: the Service Bus endpoint names host "servicebus"/,
    ],
    [
      'the migrate service removed',
      (c) => delete c.services.migrate,
      /no service runs dist\/scripts\/migrate\.js/,
    ],
    [
      'the database server given another password',
      (c) => (env(c, 'sqlserver').MSSQL_SA_PASSWORD = 'Another42Secret'),
      /^worker: the DATABASE_URL password is not the one sqlserver was given/,
    ],
    [
      'sqlserver-init removed',
      (c) => delete c.services['sqlserver-init'],
      /no service creates the database "sms"/,
    ],
    [
      'the api published on another host port',
      (c) => (c.services.api.ports = ['3001:3000', '127.0.0.1:3002:3002']),
      /^api: the public base URL http:\/\/localhost:3000 points at host port 3000/,
    ],
    [
      'the UI decoding through the API port instead of the codec listener',
      (c) => (env(c, 'temporal-ui').TEMPORAL_CODEC_ENDPOINT = 'http://localhost:3000/codec'),
      /reaches api:3000, the API serves \/codec on 3002/,
    ],
    [
      'the codec port published on every interface with CODEC_AUTH=none',
      (c) => (c.services.api.ports = ['3000:3000', '3002:3002']),
      /^api: CODEC_AUTH=none, but CODEC_PORT 3002 is published on every host interface/,
    ],
    [
      'the codec port published on a LAN address with CODEC_AUTH=none',
      (c) => (c.services.api.ports = ['3000:3000', '192.168.1.5:3002:3002']),
      /^api: CODEC_AUTH=none, but CODEC_PORT 3002 is published on 192\.168\.1\.5/,
    ],
    [
      'CODEC_AUTH=none without its own codec listener (the API binds 0.0.0.0)',
      (c) => delete env(c, 'api').CODEC_PORT,
      /^api: the app's config loader refuses .*CODEC_AUTH: none decrypts for anyone who reaches 0\.0\.0\.0/,
    ],
    [
      'CODEC_AUTH=bearer, which the UI cannot satisfy',
      (c) => (env(c, 'api').CODEC_AUTH = 'bearer'),
      /^temporal-ui cannot decode: api has CODEC_AUTH=bearer/,
    ],
    [
      'CODEC_AUTH=oidc without the UI forwarding its token',
      (c) =>
        Object.assign(env(c, 'api'), {
          CODEC_AUTH: 'oidc',
          CODEC_OIDC_ISSUER: 'https://login.example.com/',
          CODEC_OIDC_AUDIENCE: 'temporal-ui',
        }),
      /^temporal-ui cannot decode: api has CODEC_AUTH=oidc, but TEMPORAL_CODEC_PASS_ACCESS_TOKEN is not true/,
    ],
    [
      'the api PORT changed',
      (c) => (env(c, 'api').PORT = '3005'),
      /^api: its healthcheck probes 3000, PORT is 3005/,
    ],
    [
      'the worker METRICS_PORT changed',
      (c) => (env(c, 'worker').METRICS_PORT = '9999'),
      /^worker: METRICS_PORT=9999 is neither published nor exposed/,
    ],
    [
      'the worker METRICS_PORT ephemeral',
      (c) => (env(c, 'worker').METRICS_PORT = '0'),
      /^worker: METRICS_PORT=0/,
    ],
    [
      'BRIDGE_HEALTH_PORT changed',
      (c) => (env(c, 'bridge').BRIDGE_HEALTH_PORT = '3002'),
      /^bridge: BRIDGE_HEALTH_PORT=3002 is neither/,
    ],
    [
      'the bridge topic renamed',
      (c) => (env(c, 'bridge').SERVICEBUS_TOPIC = 'orders'),
      /^bridge: topic orders is not in \.\/docs\/servicebus\/Config\.json/,
    ],
    [
      'a search attribute dropped',
      (c) =>
        (env(c, 'temporal-setup').SEARCH_ATTRIBUTES =
          'OrderId=Keyword VenueId=Int SmsOutcome=Keyword SmsProvider=Keyword'),
      /registers SmsErrorCode as nothing/,
    ],
    [
      'a search attribute with the wrong type',
      (c) =>
        (env(c, 'temporal-setup').SEARCH_ATTRIBUTES =
          'OrderId=Text VenueId=Int SmsOutcome=Keyword SmsProvider=Keyword SmsErrorCode=Keyword'),
      /registers OrderId as Text/,
    ],
    [
      'the namespace differs',
      (c) => (env(c, 'worker').TEMPORAL_NAMESPACE = 'sms'),
      /^worker: uses namespace sms, temporal-setup sets up default/,
    ],
    [
      'the worker no longer waits for the migrations',
      (c) => delete (c.services.worker.depends_on as Record<string, unknown>).migrate,
      /^worker: reads the database but does not wait for the migrations/,
    ],
    [
      'the Web UI origin not allowed by CORS',
      (c) => (env(c, 'api').CODEC_CORS_ORIGINS = 'http://localhost:8080'),
      /^api: CODEC_CORS_ORIGINS lacks the Web UI's origin http:\/\/localhost:8233/,
    ],
    [
      'the codec endpoint elsewhere',
      (c) => (env(c, 'temporal-ui').TEMPORAL_CODEC_ENDPOINT = 'http://localhost:3000/decode'),
      /is not the API's \/codec/,
    ],
    [
      'the worker killed before its drain',
      (c) => (c.services.worker.stop_grace_period = '20s'),
      /^worker: stop_grace_period 20s does not outlast/,
    ],
    ['the api healthcheck removed', (c) => delete c.services.api.healthcheck, /^api: no HTTP healthcheck/],
    [
      'a wait for health on a service without one',
      (c) => delete c.services.temporal.healthcheck,
      /temporal-setup: waits for temporal to be healthy, but temporal has no healthcheck/,
    ],
    [
      'a role on a missing entry point',
      (c) => (c.services.bridge.command = ['node', 'dist/bridge/nope.js']),
      /bridge\/nope\.ts does not exist/,
    ],
    [
      'a missing mounted file',
      (c) =>
        (c.services.servicebus.volumes = [
          './docs/servicebus/Nope.json:/ServiceBus_Emulator/ConfigFiles/Config.json:ro',
        ]),
      /mounts \.\/docs\/servicebus\/Nope\.json, which does not exist/,
    ],
  ];

  test("the emulator's Config.json stays within the emulator's caps (Azure's 10-minute window is not)", () => {
    const config = path.join(ROOT, 'docs/servicebus/Config.json');
    const original = fs.readFileSync(config, 'utf8');
    expect(JSON.parse(original)).toMatchObject({
      UserConfig: {
        Namespaces: [{ Topics: [{ Properties: { DuplicateDetectionHistoryTimeWindow: 'PT5M' } }] }],
      },
    });
    // The check reads the mounted file: point the mount at a copy with Azure's values (data/ is git-ignored).
    fs.mkdirSync(path.join(ROOT, 'data'), { recursive: true });
    const azure = path.join(fs.mkdtempSync(path.join(ROOT, 'data', 'compose-')), 'Config.json');
    try {
      fs.writeFileSync(
        azure,
        original
          .replace(
            '"DuplicateDetectionHistoryTimeWindow": "PT5M"',
            '"DuplicateDetectionHistoryTimeWindow": "PT10M"',
          )
          .replace('"LockDuration": "PT1M"', '"LockDuration": "1 minute"')
          .replace(/"DefaultMessageTimeToLive": "PT1H"/g, '"DefaultMessageTimeToLive": "P14D"'),
      );
      const compose = structuredClone(loaded());
      compose.services.servicebus.volumes = [`./${path.relative(ROOT, azure)}:${EMULATOR_CONFIG_PATH}:ro`];
      expect(check(compose)).toEqual([
        `./${path.relative(ROOT, azure)}: topic send-order-confirmation-sms DuplicateDetectionHistoryTimeWindow PT10M is outside the emulator's 20 s to 300 s`,
        `./${path.relative(ROOT, azure)}: topic send-order-confirmation-sms DefaultMessageTimeToLive P14D is outside the emulator's 1 s to 3600 s`,
        `./${path.relative(ROOT, azure)}: subscription send-order-confirmation-sms/sms-service DefaultMessageTimeToLive P14D is outside the emulator's 1 s to 3600 s`,
        `./${path.relative(ROOT, azure)}: subscription send-order-confirmation-sms/sms-service LockDuration 1 minute is not an ISO-8601 duration`,
      ]);
    } finally {
      fs.rmSync(path.dirname(azure), { recursive: true, force: true });
    }
  });

  test.each(mutations)('fails when %s', (_name, mutate, expected) => {
    const compose = structuredClone(loaded());
    mutate(compose);
    expect(check(compose)).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
  });
});

describe('compose interpolation', () => {
  test('follows compose: defaults, required, alternatives, $$', () => {
    const errors: string[] = [];
    const vars = { SET: 'x', EMPTY: '' };
    expect(interpolate('${SET}-${UNSET:-d}-${EMPTY:-e}-${EMPTY-f}-${SET:+alt}-$$SET', vars, errors)).toBe(
      'x-d-e--alt-$SET',
    );
    expect(errors).toEqual([]);
    expect(interpolate('${UNSET:?say why}', vars, errors)).toBe('');
    expect(errors).toEqual(['UNSET: say why']);
  });
});

describe('Dockerfile', () => {
  test('Node 24 bookworm-slim, the contract entry points, a non-root user', () => {
    const stages = [...files.dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
    expect(stages.length).toBeGreaterThan(0);
    for (const image of stages) expect(image).toBe('node:24-bookworm-slim');
    expect(files.dockerfile).toMatch(/^RUN npm ci\b/m);
    expect(files.dockerfile).toMatch(/npm run build/);
    expect(files.dockerfile).toMatch(/npm prune --omit=dev/);
    const lastStage = files.dockerfile.slice(files.dockerfile.lastIndexOf('\nFROM '));
    expect(lastStage).toMatch(/^USER node$/m);
    expect(dockerfileEnv(files.dockerfile)).toMatchObject({
      NODE_ENV: 'production',
      WORKFLOW_BUNDLE_PATH: '/app/dist/workflow-bundle.js',
    });
  });
});
