import { ENUM_TABLE_IDS } from '../../../db/enum-ids';
import { dialectOf, isUniqueViolation } from '../../../db/knex';
import { migrateDownAll, migrateLatest } from '../../../db/migrate';
import { MIGRATIONS, migrationSource } from '../../../migrations';
import { useTestDatabase } from '../../support/db';

const BUSINESS_TABLES = [
  'VenuePhoneNumbers',
  'SmsConsent',
  'SmsSendHistory',
  'SmsConsentChanges',
  'SmsOrderClaims',
  'SmsPendingDeliveryReports',
  'SmsRecipientLeases',
  'WebhookNonces',
  'RolloutFlags',
  'RolloutVenueOverrides',
  'RolloutPauses',
  'RolloutAudit',
];
const ROLLOUT_TABLES = ['RolloutFlags', 'RolloutVenueOverrides', 'RolloutPauses', 'RolloutAudit'];
const AUDIT_TABLES = ['SmsConsentChangeOutcomes', 'SmsConsentChanges'];
const migrationConfig = { migrationSource, tableName: 'knex_migrations' };
const ALL_TABLES = [...Object.keys(ENUM_TABLE_IDS), ...BUSINESS_TABLES];

const db = useTestDatabase({ migrate: false });

async function existingTables(): Promise<string[]> {
  const present = await Promise.all(
    ALL_TABLES.map(async (t) => ((await db.knex.schema.hasTable(t)) ? t : null)),
  );
  return present.filter((t): t is string => t !== null);
}

test(`migrations run up, down and up again on ${process.env.TEST_DATABASE_URL ? 'PostgreSQL' : 'SQLite'}`, async () => {
  expect(await migrateLatest(db.knex)).toEqual(Object.keys(MIGRATIONS));
  expect(await existingTables()).toEqual(ALL_TABLES);

  await migrateDownAll(db.knex);
  expect(await existingTables()).toEqual([]);

  expect(await migrateLatest(db.knex)).toEqual(Object.keys(MIGRATIONS));
  expect(await existingTables()).toEqual(ALL_TABLES);
  expect(await migrateLatest(db.knex)).toEqual([]);
});

test('enum tables hold the seed values with the ids the repositories use', async () => {
  for (const [table, ids] of Object.entries(ENUM_TABLE_IDS)) {
    const rows: Array<{ ID: number; Name: string }> = await db.knex(table).select('ID', 'Name').orderBy('ID');
    expect({ table, rows: rows.map((r) => [Number(r.ID), r.Name]) }).toEqual({
      table,
      rows: ids.names.map((name: string) => [ids.id(name as never), name]),
    });
  }
});

test('foreign keys refuse a status id that does not exist', async () => {
  const now = new Date();
  // Compared as text: `rejects.toThrow` on the knex builder intermittently reported "did not throw"
  // for better-sqlite3's native error while the insert had in fact been refused.
  const outcome = await db
    .knex('SmsConsent')
    .insert({
      VenueID: 1,
      PhoneNumber: '+15555550100',
      StatusID: 99,
      LastChangeAt: now,
      CreatedAt: now,
      UpdatedAt: now,
    })
    .then(
      () => 'inserted',
      (err: unknown) => String(err),
    );
  expect(outcome).toMatch(/foreign key/i);
});

test('the dialect under test is the one asked for', () => {
  expect(dialectOf(db.knex)).toBe(process.env.TEST_DATABASE_URL ? 'postgres' : 'sqlite');
});

test('the newer migrations go down one at a time and come back', async () => {
  await migrateLatest(db.knex);
  const down = async () => ((await db.knex.migrate.down(migrationConfig)) as [number, string[]])[1];
  expect(await down()).toEqual(['20261203000004_rollout_control']);
  expect(await existingTables()).toEqual(ALL_TABLES.filter((t) => !ROLLOUT_TABLES.includes(t)));
  expect(await db.knex('SmsSendHistoryStatuses').max('ID as max').first()).toMatchObject({ max: 6 });
  expect(await down()).toEqual(['20261203000003_webhook_nonces']);
  expect(await existingTables()).toEqual(
    ALL_TABLES.filter((t) => t !== 'WebhookNonces' && !ROLLOUT_TABLES.includes(t)),
  );
  expect(await down()).toEqual(['20261203000002_recipient_leases']);
  expect(await existingTables()).toEqual(
    ALL_TABLES.filter(
      (t) => t !== 'SmsRecipientLeases' && t !== 'WebhookNonces' && !ROLLOUT_TABLES.includes(t),
    ),
  );
  expect(await db.knex.schema.hasColumn('SmsOrderClaims', 'FromNumber')).toBe(false);
  expect(await down()).toEqual(['20261203000001_delivery_reports']);
  const newer = ['SmsRecipientLeases', 'SmsPendingDeliveryReports', 'WebhookNonces', ...ROLLOUT_TABLES];
  expect(await existingTables()).toEqual(ALL_TABLES.filter((t) => !newer.includes(t)));
  expect(await down()).toEqual(['20261128000003_order_claims']);
  expect(await existingTables()).toEqual(
    ALL_TABLES.filter((t) => t !== 'SmsOrderClaims' && !newer.includes(t)),
  );
  expect(await db.knex('SmsSendHistoryStatuses').max('ID as max').first()).toMatchObject({ max: 4 });
  expect(await down()).toEqual(['20261128000002_delivery_status']);
  expect(await db.knex.schema.hasColumn('SmsSendHistory', 'DeliveryStatus')).toBe(false);
  expect(await down()).toEqual(['20261128000001_consent_audit']);
  expect(await existingTables()).toEqual(
    ALL_TABLES.filter((t) => !AUDIT_TABLES.includes(t) && t !== 'SmsOrderClaims' && !newer.includes(t)),
  );
  expect(await migrateLatest(db.knex)).toEqual([
    '20261128000001_consent_audit',
    '20261128000002_delivery_status',
    '20261128000003_order_claims',
    '20261203000001_delivery_reports',
    '20261203000002_recipient_leases',
    '20261203000003_webhook_nonces',
    '20261203000004_rollout_control',
  ]);
  expect(await existingTables()).toEqual(ALL_TABLES);
  expect(await db.knex.schema.hasColumn('SmsSendHistory', 'DeliveryStatus')).toBe(true);
  expect(await db.knex.schema.hasColumn('SmsOrderClaims', 'FromNumber')).toBe(true);
});

test('SmsConsentChanges.ChangeID is unique when set, and any number of rows may have none', async () => {
  const row = (changeId: string | null) => ({
    VenueID: 1,
    PhoneNumber: '+15555550101',
    StatusID: 1,
    ConsentSourceID: 1,
    OccurredAt: new Date(),
    ReceivedAt: new Date(),
    OutcomeID: 1,
    ChangeID: changeId,
    CreatedAt: new Date(),
  });
  await db.knex('SmsConsentChanges').insert([row(null), row(null), row('wf/run/1')]);
  const outcome = await db
    .knex('SmsConsentChanges')
    .insert(row('wf/run/1'))
    .then(
      () => 'inserted',
      (err: unknown) => (isUniqueViolation(err) ? 'unique violation' : String(err)),
    );
  expect(outcome).toBe('unique violation');
  const unknownOutcome = await db
    .knex('SmsConsentChanges')
    .insert({ ...row(null), OutcomeID: 99 })
    .then(
      () => 'inserted',
      (err: unknown) => String(err),
    );
  expect(unknownOutcome).toMatch(/foreign key/i);
});
