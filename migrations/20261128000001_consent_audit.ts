import type { Knex } from 'knex';

/**
 * The consent audit trail (issue 10, item 6): one row per consent change the consent entity
 * handled, applied or ignored. A deviation from seed 001, recorded in
 * docs/adr/0002-schema-deviations.md. Values are copied here on purpose, as in the first migration:
 * a migration must never change after it has run.
 */
const OUTCOMES = ['applied', 'duplicate', 'stale', 'rejected'];

export async function up(knex: Knex): Promise<void> {
  // The same conventions as 20261123000001/2: datetime(precision 3), FK names FK_<owner>_<table>.
  const timestamp = (t: Knex.CreateTableBuilder, name: string) => t.datetime(name, { precision: 3 });
  const lookup = (t: Knex.CreateTableBuilder, column: string, table: string, owner: string) =>
    t.integer(column).references('ID').inTable(table).withKeyName(`FK_${owner}_${table}`);

  // An enum table like the five of seed 001: fixed ids, so code maps names to ids without a query.
  await knex.schema.createTable('SmsConsentChangeOutcomes', (t) => {
    t.integer('ID').notNullable();
    t.primary(['ID'], 'PK_SmsConsentChangeOutcomes');
    t.string('Name', 30).notNullable().unique({ indexName: 'UX_SmsConsentChangeOutcomes_Name' });
    t.boolean('IsActive').notNullable().defaultTo(true);
    timestamp(t, 'CreatedAt').notNullable();
  });
  const createdAt = new Date('2026-11-28T00:00:00Z');
  await knex('SmsConsentChangeOutcomes').insert(
    OUTCOMES.map((Name, i) => ({ ID: i + 1, Name, IsActive: true, CreatedAt: createdAt })),
  );

  await knex.schema.createTable('SmsConsentChanges', (t) => {
    // bigint like SmsSendHistory: an append-only log outgrows int before SmsConsent does.
    t.bigIncrements('ID');
    t.integer('VenueID').notNullable();
    t.string('PhoneNumber', 20).notNullable();
    lookup(t, 'StatusID', 'SmsConsentStatuses', 'SmsConsentChanges').notNullable();
    lookup(t, 'ConsentSourceID', 'ConsentSources', 'SmsConsentChanges').notNullable();
    lookup(t, 'ProviderNameID', 'ProviderNames', 'SmsConsentChanges').nullable();
    t.string('ProviderMessageID', 100).nullable();
    // When the change happened at its source (the STOP text), and when the service acknowledged it.
    timestamp(t, 'OccurredAt').notNullable();
    timestamp(t, 'ReceivedAt').notNullable();
    lookup(t, 'OutcomeID', 'SmsConsentChangeOutcomes', 'SmsConsentChanges').notNullable();
    t.string('CorrelationID', 100).nullable();
    // Set by the consent entity's activity (<workflowId>/<runId>/<activityId>): a retried write
    // finds the row its earlier attempt stored. Null for writers that have no stable id.
    t.string('ChangeID', 200).nullable();
    timestamp(t, 'CreatedAt').notNullable();
    t.index(['VenueID', 'PhoneNumber', 'OccurredAt'], 'IX_SmsConsentChanges_Venue_Phone_OccurredAt');
    // Filtered: SQL Server's unique index would otherwise admit a single NULL.
    t.unique(['ChangeID'], {
      indexName: 'UX_SmsConsentChanges_ChangeID',
      useConstraint: false,
      predicate: knex.whereNotNull('ChangeID'),
    });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('SmsConsentChanges');
  await knex.schema.dropTable('SmsConsentChangeOutcomes');
}
