/**
 * PostgreSQL pool limits: a request that cannot get a connection in time, or whose statement runs
 * past statement_timeout, is refused with database_unavailable (HTTP 503) instead of waiting
 * without end behind slow requests.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { connectPostgres } from '../../src/store/postgres/connect.js';
import type { Database } from '../../src/store/index.js';
import type { TestDatabaseLocation } from '../helpers/backend.js';
import { currentBackend, freshDatabaseLocation, openTestDatabase } from '../helpers/backend.js';
import { startTestServer } from '../helpers/server.js';

const isUnavailable = (error: unknown) => (error as { code?: unknown }).code === 'database_unavailable';

describe('pool limits on PostgreSQL', { skip: currentBackend() !== 'postgres' ? 'a pool exists on PostgreSQL only' : false }, () => {
  let location: TestDatabaseLocation;
  let migrated: Database;

  before(async () => {
    location = await freshDatabaseLocation();
    migrated = await openTestDatabase(location);
  });

  after(async () => {
    await migrated?.close();
    await location?.dispose();
  });

  test('no free connection within the acquire timeout: database_unavailable, in about that time', async () => {
    const database = connectPostgres({ url: location.databaseUrl ?? '', schema: location.postgresSchema ?? 'public', maxConnections: 1, connectTimeoutMs: 300 });
    try {
      let release!: () => void;
      const held = database.db.transaction().execute(async (trx) => {
        await sql`select 1`.execute(trx);
        await new Promise<void>((resolve) => (release = resolve));
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      const started = Date.now();
      await assert.rejects(database.db.selectFrom('users').select('id').execute(), isUnavailable);
      const waited = Date.now() - started;
      assert.ok(waited >= 250 && waited < 3000, `waited ${waited} ms`);
      release();
      await held;
      // Once the connection is back, queries run again.
      assert.deepEqual(await database.db.selectFrom('users').select('id').execute(), []);
    } finally {
      await database.close();
    }
  });

  test('a statement past statement_timeout is cancelled: database_unavailable', async () => {
    const database = connectPostgres({ url: location.databaseUrl ?? '', schema: location.postgresSchema ?? 'public', statementTimeoutMs: 200 });
    try {
      const started = Date.now();
      await assert.rejects(sql`select pg_sleep(3)`.execute(database.db), isUnavailable);
      assert.ok(Date.now() - started < 2500, 'cancelled well before the statement would have ended');
      await sql`select 1`.execute(database.db);
    } finally {
      await database.close();
    }
  });

  test('over HTTP: a session check that cannot get a connection answers 503 database_unavailable', async () => {
    const server = await startTestServer({ env: { TWOFOLD_DATABASE_POOL_SIZE: '1', TWOFOLD_DATABASE_ACQUIRE_TIMEOUT_MS: '300' } });
    try {
      let release!: () => void;
      const held = server.runtime.database.db.transaction().execute(async (trx) => {
        await sql`select 1`.execute(trx);
        await new Promise<void>((resolve) => (release = resolve));
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      const res = await fetch(`${server.url}/api/v1/session`, { headers: { cookie: `twofold_session=${'a'.repeat(43)}` } });
      release();
      await held;
      assert.equal(res.status, 503);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'database_unavailable');
    } finally {
      await server.close();
    }
  });
});
