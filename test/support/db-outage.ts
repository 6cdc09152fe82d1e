import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { createKnex } from '../../db/knex';
import { useTestDatabase, type TestDatabase } from './db';
import { useResource } from './lifecycle';
import { startTcpProxy } from './tcp-proxy';

export interface CuttableDatabase {
  /** Give this to everything that should lose the database during the outage. */
  knex: Knex;
  /** Every statement fails from now on, quickly, as when the server is unreachable. Idempotent. */
  cut(): Promise<void>;
  /** Idempotent. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** A fresh database for the enclosing suite, as a cuttable handle; closed and dropped after it. */
export function useCuttableDatabase(): CuttableDatabase {
  const db = useTestDatabase();
  return useResource(
    () => cuttableDatabase(db),
    (c) => c.close(),
  );
}

/**
 * A test database that can be taken away and given back. PostgreSQL: a knex connected through a TCP
 * proxy, which drops every connection and refuses new ones. SQLite has no server to take away, so
 * the file is: the pool is emptied, the file moved aside and a directory left at its path (opening
 * it fails at once with SQLITE_CANTOPEN, even as root, where permissions would not stop it), then
 * the reverse. The SQLite knex is the test database's own, so nothing else holds the file open.
 */
export async function cuttableDatabase(db: TestDatabase): Promise<CuttableDatabase> {
  if (db.url.startsWith('sqlite:')) return cuttableSqlite(db);
  const url = new URL(db.url);
  const proxy = await startTcpProxy(`${url.hostname}:${url.port || 5432}`);
  const proxied = new URL(db.url);
  [proxied.hostname, proxied.port] = proxy.address.split(':');
  const knex = createKnex(proxied.toString());
  return {
    knex,
    async cut() {
      proxy.cut();
    },
    async restore() {
      proxy.restore();
    },
    async close() {
      await knex.destroy();
      await proxy.close();
    },
  };
}

function cuttableSqlite(db: TestDatabase): CuttableDatabase {
  const file = db.url.replace(/^sqlite:/, '');
  const aside = fs.mkdtempSync(`${file}-aside-`);
  const companions = (dir: string) =>
    ['', '-wal', '-shm'].map((suffix) => path.join(dir, `${path.basename(file)}${suffix}`));
  let down = false;
  return {
    knex: db.knex,
    async cut() {
      if (down) return;
      await db.knex.destroy(); // the last connection out checkpoints the WAL into the file
      for (const [from, to] of zip(companions(path.dirname(file)), companions(aside))) {
        if (fs.existsSync(from)) fs.renameSync(from, to);
      }
      fs.mkdirSync(file);
      db.knex.initialize();
      down = true;
    },
    async restore() {
      if (!down) return;
      await db.knex.destroy();
      fs.rmdirSync(file);
      for (const [to, from] of zip(companions(path.dirname(file)), companions(aside))) {
        if (fs.existsSync(from)) fs.renameSync(from, to);
      }
      db.knex.initialize();
      down = false;
    },
    async close() {
      if (down) await this.restore();
      fs.rmSync(aside, { recursive: true, force: true });
    },
  };
}

function zip<A, B>(a: A[], b: B[]): Array<[A, B]> {
  return a.map((x, i) => [x, b[i]]);
}
