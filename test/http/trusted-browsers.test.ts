import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sha256 } from '../../src/core/crypto.js';
import { TestClient } from '../helpers/client.js';
import { TestClock } from '../helpers/clock.js';
import type { TestServer } from '../helpers/server.js';
import { startTestServer } from '../helpers/server.js';
import type { EnrolledMember } from '../helpers/authenticator.js';
import { PASSWORD, auditTypes, dbOf, enrolledMember, freshCode, passwordStep } from '../helpers/authenticator.js';

const DAY = 24 * 60 * 60_000;

async function setup(t: { after(fn: () => Promise<void>): void }, env: Record<string, string> = {}) {
  const clock = new TestClock();
  const server = await startTestServer({ clock, env });
  t.after(() => server.close());
  return { clock, server };
}

/** Full sign-in with a TOTP code in a new browser; returns the browser and the response. */
async function signInWithCode(server: TestServer, clock: TestClock, member: EnrolledMember, trustBrowser?: boolean) {
  const client = new TestClient(server.url);
  const challenge = await passwordStep(client, member.email);
  const res = await client.post('/api/v1/auth/second-factor', { challenge, method: 'totp', code: freshCode(member.secret, clock), ...(trustBrowser === undefined ? {} : { trustBrowser }) });
  assert.equal(res.status, 200, res.text);
  return { client, res };
}

async function passwordOnly(client: TestClient, email: string) {
  const res = await client.post('/api/v1/auth/sign-in', { email, password: PASSWORD });
  assert.equal(res.status, 200, res.text);
  return res.json?.status;
}

test('trustBrowser sets an HttpOnly twofold_trust cookie and the next sign-in skips the second step', async (t) => {
  const { server, clock } = await setup(t);
  const member = await enrolledMember(server, clock);
  const { client, res } = await signInWithCode(server, clock, member, true);
  const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('twofold_trust='));
  assert.ok(setCookie, 'trust cookie set');
  assert.match(setCookie, /;\s*HttpOnly/i);
  assert.match(setCookie, /;\s*SameSite=Lax/i);
  assert.match(setCookie, /;\s*Max-Age=7776000(;|$)/i, '90 days');
  const token = client.cookies.get('twofold_trust')!;
  assert.ok(!res.text.includes(token), 'the token is only in the cookie');

  // Stored as a hash only.
  const rows = await dbOf(server).selectFrom('trusted_browsers').selectAll().where('user_id', '=', member.user.id).execute();
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.token_hash, sha256(token));
  assert.ok(!JSON.stringify(rows).includes(token));
  assert.ok((await auditTypes(server, member.user.id)).includes('trusted_browser.created'));

  assert.equal((await client.post('/api/v1/auth/sign-out')).status, 204);
  const again = await client.post('/api/v1/auth/sign-in', { email: member.email, password: PASSWORD });
  assert.equal(again.status, 200, again.text);
  assert.equal(again.json?.status, 'signed_in');
  assert.deepEqual(again.json?.amr, ['pwd']);
  assert.equal((await client.get('/api/v1/session')).status, 200);
  const listed = (await client.get('/api/v1/trusted-browsers')).json?.trustedBrowsers as Array<{ lastUsedAt: string | null }>;
  assert.equal(listed.length, 1);
  assert.equal(listed[0]!.lastUsedAt, new Date(clock.now()).toISOString());

  // The cookie stands in for the second factor only: the password is still needed.
  const wrong = await client.post('/api/v1/auth/sign-in', { email: member.email, password: 'not the right password' });
  assert.equal(wrong.status, 401);
});

test('without trustBrowser there is no cookie and the next sign-in asks again', async (t) => {
  const { server, clock } = await setup(t);
  const member = await enrolledMember(server, clock);
  const { client, res } = await signInWithCode(server, clock, member, false);
  assert.ok(!res.headers.getSetCookie().some((c) => c.startsWith('twofold_trust=')));
  assert.equal(await passwordOnly(client, member.email), 'second_factor_required');
  assert.equal((await dbOf(server).selectFrom('trusted_browsers').select('id').execute()).length, 0);
});

test('TWOFOLD_TRUST_BROWSER_DAYS=0 sets no cookie even when asked', async (t) => {
  const { server, clock } = await setup(t, { TWOFOLD_TRUST_BROWSER_DAYS: '0' });
  const member = await enrolledMember(server, clock);
  const { client, res } = await signInWithCode(server, clock, member, true);
  assert.ok(!res.headers.getSetCookie().some((c) => c.startsWith('twofold_trust=')), res.headers.getSetCookie().join(' | '));
  assert.equal((await dbOf(server).selectFrom('trusted_browsers').select('id').execute()).length, 0);
  assert.equal(await passwordOnly(client, member.email), 'second_factor_required');
});

test("a trust cookie of user A does not skip the second step for user B", async (t) => {
  const { server, clock } = await setup(t);
  const alice = await enrolledMember(server, clock);
  const bob = await enrolledMember(server, clock);
  const { client } = await signInWithCode(server, clock, alice, true);
  const aliceTrust = client.cookies.get('twofold_trust')!;

  const browser = new TestClient(server.url);
  browser.cookies.set('twofold_trust', aliceTrust);
  assert.equal(await passwordOnly(browser, bob.email), 'second_factor_required');
  assert.equal(await passwordOnly(browser, alice.email), 'signed_in');
});

test('a trust cookie stops working after 90 days, and a forged one never works', async (t) => {
  const { server, clock } = await setup(t);
  const member = await enrolledMember(server, clock);
  const { client } = await signInWithCode(server, clock, member, true);
  const token = client.cookies.get('twofold_trust')!;

  const forged = new TestClient(server.url);
  forged.cookies.set('twofold_trust', `${token.slice(0, -2)}AA`);
  assert.equal(await passwordOnly(forged, member.email), 'second_factor_required');

  clock.advance(89 * DAY);
  const early = new TestClient(server.url);
  early.cookies.set('twofold_trust', token);
  assert.equal(await passwordOnly(early, member.email), 'signed_in');

  clock.advance(1 * DAY + 1000);
  const late = new TestClient(server.url);
  late.cookies.set('twofold_trust', token);
  assert.equal(await passwordOnly(late, member.email), 'second_factor_required');
});
