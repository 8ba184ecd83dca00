import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { currentBackend } from '../helpers/backend.js';
import { TestClient } from '../helpers/client.js';
import type { TestResponse } from '../helpers/client.js';
import type { TestServer } from '../helpers/server.js';
import { startTestServer } from '../helpers/server.js';

const PASSWORD = 'correct horse battery staple 42';
const SYSTEM = { userId: null, meta: null };
const JSON_TYPE = { 'content-type': 'application/json' };
const TABLES = ['users', 'sessions', 'audit_events', 'rate_limits', 'sign_in_flows', 'factors', 'backup_codes', 'trusted_browsers'] as const;

/** Every JSON route that takes a body, with bodies that miss a required field or carry a wrong type. */
const BODY_ROUTES: { path: string; missing?: unknown[]; wrongType: unknown[] }[] = [
  {
    path: '/api/v1/auth/sign-in',
    missing: [{}, { email: 'alice@example.com' }, { password: PASSWORD }],
    wrongType: [{ email: 1, password: PASSWORD }, { email: 'alice@example.com', password: null }, [], 'text', { email: 'alice@example.com', password: PASSWORD, admin: true }],
  },
  {
    path: '/api/v1/auth/second-factor',
    missing: [{}, { challenge: 'x', method: 'totp' }],
    wrongType: [{ challenge: 'x', method: 'totp', code: 123456 }, { challenge: 'x', method: 'totp', code: '123456', trustBrowser: 'yes' }],
  },
  {
    path: '/api/v1/auth/reauthenticate',
    missing: [{}, { method: 'totp' }],
    wrongType: [{ password: 12345678 }, { method: 'totp', code: 123456 }],
  },
  {
    path: '/api/v1/me/password',
    missing: [{}, { currentPassword: PASSWORD }],
    wrongType: [{ currentPassword: PASSWORD, newPassword: ['x'] }, { currentPassword: true, newPassword: 'another long passphrase 77' }],
  },
  { path: '/api/v1/factors/totp', wrongType: [{ label: 5 }, { label: 'x'.repeat(65) }, { secret: 'JBSWY3DPEHPK3PXP' }, []] },
  { path: `/api/v1/factors/totp/${randomUUID()}/confirm`, missing: [{}], wrongType: [{ code: 123456 }, { code: '1'.repeat(17) }] },
];
const BODYLESS_POSTS = ['/api/v1/auth/sign-out', '/api/v1/backup-codes'];
const DELETES = ['/api/v1/sessions/', '/api/v1/factors/', '/api/v1/trusted-browsers/'].map((p) => p + randomUUID());
/** Every write route: each must refuse a body that is broken, too big or not JSON before doing anything. */
const WRITES: [method: string, path: string][] = [
  ...[...BODY_ROUTES.map((r) => r.path), ...BODYLESS_POSTS].map((p): [string, string] => ['POST', p]),
  ...DELETES.map((p): [string, string] => ['DELETE', p]),
];

let server: TestServer;
let client: TestClient;

before(async () => {
  server = await startTestServer();
  const org = await server.services.accounts.createOrganisation('Org', null, SYSTEM);
  await server.services.accounts.createUser({ orgId: org.id, email: 'alice@example.com', password: PASSWORD }, SYSTEM);
  client = new TestClient(server.url);
  assert.equal((await client.post('/api/v1/auth/sign-in', { email: 'alice@example.com', password: PASSWORD })).status, 200);
});

after(() => server.close());

async function rowCounts(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of TABLES) {
    const row = await server.runtime.database.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    counts[table] = Number(row.n);
  }
  return counts;
}

/** Runs the requests and checks each refusal, then that no table gained or lost a row. */
async function expectRefusals(cases: { label: string; send: () => Promise<TestResponse>; status: number; code: string }[]): Promise<void> {
  const before = await rowCounts();
  for (const c of cases) {
    const res = await c.send();
    assert.equal(res.status, c.status, `${c.label}: ${res.text}`);
    assert.equal(res.json?.error?.code, c.code, `${c.label}: ${res.text}`);
    assert.equal(typeof res.json?.error?.message, 'string');
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  }
  assert.deepEqual(await rowCounts(), before, 'nothing was written');
}

describe(`bad input on the JSON API (${currentBackend()})`, () => {
  test('malformed JSON is 400 invalid_json on every route with a body', async () => {
    const bodies = ['{bad', '{"email": "a@example.com",}', '', '\u0000'];
    await expectRefusals(
      WRITES.flatMap(([method, path]) =>
        bodies.map((body) => ({ label: `${method} ${path} ${JSON.stringify(body)}`, send: () => client.request(method, path, body, JSON_TYPE), status: 400, code: 'invalid_json' })),
      ),
    );
  });

  test('missing fields are 400 invalid_request', async () => {
    await expectRefusals(
      BODY_ROUTES.flatMap((r) => (r.missing ?? []).map((body) => ({ label: `${r.path} ${JSON.stringify(body)}`, send: () => client.post(r.path, body), status: 400, code: 'invalid_request' }))),
    );
  });

  test('wrong types and unknown fields are 400 invalid_request, never coerced', async () => {
    await expectRefusals(
      BODY_ROUTES.flatMap((r) =>
        r.wrongType.map((body) => ({ label: `${r.path} ${JSON.stringify(body)}`, send: () => client.request('POST', r.path, JSON.stringify(body), JSON_TYPE), status: 400, code: 'invalid_request' })),
      ),
    );
  });

  test('a body over 64 KiB is 413 body_too_large', async () => {
    const huge = JSON.stringify({ email: 'alice@example.com', password: 'x'.repeat(65 * 1024) });
    await expectRefusals(WRITES.map(([method, path]) => ({ label: `${method} ${path}`, send: () => client.request(method, path, huge, JSON_TYPE), status: 413, code: 'body_too_large' })));
  });

  test('a body that is not JSON is 415, even a form with the right password', async () => {
    const form = `email=alice%40example.com&password=${encodeURIComponent(PASSWORD)}`;
    const json = JSON.stringify({ email: 'alice@example.com', password: PASSWORD });
    const fresh = new TestClient(server.url);
    await expectRefusals([
      ...WRITES.map(([method, path]) => ({ label: `${method} ${path} text/plain`, send: () => client.request(method, path, json, { 'content-type': 'text/plain' }), status: 415, code: 'unsupported_media_type' })),
      { label: 'form', send: () => fresh.request('POST', '/api/v1/auth/sign-in', form, { 'content-type': 'application/x-www-form-urlencoded' }), status: 415, code: 'unsupported_media_type' },
      { label: 'multipart', send: () => fresh.request('POST', '/api/v1/auth/sign-in', json, { 'content-type': 'multipart/form-data; boundary=x' }), status: 415, code: 'unsupported_media_type' },
      { label: 'no type', send: () => fresh.request('POST', '/api/v1/auth/sign-in', json, { 'content-type': '' }), status: 415, code: 'unsupported_media_type' },
    ]);
    assert.equal(fresh.cookies.has('twofold_session'), false);
  });

  test('unknown ids are 404 with a stable code, and ids too long are 400', async () => {
    const id = randomUUID();
    await expectRefusals([
      { label: 'session', send: () => client.delete(`/api/v1/sessions/${id}`), status: 404, code: 'session_not_found' },
      { label: 'factor', send: () => client.delete(`/api/v1/factors/${id}`), status: 404, code: 'factor_not_found' },
      { label: 'confirm', send: () => client.post(`/api/v1/factors/totp/${id}/confirm`, { code: '123456' }), status: 404, code: 'factor_not_found' },
      { label: 'trusted browser', send: () => client.delete(`/api/v1/trusted-browsers/${id}`), status: 404, code: 'trusted_browser_not_found' },
      { label: 'long id', send: () => client.delete(`/api/v1/sessions/${'a'.repeat(65)}`), status: 400, code: 'invalid_request' },
    ]);
  });

  test('unknown routes and methods are 404 not_found', async () => {
    await expectRefusals([
      { label: 'GET', send: () => client.get('/api/v1/nothing-here'), status: 404, code: 'not_found' },
      { label: 'POST', send: () => client.post('/api/v1/nothing-here', {}), status: 404, code: 'not_found' },
      { label: 'DELETE', send: () => client.delete('/api/v2/session'), status: 404, code: 'not_found' },
      { label: 'wrong method', send: () => client.request('PUT', '/api/v1/session', {}), status: 404, code: 'not_found' },
    ]);
  });

  test('bad audit queries are 400 invalid_request', async () => {
    await expectRefusals(
      ['limit=0', 'limit=201', 'limit=abc', 'scope=everyone', 'bogus=1', `cursor=${'x'.repeat(65)}`].map((q) => ({
        label: q,
        send: () => client.get(`/api/v1/audit?${q}`),
        status: 400,
        code: 'invalid_request',
      })),
    );
  });

  test('the session still works after all of that', async () => {
    const res = await client.get('/api/v1/session');
    assert.equal(res.status, 200);
    assert.equal((res.json?.user as { email: string }).email, 'alice@example.com');
  });
});
