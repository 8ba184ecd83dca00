import assert from 'node:assert/strict';
import { test } from 'node:test';
import { totpCodeAt } from '../../src/core/totp.js';
import { roles } from '../../src/store/index.js';
import { actorOf } from '../helpers/actors.js';
import { PASSWORD, STEP_MS, dbOf, passwordStep, signedInClient } from '../helpers/authenticator.js';
import type { TestClient } from '../helpers/client.js';
import { TestClient as Client } from '../helpers/client.js';
import type { TestClock } from '../helpers/clock.js';
import { hiddenFields, postForm } from '../helpers/forms.js';
import { SYSTEM, addMember, agencyTree, requireForSubs } from '../helpers/policy.js';
import type { TestServer } from '../helpers/server.js';

/** Signs the member in and switches an authenticator labelled "Work phone" on; the clock is left one step later. */
async function withAuthenticator(server: TestServer, clock: TestClock, email: string) {
  const client = await signedInClient(server, email);
  const started = await client.post('/api/v1/factors/totp', { label: 'Work phone' });
  assert.equal(started.status, 201, started.text);
  const secret = started.json?.secret as string;
  const confirmed = await client.post(`/api/v1/factors/totp/${started.json?.id}/confirm`, { code: totpCodeAt(secret, clock.now()) });
  assert.equal(confirmed.status, 200, confirmed.text);
  clock.advance(STEP_MS);
  return { client, secret, backupCodes: confirmed.json?.backupCodes as string[] };
}

/** Visible text of an HTML fragment, whitespace collapsed. */
function textOf(html: string): string {
  return html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/\s+/g, ' ')
    .trim();
}

/** The table rows of the users page, by user id. */
function userRows(html: string): Map<string, string> {
  return new Map([...html.matchAll(/<tr data-user-id="([^"]+)">([\s\S]*?)<\/tr>/g)].map((m) => [m[1]!, m[2]!]));
}

function ruleText(html: string, rule: string): string {
  const m = new RegExp(`<dd data-rule="${rule}">([\\s\\S]*?)</dd>`).exec(html);
  assert.ok(m, `the page shows the effective ${rule}`);
  return textOf(m[1]!);
}

function shownCodes(html: string): Array<{ code: string; used: boolean }> {
  return [...html.matchAll(/<li( class="used")? data-backup-code[^>]*>([\s\S]*?)<\/li>/g)].map((m) => ({
    code: textOf(m[2]!).replace(' (used)', ''),
    used: m[1] !== undefined,
  }));
}

async function liveFactorCount(server: TestServer, userId: string): Promise<number> {
  return (await dbOf(server).selectFrom('factors').select('id').where('user_id', '=', userId).where('status', '=', 'active').execute()).length;
}

function post(client: TestClient, page: string, action: string, fields: Record<string, string>) {
  return hiddenFields(client, page).then((hidden) => postForm(client, action, { ...hidden, ...fields }));
}

/** A role's toggle, as one of its forms posts it: the page's token and organisation, and only the fields given. */
function postRoleForm(client: TestClient, page: string, action: string, fields: Record<string, string>) {
  return hiddenFields(client, page).then(({ requireTwoFactor: _a, requirePhishingResistant: _b, ...shared }) => postForm(client, action, { ...shared, ...fields }));
}

test('the users page lists members with their methods, marks who must enrol, and filters those without 2FA', async (t) => {
  const tree = await agencyTree(t);
  const enrolled = await addMember(tree.server, tree.clientOrgId);
  const bare = await addMember(tree.server, tree.clientOrgId);
  await withAuthenticator(tree.server, tree.clock, enrolled.email);
  await requireForSubs(tree);

  const page = await tree.admin.get('/admin/users');
  assert.equal(page.status, 200, page.text);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  const rows = userRows(page.text);
  const enrolledRow = rows.get(enrolled.user.id);
  const bareRow = rows.get(bare.user.id);
  assert.ok(enrolledRow && bareRow, 'both members of the client organisation are listed on the agency admin page');
  assert.match(enrolledRow, /data-method="totp"/);
  assert.match(textOf(enrolledRow), /Authenticator app/);
  assert.match(textOf(enrolledRow), /Client/);
  assert.match(textOf(enrolledRow), /\b10\b/, 'backup codes left');
  assert.doesNotMatch(textOf(enrolledRow), /Must enrol/);
  assert.match(textOf(bareRow), /None Must enrol/);
  assert.doesNotMatch(bareRow, /data-method=/);
  // The organisation picker offers the admin's tree.
  assert.match(page.text, new RegExp(`<option value="${tree.clientOrgId}"`));
  assert.match(page.text, /href="\/admin\/policy"/);
  assert.match(page.text, /href="\/admin\/services"/);

  const withoutTwoFactor = await tree.admin.get(`/admin/users?org=${tree.clientOrgId}&filter=no_2fa`);
  assert.equal(withoutTwoFactor.status, 200, withoutTwoFactor.text);
  assert.deepEqual([...userRows(withoutTwoFactor.text).keys()], [bare.user.id]);
  assert.match(withoutTwoFactor.text, /name="filter" value="no_2fa" checked/);

  const search = await tree.admin.get(`/admin/users?q=${encodeURIComponent(enrolled.email.slice(0, 10))}`);
  assert.deepEqual([...userRows(search.text).keys()], [enrolled.user.id]);
});

test('the users page pages through long lists with a next link', async (t) => {
  const tree = await agencyTree(t);
  const members = [];
  for (let i = 0; i < 3; i++) members.push(await addMember(tree.server, tree.clientOrgId));
  const admin = await actorOf(tree.server, tree.admin);
  const first = await tree.server.services.userAdmin.list(admin, { orgId: tree.clientOrgId, limit: 2 });
  assert.ok(first.next);
  const page = await tree.admin.get(`/admin/users?org=${tree.clientOrgId}&after=${encodeURIComponent(first.next)}`);
  assert.equal(page.status, 200, page.text);
  const emails = members.map((m) => m.email.toLowerCase()).sort();
  assert.deepEqual([...userRows(page.text).keys()], members.filter((m) => m.email.toLowerCase() === emails[2]).map((m) => m.user.id));
  assert.match(page.text, /First page/);
});

test('the policy page says where each rule comes from', async (t) => {
  const tree = await agencyTree(t);
  await requireForSubs(tree);

  const client = await tree.admin.get(`/admin/policy?org=${tree.clientOrgId}`);
  assert.equal(client.status, 200, client.text);
  assert.equal(ruleText(client.text, 'mode'), 'Required — from Agency (organisation)');
  assert.equal(ruleText(client.text, 'allowedMethods'), 'Authenticator app — from Agency (organisation)');
  assert.equal(ruleText(client.text, 'trustBrowserDays'), '30 days — from Agency (organisation)');
  assert.match(client.text, /Client has no policy of its own yet/);

  const agency = await tree.admin.get('/admin/policy');
  assert.equal(agency.status, 200, agency.text);
  assert.match(agency.text, /<input type="radio" name="mode" value="required" checked/);
  assert.match(agency.text, /<input type="checkbox" name="appliesToSubOrganisations" value="on" checked/);
  assert.match(agency.text, /name="trustBrowserDays"[^>]*value="30"/);
});

test('saving the policy form changes the policy; a bad value is refused with 400 and changes nothing', async (t) => {
  const tree = await agencyTree(t);
  const admin = await actorOf(tree.server, tree.admin);
  const page = `/admin/policy?org=${tree.clientOrgId}`;
  const good = { org: tree.clientOrgId, mode: 'required', trigger_every_sign_in: 'on', trigger_new_device: 'on', method_totp: 'on', method_email: 'on', trustBrowserDays: '14' };

  const saved = await post(tree.admin, page, '/admin/policy', good);
  assert.equal(saved.status, 200, saved.text);
  assert.match(saved.text, /The policy was saved/);
  const own = (await tree.server.services.policy.organisationPolicy(admin, tree.clientOrgId)).own;
  assert.deepEqual(
    { mode: own?.mode, subs: own?.appliesToSubOrganisations, triggers: own?.triggers, methods: own?.allowedMethods, days: own?.trustBrowserDays },
    { mode: 'required', subs: false, triggers: ['every_sign_in', 'new_device'], methods: ['totp', 'email'], days: 14 },
  );
  assert.equal(ruleText(saved.text, 'mode'), 'Required — from Client (organisation)');

  const before = await tree.server.services.policy.organisationPolicy(admin, tree.clientOrgId);
  const tooLong = await post(tree.admin, page, '/admin/policy', { ...good, mode: 'off', trustBrowserDays: '400' });
  assert.equal(tooLong.status, 400, tooLong.text);
  assert.match(textOf(tooLong.text), /Nothing was saved\. Trust a browser for a whole number of days from 0 to 365\./);
  assert.match(tooLong.text, /name="trustBrowserDays"[^>]*value="400"/, 'the form keeps what was typed');
  const noTrigger = await post(tree.admin, page, '/admin/policy', { ...good, trigger_every_sign_in: '', trigger_new_device: '' });
  assert.equal(noTrigger.status, 400, noTrigger.text);
  const badMode = await post(tree.admin, page, '/admin/policy', { ...good, mode: 'sometimes' });
  assert.equal(badMode.status, 400, badMode.text);
  assert.deepEqual(await tree.server.services.policy.organisationPolicy(admin, tree.clientOrgId), before);

  const noToken = await postForm(tree.admin, '/admin/policy', { ...good, mode: 'off' });
  assert.equal(noToken.status, 403);
  assert.deepEqual(await tree.server.services.policy.organisationPolicy(admin, tree.clientOrgId), before);
});

test('a role can be made to require 2FA from the policy page, and released again', async (t) => {
  const tree = await agencyTree(t);
  const editor = await addMember(tree.server, tree.clientOrgId, ['editor']);
  const role = (await roles.findRoleByName(dbOf(tree.server), tree.clientOrgId, 'editor'))!;
  const page = `/admin/policy?org=${tree.clientOrgId}`;
  const listed = await tree.admin.get(page);
  assert.match(listed.text, new RegExp(`<li data-role-id="${role.id}">`));
  assert.equal((await tree.server.services.policy.effectiveFor(editor.user)).mode.value, 'optional');

  const on = await postRoleForm(tree.admin, page, `/admin/policy/roles/${role.id}`, { requireTwoFactor: 'on' });
  assert.equal(on.status, 200, on.text);
  assert.match(on.text, /2FA required/);
  const effective = await tree.server.services.policy.effectiveFor(editor.user);
  assert.equal(effective.mode.value, 'required');
  assert.deepEqual(effective.mode.sources, [{ kind: 'role', name: 'editor' }]);
  const usersPage = await tree.admin.get(`/admin/users?org=${tree.clientOrgId}`);
  assert.match(textOf(userRows(usersPage.text).get(editor.user.id) ?? ''), /Must enrol/);

  // A security key for the role too, by its own button; a bad value changes nothing.
  const bad = await postRoleForm(tree.admin, page, `/admin/policy/roles/${role.id}`, { requireTwoFactor: 'on', requirePhishingResistant: 'maybe' });
  assert.equal(bad.status, 400);
  assert.equal((await tree.server.services.policy.effectiveFor(editor.user)).phishingResistant.value, false);
  const key = await postRoleForm(tree.admin, page, `/admin/policy/roles/${role.id}`, { requireTwoFactor: 'on', requirePhishingResistant: 'on' });
  assert.equal(key.status, 200, key.text);
  assert.match(key.text, /Key required/);
  assert.match(key.text, /Stop requiring a security key for editor/);
  assert.deepEqual((await tree.server.services.policy.effectiveFor(editor.user)).phishingResistant.sources, [{ kind: 'role', name: 'editor' }]);
  // The roles page says so too, and where to change it.
  const rolesPage = await tree.admin.get(`/admin/roles?org=${tree.clientOrgId}`);
  const editorItem = /<li[^>]*data-role="editor"[\s\S]*?<\/li>/.exec(rolesPage.text)?.[0] ?? '';
  assert.match(editorItem, /Security key required/);
  assert.match(editorItem, /Only a security key or passkey is accepted/);

  const off = await postRoleForm(tree.admin, page, `/admin/policy/roles/${role.id}`, { requireTwoFactor: 'off' });
  assert.equal(off.status, 200, off.text);
  assert.equal((await tree.server.services.policy.effectiveFor(editor.user)).mode.value, 'optional');
  assert.equal((await tree.server.services.policy.effectiveFor(editor.user)).phishingResistant.value, false);

  const unknown = await postRoleForm(tree.admin, page, '/admin/policy/roles/no-such-role', { requireTwoFactor: 'on' });
  assert.equal(unknown.status, 404);
});

test('the user page shows factors; reset needs the confirmation box and then removes every factor', async (t) => {
  const tree = await agencyTree(t);
  const member = await addMember(tree.server, tree.clientOrgId);
  await withAuthenticator(tree.server, tree.clock, member.email);
  const page = `/admin/users/${member.user.id}`;

  const detail = await tree.admin.get(page);
  assert.equal(detail.status, 200, detail.text);
  assert.match(detail.text, /<li data-factor-type="totp">/);
  assert.match(textOf(detail.text), /Work phone Authenticator app/);
  // Admins take factors away; nothing on the page adds one.
  assert.doesNotMatch(detail.text, /action="[^"]*(totp|enrol|factors\/(sms|email))/);

  const unticked = await post(tree.admin, page, `${page}/reset-factors`, {});
  assert.equal(unticked.status, 400, unticked.text);
  assert.match(textOf(unticked.text), /Tick the box to confirm the reset/);
  assert.equal(await liveFactorCount(tree.server, member.user.id), 1);

  const reset = await post(tree.admin, page, `${page}/reset-factors`, { confirm: 'yes' });
  assert.equal(reset.status, 200, reset.text);
  assert.match(textOf(reset.text), /Reset: 1 sign-in method/);
  assert.match(reset.text, /No method is set up/);
  assert.equal(await liveFactorCount(tree.server, member.user.id), 0);
});

test('the admin shows a user their backup codes (used ones struck through) and generates a new set', async (t) => {
  const tree = await agencyTree(t);
  const member = await addMember(tree.server, tree.clientOrgId);
  const { backupCodes } = await withAuthenticator(tree.server, tree.clock, member.email);
  // The member spends one code signing in elsewhere.
  const elsewhere = new Client(tree.server.url);
  const challenge = await passwordStep(elsewhere, member.email);
  const spent = await elsewhere.post('/api/v1/auth/second-factor', { challenge, method: 'backup_code', code: backupCodes[2] });
  assert.equal(spent.status, 200, spent.text);
  const page = `/admin/users/${member.user.id}`;

  const shown = await post(tree.admin, page, `${page}/backup-codes/show`, {});
  assert.equal(shown.status, 200, shown.text);
  assert.match(shown.text, /data-revealed="stored"/);
  const codes = shownCodes(shown.text);
  assert.deepEqual(codes.map((c) => c.code).sort(), [...backupCodes].sort());
  assert.deepEqual(codes.filter((c) => c.used).map((c) => c.code), [backupCodes[2]]);
  assert.match(textOf(shown.text), /9 of 10 backup codes are unused/);

  const fresh = await post(tree.admin, page, `${page}/backup-codes`, {});
  assert.equal(fresh.status, 200, fresh.text);
  assert.match(fresh.text, /data-revealed="new"/);
  const newCodes = shownCodes(fresh.text).map((c) => c.code);
  assert.equal(newCodes.length, 10);
  assert.equal(newCodes.filter((c) => backupCodes.includes(c)).length, 0);
  const again = await post(tree.admin, page, `${page}/backup-codes/show`, {});
  assert.deepEqual(shownCodes(again.text).map((c) => c.code).sort(), [...newCodes].sort());
});

test('the admin disables and enables an account from its page', async (t) => {
  const tree = await agencyTree(t);
  const member = await addMember(tree.server, tree.clientOrgId);
  const memberClient = await signedInClient(tree.server, member.email);
  const page = `/admin/users/${member.user.id}`;

  const disabled = await post(tree.admin, page, `${page}/disable`, {});
  assert.equal(disabled.status, 200, disabled.text);
  assert.match(disabled.text, /<dd data-testid="user-status"><span class="badge danger">Disabled/);
  assert.equal((await memberClient.get('/api/v1/session')).status, 401);
  assert.notEqual((await new Client(tree.server.url).post('/api/v1/auth/sign-in', { email: member.email, password: PASSWORD })).status, 200);

  const enabled = await post(tree.admin, page, `${page}/enable`, {});
  assert.equal(enabled.status, 200, enabled.text);
  assert.match(enabled.text, /<dd data-testid="user-status">Active/);
  await signedInClient(tree.server, member.email);
});

test('tenancy: a sibling admin gets 404, a member gets 403, and nothing changes', async (t) => {
  const tree = await agencyTree(t);
  const member = await addMember(tree.server, tree.clientOrgId);
  await withAuthenticator(tree.server, tree.clock, member.email);
  const sibling = await tree.server.services.accounts.createOrganisation('Sibling', tree.agencyId, SYSTEM);
  const siblingAdmin = await addMember(tree.server, sibling.id, ['admin']);
  const other = await signedInClient(tree.server, siblingAdmin.email);

  assert.equal((await other.get('/admin/users')).status, 200);
  assert.equal(userRows((await other.get('/admin/users')).text).has(member.user.id), false);
  assert.equal((await other.get(`/admin/users/${member.user.id}`)).status, 404);
  assert.equal((await other.get(`/admin/users?org=${tree.clientOrgId}`)).status, 404);
  assert.equal((await other.get(`/admin/policy?org=${tree.clientOrgId}`)).status, 404);
  assert.equal((await other.get(`/admin/policy?org=${tree.agencyId}`)).status, 404);
  const reset = await post(other, '/admin/users', `/admin/users/${member.user.id}/reset-factors`, { confirm: 'yes' });
  assert.equal(reset.status, 404);
  assert.equal(await liveFactorCount(tree.server, member.user.id), 1);
  const policy = await post(other, '/admin/policy', '/admin/policy', { org: tree.clientOrgId, mode: 'off', trigger_every_sign_in: 'on', method_totp: 'on', trustBrowserDays: '1' });
  assert.equal(policy.status, 404);
  assert.equal(await dbOf(tree.server).selectFrom('organisation_policies').select('org_id').executeTakeFirst(), undefined);

  const plain = await signedInClient(tree.server, (await addMember(tree.server, tree.clientOrgId)).email);
  for (const path of ['/admin/users', `/admin/users/${member.user.id}`, '/admin/policy']) {
    const res = await plain.get(path);
    assert.equal(res.status, 403, path);
    assert.match(res.text, /Administrators only/);
  }
  const hidden = await hiddenFields(plain, '/account');
  assert.equal((await postForm(plain, `/admin/users/${member.user.id}/reset-factors`, { ...hidden, confirm: 'yes' })).status, 403);
  assert.equal(await liveFactorCount(tree.server, member.user.id), 1);

  const anonymous = await new Client(tree.server.url).get('/admin/users');
  assert.equal(anonymous.status, 303);
  assert.equal(anonymous.headers.get('location'), '/sign-in');
});

test('a stale admin is sent to re-authenticate (pages) or refused (forms); a member is told 403 instead', async (t) => {
  const tree = await agencyTree(t);
  const member = await addMember(tree.server, tree.clientOrgId);
  await withAuthenticator(tree.server, tree.clock, member.email);
  const plain = await signedInClient(tree.server, (await addMember(tree.server, tree.clientOrgId)).email);
  const page = `/admin/users/${member.user.id}`;
  const hidden = await hiddenFields(tree.admin, page);
  tree.clock.advance(6 * 60_000);

  const users = await tree.admin.get('/admin/users?filter=no_2fa');
  assert.equal(users.status, 303);
  assert.equal(users.headers.get('location'), `/reauthenticate?next=${encodeURIComponent('/admin/users?filter=no_2fa')}`);
  const policy = await tree.admin.get('/admin/policy');
  assert.equal(policy.headers.get('location'), `/reauthenticate?next=${encodeURIComponent('/admin/policy')}`);

  const reset = await postForm(tree.admin, `${page}/reset-factors`, { ...hidden, confirm: 'yes' });
  assert.equal(reset.status, 403);
  assert.match(reset.text, new RegExp(`href="/reauthenticate\\?next=${encodeURIComponent(page)}"`));
  assert.equal(await liveFactorCount(tree.server, member.user.id), 1);

  // Admin is checked before freshness: a stale member is not invited to re-authenticate.
  assert.equal((await plain.get('/admin/users')).status, 403);

  const confirmed = await tree.admin.post('/api/v1/auth/reauthenticate', { password: PASSWORD });
  assert.equal(confirmed.status, 200, confirmed.text);
  assert.equal((await tree.admin.get('/admin/users')).status, 200);
});
