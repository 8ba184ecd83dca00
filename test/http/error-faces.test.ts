import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { currentBackend } from '../helpers/backend.js';
import { TestClient } from '../helpers/client.js';
import type { TestResponse } from '../helpers/client.js';
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

function assertJsonError(res: TestResponse, status: number, code: string): void {
  assert.equal(res.status, status);
  assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.deepEqual(Object.keys(res.json ?? {}), ['error']);
  assert.equal(res.json?.error?.code, code);
  assert.equal(typeof res.json?.error?.message, 'string');
  assert.deepEqual(Object.keys(res.json?.error ?? {}).sort(), ['code', 'message']);
}

function assertHtmlError(res: TestResponse, status: number, text: RegExp): void {
  assert.equal(res.status, status);
  assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(res.json, undefined, 'not JSON');
  assert.match(res.text, /^<!DOCTYPE html>/i);
  assert.match(res.text, text);
}

describe(`Errors: JSON for the API, a page for a browser (${currentBackend()})`, () => {
  test('a write from another site: 403 csrf_failed as JSON from the API, as a page from a form route', async () => {
    const client = new TestClient(server.url);
    assert.equal((await client.post('/api/v1/auth/sign-in', { email: 'alice@example.com', password: PASSWORD })).status, 200);
    assert.equal((await client.get('/account')).status, 200, 'the browser holds a form token');
    const evil = { origin: 'https://evil.example' };

    assertJsonError(await client.post('/api/v1/auth/sign-out', undefined, evil), 403, 'csrf_failed');
    const page = await client.request('POST', '/sign-out', new URLSearchParams({ _csrf: 'x' }).toString(), { ...FORM, ...evil });
    assertHtmlError(page, 403, /came from another site and was refused/);
    // A forgery is not a stale form: no explanation of one, and the browser's form token is left alone.
    assert.doesNotMatch(page.text, /This form was open too long/);
    assert.equal(page.headers.getSetCookie().some((c) => c.startsWith('twofold_csrf=')), false);
    assert.equal((await client.get('/api/v1/session')).status, 200, 'still signed in');
  });

  test('an invalid request: 400 invalid_request as JSON from the API, as a page from a form route', async () => {
    const client = new TestClient(server.url);
    assertJsonError(await client.post('/api/v1/auth/sign-in', { email: 1, password: PASSWORD }), 400, 'invalid_request');
    const page = await client.request('POST', '/sign-in', new URLSearchParams({ email: 'a'.repeat(3000), password: PASSWORD }).toString(), FORM);
    assertHtmlError(page, 400, /The request is not valid/);
  });

  test('a stale form links back to the Referer when it is a path of this site, else to the page above the form', async () => {
    const client = new TestClient(server.url);
    assert.equal((await client.post('/api/v1/auth/sign-in', { email: 'alice@example.com', password: PASSWORD })).status, 200);
    assert.equal((await client.get('/account')).status, 200);
    const post = (referer?: string) =>
      client.request('POST', '/account/time-zone', new URLSearchParams({ _csrf: 'stale', timeZone: 'Europe/Paris' }).toString(), { ...FORM, ...(referer ? { referer } : {}) });
    const linkOf = (res: TestResponse) => /<a href="([^"]*)">Back to the page<\/a>/.exec(res.text)?.[1];

    const fromSecurity = await post(`${server.url}/account/security?tab=1`);
    assertHtmlError(fromSecurity, 403, /This form was open too long/);
    assert.equal(linkOf(fromSecurity), '/account/security?tab=1');
    assert.equal(linkOf(await post('https://evil.example/account/security')), '/account');
    assert.equal(linkOf(await post(`${server.url}//evil.example/x`)), '/account');
    assert.equal(linkOf(await post()), '/account');
    const account = await client.get('/account');
    assert.doesNotMatch(/data-testid="account-time-zone">([^<]*)/.exec(account.text)?.[1] ?? 'missing', /Europe\/Paris|missing/, 'nothing was saved');
  });

  test('the API still refuses a form body with 415 JSON, before anything else', async () => {
    const client = new TestClient(server.url);
    const res = await client.request('POST', '/api/v1/auth/sign-in', 'email=a', FORM);
    assertJsonError(res, 415, 'unsupported_media_type');
  });
});
