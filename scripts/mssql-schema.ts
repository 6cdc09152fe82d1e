import fs from 'node:fs';
import path from 'node:path';
import { compileMigrationsSql } from '../db/migrate';

/** Rewrites docs/sql/mssql-schema.sql, the SQL Server DDL of the migrations, for review. */
// The seed rows' CreatedAt is printed in local time; the checked-in file is UTC.
process.env.TZ = 'UTC';

async function main(): Promise<void> {
  const target = path.resolve(__dirname, '../docs/sql/mssql-schema.sql');
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, await compileMigrationsSql('mssql'));
  console.log(`wrote ${path.relative(process.cwd(), target)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
