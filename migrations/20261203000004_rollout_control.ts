import type { Knex } from 'knex';

/**
 * Rollout control (issue 21, docs/adr/0014-rollout-control.md): the SMS flag's definition, its
 * per-venue overrides, the pauses in force, and an audit row for every change to any of them. Also
 * the history outcome of an order whose venue is switched off. A deviation from seed 001
 * (docs/adr/0002-schema-deviations.md). Values are copied here on purpose: a migration must never
 * change after it has run.
 *
 * No row for the flag means on for every venue (100 %): an install that never touches the flag
 * sends as it did before this table existed.
 */
const NEW_STATUSES = [{ ID: 7, Name: 'skipped_disabled' }];

export async function up(knex: Knex): Promise<void> {
  const createdAt = new Date('2026-12-03T00:00:00Z');
  await knex('SmsSendHistoryStatuses').insert(
    NEW_STATUSES.map((s) => ({ ...s, IsActive: true, CreatedAt: createdAt })),
  );

  await knex.schema.createTable('RolloutFlags', (t) => {
    t.string('FlagKey', 100).notNullable();
    t.primary(['FlagKey'], 'PK_RolloutFlags');
    // The global switch: off wins over every override and bucket.
    t.boolean('Enabled').notNullable();
    // Whole percent of venues, by their stable bucket; 0..100, checked by the API and here.
    t.integer('RolloutPercent').notNullable();
    t.datetime('UpdatedAt', { precision: 3 }).notNullable();
    t.string('UpdatedBy', 200).notNullable();
    t.check('?? >= 0 and ?? <= 100', ['RolloutPercent', 'RolloutPercent'], 'CK_RolloutFlags_Percent');
  });

  await knex.schema.createTable('RolloutVenueOverrides', (t) => {
    t.string('FlagKey', 100).notNullable();
    t.integer('VenueID').notNullable();
    t.primary(['FlagKey', 'VenueID'], 'PK_RolloutVenueOverrides');
    t.boolean('Enabled').notNullable();
    t.string('Reason', 500).notNullable();
    t.datetime('UpdatedAt', { precision: 3 }).notNullable();
    t.string('UpdatedBy', 200).notNullable();
  });

  // Active pauses only: lifting one deletes its row (the audit keeps it). ScopeKey ("global",
  // "provider:twilio", "venue:42") is the key because a unique index over nullable provider and
  // venue columns treats NULLs differently on SQL Server than on PostgreSQL and SQLite.
  await knex.schema.createTable('RolloutPauses', (t) => {
    t.string('ScopeKey', 50).notNullable();
    t.primary(['ScopeKey'], 'PK_RolloutPauses');
    t.string('Scope', 20).notNullable();
    t.integer('ProviderNameID')
      .nullable()
      .references('ID')
      .inTable('ProviderNames')
      .withKeyName('FK_RolloutPauses_ProviderNames');
    t.integer('VenueID').nullable();
    t.string('Reason', 500).notNullable();
    t.string('PausedBy', 200).notNullable();
    t.datetime('PausedAt', { precision: 3 }).notNullable();
  });

  await knex.schema.createTable('RolloutAudit', (t) => {
    t.increments('ID');
    t.datetime('ChangedAt', { precision: 3 }).notNullable();
    t.string('ChangedBy', 200).notNullable();
    // The API request that made the change (its X-Request-Id), to find its log lines.
    t.string('RequestID', 100).nullable();
    // What changed: "flag:order-confirmation-sms", "flag:order-confirmation-sms:venue:42", "pause:global"…
    t.string('Subject', 200).notNullable();
    t.string('Action', 50).notNullable();
    // JSON of the state before and after; null for "did not exist" / "removed".
    t.text('FromValue').nullable();
    t.text('ToValue').nullable();
    t.string('Reason', 500).notNullable();
    t.index(['ChangedAt'], 'IX_RolloutAudit_ChangedAt');
    t.index(['Subject', 'ChangedAt'], 'IX_RolloutAudit_Subject');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('RolloutAudit');
  await knex.schema.dropTable('RolloutPauses');
  await knex.schema.dropTable('RolloutVenueOverrides');
  await knex.schema.dropTable('RolloutFlags');
  await knex('SmsSendHistoryStatuses')
    .whereIn(
      'ID',
      NEW_STATUSES.map((s) => s.ID),
    )
    .delete();
}
