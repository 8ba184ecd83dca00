import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestClient } from '../helpers/client.js';
import { PASSWORD, freshCode, serverWithEnrolledMember } from '../helpers/authenticator.js';
import { postForm } from '../helpers/forms.js';

/** The API returns the flow's view; the pages render the same view (issue 13: flows as objects). */

const hidden = (html: string, name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1];

test('the password step returns the flow view: methods, send targets, unavailable methods and trust-browser days', async (t) => {
  const { server, member } = await serverWithEnrolledMember(t);
  const client = new TestClient(server.url);
  const res = await client.post('/api/v1/auth/sign-in', { email: member.email, password: PASSWORD });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json?.status, 'second_factor_required');
  assert.deepEqual(res.json?.methods, ['totp', 'backup_code']);
  assert.deepEqual(res.json?.sendTargets, []);
  assert.deepEqual(res.json?.unavailable, []);
  assert.equal(typeof res.json?.trustBrowserDays, 'number');
  assert.ok((res.json?.trustBrowserDays as number) > 0, 'the default policy lets a browser be trusted');

  // The page renders the very same view: it offers "trust this browser" for the same number of days.
  const browser = new TestClient(server.url);
  const page = await browser.get('/sign-in');
  const next = await postForm(browser, '/sign-in', { _csrf: hidden(page.text, '_csrf')!, email: member.email, password: PASSWORD });
  assert.equal(next.headers.get('location'), '/sign-in/second-factor');
  const step = await browser.get('/sign-in/second-factor');
  assert.equal(step.status, 200);
  assert.match(step.text, new RegExp(`${res.json?.trustBrowserDays as number} days`));
});

test('return_to travels in the sign-in flow, not in a cookie of its own, and is used by the step that completes it', async (t) => {
  const { server, clock, member } = await serverWithEnrolledMember(t);
  const browser = new TestClient(server.url);
  const page = await browser.get(`/sign-in?return_to=${encodeURIComponent('/account/security?tab=1')}`);
  assert.equal(hidden(page.text, 'return_to'), '/account/security?tab=1');
  const next = await postForm(browser, '/sign-in', { _csrf: hidden(page.text, '_csrf')!, email: member.email, password: PASSWORD, return_to: '/account/security?tab=1' });
  assert.equal(next.headers.get('location'), '/sign-in/second-factor');
  assert.ok(![...browser.cookies.keys()].some((name) => name.includes('return')), `cookies: ${[...browser.cookies.keys()].join(', ')}`);

  const step = await browser.get('/sign-in/second-factor');
  const done = await postForm(browser, '/sign-in/second-factor', { _csrf: hidden(step.text, '_csrf')!, method: 'totp', code: freshCode(member.secret, clock) });
  assert.equal(done.status, 303, done.text.slice(0, 300));
  assert.equal(done.headers.get('location'), '/account/security?tab=1');

  // A later sign-in without a destination lands on the account page: the flow that carried it is complete.
  const again = new TestClient(server.url);
  const page2 = await again.get('/sign-in');
  await postForm(again, '/sign-in', { _csrf: hidden(page2.text, '_csrf')!, email: member.email, password: PASSWORD });
  clock.advance(30_000);
  const step2 = await again.get('/sign-in/second-factor');
  const done2 = await postForm(again, '/sign-in/second-factor', { _csrf: hidden(step2.text, '_csrf')!, method: 'totp', code: freshCode(member.secret, clock) });
  assert.equal(done2.headers.get('location'), '/account');
});

test('the step-up view from the API follows the session: satisfied after sign-in, then what is missing once the window passes', async (t) => {
  const { server, clock, member } = await serverWithEnrolledMember(t);
  const client = new TestClient(server.url);
  const signIn = await client.post('/api/v1/auth/sign-in', { email: member.email, password: PASSWORD });
  const done = await client.post('/api/v1/auth/second-factor', { challenge: signIn.json?.challenge, method: 'totp', code: freshCode(member.secret, clock) });
  assert.equal(done.status, 200, done.text);

  const fresh = await client.get('/api/v1/auth/reauthenticate');
  assert.equal(fresh.status, 200, fresh.text);
  assert.equal(fresh.json?.state, 'satisfied');
  assert.deepEqual(fresh.json?.missing, []);
  assert.deepEqual(
    (fresh.json?.methods as Array<{ method: string }>).map((m) => m.method),
    ['totp', 'backup_code'],
  );

  clock.advance(20 * 60_000); // past every re-authentication window, inside the session's idle timeout
  const stale = await client.get('/api/v1/auth/reauthenticate');
  assert.equal(stale.json?.state, 'proof_required');
  assert.deepEqual(stale.json?.missing, ['password', 'second_factor']);
  assert.equal(stale.json?.askPassword, true);
  assert.equal(stale.json?.askCode, true);

  const reauth = await client.post('/api/v1/auth/reauthenticate', { password: PASSWORD });
  assert.equal(reauth.status, 200, reauth.text);
  const half = await client.get('/api/v1/auth/reauthenticate');
  assert.deepEqual(half.json?.missing, ['second_factor'], 'the password alone leaves the code missing');

  const anonymous = await new TestClient(server.url).get('/api/v1/auth/reauthenticate');
  assert.equal(anonymous.status, 401);
});
