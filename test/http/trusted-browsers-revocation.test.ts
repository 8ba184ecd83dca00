import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestClient } from '../helpers/client.js';
import type { TestClock } from '../helpers/clock.js';
import type { TestServer } from '../helpers/server.js';
import type { EnrolledMember } from '../helpers/authenticator.js';
import { PASSWORD, auditTypes, dbOf, enrolledMember, freshCode, passwordStep, serverWithEnrolledMember } from '../helpers/authenticator.js';

const MINUTE = 60_000;

const setup = serverWithEnrolledMember;

/** A new browser that signs in with a code and ticks "trust this browser". */
async function trustedBrowser(server: TestServer, clock: TestClock, member: EnrolledMember, userAgent = 'Browser A'): Promise<TestClient> {
  const client = new TestClient(server.url, { 'user-agent': userAgent });
  const challenge = await passwordStep(client, member.email);
  const res = await client.post('/api/v1/auth/second-factor', { challenge, method: 'totp', code: freshCode(member.secret, clock), trustBrowser: true });
  assert.equal(res.status, 200, res.text);
  assert.ok(client.cookies.get('twofold_trust'));
  return client;
}

/** What the password step says for a browser holding this trust cookie. */
async function passwordStepWith(server: TestServer, trustCookie: string, email: string, password = PASSWORD) {
  const client = new TestClient(server.url);
  client.cookies.set('twofold_trust', trustCookie);
  const res = await client.post('/api/v1/auth/sign-in', { email, password });
  assert.equal(res.status, 200, res.text);
  return res.json?.status;
}

test('trusted browsers are listed and can be revoked through the API', async (t) => {
  const { server, clock, member } = await setup(t);
  const a = await trustedBrowser(server, clock, member, 'Browser A');
  await trustedBrowser(server, clock, member, 'Browser B');

  const listed = await member.client.get('/api/v1/trusted-browsers');
  assert.equal(listed.status, 200);
  const browsers = listed.json?.trustedBrowsers as Array<{ id: string; userAgent: string; ip: string; createdAt: string; expiresAt: string }>;
  assert.deepEqual(browsers.map((b) => b.userAgent).sort(), ['Browser A', 'Browser B']);
  for (const b of browsers) {
    assert.equal(b.ip, '127.0.0.1');
    assert.equal(Date.parse(b.expiresAt) - Date.parse(b.createdAt), 90 * 24 * 60 * MINUTE);
    assert.equal(Object.keys(b).some((k) => /token|hash/i.test(k)), false, 'no token material in the listing');
  }
  const idOfA = browsers.find((b) => b.userAgent === 'Browser A')!.id;

  const revoked = await member.client.delete(`/api/v1/trusted-browsers/${idOfA}`);
  assert.equal(revoked.status, 204);
  const left = (await member.client.get('/api/v1/trusted-browsers')).json?.trustedBrowsers as Array<{ userAgent: string }>;
  assert.deepEqual(left.map((b) => b.userAgent), ['Browser B']);
  assert.equal(await passwordStepWith(server, a.cookies.get('twofold_trust')!, member.email), 'second_factor_required');
  assert.ok((await auditTypes(server, member.user.id)).includes('trusted_browser.revoked'));

  const twice = await member.client.delete(`/api/v1/trusted-browsers/${idOfA}`);
  assert.equal(twice.status, 404);
  assert.equal(twice.json?.error?.code, 'trusted_browser_not_found');
});

test("nobody can list or revoke another user's trusted browsers", async (t) => {
  const { server, clock, member } = await setup(t);
  const browser = await trustedBrowser(server, clock, member);
  const other = await enrolledMember(server, clock);
  const id = ((await member.client.get('/api/v1/trusted-browsers')).json?.trustedBrowsers as Array<{ id: string }>)[0]!.id;

  assert.deepEqual((await other.client.get('/api/v1/trusted-browsers')).json?.trustedBrowsers, []);
  const res = await other.client.delete(`/api/v1/trusted-browsers/${id}`);
  assert.equal(res.status, 404);
  assert.equal((await dbOf(server).selectFrom('trusted_browsers').select('revoked_at').where('id', '=', id).executeTakeFirstOrThrow()).revoked_at, null);
  assert.equal(await passwordStepWith(server, browser.cookies.get('twofold_trust')!, member.email), 'signed_in');
  assert.equal((await new TestClient(server.url).get('/api/v1/trusted-browsers')).status, 401);
});

test('changing the password revokes every trusted browser', async (t) => {
  const { server, clock, member } = await setup(t);
  const a = await trustedBrowser(server, clock, member, 'Browser A');
  const b = await trustedBrowser(server, clock, member, 'Browser B');
  const newPassword = 'a completely different passphrase 77';

  const res = await a.post('/api/v1/me/password', { currentPassword: PASSWORD, newPassword });
  assert.equal(res.status, 204, res.text);
  const rows = await dbOf(server).selectFrom('trusted_browsers').select('revoked_at').where('user_id', '=', member.user.id).execute();
  assert.equal(rows.length, 2);
  for (const r of rows) assert.notEqual(r.revoked_at, null);
  assert.deepEqual((await a.get('/api/v1/trusted-browsers')).json?.trustedBrowsers, []);
  for (const browser of [a, b]) {
    assert.equal(await passwordStepWith(server, browser.cookies.get('twofold_trust')!, member.email, newPassword), 'second_factor_required');
  }
});

test('removing the last factor revokes every trusted browser, for good', async (t) => {
  const { server, clock, member } = await setup(t);
  const browser = await trustedBrowser(server, clock, member);
  const trust = browser.cookies.get('twofold_trust')!;

  clock.advance(6 * MINUTE);
  const reauth = await browser.post('/api/v1/auth/reauthenticate', { method: 'totp', code: freshCode(member.secret, clock) });
  assert.equal(reauth.status, 200, reauth.text);
  assert.equal((await browser.delete(`/api/v1/factors/${member.factorId}`)).status, 204);
  const rows = await dbOf(server).selectFrom('trusted_browsers').select('revoked_at').where('user_id', '=', member.user.id).execute();
  assert.equal(rows.length, 1);
  assert.notEqual(rows[0]!.revoked_at, null);

  // A new authenticator later does not bring the old trust back.
  const started = await browser.post('/api/v1/factors/totp', { label: 'New phone' });
  assert.equal(started.status, 201, started.text);
  const { id, secret } = started.json as { id: string; secret: string };
  assert.equal((await browser.post(`/api/v1/factors/totp/${id}/confirm`, { code: freshCode(secret, clock) })).status, 200);
  assert.equal(await passwordStepWith(server, trust, member.email), 'second_factor_required');
});

test('removing one of two factors keeps trusted browsers', async (t) => {
  const { server, clock, member } = await setup(t);
  const browser = await trustedBrowser(server, clock, member);
  const started = await browser.post('/api/v1/factors/totp', { label: 'Second' });
  const { id, secret } = started.json as { id: string; secret: string };
  assert.equal((await browser.post(`/api/v1/factors/totp/${id}/confirm`, { code: freshCode(secret, clock) })).status, 200);

  assert.equal((await browser.delete(`/api/v1/factors/${member.factorId}`)).status, 204, 'fresh sign-in counts as recent');
  assert.equal(await passwordStepWith(server, browser.cookies.get('twofold_trust')!, member.email), 'signed_in');
});
