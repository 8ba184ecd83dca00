import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Database } from '../../src/store/index.js';
import { connectDatabase, migrateToLatest } from '../../src/store/index.js';

export type Backend = 'sqlite' | 'postgres';

/** Which database this run of the suite uses (scripts/run-tests.mjs sets it). */
export function currentBackend(): Backend {
  return process.env.TWOFOLD_TEST_BACKEND === 'postgres' ? 'postgres' : 'sqlite';
}

export interface TestDatabaseLocation {
  backend: Backend;
  dataDir: string;
  databaseUrl?: string;
  postgresSchema?: string;
  /** Drops the schema / removes the directory. */
  dispose(): Promise<void>;
}

/**
 * Kysely's own introspector read *every* schema, so a schema dropped by a test running in
 * parallel failed another test's migration. Migrations now read only their own schema
 * (src/store/postgres/schema-introspector.ts); this lock stays as a second guard for anything
 * else that scans the catalog: migrations hold it shared, schema drops exclusively, across all
 * test processes.
 */
const SCHEMA_DROP_LOCK = 7_410_221;

/** Runs `fn` (something that migrates) while no test can drop a schema. SQLite: just runs it. */
export async function withSchemasStable<T>(location: TestDatabaseLocation, fn: () => Promise<T>): Promise<T> {
  if (!location.databaseUrl) return fn();
  const client = new pg.Client({ connectionString: location.databaseUrl });
  await client.connect();
  try {
    await client.query('select pg_advisory_lock_shared($1)', [SCHEMA_DROP_LOCK]);
    return await fn();
  } finally {
    await client.end(); // ending the session releases the lock
  }
}

/** A fresh, empty place for one test: a temp dir for SQLite, a new schema for PostgreSQL. */
export async function freshDatabaseLocation(backend: Backend = currentBackend()): Promise<TestDatabaseLocation> {
  const dataDir = mkdtempSync(join(tmpdir(), 'twofold-test-'));
  if (backend === 'sqlite') {
    return { backend, dataDir, dispose: async () => rmSync(dataDir, { recursive: true, force: true }) };
  }
  const url = process.env.TWOFOLD_TEST_DATABASE_URL;
  if (!url) throw new Error('TWOFOLD_TEST_BACKEND=postgres needs TWOFOLD_TEST_DATABASE_URL');
  const schema = `t_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`create schema ${schema}`);
  await client.end();
  return {
    backend,
    dataDir,
    databaseUrl: url,
    postgresSchema: schema,
    dispose: async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query('select pg_advisory_lock($1)', [SCHEMA_DROP_LOCK]);
        await c.query(`drop schema if exists ${schema} cascade`);
      } finally {
        await c.end();
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function openTestDatabase(location: TestDatabaseLocation): Promise<Database> {
  const database = connectDatabase({
    databaseUrl: location.databaseUrl,
    dataDir: location.dataDir,
    ...(location.postgresSchema ? { postgresSchema: location.postgresSchema } : {}),
  });
  await withSchemasStable(location, () => migrateToLatest(database));
  return database;
}
