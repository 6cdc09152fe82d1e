import type { Knex } from 'knex';

/**
 * Delivery reports that outran their history row (issue 18): a provider may post "sent" or
 * "delivered" before its create-message call has even answered us, so before any row names the
 * message. Such a report waits here, one row per provider message, holding the best status seen,
 * until the history write takes it (db/history-repository.ts) or it ages out. A deviation from
 * seed 001 (docs/adr/0002-schema-deviations.md).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('SmsPendingDeliveryReports', (t) => {
    t.integer('ProviderNameID')
      .notNullable()
      .references('ID')
      .inTable('ProviderNames')
      .withKeyName('FK_SmsPendingDeliveryReports_ProviderNames');
    t.string('ProviderMessageID', 100).notNullable();
    // The key decides between concurrent first reports of one message: one row, merged by rank.
    t.primary(['ProviderNameID', 'ProviderMessageID'], 'PK_SmsPendingDeliveryReports');
    // Same vocabulary and widths as SmsSendHistory.DeliveryStatus / DeliveryErrorCode.
    t.string('DeliveryStatus', 20).notNullable();
    t.string('DeliveryErrorCode', 50).nullable();
    t.datetime('ReceivedAt', { precision: 3 }).notNullable();
    // Pruning deletes by age: reports for messages that never become ours must not pile up.
    t.index(['ReceivedAt'], 'IX_SmsPendingDeliveryReports_ReceivedAt');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('SmsPendingDeliveryReports');
}
