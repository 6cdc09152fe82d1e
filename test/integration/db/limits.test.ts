import type { Info } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { ActivityDeps } from '../../../activities/deps';
import { createConsentActivities } from '../../../activities/consent';
import { createHistoryActivities, type RecordHistoryInput } from '../../../activities/history';
import type { HistoryEntry } from '../../../db/history-repository';
import { loadConfig } from '../../../config';
import { createRepositories } from '../../../db';
import { DatabaseError } from '../../../db/errors';
import { dialectOf } from '../../../db/knex';
import { createRolloutControl } from '../../../rollout/sql-control';
import { compileMigrationsSql } from '../../../db/migrate';
import {
  COLUMN_LIMITS,
  CORRELATION_ID_MAX,
  ERROR_CODE_MAX,
  ORDER_NUMBER_MAX,
  VENUE_ID_MAX,
} from '../../../domain/limits';
import { createTestDatabase, historyEntry, useTestDatabase } from '../../support/db';
import { capturedLogger } from '../../support/logs';
import { rejectionOf } from '../../support/rejection';

// Real SQLite by default, real PostgreSQL with TEST_DATABASE_URL (bash scripts/ci-postgres.sh).
const db = useTestDatabase();

const ORDER_ID = '6f1c2b8e-9d7a-4c55-8a43-3f0e2d1c9b7a';
/** Every test's customer: no failure message, log line or stored error may contain these digits. */
const PHONE = '+14155550188';
const LEAKS = /4155550188|insert into|Failing row|values \(/i;

const entry = (overrides: Partial<HistoryEntry> = {}) =>
  historyEntry({
    orderId: ORDER_ID,
    orderNumber: 'A-100',
    venueId: 42,
    customerId: 'a1b2c3d4-0000-4000-8000-000000000001',
    customerPhoneNumber: PHONE,
    message: 'Hi Ada, your order A-100 is confirmed: 2 tickets. Reply STOP to opt out.',
    providerMessageId: 'SIM-1',
    correlationId: 'corr-1',
    ...overrides,
  });

describe('the columns are what domain/limits.ts says, in all three dialects', () => {
  const expected = Object.entries(COLUMN_LIMITS).flatMap(([table, columns]) =>
    Object.entries(columns).map(([column, limit]) => ({ table, column, limit })),
  );

  test('in this database (SQLite or PostgreSQL)', async () => {
    const actual: Array<{ table: string; column: string; limit: number | 'int' | string }> = [];
    for (const table of Object.keys(COLUMN_LIMITS)) {
      if (dialectOf(db.knex) === 'sqlite') {
        const rows = (await db.knex.raw(`pragma table_info("${table}")`)) as Array<{
          name: string;
          type: string;
        }>;
        for (const { name, type } of rows) {
          const width = /^varchar\((\d+)\)$/i.exec(type);
          actual.push({ table, column: name, limit: width ? Number(width[1]) : type.toLowerCase() });
        }
      } else {
        const { rows } = (await db.knex.raw(
          'select column_name, data_type, character_maximum_length from information_schema.columns where table_name = ?',
          [table],
        )) as {
          rows: Array<{ column_name: string; data_type: string; character_maximum_length: number | null }>;
        };
        for (const r of rows) {
          actual.push({
            table,
            column: r.column_name,
            limit: r.character_maximum_length ?? (r.data_type === 'integer' ? 'int' : r.data_type),
          });
        }
      }
    }
    const sqliteInt = (limit: unknown) => (limit === 'integer' ? 'int' : limit);
    for (const { table, column, limit } of expected) {
      const found = actual.find((a) => a.table === table && a.column === column);
      expect({ table, column, limit: sqliteInt(found?.limit) }).toEqual({ table, column, limit });
    }
    // And no width-limited text column is missing from the map.
    const unlisted = actual.filter(
      (a) =>
        typeof a.limit === 'number' &&
        !(COLUMN_LIMITS as Record<string, Record<string, unknown>>)[a.table]?.[a.column],
    );
    expect(unlisted).toEqual([]);
  });

  test('in the SQL Server DDL the migrations compile to', async () => {
    const sql = await compileMigrationsSql('mssql');
    for (const { table, column, limit } of expected) {
      const create = new RegExp(`\\[${column}\\] ${limit === 'int' ? 'int' : `nvarchar\\(${limit}\\)`} `);
      const statements = sql.split('\n').filter((s) => s.includes(`[${table}]`) && s.includes(`[${column}]`));
      expect({ table, column, found: statements.some((s) => create.test(s)) }).toEqual({
        table,
        column,
        found: true,
      });
    }
  });
});

describe('a value a column would refuse is refused the same way in every dialect', () => {
  test.each([
    ['OrderNumber', { orderNumber: 'x'.repeat(ORDER_NUMBER_MAX + 1) }, 'too long'],
    ['CorrelationID', { correlationId: 'c'.repeat(CORRELATION_ID_MAX + 1) }, 'too long'],
    ['VenueID', { venueId: VENUE_ID_MAX + 1 }, 'out of range'],
  ])('SmsSendHistory.%s', async (column, overrides, problem) => {
    const repos = createRepositories(db.knex);
    const written = entry(overrides);
    const err = await repos.history.record(written).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DatabaseError);
    expect((err as DatabaseError).dataError).toBe(true);
    expect((err as Error).message).toMatch(new RegExp(`${problem}.*table SmsSendHistory, column ${column}`));
    expect((err as Error).message).not.toMatch(LEAKS);
    // SQLite would have stored it: nothing was written.
    expect(await db.knex('SmsSendHistory').where({ IdempotencyKey: written.idempotencyKey })).toEqual([]);
  });

  test("a delivery callback's over-long error code is cut to its column, not refused", async () => {
    const repos = createRepositories(db.knex);
    const sent = entry({ providerMessageId: 'SIM-long-code' });
    await repos.history.record(sent);
    const update = {
      provider: 'simulator' as const,
      providerMessageId: 'SIM-long-code',
      status: 'failed' as const,
    };
    expect(await repos.history.updateDeliveryStatus({ ...update, errorCode: 'E'.repeat(80) })).toMatchObject({
      updated: 1,
    });
    const [row] = await repos.history
      .findByOrderId(ORDER_ID)
      .then((rows) => rows.filter((r) => r.idempotencyKey === sent.idempotencyKey));
    expect(row.deliveryErrorCode).toBe('E'.repeat(ERROR_CODE_MAX));
  });

  test('a consent change with an over-long correlation id touches neither consent table', async () => {
    const repos = createRepositories(db.knex);
    const err = await repos.consent
      .applyChange({
        venueId: 42,
        phoneNumber: '+14155550187',
        status: 'opted_out',
        source: 'internal_api',
        occurredAt: new Date(),
        correlationId: 'c'.repeat(CORRELATION_ID_MAX + 1),
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(DatabaseError);
    expect((err as Error).message).toMatch(/table SmsConsentChanges, column CorrelationID/);
    expect(await db.knex('SmsConsent').where({ PhoneNumber: '+14155550187' })).toEqual([]);
  });
});

describe('a data error from the database itself reaches Temporal and the logs clean', () => {
  /**
   * Stands for any constraint a row can break. PostgreSQL's CHECK failure puts the whole row, phone
   * and message included, in the error's `detail`; SQLite's trigger puts the phone in the message.
   * (`not valid`: rows other tests stored for the same customer stay.)
   */
  async function refuse(table: string, column: string): Promise<void> {
    if (dialectOf(db.knex) === 'sqlite') {
      await db.knex.raw(
        `create trigger "TR_test_${table}" before insert on "${table}" when new."${column}" = '${PHONE}' ` +
          `begin select raise(abort, 'refused ' || new."${column}"); end`,
      );
    } else {
      await db.knex.raw(
        `alter table "${table}" add constraint "CK_test_${table}" check ("${column}" <> '${PHONE}') not valid`,
      );
    }
  }

  function activityDeps() {
    const { logger, lines } = capturedLogger('limits-test');
    const unused = () => Promise.reject(new Error('not used here'));
    const repos = createRepositories(db.knex);
    const deps: ActivityDeps = {
      repos,
      providers: {},
      config: loadConfig({}),
      logger,
      rollout: createRolloutControl({ repos, cacheMs: 0 }),
      pendingConsentChanges: async () => [],
      signalConsentChange: unused,
      runClosedAt: unused,
      requestVenueNumber: unused,
    };
    return { deps, lines };
  }

  const env = (info: Partial<Info> = {}) =>
    new MockActivityEnvironment(
      { workflowExecution: { workflowId: `order-sms-${ORDER_ID}`, runId: 'run-1' }, ...info },
      { logger: new DefaultLogger('ERROR') },
    );

  const failureOf = (promise: Promise<unknown>) => rejectionOf(promise, ApplicationFailure);

  const everything = (f: ApplicationFailure) =>
    JSON.stringify({ message: f.message, details: f.details, cause: String(f.cause), stack: f.stack });

  test('recordHistory: non-retryable InvalidRecord naming the table, no phone or SQL anywhere', async () => {
    await refuse('SmsSendHistory', 'CustomerPhoneNumber');
    const { deps, lines } = activityDeps();
    const { idempotencyKey: _key, ...row } = entry();
    const input: RecordHistoryInput = { ...row, correlationId: 'corr-1' };
    const failure = await failureOf(env().run(createHistoryActivities(deps).recordHistory, input));
    expect(failure).toMatchObject({ type: 'InvalidRecord', nonRetryable: true });
    expect(failure.message).toMatch(/^SmsSendHistory record: a (check )?constraint refused the row/);
    expect(failure.message).toMatch(/\[(23514|SQLITE_CONSTRAINT_TRIGGER)\]$/);
    expect(everything(failure)).not.toMatch(LEAKS);
    const logged = lines.join('');
    expect(logged).toMatch(/the database refused the send history row/);
    expect(logged).not.toMatch(LEAKS);
  });

  test('applyConsentChange: non-retryable InvalidConsentChange, clean', async () => {
    await refuse('SmsConsent', 'PhoneNumber');
    const { deps, lines } = activityDeps();
    const failure = await failureOf(
      env({ activityId: '1' }).run(createConsentActivities(deps).applyConsentChange, {
        venueId: 42,
        phoneNumber: PHONE,
        status: 'opted_out' as const,
        source: 'internal_api' as const,
        occurredAt: new Date().toISOString(),
        correlationId: 'corr-2',
      }),
    );
    expect(failure).toMatchObject({ type: 'InvalidConsentChange', nonRetryable: true });
    expect(failure.message).toMatch(/^SmsConsent applyChange: a (check )?constraint refused the row/);
    expect(everything(failure)).not.toMatch(LEAKS);
    expect(lines.join('')).not.toMatch(LEAKS);
    // The entity skips it; the audit trail says it arrived and was refused.
    const trail = await deps.repos.consent.changes(42, PHONE, { limit: 5 });
    expect(trail.items).toEqual([
      expect.objectContaining({ outcome: 'rejected', status: 'opted_out', correlationId: 'corr-2' }),
    ]);
  });

  test('a database that is down stays retryable, and clean', async () => {
    const { deps } = activityDeps();
    const closed = await createTestDatabase({ migrate: false });
    await closed.destroy();
    deps.repos = createRepositories(closed.knex);
    const err = await env()
      .run(createConsentActivities(deps).checkConsent, {
        orderId: ORDER_ID,
        correlationId: 'corr-3',
        venueId: 42,
        phoneNumber: PHONE,
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(DatabaseError);
    expect((err as DatabaseError).dataError).toBe(false);
    expect((err as Error).message).not.toMatch(LEAKS);
  });
});
