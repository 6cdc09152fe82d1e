import type { Knex } from 'knex';

/**
 * Delivery status from the providers' callbacks (POST /webhooks/<provider>/status), on the history
 * row of the send. Nullable: skipped and blocked rows never get one, and a sent row has none until
 * the first callback. Callbacks find their row by ProviderMessageID, hence the index.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('SmsSendHistory', (t) => {
    // queued | sent | delivered | undelivered | failed (domain/delivery-status.ts); a plain string,
    // not an enum table: the values are ours and ranked in code.
    t.string('DeliveryStatus', 20).nullable();
    t.string('DeliveryErrorCode', 50).nullable();
    t.datetime('DeliveryUpdatedAt', { precision: 3 }).nullable();
    t.index(['ProviderMessageID'], 'IX_SmsSendHistory_ProviderMessageID');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('SmsSendHistory', (t) => {
    t.dropIndex(['ProviderMessageID'], 'IX_SmsSendHistory_ProviderMessageID');
    t.dropColumn('DeliveryUpdatedAt');
    t.dropColumn('DeliveryErrorCode');
    t.dropColumn('DeliveryStatus');
  });
}
