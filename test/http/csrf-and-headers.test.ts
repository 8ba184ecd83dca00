import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { currentBackend } from '../helpers/backend.js';
import { TestClient } from '../helpers/client.js';
import type { TestServer } from '../helpers/server.js';
import { startTestServer } from '../helpers/server.js';

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

async function signedIn(): Promise<TestClient> {
  const client = new TestClient(server.url);
  assert.equal((await client.post('/api/v1/auth/sign-in', { email: 'alice@example.com', password: PASSWORD })).status, 200);
  return client;
}

/** GETs a page and returns the hidden _csrf field's value (the browser now holds the matching cookie). */
async function formToken(client: TestClient, path: string): Promise<string> {
  const page = await client.get(path);
  assert.equal(page.status, 200);
  const token = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1];
  assert.ok(token, `${path} has a _csrf field`);
  return token;
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

describe(`CSRF and response headers (${currentBackend()})`, () => {
  test('a cookie-authenticated write from another site is refused', async () => {
    const client = await signedIn();
    const attacks: Record<string, string>[] = [{ origin: 'https://evil.example' }, { 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }, { origin: 'null' }];
    for (const headers of attacks) {
      const out = await client.post('/api/v1/auth/sign-out', undefined, headers);
      assert.equal(out.status, 403, JSON.stringify(headers));
      assert.equal(out.json?.error?.code, 'csrf_failed');
      const change = await client.post('/api/v1/me/password', { currentPassword: PASSWORD, newPassword: 'a brand new passphrase 99' }, headers);
      assert.equal(change.status, 403);
    }
    assert.equal((await client.get('/api/v1/session')).status, 200, 'the session survived');
    const changed = await server.runtime.database.db.selectFrom('audit_events').select('id').where('event_type', 'in', ['sign_out', 'password.changed']).execute();
    assert.equal(changed.length, 0);
  });

  test('the same write from our own origin, or from a non-browser client, works', async () => {
    const sameOrigin = await signedIn();
    assert.equal((await sameOrigin.post('/api/v1/auth/sign-out', undefined, { origin: server.url, 'sec-fetch-site': 'same-origin' })).status, 204);
    const curlLike = await signedIn();
    assert.equal((await curlLike.post('/api/v1/auth/sign-out')).status, 204);
    assert.equal((await curlLike.get('/api/v1/session')).status, 401);
  });

  test('a request without our cookies is not subject to the origin check', async () => {
    const client = new TestClient(server.url, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' });
    const res = await client.post('/api/v1/auth/sign-in', { email: 'alice@example.com', password: 'wrong password here' });
    assert.equal(res.status, 401);
    assert.equal(res.json?.error?.code, 'invalid_credentials');
  });

  test('form posts need the matching _csrf token', async () => {
    const client = new TestClient(server.url);
    const token = await formToken(client, '/sign-in');
    const fields = { email: 'alice@example.com', password: PASSWORD };
    const badTokens: Record<string, string>[] = [{}, { _csrf: 'x'.repeat(43) }, { _csrf: '' }];
    for (const bad of badTokens) {
      const res = await client.request('POST', '/sign-in', form({ ...fields, ...bad }), FORM);
      assert.equal(res.status, 403, JSON.stringify(bad));
      // A browser gets a page, not JSON: what happened, a way back, and a fresh form token.
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(res.text, /This form was open too long/);
      assert.match(res.text, /href="\/sign-in"/);
    }
    // A token without its cookie (another browser's token) is refused too.
    const stranger = new TestClient(server.url);
    const refused = await stranger.request('POST', '/sign-in', form({ ...fields, _csrf: token }), FORM);
    assert.equal(refused.status, 403);
    // A browser without a form token gets one with the explanation, so its next try works.
    assert.match(refused.headers.getSetCookie().join('\n'), /twofold_csrf=[\w-]{43};/);
    assert.equal(client.cookies.has('twofold_session'), false);

    // The refused posts kept the browser's sound token: its open form still works.
    const ok = await client.request('POST', '/sign-in', form({ ...fields, _csrf: token }), FORM);
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get('location'), '/account');
    assert.ok(client.cookies.has('twofold_session'));
  });

  test('a signed-in form post with a wrong token does not sign out', async () => {
    const client = await signedIn();
    await formToken(client, '/account');
    assert.equal((await client.request('POST', '/sign-out', form({ _csrf: 'wrong' }), FORM)).status, 403);
    assert.equal((await client.get('/api/v1/session')).status, 200);
  });

  test('pages carry a strict CSP and the usual security headers', async () => {
    const page = await new TestClient(server.url).get('/sign-in');
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const csp = page.headers.get('content-security-policy') ?? '';
    for (const directive of ["default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "form-action 'self'", "object-src 'none'", "base-uri 'none'"]) {
      assert.ok(csp.includes(directive), `CSP has ${directive}: ${csp}`);
    }
    assert.ok(!csp.includes('unsafe-inline'), 'no inline scripts or styles allowed');
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
    assert.ok(page.headers.get('x-frame-options'));
    assert.equal(page.headers.get('cache-control'), 'no-store');
    const csrfCookie = page.headers.getSetCookie().find((c) => c.startsWith('twofold_csrf='));
    assert.ok(csrfCookie);
    assert.match(csrfCookie, /HttpOnly/i);
    assert.match(csrfCookie, /SameSite=Strict/i);
    const api = await new TestClient(server.url).get('/api/v1/session');
    assert.equal(api.headers.get('cache-control'), 'no-store');
  });

  test('health, readiness and metrics answer', async () => {
    const client = new TestClient(server.url);
    const health = await client.get('/healthz');
    assert.equal(health.status, 200);
    assert.equal(health.json?.status, 'ok');
    const ready = await client.get('/readyz');
    assert.equal(ready.status, 200);
    assert.equal(ready.json?.database, currentBackend());
    const metrics = await client.get('/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.text, /^twofold_http_requests_total\{method="GET",route="\/healthz",status="200"\} \d+/m);
    assert.match(metrics.text, /twofold_http_request_duration_seconds_bucket/);
  });

  test('the OpenAPI document lists the API routes and hides the pages', async () => {
    const res = await new TestClient(server.url).get('/api/v1/openapi.json');
    assert.equal(res.status, 200);
    const doc = res.json as { openapi: string; paths: Record<string, Record<string, unknown>> };
    assert.match(doc.openapi, /^3\./);
    const expected: [string, string][] = [
      ['/api/v1/auth/sign-in', 'post'],
      ['/api/v1/auth/second-factor', 'post'],
      ['/api/v1/auth/sign-out', 'post'],
      ['/api/v1/auth/reauthenticate', 'post'],
      ['/api/v1/session', 'get'],
      ['/api/v1/sessions', 'get'],
      ['/api/v1/sessions/{id}', 'delete'],
      ['/api/v1/me/password', 'post'],
      ['/api/v1/audit', 'get'],
      ['/api/v1/factors', 'get'],
      ['/api/v1/factors/totp', 'post'],
      ['/api/v1/factors/totp/{id}/confirm', 'post'],
      ['/api/v1/factors/{id}', 'delete'],
      ['/api/v1/backup-codes', 'get'],
      ['/api/v1/backup-codes', 'post'],
      ['/api/v1/trusted-browsers', 'get'],
      ['/api/v1/trusted-browsers/{id}', 'delete'],
    ];
    for (const [path, method] of expected) assert.ok(doc.paths[path]?.[method], `${method.toUpperCase()} ${path} documented`);
    for (const hidden of ['/sign-in', '/setup', '/account', '/metrics']) assert.equal(doc.paths[hidden], undefined, `${hidden} hidden`);
  });
});
