import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { currentBackend } from '../helpers/backend.js';
import { TestClient } from '../helpers/client.js';
import type { TestServer } from '../helpers/server.js';
import { startTestServer } from '../helpers/server.js';

/**
 * The form token is a hook on the whole pages scope (issue 13: CSRF as route config, not calls
 * in handlers): a write to any page route without the token is refused before its handler runs,
 * and changes nothing. The OIDC provider's own endpoints say they carry none and are left to it.
 */

const PASSWORD = 'correct horse battery staple 42';
const SYSTEM = { userId: null, meta: null };
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

let server: TestServer;

before(async () => {
  server = await startTestServer();
  const org = await server.services.accounts.createOrganisation('Org', null, SYSTEM);
  await server.services.accounts.createUser({ orgId: org.id, email: 'alice@example.com', password: PASSWORD }, SYSTEM);
});

after(() => server.close());

// One or more writes from each page area, with fields that would otherwise do something.
const WRITES: Array<[string, Record<string, string>]> = [
  ['/sign-in', { email: 'alice@example.com', password: PASSWORD }],
  ['/sign-out', {}],
  ['/account/password', { current: PASSWORD, password: 'another fine passphrase 77', confirm: 'another fine passphrase 77' }],
  ['/account/time-zone', { timeZone: 'Europe/Paris' }],
  ['/account/security/totp', { label: 'Phone' }],
  ['/account/security/backup-codes', {}],
  ['/account/security/sessions/sign-out-others', {}],
  ['/account/security/notifications', { newDevice: '0' }],
  ['/reauthenticate', { password: PASSWORD, next: '/account' }],
  ['/forgot-password', { email: 'alice@example.com' }],
  ['/admin/policy', { mode: 'required' }],
  ['/admin/clients', { name: 'App', redirectUris: 'https://app.example/cb' }],
  ['/deploy/new', { name: 'Production' }],
];

describe(`the form token guards every page write (${currentBackend()})`, () => {
  test('a signed-in browser posting without the token is refused with the HTML page, and nothing changes', async () => {
    const client = new TestClient(server.url);
    assert.equal((await client.post('/api/v1/auth/sign-in', { email: 'alice@example.com', password: PASSWORD })).status, 200);
    await client.get('/account'); // the browser now holds a form-token cookie, but the forms below omit the field
    const db = server.runtime.database.db;
    const auditBefore = (await db.selectFrom('audit_events').select('id').execute()).length;
    for (const [path, fields] of WRITES) {
      const res = await client.post(path, new URLSearchParams(fields).toString(), FORM);
      assert.equal(res.status, 403, `${path}: ${res.status} ${res.text.slice(0, 200)}`);
      assert.match(res.headers.get('content-type') ?? '', /text\/html/, path);
      assert.match(res.text, /form/i, path);
    }
    assert.equal((await db.selectFrom('audit_events').select('id').execute()).length, auditBefore, 'no write left a trace');
    assert.equal((await client.get('/api/v1/session')).status, 200, 'still signed in: /sign-out did not run');
  });

  test('the OIDC provider endpoints carry no form token and are answered by the provider, not refused as a stale form', async () => {
    const client = new TestClient(server.url);
    const res = await client.post('/oidc/token', new URLSearchParams({ grant_type: 'authorization_code', code: 'nope' }).toString(), FORM);
    assert.notEqual(res.status, 403, res.text.slice(0, 200));
    assert.match(res.headers.get('content-type') ?? '', /json/);
    assert.ok(typeof res.json?.error === 'string', res.text.slice(0, 200));
  });

  test('an unknown page path keeps its 404', async () => {
    const res = await new TestClient(server.url).post('/no/such/page', 'a=1', FORM);
    assert.equal(res.status, 404);
  });
});
