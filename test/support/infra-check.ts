import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseHcl } from '@cdktf/hcl2json';
import { parse as parseYaml } from 'yaml';
import { CONFIG_ENV_NAMES, ConfigError, loadConfig, type Config } from '../../config';
import { bridgeEnv } from '../../config/bridge';
import { workerConfig, workerEnv } from '../../config/worker';
import { SEARCH_ATTRIBUTE_CLI_TYPES } from '../../temporal/search-attributes';
import { dockerfileEnv } from './compose-check';
import { makeTestPki, type TestPki } from './tls-certs';

/**
 * Static checks of infra/ (Terraform) against the app itself, like compose-check.ts for
 * docker-compose.yml: every app setting and Key Vault secret the Container Apps get must be a name
 * loadConfig reads, and each role's settings must pass loadConfig's production rules. The .tf files
 * are parsed with HashiCorp's own HCL parser (@cdktf/hcl2json); expressions stay as `${…}` strings
 * and are replaced by sample values named below. Returns the problems found; none means it holds.
 */

export const ROOT = path.resolve(__dirname, '../..');
export const INFRA = path.join(ROOT, 'infra');

/** Every environment name loadConfig (config/index.ts) reads. */
export function configEnvNames(): Set<string> {
  return new Set(CONFIG_ENV_NAMES);
}

/** Key Vault secrets that are not app settings, and what uses them. */
const NON_APP_SECRETS: Record<string, string> = {
  'servicebus-keda-listen': "the bridge's KEDA azure-servicebus scale rule",
};

type Groups = Record<string, Record<string, string>>;

export interface AppSpec {
  kind: string;
  /** WORKER_QUEUES of a worker app. */
  queues: string | null;
}

/** What the checks read from infra/, as plain data (tests mutate copies of it). */
export interface InfraModel {
  settings: Groups;
  secrets: Groups;
  settingGroups: Record<string, string[]>;
  secretGroups: Record<string, string[]>;
  apps: Record<string, AppSpec>;
  /** Names set by env blocks written out in the role containers (not the sidecar's). */
  literalEnv: string[];
  /** Secret names written out in the apps (scale rules, the sidecar). */
  literalSecretRefs: string[];
  /** Key Vault secrets infra/ creates (generated, placeholders, derived). */
  vaultSecrets: string[];
  searchAttributes: Record<string, string>;
  servicebus: Record<string, string>;
  prometheusRulesFile: string;
}

/** The variable values a deployment picks (environments/*.tfvars). */
export interface Scenario {
  name: string;
  smsProvider: 'twilio' | 'plivo' | 'simulator';
  failoverProvider?: 'twilio' | 'plivo';
  temporalAuth: 'mtls' | 'api-key';
}

type Hcl = Record<string, unknown>;

async function parseTf(file: string): Promise<Hcl> {
  return (await parseHcl(file, fs.readFileSync(file, 'utf8'))) as Hcl;
}

function locals(doc: Hcl): Record<string, unknown> {
  return Object.assign({}, ...((doc.locals as Record<string, unknown>[] | undefined) ?? []));
}

/** The quoted names inside the list literals of an expression (`cond ? ["a", "b"] : []`). */
function listedNames(expression: string): string[] {
  return [...expression.matchAll(/\[([^\]]*)\]/g)].flatMap((list) =>
    [...list[1].matchAll(/"([a-z0-9-]+)"/g)].map((m) => m[1]),
  );
}

interface EnvBlock {
  name?: string;
}
interface Container {
  name?: string;
  env?: EnvBlock[];
  dynamic?: { env?: { content?: EnvBlock[] }[] };
}

function literalNames(containers: Container[]): string[] {
  const names: string[] = [];
  for (const c of containers) {
    if (c.name === 'prometheus-agent') continue; // the sidecar: Prometheus's settings, not the app's
    const blocks = [...(c.env ?? []), ...(c.dynamic?.env ?? []).flatMap((d) => d.content ?? [])];
    for (const b of blocks) if (b.name && !b.name.includes('${')) names.push(b.name);
  }
  return names;
}

export async function loadInfra(infra = INFRA): Promise<InfraModel> {
  const module = path.join(infra, 'modules');
  const settingsTf = locals(await parseTf(path.join(module, 'container-apps/settings.tf')));
  const appsDoc = await parseTf(path.join(module, 'container-apps/main.tf'));
  const appsLocals = locals(appsDoc);
  const resources = appsDoc.resource as Record<string, Record<string, Hcl[]>>;
  const app = resources.azurerm_container_app.this[0];
  const job = resources.azurerm_container_app_job.migrate[0];
  const containers = [
    ...((app.template as Hcl[])[0].container as Container[]),
    ...((job.template as Hcl[])[0].container as Container[]),
  ];
  const mainText = fs.readFileSync(path.join(module, 'container-apps/main.tf'), 'utf8');
  // Secret names written out: `secret_name = "…"`, a conditional `? ["…"]` list of one (the bridge's
  // scale-rule secret, the sidecar's token) and the Temporal scale rule's credential map.
  const literalSecretRefs = [
    ...new Set(
      [
        ...mainText.matchAll(/secret_name\s*=\s*"([a-z0-9-]+)"/g),
        ...mainText.matchAll(/\?\s*\["([a-z0-9-]+)"\]/g),
        ...mainText.matchAll(/\b(?:cert|key|apiKey)\s*=\s*"([a-z0-9-]+)"/g),
      ].map((m) => m[1]),
    ),
  ];

  const platform = locals(await parseTf(path.join(module, 'platform/main.tf')));
  const root = await parseTf(path.join(infra, 'main.tf'));
  const rootLocals = locals(root);
  const rootModules = root.module as Record<string, Hcl[]>;
  const vaultSecrets = [
    ...Object.keys(platform.generated_secrets as Record<string, string>),
    ...listedNames(String(rootLocals.external_secrets)),
    ...Object.keys((rootModules.platform[0].derived_secrets as Record<string, string>) ?? {}),
  ];

  const temporal = locals(await parseTf(path.join(module, 'temporal-cloud/main.tf')));
  const sbVars = (await parseTf(path.join(module, 'servicebus/variables.tf'))).variable as Record<
    string,
    Hcl[]
  >;
  const servicebus = Object.fromEntries(
    Object.entries(sbVars)
      .filter(([, v]) => v[0].default !== undefined)
      .map(([k, v]) => [k, String(v[0].default)]),
  );
  const rulesExpr = String(rootModules.observability[0].prometheus_rules_file);

  return {
    settings: settingsTf.settings as Groups,
    secrets: settingsTf.secrets as Groups,
    settingGroups: settingsTf.setting_groups as Record<string, string[]>,
    secretGroups: settingsTf.secret_groups as Record<string, string[]>,
    apps: Object.fromEntries(
      Object.entries(appsLocals.apps as Record<string, Hcl>).map(([name, a]) => [
        name,
        { kind: String(a.kind), queues: typeof a.queues === 'string' ? a.queues : null },
      ]),
    ),
    literalEnv: literalNames(containers),
    literalSecretRefs,
    vaultSecrets,
    searchAttributes: temporal.search_attributes as Record<string, string>,
    servicebus,
    prometheusRulesFile: path.resolve(infra, rulesExpr.replace('${path.root}', '.')),
  };
}

/** A real (throwaway) client certificate and key: loadConfig parses both and checks they match. */
let pki: TestPki | undefined;
const clientCertificate = () => (pki ??= makeTestPki()).client;

/** A value the app's validators accept, for each secret (never a real one). */
function secretSample(name: string): string {
  const hex = (n: number) => crypto.randomBytes(n).toString('hex');
  switch (name) {
    case 'PAYLOAD_CODEC_KEYS':
      return `k1:${crypto.randomBytes(32).toString('base64')}`;
    case 'TWILIO_ACCOUNT_SID':
      return `AC${hex(16)}`;
    case 'PLIVO_AUTH_ID':
      return 'MAXXXXXXXXXXXXXXXXXX';
    case 'TEMPORAL_TLS_CERT':
      return clientCertificate().crt;
    case 'TEMPORAL_TLS_KEY':
      return clientCertificate().key;
    default:
      return hex(24);
  }
}

/** What Terraform fills the `${…}` expressions of settings.tf with, in a deployment like the scenario's. */
function expressionSamples(model: InfraModel, scenario: Scenario): Record<string, string> {
  return {
    'var.log_level': 'info',
    'var.temporal_address':
      scenario.temporalAuth === 'mtls'
        ? 'sms-order-confirmation.a1b2c.tmprl.cloud:7233'
        : 'westeurope.azure.api.temporal.io:7233',
    'var.temporal_namespace': 'sms-order-confirmation.a1b2c',
    'var.temporal_task_queue': 'sms-orders',
    'var.sms_provider': scenario.smsProvider,
    'var.sms_failover_provider': scenario.failoverProvider ?? '',
    'local.public_base_url': 'https://sms-prod-api.example.azurecontainerapps.io',
    'var.sql_server_fqdn': 'sql-sms-prod.database.windows.net',
    'var.sql_database_name': 'sms',
    'var.servicebus_namespace_host': 'sb-sms-prod.servicebus.windows.net',
    'var.servicebus_topic_name': model.servicebus.topic_name,
    'var.servicebus_subscription_name': model.servicebus.subscription_name,
  };
}

/** The secret groups Terraform adds for the scenario (settings.tf optional_secret_groups). */
export function optionalSecretGroups(scenario: Scenario): string[] {
  const providers = [...new Set([scenario.smsProvider, scenario.failoverProvider].filter(Boolean))];
  return [
    scenario.temporalAuth === 'mtls' ? 'temporal-mtls' : 'temporal-api-key',
    ...providers.filter((p) => p !== 'simulator').map(String),
  ];
}

/** One app's environment as Container Apps would give it: the image's ENV, then the app settings. */
export function appEnv(
  model: InfraModel,
  appName: string,
  scenario: Scenario,
  problems: string[] = [],
): Record<string, string> {
  const kind = appName === 'migrate' ? 'migrate' : model.apps[appName].kind;
  const samples = expressionSamples(model, scenario);
  const env: Record<string, string> = {
    ...dockerfileEnv(fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8')),
  };
  for (const group of model.settingGroups[kind] ?? []) {
    for (const [name, value] of Object.entries(model.settings[group] ?? {})) {
      env[name] = value.replace(/\$\{([^}]+)\}/g, (whole, expr: string) => {
        if (expr in samples) return samples[expr];
        problems.push(`${appName}: ${name} = ${whole}, which the check cannot evaluate (add a sample)`);
        return '';
      });
    }
  }
  for (const group of [...(model.secretGroups[kind] ?? []), ...optionalSecretGroups(scenario)]) {
    const secrets = model.secrets[group];
    if (!secrets) {
      problems.push(`${appName}: secret group ${group} is not defined in settings.tf`);
      continue;
    }
    for (const name of Object.keys(secrets)) env[name] = secretSample(name);
  }
  if (model.literalEnv.includes('AZURE_CLIENT_ID')) env.AZURE_CLIENT_ID = crypto.randomUUID();
  const queues = appName === 'migrate' ? null : model.apps[appName].queues;
  if (queues !== null && model.literalEnv.includes('WORKER_QUEUES')) env.WORKER_QUEUES = queues;
  return env;
}

function tryLoad(env: Record<string, string>): { config?: Config; error?: string } {
  try {
    return { config: loadConfig(env) };
  } catch (err) {
    if (err instanceof ConfigError) return { error: err.problems.join('; ') };
    throw err;
  }
}

export function checkInfra(model: InfraModel, scenario: Scenario, infra = INFRA): string[] {
  const problems: string[] = [];
  const known = configEnvNames();

  // 1. Every name infra/ sets is one loadConfig reads.
  const where: [string, string][] = [
    ...Object.entries(model.settings).flatMap(([g, m]) =>
      Object.keys(m).map((n): [string, string] => [n, `settings.${g}`]),
    ),
    ...Object.entries(model.secrets).flatMap(([g, m]) =>
      Object.keys(m).map((n): [string, string] => [n, `secrets.${g}`]),
    ),
    ...model.literalEnv.map((n): [string, string] => [n, 'an env block of container-apps/main.tf']),
  ];
  for (const [name, place] of where) {
    if (!known.has(name))
      problems.push(`${name} (${place}) is set in infra/, but loadConfig reads no such name`);
  }

  // 2. Every Key Vault secret an app references exists, and every one infra/ creates is used.
  const referenced = new Set<string>();
  for (const [group, map] of Object.entries(model.secrets)) {
    for (const [env, secret] of Object.entries(map)) {
      referenced.add(secret);
      if (!model.vaultSecrets.includes(secret)) {
        const optional = !Object.values(model.secretGroups).some((gs) => gs.includes(group));
        const created = optional ? optionalSecretGroups(scenario).includes(group) : true;
        // A group Terraform does not add in this scenario needs no secret in it.
        if (created)
          problems.push(`${env} references Key Vault secret "${secret}", which infra/ does not create`);
      }
    }
  }
  for (const secret of model.literalSecretRefs) {
    referenced.add(secret);
    if (
      !model.vaultSecrets.includes(secret) &&
      !Object.values(model.secrets).some((m) => Object.values(m).includes(secret))
    ) {
      problems.push(
        `container-apps/main.tf references Key Vault secret "${secret}", which infra/ does not create`,
      );
    }
  }
  for (const secret of model.vaultSecrets) {
    if (!referenced.has(secret)) {
      problems.push(`Key Vault secret "${secret}" is created but no app setting or scale rule reads it`);
    } else if (
      !Object.values(model.secrets).some((m) => Object.values(m).includes(secret)) &&
      !(secret in NON_APP_SECRETS)
    ) {
      problems.push(`Key Vault secret "${secret}" is not tied to a name loadConfig reads`);
    }
  }

  // 3. Each app passes loadConfig's production rules, and points where its role needs.
  for (const appName of [...Object.keys(model.apps), 'migrate']) {
    const kind = appName === 'migrate' ? 'migrate' : model.apps[appName].kind;
    const env = appEnv(model, appName, scenario, problems);
    const { config, error } = tryLoad(env);
    if (!config) {
      problems.push(`${appName}: loadConfig refuses its settings (${scenario.name}): ${error}`);
      continue;
    }
    if (config.env !== 'production') problems.push(`${appName}: NODE_ENV is ${config.env}, not production`);
    if (kind !== 'bridge' && !config.databaseUrl.startsWith('mssql://')) {
      problems.push(
        `${appName}: DATABASE_URL is ${config.databaseUrl.split(':')[0]}, not the Azure SQL database`,
      );
    }
    if (kind !== 'bridge' && env.DATABASE_AUTH !== 'azure-managed-identity') {
      problems.push(`${appName}: DATABASE_AUTH is not azure-managed-identity (no password exists)`);
    }
    if (kind !== 'migrate' && (config.temporal.address.startsWith('127.0.0.1') || !config.temporal.tls)) {
      problems.push(`${appName}: Temporal is ${config.temporal.address} without TLS, not Temporal Cloud`);
    }
    if (kind === 'bridge' && !(config.serviceBus && 'namespace' in config.serviceBus.auth)) {
      problems.push(`${appName}: no Service Bus namespace (the bridge exits without SERVICEBUS_NAMESPACE)`);
    }
    if (kind === 'api' && !config.api.publicBaseUrl.startsWith('https://')) {
      problems.push(`${appName}: PUBLIC_BASE_URL ${config.api.publicBaseUrl} is not https`);
    }
    if (!env.AZURE_CLIENT_ID) problems.push(`${appName}: AZURE_CLIENT_ID is not set (which identity to use)`);
  }

  // 4. Every worker queue role is polled by some app.
  const polled = new Set(
    Object.values(model.apps)
      .filter((a) => a.kind === 'worker')
      .flatMap((a) => (a.queues ?? '').split(',')),
  );
  for (const queue of workerConfig(workerEnv.parse({})).queues) {
    if (!polled.has(queue)) problems.push(`no worker app polls the ${queue} queue (WORKER_QUEUES)`);
  }

  // 5. The Temporal Cloud namespace registers what the workflows set.
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTE_CLI_TYPES)) {
    const declared = model.searchAttributes[name];
    if (declared !== type.toLowerCase()) {
      problems.push(
        `temporal-cloud: search attribute ${name} is ${declared ?? 'missing'}, the workflows need ${type}`,
      );
    }
  }
  for (const name of Object.keys(model.searchAttributes)) {
    if (!(name in SEARCH_ATTRIBUTE_CLI_TYPES))
      problems.push(`temporal-cloud: ${name} is not a search attribute any workflow sets`);
  }

  // 6. Service Bus: the names the bridge defaults to and the settings docs/servicebus/README.md gives.
  const emulator = JSON.parse(fs.readFileSync(path.join(ROOT, 'docs/servicebus/Config.json'), 'utf8')) as {
    UserConfig: {
      Namespaces: {
        Topics: { Name: string; Subscriptions: { Name: string; Properties: Record<string, unknown> }[] }[];
      }[];
    };
  };
  const topic = emulator.UserConfig.Namespaces[0].Topics[0];
  const subscription = topic.Subscriptions[0];
  const expected: Record<string, string> = {
    topic_name: topic.Name,
    subscription_name: subscription.Name,
    lock_duration: String(subscription.Properties.LockDuration),
    max_delivery_count: String(subscription.Properties.MaxDeliveryCount),
    // Azure's window; the emulator's file is capped at PT5M (compose.test.ts).
    duplicate_detection_window: 'PT10M',
  };
  for (const [key, value] of Object.entries(expected)) {
    if (model.servicebus[key] !== value) {
      problems.push(`servicebus: ${key} is ${model.servicebus[key] ?? 'unset'}, the bridge expects ${value}`);
    }
  }
  const bridgeDefaults = bridgeEnv.parse({});
  if (
    bridgeDefaults.SERVICEBUS_TOPIC !== topic.Name ||
    bridgeDefaults.SERVICEBUS_SUBSCRIPTION !== subscription.Name
  ) {
    problems.push(
      'servicebus: the bridge defaults name another topic or subscription than docs/servicebus/Config.json',
    );
  }

  // 7. The Prometheus rules Azure Monitor loads are the file promtool tests.
  if (!fs.existsSync(model.prometheusRulesFile)) {
    problems.push(
      `observability: prometheus_rules_file ${path.relative(infra, model.prometheusRulesFile)} does not exist`,
    );
  } else {
    const rules = parseYaml(fs.readFileSync(model.prometheusRulesFile, 'utf8')) as {
      groups: { rules: { alert: string; labels?: { severity?: string } }[] }[];
    };
    for (const rule of rules.groups.flatMap((g) => g.rules)) {
      if (!['critical', 'error', 'warning', 'info'].includes(rule.labels?.severity ?? '')) {
        problems.push(
          `observability: ${rule.alert} has severity ${rule.labels?.severity ?? 'none'}, which no Azure severity maps`,
        );
      }
    }
  }
  return problems;
}
