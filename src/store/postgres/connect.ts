import pg from 'pg';
import { Kysely, PostgresDialect, sql } from 'kysely';
import type { Database } from '../database.js';
import type { Schema } from '../schema.js';

const INT8_OID = 20;

export interface PostgresOptions {
  url: string;
  /** Schema to use instead of public (tests isolate themselves this way). */
  schema?: string;
  maxConnections?: number;
}

export function connectPostgres(options: PostgresOptions): Database {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
    // Epoch-millisecond columns are bigint; they fit in a double, so read them as numbers.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
    },
  });
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  const safeUrl = new URL(options.url);
  safeUrl.password = '';
  return {
    db,
    dialect: 'postgres',
    describe: safeUrl.toString(),
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      await db.destroy();
    },
  };
}
