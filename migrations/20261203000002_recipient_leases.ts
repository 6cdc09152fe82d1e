import type { Knex } from 'knex';

/**
 * At most one unresolved send per recipient (docs/adr/0012-one-unresolved-send-per-recipient.md):
 * an order holds (venue number, customer) from before its provider call until the call's outcome
 * is known, so reconciliation after an ambiguous failure has one candidate. And the claim records
 * the number the order's latest attempt went out from, which reconciliation looks from. Deviations
 * from seed 001 (docs/adr/0002-schema-deviations.md).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('SmsRecipientLeases', (t) => {
    t.string('SenderNumber', 20).notNullable();
    t.string('RecipientNumber', 20).notNullable();
    t.primary(['SenderNumber', 'RecipientNumber'], 'PK_SmsRecipientLeases');
    t.string('OrderID', 36).notNullable();
    // The holder's run: once its history row exists, the run is over and the hold is stale.
    t.string('WorkflowID', 200).notNullable();
    t.string('RunID', 64).notNullable();
    t.datetime('AcquiredAt', { precision: 3 }).notNullable();
    // Touched by every attempt of the holder: a hold nobody touches for hours was abandoned.
    t.datetime('HeldAt', { precision: 3 }).notNullable();
    // Set when the hold was taken over from a holder that never resolved: messages accepted before
    // it are that holder's, so the new holder's reconciliation never looks before it.
    t.datetime('NotBefore', { precision: 3 }).nullable();
    t.index(['OrderID'], 'IX_SmsRecipientLeases_OrderID');
  });
  await knex.schema.alterTable('SmsOrderClaims', (t) => {
    t.string('FromNumber', 20).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('SmsOrderClaims', (t) => {
    t.dropColumn('FromNumber');
  });
  await knex.schema.dropTable('SmsRecipientLeases');
}
