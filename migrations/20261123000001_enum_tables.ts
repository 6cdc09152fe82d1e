import type { Knex } from 'knex';

/**
 * Seed 001's lookup tables. Ids are fixed (not identity) because code and the filtered unique index
 * refer to them (VenuePhoneNumberStatuses.active = 1). The values are copied here on purpose: a
 * migration must never change after it has run, even if the domain's lists grow.
 */
export const ENUM_TABLES: Record<string, { nameLength: number; values: string[] }> = {
  ProviderNames: { nameLength: 50, values: ['twilio', 'plivo', 'simulator'] },
  VenuePhoneNumberStatuses: { nameLength: 50, values: ['active', 'inactive', 'released'] },
  SmsConsentStatuses: { nameLength: 50, values: ['opted_in', 'opted_out'] },
  ConsentSources: {
    nameLength: 50,
    values: [
      'checkout',
      'account_settings',
      'support_request',
      'provider_webhook',
      'provider_error',
      'internal_api',
    ],
  },
  SmsSendHistoryStatuses: {
    nameLength: 30,
    values: ['sent', 'failed', 'skipped_no_consent', 'blocked_opted_out'],
  },
};

export async function up(knex: Knex): Promise<void> {
  for (const [table, { nameLength, values }] of Object.entries(ENUM_TABLES)) {
    await knex.schema.createTable(table, (t) => {
      t.integer('ID').notNullable();
      t.primary(['ID'], `PK_${table}`);
      t.string('Name', nameLength)
        .notNullable()
        .unique({ indexName: `UX_${table}_Name` });
      t.boolean('IsActive').notNullable().defaultTo(true);
      t.datetime('CreatedAt', { precision: 3 }).notNullable();
    });
    const createdAt = new Date('2026-11-23T00:00:00Z');
    await knex(table).insert(
      values.map((Name, i) => ({ ID: i + 1, Name, IsActive: true, CreatedAt: createdAt })),
    );
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of Object.keys(ENUM_TABLES).reverse()) await knex.schema.dropTable(table);
}
