import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { currentBackend } from '../helpers/backend.js';
import { TestClient } from '../helpers/client.js';
import { postForm } from '../helpers/forms.js';
import { ENCODED_SLASH_PATHS, MALICIOUS_RETURN_PATHS, isSameSitePath } from '../helpers/redirects.js';
import type { TestServer } from '../helpers/server.js';
import { startTestServer } from '../helpers/server.js';

const PASSWORD = 'correct horse battery staple 42';
const SYSTEM = { userId: null, meta: null };
const EMAIL = 'alice@example.com';

let server: TestServer;

before(async () => {
  server = await startTestServer();
  const org = await server.services.accounts.createOrganisation('Org', null, SYSTEM);
  await server.services.accounts.createUser({ orgId: org.id, email: EMAIL, password: PASSWORD }, SYSTEM);
});

after(() => server.close());

async function signedIn(): Promise<TestClient> {
  const client = new TestClient(server.url);
  assert.equal((await client.post('/api/v1/auth/sign-in', { email: EMAIL, password: PASSWORD })).status, 200);
  return client;
}

function hidden(html: string, name: string): string | undefined {
  const raw = new RegExp(`<input type="hidden" name="${name}" value="([^"]*)"`).exec(html)?.[1];
  return raw?.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#39;/g, "'");
}

/** A Location (or link) a browser on this site would follow without leaving it; and none of the attacker's host in it. */
function assertStaysHere(location: string | null | undefined, sent: string) {
  assert.ok(isSameSitePath(location), `${JSON.stringify(sent)} led to ${JSON.stringify(location)}`);
  assert.equal(location!.includes('evil.example'), false, `${JSON.stringify(sent)} led to ${JSON.stringify(location)}`);
}

const q = (value: string) => encodeURIComponent(value);

describe(`return_to and next stay on this site (${currentBackend()})`, () => {
  test('the reported request: GET /sign-in?return_to=%2F.%2F%2Fevil.example%2Fphish with a session', async () => {
    const client = await signedIn();
    const res = await client.get('/sign-in?return_to=%2F.%2F%2Fevil.example%2Fphish');
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), '/account');
  });

  test('ordinary return paths still work', async () => {
    const client = await signedIn();
    const res = await client.get(`/sign-in?return_to=${q('/account/security?x=1')}`);
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), '/account/security?x=1');

    const fresh = new TestClient(server.url);
    const page = await fresh.get(`/sign-in?return_to=${q('/account/security')}`);
    assert.equal(page.status, 200);
    assert.equal(hidden(page.text, 'return_to'), '/account/security', 'the form carries the destination into the sign-in flow');
    const done = await postForm(fresh, '/sign-in', { _csrf: hidden(page.text, '_csrf')!, email: EMAIL, password: PASSWORD, return_to: hidden(page.text, 'return_to')! });
    assert.equal(done.status, 303);
    assert.equal(done.headers.get('location'), '/account/security');

    const reauth = await client.get(`/reauthenticate?next=${q('/account/security')}`);
    assert.equal(hidden(reauth.text, 'next'), '/account/security');
  });

  test('GET /sign-in?return_to=… with a session redirects only to this site', async () => {
    const client = await signedIn();
    for (const value of MALICIOUS_RETURN_PATHS) {
      const res = await client.get(`/sign-in?return_to=${q(value)}`);
      assert.equal(res.status, 302, value);
      assertStaysHere(res.headers.get('location'), value);
    }
    // Encoded slashes are paths on this site to a browser: kept as they are.
    for (const value of ENCODED_SLASH_PATHS) {
      const res = await client.get(`/sign-in?return_to=${q(value)}`);
      assert.equal(res.status, 302, value);
      assert.equal(res.headers.get('location'), value);
      assert.ok(isSameSitePath(res.headers.get('location')), value);
    }
  });

  test('GET /sign-in?return_to=… then signing in (carried by the form, or a forged form field) redirects only to this site', async () => {
    for (const value of MALICIOUS_RETURN_PATHS) {
      const client = new TestClient(server.url);
      const page = await client.get(`/sign-in?return_to=${q(value)}`);
      assert.equal(page.status, 200, value);
      const carried = hidden(page.text, 'return_to');
      if (carried !== undefined) assertStaysHere(carried, value);
      // Whatever the form posts is checked again before the sign-in flow keeps it.
      const res = await postForm(client, '/sign-in', { _csrf: hidden(page.text, '_csrf')!, email: EMAIL, password: PASSWORD, return_to: value });
      assert.equal(res.status, 303, value);
      assertStaysHere(res.headers.get('location'), value);
    }
  });

  test('GET /reauthenticate?next=… carries only a path on this site into its form', async () => {
    const client = await signedIn();
    for (const value of MALICIOUS_RETURN_PATHS) {
      const res = await client.get(`/reauthenticate?next=${q(value)}`);
      assert.equal(res.status, 200, value);
      assertStaysHere(hidden(res.text, 'next'), value);
    }
  });

  test('POST /reauthenticate with next=… redirects only to this site', async () => {
    const client = await signedIn();
    const csrf = hidden((await client.get('/reauthenticate')).text, '_csrf')!;
    for (const value of MALICIOUS_RETURN_PATHS) {
      const res = await postForm(client, '/reauthenticate', { _csrf: csrf, next: value, password: PASSWORD });
      assert.equal(res.status, 303, `${value}: ${res.text.slice(0, 200)}`);
      assertStaysHere(res.headers.get('location'), value);
    }
  });

  test('POST /reauthenticate (refused) and /reauthenticate/send carry only a path on this site into the form', async () => {
    const client = await signedIn();
    const csrf = hidden((await client.get('/reauthenticate')).text, '_csrf')!;
    for (const value of MALICIOUS_RETURN_PATHS) {
      const wrong = await postForm(client, '/reauthenticate', { _csrf: csrf, next: value, password: 'not the password, sorry' });
      assert.equal(wrong.headers.get('location'), null, value);
      assertStaysHere(hidden(wrong.text, 'next'), value);
      const send = await postForm(client, '/reauthenticate/send', { _csrf: csrf, next: value, method: 'sms' });
      assert.equal(send.headers.get('location'), null, value);
      assertStaysHere(hidden(send.text, 'next'), value);
    }
  });
});
