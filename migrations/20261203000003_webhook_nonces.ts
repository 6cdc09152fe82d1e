import type { Knex } from 'knex';

/**
 * Issue 18: the nonces of webhook signatures that do not cover the body (Plivo V2), so that each is
 * used once across replicas and restarts. A deviation from seed 001
 * (docs/adr/0002-schema-deviations.md). Rows are kept small because a table of them covers a long
 * retention (api/webhook-nonces.ts): 16-byte hashes, no surrogate id, no text.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('WebhookNonces', (t) => {
    t.integer('ProviderNameID')
      .notNullable()
      .references('ID')
      .inTable('ProviderNames')
      .withKeyName('FK_WebhookNonces_ProviderNames');
    // SHA-256 of the nonce, first 16 bytes: the nonce itself is worth nothing stored, only its identity.
    t.binary('NonceHash', 16).notNullable();
    t.primary(['ProviderNameID', 'NonceHash'], 'PK_WebhookNonces');
    // SHA-256 of the raw body, first 16 bytes: the same nonce with another body is a forgery.
    t.binary('BodyHash', 16).notNullable();
    t.datetime('SeenAt', { precision: 3 }).notNullable();
    // Set once the request it came with was acted on: a retry with the same body has nothing left to do.
    t.datetime('HandledAt', { precision: 3 }).nullable();
    t.index(['SeenAt'], 'IX_WebhookNonces_SeenAt');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('WebhookNonces');
}
