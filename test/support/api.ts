import type { FastifyInstance } from 'fastify';
import { buildApp, type ApiDeps } from '../../api/app';
import { createLogger } from '../../config/logger';
import { useResource } from './lifecycle';
import type { TestWorkers } from './workers';

export interface TestApiOptions extends Partial<Omit<ApiDeps, 'config' | 'logger'>> {
  /** The bearer token the routes require. */
  token: string;
  /** The logger's name, for runs with TEST_LOG_LEVEL set. */
  logName: string;
  /** The URL providers call and sign (PUBLIC_BASE_URL); http://localhost unless given. */
  publicBaseUrl?: string;
  /** The workers this API shares a database and an order queue with; their settings fill what is not given. */
  workers?: Pick<TestWorkers, 'config' | 'repos' | 'consentEntities'>;
  /** Config beside `api`: the SMS settings (the workers' unless given) and provider webhook secrets. */
  config?: Partial<Omit<ApiDeps['config'], 'api'>>;
}

/**
 * The API as every API test builds it (on 127.0.0.1 with a bearer token, a quiet logger, no
 * readiness checks unless given, version 'test'), so a test names only what it is about.
 */
export function buildTestApi(options: TestApiOptions): Promise<FastifyInstance> {
  const { token, logName, publicBaseUrl = 'http://localhost', workers, config, ...deps } = options;
  const sms = config?.sms ?? workers?.config.sms;
  const repos = deps.repos ?? workers?.repos;
  const temporal = deps.temporal ?? workers?.consentEntities;
  if (!sms || !repos || !temporal)
    throw new Error('buildTestApi needs `workers`, or sms, repos and temporal');
  return buildApp({
    readinessChecks: {},
    version: 'test',
    ...deps,
    config: { ...config, api: { host: '127.0.0.1', port: 0, token, publicBaseUrl, trustProxy: false }, sms },
    logger: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent', name: logName }),
    repos,
    temporal,
  });
}

/** The enclosing suite's `buildTestApi`, built in beforeAll (`options` read then) and closed after. */
export function useTestApi(options: () => TestApiOptions): FastifyInstance {
  return useResource(
    () => buildTestApi(options()),
    (app) => app.close(),
  );
}
