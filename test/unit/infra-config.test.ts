import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  appEnv,
  checkInfra,
  configEnvNames,
  INFRA,
  loadInfra,
  type InfraModel,
  type Scenario,
} from '../support/infra-check';
import { loadConfig } from '../../config';

/**
 * infra/ against the app: every app setting and Key Vault secret of the Container Apps is a name
 * loadConfig reads, and every name loadConfig requires in production is set, for each role, in the
 * deployments environments/*.tfvars describe. Checker: test/support/infra-check.ts.
 */
const scenarios: Scenario[] = [
  // environments/prod.tfvars: Twilio with Plivo as failover, mTLS to Temporal Cloud.
  { name: 'prod', smsProvider: 'twilio', failoverProvider: 'plivo', temporalAuth: 'mtls' },
  // environments/dev.tfvars: Twilio alone.
  { name: 'dev', smsProvider: 'twilio', temporalAuth: 'mtls' },
  // The other Temporal credential.
  { name: 'api-key', smsProvider: 'plivo', temporalAuth: 'api-key' },
];
const prod = scenarios[0];

let model: InfraModel;
beforeAll(async () => {
  model = await loadInfra();
});

describe('infra/ ties to loadConfig', () => {
  test.each(scenarios.map((s) => [s.name, s] as const))('holds for the %s deployment', (_name, scenario) => {
    expect(checkInfra(model, scenario)).toEqual([]);
  });

  test('reads what Terraform gives the roles (not an empty model)', () => {
    expect(Object.keys(model.apps).sort()).toEqual([
      'api',
      'bridge',
      'worker-consent',
      'worker-orders',
      'worker-send',
    ]);
    expect(model.secrets.common).toMatchObject({ API_TOKEN: 'api-token' });
    expect(model.vaultSecrets).toEqual(
      expect.arrayContaining([
        'api-token',
        'payload-codec-keys',
        'workflow-id-hash-key',
        'temporal-tls-cert',
      ]),
    );
    expect(model.literalEnv).toEqual(expect.arrayContaining(['AZURE_CLIENT_ID', 'WORKER_QUEUES']));
    const bridge = loadConfig(appEnv(model, 'bridge', prod));
    expect(bridge.serviceBus).toMatchObject({
      auth: { namespace: 'sb-sms-prod.servicebus.windows.net' },
      topic: 'send-order-confirmation-sms',
      subscription: 'sms-service',
    });
    expect(loadConfig(appEnv(model, 'worker-send', prod)).worker.queues).toEqual(['send']);
    expect(configEnvNames().has('SERVICEBUS_NAMESPACE')).toBe(true);
  });

  type Mutation = (m: InfraModel) => void;
  const mutations: [string, Mutation, RegExp][] = [
    [
      'an app setting loadConfig does not read',
      (m) => (m.settings.bridge.SERVICEBUS_TOPIC_NAME = 'orders'),
      /^SERVICEBUS_TOPIC_NAME \(settings\.bridge\) is set in infra\/, but loadConfig reads no such name/,
    ],
    [
      'a secret under a name loadConfig does not read',
      (m) => (m.secrets.twilio.TWILIO_TOKEN = 'twilio-auth-token'),
      /^TWILIO_TOKEN \(secrets\.twilio\) is set in infra\/, but loadConfig reads no such name/,
    ],
    [
      'API_TOKEN dropped',
      (m) => delete m.secrets.common.API_TOKEN,
      /^api: loadConfig refuses its settings \(prod\): API_TOKEN: is required in production/,
    ],
    [
      'PAYLOAD_CODEC_KEYS dropped',
      (m) => delete m.secrets.common.PAYLOAD_CODEC_KEYS,
      /^worker-orders: loadConfig refuses .*PAYLOAD_CODEC_KEYS: is required in production/,
    ],
    [
      'PUBLIC_BASE_URL dropped (Twilio in use)',
      (m) => delete m.settings.common.PUBLIC_BASE_URL,
      /^worker-send: loadConfig refuses .*PUBLIC_BASE_URL: is required in production with twilio/,
    ],
    [
      'the Twilio secrets dropped',
      (m) => delete m.secrets.twilio.TWILIO_AUTH_TOKEN,
      /^api: loadConfig refuses .*TWILIO_AUTH_TOKEN: is required when twilio is in use/,
    ],
    [
      'DATABASE_URL dropped',
      (m) => delete m.settings.database.DATABASE_URL,
      // loadConfig itself refuses Entra ID auth on the default SQLite URL.
      /^migrate: loadConfig refuses .*DATABASE_URL must be mssql:/,
    ],
    [
      'DATABASE_AUTH dropped',
      (m) => delete m.settings.database.DATABASE_AUTH,
      /^api: DATABASE_AUTH is not azure-managed-identity/,
    ],
    [
      'SERVICEBUS_NAMESPACE dropped',
      (m) => delete m.settings.bridge.SERVICEBUS_NAMESPACE,
      /^bridge: no Service Bus namespace/,
    ],
    [
      'TEMPORAL_ADDRESS dropped',
      (m) => delete m.settings.common.TEMPORAL_ADDRESS,
      /^api: Temporal is 127\.0\.0\.1:7233 without TLS/,
    ],
    [
      'an invalid setting value',
      (m) => (m.settings.worker.WORKER_SHUTDOWN_GRACE_SECONDS = '0'),
      /^worker-orders: loadConfig refuses .*WORKER_SHUTDOWN_GRACE_SECONDS/,
    ],
    [
      'a secret no Key Vault secret backs',
      (m) => (m.secrets.common.WORKFLOW_ID_HASH_KEY = 'workflow-id-key'),
      /^WORKFLOW_ID_HASH_KEY references Key Vault secret "workflow-id-key", which infra\/ does not create/,
    ],
    [
      'a Key Vault secret no setting reads',
      (m) => m.vaultSecrets.push('sendgrid-api-key'),
      /^Key Vault secret "sendgrid-api-key" is created but no app setting or scale rule reads it/,
    ],
    [
      'the send queue left unpolled',
      (m) => delete m.apps['worker-send'],
      /^no worker app polls the send queue/,
    ],
    [
      'a search attribute dropped',
      (m) => delete m.searchAttributes.SmsErrorCode,
      /^temporal-cloud: search attribute SmsErrorCode is missing, the workflows need Keyword/,
    ],
    [
      'a search attribute of the wrong type',
      (m) => (m.searchAttributes.VenueId = 'keyword'),
      /^temporal-cloud: search attribute VenueId is keyword, the workflows need Int/,
    ],
    [
      "the emulator's duplicate window used in Azure",
      (m) => (m.servicebus.duplicate_detection_window = 'PT5M'),
      /^servicebus: duplicate_detection_window is PT5M, the bridge expects PT10M/,
    ],
    [
      'another subscription name',
      (m) => (m.servicebus.subscription_name = 'sms'),
      /^servicebus: subscription_name is sms, the bridge expects sms-service/,
    ],
    [
      'the Prometheus rules file moved',
      (m) => (m.prometheusRulesFile = path.join(INFRA, '../ops/alerts.yml')),
      /^observability: prometheus_rules_file .* does not exist/,
    ],
  ];

  test.each(mutations)('fails when %s', (_name, mutate, expected) => {
    const copy = structuredClone(model);
    mutate(copy);
    expect(checkInfra(copy, prod)).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
  });

  test('fails on an unknown name written into settings.tf itself (the parse, not only the model)', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'infra-'));
    try {
      fs.cpSync(INFRA, path.join(tmp, 'infra'), { recursive: true });
      // The copy's rules file path is relative to infra/: give it one.
      fs.cpSync(path.join(INFRA, '../ops'), path.join(tmp, 'ops'), { recursive: true });
      const settings = path.join(tmp, 'infra/modules/container-apps/settings.tf');
      const text = fs.readFileSync(settings, 'utf8');
      const broken = text.replace('      BRIDGE_HEALTH_PORT ', '      BRIDGE_HEALTHPORT  ');
      expect(broken).not.toBe(text);
      fs.writeFileSync(settings, broken);
      const mutated = await loadInfra(path.join(tmp, 'infra'));
      expect(checkInfra(mutated, prod, path.join(tmp, 'infra'))).toEqual([
        'BRIDGE_HEALTHPORT (settings.bridge) is set in infra/, but loadConfig reads no such name',
      ]);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
