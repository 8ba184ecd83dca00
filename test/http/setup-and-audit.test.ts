import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AuditView } from '../../src/services/audit-log.js';
import type { Organisation, User } from '../../src/store/index.js';
import { currentBackend } from '../helpers/backend.js';
import { TestClient } from '../helpers/client.js';
import type { TestServer } from '../helpers/server.js';
import { startTestServer } from '../helpers/server.js';
import { FORM, hiddenFields } from '../helpers/forms.js';

const PASSWORD = 'correct horse battery staple 42';
const SYSTEM = { userId: null, meta: null };

type AuditPage = { events: AuditView[]; nextCursor: string | null };

async function count(s: TestServer, table: 'users' | 'organisations' | 'sessions'): Promise<number> {
  const row = await s.runtime.database.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

describe(`first-admin setup (${currentBackend()})`, () => {
  let server: TestServer;
  afterEach(() => server.close());

  const admin = { organisationName: 'Acme', displayName: 'Ada', email: 'ada@acme.example', password: PASSWORD };

  test('the setup page creates the first admin, signs them in and works once', async () => {
    server = await startTestServer();
    const link = await server.services.setup.issueSetupLink();
    assert.ok(link);
    const { pathname, search } = new URL(link);
    const client = new TestClient(server.url);
    const fields = await hiddenFields(client, pathname + search);
    assert.ok(fields._csrf && fields.token, 'page has _csrf and token fields');

    const res = await client.request('POST', '/setup', new URLSearchParams({ ...fields, ...admin }).toString(), FORM);
    assert.equal(res.status, 303, res.text);
    assert.equal(res.headers.get('location'), '/account');
    assert.ok(client.cookies.has('twofold_session'));
    const session = await client.get('/api/v1/session');
    assert.equal(session.status, 200);
    const user = session.json?.user as { email: string; roles: string[] };
    assert.equal(user.email, admin.email);
    assert.deepEqual(user.roles, ['admin']);

    const completed = await server.runtime.database.db.selectFrom('audit_events').selectAll().where('event_type', '=', 'setup.completed').execute();
    assert.equal(completed.length, 1);

    // The link is spent and setup is over: the page says so and a replayed post creates nobody.
    assert.equal((await new TestClient(server.url).get(pathname + search)).status, 410);
    const replay = new TestClient(server.url);
    const replayFields = await hiddenFields(replay, '/sign-in');
    const again = await replay.request('POST', '/setup', new URLSearchParams({ ...admin, email: 'mallory@acme.example', token: fields.token!, _csrf: replayFields._csrf! }).toString(), FORM);
    assert.equal(again.status, 400);
    assert.equal(replay.cookies.has('twofold_session'), false);
    assert.equal(await count(server, 'users'), 1);
    assert.equal(await count(server, 'organisations'), 1);
    assert.equal(await server.services.setup.issueSetupLink(), null, 'no new link once an admin exists');
  });

  test('two simultaneous submissions of one link create one admin', async () => {
    server = await startTestServer();
    const { pathname, search } = new URL((await server.services.setup.issueSetupLink())!);
    const clients = [new TestClient(server.url), new TestClient(server.url)];
    const forms = await Promise.all(clients.map((c) => hiddenFields(c, pathname + search)));
    const results = await Promise.all(
      clients.map((c, i) => c.request('POST', '/setup', new URLSearchParams({ ...forms[i]!, ...admin, email: `admin${i}@acme.example` }).toString(), FORM)),
    );
    assert.deepEqual(results.map((r) => r.status).sort(), [303, 400]);
    assert.equal(await count(server, 'users'), 1);
    assert.equal(await count(server, 'organisations'), 1);
    assert.equal(await count(server, 'sessions'), 1);
  });

  test('a wrong token is refused and writes nothing', async () => {
    server = await startTestServer();
    await server.services.setup.issueSetupLink();
    const client = new TestClient(server.url);
    assert.equal((await client.get('/setup?token=not-the-token')).status, 401);
    assert.equal((await client.get('/setup')).status, 401);
    const { _csrf } = await hiddenFields(client, '/sign-in');
    const res = await client.request('POST', '/setup', new URLSearchParams({ ...admin, token: 'not-the-token', _csrf: _csrf! }).toString(), FORM);
    assert.equal(res.status, 400);
    assert.equal(await count(server, 'users'), 0);
    assert.equal(await count(server, 'organisations'), 0);
  });

  test('a weak password is refused and the link stays usable', async () => {
    server = await startTestServer();
    const { pathname, search } = new URL((await server.services.setup.issueSetupLink())!);
    const client = new TestClient(server.url);
    const fields = await hiddenFields(client, pathname + search);
    const weak = await client.request('POST', '/setup', new URLSearchParams({ ...fields, ...admin, password: 'password' }).toString(), FORM);
    assert.equal(weak.status, 400);
    assert.equal(await count(server, 'users'), 0);
    const ok = await client.request('POST', '/setup', new URLSearchParams({ ...fields, ...admin }).toString(), FORM);
    assert.equal(ok.status, 303);
  });
});

describe(`audit API (${currentBackend()})`, () => {
  let server: TestServer;
  let agency: Organisation;
  let sub: Organisation;
  let sibling: Organisation;
  let member: User;
  const clients: Record<string, TestClient> = {};

  before(async () => {
    server = await startTestServer();
    const accounts = server.services.accounts;
    agency = await accounts.createOrganisation('Agency', null, SYSTEM);
    sub = await accounts.createOrganisation('Sub', agency.id, SYSTEM);
    sibling = await accounts.createOrganisation('Sibling', null, SYSTEM);
    await accounts.createUser({ orgId: agency.id, email: 'admin@agency.example', password: PASSWORD, roles: ['admin'] }, SYSTEM);
    member = await accounts.createUser({ orgId: sub.id, email: 'member@sub.example', password: PASSWORD }, SYSTEM);
    await accounts.createUser({ orgId: sibling.id, email: 'admin@sibling.example', password: PASSWORD, roles: ['admin'] }, SYSTEM);
    for (const email of ['admin@agency.example', 'member@sub.example', 'admin@sibling.example']) {
      const client = new TestClient(server.url);
      await client.post('/api/v1/auth/sign-in', { email, password: 'a wrong password' });
      assert.equal((await client.post('/api/v1/auth/sign-in', { email, password: PASSWORD })).status, 200);
      clients[email] = client;
    }
  });

  after(() => server.close());

  async function page(email: string, query = ''): Promise<AuditPage> {
    const res = await clients[email]!.get(`/api/v1/audit${query}`);
    assert.equal(res.status, 200, res.text);
    return res.json as unknown as AuditPage;
  }

  test('an admin sees their organisation and its sub-organisations, not a sibling', async () => {
    const { events } = await page('admin@agency.example', '?limit=200');
    const orgs = new Set(events.map((e) => e.orgId));
    assert.ok(orgs.has(agency.id));
    assert.ok(orgs.has(sub.id), 'sub-organisation events included');
    assert.equal(orgs.has(sibling.id), false);
    assert.deepEqual([...orgs].filter((o) => o !== agency.id && o !== sub.id), []);
    assert.ok(events.some((e) => e.type === 'sign_in.failed' && e.subjectUserId === member.id));

    const siblingView = await page('admin@sibling.example', '?limit=200');
    assert.ok(siblingView.events.length > 0);
    assert.ok(siblingView.events.every((e) => e.orgId === sibling.id));
  });

  test('a normal user sees only events about themselves', async () => {
    const { events } = await page('member@sub.example', '?limit=200');
    assert.ok(events.length >= 3, 'created, failed and succeeded sign-in');
    assert.ok(events.every((e) => e.subjectUserId === member.id));
    // Asking for the organisation scope does not widen it.
    const widened = await page('member@sub.example', '?scope=organisation&limit=200');
    assert.deepEqual(widened.events.map((e) => e.id), events.map((e) => e.id));
  });

  test('an admin can narrow to their own events and filter by type', async () => {
    const self = await page('admin@agency.example', '?scope=self&limit=200');
    assert.ok(self.events.length > 0);
    assert.ok(self.events.every((e) => e.subjectUserId === self.events[0]!.subjectUserId));
    const failed = await page('admin@agency.example', '?type=sign_in.failed&limit=200');
    assert.deepEqual(new Set(failed.events.map((e) => e.type)), new Set(['sign_in.failed']));
    assert.equal(failed.events.length, 2);
  });

  test('cursor pagination walks every event once, newest first', async () => {
    const all = (await page('admin@agency.example', '?limit=200')).events.map((e) => e.id);
    assert.ok(all.length > 6);
    const walked: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: AuditPage = await page('admin@agency.example', `?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      assert.ok(res.events.length <= 3);
      walked.push(...res.events.map((e) => e.id));
      cursor = res.nextCursor;
      pages++;
      assert.ok(pages < 100, 'pagination terminates');
    } while (cursor);
    assert.deepEqual(walked, all);
    assert.equal(new Set(walked).size, walked.length);
    assert.deepEqual(walked, [...walked].sort((a, b) => b - a));
  });

  test('bad cursors and unknown types are 400 with stable codes', async () => {
    const client = clients['admin@agency.example']!;
    for (const cursor of ['garbage', Buffer.from('a:-1').toString('base64url'), Buffer.from('b:10').toString('base64url')]) {
      const res = await client.get(`/api/v1/audit?cursor=${cursor}`);
      assert.equal(res.status, 400, cursor);
      assert.equal(res.json?.error?.code, 'cursor_invalid');
    }
    const unknown = await client.get('/api/v1/audit?type=sign_in.succeeded,not.a.type');
    assert.equal(unknown.status, 400);
    assert.equal(unknown.json?.error?.code, 'event_type_invalid');
  });

  test('reading the audit log needs a session', async () => {
    const res = await new TestClient(server.url).get('/api/v1/audit');
    assert.equal(res.status, 401);
    assert.equal(res.json?.error?.code, 'not_signed_in');
  });
});
