import type { Knex } from 'knex';

/**
 * The order's claim on its SMS (issue 11, item 4): written before the first provider call, it
 * outlives Temporal's retention of the closed workflow, so an event re-driven weeks later finds
 * that its customer was texted. Also two history outcomes for what the claim and the event's age
 * decide. A deviation from seed 001 (docs/adr/0002-schema-deviations.md). Values are copied here
 * on purpose: a migration must never change after it has run.
 */
const NEW_STATUSES = [
  { ID: 5, Name: 'duplicate' },
  { ID: 6, Name: 'expired' },
];

export async function up(knex: Knex): Promise<void> {
  const createdAt = new Date('2026-11-28T00:00:00Z');
  await knex('SmsSendHistoryStatuses').insert(
    NEW_STATUSES.map((s) => ({ ...s, IsActive: true, CreatedAt: createdAt })),
  );

  await knex.schema.createTable('SmsOrderClaims', (t) => {
    t.string('OrderID', 36).notNullable();
    t.primary(['OrderID'], 'PK_SmsOrderClaims');
    t.integer('VenueID').notNullable();
    t.integer('ProviderNameID')
      .notNullable()
      .references('ID')
      .inTable('ProviderNames')
      .withKeyName('FK_SmsOrderClaims_ProviderNames');
    // The run that claimed it: a later run (a reset, a re-driven event) finding the claim is not the first.
    t.string('WorkflowID', 200).notNullable();
    t.string('RunID', 64).notNullable();
    t.datetime('ClaimedAt', { precision: 3 }).notNullable();
    t.string('ProviderMessageID', 100).nullable();
    t.datetime('SentAt', { precision: 3 }).nullable();
    t.index(['ProviderMessageID'], 'IX_SmsOrderClaims_ProviderMessageID');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('SmsOrderClaims');
  await knex('SmsSendHistoryStatuses')
    .whereIn(
      'ID',
      NEW_STATUSES.map((s) => s.ID),
    )
    .delete();
}
