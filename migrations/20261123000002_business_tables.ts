import type { Knex } from 'knex';

/**
 * Seed 001's business tables, with the deviations recorded in docs/adr/0002-schema-deviations.md.
 * There is no Venue table in this database: VenueID is a plain int.
 */
export async function up(knex: Knex): Promise<void> {
  const timestamp = (t: Knex.CreateTableBuilder, name: string) => t.datetime(name, { precision: 3 });
  const lookup = (t: Knex.CreateTableBuilder, column: string, table: string, owner: string) =>
    t.integer(column).references('ID').inTable(table).withKeyName(`FK_${owner}_${table}`);

  await knex.schema.createTable('VenuePhoneNumbers', (t) => {
    t.increments('ID');
    t.integer('VenueID').notNullable();
    t.string('PhoneNumber', 20).notNullable();
    t.string('ProviderID', 100).notNullable();
    lookup(t, 'ProviderNameID', 'ProviderNames', 'VenuePhoneNumbers').notNullable();
    lookup(t, 'StatusID', 'VenuePhoneNumberStatuses', 'VenuePhoneNumbers').notNullable();
    t.string('FriendlyName', 100).nullable();
    timestamp(t, 'AssignedAt').notNullable();
    timestamp(t, 'ReleasedAt').nullable();
    timestamp(t, 'CreatedAt').notNullable();
    timestamp(t, 'UpdatedAt').notNullable();
    t.index(['PhoneNumber'], 'IX_VenuePhoneNumbers_PhoneNumber');
    t.index(['VenueID'], 'IX_VenuePhoneNumbers_VenueID');
    // One active number per venue and provider; released and inactive rows stay as history.
    t.unique(['VenueID', 'ProviderNameID'], {
      indexName: 'UX_VenuePhoneNumbers_Venue_Provider_Active',
      useConstraint: false,
      predicate: knex.whereRaw('?? = 1', ['StatusID']),
    });
  });

  await knex.schema.createTable('SmsConsent', (t) => {
    t.increments('ID');
    t.integer('VenueID').notNullable();
    t.string('PhoneNumber', 20).notNullable();
    lookup(t, 'StatusID', 'SmsConsentStatuses', 'SmsConsent').notNullable();
    lookup(t, 'ConsentSourceID', 'ConsentSources', 'SmsConsent').nullable();
    timestamp(t, 'InitialConsentAt').nullable();
    timestamp(t, 'OptedOutAt').nullable();
    timestamp(t, 'OptedInAt').nullable();
    // When the latest applied change happened at its source: older changes arriving late are ignored.
    timestamp(t, 'LastChangeAt').notNullable();
    t.string('LastProviderMessageID', 100).nullable();
    timestamp(t, 'CreatedAt').notNullable();
    timestamp(t, 'UpdatedAt').notNullable();
    t.unique(['VenueID', 'PhoneNumber'], { indexName: 'UX_SmsConsent_Venue_Phone' });
    t.index(['PhoneNumber'], 'IX_SmsConsent_PhoneNumber');
  });

  await knex.schema.createTable('SmsSendHistory', (t) => {
    t.bigIncrements('ID');
    t.uuid('OrderID').notNullable();
    t.string('OrderNumber', 50).nullable();
    t.integer('VenueID').notNullable();
    // Nullable: a skipped or blocked send never chose a sender number.
    t.integer('VenuePhoneNumberID')
      .nullable()
      .references('ID')
      .inTable('VenuePhoneNumbers')
      .withKeyName('FK_SmsSendHistory_VenuePhoneNumbers');
    t.uuid('CustomerID').notNullable();
    t.string('CustomerPhoneNumber', 20).notNullable();
    t.string('Message', 500).notNullable();
    lookup(t, 'ProviderNameID', 'ProviderNames', 'SmsSendHistory').notNullable();
    lookup(t, 'StatusID', 'SmsSendHistoryStatuses', 'SmsSendHistory').notNullable();
    t.string('ProviderMessageID', 100).nullable();
    t.string('ErrorCode', 50).nullable();
    t.string('ErrorMessage', 500).nullable();
    t.string('CorrelationID', 100).nullable();
    // <workflowId>/<runId>: an activity retry finds the row its earlier attempt wrote.
    t.string('IdempotencyKey', 200).notNullable();
    timestamp(t, 'CreatedAt').notNullable();
    t.unique(['IdempotencyKey'], { indexName: 'UX_SmsSendHistory_IdempotencyKey' });
    t.index(['OrderID'], 'IX_SmsSendHistory_OrderID');
    t.index(['VenueID', 'CreatedAt'], 'IX_SmsSendHistory_Venue_CreatedAt');
    t.index(['CustomerPhoneNumber', 'VenueID'], 'IX_SmsSendHistory_Phone_Venue');
    t.index(['CreatedAt'], 'IX_SmsSendHistory_CreatedAt');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('SmsSendHistory');
  await knex.schema.dropTable('SmsConsent');
  await knex.schema.dropTable('VenuePhoneNumbers');
}
