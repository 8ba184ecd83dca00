/**
 * People from the console's API: invite (emailed single-use link), resend, revoke, edit, delete,
 * and switch off one method. Each route: the happy path, another tree (404), a plain user (403),
 * a stale admin (403 reauthentication_required) and bad input (4xx, nothing written).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sha256 } from '../../src/core/crypto.js';
import { totpCodeAt } from '../../src/core/totp.js';
import { parseMail } from '../delivery/peers.js';
import { PASSWORD, STEP_MS, dbOf, signedInClient } from '../helpers/authenticator.js';
import { TestClient } from '../helpers/client.js';
import type { TestClock } from '../helpers/clock.js';
import { bindChannel, smtpConfig, withSmtp } from '../helpers/delivery.js';
import type { SmtpPeer } from '../delivery/peers.js';
import { hiddenFields, postForm } from '../helpers/forms.js';
import { SYSTEM, addMember, agencyTree } from '../helpers/policy.js';
import type { AgencyTree } from '../helpers/policy.js';
import type { TestServer } from '../helpers/server.js';

const MINUTE = 60_000;

/** The agency tree, an unrelated organisation with a member, a plain member and mail captured over SMTP. */
async function world(t: { after(fn: () => Promise<void>): void }) {
  const tree = await agencyTree(t);
  const smtp = await withSmtp(t);
  await bindChannel({ ...tree, orgId: tree.agencyId, adminId: '' }, 'email', smtpConfig(smtp));
  const other = await tree.server.services.accounts.createOrganisation('Elsewhere', null, SYSTEM);
  const stranger = await addMember(tree.server, other.id);
  const plain = await addMember(tree.server, tree.clientOrgId);
  const plainClient = await signedInClient(tree.server, plain.email);
  return { ...tree, smtp, otherOrgId: other.id, stranger, plain, plainClient };
}

async function withAuthenticator(server: TestServer, clock: TestClock, email: string) {
  const client = await signedInClient(server, email);
  const started = await client.post('/api/v1/factors/totp', { label: 'Phone' });
  const confirmed = await client.post(`/api/v1/factors/totp/${started.json?.id}/confirm`, { code: totpCodeAt(started.json?.secret as string, clock.now()) });
  assert.equal(confirmed.status, 200, confirmed.text);
  clock.advance(STEP_MS);
  return { client, factorId: started.json?.id as string };
}

function linkIn(smtp: SmtpPeer, to: string): { token: string; path: string; text: string } {
  const mail = [...smtp.received].reverse().find((m) => m.rcptTo.includes(to));
  assert.ok(mail, `no mail to ${to}`);
  const text = parseMail(mail.raw).text ?? '';
  const match = /\/invitation\?token=([\w-]+)/.exec(text);
  assert.ok(match, `no invitation link in: ${text}`);
  return { token: match[1]!, path: `/invitation?token=${match[1]}`, text };
}

async function counts(server: TestServer) {
  const db = dbOf(server);
  const n = async (table: 'users' | 'invitations' | 'audit_events' | 'factors' | 'user_roles' | 'group_members') => Number((await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  return { users: await n('users'), invitations: await n('invitations'), audit: await n('audit_events'), factors: await n('factors'), userRoles: await n('user_roles'), members: await n('group_members') };
}

/** The admin, signed in long enough ago that sudo has lapsed. */
function stale(tree: AgencyTree) {
  tree.clock.advance(6 * MINUTE);
}

test('invite: the person is emailed a single-use link (hashed at rest), sets a password and signs in', async (t) => {
  const w = await world(t);
  const role = await w.server.services.accounts.createRole(w.clientOrgId, 'support', SYSTEM);
  const email = 'new.person@example.com';
  const res = await w.admin.post(`/api/v1/organisations/${w.clientOrgId}/users`, { email, displayName: 'New Person', roleIds: [role.id] });
  assert.equal(res.status, 201, res.text);
  assert.equal(res.json?.emailed, true);
  const userId = res.json?.userId as string;
  const row = await dbOf(w.server).selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirstOrThrow();
  assert.equal(row.status, 'invited');
  assert.equal(row.org_id, w.clientOrgId);

  const link = linkIn(w.smtp, email);
  const stored = await dbOf(w.server).selectFrom('invitations').selectAll().where('user_id', '=', userId).execute();
  assert.equal(stored.length, 1);
  assert.equal(stored[0]!.token_hash, sha256(link.token), 'only the hash is kept');
  assert.ok(!JSON.stringify(stored).includes(link.token));
  assert.equal(Number(stored[0]!.expires_at) - Number(stored[0]!.created_at), 7 * 24 * 60 * MINUTE);

  // Until the link is used, no password signs the person in.
  const early = await new TestClient(w.server.url).post('/api/v1/auth/sign-in', { email, password: PASSWORD });
  assert.equal(early.status, 401);

  const browser = new TestClient(w.server.url);
  const fields = await hiddenFields(browser, link.path);
  const weak = await postForm(browser, '/invitation', { ...fields, password: 'short', confirmPassword: 'short' });
  assert.equal(weak.status, 400);
  assert.equal((await dbOf(w.server).selectFrom('users').select('status').where('id', '=', userId).executeTakeFirstOrThrow()).status, 'invited');
  const set = await postForm(browser, '/invitation', { ...fields, password: PASSWORD, confirmPassword: PASSWORD });
  assert.equal(set.status, 200, set.text);
  assert.match(set.text, /Your password is set/);
  const again = await postForm(browser, '/invitation', { ...fields, password: PASSWORD, confirmPassword: PASSWORD });
  assert.equal(again.status, 410, 'the link works once');

  const signIn = await new TestClient(w.server.url).post('/api/v1/auth/sign-in', { email, password: PASSWORD });
  assert.equal(signIn.status, 200, signIn.text);
  const types = (await dbOf(w.server).selectFrom('audit_events').select('event_type').where('subject_user_id', '=', userId).execute()).map((e) => e.event_type);
  assert.ok(types.includes('user.invited') && types.includes('invitation.accepted'), types.join());
  const detail = await w.admin.get(`/api/v1/users/${userId}`);
  assert.deepEqual((detail.json?.roles as Array<{ name: string }>).map((r) => r.name), ['support']);
});

test('invite refusals: another tree 404, a plain user 403, a stale admin 403, bad input 4xx; nothing is written', async (t) => {
  const w = await world(t);
  const before = await counts(w.server);
  const path = `/api/v1/organisations/${w.clientOrgId}/users`;
  const elsewhere = await w.admin.post(`/api/v1/organisations/${w.otherOrgId}/users`, { email: 'x1@example.com' });
  assert.equal(elsewhere.status, 404);
  assert.equal(elsewhere.json?.error?.code, 'organisation_not_found');
  const plain = await w.plainClient.post(path, { email: 'x2@example.com' });
  assert.equal(plain.status, 403);
  assert.equal(plain.json?.error?.code, 'not_admin');
  for (const [body, status, code] of [
    [{ email: 'not-an-email' }, 400, 'email_invalid'],
    [{ email: 'x3@example.com', extra: 1 }, 400, 'invalid_request'],
    [{ email: w.plain.email }, 409, 'email_taken'],
    [{ email: 'x4@example.com', roleIds: ['no-such-role'] }, 404, 'role_not_found'],
  ] as const) {
    const res = await w.admin.post(path, body);
    assert.equal(res.status, status, res.text);
    assert.equal(res.json?.error?.code, code);
  }
  stale(w);
  const late = await w.admin.post(path, { email: 'x5@example.com' });
  assert.equal(late.status, 403);
  assert.equal(late.json?.error?.code, 'reauthentication_required');
  const after = await counts(w.server);
  assert.deepEqual({ ...after, audit: 0 }, { ...before, audit: 0 });
  assert.equal(w.smtp.received.filter((m) => /x\d@example\.com/.test(m.rcptTo.join())).length, 0, 'no invitation was mailed');
});

test('invitations to one address are limited (reserved before the work), and a taken address does not use up a slot', async (t) => {
  const w = await world(t);
  const email = 'limited@example.com';
  for (let i = 0; i < 4; i++) {
    const taken = await w.admin.post(`/api/v1/organisations/${w.clientOrgId}/users`, { email: w.plain.email });
    assert.equal(taken.status, 409, 'refused for the address, not for the limit');
  }
  const first = await w.admin.post(`/api/v1/organisations/${w.clientOrgId}/users`, { email });
  assert.equal(first.status, 201, first.text);
  const userId = first.json?.userId as string;
  assert.equal((await w.admin.post(`/api/v1/users/${userId}/invitation`)).status, 200);
  assert.equal((await w.admin.post(`/api/v1/users/${userId}/invitation`)).status, 200);
  const fourth = await w.admin.post(`/api/v1/users/${userId}/invitation`);
  assert.equal(fourth.status, 429, fourth.text);
  assert.equal(fourth.json?.error?.code, 'too_many_invitations');
  assert.equal(w.smtp.received.filter((m) => m.rcptTo.includes(email)).length, 3);
});

test('resend replaces the link; revoke withdraws it and the pending account; both refused outside the tree, to plain users and stale admins', async (t) => {
  const w = await world(t);
  const email = 'pending@example.com';
  const invited = await w.admin.post(`/api/v1/organisations/${w.clientOrgId}/users`, { email });
  const userId = invited.json?.userId as string;
  const firstLink = linkIn(w.smtp, email);

  const resent = await w.admin.post(`/api/v1/users/${userId}/invitation`);
  assert.equal(resent.status, 200, resent.text);
  const secondLink = linkIn(w.smtp, email);
  assert.notEqual(firstLink.token, secondLink.token);
  const browser = new TestClient(w.server.url);
  assert.equal((await browser.get(firstLink.path)).status, 410, 'the old link stopped working');
  assert.equal((await browser.get(secondLink.path)).status, 200);

  // Refusals: nothing changes.
  const strangerInvite = await w.server.services.invitations.invite(await adminOf(w, w.otherOrgId), w.otherOrgId, { email: 'far@example.com' }, { ip: '127.0.0.1', userAgent: 't' });
  for (const method of ['POST', 'DELETE'] as const) {
    const outside = await w.admin.request(method, `/api/v1/users/${strangerInvite.userId}/invitation`);
    assert.equal(outside.status, 404);
    assert.equal(outside.json?.error?.code, 'user_not_found');
    const plain = await w.plainClient.request(method, `/api/v1/users/${userId}/invitation`);
    assert.equal(plain.status, 403);
    const active = await w.admin.request(method, `/api/v1/users/${w.plain.user.id}/invitation`);
    assert.equal(active.status, 409);
    assert.equal(active.json?.error?.code, 'invitation_not_pending');
  }
  assert.equal((await browser.get(secondLink.path)).status, 200);

  const revoked = await w.admin.request('DELETE', `/api/v1/users/${userId}/invitation`);
  assert.equal(revoked.status, 204, revoked.text);
  assert.equal((await browser.get(secondLink.path)).status, 410);
  assert.equal(await dbOf(w.server).selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst(), undefined);
  const audit = await dbOf(w.server).selectFrom('audit_events').selectAll().where('event_type', '=', 'invitation.revoked').executeTakeFirstOrThrow();
  assert.equal(audit.subject_user_id, userId);
  assert.match(audit.details, /pending@example\.com/);

  const again = await w.admin.post(`/api/v1/organisations/${w.clientOrgId}/users`, { email: 'pending2@example.com' });
  stale(w);
  const late = await w.admin.request('DELETE', `/api/v1/users/${again.json?.userId}/invitation`);
  assert.equal(late.status, 403);
  assert.equal(late.json?.error?.code, 'reauthentication_required');
  assert.ok(await dbOf(w.server).selectFrom('users').select('id').where('id', '=', again.json?.userId as string).executeTakeFirst());
});

/** A fresh admin of another organisation, as the service's actor. */
async function adminOf(w: Awaited<ReturnType<typeof world>>, orgId: string) {
  const { freshSessionActor } = await import('../helpers/actors.js');
  const admin = await addMember(w.server, orgId, ['admin']);
  return freshSessionActor(w.server, admin.user.id);
}

test("edit: name, organisation, roles and groups change together and are audited; refusals write nothing", async (t) => {
  const w = await world(t);
  const member = await addMember(w.server, w.agencyId);
  const role = await w.server.services.accounts.createRole(w.clientOrgId, 'billing', SYSTEM);
  const group = await w.server.services.accounts.createGroup(w.clientOrgId, 'Finance', SYSTEM);
  const agencyRole = await w.server.services.accounts.createRole(w.agencyId, 'ops', SYSTEM);
  const path = `/api/v1/users/${member.user.id}`;

  const mismatch = await w.admin.request('PATCH', path, { roleIds: [role.id] });
  assert.equal(mismatch.status, 400, 'a role of another organisation than the person');
  assert.equal(mismatch.json?.error?.code, 'organisation_mismatch');
  assert.equal((await w.admin.request('PATCH', path, {})).status, 400, 'an empty edit');
  assert.equal((await w.admin.request('PATCH', path, { displayName: '' })).status, 400);
  assert.equal((await w.admin.request('PATCH', path, { orgId: w.otherOrgId })).status, 404, 'another tree');
  assert.equal((await w.admin.request('PATCH', `/api/v1/users/${w.stranger.user.id}`, { displayName: 'X' })).status, 404);
  assert.equal((await w.plainClient.request('PATCH', path, { displayName: 'X' })).status, 403);
  const granted = await w.admin.request('PATCH', path, { roleIds: [agencyRole.id] });
  assert.equal(granted.status, 200, granted.text);

  const moved = await w.admin.request('PATCH', path, { displayName: 'Moved Person', orgId: w.clientOrgId, roleIds: [role.id], groupIds: [group.id] });
  assert.equal(moved.status, 200, moved.text);
  assert.equal(moved.json?.displayName, 'Moved Person');
  assert.equal(moved.json?.orgId, w.clientOrgId);
  assert.deepEqual((moved.json?.roles as Array<{ name: string }>).map((r) => r.name), ['billing'], 'the agency role went with the move');
  assert.deepEqual((moved.json?.groups as Array<{ name: string }>).map((g) => g.name), ['Finance']);
  const audit = await dbOf(w.server).selectFrom('audit_events').selectAll().where('event_type', '=', 'user.updated').where('subject_user_id', '=', member.user.id).orderBy('id', 'desc').executeTakeFirstOrThrow();
  const details = JSON.parse(audit.details) as { before: { roles: string[] }; after: { roles: string[]; groups: string[] } };
  assert.deepEqual(details.before.roles, ['ops']);
  assert.deepEqual(details.after, { displayName: 'Moved Person', orgId: w.clientOrgId, roles: ['billing'], groups: ['Finance'] });

  // The admin cannot take away their own admin role.
  const adminId = ((await w.admin.get('/api/v1/session')).json?.user as { id: string }).id;
  const demote = await w.admin.request('PATCH', `/api/v1/users/${adminId}`, { roleIds: [] });
  assert.equal(demote.status, 403);
  assert.equal(demote.json?.error?.code, 'cannot_demote_self');
  assert.equal((await w.admin.get(`/api/v1/users/${adminId}`)).status, 200, 'still an admin');

  stale(w);
  const late = await w.admin.request('PATCH', path, { displayName: 'Late' });
  assert.equal(late.status, 403);
  assert.equal(late.json?.error?.code, 'reauthentication_required');
  assert.equal((await dbOf(w.server).selectFrom('users').select('display_name').where('id', '=', member.user.id).executeTakeFirstOrThrow()).display_name, 'Moved Person');
});

test('delete: the account and everything protecting it goes, the audit keeps id and email; refusals keep it', async (t) => {
  const w = await world(t);
  const member = await addMember(w.server, w.clientOrgId);
  const { client } = await withAuthenticator(w.server, w.clock, member.email);
  const path = `/api/v1/users/${member.user.id}`;
  assert.equal((await w.admin.request('DELETE', `/api/v1/users/${w.stranger.user.id}`)).status, 404);
  assert.equal((await w.plainClient.request('DELETE', path)).status, 403);
  const adminId = ((await w.admin.get('/api/v1/session')).json?.user as { id: string }).id;
  const self = await w.admin.request('DELETE', `/api/v1/users/${adminId}`);
  assert.equal(self.status, 403);
  assert.equal(self.json?.error?.code, 'cannot_delete_self');
  assert.equal((await w.admin.request('DELETE', `/api/v1/users/${'x'.repeat(65)}`)).status, 400);

  const gone = await w.admin.request('DELETE', path);
  assert.equal(gone.status, 204, gone.text);
  const db = dbOf(w.server);
  assert.equal(await db.selectFrom('users').select('id').where('id', '=', member.user.id).executeTakeFirst(), undefined);
  for (const table of ['sessions', 'factors', 'backup_codes', 'trusted_browsers', 'known_devices'] as const) {
    assert.equal((await db.selectFrom(table).select('user_id').where('user_id', '=', member.user.id).execute()).length, 0, table);
  }
  assert.equal((await client.get('/api/v1/session')).status, 401);
  const event = await db.selectFrom('audit_events').selectAll().where('event_type', '=', 'user.deleted').executeTakeFirstOrThrow();
  assert.equal(event.subject_user_id, member.user.id);
  assert.equal(JSON.parse(event.details).email, member.email);
  assert.ok((await db.selectFrom('audit_events').select('id').where('subject_user_id', '=', member.user.id).execute()).length > 2, 'earlier history stays');

  const other = await addMember(w.server, w.clientOrgId);
  stale(w);
  const late = await w.admin.request('DELETE', `/api/v1/users/${other.user.id}`);
  assert.equal(late.status, 403);
  assert.equal(late.json?.error?.code, 'reauthentication_required');
  assert.ok(await db.selectFrom('users').select('id').where('id', '=', other.user.id).executeTakeFirst());
});

test('switch off one method: the others stay, sessions end, the lock clears, the user is emailed; refusals remove nothing', async (t) => {
  const w = await world(t);
  const member = await addMember(w.server, w.agencyId);
  const { client, factorId } = await withAuthenticator(w.server, w.clock, member.email);
  const second = await client.post('/api/v1/factors/totp', { label: 'Tablet' });
  assert.equal(second.status, 201, second.text);
  const confirmed = await client.post(`/api/v1/factors/totp/${second.json?.id}/confirm`, { code: totpCodeAt(second.json?.secret as string, w.clock.now()) });
  assert.equal(confirmed.status, 200, confirmed.text);
  await dbOf(w.server).updateTable('users').set({ second_factor_failures: 4 }).where('id', '=', member.user.id).execute();
  const path = `/api/v1/users/${member.user.id}/factors/${factorId}`;

  assert.equal((await w.plainClient.request('DELETE', path)).status, 403);
  const strangerFactor = await w.admin.request('DELETE', `/api/v1/users/${w.stranger.user.id}/factors/${factorId}`);
  assert.equal(strangerFactor.status, 404);
  assert.equal(strangerFactor.json?.error?.code, 'user_not_found');
  const unknown = await w.admin.request('DELETE', `/api/v1/users/${member.user.id}/factors/nope`);
  assert.equal(unknown.status, 404);
  assert.equal(unknown.json?.error?.code, 'factor_not_found');
  assert.equal((await dbOf(w.server).selectFrom('factors').select('id').where('user_id', '=', member.user.id).where('status', '=', 'active').execute()).length, 2);

  const off = await w.admin.request('DELETE', path);
  assert.equal(off.status, 200, off.text);
  assert.deepEqual(off.json, { removed: { id: factorId, type: 'totp', label: 'Phone' }, remainingFactors: 1 });
  const left = await dbOf(w.server).selectFrom('factors').select('id').where('user_id', '=', member.user.id).execute();
  assert.deepEqual(left.map((f) => f.id), [second.json?.id]);
  assert.equal((await client.get('/api/v1/session')).status, 401, 'sessions ended');
  const row = await dbOf(w.server).selectFrom('users').select('second_factor_failures').where('id', '=', member.user.id).executeTakeFirstOrThrow();
  assert.equal(Number(row.second_factor_failures), 0);
  assert.ok(w.smtp.received.some((m) => m.rcptTo.includes(member.email) && /switched off/.test(parseMail(m.raw).text ?? '')), 'the user is emailed');
  const audit = await dbOf(w.server).selectFrom('audit_events').selectAll().where('event_type', '=', 'admin.factor_removed').executeTakeFirstOrThrow();
  assert.equal(audit.subject_user_id, member.user.id);

  stale(w);
  const late = await w.admin.request('DELETE', `/api/v1/users/${member.user.id}/factors/${second.json?.id}`);
  assert.equal(late.status, 403);
  assert.equal(late.json?.error?.code, 'reauthentication_required');
  assert.equal((await dbOf(w.server).selectFrom('factors').select('id').where('user_id', '=', member.user.id).execute()).length, 1);
});

test('an invitation link expires after 7 days, and works once even when two submissions race', async (t) => {
  const w = await world(t);
  const email = 'racer@example.com';
  const invited = await w.admin.post(`/api/v1/organisations/${w.clientOrgId}/users`, { email });
  const userId = invited.json?.userId as string;
  const old = linkIn(w.smtp, email);
  const adminEmail = ((await w.admin.get('/api/v1/session')).json?.user as { email: string }).email;
  w.clock.advance(7 * 24 * 60 * MINUTE);
  const expired = await new TestClient(w.server.url).get(old.path);
  assert.equal(expired.status, 410);
  assert.match(expired.text, /cannot be used/);

  const admin = await signedInClient(w.server, adminEmail);
  const resent = await admin.post(`/api/v1/users/${userId}/invitation`);
  assert.equal(resent.status, 200, resent.text);
  const fresh = linkIn(w.smtp, email);
  const meta = { ip: '127.0.0.1', userAgent: 'race' };
  const outcomes = await Promise.allSettled([w.server.services.invitations.accept(fresh.token, PASSWORD, meta), w.server.services.invitations.accept(fresh.token, PASSWORD, meta)]);
  assert.deepEqual(outcomes.map((o) => o.status).sort(), ['fulfilled', 'rejected']);
  const refused = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
  assert.equal((refused.reason as { code: string }).code, 'invitation_invalid');
  const accepted = await dbOf(w.server).selectFrom('audit_events').select('id').where('event_type', '=', 'invitation.accepted').where('subject_user_id', '=', userId).execute();
  assert.equal(accepted.length, 1);
  assert.equal((await new TestClient(w.server.url).post('/api/v1/auth/sign-in', { email, password: PASSWORD })).status, 200);
});

test('one admin may send 50 invitations an hour; the 51st is refused before anything is written', async (t) => {
  const tree = await agencyTree(t);
  for (let i = 0; i < 50; i++) {
    const res = await tree.admin.post(`/api/v1/organisations/${tree.clientOrgId}/users`, { email: `bulk-${i}@example.com` });
    assert.equal(res.status, 201, res.text);
  }
  const before = await counts(tree.server);
  const refused = await tree.admin.post(`/api/v1/organisations/${tree.clientOrgId}/users`, { email: 'bulk-50@example.com' });
  assert.equal(refused.status, 429);
  assert.equal(refused.json?.error?.code, 'too_many_invitations');
  assert.ok(refused.headers.get('retry-after'));
  assert.deepEqual(await counts(tree.server), before);
  const adminEmail = ((await tree.admin.get('/api/v1/session')).json?.user as { email: string }).email;
  tree.clock.advance(61 * MINUTE);
  const admin = await signedInClient(tree.server, adminEmail);
  assert.equal((await admin.post(`/api/v1/organisations/${tree.clientOrgId}/users`, { email: 'bulk-50@example.com' })).status, 201, 'the next hour');
});
