import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import type { Database } from '../database.js';
import type { Schema } from '../schema.js';

export function connectSqlite(file: string): Database {
  const native = new BetterSqlite3(file);
  // WAL lets readers run beside the writer; busy_timeout makes a second process wait
  // for the write lock instead of failing when several nodes share one file.
  native.pragma('journal_mode = WAL');
  native.pragma('foreign_keys = ON');
  native.pragma('busy_timeout = 5000');
  native.pragma('synchronous = NORMAL');
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: native }) });
  return {
    db,
    dialect: 'sqlite',
    describe: file,
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      await db.destroy();
    },
  };
}
