/**
 * The console's people, roles and groups forms refuse like the API: another tree 404, a plain
 * user 403, a stale admin 403, bad input 4xx; and in each case nothing is written.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { totpCodeAt } from '../../src/core/totp.js';
import { dbOf, signedInClient } from '../helpers/authenticator.js';
import type { TestClient } from '../helpers/client.js';
import { hiddenFields, postForm } from '../helpers/forms.js';
import { SYSTEM, addMember, agencyTree } from '../helpers/policy.js';
import type { TestServer } from '../helpers/server.js';

async function snapshot(server: TestServer) {
  const db = dbOf(server);
  const rows = async (table: 'users' | 'invitations' | 'roles' | 'groups' | 'group_members' | 'group_roles' | 'user_roles' | 'role_policies' | 'factors') => (await db.selectFrom(table).selectAll().execute()).map((r) => JSON.stringify(r)).sort();
  return {
    users: await rows('users'),
    invitations: await rows('invitations'),
    roles: await rows('roles'),
    groups: await rows('groups'),
    members: await rows('group_members'),
    groupRoles: await rows('group_roles'),
    userRoles: await rows('user_roles'),
    rolePolicies: await rows('role_policies'),
    factors: await rows('factors'),
  };
}

async function world(t: { after(fn: () => Promise<void>): void }) {
  const tree = await agencyTree(t);
  const member = await addMember(tree.server, tree.clientOrgId);
  const memberClient = await signedInClient(tree.server, member.email);
  const started = await memberClient.post('/api/v1/factors/totp', { label: 'Phone' });
  assert.equal((await memberClient.post(`/api/v1/factors/totp/${started.json?.id}/confirm`, { code: totpCodeAt(started.json?.secret as string, tree.clock.now()) })).status, 200);
  const invited = await tree.admin.post(`/api/v1/organisations/${tree.clientOrgId}/users`, { email: 'pending@example.com' });
  assert.equal(invited.status, 201, invited.text);
  const role = await tree.server.services.accounts.createRole(tree.clientOrgId, 'ops', SYSTEM);
  const group = await tree.server.services.accounts.createGroup(tree.clientOrgId, 'Ops', SYSTEM);
  return { ...tree, member, factorId: started.json?.id as string, invitedId: invited.json?.userId as string, role, group };
}

/** Every new form, with fields that would change something if allowed. */
function forms(w: Awaited<ReturnType<typeof world>>): Array<[string, Record<string, string>]> {
  const user = `/admin/users/${w.member.user.id}`;
  return [
    ['/admin/users/invite', { email: 'someone@example.com', org: w.clientOrgId }],
    [`${user}/edit`, { displayName: 'Changed', org: w.clientOrgId }],
    [`${user}/delete`, { confirm: 'yes' }],
    [`${user}/factors/${w.factorId}/remove`, {}],
    [`/admin/users/${w.invitedId}/invitation/resend`, {}],
    [`/admin/users/${w.invitedId}/invitation/revoke`, {}],
    ['/admin/roles', { org: w.clientOrgId, name: 'new-role' }],
    [`/admin/roles/${w.role.id}/rename`, { org: w.clientOrgId, name: 'renamed' }],
    [`/admin/roles/${w.role.id}/delete`, { org: w.clientOrgId }],
    [`/admin/roles/${w.role.id}/requirement`, { org: w.clientOrgId, requireTwoFactor: 'yes', confirm: 'yes' }],
    ['/admin/groups', { org: w.clientOrgId, name: 'New group' }],
    [`/admin/groups/${w.group.id}/rename`, { org: w.clientOrgId, name: 'Renamed' }],
    [`/admin/groups/${w.group.id}/delete`, { org: w.clientOrgId }],
    [`/admin/groups/${w.group.id}/roles`, { org: w.clientOrgId, roleId: w.role.id, action: 'grant' }],
    [`/admin/groups/${w.group.id}/members`, { org: w.clientOrgId, userId: w.member.user.id, action: 'add' }],
  ];
}

async function postAll(client: TestClient, formPage: string, list: Array<[string, Record<string, string>]>) {
  const hidden = await hiddenFields(client, formPage);
  const csrf = { _csrf: hidden._csrf ?? '' };
  const out: Array<[string, number, string]> = [];
  for (const [action, fields] of list) {
    const res = await postForm(client, action, { ...csrf, ...fields });
    out.push([action, res.status, res.text]);
  }
  return out;
}

test('another tree is 404 and a plain member 403 on every new page and form; nothing changes', async (t) => {
  const w = await world(t);
  const sibling = await w.server.services.accounts.createOrganisation('Sibling', w.agencyId, SYSTEM);
  const siblingAdmin = await signedInClient(w.server, (await addMember(w.server, sibling.id, ['admin'])).email);
  const plain = await signedInClient(w.server, (await addMember(w.server, w.clientOrgId)).email);
  const before = await snapshot(w.server);

  assert.equal((await siblingAdmin.get(`/admin/roles?org=${w.clientOrgId}`)).status, 404);
  assert.equal((await siblingAdmin.get('/admin/roles')).status, 200, 'their own organisation');
  for (const [action, status] of await postAll(siblingAdmin, '/admin/users', forms(w))) assert.equal(status, 404, `${action} from another tree`);
  for (const path of ['/admin/roles', `/admin/users/${w.invitedId}`]) {
    const res = await plain.get(path);
    assert.equal(res.status, 403, path);
    assert.match(res.text, /Administrators only/);
  }
  for (const [action, status] of await postAll(plain, '/account', forms(w))) assert.equal(status, 403, `${action} by a member`);
  assert.deepEqual(await snapshot(w.server), before);
});

test('a stale admin is refused every form (403, asked to confirm); nothing changes', async (t) => {
  const w = await world(t);
  const hidden = await hiddenFields(w.admin, '/admin/users');
  const before = await snapshot(w.server);
  w.clock.advance(6 * 60_000);
  for (const [action, fields] of forms(w)) {
    const res = await postForm(w.admin, action, { _csrf: hidden._csrf ?? '', ...fields });
    assert.equal(res.status, 403, action);
    assert.match(res.text, /Confirm it is you/);
  }
  assert.deepEqual(await snapshot(w.server), before);
});

test('bad input is refused with 4xx and the reason on the page; requiring 2FA asks first and saves only when confirmed', async (t) => {
  const w = await world(t);
  const before = await snapshot(w.server);
  const [invite, deleteUnconfirmed, badRole, takenGroup, foreignRole] = await postAll(w.admin, '/admin/users', [
    ['/admin/users/invite', { email: 'not an email', displayName: 'X', org: w.clientOrgId }],
    [`/admin/users/${w.member.user.id}/delete`, {}],
    ['/admin/roles', { org: w.clientOrgId, name: 'has spaces' }],
    ['/admin/groups', { org: w.clientOrgId, name: 'Ops' }],
    [`/admin/groups/${w.group.id}/roles`, { org: w.clientOrgId, roleId: (await w.server.services.accounts.createRole(w.agencyId, 'agency-role', SYSTEM)).id, action: 'grant' }],
  ]);
  assert.equal(invite![1], 400);
  assert.match(invite![2], /Enter a valid email address/);
  assert.match(invite![2], /value="not an email"/, 'the form keeps what was typed');
  assert.equal(deleteUnconfirmed![1], 400);
  assert.match(deleteUnconfirmed![2], /Tick the box/);
  assert.equal(badRole![1], 400);
  assert.equal(takenGroup![1], 409);
  assert.equal(foreignRole![1], 400);
  const after = await snapshot(w.server);
  assert.deepEqual({ ...after, roles: [] }, { ...before, roles: [] });
  assert.equal(after.roles.length, before.roles.length + 1, 'only the agency role made by the test itself');

  const [ask] = await postAll(w.admin, '/admin/roles', [[`/admin/roles/${w.role.id}/requirement`, { org: w.clientOrgId, requireTwoFactor: 'yes' }]]);
  assert.equal(ask![1], 200);
  assert.match(ask![2], /Nobody has to set up anything new|This makes/);
  assert.deepEqual((await snapshot(w.server)).rolePolicies, [], 'asking saves nothing');
  const [confirmed] = await postAll(w.admin, '/admin/roles', [[`/admin/roles/${w.role.id}/requirement`, { org: w.clientOrgId, requireTwoFactor: 'yes', confirm: 'yes' }]]);
  assert.equal(confirmed![1], 200);
  assert.match(confirmed![2], /now required for ops/);
  assert.equal((await snapshot(w.server)).rolePolicies.length, 1);
});
