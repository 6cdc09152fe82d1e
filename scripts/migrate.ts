import { loadConfigOrExit } from '../config';
import { createKnex, redactDatabaseUrl } from '../db/knex';
import { migrateDownAll, migrateLatest } from '../db/migrate';

/** `npm run migrate` applies every migration; `npm run migrate -- --down` rolls all of them back. */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const knex = createKnex(config.databaseUrl, config.databaseAuth);
  try {
    if (process.argv.includes('--down')) {
      await migrateDownAll(knex);
      console.log(`rolled back every migration on ${redactDatabaseUrl(config.databaseUrl)}`);
    } else {
      const applied = await migrateLatest(knex);
      console.log(
        applied.length > 0
          ? `applied ${applied.join(', ')} on ${redactDatabaseUrl(config.databaseUrl)}`
          : `schema up to date on ${redactDatabaseUrl(config.databaseUrl)}`,
      );
    }
  } finally {
    await knex.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
