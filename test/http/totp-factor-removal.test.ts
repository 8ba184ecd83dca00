import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestClient } from '../helpers/client.js';
import { PASSWORD, dbOf, enrolledMember, freshCode, passwordStep, serverWithEnrolledMember } from '../helpers/authenticator.js';

const MINUTE = 60_000;

const setup = serverWithEnrolledMember;

interface AuditEvent {
  type: string;
  actorUserId: string | null;
  subjectUserId: string | null;
  details: Record<string, unknown>;
}

test('removing a factor needs re-authentication: 403 first, 204 after a code', async (t) => {
  const { server, clock, member } = await setup(t);
  const { client } = member;
  clock.advance(6 * MINUTE);

  const refused = await client.delete(`/api/v1/factors/${member.factorId}`);
  assert.equal(refused.status, 403);
  assert.equal(refused.json?.error?.code, 'reauthentication_required');
  const row = await dbOf(server).selectFrom('factors').select('status').where('id', '=', member.factorId).executeTakeFirst();
  assert.equal(row?.status, 'active');

  const reauth = await client.post('/api/v1/auth/reauthenticate', { method: 'totp', code: freshCode(member.secret, clock) });
  assert.equal(reauth.status, 200, reauth.text);
  const res = await client.delete(`/api/v1/factors/${member.factorId}`);
  assert.equal(res.status, 204, res.text);

  assert.deepEqual((await client.get('/api/v1/factors')).json?.factors, []);
  assert.equal((await dbOf(server).selectFrom('factors').select('id').where('user_id', '=', member.user.id).execute()).length, 0);
  // Backup codes went with the last factor: they would otherwise be a way around the password-only state.
  assert.deepEqual((await client.get('/api/v1/backup-codes')).json, { remaining: 0, total: 0, low: false });
  const signIn = await new TestClient(server.url).post('/api/v1/auth/sign-in', { email: member.email, password: PASSWORD });
  assert.equal(signIn.json?.status, 'signed_in');
});

test("nobody can remove another user's factor, and unknown ids are 404", async (t) => {
  const { server, clock, member } = await setup(t);
  const other = await enrolledMember(server, clock);
  const res = await other.client.delete(`/api/v1/factors/${member.factorId}`);
  assert.equal(res.status, 404);
  assert.equal(res.json?.error?.code, 'factor_not_found');
  const unknown = await member.client.delete('/api/v1/factors/no-such-factor');
  assert.equal(unknown.status, 404);
  assert.equal((await dbOf(server).selectFrom('factors').select('id').where('status', '=', 'active').execute()).length, 2);
  assert.equal((await new TestClient(server.url).delete(`/api/v1/factors/${member.factorId}`)).status, 401);
});

test('the 2FA life cycle leaves its audit trail, readable through the API', async (t) => {
  const { server, clock, member } = await setup(t);
  // Backup code sign-in that also trusts the browser.
  const browser = new TestClient(server.url);
  const challenge = await passwordStep(browser, member.email);
  const signedIn = await browser.post('/api/v1/auth/second-factor', { challenge, method: 'backup_code', code: member.backupCodes[0], trustBrowser: true });
  assert.equal(signedIn.status, 200, signedIn.text);
  const trusted = (await browser.get('/api/v1/trusted-browsers')).json?.trustedBrowsers as Array<{ id: string }>;
  assert.equal((await browser.delete(`/api/v1/trusted-browsers/${trusted[0]!.id}`)).status, 204);
  clock.advance(6 * MINUTE);
  assert.equal((await browser.post('/api/v1/auth/reauthenticate', { method: 'totp', code: freshCode(member.secret, clock) })).status, 200);
  assert.equal((await browser.delete(`/api/v1/factors/${member.factorId}`)).status, 204);

  const wanted = ['factor.confirmed', 'factor.removed', 'backup_codes.generated', 'backup_code.used', 'trusted_browser.created', 'trusted_browser.revoked'];
  const res = await browser.get(`/api/v1/audit?limit=200&type=${wanted.join(',')}`);
  assert.equal(res.status, 200, res.text);
  const events = res.json?.events as AuditEvent[];
  assert.deepEqual([...new Set(events.map((e) => e.type))].sort(), [...wanted].sort());
  for (const e of events) {
    assert.equal(e.subjectUserId, member.user.id, e.type);
    assert.equal(e.actorUserId, member.user.id, e.type);
  }
  const byType = (type: string) => events.filter((e) => e.type === type);
  assert.equal(byType('factor.confirmed')[0]!.details.factorId, member.factorId);
  assert.equal(byType('factor.removed')[0]!.details.factorId, member.factorId);
  assert.equal(byType('factor.removed')[0]!.details.lastFactor, true);
  assert.equal(byType('backup_codes.generated')[0]!.details.count, 10);
  assert.equal(byType('backup_code.used').length, 1);
  assert.equal(byType('trusted_browser.revoked')[0]!.details.trustedBrowserId, trusted[0]!.id);
  // No event carries a secret.
  for (const code of member.backupCodes) assert.ok(!res.text.includes(code));
  assert.ok(!res.text.includes(member.secret));
});

test('a password alone does not unlock removal while a factor is held (a stolen cookie plus a known password must not strip 2FA); a code does', async (t) => {
  const { clock, member } = await setup(t);
  const { client } = member;
  clock.advance(6 * MINUTE);
  const wrong = await client.post('/api/v1/auth/reauthenticate', { password: 'not the password at all' });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.json?.error?.code, 'invalid_credentials');
  assert.equal((await client.delete(`/api/v1/factors/${member.factorId}`)).status, 403);

  const ok = await client.post('/api/v1/auth/reauthenticate', { password: PASSWORD });
  assert.equal(ok.status, 200, ok.text);
  const refused = await client.delete(`/api/v1/factors/${member.factorId}`);
  assert.equal(refused.status, 403, refused.text);
  assert.equal(refused.json?.error?.code, 'reauthentication_required');

  const withCode = await client.post('/api/v1/auth/reauthenticate', { method: 'totp', code: freshCode(member.secret, clock) });
  assert.equal(withCode.status, 200, withCode.text);
  assert.equal((await client.delete(`/api/v1/factors/${member.factorId}`)).status, 204);
});

test('unfinished enrolments count toward the per-user cap of 10', async (t) => {
  const { clock, member } = await setup(t);
  const statuses: number[] = [];
  for (let i = 0; i < 10; i++) statuses.push((await member.client.post('/api/v1/factors/totp', { label: `pending ${i}` })).status);
  // One active factor plus nine pending fill the cap; the tenth start is refused.
  assert.deepEqual(statuses, [...Array(9).fill(201), 409]);
  clock.advance(16 * MINUTE);
  // The proof from confirming the first factor has gone stale meanwhile: prove one again.
  assert.equal((await member.client.post('/api/v1/auth/reauthenticate', { method: 'totp', code: freshCode(member.secret, clock) })).status, 200);
  assert.equal((await member.client.post('/api/v1/factors/totp', { label: 'after expiry' })).status, 201);
});
