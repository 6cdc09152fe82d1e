import fs from 'node:fs';
import path from 'node:path';
import { compileMigrationsSql } from '../../db/migrate';

const SCHEMA_FILE = path.resolve(__dirname, '../../docs/sql/mssql-schema.sql');

/**
 * SQL Server cannot run here, so its DDL is compiled from the migrations and checked in, where a
 * reviewer reads and diffs it. `npm run db:mssql-schema` rewrites the file after a migration change.
 */
test('docs/sql/mssql-schema.sql is what the migrations compile to for SQL Server', async () => {
  const sql = await compileMigrationsSql('mssql');
  expect(sql).toContain('CREATE TABLE [SmsSendHistory]');
  // The filtered unique index that keeps one active number per venue and provider.
  expect(sql).toMatch(
    /create unique index \[UX_VenuePhoneNumbers_Venue_Provider_Active\] on \[VenuePhoneNumbers\] \(\[VenueID\], \[ProviderNameID\]\) where \[StatusID\] = 1/i,
  );
  expect(fs.existsSync(SCHEMA_FILE) ? fs.readFileSync(SCHEMA_FILE, 'utf8') : '(missing)').toBe(sql);
});
