import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { totpCodeAt } from '../../src/core/totp.js';
import { PASSWORD, STEP_MS, auditTypes, dbOf, signedInClient } from '../helpers/authenticator.js';
import { TestClient } from '../helpers/client.js';
import type { TestClock } from '../helpers/clock.js';
import { bindChannel, smtpConfig, withSmtp } from '../helpers/delivery.js';
import { SYSTEM, addMember, agencyTree } from '../helpers/policy.js';
import type { TestServer } from '../helpers/server.js';

/** Signs the user in and switches an authenticator on; returns the secret and the signed-in client. */
async function withAuthenticator(server: TestServer, clock: TestClock, email: string) {
  const client = await signedInClient(server, email);
  const started = await client.post('/api/v1/factors/totp', { label: 'Phone' });
  const secret = started.json?.secret as string;
  const confirmed = await client.post(`/api/v1/factors/totp/${started.json?.id}/confirm`, { code: totpCodeAt(secret, clock.now()) });
  assert.equal(confirmed.status, 200, confirmed.text);
  clock.advance(STEP_MS);
  return { client, secret, backupCodes: confirmed.json?.backupCodes as string[] };
}

test('admins list users of their tree with 2FA status, and can filter those without a factor', async (t) => {
  const tree = await agencyTree(t);
  const enrolled = await addMember(tree.server, tree.clientOrgId);
  const bare = await addMember(tree.server, tree.clientOrgId);
  await withAuthenticator(tree.server, tree.clock, enrolled.email);

  const all = await tree.admin.get(`/api/v1/users?org=${tree.clientOrgId}`);
  assert.equal(all.status, 200, all.text);
  const rows = all.json?.users as Array<{ id: string; methods: string[]; backupCodesLeft: number; lastUsedAt: string | null }>;
  const byId = new Map(rows.map((r) => [r.id, r]));
  assert.deepEqual(byId.get(enrolled.user.id)?.methods, ['totp']);
  assert.equal(byId.get(enrolled.user.id)?.backupCodesLeft, 10);
  assert.ok(byId.get(enrolled.user.id)?.lastUsedAt);
  assert.deepEqual(byId.get(bare.user.id)?.methods, []);

  const none = await tree.admin.get(`/api/v1/users?org=${tree.clientOrgId}&filter=no_2fa`);
  assert.deepEqual((none.json?.users as Array<{ id: string }>).map((u) => u.id), [bare.user.id]);

  const search = await tree.admin.get(`/api/v1/users?q=${encodeURIComponent(enrolled.email.slice(0, 10))}`);
  assert.deepEqual((search.json?.users as Array<{ id: string }>).map((u) => u.id), [enrolled.user.id]);

  const bad = await tree.admin.get('/api/v1/users?filter=everyone');
  assert.equal(bad.status, 400);
});

test("an admin reset also clears a second-factor lock, so the person's new authenticator is not locked by old failures", async (t) => {
  const tree = await agencyTree(t);
  const member = await addMember(tree.server, tree.clientOrgId);
  const { secret } = await withAuthenticator(tree.server, tree.clock, member.email);
  const stranger = new TestClient(tree.server.url, { 'user-agent': 'attacker-tool/1.0' });
  const flow = await stranger.post('/api/v1/auth/sign-in', { email: member.email, password: PASSWORD });
  assert.equal(flow.json?.status, 'second_factor_required', flow.text);
  for (let i = 0; i < 8; i++) {
    const wrong = String((Number(totpCodeAt(secret, tree.clock.now())) + 500_000 + i) % 1_000_000).padStart(6, '0');
    await stranger.post('/api/v1/auth/second-factor', { challenge: flow.json?.challenge, method: 'totp', code: wrong });
  }
  const lockedRow = await dbOf(tree.server).selectFrom('users').select(['second_factor_failures', 'second_factor_locked_until']).where('id', '=', member.user.id).executeTakeFirstOrThrow();
  assert.ok(Number(lockedRow.second_factor_failures) >= 5);
  assert.notEqual(lockedRow.second_factor_locked_until, null);

  const reset = await tree.admin.post(`/api/v1/users/${member.user.id}/reset-factors`, {});
  assert.equal(reset.status, 200, reset.text);
  const row = await dbOf(tree.server).selectFrom('users').select(['second_factor_failures', 'second_factor_locked_until']).where('id', '=', member.user.id).executeTakeFirstOrThrow();
  assert.equal(Number(row.second_factor_failures), 0);
  assert.equal(row.second_factor_locked_until, null);
});

test('lost phone: the admin resets the factors, the user is told by email, signs in with the password and enrols again', async (t) => {
  const tree = await agencyTree(t);
  const smtp = await withSmtp(t);
  const world = { ...tree, orgId: tree.agencyId, adminId: '', admin: tree.admin };
  await bindChannel(world, 'email', smtpConfig(smtp));
  const member = await addMember(tree.server, tree.clientOrgId);
  const { client } = await withAuthenticator(tree.server, tree.clock, member.email);

  const reset = await tree.admin.post(`/api/v1/users/${member.user.id}/reset-factors`, {});
  assert.equal(reset.status, 200, reset.text);
  assert.equal(reset.json?.removedFactors, 1);
  // Every door the old phone opened is shut: sessions, backup codes, trusted browsers.
  assert.equal((await client.get('/api/v1/session')).status, 401);
  assert.equal((await dbOf(tree.server).selectFrom('backup_codes').select('id').where('user_id', '=', member.user.id).execute()).length, 0);
  const notice = smtp.received.find((m) => m.rcptTo.includes(member.email) && m.raw.includes('reset by an administrator'));
  assert.ok(notice, 'the user is emailed about the reset');

  const audit = await dbOf(tree.server).selectFrom('audit_events').selectAll().where('event_type', '=', 'admin.factors_reset').executeTakeFirstOrThrow();
  const adminId = ((await tree.admin.get('/api/v1/session')).json?.user as { id: string }).id;
  assert.equal(audit.actor_user_id, adminId);
  assert.equal(audit.subject_user_id, member.user.id);

  const again = await signedInClient(tree.server, member.email);
  const enrol = await withAuthenticator(tree.server, tree.clock, member.email);
  assert.equal(enrol.backupCodes.length, 10);
  assert.equal((await again.get('/api/v1/factors')).status, 200);
});

test('the admin views and regenerates backup codes for a user; both are audited with the admin named', async (t) => {
  const tree = await agencyTree(t);
  const member = await addMember(tree.server, tree.clientOrgId);
  const { backupCodes } = await withAuthenticator(tree.server, tree.clock, member.email);

  const view = await tree.admin.get(`/api/v1/users/${member.user.id}/backup-codes`);
  assert.equal(view.status, 200, view.text);
  assert.deepEqual((view.json?.codes as Array<{ code: string }>).map((c) => c.code).sort(), [...backupCodes].sort());

  const fresh = await tree.admin.post(`/api/v1/users/${member.user.id}/backup-codes`, {});
  assert.equal(fresh.status, 200, fresh.text);
  const codes = fresh.json?.codes as string[];
  assert.equal(codes.length, 10);
  assert.equal(codes.filter((c) => backupCodes.includes(c)).length, 0);

  // A new code works for the user's sign-in; an old one does not.
  const browser = new TestClient(tree.server.url);
  const challenge = (await browser.post('/api/v1/auth/sign-in', { email: member.email, password: PASSWORD })).json?.challenge as string;
  assert.equal((await browser.post('/api/v1/auth/second-factor', { challenge, method: 'backup_code', code: backupCodes[0] })).status, 401);
  assert.equal((await browser.post('/api/v1/auth/second-factor', { challenge, method: 'backup_code', code: codes[0] })).status, 200);

  const types = await auditTypes(tree.server, member.user.id);
  assert.ok(types.includes('admin.backup_codes_viewed'));
  assert.ok(types.includes('admin.backup_codes_regenerated'));
});

test('tenancy: an admin of one sub-organisation cannot read or reset a user of a sibling, and nothing changes', async (t) => {
  const tree = await agencyTree(t);
  const siblingOrg = await tree.server.services.accounts.createOrganisation('Sibling', tree.agencyId, SYSTEM);
  const siblingAdminEmail = `sib-${randomUUID().slice(0, 8)}@example.com`;
  await tree.server.services.accounts.createUser({ orgId: siblingOrg.id, email: siblingAdminEmail, password: PASSWORD, roles: ['admin'] }, SYSTEM);
  const siblingAdmin = await signedInClient(tree.server, siblingAdminEmail);
  const victim = await addMember(tree.server, tree.clientOrgId);
  const { client } = await withAuthenticator(tree.server, tree.clock, victim.email);
  const agencyMember = await addMember(tree.server, tree.agencyId);

  const attempts: Array<[string, string]> = [
    ['GET', `/api/v1/users/${victim.user.id}`],
    ['POST', `/api/v1/users/${victim.user.id}/reset-factors`],
    ['POST', `/api/v1/users/${victim.user.id}/disable`],
    ['POST', `/api/v1/users/${victim.user.id}/enable`],
    ['GET', `/api/v1/users/${victim.user.id}/backup-codes`],
    ['POST', `/api/v1/users/${victim.user.id}/backup-codes`],
    // Upwards is outside the tree as well.
    ['POST', `/api/v1/users/${agencyMember.user.id}/reset-factors`],
  ];
  for (const [method, path] of attempts) {
    const res = await siblingAdmin.request(method, path, method === 'POST' ? {} : undefined);
    assert.equal(res.status, 404, `${method} ${path}: ${res.text}`);
    assert.equal(res.json?.error?.code, 'user_not_found');
  }
  const list = await siblingAdmin.get(`/api/v1/users?org=${tree.clientOrgId}`);
  assert.equal(list.status, 404);
  const own = await siblingAdmin.get('/api/v1/users');
  assert.ok(!(own.json?.users as Array<{ id: string }>).some((u) => u.id === victim.user.id));

  assert.equal((await client.get('/api/v1/session')).status, 200);
  assert.equal((await client.get('/api/v1/factors')).json?.factors instanceof Array, true);
  assert.equal(((await client.get('/api/v1/factors')).json?.factors as unknown[]).length, 1);
  assert.ok(!(await auditTypes(tree.server, victim.user.id)).some((type) => type.startsWith('admin.')));

  const member = await signedInClient(tree.server, (await addMember(tree.server, tree.clientOrgId)).email);
  const notAdmin = await member.get(`/api/v1/users/${victim.user.id}`);
  assert.equal(notAdmin.status, 403);
  assert.equal(notAdmin.json?.error?.code, 'not_admin');
  // There is no way to enrol a factor for someone else.
  assert.equal((await tree.admin.post(`/api/v1/users/${victim.user.id}/factors/totp`, {})).status, 404);
});

test('admin sudo: after 5 minutes actions need the password and, for an admin with 2FA, a current code too', async (t) => {
  const tree = await agencyTree(t);
  const member = await addMember(tree.server, tree.clientOrgId);
  await withAuthenticator(tree.server, tree.clock, member.email);
  const adminSession = (await tree.admin.get('/api/v1/session')).json?.user as { email: string };
  const admin = await withAuthenticator(tree.server, tree.clock, adminSession.email);

  tree.clock.advance(6 * 60_000);
  const stale = await admin.client.post(`/api/v1/users/${member.user.id}/backup-codes`, {});
  assert.equal(stale.status, 403);
  assert.equal(stale.json?.error?.code, 'reauthentication_required');

  assert.equal((await admin.client.post('/api/v1/auth/reauthenticate', { password: PASSWORD })).status, 200);
  const passwordOnly = await admin.client.post(`/api/v1/users/${member.user.id}/backup-codes`, {});
  assert.equal(passwordOnly.status, 403, 'a password alone is not enough for an admin who has 2FA');

  tree.clock.advance(STEP_MS);
  const both = await admin.client.post('/api/v1/auth/reauthenticate', { password: PASSWORD, method: 'totp', code: totpCodeAt(admin.secret, tree.clock.now()) });
  assert.equal(both.status, 200, both.text);
  assert.equal((await admin.client.post(`/api/v1/users/${member.user.id}/backup-codes`, {})).status, 200);

  tree.clock.advance(5 * 60_000 + 1);
  assert.equal((await admin.client.post(`/api/v1/users/${member.user.id}/backup-codes`, {})).status, 403);
});

test('disabling a user ends their sessions and refuses sign-in; enabling lets them back', async (t) => {
  const tree = await agencyTree(t);
  const member = await addMember(tree.server, tree.clientOrgId);
  const client = await signedInClient(tree.server, member.email);
  assert.equal((await tree.admin.post(`/api/v1/users/${member.user.id}/disable`, {})).status, 204);
  assert.equal((await client.get('/api/v1/session')).status, 401);
  const refused = await new TestClient(tree.server.url).post('/api/v1/auth/sign-in', { email: member.email, password: PASSWORD });
  assert.equal(refused.status, 401);
  assert.equal((await tree.admin.post(`/api/v1/users/${member.user.id}/enable`, {})).status, 204);
  await signedInClient(tree.server, member.email);
});
