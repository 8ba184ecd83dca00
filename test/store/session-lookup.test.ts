/**
 * The session check's lookup, as the request path calls it (with the Database, so SQLite runs it
 * at once on its connection, store/sqlite/connect.ts `readNow`): it sees exactly what has
 * committed, never the writes of a transaction still open on the connection, and it sees a
 * revocation at once.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Database, Session } from '../../src/store/index.js';
import { organisations, sessions, users } from '../../src/store/index.js';
import type { TestDatabaseLocation } from '../helpers/backend.js';
import { currentBackend, freshDatabaseLocation, openTestDatabase } from '../helpers/backend.js';

const T0 = 1_700_000_000_000;

let location: TestDatabaseLocation;
let database: Database;
let userId: string;

before(async () => {
  location = await freshDatabaseLocation();
  database = await openTestDatabase(location);
  const orgId = randomUUID();
  await organisations.insertOrganisation(database.db, { id: orgId, name: 'Lookup', parent_id: null, created_at: T0 });
  userId = randomUUID();
  await users.insertUser(database.db, {
    id: userId,
    org_id: orgId,
    email: 'lookup@example.com',
    email_normalized: 'lookup@example.com',
    display_name: 'lookup',
    time_zone: 'UTC',
    password_hash: 'not-a-real-hash',
    status: 'active',
    password_changed_at: T0,
    created_at: T0,
    totp_last_step: null,
    second_factor_failures: 0,
    second_factor_locked_until: null,
    set_up_again_since: null,
  });
});

after(async () => {
  await database.close();
  await location.dispose();
});

function sessionRow(): Session {
  const id = randomUUID();
  return {
    id,
    token_hash: `hash-${id}`,
    user_id: userId,
    created_at: T0,
    last_seen_at: T0,
    expires_at: T0 + 60_000,
    ip: '192.0.2.1',
    user_agent: 'test',
    amr: ['pwd'],
    authenticated_at: T0,
    password_at: T0,
    second_factor_at: null,
    revoked_at: null,
  };
}

describe(`session lookup on the request path (${currentBackend()})`, () => {
  test('SQLite answers the lookup at once, without going through Kysely', { skip: currentBackend() !== 'sqlite' ? 'readNow is SQLite only' : false }, async () => {
    const session = sessionRow();
    await sessions.insertSession(database.db, session);
    const readNow = database.readNow?.bind(database);
    assert.ok(readNow, 'SQLite offers readNow');
    let direct = 0;
    const counting: Pick<Database, 'dialect' | 'readNow'> = {
      dialect: database.dialect,
      readNow: (sqlText, parameters) => {
        direct++;
        return readNow(sqlText, parameters);
      },
    };
    const found = await sessions.findSessionLookup(database.db, session.token_hash, counting);
    assert.equal(found?.session.id, session.id);
    assert.equal(found?.user.id, userId);
    assert.deepEqual(found?.roles, []);
    assert.equal(direct, 1);
  });

  test('a session written by a transaction still open is not seen until it commits', async () => {
    const session = sessionRow();
    let lookup: ReturnType<typeof sessions.findSessionLookup> | undefined;
    let settledInside = false;
    let answeredInside = false;
    await database.db.transaction().execute(async (trx) => {
      await sessions.insertSession(trx, session);
      lookup = sessions.findSessionLookup(database.db, session.token_hash, database);
      void lookup.then(() => (settledInside = true));
      // Long enough for an immediate read to have answered.
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (currentBackend() === 'sqlite') {
        // One connection: the lookup waits for the transaction that holds it.
        assert.equal(settledInside, false, 'the lookup answered while the transaction was open');
      }
      answeredInside = settledInside;
    });
    const found = await lookup;
    // PostgreSQL reads on another connection: it may answer at once, but never with the uncommitted row.
    if (answeredInside) assert.equal(found, undefined);
    else assert.equal(found?.session.id, session.id);
  });

  test('a revocation is seen by the very next lookup', async () => {
    const session = sessionRow();
    await sessions.insertSession(database.db, session);
    assert.equal((await sessions.findSessionLookup(database.db, session.token_hash, database))?.session.revoked_at, null);
    assert.equal(await sessions.revokeSession(database.db, session.id, T0 + 5), true);
    assert.equal((await sessions.findSessionLookup(database.db, session.token_hash, database))?.session.revoked_at, T0 + 5);
    assert.equal(await sessions.findSessionLookup(database.db, 'no-such-hash', database), undefined);
  });
});
