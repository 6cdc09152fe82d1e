import type { Knex } from 'knex';
import * as enumTables from './20261123000001_enum_tables';
import * as businessTables from './20261123000002_business_tables';
import * as consentAudit from './20261128000001_consent_audit';
import * as deliveryStatus from './20261128000002_delivery_status';
import * as orderClaims from './20261128000003_order_claims';
import * as deliveryReports from './20261203000001_delivery_reports';
import * as recipientLeases from './20261203000002_recipient_leases';
import * as webhookNonces from './20261203000003_webhook_nonces';
import * as rolloutControl from './20261203000004_rollout_control';

/** Listed by import, not read from a directory, so tsx, jest and compiled JS all see the same set. */
export const MIGRATIONS: Record<string, Knex.Migration> = {
  '20261123000001_enum_tables': enumTables,
  '20261123000002_business_tables': businessTables,
  '20261128000001_consent_audit': consentAudit,
  '20261128000002_delivery_status': deliveryStatus,
  '20261128000003_order_claims': orderClaims,
  '20261203000001_delivery_reports': deliveryReports,
  '20261203000002_recipient_leases': recipientLeases,
  '20261203000003_webhook_nonces': webhookNonces,
  '20261203000004_rollout_control': rolloutControl,
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(MIGRATIONS),
  getMigrationName: (name) => name,
  getMigration: async (name) => MIGRATIONS[name],
};
