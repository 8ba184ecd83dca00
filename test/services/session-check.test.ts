import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { roles, sessions } from '../../src/store/index.js';
import { sha256 } from '../../src/core/crypto.js';
import { TestClock } from '../helpers/clock.js';
import type { TestServer } from '../helpers/server.js';
import { startTestServer } from '../helpers/server.js';

const META = { ip: '127.0.0.1', userAgent: 'session-check test' };
/** The command line's audit actor for accounts.create*: nobody. */
const SYSTEM = { userId: null, meta: null };

/** Every key of every object inside a value, however deep. */
function keysDeep(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) keysDeep(v, into);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      into.add(k);
      keysDeep(v, into);
    }
  }
  return into;
}

describe('the session check: one query, no secrets', () => {
  let server: TestServer;
  const clock = new TestClock();
  let userId: string;
  let orgId: string;

  before(async () => {
    server = await startTestServer({ clock });
    const { services } = server;
    const org = await services.accounts.createOrganisation('Check Co', null, SYSTEM);
    orgId = org.id;
    const user = await services.accounts.createUser({ orgId, email: 'check@example.com', password: 'correct horse battery staple 42' }, SYSTEM);
    userId = user.id;
    const db = server.runtime.database.db;
    const now = clock.now();
    // Roles directly and through two groups, one of them the same role twice over.
    for (const name of ['zeta', 'alpha', 'via-group']) await roles.insertRole(db, { id: randomUUID(), org_id: orgId, name, created_at: now });
    const byName = async (name: string) => (await roles.findRoleByName(db, orgId, name))!.id;
    await roles.grantRoleToUser(db, userId, await byName('zeta'));
    await roles.grantRoleToUser(db, userId, await byName('alpha'));
    for (const g of ['g1', 'g2']) {
      const groupId = randomUUID();
      await roles.insertGroup(db, { id: groupId, org_id: orgId, name: g, created_at: now });
      await roles.addGroupMember(db, groupId, userId);
      await roles.grantRoleToGroup(db, groupId, await byName('via-group'));
      await roles.grantRoleToGroup(db, groupId, await byName('alpha'));
    }
  });

  after(async () => {
    await server?.close();
  });

  test('authenticate gives the session, the user and the roles, without the password hash or the token hash', async () => {
    const { services } = server;
    const issued = await services.sessions.issue(server.runtime.database.db, userId, ['pwd'], META);
    const auth = await services.sessions.authenticate(issued.token);
    assert.ok(auth, 'a fresh session authenticates');
    assert.equal(auth.user.id, userId);
    assert.equal(auth.session.id, issued.session.id);
    assert.deepEqual(auth.amr, ['pwd']);
    assert.deepEqual(auth.roles, ['alpha', 'via-group', 'zeta'], 'direct and group roles, each once, sorted');
    const keys = keysDeep(auth);
    assert.ok(!keys.has('password_hash'), 'no password hash on request.auth');
    assert.ok(!keys.has('token_hash'), 'no session token hash on request.auth');
    assert.ok(!JSON.stringify(auth).includes(issued.token), 'the raw token is not carried either');
    assert.ok(!JSON.stringify(auth).includes(sha256(issued.token)), 'nor its hash under another name');
  });

  test('a user without roles still authenticates (the role join is outer)', async () => {
    const { services } = server;
    const other = await services.accounts.createUser({ orgId, email: 'noroles@example.com', password: 'correct horse battery staple 42' }, SYSTEM);
    const issued = await services.sessions.issue(server.runtime.database.db, other.id, ['pwd', 'otp', 'mfa'], META);
    const auth = await services.sessions.authenticate(issued.token);
    assert.ok(auth);
    assert.deepEqual(auth.roles, []);
    assert.deepEqual(auth.amr, ['pwd', 'otp', 'mfa']);
  });

  test('revocation and the idle timeout are checked on every request', async () => {
    const { services } = server;
    const db = server.runtime.database.db;
    const revoked = await services.sessions.issue(db, userId, ['pwd'], META);
    assert.ok(await services.sessions.authenticate(revoked.token));
    await sessions.revokeSession(db, revoked.session.id, clock.now());
    assert.equal(await services.sessions.authenticate(revoked.token), null, 'revoked: refused at the next request');

    const idle = await services.sessions.issue(db, userId, ['pwd'], META);
    clock.advance(services.settings.sessionIdleMs + 1);
    assert.equal(await services.sessions.authenticate(idle.token), null, 'idle past the timeout: refused');

    assert.equal(await services.sessions.authenticate('x'.repeat(43)), null, 'unknown token');
    assert.equal(await services.sessions.authenticate(undefined), null);
  });

  test('GET /api/v1/session answers with the roles from the same lookup', async () => {
    const { services } = server;
    const issued = await services.sessions.issue(server.runtime.database.db, userId, ['pwd'], META);
    const res = await fetch(`${server.url}/api/v1/session`, { headers: { cookie: `twofold_session=${issued.token}` } });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { user: { id: string; roles: string[] }; session: { id: string } };
    assert.equal(body.user.id, userId);
    assert.deepEqual(body.user.roles, ['alpha', 'via-group', 'zeta']);
    assert.equal(body.session.id, issued.session.id);
    const text = JSON.stringify(body);
    assert.ok(!text.includes('password_hash') && !text.includes('token_hash'));
  });
});
