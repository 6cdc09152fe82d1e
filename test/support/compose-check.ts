import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { ConfigError, loadConfig, type Config } from '../../config';
import { SEARCH_ATTRIBUTE_CLI_TYPES } from '../../temporal/search-attributes';

/**
 * Static checks of docker-compose.yml against the app itself (no Docker engine here): each app
 * role's environment goes through the real config loader, and every address that config points at
 * must name a service of the file and a port that service listens on. Returns the problems found;
 * an empty list means the file holds.
 */

export const ROOT = path.resolve(__dirname, '../..');

type PortSpec = string | number | { target: number | string; published?: number | string; host_ip?: string };
type VolumeSpec = string | { type?: string; source?: string; target: string };

export interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: string[] | Record<string, { condition?: string } | null>;
  links?: string[];
  volumes_from?: string[];
  network_mode?: string;
  extends?: { service: string; file?: string };
  ports?: PortSpec[];
  expose?: (string | number)[];
  healthcheck?: { test?: string | string[]; disable?: boolean };
  volumes?: VolumeSpec[];
  restart?: string;
  stop_grace_period?: string;
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

/** The contract's production entry points (shared contracts: dist/ mirrors the source folders). */
export const ROLE_ENTRIES = [
  'dist/api/main.js',
  'dist/workers/main.js',
  'dist/bridge/main.js',
  'dist/scripts/migrate.js',
];
/** Where the Service Bus emulator reads its entities. */
export const EMULATOR_CONFIG_PATH = '/ServiceBus_Emulator/ConfigFiles/Config.json';
/** The contract's default for CODEC_CORS_ORIGINS when unset. */
const DEFAULT_CODEC_CORS_ORIGINS = 'http://localhost:8233';

// --- Interpolation (compose's own rules, the subset this file may use) ------------------------

const VARIABLE = /\$(?:(\$)|\{([^}]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g;
const BRACED = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?+])(.*))?$/s;

/** `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?message}`, `${VAR?message}`, `${VAR:+alt}`, `$$`. */
export function interpolate(
  value: string,
  vars: Record<string, string | undefined>,
  errors: string[] = [],
): string {
  return value.replace(VARIABLE, (match, dollar?: string, braced?: string, bare?: string) => {
    if (dollar) return '$';
    if (bare) return vars[bare] ?? '';
    const parts = BRACED.exec(braced ?? '');
    if (!parts || parts[4]?.includes('${')) {
      errors.push(`unsupported interpolation ${match}`);
      return '';
    }
    const [, name, colon, op, arg = ''] = parts;
    const current = vars[name];
    const unset = current === undefined || (colon === ':' && current === '');
    if (op === '-') return unset ? arg : (current ?? '');
    if (op === '?') {
      if (unset) errors.push(`${name}: ${arg || 'required'}`);
      return current ?? '';
    }
    if (op === '+') return unset ? '' : arg;
    return current ?? '';
  });
}

function interpolateTree(node: unknown, vars: Record<string, string | undefined>, errors: string[]): unknown {
  if (typeof node === 'string') return interpolate(node, vars, errors);
  if (Array.isArray(node)) return node.map((n) => interpolateTree(n, vars, errors));
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateTree(v, vars, errors)]));
  }
  return node;
}

/** Variables the file requires (`${VAR:?…}` / `${VAR?…}`): each must be documented in compose.env.example. */
export function requiredVariables(text: string): string[] {
  const names = new Set<string>();
  for (const m of text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*):?\?/g)) names.add(m[1]);
  return [...names].sort();
}

/** Parses (with `<<` merge keys, as compose reads them) and interpolates the file. */
export function loadCompose(
  text: string,
  vars: Record<string, string | undefined>,
): { compose: ComposeFile; errors: string[] } {
  const errors: string[] = [];
  const raw: unknown = parse(text, { merge: true });
  const compose = interpolateTree(raw, vars, errors) as ComposeFile;
  return { compose, errors };
}

// --- The image's own environment -------------------------------------------------------------

/** ENV of the Dockerfile's last stage: what every role gets before compose's `environment`. */
export function dockerfileEnv(dockerfile: string): Record<string, string> {
  const lines = dockerfile.replace(/\\\n/g, ' ').split('\n');
  const lastFrom = lines.map((l) => /^\s*FROM\s/i.test(l)).lastIndexOf(true);
  const env: Record<string, string> = {};
  for (const line of lines.slice(lastFrom)) {
    const m = /^\s*ENV\s+(.*)$/i.exec(line);
    if (!m) continue;
    for (const pair of m[1].matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)/g)) {
      env[pair[1]] = pair[2].replace(/^"(.*)"$/, '$1');
    }
  }
  return env;
}

// --- Service helpers --------------------------------------------------------------------------

export function serviceEnv(service: ComposeService): Record<string, string> {
  const env = service.environment;
  if (!env) return {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env
        .filter((e) => e.includes('='))
        .map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
    );
  }
  return Object.fromEntries(
    Object.entries(env)
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => [k, String(v)]),
  );
}

function dependencies(service: ComposeService): Record<string, string> {
  const deps = service.depends_on;
  if (!deps) return {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [d, 'service_started']));
  return Object.fromEntries(
    Object.entries(deps).map(([name, d]) => [name, d?.condition ?? 'service_started']),
  );
}

function dependsTransitively(
  compose: ComposeFile,
  from: string,
  to: string,
  seen = new Set<string>(),
): boolean {
  if (seen.has(from)) return false;
  seen.add(from);
  const deps = Object.keys(dependencies(compose.services[from] ?? {}));
  return deps.includes(to) || deps.some((d) => dependsTransitively(compose, d, to, seen));
}

interface PortMapping {
  target: number;
  published?: number;
  /** The host address it is published on; undefined: every interface. */
  hostIp?: string;
}

function portMappings(service: ComposeService): PortMapping[] {
  const mappings: PortMapping[] = [];
  for (const spec of service.ports ?? []) {
    if (typeof spec === 'object') {
      mappings.push({
        target: Number(spec.target),
        published: spec.published === undefined ? undefined : Number(spec.published),
        hostIp: spec.host_ip,
      });
      continue;
    }
    // [host_ip:][published:]target[/protocol]; an IPv6 host_ip is bracketed.
    const m = /^(?:(\[[^\]]+\]|[^:]+):(?=\d+:))?(?:(\d+):)?(\d+)(?:\/(?:tcp|udp))?$/.exec(String(spec));
    if (!m) continue;
    mappings.push({
      target: Number(m[3]),
      published: m[2] === undefined ? undefined : Number(m[2]),
      hostIp: m[1]?.replace(/^\[(.*)\]$/, '$1'),
    });
  }
  return mappings;
}

/** Container ports a service declares: published or exposed. */
function listensOn(service: ComposeService): Set<number> {
  return new Set([...portMappings(service).map((p) => p.target), ...(service.expose ?? []).map(Number)]);
}

/** The service and container port behind a port published on the host. */
function publishedOnHost(
  compose: ComposeFile,
  port: number,
): { service: string; target: number } | undefined {
  for (const [name, service] of Object.entries(compose.services)) {
    const mapping = portMappings(service).find((p) => p.published === port);
    if (mapping) return { service: name, target: mapping.target };
  }
  return undefined;
}

function commandWords(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value.map(String) : value.split(/\s+/).filter(Boolean);
}

function healthcheckPort(service: ComposeService): number | undefined {
  const test = service.healthcheck?.test;
  const text = Array.isArray(test) ? test.join(' ') : (test ?? '');
  const m = /https?:\/\/(?:127\.0\.0\.1|localhost|\[::1\]):(\d+)\//.exec(text);
  return m ? Number(m[1]) : undefined;
}

function durationMs(value: string | undefined, fallbackMs: number): number {
  if (!value) return fallbackMs;
  let total = 0;
  for (const [, n, unit] of value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    total += Number(n) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'm' | 'h'];
  }
  return total;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

type EmulatorProperties = Record<string, unknown>;
interface EmulatorConfig {
  UserConfig?: {
    Namespaces?: {
      Topics?: {
        Name: string;
        Properties?: EmulatorProperties;
        Subscriptions?: { Name: string; Properties?: EmulatorProperties }[];
      }[];
    }[];
  };
}

/** ISO-8601 durations as Service Bus writes them (P1D, PT1H, PT10M, PT30S), in seconds. */
function isoSeconds(value: string): number | undefined {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(value);
  if (!m || value === 'P' || value.endsWith('T')) return undefined;
  return Number(m[1] ?? 0) * 86_400 + Number(m[2] ?? 0) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
}

/**
 * The emulator's own caps, stricter than Azure's: it quits at start on a value beyond them, so a
 * window that is right for Azure (duplicate detection 10 minutes) fails the whole compose stack.
 */
const EMULATOR_CAPS: Record<string, { min: number; max: number }> = {
  DuplicateDetectionHistoryTimeWindow: { min: 20, max: 5 * 60 },
  DefaultMessageTimeToLive: { min: 1, max: 60 * 60 },
  LockDuration: { min: 5, max: 5 * 60 },
};

function emulatorRangeProblems(file: string, config: EmulatorConfig): string[] {
  const problems: string[] = [];
  const check = (entity: string, properties: EmulatorProperties = {}) => {
    for (const [name, { min, max }] of Object.entries(EMULATOR_CAPS)) {
      const value = properties[name];
      if (value === undefined) continue;
      const seconds = typeof value === 'string' ? isoSeconds(value) : undefined;
      if (seconds === undefined)
        problems.push(`${file}: ${entity} ${name} ${String(value)} is not an ISO-8601 duration`);
      else if (seconds < min || seconds > max) {
        problems.push(
          `${file}: ${entity} ${name} ${String(value)} is outside the emulator's ${min} s to ${max} s`,
        );
      }
    }
  };
  for (const topic of (config.UserConfig?.Namespaces ?? []).flatMap((n) => n.Topics ?? [])) {
    check(`topic ${topic.Name}`, topic.Properties);
    for (const sub of topic.Subscriptions ?? [])
      check(`subscription ${topic.Name}/${sub.Name}`, sub.Properties);
  }
  return problems;
}

// --- The checks -------------------------------------------------------------------------------

export interface CheckInput {
  compose: ComposeFile;
  /** The raw file text, for what interpolation hides (required variables). */
  text: string;
  dockerfile: string;
  /** compose.env.example. */
  envExample: string;
}

interface Role {
  service: string;
  entry: string;
  /** The entry's TypeScript source: which parts of the config this role reads. */
  source: string;
  rawEnv: Record<string, string>;
  config?: Config;
}

export function checkCompose({ compose, text, dockerfile, envExample }: CheckInput): string[] {
  const problems: string[] = [];
  const services = compose.services ?? {};
  const names = new Set(Object.keys(services));

  // References between services, and whether each depends_on condition can ever be met.
  for (const [name, service] of Object.entries(services)) {
    for (const [dep, condition] of Object.entries(dependencies(service))) {
      if (!names.has(dep)) {
        problems.push(`${name}: depends_on names "${dep}", which is not a service`);
        continue;
      }
      const target = services[dep];
      if (condition === 'service_healthy' && (!target.healthcheck?.test || target.healthcheck.disable)) {
        problems.push(`${name}: waits for ${dep} to be healthy, but ${dep} has no healthcheck`);
      }
      if (
        condition === 'service_completed_successfully' &&
        !/^(no|on-failure(:\d+)?)$/.test(target.restart ?? 'no')
      ) {
        problems.push(`${name}: waits for ${dep} to complete, but ${dep} restarts (${target.restart})`);
      }
    }
    const refs = [
      ...(service.links ?? []).map((l) => l.split(':')[0]),
      ...(service.volumes_from ?? []).map((v) => v.split(':')[0]),
      ...(service.extends && !service.extends.file ? [service.extends.service] : []),
      ...(service.network_mode?.startsWith('service:') ? [service.network_mode.slice(8)] : []),
    ];
    for (const ref of refs) {
      if (!names.has(ref)) problems.push(`${name}: refers to "${ref}", which is not a service`);
    }
    for (const volume of service.volumes ?? []) {
      const source = typeof volume === 'string' ? volume.split(':')[0] : volume.source;
      if (!source) continue;
      if (/^\.{1,2}\//.test(source)) {
        if (!fs.existsSync(path.join(ROOT, source)))
          problems.push(`${name}: mounts ${source}, which does not exist`);
      } else if (!source.startsWith('/') && !(source in (compose.volumes ?? {}))) {
        problems.push(`${name}: mounts volume "${source}", which is not declared under volumes`);
      }
    }
  }

  // Secrets the file requires are documented where operators fill them in (as lines to fill, not comments).
  const documented = new Set([...envExample.matchAll(/^([A-Z_][A-Z0-9_]*)=/gm)].map((m) => m[1]));
  for (const name of requiredVariables(text)) {
    if (!documented.has(name))
      problems.push(`${name} is required by docker-compose.yml but missing from compose.env.example`);
  }

  // The app roles: services built from our Dockerfile, each running one compiled entry point.
  const imageEnv = dockerfileEnv(dockerfile);
  const ourImages = new Set(
    Object.values(services)
      .filter((s) => s.build !== undefined && s.image)
      .map((s) => s.image),
  );
  const roles: Role[] = [];
  for (const [name, service] of Object.entries(services)) {
    if (service.build === undefined && !ourImages.has(service.image)) continue;
    const words = [...commandWords(service.entrypoint), ...commandWords(service.command)];
    const entry = words.find((w) => /^dist\/.+\.js$/.test(w));
    if (words[0] !== 'node' || !entry) {
      problems.push(`${name}: runs "${words.join(' ')}", not node dist/<role>.js`);
      continue;
    }
    const sourcePath = path.join(ROOT, entry.replace(/^dist\//, '').replace(/\.js$/, '.ts'));
    if (!fs.existsSync(sourcePath)) {
      problems.push(
        `${name}: runs ${entry}, but ${path.relative(ROOT, sourcePath)} does not exist to compile it from`,
      );
      continue;
    }
    const rawEnv = { ...imageEnv, ...serviceEnv(service) };
    let config: Config | undefined;
    try {
      config = loadConfig(rawEnv);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(`${name}: the app's config loader refuses its environment: ${err.problems.join('; ')}`);
    }
    roles.push({ service: name, entry, source: fs.readFileSync(sourcePath, 'utf8'), rawEnv, config });
  }
  for (const entry of ROLE_ENTRIES) {
    if (!roles.some((r) => r.entry === entry)) problems.push(`no service runs ${entry}`);
  }

  const endpoint = (who: string, what: string, host: string, port: number): void => {
    const service = services[host];
    if (!service) {
      problems.push(`${who}: ${what} names host "${host}", which is not a service of this file`);
    } else if (!listensOn(service).has(port)) {
      problems.push(
        `${who}: ${what} expects ${host} on port ${port}, which ${host} neither publishes nor exposes`,
      );
    }
  };
  const hostPort = (address: string): { host: string; port: number } => {
    const i = address.lastIndexOf(':');
    return { host: address.slice(0, i), port: Number(address.slice(i + 1)) };
  };
  /** A Temporal client service's TEMPORAL_ADDRESS: set, and naming a service that listens there. */
  const temporalAddress = (who: string, address: string | undefined): void => {
    if (!address) problems.push(`${who}: TEMPORAL_ADDRESS is not set`);
    else endpoint(who, 'TEMPORAL_ADDRESS', hostPort(address).host, hostPort(address).port);
  };

  // One-shot that registers the namespace and the search attributes.
  const setupEntry = Object.entries(services).find(([, s]) => serviceEnv(s).SEARCH_ATTRIBUTES !== undefined);
  if (!setupEntry) {
    problems.push('no service registers the search attributes (SEARCH_ATTRIBUTES)');
  } else {
    const [setupName, setup] = setupEntry;
    const env = serviceEnv(setup);
    const declared = Object.fromEntries(
      env.SEARCH_ATTRIBUTES.split(/\s+/)
        .filter(Boolean)
        .map((pair) => pair.split('=') as [string, string]),
    );
    for (const [name, type] of Object.entries(SEARCH_ATTRIBUTE_CLI_TYPES)) {
      if (declared[name] !== type) {
        problems.push(
          `${setupName}: registers ${name} as ${declared[name] ?? 'nothing'}, the workflows need ${type}`,
        );
      }
    }
    for (const name of Object.keys(declared)) {
      if (!(name in SEARCH_ATTRIBUTE_CLI_TYPES))
        problems.push(`${setupName}: registers ${name}, which no workflow uses`);
    }
    const script = commandWords(setup.command).join(' ');
    if (!script.includes('search-attribute create') || !script.includes('SEARCH_ATTRIBUTES')) {
      problems.push(`${setupName}: its command does not create the attributes listed in SEARCH_ATTRIBUTES`);
    }
    temporalAddress(setupName, env.TEMPORAL_ADDRESS);
  }

  const apiRoles = roles.filter((r) => r.source.includes('config.api.port'));
  const migrateRole = roles.find((r) => r.entry === 'dist/scripts/migrate.js');

  for (const role of roles) {
    const { service: name, config, source, rawEnv } = role;
    const service = services[name];
    if (!config) continue;

    if (source.includes('config.databaseUrl')) {
      let url: URL;
      try {
        url = new URL(config.databaseUrl);
      } catch {
        problems.push(`${name}: DATABASE_URL is not a URL (a password with / ? # or % breaks it)`);
        continue;
      }
      if (url.protocol === 'sqlite:' || url.protocol === 'file:') {
        problems.push(
          `${name}: DATABASE_URL is SQLite (${config.databaseUrl}): a container's file, shared by no other role`,
        );
      } else {
        const defaultPort = url.protocol.startsWith('postgres') ? 5432 : 1433;
        endpoint(name, 'DATABASE_URL', url.hostname, url.port ? Number(url.port) : defaultPort);
        // db/knex.ts decodes the URL's password: it must be the one the database server was given.
        const server = services[url.hostname];
        const serverPassword =
          server && serviceEnv(server)[url.protocol === 'mssql:' ? 'MSSQL_SA_PASSWORD' : 'POSTGRES_PASSWORD'];
        if (serverPassword !== undefined && decodeURIComponent(url.password) !== serverPassword) {
          problems.push(`${name}: the DATABASE_URL password is not the one ${url.hostname} was given`);
        }
        const database = url.pathname.replace(/^\//, '');
        const creator = Object.entries(services).find(([, s]) => {
          const env = serviceEnv(s);
          return env.MSSQL_DATABASE === database || env.POSTGRES_DB === database;
        });
        if (!creator) problems.push(`${name}: no service creates the database "${database}" of DATABASE_URL`);
        else if (role === migrateRole && !dependsTransitively(compose, name, creator[0])) {
          problems.push(`${name}: does not wait for ${creator[0]}, which creates the database`);
        }
        if (migrateRole && role !== migrateRole && !dependsTransitively(compose, name, migrateRole.service)) {
          problems.push(
            `${name}: reads the database but does not wait for the migrations (${migrateRole.service})`,
          );
        }
      }
    }

    if (source.includes('config.temporal')) {
      const { host, port } = hostPort(config.temporal.address);
      endpoint(name, 'TEMPORAL_ADDRESS', host, port);
      if (setupEntry) {
        const [setupName, setup] = setupEntry;
        if (serviceEnv(setup).TEMPORAL_NAMESPACE !== config.temporal.namespace) {
          problems.push(
            `${name}: uses namespace ${config.temporal.namespace}, ${setupName} sets up ${serviceEnv(setup).TEMPORAL_NAMESPACE}`,
          );
        }
        if (!dependsTransitively(compose, name, setupName)) {
          problems.push(`${name}: does not wait for ${setupName} (namespace and search attributes)`);
        }
      }
    }

    if (source.includes('config.serviceBus')) {
      const bus = config.serviceBus;
      if (!bus) {
        problems.push(
          `${name}: no Service Bus configured (${role.entry} exits without SERVICEBUS_CONNECTION_STRING or SERVICEBUS_NAMESPACE)`,
        );
      } else if ('connectionString' in bus.auth) {
        const cs = bus.auth.connectionString;
        const endpointUrl = /(?:^|;)Endpoint=([^;]+)/i.exec(cs)?.[1];
        const emulator = /(?:^|;)UseDevelopmentEmulator=true(?:;|$)/i.test(cs);
        if (!endpointUrl) {
          problems.push(`${name}: SERVICEBUS_CONNECTION_STRING has no Endpoint`);
        } else {
          const url = new URL(endpointUrl);
          // The SDK speaks AMQP over plain TCP 5672 to the emulator, TLS 5671 elsewhere.
          endpoint(
            name,
            'the Service Bus endpoint',
            url.hostname,
            url.port ? Number(url.port) : emulator ? 5672 : 5671,
          );
          const busService = services[url.hostname];
          const mount = (busService?.volumes ?? [])
            .map((v) => (typeof v === 'string' ? { source: v.split(':')[0], target: v.split(':')[1] } : v))
            .find((v) => v.target === EMULATOR_CONFIG_PATH);
          if (busService && !mount?.source) {
            problems.push(
              `${url.hostname}: mounts no ${EMULATOR_CONFIG_PATH} (the emulator's topics and subscriptions)`,
            );
          } else if (mount?.source && fs.existsSync(path.join(ROOT, mount.source))) {
            const emulatorConfig = JSON.parse(
              fs.readFileSync(path.join(ROOT, mount.source), 'utf8'),
            ) as EmulatorConfig;
            problems.push(...emulatorRangeProblems(mount.source, emulatorConfig));
            const topics = (emulatorConfig.UserConfig?.Namespaces ?? []).flatMap((n) => n.Topics ?? []);
            const topic = topics.find((t) => t.Name === bus.topic);
            if (!topic) problems.push(`${name}: topic ${bus.topic} is not in ${mount.source}`);
            else if (!(topic.Subscriptions ?? []).some((s) => s.Name === bus.subscription)) {
              problems.push(
                `${name}: subscription ${bus.subscription} of ${bus.topic} is not in ${mount.source}`,
              );
            }
          }
        }
      }
    }

    // What the role listens on, and that its healthcheck, its declared ports and its host agree.
    const listeners: [string, number][] = [];
    if (source.includes('config.api.port')) listeners.push(['PORT', config.api.port]);
    const codecListener = source.includes('config.codecEndpoint') ? config.codecEndpoint.listener : undefined;
    if (codecListener) listeners.push(['CODEC_PORT', codecListener.port]);
    if (source.includes('config.serviceBus.healthPort') && config.serviceBus) {
      listeners.push(['BRIDGE_HEALTH_PORT', config.serviceBus.healthPort]);
    }
    for (const key of ['METRICS_PORT', 'TEMPORAL_METRICS_PORT']) {
      if (rawEnv[key] === undefined || rawEnv[key] === '') continue;
      const port = Number(rawEnv[key]);
      if (port === 0 && key === 'METRICS_PORT') {
        problems.push(`${name}: METRICS_PORT=0 picks a random port nothing can scrape or health-check`);
      } else if (port !== 0) listeners.push([key, port]);
    }
    const ports = listeners.map(([, p]) => p);
    if (new Set(ports).size !== ports.length)
      problems.push(
        `${name}: two listeners share a port (${listeners.map(([k, p]) => `${k}=${p}`).join(', ')})`,
      );
    for (const [key, port] of listeners) {
      if (!listensOn(service).has(port))
        problems.push(`${name}: ${key}=${port} is neither published nor exposed`);
    }
    if (listeners.length > 0 && !['0.0.0.0', '::'].includes(config.api.host)) {
      problems.push(
        `${name}: listens on HOST=${config.api.host}, unreachable from other containers and the host`,
      );
    }
    const oneShot = /^(no|on-failure(:\d+)?)$/.test(service.restart ?? 'no');
    if (!oneShot) {
      const probe = healthcheckPort(service);
      if (probe === undefined) problems.push(`${name}: no HTTP healthcheck`);
      else if (!ports.includes(probe)) {
        problems.push(
          `${name}: its healthcheck probes port ${probe}, the role listens on ${listeners.map(([k, p]) => `${k}=${p}`).join(', ') || 'nothing'}`,
        );
      }
      if (source.includes('config.api.port') && probe !== undefined && probe !== config.api.port) {
        problems.push(`${name}: its healthcheck probes ${probe}, PORT is ${config.api.port}`);
      }
    }
    if (
      source.includes('config.api.port') &&
      !portMappings(service).some((p) => p.target === config.api.port && p.published)
    ) {
      problems.push(`${name}: PORT=${config.api.port} is not published to the host`);
    }
    if (source.includes('config.worker')) {
      const graceMs = durationMs(service.stop_grace_period, 10_000);
      if (graceMs <= config.worker.shutdownGraceMs) {
        problems.push(
          `${name}: stop_grace_period ${service.stop_grace_period ?? '10s (default)'} does not outlast WORKER_SHUTDOWN_GRACE_SECONDS (${config.worker.shutdownGraceMs / 1000} s)`,
        );
      }
    }
  }

  // Browser-side URLs: they go through the host's published ports.
  const browserUrl = (
    who: string,
    what: string,
    value: string,
    expect: (target: { service: string; target: number }) => string | undefined,
  ): void => {
    const url = new URL(value);
    if (!LOOPBACK_HOSTS.has(url.hostname)) return; // a real public name: not this file's business
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const published = publishedOnHost(compose, port);
    if (!published)
      problems.push(`${who}: ${what} ${value} points at host port ${port}, which no service publishes`);
    else {
      const wrong = expect(published);
      if (wrong)
        problems.push(`${who}: ${what} ${value} reaches ${published.service}:${published.target}, ${wrong}`);
    }
  };
  const isApi = (t: { service: string; target: number }): string | undefined => {
    const api = apiRoles.find((r) => r.service === t.service);
    if (!api?.config) return 'not the API';
    return api.config.api.port === t.target ? undefined : `the API listens on ${api.config.api.port}`;
  };
  // /codec is on its own listener when CODEC_PORT is set, else on PORT.
  const isCodec = (t: { service: string; target: number }): string | undefined => {
    const api = apiRoles.find((r) => r.service === t.service);
    if (!api?.config) return 'not the API';
    const port = api.config.codecEndpoint.listener?.port ?? api.config.api.port;
    return port === t.target ? undefined : `the API serves /codec on ${port}`;
  };

  // What providers call and sign (PUBLIC_BASE_URL, else the app's http://localhost:PORT).
  for (const role of apiRoles) {
    if (role.config) browserUrl(role.service, 'the public base URL', role.config.api.publicBaseUrl, isApi);
  }

  const uiEntry = Object.entries(services).find(([, s]) => s.image?.startsWith('temporalio/ui'));
  if (!uiEntry) problems.push('no Temporal Web UI service (temporalio/ui)');
  else {
    const [uiName, ui] = uiEntry;
    const env = serviceEnv(ui);
    temporalAddress(uiName, env.TEMPORAL_ADDRESS);
    if (!env.TEMPORAL_CODEC_ENDPOINT) problems.push(`${uiName}: TEMPORAL_CODEC_ENDPOINT is not set`);
    else {
      if (new URL(env.TEMPORAL_CODEC_ENDPOINT).pathname.replace(/\/+$/, '') !== '/codec') {
        problems.push(
          `${uiName}: TEMPORAL_CODEC_ENDPOINT ${env.TEMPORAL_CODEC_ENDPOINT} is not the API's /codec`,
        );
      }
      browserUrl(uiName, 'TEMPORAL_CODEC_ENDPOINT', env.TEMPORAL_CODEC_ENDPOINT, isCodec);
    }
    for (const role of apiRoles) {
      if (role.config) problems.push(...codecProblems(uiName, env, role, services[role.service]));
    }
    // The browser calls /codec from the UI's origin: the API must allow it (CORS).
    const uiPort = Number(env.TEMPORAL_UI_PORT ?? 8080);
    const origins = portMappings(ui)
      .filter((p) => p.target === uiPort && p.published)
      .map((p) => `http://localhost:${p.published}`);
    if (origins.length === 0) problems.push(`${uiName}: its port ${uiPort} is not published to the host`);
    for (const role of apiRoles) {
      const allowed = (role.rawEnv.CODEC_CORS_ORIGINS ?? DEFAULT_CODEC_CORS_ORIGINS)
        .split(',')
        .map((o) => o.trim());
      for (const origin of origins) {
        if (!allowed.includes(origin))
          problems.push(`${role.service}: CODEC_CORS_ORIGINS lacks the Web UI's origin ${origin}`);
      }
    }
  }

  return problems;
}

/**
 * Whether the UI can decode with the API's CODEC_AUTH, and whether `none` stays on this host: the
 * config loader accepts a 0.0.0.0 codec listener only on the deployer's word
 * (CODEC_PUBLISHED_ON_LOOPBACK_ONLY); this file is where that word is checked.
 */
function codecProblems(
  uiName: string,
  uiEnv: Record<string, string>,
  role: Role,
  service: ComposeService,
): string[] {
  const { auth, listener } = role.config!.codecEndpoint;
  const name = role.service;
  if (auth.mode === 'bearer') {
    return [
      `${uiName} cannot decode: ${name} has CODEC_AUTH=bearer, and the Web UI never sends the API token`,
    ];
  }
  if (auth.mode === 'oidc') {
    return uiEnv.TEMPORAL_CODEC_PASS_ACCESS_TOKEN === 'true'
      ? []
      : [
          `${uiName} cannot decode: ${name} has CODEC_AUTH=oidc, but TEMPORAL_CODEC_PASS_ACCESS_TOKEN is not true`,
        ];
  }
  if (auth.why !== 'loopback' || !listener) return [];
  return portMappings(service)
    .filter((p) => p.target === listener.port && p.published !== undefined)
    .filter((p) => !p.hostIp || !['127.0.0.1', '::1', 'localhost'].includes(p.hostIp))
    .map(
      (p) =>
        `${name}: CODEC_AUTH=none, but CODEC_PORT ${listener.port} is published on ${p.hostIp ?? 'every host interface'}: publish it as 127.0.0.1:${p.published}:${listener.port}`,
    );
}

/** The repository's files, read fresh. */
export function readRepoFiles(): { text: string; dockerfile: string; envExample: string } {
  const read = (file: string): string => fs.readFileSync(path.join(ROOT, file), 'utf8');
  return {
    text: read('docker-compose.yml'),
    dockerfile: read('Dockerfile'),
    envExample: read('compose.env.example'),
  };
}
