import { createKnex } from '../../../db/knex';
import { createTestDatabase, testDatabaseUrl } from '../../support/db';

// The test databases' own teardown, on PostgreSQL (CI's second pass): it must drop a database that
// another process still holds, without the privileges `DROP ... WITH (FORCE)` would need.
const onPostgres = testDatabaseUrl().startsWith('postgres');

(onPostgres ? test : test.skip)(
  'a test database still held by another process (a killed worker’s pool) is dropped',
  async () => {
    const db = await createTestDatabase({ migrate: false });
    const name = new URL(db.url).pathname.slice(1);
    const leaked = createKnex(db.url);
    await leaked.raw('select 1'); // an open session, as a SIGKILLed worker leaves behind
    try {
      await db.destroy();
      const admin = createKnex(testDatabaseUrl());
      try {
        const { rows } = await admin.raw('select 1 from pg_database where datname = ?', [name]);
        expect(rows).toEqual([]);
      } finally {
        await admin.destroy();
      }
    } finally {
      await leaked.destroy().catch(() => undefined); // its session was ended with the database
    }
  },
);
