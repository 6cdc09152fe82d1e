import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { HistoryEntry } from '../../db/history-repository';
import { createKnex } from '../../db/knex';
import { migrateLatest } from '../../db/migrate';
import { orderWorkflowId } from '../../temporal/ids';
import { useResource } from './lifecycle';

/** TEST_DATABASE_URL (PostgreSQL in CI's second pass) or, by default, SQLite. */
export function testDatabaseUrl(): string {
  return process.env.TEST_DATABASE_URL ?? 'sqlite:';
}

export interface TestDatabase {
  knex: Knex;
  /** A DATABASE_URL another process (a spawned worker) can open. */
  url: string;
  destroy(): Promise<void>;
}

/** An isolated database per call: a temp SQLite file, or a fresh PostgreSQL database. */
export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const base = testDatabaseUrl();
  let url: string;
  let cleanup: () => Promise<void>;
  if (base.startsWith('sqlite:')) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sms-db-'));
    url = `sqlite:${path.join(dir, 'test.sqlite')}`;
    cleanup = async () => fs.rmSync(dir, { recursive: true, force: true });
  } else {
    const name = `test_${randomBytes(6).toString('hex')}`;
    const admin = createKnex(base);
    await admin.raw(`create database ${name}`);
    await admin.destroy();
    const u = new URL(base);
    u.pathname = `/${name}`;
    url = u.toString();
    cleanup = async () => {
      const again = createKnex(base);
      try {
        await dropPostgresDatabase(again, name);
      } finally {
        await again.destroy();
      }
    };
  }
  const knex = createKnex(url);
  if (options.migrate !== false) await migrateLatest(knex);
  return {
    knex,
    url,
    async destroy() {
      await knex.destroy();
      await cleanup();
    },
  };
}

/** SQLSTATE object_in_use: "database is being accessed by other users". */
const OBJECT_IN_USE = '55006';
/** Each DROP DATABASE waits up to 5 s for the other sessions to leave; this many tries, at most. */
const DROP_TRIES = 6;

/**
 * Drops a test database that other sessions may still hold: a worker process the test killed, or an
 * autovacuum worker. `WITH (FORCE)` is no good here: it refuses to end a session of a role the test
 * user is not a member of, and an autovacuum worker has no role at all ("must be a member of the
 * role whose process is being terminated"). So: no new connections, our own role's sessions ended,
 * then a plain DROP, which cancels autovacuum by itself and waits for sessions that are going away.
 */
async function dropPostgresDatabase(admin: Knex, name: string): Promise<void> {
  await admin.raw(`alter database ${name} allow_connections false`);
  for (let attempt = 1; ; attempt++) {
    await admin.raw(
      `select pg_terminate_backend(pid) from pg_stat_activity
        where datname = ? and usename = current_user and pid <> pg_backend_pid()`,
      [name],
    );
    try {
      await admin.raw(`drop database if exists ${name}`);
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== OBJECT_IN_USE || attempt >= DROP_TRIES) throw err;
    }
  }
}

/** The enclosing suite's own database (createTestDatabase), created in beforeAll and destroyed after. */
export function useTestDatabase(options: { migrate?: boolean } = {}): TestDatabase {
  return useResource(
    () => createTestDatabase(options),
    (db) => db.destroy(),
  );
}

/**
 * The history row a fresh order's recordHistory writes once its provider (the simulator unless
 * given) accepted it, for a fresh order and customer; override any field.
 */
export function historyEntry(overrides: Partial<HistoryEntry> = {}): HistoryEntry {
  const orderId = overrides.orderId ?? randomUUID();
  return {
    idempotencyKey: `${orderWorkflowId(orderId)}/${randomUUID()}`,
    orderId,
    orderNumber: null,
    venueId: 1,
    venuePhoneNumberId: null,
    customerId: randomUUID(),
    customerPhoneNumber: '+15550004101',
    message: 'Thanks for your order',
    provider: 'simulator',
    status: 'sent',
    providerMessageId: null,
    errorCode: null,
    errorMessage: null,
    correlationId: null,
    ...overrides,
  };
}
