/**
 * The PostgreSQL pool when the server drops its connections (what a restart or failover does):
 * the process survives, the failure is reported as database_unavailable, and the pool connects
 * again by itself. Connections are ended with pg_terminate_backend on this test's own sessions
 * only, so the shared cluster is never restarted.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from '../helpers/ports.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import pg from 'pg';
import { isTwofoldError } from '../../src/core/errors.js';
import type { Database } from '../../src/store/index.js';
import { connectPostgres } from '../../src/store/postgres/connect.js';
import { currentBackend } from '../helpers/backend.js';

const URL_ENV = process.env.TWOFOLD_TEST_DATABASE_URL;
const SKIP = currentBackend() !== 'postgres' || !URL_ENV ? 'PostgreSQL only (TWOFOLD_TEST_BACKEND=postgres and TWOFOLD_TEST_DATABASE_URL)' : false;

function assertUnavailable(error: unknown): true {
  assert.ok(isTwofoldError(error), `a TwofoldError, got ${String(error)}`);
  assert.equal(error.code, 'database_unavailable');
  assert.equal(error.kind, 'unavailable');
  return true;
}


describe('PostgreSQL connection loss', { skip: SKIP }, () => {
  const appName = `twofold_loss_${process.pid}_${Date.now().toString(36)}`;
  const lost: Error[] = [];
  let database: Database;
  let admin: pg.Client;

  /**
   * Ends every server session this test's pool holds, as a restart would, and waits until each
   * client has noticed (a backend exits when it gets the signal; until its client reads the
   * goodbye, the pool could still hand that client out).
   */
  async function terminateOurConnections(): Promise<number> {
    const before = lost.length;
    const { rowCount } = await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1', [appName]);
    const ended = rowCount ?? 0;
    for (let i = 0; i < 100 && lost.length < before + ended; i++) await sleep(20);
    // The process is still here (an unhandled 'error' event would have ended it), and was told.
    assert.equal(lost.length - before, ended, 'every lost connection was reported once');
    return ended;
  }

  before(async () => {
    const url = new URL(URL_ENV!);
    url.searchParams.set('application_name', appName);
    database = connectPostgres({ url: url.toString(), maxConnections: 4, onConnectionError: (error) => lost.push(error) });
    admin = new pg.Client({ connectionString: URL_ENV });
    await admin.connect();
  });

  after(async () => {
    await database?.close();
    await admin?.end();
  });

  test('idle connections ended by the server are reported, not thrown, and the pool reconnects', async () => {
    // Fill the pool with idle connections.
    await Promise.all([1, 2, 3].map(() => sql`select pg_sleep(0.05)`.execute(database.db)));
    assert.ok((await terminateOurConnections()) >= 1);
    assert.ok(lost.every((error) => /administrator command|Connection terminated/.test(error.message)), lost.map((e) => e.message).join('; '));
    const { rows } = await sql<{ one: number }>`select 1 as one`.execute(database.db);
    assert.equal(rows[0]?.one, 1);
  });

  test('a connection ended under a running transaction fails that transaction with database_unavailable', async () => {
    await assert.rejects(
      database.db.transaction().execute(async (trx) => {
        await sql`select 1`.execute(trx);
        await terminateOurConnections();
        await sql`select 1`.execute(trx);
      }),
      assertUnavailable,
    );
    // A query in flight when its connection is ended fails the same way.
    const running = assert.rejects(sql`select pg_sleep(5)`.execute(database.db), assertUnavailable);
    await sleep(200);
    await terminateOurConnections();
    await running;
    // And the next request gets a fresh connection.
    const { rows } = await sql<{ one: number }>`select 1 as one`.execute(database.db);
    assert.equal(rows[0]?.one, 1);
  });

  test('query errors keep their own shape', async () => {
    await assert.rejects(sql`select 1 / 0`.execute(database.db), (error: unknown) => {
      assert.equal((error as { code?: string }).code, '22012');
      assert.equal(isTwofoldError(error), false);
      return true;
    });
    await assert.rejects(sql`selec 1`.execute(database.db), (error: unknown) => (error as { code?: string }).code === '42601');
  });

  test('an unreachable server answers database_unavailable at once', async () => {
    const port = await freePort();
    const nowhere = connectPostgres({ url: `postgres://postgres@127.0.0.1:${port}/postgres`, onConnectionError: () => undefined });
    try {
      const started = Date.now();
      await assert.rejects(nowhere.ping(), assertUnavailable);
      await assert.rejects(nowhere.db.transaction().execute(async (trx) => sql`select 1`.execute(trx)), assertUnavailable);
      assert.ok(Date.now() - started < 3_000, 'no waiting on a refused connection');
    } finally {
      await nowhere.close();
    }
  });
});
