import knexFactory, { type Knex } from 'knex';
import { MIGRATIONS, migrationSource } from '../migrations';

const MIGRATION_CONFIG: Knex.MigratorConfig = { migrationSource, tableName: 'knex_migrations' };

/** Applies every pending migration; returns the names applied. */
export async function migrateLatest(knex: Knex): Promise<string[]> {
  const [, applied] = (await knex.migrate.latest(MIGRATION_CONFIG)) as [number, string[]];
  return applied;
}

export async function migrateDownAll(knex: Knex): Promise<void> {
  await knex.migrate.rollback(MIGRATION_CONFIG, true);
}

/**
 * The DDL every up migration produces for a dialect, compiled without a database. SQL Server cannot
 * run on our machines, so this is how its schema is reviewed (docs/sql/mssql-schema.sql).
 */
export async function compileMigrationsSql(client: 'mssql' | 'pg' | 'better-sqlite3'): Promise<string> {
  const real = knexFactory({ client, useNullAsDefault: true });
  const statements: string[] = [];
  // Awaiting a builder would run it; this stand-in records its SQL instead.
  const record = <T extends object>(builder: T): T =>
    new Proxy(builder, {
      get(target, prop, receiver) {
        if (prop === 'then') {
          return (resolve: (v: unknown) => void) => {
            statements.push(String(target));
            resolve(undefined);
          };
        }
        return Reflect.get(target, prop, receiver);
      },
    });
  const recorder = new Proxy(real, {
    apply: (target, _this, args: [string]) => record(target(...args)),
    get: (target, prop, receiver) =>
      prop === 'schema' ? record(target.schema) : Reflect.get(target, prop, receiver),
  });
  try {
    for (const [name, migration] of Object.entries(MIGRATIONS)) {
      statements.push(`-- ${name}`);
      await migration.up(recorder);
    }
  } finally {
    await real.destroy();
  }
  const header = [
    `-- ${client} DDL compiled from migrations/ without a database (npm run db:mssql-schema). Do not edit.`,
    '-- Values appear inline here; at run time knex binds them as parameters.',
  ];
  return `${[...header, ...statements.map((s) => (s.startsWith('--') ? s : `${s};`))].join('\n')}\n`;
}
