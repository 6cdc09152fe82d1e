import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';

export type Dialect = 'sqlite' | 'postgres' | 'mssql';

/**
 * DATABASE_URL → knex. `sqlite:<path>` (the embedded default), `postgres://…`, `mssql://…` (SQL
 * Server through tedious, the production target).
 */
export function createKnex(databaseUrl: string): Knex {
  const sqlite = /^(?:sqlite|file):(?:\/\/)?(.+)$/.exec(databaseUrl);
  if (sqlite) {
    const filename = sqlite[1];
    if (filename !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(filename)), { recursive: true });
    return knexFactory({
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
    });
  }
  const url = new URL(databaseUrl);
  if (url.protocol === 'postgres:' || url.protocol === 'postgresql:') {
    return knexFactory({
      client: 'pg',
      connection: databaseUrl,
      pool: { min: 0, max: 10 },
      compileSqlOnError: false,
    });
  }
  if (url.protocol === 'mssql:' || url.protocol === 'sqlserver:') {
    return knexFactory({
      client: 'mssql',
      compileSqlOnError: false,
      connection: {
        server: url.hostname,
        port: url.port ? Number(url.port) : 1433,
        user: decodeURIComponent(url.username),
        password: decodeURIComponent(url.password),
        database: url.pathname.replace(/^\//, ''),
        options: {
          encrypt: url.searchParams.get('encrypt') !== 'false',
          trustServerCertificate: url.searchParams.get('trustServerCertificate') === 'true',
        },
      },
      pool: { min: 0, max: 10 },
    });
  }
  throw new Error(
    `DATABASE_URL: unsupported scheme "${url.protocol}" (use sqlite:, postgres:// or mssql://)`,
  );
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
