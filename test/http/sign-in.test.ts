import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sha256 } from '../../src/core/crypto.js';
import type { User } from '../../src/store/index.js';
import { currentBackend } from '../helpers/backend.js';
import { TestClient } from '../helpers/client.js';
import { TestClock } from '../helpers/clock.js';
import type { TestServer, TestServerOptions } from '../helpers/server.js';
import { startTestServer } from '../helpers/server.js';

const PASSWORD = 'correct horse battery staple 42';
const SYSTEM = { userId: null, meta: null };
const MINUTE = 60_000;

let server: TestServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serverWithUser(options: TestServerOptions = {}): Promise<{ server: TestServer; user: User }> {
  server = await startTestServer(options);
  const org = await server.services.accounts.createOrganisation('Org', null, SYSTEM);
  const user = await server.services.accounts.createUser({ orgId: org.id, email: 'alice@example.com', password: PASSWORD }, SYSTEM);
  return { server, user };
}

async function auditTypes(s: TestServer, type: string): Promise<number> {
  const rows = await s.runtime.database.db.selectFrom('audit_events').select('id').where('event_type', '=', type).execute();
  return rows.length;
}

describe(`sign-in (${currentBackend()})`, () => {
  test('a correct password signs in with an HttpOnly, SameSite=Lax session cookie', async () => {
    const { server: s, user } = await serverWithUser();
    const client = new TestClient(s.url);
    const res = await client.post('/api/v1/auth/sign-in', { email: 'Alice@Example.com', password: PASSWORD });
    assert.equal(res.status, 200);
    assert.equal(res.json?.status, 'signed_in');
    assert.deepEqual(res.json?.amr, ['pwd']);
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('twofold_session='));
    assert.ok(cookie, 'session cookie set');
    assert.match(cookie, /;\s*HttpOnly/i);
    assert.match(cookie, /;\s*SameSite=Lax/i);
    assert.match(cookie, /;\s*Path=\//i);

    const session = await client.get('/api/v1/session');
    assert.equal(session.status, 200);
    assert.equal((session.json?.user as { id: string }).id, user.id);
    assert.equal(await auditTypes(s, 'sign_in.succeeded'), 1);
  });

  test('wrong password and unknown email get the same 401 answer', async () => {
    const { server: s } = await serverWithUser();
    const client = new TestClient(s.url);
    const wrong = await client.post('/api/v1/auth/sign-in', { email: 'alice@example.com', password: 'not the password at all' });
    const unknown = await client.post('/api/v1/auth/sign-in', { email: 'nobody@example.com', password: PASSWORD });
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, 401);
    assert.equal(wrong.json?.error?.code, 'invalid_credentials');
    assert.equal(wrong.text, unknown.text);
    assert.equal(client.cookies.has('twofold_session'), false);
    assert.equal(await auditTypes(s, 'sign_in.failed'), 2);
  });

  test('a disabled user is refused like a wrong password', async () => {
    const { server: s, user } = await serverWithUser();
    await s.services.accounts.setStatus(user, 'disabled', SYSTEM);
    const client = new TestClient(s.url);
    const res = await client.post('/api/v1/auth/sign-in', { email: 'alice@example.com', password: PASSWORD });
    assert.equal(res.status, 401);
    assert.equal(res.json?.error?.code, 'invalid_credentials');
    assert.equal(client.cookies.has('twofold_session'), false);
  });

  test('the 11th attempt after 10 failures on one account is refused with 429', async () => {
    const { server: s } = await serverWithUser();
    const client = new TestClient(s.url);
    for (let i = 0; i < 10; i++) {
      const res = await client.post('/api/v1/auth/sign-in', { email: 'alice@example.com', password: `wrong password ${i}` });
      assert.equal(res.status, 401);
    }
    // Even the right password is refused while the account is limited.
    const limited = await client.post('/api/v1/auth/sign-in', { email: 'alice@example.com', password: PASSWORD });
    assert.equal(limited.status, 429);
    assert.equal(limited.json?.error?.code, 'too_many_attempts');
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(retryAfter > 0 && retryAfter <= 15 * 60, `Retry-After ${retryAfter}`);
    assert.equal(await auditTypes(s, 'sign_in.limited'), 1);
    assert.equal(client.cookies.has('twofold_session'), false);
  });

  test('one IP is limited across accounts until its window expires', async () => {
    const clock = new TestClock();
    const { server: s } = await serverWithUser({ clock });
    const client = new TestClient(s.url);
    for (let batch = 0; batch < 10; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) => client.post('/api/v1/auth/sign-in', { email: `guess-${batch}-${i}@example.com`, password: 'some wrong password' })),
      );
      assert.deepEqual(answers.map((a) => a.status), Array(10).fill(401));
    }
    const limited = await client.post('/api/v1/auth/sign-in', { email: 'alice@example.com', password: PASSWORD });
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) > 0);

    clock.advance(14 * MINUTE);
    assert.equal((await client.post('/api/v1/auth/sign-in', { email: 'alice@example.com', password: PASSWORD })).status, 429);
    clock.advance(1 * MINUTE + 1000);
    const again = await client.post('/api/v1/auth/sign-in', { email: 'alice@example.com', password: PASSWORD });
    assert.equal(again.status, 200);
  });

  test('sign-out ends the session on the server, not only in the browser', async () => {
    const { server: s } = await serverWithUser();
    const client = new TestClient(s.url);
    await client.post('/api/v1/auth/sign-in', { email: 'alice@example.com', password: PASSWORD });
    const token = client.cookies.get('twofold_session');
    assert.ok(token);
    const out = await client.post('/api/v1/auth/sign-out');
    assert.equal(out.status, 204);
    assert.equal(client.cookies.has('twofold_session'), false, 'cookie cleared');
    assert.equal((await client.get('/api/v1/session')).status, 401);

    const replay = new TestClient(s.url);
    replay.cookies.set('twofold_session', token);
    const res = await replay.get('/api/v1/session');
    assert.equal(res.status, 401);
    assert.equal(res.json?.error?.code, 'not_signed_in');
    assert.equal(await auditTypes(s, 'sign_out'), 1);
  });

  test('a session ends after the idle timeout but activity keeps it alive', async () => {
    const clock = new TestClock();
    const { server: s } = await serverWithUser({ clock, env: { TWOFOLD_SESSION_IDLE_MINUTES: '5' } });
    const client = new TestClient(s.url);
    await client.post('/api/v1/auth/sign-in', { email: 'alice@example.com', password: PASSWORD });
    for (let i = 0; i < 3; i++) {
      clock.advance(4 * MINUTE);
      assert.equal((await client.get('/api/v1/session')).status, 200, `active after ${4 * (i + 1)} min`);
    }
    clock.advance(5 * MINUTE);
    assert.equal((await client.get('/api/v1/session')).status, 401);
  });

  test('a session ends at its absolute lifetime however active it is', async () => {
    const clock = new TestClock();
    const { server: s } = await serverWithUser({ clock, env: { TWOFOLD_SESSION_IDLE_MINUTES: '30', TWOFOLD_SESSION_MAX_HOURS: '1' } });
    const client = new TestClient(s.url);
    await client.post('/api/v1/auth/sign-in', { email: 'alice@example.com', password: PASSWORD });
    for (let i = 0; i < 5; i++) {
      clock.advance(11 * MINUTE);
      assert.equal((await client.get('/api/v1/session')).status, 200);
    }
    clock.advance(5 * MINUTE); // 60 minutes after sign-in
    assert.equal((await client.get('/api/v1/session')).status, 401);
  });

  test('the database keeps only a hash of the session token', async () => {
    const { server: s } = await serverWithUser();
    const client = new TestClient(s.url);
    await client.post('/api/v1/auth/sign-in', { email: 'alice@example.com', password: PASSWORD });
    const token = client.cookies.get('twofold_session');
    assert.ok(token && token.length >= 32);
    const db = s.runtime.database.db;
    const rows = await db.selectFrom('sessions').selectAll().execute();
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.token_hash, sha256(token));
    for (const table of ['sessions', 'audit_events', 'rate_limits', 'sign_in_flows', 'users'] as const) {
      const dump = JSON.stringify(await db.selectFrom(table).selectAll().execute());
      assert.equal(dump.includes(token), false, `raw token found in ${table}`);
    }
  });
});
