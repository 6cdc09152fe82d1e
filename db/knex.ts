import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';

export type Dialect = 'sqlite' | 'postgres' | 'mssql';

/**
 * How the process logs in (DATABASE_AUTH): the user and password in DATABASE_URL, or, on SQL
 * Server, an Entra ID identity whose token tedious fetches through @azure/identity.
 */
export type DatabaseAuth =
  | { kind: 'password' }
  /** A user-assigned identity's client id; the system-assigned identity without one. */
  | { kind: 'azure-managed-identity'; clientId?: string }
  | { kind: 'azure-service-principal'; clientId: string; tenantId: string; clientSecret: string };

const PASSWORD: DatabaseAuth = { kind: 'password' };

/**
 * DATABASE_URL → knex. `sqlite:<path>` (the embedded default), `postgres://…`, `mssql://…` (SQL
 * Server through tedious, the production target).
 */
export function createKnex(databaseUrl: string, auth: DatabaseAuth = PASSWORD): Knex {
  return knexFactory(knexConfig(databaseUrl, auth));
}

/** The knex configuration createKnex uses; knex's mssql client turns `connection` into tedious' own. */
export function knexConfig(databaseUrl: string, auth: DatabaseAuth = PASSWORD): Knex.Config {
  const sqlite = /^(?:sqlite|file):(?:\/\/)?(.+)$/.exec(databaseUrl);
  if (sqlite) {
    const filename = sqlite[1];
    if (filename !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(filename)), { recursive: true });
    refuseEntra(auth, 'sqlite');
    return {
      client: 'better-sqlite3',
      connection: { filename },
      compileSqlOnError: false,
      useNullAsDefault: true,
      pool: {
        // The worker and the API are separate processes sharing the file.
        afterCreate: (
          conn: { pragma(sql: string): unknown },
          done: (err: Error | null, conn: unknown) => void,
        ) => {
          conn.pragma('journal_mode = WAL');
          conn.pragma('busy_timeout = 5000');
          conn.pragma('foreign_keys = ON');
          done(null, conn);
        },
      },
    };
  }
  const url = new URL(databaseUrl);
  if (url.protocol === 'postgres:' || url.protocol === 'postgresql:') {
    refuseEntra(auth, 'postgres');
    return {
      client: 'pg',
      connection: databaseUrl,
      pool: { min: 0, max: 10 },
      compileSqlOnError: false,
    };
  }
  if (url.protocol === 'mssql:' || url.protocol === 'sqlserver:') {
    const common = {
      server: url.hostname,
      port: url.port ? Number(url.port) : 1433,
      database: url.pathname.replace(/^\//, ''),
      options: {
        encrypt: url.searchParams.get('encrypt') !== 'false',
        trustServerCertificate: url.searchParams.get('trustServerCertificate') === 'true',
      },
    };
    return {
      client: 'mssql',
      compileSqlOnError: false,
      connection: mssqlLogin(auth, url, common),
      pool: { min: 0, max: 10 },
    };
  }
  throw new Error(
    `DATABASE_URL: unsupported scheme "${url.protocol}" (use sqlite:, postgres:// or mssql://)`,
  );
}

/**
 * knex's mssql client reads the login from the connection's top level (`type`, `clientId`, …) and
 * builds tedious' `authentication: { type, options }` from it.
 */
function mssqlLogin(
  auth: DatabaseAuth,
  url: URL,
  common: Omit<Knex.MsSqlConnectionConfigBase, 'type'>,
): Knex.MsSqlConnectionConfig {
  switch (auth.kind) {
    case 'password':
      return {
        ...common,
        userName: decodeURIComponent(url.username),
        password: decodeURIComponent(url.password),
      };
    case 'azure-managed-identity':
      // tedious 19 gets the token from @azure/identity's ManagedIdentityCredential, which finds the
      // endpoint itself (Container Apps' and App Service's IDENTITY_ENDPOINT, or a VM's IMDS).
      return {
        ...common,
        type: 'azure-active-directory-msi-app-service',
        ...(auth.clientId ? { clientId: auth.clientId } : {}),
      };
    case 'azure-service-principal':
      return {
        ...common,
        type: 'azure-active-directory-service-principal-secret',
        clientId: auth.clientId,
        tenantId: auth.tenantId,
        clientSecret: auth.clientSecret,
      };
  }
}

/** loadConfig refuses this first; here so that a caller that skipped it fails as clearly. */
function refuseEntra(auth: DatabaseAuth, dialect: Dialect): void {
  if (auth.kind !== 'password') {
    throw new Error(`DATABASE_AUTH=${auth.kind} is for SQL Server (mssql://), not ${dialect}`);
  }
}

export function dialectOf(knex: Knex): Dialect {
  const client = String(knex.client.config.client);
  if (client.includes('sqlite')) return 'sqlite';
  if (client === 'pg' || client.includes('postgres')) return 'postgres';
  return 'mssql';
}

export { isDataError, isUniqueViolation } from './errors';

/** For logs: the URL without its password. */
export function redactDatabaseUrl(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return databaseUrl;
  }
}

/** Dates come back as Date (pg, mssql) or as the epoch milliseconds knex stored (SQLite). */
export function toDate(value: unknown): Date {
  if (value instanceof Date) return value;
  if (typeof value === 'number') return new Date(value);
  if (typeof value === 'string' && /^\d+$/.test(value)) return new Date(Number(value));
  return new Date(String(value));
}

export function toDateOrNull(value: unknown): Date | null {
  return value === null || value === undefined ? null : toDate(value);
}

export const nullable = (v: unknown) => (v == null ? null : String(v));
