import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { HistoryEntry } from '../../db/history-repository';
import { createKnex } from '../../db/knex';
import { migrateLatest } from '../../db/migrate';
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
      await again.raw(`drop database if exists ${name} with (force)`);
      await again.destroy();
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

/** The enclosing suite's own database (createTestDatabase), created in beforeAll and destroyed after. */
export function useTestDatabase(options: { migrate?: boolean } = {}): TestDatabase {
  return useResource(
    () => createTestDatabase(options),
    (db) => db.destroy(),
  );
}

/** A sent simulator history row for a fresh order and customer, as a run records it; override any field. */
export function historyEntry(overrides: Partial<HistoryEntry> = {}): HistoryEntry {
  const orderId = overrides.orderId ?? randomUUID();
  return {
    idempotencyKey: `order-sms-${orderId}/${randomUUID()}`,
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
